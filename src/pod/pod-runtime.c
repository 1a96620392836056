/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/param.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>

#include "app-security.h"
#include "bus-util.h"
#include "capability-util.h"
#include "cgroup-util.h"
#include "crash-point.h"
#include "fs-util.h"
#include "journal.h"
#include "log.h"
#include "pod-gc.h"
#include "pod-runtime.h"
#include "string-util.h"
#include "strv.h"
#include "subprocess.h"
#include "systemd.h"
#include "time-util.h"
#include "valid-util.h"

#define INIT_READY_TIMEOUT_MS 10000
#define APP_STOP_TIMEOUT_USEC (10ULL * 1000000ULL)

int app_dir(PodRuntime *rt, const Pod *p, const App *a, const char *sub, char **ret) {
        return asprintf(ret, "%s/pods/%s/apps/%s%s%s", rt->state_dir, p->id, a->name, sub ? "/" : "", strempty(sub)) < 0
                       ? -ENOMEM
                       : 0;
}

const char *pod_runtime_dir(const PodRuntime *rt) {
        return rt->run_dir ?: PEAPOD_RUNTIME_DIR;
}

int pod_run_dir(const PodRuntime *rt, const Pod *p, const char *sub, char **ret) {
        return asprintf(ret, "%s/pods/%s%s%s", pod_runtime_dir(rt), p->id, sub ? "/" : "", strempty(sub)) < 0
                       ? -ENOMEM
                       : 0;
}

/* <run_dir>/pods/<id>/apps/<app>, made. */
static int app_run_dir(PodRuntime *rt, const Pod *p, const App *a, char **ret) {
        _cleanup_free_ char *sub = NULL;

        if (asprintf(&sub, "apps/%s", a->name) < 0)
                return -ENOMEM;
        return pod_run_dir_make(rt, p, sub, ret);
}

int pod_run_dir_make(const PodRuntime *rt, const Pod *p, const char *sub, char **ret) {
        _cleanup_free_ char *top = NULL, *dir = NULL;
        int r;

        /* The pod's directory first, 0700: mkdir_p() gives a new parent the
         * mode of the leaf, and a leaf (etc/) may be readable. */
        r = pod_run_dir(rt, p, NULL, &top);
        if (r >= 0)
                r = mkdir_p(top, 0700);
        if (r >= 0 && sub) {
                r = pod_run_dir(rt, p, sub, &dir);
                if (r >= 0)
                        r = mkdir_p(dir, 0755);
        }
        if (r < 0)
                return r;
        *ret = sub ? TAKE_PTR(dir) : TAKE_PTR(top);
        return 0;
}

/* The app's overlay is mounted by the stage1 helper, in the app's own mount
 * namespace (contract 3): mounted here, in the host's, each app root was a
 * mount unit of PID 1, and PID 1 and the executor of every unit with a
 * mount namespace reread the whole table at every mount event, which made
 * the start of pod 1000 nine times as slow as that of pod 10. What stays
 * here: the check of the paths (refused before any unit exists) and the
 * directories. */
int app_prepare_rootfs(PodRuntime *rt, const Pod *p, const App *a) {
        _cleanup_free_ char *upper = NULL, *work = NULL, *rootfs = NULL;
        int r;

        if (app_dir(rt, p, a, "upper", &upper) < 0 || app_dir(rt, p, a, "work", &work) < 0 ||
            app_dir(rt, p, a, "rootfs", &rootfs) < 0)
                return -ENOMEM;
        if (strv_length(a->lowerdirs) == 0)
                return -EINVAL;
        if (!overlay_dir_is_valid(upper) || !overlay_dir_is_valid(work))
                return -EINVAL;
        FOREACH_STRV(d, a->lowerdirs)
                if (!overlay_dir_is_valid(d))
                        return -EINVAL;
        FOREACH_STRV(d, ((char *[]) { upper, work, rootfs, NULL })) {
                r = mkdir_p(d, 0755);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Only an older peapodd mounted app roots on the host: a pod it started
 * keeps that mount until its end. */
void app_umount_rootfs(PodRuntime *rt, const Pod *p, const App *a) {
        _cleanup_free_ char *rootfs = NULL;

        if (app_dir(rt, p, a, "rootfs", &rootfs) < 0)
                return;
        while (path_is_mount_point(rootfs) > 0)
                if (umount2(rootfs, MNT_DETACH) < 0)
                        break;
}

/* The stage1 init, run as a child the loop watches: it reports the host
 * pid of the pod's PID 1 on the ready pipe (its fd 3) once the namespaces
 * and the private root are in place, then exits 0. */
struct PodInitSpawn {
        Spawn *spawn;
        int ready_fd;
        char *init;
        PeapodError err;
        pod_init_callback_t callback;
        void *userdata;
};

PodInitSpawn *pod_init_spawn_free(PodInitSpawn *is) {
        if (!is)
                return NULL;
        spawn_free(is->spawn);
        safe_close(is->ready_fd);
        free(is->init);
        return mfree(is);
}

static void on_init_done(Spawn *sp, int error, SpawnResult *res, void *userdata) {
        PodInitSpawn *is = userdata;
        char buf[32] = {};
        pid_t leader = 0;
        ssize_t n;
        int r = 0;

        if (error < 0)
                r = peapod_error_set(&is->err, error == -ETIMEDOUT ? -EIO : error, "The pod's init (%s) %s", is->init,
                                     error == -ETIMEDOUT ? "did not get ready in time" : strerror(-error));
        else if (res->code != CLD_EXITED || res->status != 0) {
                /* Its last line of complaint says why. */
                const char *e = strempty(res->err), *last = e;
                size_t len = strlen(e);

                while (len > 0 && e[len - 1] == '\n')
                        len--;
                for (const char *nl = e; (nl = memchr(nl, '\n', len - (size_t) (nl - e))); nl++)
                        last = nl + 1;
                r = peapod_error_set(&is->err, -EIO, "The pod's init (%s) failed: %s %d%s%.*s", is->init,
                                     res->code == CLD_EXITED ? "exit status" : "signal", res->status,
                                     len > 0 ? ": " : "", (int) MIN(len - (size_t) (last - e), (size_t) 300), last);
        }
        if (r >= 0) {
                /* It wrote the line before it exited: it is in the pipe. */
                n = read(is->ready_fd, buf, sizeof(buf) - 1);
                if (n <= 0 || sscanf(buf, "%d", &leader) != 1 || leader <= 1)
                        r = peapod_error_set(&is->err, -EIO, "The pod's init reported no pid");
        }
        is->spawn = spawn_free(is->spawn);
        is->callback(is, r, r >= 0 ? leader : 0, &is->err, is->userdata);
}

/* The sealed copy of the init at path to execute (sealed-copy.h), or 0:
 * without one the init execs the file, and seals itself as it did before
 * (a copy and a second exec, ~1 ms of every pod's start). */
static int init_copy(PodRuntime *rt, const char *path) {
        SealedCopy *c = NULL;
        int fd;

        for (size_t i = 0; i < ELEMENTSOF(rt->init_copies) && !c; i++)
                if (!rt->init_copies[i].path || streq(rt->init_copies[i].path, path))
                        c = &rt->init_copies[i];
        /* More stages1 than slots: the first slot serves in turn. */
        fd = sealed_copy_get(c ?: &rt->init_copies[0], path);
        if (fd < 0) {
                log_debug_errno(fd, "No sealed copy of %s, the init seals itself: %m", path);
                return 0;
        }
        return fd;
}

void pod_runtime_copies_free(PodRuntime *rt) {
        for (size_t i = 0; i < ELEMENTSOF(rt->init_copies); i++)
                sealed_copy_done(&rt->init_copies[i]);
}

int pod_init_spawn_async(PodRuntime *rt, sd_event *e, const Pod *p, pod_init_callback_t callback, void *userdata,
                         PodInitSpawn **ret, PeapodError *err) {
        _cleanup_(pod_init_spawn_freep) PodInitSpawn *is = NULL;
        _cleanup_free_ char *root = NULL, *root_arg = NULL, *host_arg = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_close_ int ready_w = -EBADF;
        int pfd[2], r;

        is = calloc(1, sizeof(PodInitSpawn));
        if (!is)
                return -ENOMEM;
        is->ready_fd = -EBADF;
        is->callback = callback;
        is->userdata = userdata;
        if (asprintf(&is->init, "%s/%s/peapod-stage1-init", rt->stage1_dir, pod_stage1(p)) < 0)
                return -ENOMEM;
        r = pod_run_dir_make(rt, p, "root", &root);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to create the pod's root directory: %s", strerror(-r));
        if (asprintf(&root_arg, "--root=%s", root) < 0 || asprintf(&host_arg, "--hostname=%s", p->net.hostname ?: p->name) < 0)
                return -ENOMEM;
        if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) < 0)
                return -errno;
        is->ready_fd = pfd[0];
        ready_w = pfd[1];

        /* --host-network and --sysctl= only when asked: a stage1 without
         * them still runs every other pod. */
        argv = strv_copy(STRV_MAKE("peapod-stage1-init", root_arg, host_arg, "--ready-fd=3"));
        r = argv ? 0 : -ENOMEM;
        if (r >= 0 && p->net.mode == POD_NETWORK_HOST)
                r = strv_extend(&argv, "--host-network");
        FOREACH_STRV(a, p->sysctls) {
                char *arg;

                if (r < 0)
                        break;
                if (asprintf(&arg, "--sysctl=%s", a) < 0)
                        return -ENOMEM;
                r = strv_consume(&argv, arg);
        }
        if (r < 0)
                return r;
        /* Its stderr (its complaints) is kept for the error message; the
         * pod's PID 1 closes every fd of ours. */
        r = spawn_start(e,
                        &(SpawnOptions) {
                                .path = is->init,
                                .exec_fd = init_copy(rt, is->init),
                                .argv = argv,
                                .env = STRV_MAKE("PATH=/usr/sbin:/usr/bin:/sbin:/bin"),
                                .err_max = 4096,
                                .err_keep_tail = true,
                                .timeout_usec = INIT_READY_TIMEOUT_MS * 1000ULL,
                                .pass_fd = ready_w,
                        },
                        on_init_done, is, &is->spawn);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to run the pod's init (%s): %s", is->init, strerror(-r));
        *ret = TAKE_PTR(is);
        return 0;
}

typedef struct InitWait {
        bool done;
        int r;
        pid_t leader;
        PeapodError *err;
} InitWait;

static void on_init_sync_done(PodInitSpawn *is, int r, pid_t leader, const PeapodError *err, void *userdata) {
        InitWait *w = userdata;

        w->done = true;
        w->r = r;
        w->leader = leader;
        if (r < 0 && w->err && !peapod_error_is_set(w->err))
                *w->err = *err;
}

static int pod_spawn_init(PodRuntime *rt, const Pod *p, pid_t *ret_leader, PeapodError *err) {
        _cleanup_(pod_init_spawn_freep) PodInitSpawn *is = NULL;
        InitWait w = { .err = err };
        SpawnLoop l;
        int r;

        r = spawn_loop_open(&l);
        if (r < 0)
                return r;
        r = pod_init_spawn_async(rt, l.event, p, on_init_sync_done, &w, &is, err);
        if (r >= 0)
                r = spawn_loop_run(&l, &w.done);
        if (r >= 0)
                r = w.r;
        is = pod_init_spawn_free(is);
        spawn_loop_close(&l);
        if (r < 0)
                return r;
        *ret_leader = w.leader;
        return 0;
}

/* Where the apps of a pod find a volume: always a path of the pod's own,
 * pods/<id>/volumes/<name>, so that all apps share one instance. An empty
 * volume is a directory there, a tmpfs volume a tmpfs mounted there, and a
 * host volume its source's tree bound there by pod_volumes_setup() (the
 * "pin"): the stage1 helper gets this path, which only root can change,
 * never the host path the user named. */
static int volume_source(PodRuntime *rt, const Pod *p, const Volume *v, char **ret) {
        return asprintf(ret, "%s/pods/%s/volumes/%s", rt->state_dir, p->id, v->name) < 0 ? -ENOMEM : 0;
}

/* Made private first, the whole tree: an unmount below a shared mount
 * propagates to that mount's peers (mount_namespaces(7)), and an rshared
 * pin is a peer of its source's mount. Detached as it is, every mount
 * below the pin (the host's own below the source, which arrived there,
 * included) would be unmounted on the host too; a private tree goes
 * alone. Its parent, the pod's directory, may be shared, so the pin's
 * own copies in the helpers' slave namespaces still go with it. */
static void umount_all(const char *path) {
        while (path_is_mount_point(path) > 0) {
                (void) mount(NULL, path, NULL, MS_REC | MS_PRIVATE, NULL);
                if (umount2(path, MNT_DETACH) < 0)
                        break;
        }
}

/* A mount point of the source's type at pin: a directory, or an empty
 * file for a file source. What an earlier run left there of the other
 * type (nothing is mounted there: pod_volumes_teardown() ran) goes. */
static int make_pin_point(const char *pin, bool dir) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (lstat(pin, &st) >= 0 && !!S_ISDIR(st.st_mode) != dir) {
                if ((S_ISDIR(st.st_mode) ? rmdir(pin) : unlink(pin)) < 0)
                        return -errno;
        }
        if (dir)
                return mkdir_p(pin, 0755);
        {
                _cleanup_free_ char *parent = strndup(pin, (size_t) (strrchr(pin, '/') - pin));

                if (!parent)
                        return -ENOMEM;
                r = mkdir_p(parent, 0755);
                if (r < 0)
                        return r;
        }
        fd = open(pin, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
        return fd < 0 ? -errno : 0;
}

/* The optional fields of the mountinfo line of the mount at path (found
 * by the mount id statx() gives, the first field): its peer group
 * ("shared:N") and the one it receives propagation from ("master:N"),
 * each 0 if none. 0, or -errno. */
static int mount_peer_groups(const char *path, unsigned long long *ret_shared, unsigned long long *ret_master) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t size = 0;
        struct statx sx;

        if (statx(AT_FDCWD, path, 0, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        while (getline(&line, &size, f) > 0) {
                unsigned long long id, shared = 0, master = 0;
                const char *sep, *p;

                if (sscanf(line, "%llu ", &id) != 1 || id != sx.stx_mnt_id)
                        continue;
                /* The optional fields end at " - "; a space in a path is
                 * escaped (\040) in mountinfo, so nothing before is one. */
                sep = strstr(line, " - ");
                if (!sep)
                        return -EBADMSG;
                if ((p = strstr(line, " shared:")) && p < sep && sscanf(p, " shared:%llu", &shared) != 1)
                        return -EBADMSG;
                if ((p = strstr(line, " master:")) && p < sep && sscanf(p, " master:%llu", &master) != 1)
                        return -EBADMSG;
                *ret_shared = shared;
                *ret_master = master;
                return 0;
        }
        return -ENOENT;
}

/* Whether the pin receives (rslave) or shares (rshared) the source's
 * mounts: the pin a slave of the source's peer group (or of its master,
 * for a source that is a slave only), or a member of that group. A source
 * on a private mount gives a clone without one, which attached below the
 * pod's shared directory gets a group of its own, and made a slave, a
 * master that is not the source's: nothing would propagate. 1, 0, or
 * -errno. */
static int pin_follows_source(const Volume *v, const char *pin) {
        unsigned long long pin_shared, pin_master, src_shared, src_master;
        int r;

        r = mount_peer_groups(pin, &pin_shared, &pin_master);
        if (r < 0)
                return r;
        r = mount_peer_groups(v->source, &src_shared, &src_master);
        if (r < 0)
                return r;
        if (v->propagation == VOLUME_PROPAGATION_RSHARED)
                return pin_shared != 0 && pin_shared == src_shared;
        return pin_master != 0 && (pin_master == src_shared || pin_master == src_master);
}

/* Resolves a host volume's source once and binds its tree onto the pin.
 * The source is looked up here, following symlinks as docker and rkt do
 * for a bind source; from then on every app of this run of the pod mounts
 * the pin, so a symlink (or any component of the path) swapped after this
 * changes nothing: an app added later still gets what was there when the
 * pod started, never what the path leads to by then (the app got
 * the host's /etc after such a swap). The copy is made with
 * open_tree(OPEN_TREE_CLONE), so nothing is resolved twice, and made
 * private: nothing mounted inside an app's copy can propagate back to the
 * host through a peer group of the source, and later mounts below the
 * source do not appear in the pods (docker's default, rprivate). nosuid
 * and nodev as the helper makes them; read-only for a read-only volume. */
static int volume_pin_host(const Volume *v, const char *pin) {
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (v->read_only ? MOUNT_ATTR_RDONLY : 0),
        };
        _cleanup_close_ int source = -EBADF, tree = -EBADF;
        struct stat st;
        int r;

        source = open(v->source, O_PATH | O_CLOEXEC);
        if (source < 0)
                return -errno;
        tree = open_tree(source, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0)
                return -errno;
        if (fstat(tree, &st) < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return -errno;
        umount_all(pin);
        r = make_pin_point(pin, S_ISDIR(st.st_mode));
        if (r < 0)
                return r;
        if (move_mount(tree, "", AT_FDCWD, pin, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        /* Only now: attached below a shared mount, the tree joined that
         * mount's peer group. pin is in the pod's directory, which only
         * root can change, so the path names what we just moved there.
         * rslave: a slave of the source's peer group (the clone joined it),
         * so mounts the host makes below the source later arrive here and,
         * through the helper's slave bind, in the apps; nothing mounted on
         * the pin or in an app goes back. rshared: left as it is, a peer
         * of the source's mount, so what a (privileged) app mounts below
         * its clone of the pin appears on the host below the source too. */
        if (v->propagation != VOLUME_PROPAGATION_RSHARED &&
            mount(NULL, pin, NULL, MS_REC | (v->propagation == VOLUME_PROPAGATION_RSLAVE ? MS_SLAVE : MS_PRIVATE),
                  NULL) < 0) {
                r = -errno;
                umount_all(pin);
                return r;
        }
        /* A source on a private mount has no peer group to follow: rslave
         * or rshared would quietly be private. Said, as docker says it. */
        if (v->propagation != VOLUME_PROPAGATION_PRIVATE && (r = pin_follows_source(v, pin)) <= 0) {
                umount_all(pin);
                return r < 0 ? r : -EREMOTE;
        }
        return 0;
}

static const Volume *pod_find_volume(const Pod *p, const char *name) {
        for (size_t i = 0; i < p->n_volumes; i++)
                if (streq(p->volumes[i].name, name))
                        return &p->volumes[i];
        return NULL;
}

int pod_volume_setup(PodRuntime *rt, const Pod *p, const Volume *v, PeapodError *err) {
        _cleanup_free_ char *dir = NULL, *opts = NULL;
        int r;

        r = volume_source(rt, p, v, &dir);
        if (r < 0)
                return r;
        if (v->kind == VOLUME_HOST) {
                r = volume_pin_host(v, dir);
                if (r == -EREMOTE)
                        return peapod_error_set(err, -EINVAL,
                                                "Volume %s: source %s is on a private mount: nothing would propagate "
                                                "with %s (make it shared: mount --make-rshared)",
                                                v->name, v->source, volume_propagation_to_string(v->propagation));
                if (r < 0)
                        return peapod_error_set(err, r, "Volume %s: source %s: %s", v->name, v->source, strerror(-r));
                return 0;
        }
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to create volume %s: %s", v->name, strerror(-r));
        if (v->kind != VOLUME_TMPFS || path_is_mount_point(dir) > 0)
                return 0;
        if (asprintf(&opts, "mode=0755%s%" PRIu64, v->size > 0 ? ",size=" : "", v->size) < 0)
                return -ENOMEM;
        if (v->size == 0)
                opts[strlen("mode=0755")] = 0;
        if (mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
                return peapod_error_set(err, -errno, "Failed to mount tmpfs volume %s: %s", v->name, strerror(errno));
        return 0;
}

void pod_volume_teardown(PodRuntime *rt, const Pod *p, const Volume *v) {
        _cleanup_free_ char *dir = NULL;

        if (v->kind == VOLUME_EMPTY || volume_source(rt, p, v, &dir) < 0)
                return;
        umount_all(dir);
        /* The pin point alone (an empty directory or file) once nothing is
         * mounted there; never anything below a mount. */
        if (v->kind == VOLUME_HOST && path_is_mount_point(dir) <= 0)
                (void) remove(dir);
}

static int pod_volumes_setup(PodRuntime *rt, const Pod *p, PeapodError *err) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                int r = pod_volume_setup(rt, p, &p->volumes[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Unmounts the tmpfs volumes and the host volumes' pins. Must run before
 * the pod's directory is removed (rm_rf() refuses to cross a mount, so a
 * pin left behind fails the removal instead of emptying the host's
 * directory). */
static void pod_volumes_teardown(PodRuntime *rt, const Pod *p) {
        for (size_t i = 0; i < p->n_volumes; i++) {
                _cleanup_free_ char *dir = NULL;

                if (p->volumes[i].kind == VOLUME_EMPTY || volume_source(rt, p, &p->volumes[i], &dir) < 0)
                        continue;
                umount_all(dir);
        }
}

/* An app started in a running pod binds the pins made at the pod's start:
 * a pin that is gone (unmounted by hand) is an error, not an empty
 * directory silently given to the app, nor a second lookup of the source. */
static int app_check_pins(PodRuntime *rt, const Pod *p, const App *a, PeapodError *err) {
        for (size_t i = 0; i < a->n_mounts; i++) {
                const Volume *v = pod_find_volume(p, a->mounts[i].volume);
                _cleanup_free_ char *pin = NULL;

                if (!v || v->kind != VOLUME_HOST)
                        continue;
                if (volume_source(rt, p, v, &pin) < 0)
                        return -ENOMEM;
                if (path_is_mount_point(pin) <= 0)
                        return peapod_error_set(err, -ENOLINK,
                                                "Volume %s of pod %s is no longer mounted at %s; stop and start the pod again",
                                                v->name, p->name, pin);
        }
        return 0;
}

static int strv_extendf(char ***l, const char *fmt, ...) _printf_(2, 3);
static int strv_extendf(char ***l, const char *fmt, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        return strv_consume(l, s);
}

int app_security_argv(const App *a, bool host_namespaces, char ***argv) {
        _cleanup_free_ char *caps = NULL, *groups = NULL;
        int r;

        /* ambient_caps is set exactly when the set was retained by name. */
        r = capability_set_to_string(app_caps_for_flavour(a->caps, a->ambient_caps, host_namespaces), &caps);
        if (r < 0)
                return r;
        if (!isempty(a->user) && (r = strv_extendf(argv, "--user=%s", a->user)) < 0)
                return r;
        if (a->supplementary_groups) {
                groups = strv_join(a->supplementary_groups, ",");
                if (!groups)
                        return -ENOMEM;
                if (!isempty(groups) && (r = strv_extendf(argv, "--supplementary-groups=%s", groups)) < 0)
                        return r;
        }
        if ((r = strv_extendf(argv, "--capabilities=%s", caps)) < 0 ||
            (r = strv_extendf(argv, "--ambient-capabilities=%s", a->ambient_caps ? "yes" : "no")) < 0 ||
            (r = strv_extendf(argv, "--no-new-privileges=%s", a->no_new_privs ? "yes" : "no")) < 0 ||
            (r = strv_extendf(argv, "--seccomp=%s", a->seccomp ?: "default")) < 0)
                return r;
        return 0;
}

/* The helper options of an app beyond its identity: root, PID namespace,
 * volumes, and whether it is the root machinectl copy sees. */
static int app_isolation_argv(PodRuntime *rt, const Pod *p, const App *a, char ***argv) {
        bool host_namespaces;
        int r;

        r = pod_stage1_shares_host(rt, p);
        if (r < 0)
                return r;
        host_namespaces = r > 0;
        r = app_security_argv(a, host_namespaces, argv);
        if (r < 0)
                return r;
        /* machinectl copy-to/copy-from act on the first app's root while
         * it runs (stage1/README.md). A pod sharing the host's namespaces
         * is no machine. */
        if (!host_namespaces && p->n_apps > 0 && streq(a->id, p->apps[0].id) &&
            (r = strv_extend(argv, "--machine-root")) < 0)
                return r;
        if (a->readonly_rootfs && (r = strv_extend(argv, "--readonly-rootfs")) < 0)
                return r;
        /* From the record only, which a creation that polkit's
         * org.peapod1.run-privileged allowed wrote (app_set_privileged());
         * app_check_stage1() refused it for a flavour in the host's
         * namespaces. */
        if (a->privileged && (r = strv_extend(argv, "--privileged")) < 0)
                return r;
        if ((r = strv_extendf(argv, "--pid-namespace=%s", pid_namespace_to_string(a->pid_namespace))) < 0)
                return r;
        /* Only when asked: an optional argument (stage1/README.md), so a
         * flavour that predates it still runs every other app. */
        if (a->ipc_namespace == IPC_NAMESPACE_APP && (r = strv_extend(argv, "--ipc-namespace=app")) < 0)
                return r;
        if ((r = app_devices_argv(a->devices, a->n_devices, argv)) < 0)
                return r;
        FOREACH_STRV(path, a->readonly_paths)
                if ((r = strv_extendf(argv, "--readonly-path=%s", path)) < 0)
                        return r;
        FOREACH_STRV(path, a->masked_paths)
                if ((r = strv_extendf(argv, "--masked-path=%s", path)) < 0)
                        return r;
        for (size_t i = 0; i < a->n_mounts; i++) {
                const Volume *v = pod_find_volume(p, a->mounts[i].volume);
                _cleanup_free_ char *src = NULL;

                if (!v)
                        return -ENOENT;
                r = volume_source(rt, p, v, &src);
                if (r < 0)
                        return r;
                /* :rslave and :rshared only when asked: an optional
                 * argument (stage1/README.md), so a flavour that predates
                 * them still runs every other app. */
                r = strv_extendf(argv, "--bind=%s:%s%s%s", src, a->mounts[i].target,
                                 v->propagation != VOLUME_PROPAGATION_PRIVATE ? ":" :
                                 v->read_only ? ":ro" : "",
                                 v->propagation != VOLUME_PROPAGATION_PRIVATE ?
                                 volume_propagation_to_string(v->propagation) : "");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The layers of the overlay that the helper mounts on the app's root.
 * None for a root that an older peapodd mounted on the host and that is
 * still there (a pod it started, whose app restarts): a second overlay on
 * the same upper directory would be refused, or undefined. */
static int app_overlay_argv(PodRuntime *rt, const Pod *p, const App *a, const char *rootfs, char ***argv) {
        _cleanup_free_ char *upper = NULL, *work = NULL;
        int r;

        if (path_is_mount_point(rootfs) > 0)
                return 0;
        if (app_dir(rt, p, a, "upper", &upper) < 0 || app_dir(rt, p, a, "work", &work) < 0)
                return -ENOMEM;
        FOREACH_STRV(d, a->lowerdirs)
                if ((r = strv_extendf(argv, "--lower=%s", d)) < 0)
                        return r;
        if ((r = strv_extendf(argv, "--upper=%s", upper)) < 0 || (r = strv_extendf(argv, "--work=%s", work)) < 0)
                return r;
        return 0;
}

/* Resource limits of the app's unit; 0 = not set. */
static int app_append_limits(sd_bus_message *m, const App *a) {
        int r;

        if (a->cpu_quota_usec > 0 && (r = bus_append_property_t(m, "CPUQuotaPerSecUSec", a->cpu_quota_usec)) < 0)
                return r;
        if (a->cpu_shares > 0 && (r = bus_append_property_t(m, "CPUWeight", cpu_shares_to_weight(a->cpu_shares))) < 0)
                return r;
        if (a->memory_max > 0 && (r = bus_append_property_t(m, "MemoryMax", a->memory_max)) < 0)
                return r;
        if (a->tasks_max > 0 && (r = bus_append_property_t(m, "TasksMax", a->tasks_max)) < 0)
                return r;
        return 0;
}

int stage1_append_exec_start(sd_bus_message *m, const char *helper, char * const *argv, const char *args_file) {
        _cleanup_free_ char *data = NULL, *arg = NULL;
        size_t size = 0;
        FILE *f;
        int r;

        if (!argv || !argv[0] || args_file[0] != '/' || strchr(args_file, '$'))
                return -EINVAL;

        f = open_memstream(&data, &size);
        if (!f)
                return -ENOMEM;
        for (char * const *s = argv + 1; *s; s++)
                fwrite(*s, 1, strlen(*s) + 1, f);
        if (fclose(f) < 0)
                return -ENOMEM;
        /* Read by a root helper: root's alone (the helper refuses others).
         * Not synced: it is written anew before each start of the unit, and
         * no unit outlives a power loss to read a lost one. */
        r = write_file_atomic_full(args_file, data, size, 0600, 0);
        if (r < 0)
                return r;

        if (asprintf(&arg, "--args-file=%s", args_file) < 0)
                return -ENOMEM;
        return bus_append_exec_start(m, helper, STRV_MAKE(argv[0], arg));
}

/* The unit's stdin when the caller gives the app one: systemd hands the
 * unit's own copy of in->fd to the unit's start, keeps it across
 * daemon-reload and daemon-reexec (it serializes it), and drops it once
 * the unit has stopped (a restart gets /dev/null). The unit's
 * output stays the journal (with --tty the helper's child moves the app
 * onto its pty itself). */
static int app_append_stdin(sd_bus_message *m, const AppStdin *in) {
        int r;

        r = sd_bus_message_append(m, "(sv)", "StandardInputFileDescriptor", "h", in->fd);
        /* Explicit: systemd would otherwise have output inherit an input
         * fd that looks bidirectional (a socket). */
        if (r >= 0)
                r = bus_append_property_s(m, "StandardOutput", "journal");
        if (r >= 0)
                r = bus_append_property_s(m, "StandardError", "journal");
        return r;
}

/* peapod-stage1-app's arguments for app a of p (stage1/README.md). */
static int app_helper_argv(PodRuntime *rt, const Pod *p, const App *a, const char *scope, const char *rootfs,
                           const AppStdin *in, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;
        char *arg;
        int r;

        r = strv_extend(&argv, "peapod-stage1-app");
        if (r >= 0)
                r = asprintf(&arg, "--leader=%d", (int) p->leader) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0)
                r = asprintf(&arg, "--scope=%s", scope) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0)
                r = asprintf(&arg, "--rootfs=%s", rootfs) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0)
                r = app_overlay_argv(rt, p, a, rootfs, &argv);
        if (r >= 0)
                r = asprintf(&arg, "--app-id=%s", a->id) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        /* journalctl shows the identifier: the name, which a reader knows;
         * the ids are in PEAPOD_POD_ID and PEAPOD_APP_ID (LogExtraFields). */
        if (r >= 0)
                r = asprintf(&arg, "--app-name=%s", a->name) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0)
                r = strv_extend(&argv, "--log-namespace=" POD_JOURNAL_NAMESPACE);
        if (r >= 0)
                r = asprintf(&arg, "--workdir=%s", a->workdir) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0)
                r = app_isolation_argv(rt, p, a, &argv);
        if (r >= 0) {
                _cleanup_free_ char *etc = NULL;

                r = pod_etc_dir(rt, p, &etc);
                if (r >= 0)
                        r = asprintf(&arg, "--etc-dir=%s", etc) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        }
        FOREACH_STRV(e, a->env)
                if (r >= 0)
                        r = asprintf(&arg, "--env=%s", e) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0 && in && in->tty)
                r = strv_extend(&argv, in->tty_log ? "--tty-log" : "--tty");
        if (r >= 0)
                r = strv_extend(&argv, "--");
        FOREACH_STRV(e, a->exec)
                if (r >= 0)
                        r = strv_extend(&argv, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(argv);
        return 0;
}

/* The app unit's settings (systemd.exec(5), systemd.service(5)), each
 * one as systemd 252 reads it back after a daemon-reload. */
static int app_unit_append_properties(sd_bus_message *m, const Pod *p, const App *a, const char *desc,
                                      const char *slice, const char *scope, const AppStdin *in) {
        int r;

        if ((r = bus_append_property_s(m, "Description", desc)) < 0 || (r = bus_append_property_s(m, "Slice", slice)) < 0 ||
            (r = bus_append_property_as(m, "BindsTo", STRV_MAKE(scope))) < 0 ||
            /* The apps' own journal namespace: its journald keeps every
             * line (no rate limit, see units/journald-peapod.conf), and a
             * busy app cannot flood the system journal. The helper writes
             * there itself (--log-namespace=): LogNamespace= would give
             * every app unit a mount namespace of its own, ~7 ms of each
             * start, for nothing else. Its sockets, as LogNamespace=
             * would pull them in; Wants=, so that stopping them stops no
             * app. */
            (r = bus_append_property_as(m, "Wants", STRV_MAKE(POD_JOURNAL_SOCKET, POD_JOURNAL_VARLINK_SOCKET))) < 0 ||
            (r = bus_append_property_as(m, "After", STRV_MAKE(scope, POD_JOURNAL_SOCKET, POD_JOURNAL_VARLINK_SOCKET))) < 0 ||
            (r = bus_append_property_s(m, "Type", "exec")) < 0 ||
            /* CPUUsageNSec and MemoryCurrent, the CRI's container stats.
             * CPU time where it costs nothing or the pod asks for it;
             * otherwise as the host's DefaultCPUAccounting= says, which
             * systemd leaves off there for the same cost (cgroup-util.h). */
            ((p->cpu_accounting || cgroup_cpu_accounting_is_cheap()) &&
             (r = bus_append_property_b(m, "CPUAccounting", true)) < 0) ||
            (r = bus_append_property_b(m, "MemoryAccounting", true)) < 0 ||
            /* An app that exited keeps its unit (and so its exit status) until
             * the pod is stopped. No AddRef: PID 1 would track our bus name
             * for every app, one match rule each on its bus connection; a
             * stop's outcome comes from the unit's last PropertiesChanged
             * instead (pod_note_unit_signal()). */
            /* Except with Restart=always, which an app that stays
             * "active (exited)" after a clean exit would never reach. */
            (r = bus_append_property_b(m, "RemainAfterExit", a->restart != APP_RESTART_ALWAYS)) < 0 ||
            (r = bus_append_property_s(m, "Restart", app_restart_to_string(a->restart))) < 0 ||
            /* systemd's default start limit (5 in 10 s) then ends a loop of
             * failures after a few seconds instead of at once. */
            (r = bus_append_property_t(m, "RestartUSec", USEC_PER_SEC)) < 0 ||
            /* The device cgroup: the pseudo devices and ptys only. A root
             * app with CAP_MKNOD could otherwise make a node of a host disk
             * anywhere it may write without nodev, and a fly app sees the
             * host's /dev itself. */
            /* A privileged app has the host's /dev and, as runc gives
             * it, no device cgroup: auto with no DeviceAllow= restricts
             * nothing. */
            (r = bus_append_property_s(m, "DevicePolicy", a->privileged ? "auto" : "closed")) < 0 ||
            /* ... and the app's own devices, by number, with exactly
             * their permissions (app-device.h; none when privileged). */
            (r = app_devices_append_allow(m, a->devices, a->n_devices)) < 0 ||
            /* Only so that peapodd may move an exec's helper into the
             * unit's own cgroup (AttachProcessesToUnit, refused on a unit
             * that is not delegated; pod-exec.h): no kernel permission
             * changes with it (the cgroup stays root's, and stage1 gives the
             * app no writable cgroupfs), nor does what systemd enforces on
             * the unit's cgroup (limits, device policy, the stop's kill).
             * Delegated with no controller ("Delegate=" in the unit file,
             * which 252 reads back the same): Delegate=yes would turn on
             * every controller for the unit and, through machine.slice's
             * members, for every pod's units, the cpu controller with them.
             * Each unit then costs a walk of all the host's CPU task groups
             * (cgroup v1's bandwidth check) and a level of scheduling
             * (v2), for nothing an app asked. */
            (r = bus_append_property_as(m, "DelegateControllers", NULL)) < 0 ||
            /* SIGTERM goes to the helper, which forwards it to the app in its
             * PID namespace; SIGKILL goes to everything at the timeout. */
            (r = bus_append_property_s(m, "KillMode", "mixed")) < 0 ||
            (r = bus_append_property_t(m, "TimeoutStopUSec", APP_STOP_TIMEOUT_USEC)) < 0 ||
            (r = bus_append_property_s(m, "SyslogIdentifier", a->name)) < 0 ||
            /* The unit's own stream, in the system journal, carries only
             * what the helper says before its streams are open (a bad
             * argument): errors, under the app's name. Everything after
             * goes to the app's stderr stream in the namespace
             * (stage1-journal.c), where 'peapod run' and 'logs --stderr'
             * show it. */
            (r = sd_bus_message_append(m, "(sv)", "SyslogLevel", "i", (int32_t) LOG_ERR)) < 0 ||
            (r = app_append_limits(m, a)) < 0 ||
            (in && (r = app_append_stdin(m, in)) < 0))
                return r;
        return 0;
}

/* LogExtraFields (aay): every journal entry of the unit carries the pod's
 * and the app's ids and the app's name. */
static int app_unit_append_log_fields(sd_bus_message *m, const Pod *p, const App *a) {
        const char *fields[][2] = {
                { "PEAPOD_POD_ID", p->id },
                { "PEAPOD_APP", a->name },
                { "PEAPOD_APP_ID", a->id },
        };
        int r;

        r = bus_open_array_property(m, "LogExtraFields", "ay");
        for (size_t i = 0; i < ELEMENTSOF(fields) && r >= 0; i++) {
                _cleanup_free_ char *field = NULL;

                if (asprintf(&field, "%s=%s", fields[i][0], fields[i][1]) < 0)
                        return -ENOMEM;
                r = sd_bus_message_append_array(m, 'y', field, strlen(field));
        }
        if (r >= 0)
                r = bus_close_array_property(m);
        return r;
}

int app_unit_message(PodRuntime *rt, sd_bus *bus, const Pod *p, const App *a, const char *slice, const char *scope,
                     const AppStdin *in, sd_bus_message **ret, PeapodError *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *unit = NULL, *helper = NULL, *rootfs = NULL, *desc = NULL, *run = NULL, *args_file = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_close_ int attach_fd = -EBADF;
        AppStdin attach_in;
        int r;

        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        r = app_check_pins(rt, p, a, err);
        if (r < 0)
                return r;
        /* The caller's stdin (StartPodWithStdin) wins over an attachable one. */
        if (!in && (a->stdin_open || a->tty) && rt->app_stdin_open) {
                r = rt->app_stdin_open(rt->app_stdin_userdata, p, a, &attach_fd);
                if (r < 0)
                        return peapod_error_set(err, r, "Failed to make the stdin of app %s: %s", a->name, strerror(-r));
                attach_in = (AppStdin) { .fd = attach_fd, .tty = a->tty, .tty_log = a->tty };
                in = &attach_in;
        }
        if (asprintf(&helper, "%s/%s/peapod-stage1-app", rt->stage1_dir, pod_stage1(p)) < 0 ||
            app_dir(rt, p, a, "rootfs", &rootfs) < 0 || app_run_dir(rt, p, a, &run) < 0 ||
            asprintf(&args_file, "%s/stage1-args", run) < 0 ||
            asprintf(&desc, "App %s of pod %s", a->name, p->name) < 0)
                return -ENOMEM;

        r = app_helper_argv(rt, p, a, scope, rootfs, in, &argv);
        if (r < 0)
                return r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        r = app_unit_append_properties(m, p, a, desc, slice, scope, in);
        if (r < 0)
                return r;
        r = app_unit_append_log_fields(m, p, a);
        if (r < 0)
                return r;

        /* The app's command line goes through a file: on ExecStart systemd
         * would expand "$VAR" in it, and 252 cannot read ExecStartEx (with
         * its no-env-expand) back after a daemon-reload. No User= is set, so
         * the helper stays root to join the pod's namespaces (it drops
         * privileges for the app itself). */
        r = stage1_append_exec_start(m, helper, argv, args_file);
        if (r >= 0)
                r = sd_bus_message_close_container(m); /* a(sv) */
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

void app_mark_started(App *a) {
        a->state = APP_RUNNING;
        a->result = APP_RESULT_NONE;
        a->status = 0;
        a->oom_killed = false;
        a->started_usec = now_usec(CLOCK_REALTIME);
        a->exited_usec = 0;
}

int app_start_unit(PodRuntime *rt, const Pod *p, App *a, const char *slice, const char *scope, const AppStdin *in,
                   PeapodError *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *unit = NULL;
        int r;

        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        r = app_unit_message(rt, rt->bus, p, a, slice, scope, in, &m, err);
        if (r < 0)
                return r;
        r = systemd_start_transient_unit(rt->bus, m, unit, err);
        if (r < 0)
                return r;
        app_mark_started(a);
        return 0;
}

int pod_stage1_shares_host(PodRuntime *rt, const Pod *p) {
        _cleanup_free_ char *marker = NULL;

        if (asprintf(&marker, "%s/%s/host-namespaces", rt->stage1_dir, pod_stage1(p)) < 0)
                return -ENOMEM;
        if (access(marker, F_OK) >= 0)
                return 1;
        return errno == ENOENT ? 0 : -errno;
}

int app_check_stage1(PodRuntime *rt, const Pod *p, const App *a, PeapodError *err) {
        int r;

        if (a->n_mounts == 0 && a->n_devices == 0 && a->pid_namespace != PID_NAMESPACE_APP &&
            a->ipc_namespace != IPC_NAMESPACE_APP && !a->masked_paths && !a->readonly_paths && !a->privileged)
                return 0;
        r = pod_stage1_shares_host(rt, p);
        if (r <= 0)
                return r;
        /* fly's apps already run in the host's namespaces with the host's
         * /dev; what fly still keeps from them (the masked /proc, the
         * read-only /sys, the device cgroup) is all that separates them
         * from the host's root. A privileged app there would be the host's
         * root with a chroot: run it in the default flavour instead, where
         * it is at least a pod of its own (stage1/README.md). */
        if (a->privileged)
                return peapod_error_set(err, -EINVAL,
                                        "App %s: stage1 %s runs apps in the host's namespaces and refuses privileged apps",
                                        a->name, pod_stage1(p));
        return peapod_error_set(err, -EINVAL,
                                "App %s: stage1 %s runs apps in the host's namespaces and supports neither volumes nor "
                                "a PID namespace or an IPC namespace of the app's own, nor devices, nor masked or read-only paths",
                                a->name, pod_stage1(p));
}

int pod_unit_list(const Pod *p, char ***ret) {
        _cleanup_strv_free_ char **units = NULL;
        _cleanup_free_ char *slice = NULL, *scope = NULL;
        int r;

        r = pod_unit_names(p, &slice, &scope);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_apps; i++) {
                char *unit;

                r = app_unit_name(p->name, p->apps[i].name, &unit);
                if (r >= 0)
                        r = strv_consume(&units, unit);
                if (r < 0)
                        return r;
        }
        if (strv_consume(&units, TAKE_PTR(scope)) < 0 || strv_consume(&units, TAKE_PTR(slice)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(units);
        return 0;
}

/* Undo a start: everything that may exist is torn down, whatever exists;
 * flags as pod_stop_finish()'s. */
static void pod_teardown_full(PodRuntime *rt, Pod *p, PodStopFlags flags) {
        _cleanup_free_ char *slice = NULL;

        if (!(flags & POD_STOP_SLICE_STOPPED) && pod_unit_names(p, &slice, NULL) >= 0)
                (void) systemd_stop_unit(rt->bus, slice, NULL);
        /* A unit that failed (an app killed at its stop timeout) stays
         * loaded until reset, and its name could not be started again. */
        if (!(flags & POD_STOP_UNITS_RESET)) {
                _cleanup_strv_free_ char **units = NULL;

                if (pod_unit_list(p, &units) >= 0)
                        FOREACH_STRV(u, units)
                                (void) systemd_reset_failed_unit(rt->bus, u);
        }
        /* An init that never made it into its scope is not stopped above. */
        if (p->leader > 1)
                (void) kill(p->leader, SIGKILL);
        /* A DEL that fails keeps its record: pod_remove() tries again. */
        if (!(flags & POD_STOP_KEEP_NETWORK) && pod_network_owed(rt, p))
                (void) pod_network_stop(rt, p, false, NULL);
        for (size_t i = 0; i < p->n_apps; i++)
                app_umount_rootfs(rt, p, &p->apps[i]);
        pod_volumes_teardown(rt, p);
        p->leader = 0;
}

static void pod_teardown(PodRuntime *rt, Pod *p) {
        pod_teardown_full(rt, p, 0);
}

void pod_start_fail(PodRuntime *rt, Pod *p) {
        pod_start_fail_full(rt, p, 0);
}

void pod_start_fail_full(PodRuntime *rt, Pod *p, PodStopFlags flags) {
        pod_teardown_full(rt, p, flags);
        for (size_t i = 0; i < p->n_apps; i++) {
                p->apps[i].state = APP_CREATED;
                p->apps[i].started_usec = 0;
        }
        p->state = POD_CREATED;
        (void) pod_runtime_save(rt, p);
}

int pod_start_prepare(PodRuntime *rt, Pod *p, PeapodError *err) {
        int r;

        if (p->state == POD_EXITED) {
                /* It ran before: its apps start over, each with its
                 * writable layer as it was left. A DEL that failed at the
                 * stop is owed first, or the ADDs below would pile up
                 * (peapodd runs it before, without waiting). */
                if (pod_network_owed(rt, p)) {
                        r = pod_network_stop(rt, p, false, err);
                        if (r < 0)
                                return r;
                }
                for (size_t i = 0; i < p->n_apps; i++) {
                        App *a = &p->apps[i];

                        a->state = APP_CREATED;
                        a->result = APP_RESULT_NONE;
                        a->status = 0;
                        a->oom_killed = false;
                        a->started_usec = a->exited_usec = 0;
                }
                p->state = POD_CREATED;
                p->exited_usec = 0;
        }
        if (p->state != POD_CREATED)
                return peapod_error_set(err, -EBUSY, "Pod %s is %s, not created or exited", p->name,
                                        pod_state_to_string(p->state));

        /* Recorded first, so that a crash from here on is undone at restart.
         * Its durable copy is on disk before any CNI plugin runs (peapodd
         * waits for it, daemon-start.c): the network records and the IPAM
         * plugins' leases survive a power loss, and only a pod found
         * "preparing" (or later) gets their DELs at the next start. */
        p->state = POD_PREPARING;
        r = pod_runtime_save(rt, p);
        if (r < 0) {
                p->state = POD_CREATED;
                return peapod_error_set(err, r, "Failed to save pod state: %s", strerror(-r));
        }
        crash_point("start-prepared");

        r = pod_volumes_setup(rt, p, err);
        for (size_t i = 0; r >= 0 && i < p->n_apps; i++) {
                r = app_prepare_rootfs(rt, p, &p->apps[i]);
                if (r < 0)
                        peapod_error_set(err, r, "Failed to prepare the root of app %s: %s", p->apps[i].name, strerror(-r));
        }
        if (r >= 0)
                crash_point("start-mounted");
        if (r < 0)
                pod_start_fail(rt, p);
        return r;
}

int pod_start_init_done(PodRuntime *rt, Pod *p, pid_t leader, PeapodError *err) {
        int r;

        p->leader = leader;
        /* The leader is ours but not recorded until the networks are up
         * (pod_start_network_saved(), one write for both): a crash until
         * then leaves it in peapodd's own cgroup, where the next peapodd
         * finds and kills it whether it was recorded or not. */
        crash_point("start-init");
        r = pod_stage1_shares_host(rt, p);
        if (r > 0 && p->net.mode != POD_NETWORK_HOST)
                /* Its init never makes a network namespace to attach to. */
                r = peapod_error_set(err, -EINVAL, "Pod %s runs on stage1 %s, which needs --net=host", p->name,
                                     pod_stage1(p));
        if (r < 0)
                pod_start_fail(rt, p);
        return r;
}

int pod_start_network_saved(PodRuntime *rt, Pod *p) {
        int r;

        /* The leader and the addresses, both the pod's for this boot only:
         * what a DEL needs after a power loss is in the (durable) network
         * records. */
        r = pod_runtime_save(rt, p);
        if (r < 0)
                return r;
        /* The networks are recorded (network/NN.json): a crash from here
         * on is undone with their DELs. */
        crash_point("start-network");
        return 0;
}

int pod_scope_message(PodRuntime *rt, sd_bus *bus, const Pod *p, sd_bus_message **ret) {
        _cleanup_free_ char *slice = NULL, *scope = NULL, *desc = NULL;
        int r;

        r = pod_unit_names(p, &slice, &scope);
        if (r < 0)
                return r;
        if (asprintf(&desc, "peapod pod %s", p->name) < 0)
                return -ENOMEM;
        return systemd_scope_message(bus, scope, slice, p->leader, desc, ret);
}

int pod_register_message(PodRuntime *rt, sd_bus *bus, const Pod *p, const int *ifindices, size_t n_ifindices,
                         sd_bus_message **ret) {
        _cleanup_free_ char *root = NULL;

        if (pod_run_dir(rt, p, "root", &root) < 0)
                return -ENOMEM;
        return machine_register_message(bus, p->name, p->id, p->leader, root, ifindices, n_ifindices, ret);
}

int pod_start_finish(PodRuntime *rt, Pod *p, PeapodError *err) {
        int r;

        crash_point("start-apps");
        p->state = POD_RUNNING;
        p->started_usec = now_usec(CLOCK_REALTIME);
        p->exited_usec = 0;
        /* After a power loss a pod that was running is found exited
         * (stopped at the next start) once this durable copy got to disk,
         * and "preparing" before: undone as an unfinished start. Either
         * way it does not run, and keeps its apps' layers. */
        r = pod_runtime_save(rt, p);
        if (r < 0) {
                peapod_error_set(err, r, "Failed to save pod state: %s", strerror(-r));
                pod_start_fail(rt, p);
        }
        return r;
}

int pod_start_machine_error(const Pod *p, int r, const sd_bus_error *error, PeapodError *err) {
        if (sd_bus_error_has_name(error, "org.freedesktop.machine1.MachineExists") || r == -EEXIST)
                return peapod_error_set(err, -EEXIST, "A machine named %s exists already", p->name);
        return peapod_error_set(err, r, "Failed to register machine %s: %s", p->name,
                                error && error->message ? error->message : strerror(-r));
}

int pod_start(PodRuntime *rt, Pod *p, PeapodError *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *slice = NULL, *scope = NULL, *result = NULL;
        _cleanup_free_ int *ifindices = NULL;
        size_t n_ifindices = 0;
        int shares_host, r;

        r = pod_unit_names(p, &slice, &scope);
        if (r < 0)
                return r;
        r = pod_start_prepare(rt, p, err);
        if (r < 0)
                return r;
        {
                pid_t leader;

                r = pod_spawn_init(rt, p, &leader, err);
                if (r < 0) {
                        pod_start_fail(rt, p);
                        return r;
                }
                shares_host = r = pod_start_init_done(rt, p, leader, err);
                if (r < 0)
                        return r;
        }

        /* The network comes before the machine: machined learns the
         * host-side interfaces only when the machine is created. */
        r = pod_network_start(rt, p, &ifindices, &n_ifindices, err);
        if (r >= 0)
                r = pod_start_network_saved(rt, p);
        if (r < 0)
                goto fail;

        /* Our own scope, not machined's CreateMachine: PID 1 would track
         * machined's name for that scope, one bus match per pod in PID 1
         * (dbus-daemon allows 512 per connection). */
        r = pod_scope_message(rt, rt->bus, p, &m);
        if (r >= 0)
                r = systemd_call_job_wait(rt->bus, m, &error, &result);
        if (r >= 0 && !streq(result, "done"))
                r = -EIO;
        /* Never a machine when it shares the host's namespaces: machined's
         * shell, login and copy act in the leader's namespaces, and a
         * leader in the host's namespaces (all but its mount namespace)
         * would hand them the host. */
        if (r >= 0 && !shares_host) {
                m = sd_bus_message_unref(m);
                r = pod_register_message(rt, rt->bus, p, ifindices, n_ifindices, &m);
                if (r >= 0)
                        r = sd_bus_call(rt->bus, m, 0, &error, NULL);
        }
        if (r < 0) {
                pod_start_machine_error(p, r, &error, err);
                goto fail;
        }

        crash_point("start-machine");
        for (size_t i = 0; i < p->n_apps; i++) {
                r = app_start_unit(rt, p, &p->apps[i], slice, scope, NULL, err);
                if (r < 0)
                        goto fail;
        }
        return pod_start_finish(rt, p, err);

fail:
        pod_start_fail(rt, p);
        return r;
}

/* Record what systemd says of an app's unit. */
AppResult app_result_from_exec_main_code(int exec_main_code) {
        switch (exec_main_code) {
        case CLD_EXITED:
                return APP_RESULT_EXITED;
        case CLD_KILLED:
                return APP_RESULT_KILLED;
        case CLD_DUMPED:
                return APP_RESULT_DUMPED;
        default:
                return APP_RESULT_NONE;
        }
}

int pod_note_unit_signal(Pod *p, sd_bus_message *m) {
        _cleanup_free_ char *unit = NULL;
        UnitStatus s = {};
        int r;

        r = sd_bus_path_decode(sd_bus_message_get_path(m), "/org/freedesktop/systemd1/unit", &unit);
        if (r <= 0)
                return r;
        for (size_t i = 0; i < p->n_apps; i++) {
                App *a = &p->apps[i];
                _cleanup_free_ char *u = NULL;

                /* Running, or recorded exited by a look that found the unit
                 * already gone (how, unknown): the signal is of its last run. */
                if (a->state != APP_RUNNING && !(a->state == APP_EXITED && a->result == APP_RESULT_NONE))
                        continue;
                if (app_unit_name(p->name, a->name, &u) < 0 || !streq(u, unit))
                        continue;
                r = unit_status_exit_from_signal(m, &s);
                if (r <= 0)
                        return r;
                /* The state follows when the unit says so or is gone
                 * (app_update_from_unit()); the outcome is known now. */
                a->result = app_result_from_exec_main_code(s.exec_main_code);
                a->status = s.exec_main_status;
                a->oom_killed = streq_ptr(s.result, "oom-kill");
                a->exited_usec = s.exec_main_exit_usec ?: now_usec(CLOCK_REALTIME);
                unit_status_done(&s);
                return 1;
        }
        return 0;
}

static App *pod_app_by_unit_path(Pod *p, const char *path) {
        _cleanup_free_ char *unit = NULL;

        if (!path || sd_bus_path_decode(path, "/org/freedesktop/systemd1/unit", &unit) <= 0)
                return NULL;
        for (size_t i = 0; i < p->n_apps; i++) {
                _cleanup_free_ char *u = NULL;

                if (app_unit_name(p->name, p->apps[i].name, &u) >= 0 && streq(u, unit))
                        return &p->apps[i];
        }
        return NULL;
}

int pod_apply_unit_signal(Pod *p, sd_bus_message *m, App **ret_ask) {
        _cleanup_(unit_status_done) UnitStatus s = {};
        const char *interface;
        bool ended;
        App *a;
        int r;

        *ret_ask = NULL;
        a = pod_app_by_unit_path(p, sd_bus_message_get_path(m));
        if (!a || a->state != APP_RUNNING)
                return 0;
        r = unit_status_from_message(m, &interface, &s);
        if (r < 0)
                return r;
        if (streq(interface, "org.freedesktop.systemd1.Service")) {
                /* The end of a run before the app's current start: a
                 * signal of the last run that waited in our queue while
                 * the app was started again. Not this run's: the Unit
                 * signal that follows asks the unit instead. */
                if (s.exec_main_exit_usec > 0 && s.exec_main_exit_usec < a->started_usec) {
                        a->signal_exec_seen = false;
                        return 0;
                }
                /* Every Service PropertiesChanged carries the ExecMain*
                 * properties (they emit changes): kept for the Unit one. */
                a->signal_exec_seen = true;
                a->signal_exec_code = s.exec_main_code;
                a->signal_exec_status = s.exec_main_status;
                a->signal_exit_usec = s.exec_main_exit_usec;
                return 0;
        }
        if (!streq(interface, "org.freedesktop.systemd1.Unit") || !s.active_state)
                return 0;

        /* A unit that sends signals is loaded. */
        s.load_state = strdup("loaded");
        if (!s.load_state)
                return -ENOMEM;
        ended = streq(s.active_state, "failed") || streq(s.active_state, "inactive") ||
                (streq(s.active_state, "active") && streq_ptr(s.sub_state, "exited"));
        if (ended && (!a->signal_exec_seen || a->signal_exec_code <= 0 || a->restart != APP_RESTART_NO)) {
                /* Ended with no main process's end seen in a signal (a
                 * Service signal missed, a unit that failed before its
                 * main process ran): the caller reads the unit. So with a
                 * Restart= policy: systemd 252 sends "failed" (or
                 * "inactive") and then, from the same step, "activating
                 * (auto-restart)"; a read answered after that step says
                 * which it is. */
                a->signal_exec_seen = false;
                *ret_ask = a;
                return 0;
        }
        if (a->signal_exec_seen) {
                s.exec_main_code = a->signal_exec_code;
                s.exec_main_status = a->signal_exec_status;
                s.exec_main_exit_usec = a->signal_exit_usec;
        }
        /* Consumed: the next Unit signal comes with its own Service one. */
        a->signal_exec_seen = false;
        return app_update_from_unit(a, &s);
}

static int on_app_unit_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        (void) pod_note_unit_signal(userdata, m);
        return 0;
}

int pod_stop_units(PodRuntime *rt, Pod *p, const char *unit) {
        _cleanup_strv_free_ char **watch = NULL;

        for (size_t i = 0; i < p->n_apps; i++) {
                char *u;

                if (p->apps[i].state != APP_RUNNING)
                        continue;
                if (app_unit_name(p->name, p->apps[i].name, &u) < 0 || strv_consume(&watch, u) < 0)
                        return -ENOMEM;
        }
        return systemd_stop_unit_watching(rt->bus, unit, watch, on_app_unit_changed, p, NULL);
}

bool app_update_from_unit(App *a, const UnitStatus *s) {
        AppState state = a->state;
        AppResult result = a->result;
        int status = a->status;
        bool oom_killed = a->oom_killed;

        if (!s->load_state || streq(s->load_state, "not-found")) {
                /* Gone without us seeing the end: it has exited, how is unknown. */
                if (a->state == APP_RUNNING)
                        state = APP_EXITED;
        } else if (streq_ptr(s->active_state, "failed") ||
                   (streq_ptr(s->active_state, "active") && streq_ptr(s->sub_state, "exited")) ||
                   (streq_ptr(s->active_state, "inactive") && s->exec_main_code > 0)) {
                state = APP_EXITED;
                result = app_result_from_exec_main_code(s->exec_main_code);
                status = s->exec_main_status;
                oom_killed = streq_ptr(s->result, "oom-kill");
        } else if (streq_ptr(s->active_state, "active") || streq_ptr(s->active_state, "activating") ||
                   streq_ptr(s->active_state, "deactivating"))
                state = APP_RUNNING;

        if (state == a->state && result == a->result && status == a->status && oom_killed == a->oom_killed)
                return false;
        a->state = state;
        a->result = result;
        a->status = status;
        a->oom_killed = oom_killed;
        if (state == APP_EXITED && !a->exited_usec)
                a->exited_usec = s->exec_main_exit_usec ?: now_usec(CLOCK_REALTIME);
        return true;
}

static int runtime_unit_status(PodRuntime *rt, const char *unit, UnitStatus *ret) {
        if (rt->unit_status) {
                int r = rt->unit_status(rt->unit_status_userdata, unit, ret);

                if (r != -ENOENT)
                        return r;
        }
        return systemd_get_unit_status(rt->bus, unit, ret);
}

static int pod_refresh_apps(PodRuntime *rt, Pod *p, bool *changed) {
        for (size_t i = 0; i < p->n_apps; i++) {
                App *a = &p->apps[i];
                _cleanup_free_ char *unit = NULL;
                UnitStatus s = {};
                int r;

                if (a->state != APP_RUNNING)
                        continue;
                r = app_unit_name(p->name, a->name, &unit);
                if (r < 0)
                        return r;
                r = runtime_unit_status(rt, unit, &s);
                if (r < 0)
                        return r;
                if (app_update_from_unit(a, &s))
                        *changed = true;
                unit_status_done(&s);
        }
        return 0;
}

int pod_refresh(PodRuntime *rt, Pod *p) {
        bool changed = false;
        int r;

        if (p->state != POD_RUNNING)
                return 0;
        r = pod_refresh_apps(rt, p, &changed);
        if (r < 0)
                return r;
        if (!changed)
                return 0;
        /* An app's end seen while the pod runs; if a power loss comes
         * before its durable copy, the pod is stopped at start and its apps
         * recorded exited. */
        r = pod_runtime_save(rt, p);
        return r < 0 ? r : 1;
}

int pod_stop_prepare(PodRuntime *rt, Pod *p, char **ret_slice) {
        _cleanup_free_ char *slice = NULL;
        int r;

        if (p->state == POD_CREATED || p->state == POD_EXITED)
                return 0;
        r = pod_unit_names(p, &slice, NULL);
        if (r < 0)
                return r;
        *ret_slice = TAKE_PTR(slice);
        return 1;
}

int pod_stop(PodRuntime *rt, Pod *p) {
        _cleanup_free_ char *slice = NULL;
        bool changed = false;
        int r;

        r = pod_stop_prepare(rt, p, &slice);
        if (r <= 0)
                return r;
        /* Apps that ended before the stop keep their own outcome. (peapodd
         * has it from their units' signals, pod_apply_unit_signal(), and
         * reads nothing here.) */
        (void) pod_refresh_apps(rt, p, &changed);
        r = pod_stop_units(rt, p, slice);
        if (r < 0)
                return r;
        /* The stop unloaded the app units: what it did to the apps came with
         * their last signals; the refresh finds them gone. */
        (void) pod_refresh_apps(rt, p, &changed);
        return pod_stop_finish(rt, p, POD_STOP_SLICE_STOPPED);
}

int pod_stop_finish(PodRuntime *rt, Pod *p, PodStopFlags flags) {
        int r;

        crash_point("stop-stopped");
        /* Apps whose end no signal told are recorded exited, how unknown. */
        for (size_t i = 0; i < p->n_apps; i++)
                if (p->apps[i].state != APP_EXITED) {
                        p->apps[i].state = APP_EXITED;
                        p->apps[i].exited_usec = now_usec(CLOCK_REALTIME);
                }
        p->leader = 0;
        pod_teardown_full(rt, p, flags);
        p->state = POD_EXITED;
        p->exited_usec = now_usec(CLOCK_REALTIME);
        /* How the apps ended, kept across a power loss once the durable
         * copy is on disk. */
        r = pod_runtime_save(rt, p);
        if (r < 0)
                return r;
        /* Exited, with its network records still there when kept: the
         * next peapodd runs their DELs (pod_reconcile()). */
        crash_point("stop-exited");
        return 0;
}

int pod_remove(PodRuntime *rt, Pod *p) {
        _cleanup_free_ char *gone = NULL;
        int r;

        if (p->state == POD_RUNNING || p->state == POD_PREPARING)
                return -EBUSY;
        /* Networks a crash or a failed DEL left behind go first; whatever
         * cannot be deleted is forgotten. */
        if (pod_network_owed(rt, p))
                (void) pod_network_stop(rt, p, true, NULL);
        r = pod_remove_detach(rt, p, &gone);
        if (r < 0)
                return r;
        return rm_rf(gone);
}

int pod_start_check(const Pod *p, Pod * const *pods, size_t n_pods, const AppStdin *in, PeapodError *err) {
        struct stat st;
        int r;

        if (p->state != POD_CREATED && p->state != POD_EXITED)
                return peapod_error_set(err, -EALREADY, "Pod %s is %s; only a created or exited pod can be started",
                                        p->name, pod_state_to_string(p->state));
        r = pod_ports_check(p, pods, n_pods, err);
        if (r < 0)
                return r;
        if (!in)
                return 0;
        if (p->n_apps == 0)
                return peapod_error_set(err, -EINVAL, "Pod %s has no app to take stdin", p->name);
        /* Never a terminal: any fd of one lets the app type into it
         * (TIOCSTI) or take it as its controlling terminal, and it would be
         * the caller's. A terminal of the app's own is made inside the pod;
         * the tty flag's socket carries its master back to the caller. */
        if (isatty(in->fd))
                return peapod_error_set(err, -EINVAL, "stdin is a terminal: pass a pipe, or a socket with the tty flag");
        if (in->tty && (fstat(in->fd, &st) < 0 || !S_ISSOCK(st.st_mode)))
                return peapod_error_set(err, -EINVAL, "The tty flag wants a socket");
        return 0;
}

int pod_stop_check(const Pod *p, PeapodError *err) {
        if (p->state != POD_RUNNING && p->state != POD_PREPARING)
                return peapod_error_set(err, -EALREADY, "Pod %s is not running", p->name);
        return 0;
}

int pod_remove_check(const Pod *p, bool force, PeapodError *err) {
        if (p->state != POD_RUNNING && p->state != POD_PREPARING)
                return 0;
        if (!force)
                return peapod_error_set(err, -EBUSY, "Pod %s is running; stop it first or force the removal", p->name);
        return 1;
}

int pod_remove_detach(PodRuntime *rt, Pod *p, char **ret_gone) {
        _cleanup_free_ char *dir = NULL, *gone = NULL, *run = NULL;
        int r;

        if (p->state == POD_RUNNING || p->state == POD_PREPARING)
                return -EBUSY;
        for (size_t i = 0; i < p->n_apps; i++)
                app_umount_rootfs(rt, p, &p->apps[i]);
        pod_volumes_teardown(rt, p);
        /* Before the pod is gone: a crash after this leaves a pod whose
         * next start writes it all anew, never a runtime directory that no
         * pod owns. (A tmpfs: deleting it costs nothing.) */
        r = pod_run_dir(rt, p, NULL, &run);
        if (r < 0)
                return r;
        r = rm_rf(run);
        if (r < 0)
                return r;
        crash_point("remove-unmounted");
        r = pod_dir(rt->state_dir, p->id, &dir);
        if (r < 0)
                return r;
        /* One atomic step decides that the pod is gone: a removal cut
         * short leaves a ".removing-<id>" directory, which is no pod and
         * which the next start of peapodd deletes, never a pod half
         * deleted (pod.json gone, files left). */
        r = pod_removing_path(rt->state_dir, p->id, &gone);
        if (r < 0)
                return r;
        if (rename(dir, gone) < 0)
                return -errno;
        crash_point("remove-renamed");
        *ret_gone = TAKE_PTR(gone);
        return 0;
}

int pod_reconcile(PodRuntime *rt, Pod *p) {
        _cleanup_free_ char *slice = NULL, *scope = NULL;
        UnitStatus s = {};
        bool alive;
        int r;

        switch (p->state) {
        case POD_CREATED:
                return 0;
        case POD_EXITED:
                for (size_t i = 0; i < p->n_apps; i++)
                        app_umount_rootfs(rt, p, &p->apps[i]);
                /* A stop cut short before its DELs: finish them. Only
                 * then: the stop unbinds the bridge ports before the DELs
                 * and the namespace after them, so a pod that owes nothing
                 * has no binding either, and a start of peapodd runs no
                 * ebtables for each exited pod on a network to find that
                 * out (RemovePod relies on the same). */
                if (pod_network_owed(rt, p))
                        (void) pod_network_stop(rt, p, false, NULL);
                pod_volumes_teardown(rt, p);
                return 0;
        case POD_PREPARING:
                /* A start cut short: undo it. */
                pod_teardown(rt, p);
                for (size_t i = 0; i < p->n_apps; i++)
                        p->apps[i].state = APP_CREATED;
                p->state = POD_CREATED;
                r = pod_runtime_save(rt, p);
                return r < 0 ? r : 1;
        default:
                break;
        }

        r = pod_unit_names(p, &slice, &scope);
        if (r < 0)
                return r;
        r = runtime_unit_status(rt, scope, &s);
        if (r < 0)
                return r;
        alive = streq_ptr(s.active_state, "active");
        unit_status_done(&s);

        r = pod_refresh(rt, p);
        if (r < 0)
                return r;
        if (!alive || (p->stop_when_apps_exit && pod_all_apps_exited(p))) {
                r = pod_stop(rt, p);
                return r < 0 ? r : 1;
        }
        return r;
}

int pod_runtime_save(PodRuntime *rt, Pod *p) {
        return pod_save(p, rt->state_dir, pod_runtime_dir(rt), &rt->durable);
}
