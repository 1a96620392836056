/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Apps in a pod over D-Bus: the app methods of org.peapod1.Pod (AddApp,
 * StartApp, StopApp, RemoveApp, Kill, GetApp, Exec, SetAppResources,
 * KillExec), each a face on the core (pod-app.c, pod-exec.c and
 * daemon-app-core.c): read, authorize, one call, its -errno named. */
#include "daemon-app.h"
#include "daemon.h"
#include "log.h"
#include "pod-app.h"
#include "string-util.h"
#include "strv.h"
#include "systemd.h"

static Daemon *daemon_of(sd_bus_message *m) {
        return sd_bus_slot_get_userdata(sd_bus_get_current_slot(sd_bus_message_get_bus(m)));
}

static int bus_read_app(sd_bus_message *m, Pod *p, App **ret, sd_bus_error *error) {
        const char *key;
        App *a;
        int r;

        r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
                return r;
        a = pod_find_app_by_key(p, key);
        if (!a)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_APP, "Pod %s has no app %s", p->name, key);
        *ret = a;
        return 0;
}

/* The start of a Pod method that changes one app: the caller may manage
 * pods (polkit), the pod is not being stopped, and the app named first in
 * the message exists. 0 when polkit will dispatch the call again. */
static int bus_app_call_begin(Daemon *d, Pod *p, sd_bus_message *m, App **ret, sd_bus_error *error) {
        PeapodError perr = {};
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r <= 0)
                return r;
        r = daemon_pod_check_idle(d, p, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to change an app");
        r = bus_read_app(m, p, ret, error);
        if (r < 0)
                return r;
        return 1;
}

int bus_pod_method_add_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(app_spec_done) AppSpec spec = {};
        _cleanup_free_ char *name = NULL;
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        uint64_t flags;
        App *a;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = daemon_pod_check_idle(d, p, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to add app");
        r = bus_read_named_app_spec(m, &spec, error);
        if (r < 0)
                return r;
        r = bus_verify_privileged(d, m, spec.privileged, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_ADD_APP_START)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = pod_app_add_check(p, flags & PEAPOD_ADD_APP_START, &perr);
        if (r >= 0)
                r = pod_app_add(&d->runtime, p, &spec, d->images_dir, &a, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to add app");
        name = strdup(a->name);
        if (!name)
                return -ENOMEM;
        log_info("Added app %s to pod %s.", a->name, p->name);

        if (flags & PEAPOD_ADD_APP_START) {
                /* Answered with the name and id once the app has started. */
                r = daemon_app_start(d, p, a, m, true, &perr);
                if (r < 0) {
                        log_warning_errno(r, "Failed to start app %s of pod %s: %s", name, p->name,
                                          perr.message[0] ? perr.message : strerror(-r));
                        return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to start app");
                }
                return 1;
        }
        return sd_bus_reply_method_return(m, "ss", a->name, a->id);
}

int bus_pod_method_start_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        App *a;
        int r;

        r = bus_app_call_begin(d, p, m, &a, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: dispatched again with polkit's answer */
        r = daemon_app_start(d, p, a, m, false, &perr);
        if (r < 0) {
                log_warning_errno(r, "Failed to start app %s of pod %s: %s", a->name, p->name,
                                  perr.message[0] ? perr.message : strerror(-r));
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to start app");
        }
        return 1; /* answered when the app has started */
}

int bus_pod_method_stop_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        App *a;
        int r;

        r = bus_app_call_begin(d, p, m, &a, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: dispatched again with polkit's answer */
        r = daemon_app_stop(d, p, a, m, false, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_STATE, r, perr.message, "Failed to stop app %s of pod %s",
                                            a->name, p->name);
        return 1; /* answered when the app has stopped */
}

int bus_pod_method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        const char *key;
        App *a = NULL;
        int32_t signal;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "si", &key, &signal);
        if (r < 0)
                return r;
        if (!isempty(key)) {
                a = pod_find_app_by_key(p, key);
                if (!a)
                        return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_APP, "Pod %s has no app %s", p->name, key);
        }
        r = daemon_app_kill(d, p, a, signal, m, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_STATE, r, perr.message,
                                            "Failed to send signal %" PRIi32 " to pod %s", signal, p->name);
        return 1; /* answered when systemd has sent it */
}

int bus_pod_method_remove_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        uint64_t flags;
        App *a;
        int r;

        r = bus_app_call_begin(d, p, m, &a, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_REMOVE_APP_FORCE)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = daemon_app_remove(d, p, a, m, flags & PEAPOD_REMOVE_APP_FORCE, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to remove app");
        if (r > 0)
                return 1; /* answered once stopped and removed */
        return sd_bus_reply_method_return(m, NULL);
}

static int append_entry(sd_bus_message *reply, const char *key, const char *type, ...) {
        va_list ap;
        int r;

        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r < 0)
                return r;
        r = sd_bus_message_append(reply, "s", key);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'v', type);
        if (r < 0)
                return r;
        va_start(ap, type);
        r = sd_bus_message_appendv(reply, type, ap);
        va_end(ap);
        if (r < 0)
                return r;
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static void bus_message_unref_void(void *m) {
        sd_bus_message_unref(m);
}

/* GetApp's answer for call m: a as it is, with pid its main process (0: none). */
static int bus_reply_app(sd_bus_message *m, const Pod *p, const App *a, pid_t pid) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *unit = NULL;
        int r;

        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        if ((r = append_entry(reply, "Name", "s", a->name)) < 0 || (r = append_entry(reply, "Id", "s", a->id)) < 0 ||
            (r = append_entry(reply, "Image", "s", a->image)) < 0 ||
            (r = append_entry(reply, "ImageId", "s", strempty(a->image_id))) < 0 ||
            (r = append_entry(reply, "Unit", "s", unit)) < 0 ||
            (r = append_entry(reply, "State", "s", app_state_to_string(a->state))) < 0 ||
            (r = append_entry(reply, "Restart", "s", app_restart_to_string(a->restart))) < 0 ||
            (r = append_entry(reply, "Result", "s", app_result_to_string(a->result))) < 0 ||
            (r = append_entry(reply, "Status", "i", (int32_t) a->status)) < 0 ||
            (r = append_entry(reply, "OOMKilled", "b", (int) a->oom_killed)) < 0 ||
            (r = append_entry(reply, "MainPID", "u", (uint32_t) pid)) < 0 ||
            (r = append_entry(reply, "StartedTimestamp", "t", a->started_usec)) < 0 ||
            (r = append_entry(reply, "ExitedTimestamp", "t", a->exited_usec)) < 0 ||
            (r = append_entry(reply, "WorkingDirectory", "s", a->workdir)) < 0 ||
            (r = append_entry(reply, "Stdin", "b", (int) a->stdin_open)) < 0 ||
            (r = append_entry(reply, "StdinOnce", "b", (int) a->stdin_once)) < 0 ||
            (r = append_entry(reply, "Tty", "b", (int) a->tty)) < 0 ||
            (r = append_entry(reply, "Privileged", "b", (int) a->privileged)) < 0)
                return r;
        /* as: not through appendv, which wants a count and the strings. */
        r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Exec");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "as");
        if (r >= 0)
                r = sd_bus_message_append_strv(reply, a->exec);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'e', "sv");
        if (r >= 0)
                r = sd_bus_message_append(reply, "s", "Annotations");
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'v', "a{ss}");
        if (r >= 0)
                r = bus_append_annotations(reply, a->annotations);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static void on_get_app_read(Daemon *d, Pod *p, App *a, const UnitStatus *s, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = userdata;
        pid_t pid = 0;
        int r;

        if (!a) {
                (void) sd_bus_reply_method_errorf(m, BUS_ERROR_NO_SUCH_APP, "The app was removed meanwhile");
                return;
        }
        if (!s || a->state != APP_RUNNING || app_main_pid_of_helper((pid_t) s->exec_main_pid, &pid) < 0)
                pid = 0;
        r = bus_reply_app(m, p, a, pid);
        if (r < 0)
                (void) sd_bus_reply_method_errnof(m, r, "Failed to answer GetApp: %m");
}

int bus_pod_method_get_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        App *a = NULL;
        int r;

        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
        /* A running app's unit is read for its main process, without
         * waiting; what it says of the app is applied first, as its
         * signals' would be. */
        if (p->state == POD_RUNNING && a->state == APP_RUNNING) {
                r = daemon_app_unit_read(d, p, a, on_get_app_read, sd_bus_message_ref(m), bus_message_unref_void);
                if (r >= 0)
                        return 1;
                sd_bus_message_unref(m);
                log_debug_errno(r, "Failed to read the unit of app %s of pod %s: %m", a->name, p->name);
        }
        return bus_reply_app(m, p, a, 0);
}

/* One exec option (a BusPropertyReader): Environment, the only one. */
static int read_exec_option(sd_bus_message *m, const char *name, const char *contents, void *userdata,
                            sd_bus_error *error) {
        char ***env = userdata;
        int r;

        if (!streq(name, "Environment") || !streq(contents, "as"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown exec option %s (%s)", name,
                                         contents);
        r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return r;
        strv_free(*env);
        *env = NULL;
        r = sd_bus_message_read_strv(m, env);
        if (r < 0)
                return r;
        if (strv_length(*env) > APP_ENV_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Exec option %s is too long (at most %d)",
                                         name, APP_ENV_MAX);
        return sd_bus_message_exit_container(m);
}

int bus_read_exec_options(sd_bus_message *m, char ***env, sd_bus_error *error) {
        return bus_read_properties(m, read_exec_option, env, error);
}

int bus_pod_method_exec(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **cmd = NULL, **env = NULL;
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        int fds[3], r;
        uint64_t flags;
        App *a = NULL;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_ENTER_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
        /* A command in a privileged app is the host's root too. */
        r = bus_verify_privileged(d, m, a->privileged, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read_strv(m, &cmd);
        if (r < 0)
                return r;
        r = bus_read_exec_options(m, &env, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "hhht", &fds[0], &fds[1], &fds[2], &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_EXEC_TTY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = daemon_app_exec(d, p, a, m, &cmd, &env, fds, flags, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to run the command");
        return 1; /* answered when the unit has started */
}

/* SetAppResources: the limits given (CPUQuotaPerSecUSec, CPUShares,
 * MemoryMax, TasksMax; t, 0 = none) replace the app's, the others stay. */
/* One resource of SetAppResources (a BusPropertyReader). */
static int read_resource(sd_bus_message *m, const char *name, const char *contents, void *userdata,
                         sd_bus_error *error) {
        AppLimits *l = userdata;
        uint64_t *target;

        if (streq(name, "CPUQuotaPerSecUSec"))
                target = &l->cpu_quota_usec;
        else if (streq(name, "CPUShares"))
                target = &l->cpu_shares;
        else if (streq(name, "MemoryMax"))
                target = &l->memory_max;
        else if (streq(name, "TasksMax"))
                target = &l->tasks_max;
        else
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown resource %s", name);
        if (!streq(contents, "t"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Resource %s must be t", name);
        return sd_bus_message_read(m, "v", "t", target);
}

int bus_pod_method_set_app_resources(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        AppLimits l;
        uint64_t flags;
        App *a;
        int r;

        r = bus_app_call_begin(d, p, m, &a, error);
        if (r <= 0)
                return r < 0 ? r : 1; /* 0: dispatched again with polkit's answer */
        l = (AppLimits) { a->cpu_quota_usec, a->cpu_shares, a->memory_max, a->tasks_max };
        r = bus_read_properties(m, read_resource, &l, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = daemon_app_set_limits(d, p, a, &l, m, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_STATE, r, perr.message,
                                            "Failed to set the resources of app %s", a->name);
        return 1; /* answered once systemd took them and they are recorded */
}

/* Only an exec of this pod that peapodd started, was let through and has
 * not ended. The signal goes to its helper, through its pidfd: the helper
 * passes SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH on
 * to the command. SIGKILL (a timed-out probe, a cancelled ExecSync) goes
 * to the helper's whole process group: the helper, the command and what it
 * started, unless that made a group or session of its own (a command with
 * a tty does: it dies by its parent-death signal, what it started lives on
 * in the app's cgroup until the app stops). */
int bus_pod_method_kill_exec(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        const char *id;
        int32_t signal;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_ENTER_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "si", &id, &signal);
        if (r < 0)
                return r;
        r = daemon_exec_kill(d, p, id, signal, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_STATE, r, perr.message,
                                            "Failed to send signal %" PRIi32 " to %s", signal, id);
        log_info("Sent signal %" PRIi32 " to %s of pod %s.", signal, id, p->name);
        return sd_bus_reply_method_return(m, NULL);
}

/* Pod.AttachApp: the app's stdin or terminal (daemon-attach.c keeps them). */
int bus_pod_method_attach_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        PeapodError perr = {};
        Pod *p = userdata;
        const char *key;
        uint64_t flags;
        App *a;
        int r;

        /* Writing to an app's stdin is acting inside it, as Exec is. */
        r = bus_verify_polkit(d, m, PEAPOD_ACTION_ENTER_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "st", &key, &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        a = pod_find_app_by_key(p, key);
        if (!a)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_APP, "Pod %s has no app %s", p->name, key);
        r = bus_verify_privileged(d, m, a->privileged, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = daemon_app_attach(d, p, a, m, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_STATE, r, perr.message, "Failed to open the stdin of app %s",
                                            a->name);
        return r;
}
