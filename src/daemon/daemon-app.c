/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Apps in a pod over D-Bus: the AddApp, StartApp, StopApp, RemoveApp and
 * GetApp methods of org.peapod1.Pod. */
#include <stdio.h>

#include "daemon.h"
#include "log.h"
#include "pod-app.h"
#include "pod-exec.h"
#include "string-util.h"
#include "strv.h"

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

int bus_pod_method_add_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(bus_app_args_done) AppArgs storage = {};
        _cleanup_free_ char *name = NULL;
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        AppSpec spec = {};
        uint64_t flags;
        App *a;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_check_pod_not_stopping(d, p, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ss", &spec.name, &spec.image);
        if (r < 0)
                return r;
        r = bus_read_app_spec(m, &spec, &storage, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_ADD_APP_START)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        if ((flags & PEAPOD_ADD_APP_START) && p->state != POD_RUNNING)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "Pod %s is %s; only apps of running pods can be started",
                                         p->name, pod_state_to_string(p->state));

        r = pod_app_add(&d->runtime, p, &spec, d->images_dir, &a, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to add app");
        name = strdup(a->name);
        if (!name)
                return -ENOMEM;
        log_info("Added app %s to pod %s.", a->name, p->name);

        if (flags & PEAPOD_ADD_APP_START) {
                r = pod_app_start(&d->runtime, p, a, &perr);
                if (r < 0) {
                        log_warning_errno(r, "Failed to start app %s of pod %s: %s", name, p->name,
                                          perr.message[0] ? perr.message : strerror(-r));
                        return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to start app");
                }
                log_info("Started app %s of pod %s.", name, p->name);
        }
        return sd_bus_reply_method_return(m, "ss", a->name, a->id);
}

int bus_pod_method_start_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        App *a;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_check_pod_not_stopping(d, p, error);
        if (r < 0)
                return r;
        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
        r = pod_app_start(&d->runtime, p, a, &perr);
        if (r < 0) {
                log_warning_errno(r, "Failed to start app %s of pod %s: %s", a->name, p->name,
                                  perr.message[0] ? perr.message : strerror(-r));
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to start app");
        }
        log_info("Started app %s of pod %s.", a->name, p->name);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_pod_method_stop_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        App *a;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_check_pod_not_stopping(d, p, error);
        if (r < 0)
                return r;
        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
        if (p->state != POD_RUNNING || a->state != APP_RUNNING)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "App %s of pod %s is not running", a->name, p->name);
        r = pod_app_stop(&d->runtime, p, a);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to stop app %s of pod %s: %m", a->name, p->name);
        log_info("Stopped app %s of pod %s.", a->name, p->name);
        /* A pod made by 'run' ends with its last app. */
        daemon_pod_changed(d, p);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_pod_method_kill(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        const char *key;
        App *a = NULL;
        int32_t signal;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
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
        if (signal < 1 || signal > 64)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal %" PRIi32, signal);
        if (p->state != POD_RUNNING)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "Pod %s is not running", p->name);
        if (a && a->state != APP_RUNNING)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "App %s of pod %s is not running", a->name, p->name);
        r = pod_app_kill(&d->runtime, p, a, signal);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to send signal %" PRIi32 " to pod %s: %m", signal, p->name);
        log_info("Sent signal %" PRIi32 " to %s%s of pod %s.", signal, a ? "app " : "the apps", a ? a->name : "", p->name);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_pod_method_remove_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *name = NULL;
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        uint64_t flags;
        App *a;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_check_pod_not_stopping(d, p, error);
        if (r < 0)
                return r;
        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_REMOVE_APP_FORCE)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        if (a->state == APP_RUNNING && !(flags & PEAPOD_REMOVE_APP_FORCE))
                return sd_bus_error_setf(error, BUS_ERROR_APP_RUNNING,
                                         "App %s of pod %s is running; stop it first or force the removal", a->name, p->name);
        name = strdup(a->name);
        if (!name)
                return -ENOMEM;
        r = pod_app_remove(&d->runtime, p, a, flags & PEAPOD_REMOVE_APP_FORCE);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, NULL, "Failed to remove app");
        log_info("Removed app %s from pod %s.", name, p->name);
        daemon_pod_changed(d, p);
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

int bus_pod_method_get_app(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *unit = NULL;
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        pid_t pid = 0;
        App *a;
        int r;

        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
        /* Exits not yet seen through a signal are caught up here. */
        (void) pod_refresh(&d->runtime, p);
        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        if (pod_app_main_pid(&d->runtime, p, a, &pid) < 0)
                pid = 0;

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
            (r = append_entry(reply, "MainPID", "u", (uint32_t) pid)) < 0 ||
            (r = append_entry(reply, "StartedTimestamp", "t", a->started_usec)) < 0 ||
            (r = append_entry(reply, "ExitedTimestamp", "t", a->exited_usec)) < 0 ||
            (r = append_entry(reply, "WorkingDirectory", "s", a->workdir)) < 0)
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

int bus_read_exec_options(sd_bus_message *m, char ***env, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                const char *name, *contents;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
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
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int bus_pod_method_exec(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_strv_free_ char **cmd = NULL, **env = NULL;
        _cleanup_free_ char *unit = NULL;
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        int fds[3], r;
        uint64_t flags;
        App *a;

        r = bus_verify_polkit(m, PEAPOD_ACTION_ENTER_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
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
        if ((flags & PEAPOD_EXEC_TTY) && !isatty(fds[0]))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "The tty flag wants a terminal on stdin");
        if (strv_length(cmd) == 0)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "No command given");

        /* Exits not yet seen through a signal are caught up first. */
        (void) pod_refresh(&d->runtime, p);
        if (p->state != POD_RUNNING || a->state != APP_RUNNING)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "App %s of pod %s is not running (%s)", a->name,
                                         p->name, p->state != POD_RUNNING ? pod_state_to_string(p->state)
                                                                          : app_state_to_string(a->state));
        r = pod_exec_start(&d->runtime, p, a, cmd, env, fds, flags & PEAPOD_EXEC_TTY, &unit, &perr);
        if (r == -ESRCH)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "%s", perr.message);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to run the command");
        if (strv_extend(&d->exec_units, unit) < 0 || strv_extend(&d->exec_pods, p->id) < 0)
                return -ENOMEM;
        log_info("Running %s in app %s of pod %s as %s.", cmd[0], a->name, p->name, unit);
        return sd_bus_reply_method_return(m, "s", unit);
}

/* SetAppResources: the limits given (CPUQuotaPerSecUSec, CPUShares,
 * MemoryMax, TasksMax; t, 0 = none) replace the app's, the others stay. */
int bus_pod_method_set_app_resources(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        PeapodError perr = {};
        AppLimits l;
        uint64_t flags;
        App *a;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_check_pod_not_stopping(d, p, error);
        if (r < 0)
                return r;
        r = bus_read_app(m, p, &a, error);
        if (r < 0)
                return r;
        l = (AppLimits) { a->cpu_quota_usec, a->cpu_shares, a->memory_max, a->tasks_max };
        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                const char *name, *contents;
                uint64_t *target;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                if (streq(name, "CPUQuotaPerSecUSec"))
                        target = &l.cpu_quota_usec;
                else if (streq(name, "CPUShares"))
                        target = &l.cpu_shares;
                else if (streq(name, "MemoryMax"))
                        target = &l.memory_max;
                else if (streq(name, "TasksMax"))
                        target = &l.tasks_max;
                else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown resource %s", name);
                if (!streq(contents, "t"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Resource %s must be t", name);
                r = sd_bus_message_read(m, "v", "t", target);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        if (p->state == POD_EXITED)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "Pod %s has exited", p->name);
        r = pod_app_set_limits(&d->runtime, p, a, &l, &perr);
        if (r == -EINVAL)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, perr.message);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "%s", perr.message[0] ? perr.message : strerror(-r));
        log_info("Set the resources of app %s of pod %s.", a->name, p->name);
        return sd_bus_reply_method_return(m, NULL);
}

/* Only an exec of this pod that peapodd started and has not seen end: the
 * id is a unit name, and this must never become a way to signal any unit. */
int bus_pod_method_kill_exec(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = daemon_of(m);
        Pod *p = userdata;
        const char *id;
        int32_t signal;
        size_t i;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_ENTER_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "si", &id, &signal);
        if (r < 0)
                return r;
        if (signal < 1 || signal > 64)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid signal %" PRIi32, signal);
        for (i = 0; d->exec_units && d->exec_units[i]; i++)
                if (streq(d->exec_units[i], id) && streq(d->exec_pods[i], p->id))
                        break;
        if (!d->exec_units || !d->exec_units[i])
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "No exec %s is running in pod %s", id, p->name);
        r = pod_exec_kill(&d->runtime, id, signal);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to send signal %" PRIi32 " to %s: %m", signal, id);
        log_info("Sent signal %" PRIi32 " to %s of pod %s.", signal, id, p->name);
        return sd_bus_reply_method_return(m, NULL);
}

bool daemon_exec_unit_changed(Daemon *d, const char *unit, sd_bus_message *signal) {
        _cleanup_free_ char *path = NULL;
        AppResult result;
        size_t i;
        int status, r;
        Pod *p;

        for (i = 0; d->exec_units && d->exec_units[i]; i++)
                if (streq(d->exec_units[i], unit))
                        break;
        if (!d->exec_units || !d->exec_units[i])
                return false;
        r = pod_exec_poll(&d->runtime, unit, signal, &result, &status);
        if (r < 0) {
                log_warning_errno(r, "Failed to read the state of %s: %m", unit);
                return true;
        }
        if (r == 0)
                return true;
        p = daemon_pod_by_id(d, d->exec_pods[i]);
        if (p && pod_object_path(p, &path) >= 0)
                (void) sd_bus_emit_signal(d->bus, path, PEAPOD_POD_INTERFACE, "ExecFinished", "ssi", unit,
                                          app_result_to_string(result), (int32_t) status);
        log_debug("%s ended: %s %d.", unit, app_result_to_string(result), status);
        free(d->exec_units[i]);
        free(d->exec_pods[i]);
        memmove(d->exec_units + i, d->exec_units + i + 1, sizeof(char *) * (strv_length(d->exec_units + i + 1) + 1));
        memmove(d->exec_pods + i, d->exec_pods + i + 1, sizeof(char *) * (strv_length(d->exec_pods + i + 1) + 1));
        return true;
}
