/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "app-security.h"
#include "bus-util.h"
#include "fs-util.h"
#include "name.h"
#include "pod-gc.h"
#include "pod-app.h"
#include "string-util.h"
#include "systemd.h"
#include "time-util.h"

/* systemd collects an unreferenced inactive unit on its next loop turn,
 * after our UnrefUnit returned: a new unit of the same name may meet the
 * old one for a moment. */
#define APP_UNIT_EXISTS_RETRIES 20
#define APP_UNIT_EXISTS_WAIT_USEC (50 * 1000)

App *pod_find_app_by_key(Pod *p, const char *key) {
        App *a;

        if (isempty(key))
                return NULL;
        a = pod_find_app(p, key);
        if (a)
                return a;
        for (size_t i = 0; i < p->n_apps; i++)
                if (streq(p->apps[i].id, key))
                        return &p->apps[i];
        return NULL;
}

/* Drops the app's own volumes from the pod, unmounting them first. */
static void pod_drop_app_volumes(PodRuntime *rt, Pod *p, const char *app_id) {
        size_t k = 0;

        for (size_t i = 0; i < p->n_volumes; i++) {
                if (streq_ptr(p->volumes[i].owner, app_id)) {
                        pod_volume_teardown(rt, p, &p->volumes[i]);
                        volume_done(&p->volumes[i]);
                        continue;
                }
                p->volumes[k++] = p->volumes[i];
        }
        p->n_volumes = k;
}

/* The app's own volumes, checked as the pod's are, with unique names
 * among the pod's; into *ret (p->volumes and them, shallow) for the
 * mounts' check. */
static int app_volumes_check(const Pod *p, const AppSpec *spec, Volume **ret, PeapodError *err) {
        Volume *all;
        int r;

        if (p->n_volumes + spec->n_volumes > POD_VOLUMES_MAX)
                return peapod_error_set(err, -E2BIG, "Too many volumes in pod %s (at most %d)", p->name, POD_VOLUMES_MAX);
        for (size_t i = 0; i < spec->n_volumes; i++) {
                const Volume *v = &spec->volumes[i];

                /* Only host volumes: an empty or tmpfs volume of one app is
                 * what its own rootfs is for. */
                if (v->kind != VOLUME_HOST)
                        return peapod_error_set(err, -EINVAL, "Volume %s: an app's own volumes are host volumes", v->name);
                r = volume_validate(v, err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < p->n_volumes; k++)
                        if (streq(p->volumes[k].name, v->name))
                                return peapod_error_set(err, -EEXIST, "Pod %s has a volume named %s already", p->name, v->name);
                for (size_t k = 0; k < i; k++)
                        if (streq(spec->volumes[k].name, v->name))
                                return peapod_error_set(err, -EINVAL, "Duplicate volume name '%s'", v->name);
        }
        all = calloc(p->n_volumes + spec->n_volumes ?: 1, sizeof(Volume));
        if (!all)
                return -ENOMEM;
        /* (memcpy() wants pointers even for 0 bytes: a pod or spec without volumes has none.) */
        if (p->n_volumes > 0)
                memcpy(all, p->volumes, p->n_volumes * sizeof(Volume));
        if (spec->n_volumes > 0)
                memcpy(all + p->n_volumes, spec->volumes, spec->n_volumes * sizeof(Volume));
        *ret = all;
        return 0;
}

/* Copies the app's own volumes into the pod, owned by a; in a running pod
 * they are set up at once (a stopped pod sets them up at its start). */
static int pod_add_app_volumes(PodRuntime *rt, Pod *p, const App *a, const AppSpec *spec, PeapodError *err) {
        Volume *n;
        int r;

        if (spec->n_volumes == 0)
                return 0;
        n = reallocarray(p->volumes, p->n_volumes + spec->n_volumes, sizeof(Volume));
        if (!n)
                return -ENOMEM;
        p->volumes = n;
        for (size_t i = 0; i < spec->n_volumes; i++) {
                const Volume *v = &spec->volumes[i];
                Volume *c = &p->volumes[p->n_volumes];

                *c = (Volume) { .kind = v->kind, .read_only = v->read_only, .size = v->size, .propagation = v->propagation };
                c->name = strdup(v->name);
                c->source = v->source ? strdup(v->source) : NULL;
                c->owner = strdup(a->id);
                p->n_volumes++;
                if (!c->name || (v->source && !c->source) || !c->owner) {
                        pod_drop_app_volumes(rt, p, a->id);
                        return -ENOMEM;
                }
                if (p->state == POD_RUNNING) {
                        r = pod_volume_setup(rt, p, c, err);
                        if (r < 0) {
                                pod_drop_app_volumes(rt, p, a->id);
                                return r;
                        }
                }
        }
        return 0;
}

int pod_app_add_check(const Pod *p, bool start, PeapodError *err) {
        if (start && p->state != POD_RUNNING)
                return peapod_error_set(err, -EALREADY, "Pod %s is %s; only apps of running pods can be started", p->name,
                                        pod_state_to_string(p->state));
        if (p->state != POD_CREATED && p->state != POD_RUNNING)
                return peapod_error_set(err, -EALREADY, "Pod %s is %s; apps are added to created or running pods", p->name,
                                        pod_state_to_string(p->state));
        return 0;
}

int pod_app_add(PodRuntime *rt, Pod *p, const AppSpec *spec, const char *image_store, App **ret, PeapodError *err) {
        _cleanup_(pod_freep) Pod *tmp = NULL;
        _cleanup_free_ Volume *volumes = NULL;
        App *n, *a;
        int r;

        r = pod_app_add_check(p, false, err);
        if (r < 0)
                return r;
        if (p->n_apps >= POD_APPS_MAX)
                return peapod_error_set(err, -E2BIG, "Pod %s has %d apps already, the most a pod may have", p->name,
                                        POD_APPS_MAX);
        if (!isempty(spec->name) && pod_find_app(p, spec->name))
                return peapod_error_set(err, -EEXIST, "Pod %s has an app named %s already", p->name, spec->name);

        /* The very code that builds the apps of a new pod, so that an app
         * added later is validated and resolved exactly like the first. */
        r = pod_new(NULL, spec, 1, image_store, &tmp, err);
        if (r < 0)
                return r;
        r = app_volumes_check(p, spec, &volumes, err);
        if (r < 0)
                return r;
        r = app_check_mounts(&tmp->apps[0], volumes, p->n_volumes + spec->n_volumes, err);
        if (r < 0)
                return r;
        r = app_check_stage1(rt, p, &tmp->apps[0], err);
        if (r < 0)
                return r;
        r = pod_check_annotations(p, tmp->apps[0].annotations, err);
        if (r < 0)
                return r;

        n = reallocarray(p->apps, p->n_apps + 1, sizeof(App));
        if (!n)
                return -ENOMEM;
        p->apps = n;
        a = &p->apps[p->n_apps];
        *a = tmp->apps[0];
        tmp->n_apps = 0;  /* moved */
        p->n_apps++;

        if (isempty(spec->name)) {
                _cleanup_free_ char *base = TAKE_PTR(a->name);

                a->name = strdup(base);
                for (unsigned k = 2; a->name && pod_find_app_by_key(p, a->name) != a; k++) {
                        free(a->name);
                        if (asprintf(&a->name, "%.58s-%u", base, k) < 0)
                                a->name = NULL;
                }
                if (!a->name) {
                        p->n_apps--;
                        app_done(a);
                        return -ENOMEM;
                }
        }

        r = pod_add_app_volumes(rt, p, a, spec, err);
        if (r < 0) {
                p->n_apps--;
                app_done(a);
                return r;
        }
        r = pod_runtime_save(rt, p);
        if (r < 0) {
                pod_drop_app_volumes(rt, p, a->id);
                p->n_apps--;
                app_done(a);
                return peapod_error_set(err, r, "Failed to save pod %s: %s", p->name, strerror(-r));
        }
        if (ret)
                *ret = a;
        return 0;
}

/* A unit of an earlier run of this app may still be loaded: stopped (it
 * stays "active (exited)" with RemainAfterExit), released, reset. */
static void app_release_unit(PodRuntime *rt, const Pod *p, const App *a) {
        _cleanup_free_ char *unit = NULL;

        if (app_unit_name(p->name, a->name, &unit) < 0)
                return;
        (void) systemd_stop_unit(rt->bus, unit, NULL);
        (void) systemd_reset_failed_unit(rt->bus, unit);
}

int pod_app_start_prepare(PodRuntime *rt, Pod *p, App *a, PeapodError *err) {
        int r;

        if (p->state != POD_RUNNING)
                return peapod_error_set(err, -EALREADY, "Pod %s is %s; apps are started in running pods", p->name,
                                        pod_state_to_string(p->state));
        if (a->state == APP_RUNNING)
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is running already", a->name, p->name);
        r = app_prepare_rootfs(rt, p, a);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to prepare the root of app %s: %s", a->name, strerror(-r));
        return 0;
}

int pod_app_start_finish(PodRuntime *rt, Pod *p, App *a, PeapodError *err) {
        int r;

        app_mark_started(a);
        r = pod_runtime_save(rt, p);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to save pod %s: %s", p->name, strerror(-r));
        return 0;
}

int pod_app_start(PodRuntime *rt, Pod *p, App *a, PeapodError *err) {
        _cleanup_free_ char *slice = NULL, *scope = NULL;
        int r;

        r = pod_app_start_prepare(rt, p, a, err);
        if (r < 0)
                return r;
        r = pod_unit_names(p, &slice, &scope);
        if (r < 0)
                return r;
        app_release_unit(rt, p, a);

        for (unsigned i = 0;; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                _cleanup_free_ char *unit = NULL;
                PeapodError e = {};

                r = app_unit_name(p->name, a->name, &unit);
                if (r >= 0)
                        r = app_unit_message(rt, rt->bus, p, a, slice, scope, NULL, &m, &e);
                if (r >= 0)
                        r = systemd_start_transient_unit(rt->bus, m, unit, &e);
                if (r >= 0)
                        break;
                if (r != -EEXIST || i >= APP_UNIT_EXISTS_RETRIES) {
                        *err = e;
                        app_release_unit(rt, p, a);
                        return r;
                }
                (void) usleep(APP_UNIT_EXISTS_WAIT_USEC);
        }
        return pod_app_start_finish(rt, p, a, err);
}

int pod_app_stop_prepare(const Pod *p, const App *a, char **ret_unit, PeapodError *err) {
        if (p->state != POD_RUNNING || a->state != APP_RUNNING)
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is not running", a->name, p->name);
        return app_unit_name(p->name, a->name, ret_unit);
}

int pod_app_stop_finish(PodRuntime *rt, Pod *p, App *a) {
        /* systemd sends the unit's last PropertiesChanged, which says how
         * the app ended (noted with pod_note_unit_signal()), before the stop
         * job's JobRemoved: nothing to ask. One that no signal told of is
         * recorded exited, how unknown. */
        if (a->state != APP_EXITED) {
                a->state = APP_EXITED;
                a->exited_usec = now_usec(CLOCK_REALTIME);
        }
        return pod_runtime_save(rt, p);
}

int pod_app_stop(PodRuntime *rt, Pod *p, App *a) {
        _cleanup_free_ char *unit = NULL;
        int r;

        r = pod_app_stop_prepare(p, a, &unit, NULL);
        if (r < 0)
                return r;
        r = pod_stop_units(rt, p, unit);
        if (r < 0)
                return r;
        return pod_app_stop_finish(rt, p, a);
}

int pod_app_remove(PodRuntime *rt, Pod *p, App *a, bool force, char **ret_unit, char **ret_gone, PeapodError *err) {
        _cleanup_free_ char *dir = NULL, *gone = NULL, *unit = NULL;
        char gone_id[POD_ID_LEN + 1];
        size_t i = (size_t) (a - p->apps);
        int r;

        if (a->state == APP_RUNNING) {
                if (!force)
                        return peapod_error_set(err, -EBUSY,
                                                "App %s of pod %s is running; stop it first or force the removal", a->name,
                                                p->name);
                r = pod_app_stop(rt, p, a);
                if (r < 0)
                        return r;
        }
        if (p->state == POD_PREPARING)
                return peapod_error_set(err, -EALREADY, "Pod %s is starting", p->name);

        if (ret_unit) {
                r = app_unit_name(p->name, a->name, &unit);
                if (r < 0)
                        return r;
        } else
                app_release_unit(rt, p, a);
        app_umount_rootfs(rt, p, a);
        r = app_dir(rt, p, a, NULL, &dir);
        if (r < 0)
                return r;
        /* Renamed away in one step, deleted by the caller when it likes
         * (an app's writable layer can take seconds): a ".removing-<id>"
         * directory of the state dir's pods, which is no pod and which the
         * next start of peapodd deletes if the caller never got to it. */
        r = id_generate(gone_id);
        if (r < 0)
                return r;
        r = pod_removing_path(rt->state_dir, gone_id, &gone);
        if (r < 0)
                return r;
        if (rename(dir, gone) < 0) {
                if (errno != ENOENT)
                        return -errno;
                gone = mfree(gone);
        }
        {
                _cleanup_free_ char *sub = NULL, *run = NULL;

                if (asprintf(&sub, "apps/%s", a->name) < 0 || pod_run_dir(rt, p, sub, &run) < 0)
                        return -ENOMEM;
                r = rm_rf(run);
                if (r < 0)
                        return r;
        }

        pod_drop_app_volumes(rt, p, a->id);
        app_done(a);
        memmove(p->apps + i, p->apps + i + 1, sizeof(App) * (p->n_apps - i - 1));
        p->n_apps--;
        r = pod_runtime_save(rt, p);
        if (r < 0)
                return r;
        if (ret_unit)
                *ret_unit = TAKE_PTR(unit);
        if (ret_gone)
                *ret_gone = TAKE_PTR(gone);
        else if (gone)
                (void) rm_rf(gone);
        return 0;
}

int pod_app_main_pid(PodRuntime *rt, const Pod *p, const App *a, pid_t *ret) {
        _cleanup_free_ char *unit = NULL;
        UnitStatus s = {};
        pid_t helper;
        int r;

        if (p->state != POD_RUNNING || a->state != APP_RUNNING)
                return -ESRCH;
        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        r = systemd_get_unit_status(rt->bus, unit, &s);
        if (r < 0)
                return r;
        helper = (pid_t) s.exec_main_pid;
        unit_status_done(&s);
        return app_main_pid_of_helper(helper, ret);
}

static int same_executable(pid_t a, pid_t b) {
        char pa[64], pb[64];
        struct stat sa, sb;

        snprintf(pa, sizeof(pa), "/proc/%d/exe", (int) a);
        snprintf(pb, sizeof(pb), "/proc/%d/exe", (int) b);
        if (stat(pa, &sa) < 0 || stat(pb, &sb) < 0)
                return errno == ENOENT ? -ESRCH : -errno;
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int app_main_pid_of_helper(pid_t helper, pid_t *ret) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        int child, r;

        if (helper <= 0)
                return -ESRCH;
        /* The helper forks the app once and only once, then waits: its one
         * child is the app's main process. */
        if (asprintf(&path, "/proc/%d/task/%d/children", (int) helper, (int) helper) < 0)
                return -ENOMEM;
        r = read_file(path, 4096, &text, NULL);
        if (r < 0)
                return r == -ENOENT ? -ESRCH : r;
        if (sscanf(text, "%d", &child) != 1 || child <= 1)
                return -ESRCH;
        /* Forked but not yet the app: the same executable as the helper
         * (its sealed copy). A command joined to it now would find the
         * pod's infra root, not the app's. */
        r = same_executable(helper, child);
        if (r < 0)
                return r;
        if (r > 0)
                return -EAGAIN;
        *ret = child;
        return 0;
}

/* The signals peapod-stage1-app passes on to the app (stage1/README.md):
 * those go to the unit's main process, the helper; any other would act on
 * the helper itself, so it goes to every process of the unit. */
static bool stage1_forwards_signal(int signal) {
        static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

        for (size_t i = 0; i < ELEMENTSOF(forwarded); i++)
                if (forwarded[i] == signal)
                        return true;
        return false;
}

int pod_signal_check(int signal, PeapodError *err) {
        if (signal < 1 || signal > 64)
                return peapod_error_set(err, -EINVAL, "Invalid signal %d", signal);
        return 0;
}

int pod_app_kill_check(const Pod *p, const App *a, int signal, PeapodError *err) {
        int r;

        r = pod_signal_check(signal, err);
        if (r < 0)
                return r;
        if (p->state != POD_RUNNING)
                return peapod_error_set(err, -EALREADY, "Pod %s is not running", p->name);
        if (a && a->state != APP_RUNNING)
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is not running", a->name, p->name);
        return 0;
}

int pod_app_kill_message(sd_bus *bus, const Pod *p, const App *a, int signal, sd_bus_message **ret) {
        _cleanup_free_ char *unit = NULL;
        int r;

        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        return systemd_kill_unit_message(bus, unit, stage1_forwards_signal(signal) ? "main" : "all", signal, ret);
}

/* systemd's "no limit" for each property: a lifted limit must be reset on
 * the unit, not left at its old value. */
static int append_limits(sd_bus_message *m, const AppLimits *l) {
        int r;

        if ((r = bus_append_property_t(m, "CPUQuotaPerSecUSec", l->cpu_quota_usec ?: UINT64_MAX)) < 0 ||
            (r = bus_append_property_t(m, "CPUWeight", l->cpu_shares ? cpu_shares_to_weight(l->cpu_shares) : UINT64_MAX)) < 0 ||
            (r = bus_append_property_t(m, "MemoryMax", l->memory_max ?: UINT64_MAX)) < 0 ||
            (r = bus_append_property_t(m, "TasksMax", l->tasks_max ?: UINT64_MAX)) < 0)
                return r;
        return 0;
}

int pod_app_attach_check(const Pod *p, const App *a, PeapodError *err) {
        if (!a->stdin_open && !a->tty)
                return peapod_error_set(err, -EALREADY, "App %s of pod %s was created without Stdin or Tty", a->name,
                                        p->name);
        if (p->state != POD_RUNNING || a->state != APP_RUNNING)
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is not running", a->name, p->name);
        return 0;
}

int pod_app_limits_check(const Pod *p, const AppLimits *l, PeapodError *err) {
        if (p->state == POD_EXITED)
                return peapod_error_set(err, -EALREADY, "Pod %s has exited", p->name);
        return app_limits_validate(l->cpu_quota_usec, l->cpu_shares, l->memory_max, l->tasks_max, err);
}

int pod_app_limits_message(sd_bus *bus, const Pod *p, const App *a, const AppLimits *l, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *unit = NULL;
        int r;

        if (p->state != POD_RUNNING || a->state != APP_RUNNING) {
                *ret = NULL;
                return 0;
        }
        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "SetUnitProperties");
        if (r >= 0)
                /* runtime: the unit is transient, nothing of it outlives a reboot anyway */
                r = sd_bus_message_append(m, "sb", unit, 1);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = append_limits(m, l);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 1;
}

int pod_app_limits_record(PodRuntime *rt, Pod *p, App *a, const AppLimits *l, PeapodError *err) {
        AppLimits old = { a->cpu_quota_usec, a->cpu_shares, a->memory_max, a->tasks_max };
        int r;

        a->cpu_quota_usec = l->cpu_quota_usec;
        a->cpu_shares = l->cpu_shares;
        a->memory_max = l->memory_max;
        a->tasks_max = l->tasks_max;
        r = pod_runtime_save(rt, p);
        if (r < 0) {
                a->cpu_quota_usec = old.cpu_quota_usec;
                a->cpu_shares = old.cpu_shares;
                a->memory_max = old.memory_max;
                a->tasks_max = old.tasks_max;
                return peapod_error_set(err, r, "Failed to record the limits of app %s: %s", a->name, strerror(-r));
        }
        return 0;
}
