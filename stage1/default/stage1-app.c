/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod-stage1-app: the ExecStart of an app's service. Joins the pod,
 * builds the app's mount namespace and runs the app in a child whose fate
 * it then mirrors. See stage1/README.md for the contract. */

#include <fcntl.h>
#include <limits.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "fs-util.h"
#include "log.h"
#include "stage1-child.h"
#include "stage1-journal.h"
#include "stage1-machine-root.h"
#include "stage1-mount.h"
#include "stage1-sealed.h"
#include "stage1-seccomp-cache.h"
#include "stage1-util.h"

static const struct {
        const char *file;
        int type;
} pod_namespaces[] = {
        { "ns/net", CLONE_NEWNET },
        { "ns/ipc", CLONE_NEWIPC },
        { "ns/uts", CLONE_NEWUTS },
        /* Affects our children only: the app, not this helper. */
        { "ns/pid", CLONE_NEWPID },
};

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

typedef struct Pod {
        int ns_fd[ELEMENTSOF(pod_namespaces)];
} Pod;

static void pod_done(Pod *p) {
        for (size_t i = 0; i < ELEMENTSOF(p->ns_fd); i++)
                p->ns_fd[i] = safe_close(p->ns_fd[i]);
}

/* Opens the leader's namespaces and checks that the leader is the pod's
 * init. Everything goes through one fd of /proc/PID: that directory stays
 * bound to the process it was opened for, and lookups below it fail once
 * that process is gone, so a pid reused between the check and the opens
 * cannot slip us someone else's namespaces. The cgroup is read last so that
 * it vouches for the namespaces already opened. */
static int pod_open(pid_t leader, const char *scope, Pod *ret, MachineRoot *ret_machine) {
        _cleanup_(pod_done) Pod pod = { .ns_fd = { -EBADF, -EBADF, -EBADF, -EBADF } };
        _cleanup_close_ int proc_fd = -EBADF;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%i", (int) leader);
        proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", path);

        for (size_t i = 0; i < ELEMENTSOF(pod_namespaces); i++) {
                pod.ns_fd[i] = openat(proc_fd, pod_namespaces[i].file, O_RDONLY | O_CLOEXEC);
                if (pod.ns_fd[i] < 0)
                        return log_error_errno(errno, "Failed to open %s/%s: %m", path, pod_namespaces[i].file);
        }
        /* Kept for the app's whole life: the clone is withdrawn when it
         * ends. By this helper, which the pod never sees. */
        if (ret_machine) {
                r = machine_root_open(proc_fd, ret_machine);
                if (r < 0)
                        return log_error_errno(r, "Failed to open %s/ns/mnt and %s/root: %m", path, path);
        }

        r = proc_check_in_unit(proc_fd, path, scope, 16384);
        if (r < 0)
                return r;

        *ret = pod;
        for (size_t i = 0; i < ELEMENTSOF(pod.ns_fd); i++)
                pod.ns_fd[i] = -EBADF;
        return 0;
}

static int pod_join(Pod *pod, bool private_pid_ns, bool private_ipc_ns) {
        for (size_t i = 0; i < ELEMENTSOF(pod_namespaces); i++) {
                if ((private_pid_ns && pod_namespaces[i].type == CLONE_NEWPID) ||
                    (private_ipc_ns && pod_namespaces[i].type == CLONE_NEWIPC))
                        continue;
                if (setns(pod->ns_fd[i], pod_namespaces[i].type) < 0)
                        return log_error_errno(errno, "Failed to join the pod's %s: %m", pod_namespaces[i].file);
        }
        /* A PID namespace of the app's own: the kernel nests a new one
         * below the caller's active namespace only, so it is made instead
         * of joining the pod's, never inside it. */
        if (private_pid_ns && unshare(CLONE_NEWPID) < 0)
                return log_error_errno(errno, "Failed to make a PID namespace: %m");
        /* An IPC namespace of the app's own (the CRI's CONTAINER mode): a
         * new, empty one, owned like the pod's by the initial user
         * namespace. Made instead of joining the pod's, so the app never
         * saw the pod's objects; the pod's IPC sysctls (written by its
         * init in the pod's namespace) do not apply in it: it starts
         * with the kernel's defaults. */
        if (private_ipc_ns && unshare(CLONE_NEWIPC) < 0)
                return log_error_errno(errno, "Failed to make an IPC namespace: %m");
        return 0;
}

static int reopen_dir(int dir_fd, const char *name) {
        /* Again without following symlinks: it is a mount point now, so it
         * cannot have been swapped, but the check is cheap. */
        int fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

/* Mounts on name below dir_fd. Mount points are created, or checked,
 * without following symlinks, and mount(2) gets /proc/self/fd/N for the
 * directory we checked: the rootfs comes from an image, and an image can
 * contain /proc -> /etc or /dev -> /, which followed from the host side
 * would put our mounts onto the host's own directories. */
static int mount_dir_at(int dir_fd, const char *name, const char *what, const char *type,
                        unsigned long flags, const char *data) {
        _cleanup_close_ int fd = -EBADF;
        char p[FD_PATH_MAX];

        fd = mkdirat_nofollow(dir_fd, name, 0755);
        if (fd < 0)
                return log_error_errno(fd, "Failed to create mount point %s (symlinks are refused): %m", name);
        if (mount(what, fd_path(p, fd), type, flags, data) < 0)
                return log_error_errno(errno, "Failed to mount %s on %s: %m", what, name);
        return reopen_dir(dir_fd, name);
}

static int setup_proc(int root_fd) {
        _cleanup_close_ int fd = -EBADF;

        /* Mounted from the child, which is in the pod's PID namespace: it
         * lists the pod's processes. */
        fd = mount_dir_at(root_fd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        if (fd < 0)
                return fd;
        return stage1_protect_proc(fd);
}

static int setup_dev(int root_fd) {
        static const char *const nodes[] = { "null", "zero", "full", "random", "urandom", "tty" };
        static const char *const links[][2] = {
                { "ptmx",   "pts/ptmx"        },
                { "fd",     "/proc/self/fd"   },
                { "stdin",  "/proc/self/fd/0" },
                { "stdout", "/proc/self/fd/1" },
                { "stderr", "/proc/self/fd/2" },
        };
        _cleanup_close_ int dev_fd = -EBADF, pts_fd = -EBADF, shm_fd = -EBADF;
        char p[FD_PATH_MAX];

        /* nodev: a node made here by the app means nothing; the devices it
         * has are the host's, bound in below (mounts of their own). */
        dev_fd = mount_dir_at(root_fd, "dev", "tmpfs", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_NODEV, "mode=0755,size=64k");
        if (dev_fd < 0)
                return dev_fd;

        /* Bind the host's nodes instead of mknod(): the same devices, and
         * no device node is ever created in a file system. */
        for (size_t i = 0; i < ELEMENTSOF(nodes); i++) {
                _cleanup_free_ char *src = NULL;
                _cleanup_close_ int fd = -EBADF;

                fd = mkfileat_nofollow(dev_fd, nodes[i], 0666);
                if (fd < 0)
                        return log_error_errno(fd, "Failed to create /dev/%s: %m", nodes[i]);
                if (asprintf(&src, "/dev/%s", nodes[i]) < 0)
                        return log_oom();
                if (mount(src, fd_path(p, fd), NULL, MS_BIND, NULL) < 0)
                        return log_error_errno(errno, "Failed to bind %s: %m", src);
        }

        /* A new instance: the app sees only the pod's ptys, never the host's. */
        pts_fd = mount_dir_at(dev_fd, "pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
                              "newinstance,ptmxmode=0666,mode=620");
        if (pts_fd < 0)
                return pts_fd;

        shm_fd = mount_dir_at(dev_fd, "shm", "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        if (shm_fd < 0)
                return shm_fd;

        for (size_t i = 0; i < ELEMENTSOF(links); i++)
                if (symlinkat(links[i][1], dev_fd, links[i][0]) < 0)
                        return log_error_errno(errno, "Failed to create /dev/%s: %m", links[i][0]);
        return 0;
}

/* One host device of the app's own (--device=) at its path in the app's
 * /dev. The pod's /dev is a nodev tmpfs; this node is a mount of its own,
 * the host's node bound without nodev, and so usable. Why that is safe:
 * stage0 starts the unit with DevicePolicy=closed and DeviceAllow= for
 * exactly this node's type and major:minor with exactly the permissions
 * asked (stage1/README.md, "Devices"), so the device cgroup admits this
 * one device and nothing more; the app cannot mknod another (the cgroup
 * refuses it, and every other file system it may write is nodev). The
 * host path is opened once (open_tree), checked on the opened tree to be
 * a character or block device, and that very tree is moved: a path
 * swapped meanwhile cannot slip in a directory or a file (a volume that
 * would bypass every volume rule). The directories on the way are made in
 * our own fresh /dev tmpfs, never through a symlink. */
static int bind_device(int dev_fd, const BindSpec *d) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, .attr_clr = MOUNT_ATTR_NODEV };
        _cleanup_close_ int tree = -EBADF, dir = -EBADF, target = -EBADF;
        struct stat st;

        tree = open_tree(AT_FDCWD, d->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0)
                return log_error_errno(errno, "Failed to open device %s: %m", d->source);
        if (fstat(tree, &st) < 0)
                return log_error_errno(errno, "Failed to stat device %s: %m", d->source);
        if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode))
                return log_error_errno(ENODEV, "%s is not a character or block device, refusing it.", d->source);

        dir = fcntl(dev_fd, F_DUPFD_CLOEXEC, 3);
        if (dir < 0)
                return log_error_errno(errno, "Failed to duplicate /dev's fd: %m");
        /* app_device_check() vouched for the path: below /dev, components
         * of at most NAME_MAX bytes, no "." or "..". */
        for (const char *p = d->target + strlen("/dev/"); target < 0;) {
                size_t l = strcspn(p, "/");
                char name[NAME_MAX + 1];
                int fd;

                if (l == 0 || l > NAME_MAX)
                        return log_error_errno(EINVAL, "Invalid device path %s.", d->target);
                memcpy(name, p, l);
                name[l] = 0;
                if (p[l] == 0) {
                        target = mkfileat_nofollow(dir, name, 0666);
                        if (target < 0)
                                return log_error_errno(target, "Failed to create %s (it exists, or a symlink is on the way): %m",
                                                       d->target);
                        break;
                }
                fd = mkdirat_nofollow(dir, name, 0755);
                if (fd < 0)
                        return log_error_errno(fd, "Failed to create the directories of %s: %m", d->target);
                safe_close(dir);
                dir = fd;
                p += l + 1;
        }

        if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return log_error_errno(errno, "Failed to set the flags of device %s: %m", d->source);
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_error_errno(errno, "Failed to bind device %s on %s: %m", d->source, d->target);
        return 0;
}

static int setup_devices(int root_fd, const Stage1AppCommand *a) {
        _cleanup_close_ int dev_fd = -EBADF;

        if (a->n_devices == 0)
                return 0;
        dev_fd = reopen_dir(root_fd, "dev");
        if (dev_fd < 0)
                return log_error_errno(dev_fd, "Failed to open the app's /dev: %m");
        for (size_t i = 0; i < a->n_devices; i++) {
                int r = bind_device(dev_fd, &a->devices[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int mask_sys_firmware(int root_fd) {
        _cleanup_close_ int fd = reopen_dir(root_fd, "sys");

        if (fd < 0)
                return log_error_errno(fd, "Failed to open sys: %m");
        return stage1_mask_sys_firmware(fd);
}

static int setup_sys(int root_fd) {
        _cleanup_close_ int fd = -EBADF;
        char p[FD_PATH_MAX];

        fd = mkdirat_nofollow(root_fd, "sys", 0755);
        if (fd < 0)
                return log_error_errno(fd, "Failed to create mount point sys (symlinks are refused): %m");

        /* A sysfs mounted from the pod's network namespace shows the pod's
         * interfaces in /sys/class/net. */
        if (mount("sysfs", fd_path(p, fd), "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) >= 0)
                return mask_sys_firmware(root_fd);
        log_debug_errno(errno, "Failed to mount sysfs, binding /sys instead: %m");

        /* Not recursive: the host's cgroup and other submounts stay out. */
        if (mount("/sys", p, NULL, MS_BIND, NULL) < 0)
                return log_error_errno(errno, "Failed to bind /sys: %m");
        fd = safe_close(fd);
        fd = reopen_dir(root_fd, "sys");
        if (fd < 0)
                return log_error_errno(fd, "Failed to open sys: %m");
        if (mount(NULL, fd_path(p, fd), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return log_error_errno(errno, "Failed to make /sys read-only: %m");
        return mask_sys_firmware(root_fd);
}

/* ---- The privileged path (--privileged) ------------------------------
 *
 * What runc gives kubelet's `privileged`, and nothing an app without
 * --privileged ever takes: the three functions below replace setup_proc(),
 * setup_dev(), setup_devices() and setup_sys() as a whole. peapodd passes
 * --privileged only for an app whose record says so, and it writes that
 * only after polkit's org.peapod1.run-privileged allowed the creation
 * (stage1/README.md, "Privileged apps", has the argument). Such an app is
 * the host's root with a view of its own: each step here removes on
 * purpose one protection that every other app keeps. */

/* /proc of the pod's PID namespace, without stage1_protect_proc(): the
 * host-wide files (sysrq-trigger, /proc/sys, kcore...) as the host has
 * them. */
static int setup_privileged_proc(int root_fd) {
        _cleanup_close_ int fd = -EBADF;

        fd = mount_dir_at(root_fd, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
        return fd < 0 ? fd : 0;
}

/* Mounts a fresh file system on name below dir_fd, which must exist
 * already, a directory and no symlink: dir_fd is the host's own /dev
 * here, in which nothing may be created. -ENOENT, unlogged, if it is
 * missing. */
static int mount_over_existing(int dir_fd, const char *name, const char *type, unsigned long flags, const char *data) {
        _cleanup_close_ int fd = -EBADF;
        char p[FD_PATH_MAX];

        fd = openat(dir_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return -ENOENT;
        if (fd < 0)
                return log_error_errno(errno, "Failed to open the host's /dev/%s: %m", name);
        if (mount(type, fd_path(p, fd), type, flags, data) < 0)
                return log_error_errno(errno, "Failed to mount %s on /dev/%s: %m", type, name);
        return 0;
}

/* The host's /dev with every submount (AT_RECURSIVE), not nodev: all the
 * host's devices, those that appear later too (the clone is a slave of
 * the host's /dev, through our slave namespace), which the unit's
 * DevicePolicy=auto without DeviceAllow= does not narrow. Two things stay
 * the pod's, as runc keeps them the container's: /dev/pts is a new devpts
 * instance (the host's ptys are its users' terminals, and the app's --tty
 * is made in its own instance) and /dev/shm a tmpfs of the app's own. The
 * clone is taken from the helper's namespace, which is a copy of the
 * host's: nothing of the pod can have changed it. */
static int setup_privileged_dev(int root_fd) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_NOSUID };
        _cleanup_close_ int tree = -EBADF, target = -EBADF, dev_fd = -EBADF;
        int r;

        tree = open_tree(AT_FDCWD, "/dev", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return log_error_errno(errno, "Failed to clone the host's /dev: %m");
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return log_error_errno(errno, "Failed to make the host's /dev nosuid: %m");
        target = mkdirat_nofollow(root_fd, "dev", 0755);
        if (target < 0)
                return log_error_errno(target, "Failed to create mount point dev (symlinks are refused): %m");
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_error_errno(errno, "Failed to bind the host's /dev: %m");
        dev_fd = reopen_dir(root_fd, "dev");
        if (dev_fd < 0)
                return log_error_errno(dev_fd, "Failed to open the app's /dev: %m");

        r = mount_over_existing(dev_fd, "pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620");
        if (r == -ENOENT)
                return log_error_errno(r, "The host has no /dev/pts to mount the app's own on: %m");
        if (r < 0)
                return r;
        r = mount_over_existing(dev_fd, "shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
        if (r < 0 && r != -ENOENT)
                return r;
        return 0;
}

/* sysfs read-write and unmasked (/sys/firmware too): the host's devices
 * and kernel settings, as a privileged app's device plugins and node
 * agents want them. Mounted from the pod's network namespace, as for
 * every app. All sysfs mounts of one network namespace share a
 * superblock, which the first one made read-only if another app of the
 * pod came first (setup_sys()): the remount makes the superblock
 * writable again. The other apps' mounts stay read-only: theirs is a
 * flag of the mount (MS_RDONLY sets it as well), which this does not
 * touch. */
static int setup_privileged_sys(int root_fd) {
        _cleanup_close_ int fd = -EBADF, mnt = -EBADF;
        char p[FD_PATH_MAX];

        fd = mkdirat_nofollow(root_fd, "sys", 0755);
        if (fd < 0)
                return log_error_errno(fd, "Failed to create mount point sys (symlinks are refused): %m");
        if (mount("sysfs", fd_path(p, fd), "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) >= 0) {
                mnt = reopen_dir(root_fd, "sys");
                if (mnt < 0)
                        return log_error_errno(mnt, "Failed to open sys: %m");
                if (mount(NULL, fd_path(p, mnt), NULL, MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                        return log_error_errno(errno, "Failed to make sysfs writable: %m");
                return 0;
        }
        log_debug_errno(errno, "Failed to mount sysfs, binding /sys instead: %m");
        if (mount("/sys", p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return log_error_errno(errno, "Failed to bind /sys: %m");
        return 0;
}

static int setup_privileged(int root_fd) {
        int r;

        r = setup_privileged_proc(root_fd);
        if (r < 0)
                return r;
        r = setup_privileged_dev(root_fd);
        if (r < 0)
                return r;
        return setup_privileged_sys(root_fd);
}

/* ---- The end of the privileged path ---------------------------------- */

/* /proc, /dev, the app's devices and /sys of every app that is not
 * privileged. */
static int setup_isolated(int root_fd, const Stage1AppCommand *a) {
        int r;

        r = setup_proc(root_fd);
        if (r < 0)
                return r;
        r = setup_dev(root_fd);
        if (r < 0)
                return r;
        r = setup_devices(root_fd, a);
        if (r < 0)
                return r;
        return setup_sys(root_fd);
}

/* Opens path inside the app's root, creating what is missing (the last
 * component as a directory, or as an empty file when !dir). Every lookup
 * is openat2() with RESOLVE_IN_ROOT from the root's fd, so a symlink that
 * the image put anywhere on the way, absolute or full of "..", resolves
 * inside the root and never leads out of it; a missing component is made
 * in the directory that the lookup of its parent returned, so inside the
 * root as well. */
static int open_in_root(int root_fd, const char *path, bool dir) {
        _cleanup_close_ int parent = -EBADF;
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        char prefix[PATH_MAX] = "";
        size_t plen = 0;

        parent = fcntl(root_fd, F_DUPFD_CLOEXEC, 3);
        if (parent < 0)
                return -errno;
        for (const char *p = path + strspn(path, "/"); *p;) {
                size_t l = strcspn(p, "/");
                const char *next = p + l + strspn(p + l, "/");
                char name[NAME_MAX + 1];
                int fd;

                if (l > NAME_MAX || plen + 1 + l >= sizeof(prefix))
                        return -ENAMETOOLONG;
                memcpy(name, p, l);
                name[l] = 0;
                prefix[plen++] = '/';
                memcpy(prefix + plen, p, l);
                plen += l;
                prefix[plen] = 0;

                fd = (int) syscall(SYS_openat2, root_fd, prefix, &how, sizeof(how));
                if (fd < 0 && errno == ENOENT) {
                        if (*next || dir) {
                                if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
                                        return -errno;
                        } else {
                                int f = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
                                if (f < 0 && errno != EEXIST)
                                        return -errno;
                                safe_close(f);
                        }
                        fd = (int) syscall(SYS_openat2, root_fd, prefix, &how, sizeof(how));
                }
                if (fd < 0)
                        return -errno;
                safe_close(parent);
                parent = fd;
                p = next;
        }
        return TAKE_FD(parent);
}

/* Binds a volume into the app: a detached copy of the source's tree
 * (open_tree), made read-only as a whole when asked, then moved onto the
 * target fd, so that no path is resolved again between check and mount.
 * Volumes are nosuid and nodev: a host directory handed to an app must not
 * become a way to gain privileges or reach devices. Private, unless
 * :rslave asks for a slave of the source's peer group (the clone of a
 * slave pin is one): then the host's later mounts below the source arrive
 * with the host's flags, which the kernel gives every propagated mount;
 * no_new_privs (checked at parsing) and the unit's closed device cgroup
 * keep them harmless (stage1/README.md, "Volumes"). :rshared binds the
 * clone open_shared_binds() made in the host's namespace, shared_tree, a
 * peer of the pin and so of the source: its propagation is left as it
 * is, and what the (privileged, checked at parsing) app mounts below the
 * target appears on the host. */
static int bind_volume(int root_fd, const BindSpec *b, int shared_tree) {
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                .propagation = b->propagation == VOLUME_PROPAGATION_RSLAVE ? MS_SLAVE :
                               b->propagation == VOLUME_PROPAGATION_RSHARED ? 0 : MS_PRIVATE,
        };
        _cleanup_close_ int tree = -EBADF, target = -EBADF;
        struct statfs sfs;
        struct stat st;

        if (b->propagation == VOLUME_PROPAGATION_RSHARED)
                tree = fcntl(shared_tree, F_DUPFD_CLOEXEC, 3);
        else
                tree = open_tree(AT_FDCWD, b->source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return log_error_errno(errno, "Failed to open volume source %s: %m", b->source);
        if (fstat(tree, &st) < 0)
                return log_error_errno(errno, "Failed to stat volume source %s: %m", b->source);

        target = open_in_root(root_fd, b->target, S_ISDIR(st.st_mode));
        if (target < 0)
                return log_error_errno(target, "Failed to make mount point %s inside the app: %m", b->target);
        /* Through a symlink of the image, a target could land in the /proc
         * or /sys we mounted, on top of what we masked there. */
        if (fstatfs(target, &sfs) < 0)
                return log_error_errno(errno, "Failed to check mount point %s: %m", b->target);
        if (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC)
                return log_error_errno(EPERM, "Mount point %s is in /proc or /sys, refusing it.", b->target);

        if (b->read_only)
                attr.attr_set |= MOUNT_ATTR_RDONLY;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return log_error_errno(errno, "Failed to set the flags of volume %s: %m", b->source);
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_error_errno(errno, "Failed to mount %s on %s: %m", b->source, b->target);
        return 0;
}

/* An existing path inside the app's root, never created: openat2() with
 * RESOLVE_IN_ROOT from the root's fd, so a symlink the image put anywhere
 * on the way (the last component included), absolute or full of "..",
 * resolves inside the root and never leads out of it; magic links
 * (/proc/PID/root, /proc/PID/fd/N) are refused, and so is the root
 * itself (-ELOOP). -ENOENT when it is not there. */
static int open_existing_in_root(int root_fd, const char *path) {
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        _cleanup_close_ int fd = -EBADF;
        struct stat st, root_st;

        fd = (int) syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
        if (fd < 0)
                return -errno;
        /* A symlink of the image may lead to the root itself ("/" as such
         * is refused earlier): covering or stacking on the root we are
         * about to pivot into is refused, never half done. */
        if (fstat(fd, &st) < 0 || fstat(root_fd, &root_st) < 0)
                return -errno;
        if (st.st_dev == root_st.st_dev && st.st_ino == root_st.st_ino)
                return -ELOOP;
        return TAKE_FD(fd);
}

/* The app's own read-only paths (--readonly-path=, the CRI's
 * readonly_paths): the tree found there cloned with everything below it
 * (open_tree on the fd, no second lookup), made read-only recursively
 * and moved back onto the same fd. Only read-only: nosuid and noexec
 * would change what the app may run from, say, a read-only /usr. A path
 * that does not exist is skipped, as runc does. */
static int protect_path(int root_fd, const char *path) {
        struct mount_attr attr = { .attr_set = MOUNT_ATTR_RDONLY };
        _cleanup_close_ int fd = -EBADF, tree = -EBADF;

        fd = open_existing_in_root(root_fd, path);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return log_error_errno(fd, "Failed to open read-only path %s inside the app: %m", path);
        tree = open_tree(fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH);
        if (tree < 0)
                return log_error_errno(errno, "Failed to clone %s: %m", path);
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return log_error_errno(errno, "Failed to make %s read-only: %m", path);
        if (move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_error_errno(errno, "Failed to mount %s read-only: %m", path);
        return 0;
}

/* The app's own masked paths (--masked-path=, the CRI's masked_paths),
 * as stage1 masks its own set in /proc: a directory covered with an empty
 * read-only tmpfs, anything else with the host's /dev/null, mounted onto
 * the fd found inside the root (never a path looked up again). A path
 * that does not exist is skipped, as runc does. */
static int mask_path(int root_fd, const char *path) {
        _cleanup_close_ int fd = -EBADF;
        char p[FD_PATH_MAX];
        struct stat st;

        fd = open_existing_in_root(root_fd, path);
        if (fd == -ENOENT)
                return 0;
        if (fd < 0)
                return log_error_errno(fd, "Failed to open masked path %s inside the app: %m", path);
        if (fstat(fd, &st) < 0)
                return log_error_errno(errno, "Failed to stat masked path %s: %m", path);
        if (S_ISDIR(st.st_mode) ?
            mount("tmpfs", fd_path(p, fd), "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555") < 0 :
            mount("/dev/null", fd_path(p, fd), NULL, MS_BIND, NULL) < 0)
                return log_error_errno(errno, "Failed to mask %s: %m", path);
        return 0;
}

/* The pod's hosts, resolv.conf and hostname (written by stage0) bound
 * read-only over the app's own. The image's /etc is untrusted: a symlink
 * there is replaced by a file (it is the app's writable layer), never
 * followed, and anything else that is not a regular file is refused. */
static int setup_etc(int root_fd, const char *etc_dir) {
        static const char *const files[] = { "hosts", "resolv.conf", "hostname" };
        _cleanup_close_ int etc_fd = -EBADF;
        char p[FD_PATH_MAX];

        etc_fd = mkdirat_nofollow(root_fd, "etc", 0755);
        if (etc_fd < 0)
                return log_error_errno(etc_fd, "Failed to create /etc (symlinks are refused): %m");
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *src = NULL;
                _cleanup_close_ int fd = -EBADF;
                struct stat st;

                if (asprintf(&src, "%s/%s", etc_dir, files[i]) < 0)
                        return log_oom();
                if (access(src, F_OK) < 0)
                        continue;
                if (fstatat(etc_fd, files[i], &st, AT_SYMLINK_NOFOLLOW) >= 0) {
                        if (S_ISLNK(st.st_mode)) {
                                if (unlinkat(etc_fd, files[i], 0) < 0)
                                        return log_error_errno(errno, "Failed to replace the symlink /etc/%s: %m", files[i]);
                        } else if (!S_ISREG(st.st_mode))
                                return log_error_errno(EEXIST, "/etc/%s in the app is not a regular file.", files[i]);
                } else if (errno != ENOENT)
                        return log_error_errno(errno, "Failed to check /etc/%s: %m", files[i]);
                fd = openat(etc_fd, files[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0 && errno == ENOENT)
                        fd = mkfileat_nofollow(etc_fd, files[i], 0644);
                else if (fd < 0)
                        fd = -errno;
                if (fd < 0)
                        return log_error_errno(fd, "Failed to create /etc/%s: %m", files[i]);
                if (mount(src, fd_path(p, fd), NULL, MS_BIND, NULL) < 0)
                        return log_error_errno(errno, "Failed to bind %s: %m", src);
                fd = safe_close(fd);
                fd = openat(etc_fd, files[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return log_error_errno(errno, "Failed to open /etc/%s: %m", files[i]);
                if (mount(NULL, fd_path(p, fd), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          NULL) < 0)
                        return log_error_errno(errno, "Failed to make /etc/%s read-only: %m", files[i]);
        }
        return 0;
}

static void machine_volumes_done(MachineVolume *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                v[i].tree = safe_close(v[i].tree);
}

/* --machine-root: the app's root (its overlay) and its volumes, nothing
 * else mounted in it, become what machined's copy-to and copy-from see
 * (stage1-machine-root.h). Before the app runs, so nothing in the root
 * moves meanwhile. A failure leaves copy on the pod's infra root, or
 * without that volume, and the app unharmed. */
static void publish_machine_root(const Stage1AppCommand *a, const MachineRoot *machine, int root_fd) {
        MachineVolume volumes[STAGE1_BINDS_MAX];
        _cleanup_close_ int tree = -EBADF;
        size_t n = 0;

        tree = machine_root_clone(a->rootfs, a->readonly_rootfs);
        if (tree < 0) {
                log_warning_errno(tree, "Failed to clone the app's root for machinectl copy: %m");
                return;
        }
        for (size_t i = 0; i < a->n_binds; i++) {
                int fd = machine_volume_clone(root_fd, a->binds[i].target);

                if (fd < 0)
                        log_warning_errno(fd, "Volume %s stays out of machinectl copy: %m", a->binds[i].target);
                else
                        volumes[n++] = (MachineVolume) { .tree = fd, .target = a->binds[i].target };
        }
        (void) machine_root_publish(machine, tree, volumes, n);
        machine_volumes_done(volumes, n);
}

static int setup_root(const Stage1AppCommand *a, const int *shared_trees, const MachineRoot *machine) {
        const char *rootfs = a->rootfs;
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        /* A clone that an earlier run of this app left behind (its helper
         * SIGKILLed) would keep the overlay it was cloned from alive, on
         * the upper directory that we are about to mount again: overlayfs
         * refuses that, or warns of undefined behaviour. */
        if (machine)
                (void) machine_root_publish(machine, -EBADF, NULL, 0);

        /* pivot_root() wants a mount point: the app's overlay, mounted here
         * in our own mount namespace, so that the host's mount table holds
         * nothing per app (PID 1 and every unit's executor read all of it
         * at every mount event). */
        r = stage1_app_mount_root(a);
        if (r < 0)
                return r;
        root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", rootfs);

        r = a->privileged ? setup_privileged(root_fd) : setup_isolated(root_fd, a);
        if (r < 0)
                return r;
        if (a->etc_dir) {
                r = setup_etc(root_fd, a->etc_dir);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < a->n_binds; i++) {
                r = bind_volume(root_fd, &a->binds[i], shared_trees[i]);
                if (r < 0)
                        return r;
        }
        /* After everything else is mounted, as runc does: a masked or
         * read-only path applies to a volume, /proc or /dev too. Read-only
         * first, so that a mask below a read-only path stays in place. */
        FOREACH_STRV(path, a->readonly_paths) {
                r = protect_path(root_fd, path);
                if (r < 0)
                        return r;
        }
        FOREACH_STRV(path, a->masked_paths) {
                r = mask_path(root_fd, path);
                if (r < 0)
                        return r;
        }
        if (machine)
                publish_machine_root(a, machine, root_fd);

        /* Only the root's own mount: /dev, /proc, the volumes keep theirs. */
        if (a->readonly_rootfs &&
            mount_setattr(root_fd, "", AT_EMPTY_PATH, &(struct mount_attr) { .attr_set = MOUNT_ATTR_RDONLY },
                          sizeof(struct mount_attr)) < 0)
                return log_error_errno(errno, "Failed to make the app's root read-only: %m");

        /* Detach the host's tree, so that nothing in the app's namespace
         * leads back to it. */
        if (fchdir(root_fd) < 0 ||
            syscall(SYS_pivot_root, ".", ".") < 0 ||
            umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0)
                return log_error_errno(errno, "Failed to pivot into %s: %m", rootfs);
        return 0;
}

static int enter_workdir(const char *workdir) {
        int r;

        if (chdir(workdir) >= 0)
                return 0;
        if (errno != ENOENT)
                return log_error_errno(errno, "Failed to enter working directory %s: %m", workdir);

        /* Like docker, make a missing WORKDIR. Safe only because we are
         * inside the app's root now: symlinks resolve within it. */
        r = mkdir_p(workdir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create working directory %s: %m", workdir);
        if (chdir(workdir) < 0)
                return log_error_errno(errno, "Failed to enter working directory %s: %m", workdir);
        return 0;
}

static bool env_has_home(char * const *env) {
        if (env)
                for (char * const *e = env; *e; e++)
                        if (strneq(*e, "HOME=", 5))
                                return true;
        return false;
}

static void reset_signals(void) {
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

static _noreturn_ void child_main(const Stage1AppCommand *a, const int *shared_trees, MachineRoot *machine,
                                  int out_fd, int err_fd, int keep_fd, const Stage1SeccompProgram *seccomp) {
        _cleanup_(credentials_done) Credentials creds = {};
        _cleanup_close_ int saved_stderr = -EBADF;
        int r;

        /* Should the helper die (systemd kills with SIGKILL), the app must
         * not linger. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        if (setup_root(a, shared_trees, machine) < 0 || enter_workdir(a->workdir ?: "/") < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        /* PID 1's namespace and root are the helper's business. */
        if (machine)
                machine_root_done(machine);
        /* From here on our complaints appear on the app's terminal. */
        if (a->tty && stage1_pty_for_app(keep_fd) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        if (stage1_security_resolve(&a->sec, &creds) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        /* The app's terminal is the app's, as login makes it. */
        if (a->tty && fchown(STDIN_FILENO, creds.uid, (gid_t) -1) < 0)
                log_warning_errno(errno, "Failed to give the terminal to uid %u: %m", (unsigned) creds.uid);

        if (clearenv() != 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        FOREACH_STRV(e, a->env)
                if (putenv(e) != 0) {
                        log_oom();
                        _exit(STAGE1_APP_EXIT_SETUP);
                }
        if (!env_has_path(a->env) && setenv("PATH", STAGE1_DEFAULT_PATH, 1) < 0) {
                log_oom();
                _exit(STAGE1_APP_EXIT_SETUP);
        }
        if (creds.home && !env_has_home(a->env) && setenv("HOME", creds.home, 1) < 0) {
                log_oom();
                _exit(STAGE1_APP_EXIT_SETUP);
        }

        /* Whatever we hold or inherited stays on this side of exec. */
        stage1_cloexec_all();

        /* Last of the privileged steps: everything above needed root.
         * Ids, capabilities, no_new_privs and the seccomp filter, in the
         * one function that peapod-stage1-exec uses too. */
        if (stage1_security_apply(&a->sec, &creds, seccomp) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);

        /* Our own complaints go to the unit's stream (with --tty: the
         * app's terminal), not the app's streams. */
        saved_stderr = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved_stderr < 0 ||
            (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) ||
            (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0)) {
                log_error_errno(errno, "Failed to set up the app's stdout/stderr: %m");
                _exit(STAGE1_APP_EXIT_SETUP);
        }

        reset_signals();
        execvpe(a->cmd[0], a->cmd, environ);
        r = -errno;

        (void) dup2(saved_stderr, STDERR_FILENO);
        if (exec_errno_to_exit_status(r) == STAGE1_APP_EXIT_NOT_FOUND)
                log_error_errno(r, "Command %s not found: %m", a->cmd[0]);
        else
                log_error_errno(r, "Command %s is not executable: %m", a->cmd[0]);
        _exit(exec_errno_to_exit_status(r));
}

static void close_shared_trees(int (*trees)[STAGE1_BINDS_MAX]) {
        for (size_t i = 0; i < STAGE1_BINDS_MAX; i++)
                (*trees)[i] = safe_close((*trees)[i]);
}

/* The clones of the :rshared binds' sources, made in the host's mount
 * namespace (PID 1's), where the pin is a peer of the source's mount: a
 * clone of a shared mount joins its peer group, and a detached tree
 * moves into any namespace. Not in own_mount_namespace()'s, nor in one
 * systemd may have given the unit (for settings stage0 does not set
 * today): a slave of the host's, where a clone would be a slave with a
 * peer group of its own, and nothing the app mounts would reach the
 * host. When the unit's is not the host's, we enter the host's for the
 * clones only and come back. */
static int open_shared_binds(const Stage1AppCommand *a, int (*trees)[STAGE1_BINDS_MAX]) {
        _cleanup_close_ int own = -EBADF, host = -EBADF;
        struct stat own_st, host_st;
        bool any = false;
        int r = 0;

        for (size_t i = 0; i < a->n_binds; i++)
                any = any || a->binds[i].propagation == VOLUME_PROPAGATION_RSHARED;
        if (!any)
                return 0;
        own = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
        host = open("/proc/1/ns/mnt", O_RDONLY | O_CLOEXEC);
        if (own < 0 || host < 0 || fstat(own, &own_st) < 0 || fstat(host, &host_st) < 0)
                return log_error_errno(errno, "Failed to open the host's mount namespace: %m");
        if (own_st.st_ino != host_st.st_ino && setns(host, CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Failed to enter the host's mount namespace: %m");
        for (size_t i = 0; i < a->n_binds && r >= 0; i++) {
                if (a->binds[i].propagation != VOLUME_PROPAGATION_RSHARED)
                        continue;
                (*trees)[i] = open_tree(AT_FDCWD, a->binds[i].source,
                                        OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
                if ((*trees)[i] < 0)
                        r = log_error_errno(errno, "Failed to open volume source %s: %m", a->binds[i].source);
        }
        if (own_st.st_ino != host_st.st_ino && setns(own, CLONE_NEWNS) < 0)
                return log_error_errno(errno, "Failed to return to our mount namespace: %m");
        return r;
}

/* Slave, not private: unmounts on the host still reach this copy (a
 * volume's pin at the pod's end), while nothing we mount, the app's
 * overlay first, leaks back. */
static int own_mount_namespace(void) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return log_error_errno(errno, "Failed to make a mount namespace: %m");
        return 0;
}

/* The child that becomes the app, forked into the pod; keep[1] is its.
 * Its seccomp program is made first, here: in our copy of the host's
 * mount namespace, where the helpers' cache of programs is (it saves
 * libseccomp's ~3 ms in most starts), which the child, in the app's root,
 * no longer sees. Returns its pid, or -errno. */
static pid_t fork_app(const Stage1AppCommand *a, const int *shared_trees, MachineRoot *machine, int out_fd, int err_fd,
                      int keep[2]) {
        _cleanup_(stage1_seccomp_program_done) Stage1SeccompProgram seccomp = {};
        pid_t child;
        int r;

        r = stage1_seccomp_program_cached(STAGE1_SECCOMP_CACHE_DIR, &a->sec.seccomp, stage1_security_filter_caps(&a->sec),
                                          &seccomp);
        if (r < 0)
                return r;
        child = fork();
        if (child < 0)
                return log_error_errno(errno, "Failed to fork into the pod: %m");
        if (child == 0) {
                keep[0] = safe_close(keep[0]);
                /* The terminal is the app's stdio; the pipes are for the rest. */
                child_main(a, shared_trees, machine, a->tty ? -EBADF : out_fd, a->tty ? -EBADF : err_fd, keep[1],
                           &seccomp);
        }
        keep[1] = safe_close(keep[1]);
        return child;
}

static int run(int argc, char *argv[]) {
        _cleanup_(stage1_app_command_done) Stage1AppCommand args = {};
        _cleanup_(pod_done) Pod pod = { .ns_fd = { -EBADF, -EBADF, -EBADF, -EBADF } };
        _cleanup_(machine_root_done) MachineRoot machine = MACHINE_ROOT_NULL;
        _cleanup_(stage1_app_output_done) Stage1AppOutput output = STAGE1_APP_OUTPUT_NULL;
        _cleanup_close_pair_ int keep[2] = { -EBADF, -EBADF };
        _cleanup_(close_shared_trees) int shared_trees[STAGE1_BINDS_MAX] = { [0 ... STAGE1_BINDS_MAX - 1] = -EBADF };
        sigset_t mask;
        pid_t child;
        int r, status = 0;

        /* Kept: a restart of the unit reads the same file. */
        if (stage1_args_file_load(&argc, &argv, /* unlink_after= */ false) < 0)
                return STAGE1_APP_EXIT_SETUP;
        r = stage1_app_command_parse(argc, argv, &args);
        if (r < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (r > 0)
                return EXIT_SUCCESS;
        /* "Every capability" is every one this helper has: the host's
         * bounding set may lack some (a container host's), and capset()
         * cannot raise what we do not hold. */
        if (args.privileged)
                args.sec.caps &= stage1_bounding_set();

        /* With --tty the app writes to its terminal, which the caller
         * relays; with --tty-log we copy it to the journal too. First, so
         * that what goes wrong with the pod reads as the app's stderr. */
        if (stage1_app_output_open(args.log_namespace, args.app_name ?: args.app_id, !args.tty || args.tty_log,
                                   args.tty_log, &output) < 0)
                return STAGE1_APP_EXIT_SETUP;

        if (pod_open(args.leader, args.scope, &pod, args.machine_root ? &machine : NULL) < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (args.tty_log && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, keep) < 0) {
                log_error_errno(errno, "Failed to make a socket pair: %m");
                return STAGE1_APP_EXIT_SETUP;
        }

        if (pod_join(&pod, args.private_pid_ns, args.private_ipc_ns) < 0)
                return STAGE1_APP_EXIT_SETUP;
        stage1_children_in_pod();
        pod_done(&pod);

        if (open_shared_binds(&args, &shared_trees) < 0 || own_mount_namespace() < 0)
                return STAGE1_APP_EXIT_SETUP;
        stage1_block_signals(forwarded_signals, ELEMENTSOF(forwarded_signals), &mask);

        child = fork_app(&args, shared_trees, args.machine_root ? &machine : NULL, output.app_out, output.app_err, keep);
        if (child < 0)
                return STAGE1_APP_EXIT_SETUP;

        /* The app holds its ends of the pipes now; ours would keep them
         * open after it is gone. */
        output.app_out = safe_close(output.app_out);
        output.app_err = safe_close(output.app_err);

        r = stage1_wait_child_output(child, &mask, output.relay, args.tty_log ? keep[0] : -EBADF, &status);
        /* The app is gone: so is what copy-to and copy-from see of it,
         * before a restart mounts its overlay again. We leave our own
         * mount namespace for PID 1's to do it, on our way out. If we are
         * SIGKILLed instead, the next start of the app withdraws it. */
        if (args.machine_root)
                (void) machine_root_swap(&machine, -EBADF, NULL, 0);
        return r < 0 ? STAGE1_APP_EXIT_SETUP : stage1_mirror_status(status);
}

int main(int argc, char *argv[]) {
        log_set_program(program_invocation_short_name);
        /* Our child is in the pod from fork() until it execs the app. */
        return stage1_helper_main(argc, argv, run, STAGE1_APP_EXIT_SETUP);
}
