/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "name.h"
#include "pod-app.h"
#include "pod-exec.h"
#include "string-util.h"
#include "strv.h"
#include "systemd.h"

/* "peapod-<m>-<app>_exec-<hex>.service": '_' is in neither a machine nor
 * an app name, so no app's unit can ever be called like this. */
static int exec_unit_prefix(const Pod *p, const App *a, char **ret) {
        _cleanup_free_ char *app_unit = NULL;
        char *dot;
        int r;

        r = app_unit_name(p->name, a->name, &app_unit);
        if (r < 0)
                return r;
        dot = strrchr(app_unit, '.');
        if (!dot)
                return -EINVAL;
        *dot = 0;
        return asprintf(ret, "%s_exec-", app_unit) < 0 ? -ENOMEM : 0;
}

static int append_fd(sd_bus_message *m, const char *name, int fd) {
        return sd_bus_message_append(m, "(sv)", name, "h", fd);
}

/* peapod-stage1-exec's command line: the app to join, its working
 * directory, seccomp filter and environment (then extra_env), and cmd. */
static int exec_helper_argv(const App *a, pid_t pid, const char *app_unit, bool tty, char * const *cmd,
                            char * const *extra_env, char ***ret, PeapodError *err) {
        _cleanup_strv_free_ char **argv = NULL;
        char *arg;
        int r;

        r = strv_extend(&argv, "peapod-stage1-exec");
        if (r >= 0)
                r = asprintf(&arg, "--app-pid=%d", (int) pid) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0)
                r = asprintf(&arg, "--unit=%s", app_unit) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0)
                r = asprintf(&arg, "--workdir=%s", a->workdir) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        /* The one privilege exec cannot copy from the app's process. */
        if (r >= 0)
                r = asprintf(&arg, "--seccomp=%s", a->seccomp ?: "default") < 0 ? -ENOMEM : strv_consume(&argv, arg);
        if (r >= 0 && tty)
                r = strv_extend(&argv, "--tty");
        FOREACH_STRV(e, a->env)
                if (r >= 0)
                        r = asprintf(&arg, "--env=%s", e) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        FOREACH_STRV(e, (char **) extra_env) {
                if (!strchr(e, '=') || e[0] == '=')
                        return peapod_error_set(err, -EINVAL, "Invalid environment assignment '%s'", e);
                if (r >= 0)
                        r = asprintf(&arg, "--env=%s", e) < 0 ? -ENOMEM : strv_consume(&argv, arg);
        }
        if (r >= 0)
                r = strv_extend(&argv, "--");
        FOREACH_STRV(e, (char **) cmd)
                if (r >= 0)
                        r = strv_extend(&argv, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(argv);
        return 0;
}

/* StartTransientUnit for unit: in the pod's slice, bound to the app's unit,
 * with the caller's fds as its stdio, and the app's device cgroup. */
static int exec_unit_message(sd_bus *bus, const App *a, const char *unit, const char *desc, const char *slice,
                             const char *app_unit, const int fds[3], const char *helper, char **argv,
                             const char *args_file, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        if ((r = bus_append_property_s(m, "Description", desc)) < 0 || (r = bus_append_property_s(m, "Slice", slice)) < 0 ||
            /* Gone with the app: its namespaces are the command's. */
            (r = bus_append_property_as(m, "BindsTo", STRV_MAKE(app_unit))) < 0 ||
            (r = bus_append_property_as(m, "After", STRV_MAKE(app_unit))) < 0 ||
            (r = bus_append_property_s(m, "Type", "exec")) < 0 ||
            /* As the app's unit: what runs here is the pod's. */
            (r = bus_append_property_s(m, "DevicePolicy", "closed")) < 0 ||
            /* The app's devices too: what the command runs in is the
             * app's /dev. */
            (r = app_devices_append_allow(m, a->devices, a->n_devices, true)) < 0 ||
            (r = append_fd(m, "StandardInputFileDescriptor", fds[0])) < 0 ||
            (r = append_fd(m, "StandardOutputFileDescriptor", fds[1])) < 0 ||
            (r = append_fd(m, "StandardErrorFileDescriptor", fds[2])) < 0)
                return r;
        /* As for apps (app_start_unit): the command reaches the helper in
         * a file, so it survives a daemon-reload exactly. */
        r = stage1_append_exec_start(m, helper, argv, args_file);
        if (r >= 0)
                r = sd_bus_message_close_container(m); /* a(sv) */
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0) {
                (void) unlink(args_file);
                return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int pod_exec_message(PodRuntime *rt, sd_bus *bus, const Pod *p, const App *a, pid_t pid, char * const *cmd,
                     char * const *extra_env, const int fds[3], bool tty, sd_bus_message **ret_call, char **ret_unit,
                     char **ret_args_file, PeapodError *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *prefix = NULL, *unit = NULL, *app_unit = NULL, *slice = NULL, *helper = NULL,
                            *desc = NULL, *args_file = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        char rnd[POD_ID_LEN + 1];
        int r;

        if (strv_length((char **) cmd) == 0)
                return peapod_error_set(err, -EINVAL, "No command to run");
        if (strv_length((char **) cmd) > POD_EXEC_ARGV_MAX || strv_length((char **) extra_env) > POD_EXEC_ENV_MAX)
                return peapod_error_set(err, -E2BIG, "Command or environment too long");
        if (p->state != POD_RUNNING || a->state != APP_RUNNING || pid <= 1)
                return peapod_error_set(err, -ESRCH, "App %s of pod %s is not running", a->name, p->name);

        r = id_generate(rnd);
        if (r < 0)
                return r;
        r = exec_unit_prefix(p, a, &prefix);
        if (r < 0)
                return r;
        if (asprintf(&unit, "%s%.12s.service", prefix, rnd) < 0)
                return -ENOMEM;
        {
                _cleanup_free_ char *name = NULL;

                /* The helper removes it once read. */
                if (asprintf(&name, "exec-%.12s.args", rnd) < 0 || app_dir(rt, p, a, name, &args_file) < 0)
                        return -ENOMEM;
        }
        r = app_unit_name(p->name, a->name, &app_unit);
        if (r < 0)
                return r;
        r = pod_unit_names(p, &slice, NULL);
        if (r < 0)
                return r;
        if (asprintf(&helper, "%s/%s/peapod-stage1-exec", rt->stage1_dir, pod_stage1(p)) < 0 ||
            asprintf(&desc, "Command in app %s of pod %s", a->name, p->name) < 0)
                return -ENOMEM;

        r = exec_helper_argv(a, pid, app_unit, tty, cmd, extra_env, &argv, err);
        if (r < 0)
                return r;
        r = exec_unit_message(bus, a, unit, desc, slice, app_unit, fds, helper, argv, args_file, &m);
        if (r < 0)
                return r;

        *ret_call = TAKE_PTR(m);
        *ret_unit = TAKE_PTR(unit);
        *ret_args_file = TAKE_PTR(args_file);
        return 0;
}

int pod_exec_start_result(PodRuntime *rt, const char *unit, const char *result, const UnitStatus *ended,
                          const char *args_file, PeapodError *err) {
        int r;

        /* A command that ended within its start job (a fast `exit 7` on a
         * busy machine) fails the job although it ran: the end it told is
         * the one that counts (as systemd_start_job_result() judges it). */
        if (ended && streq_ptr(result, "failed") && unit_status_ran(ended))
                return 0;
        r = systemd_start_job_result(rt->bus, unit, result, err);
        if (r < 0) {
                (void) unlink(args_file);
                (void) systemd_reset_failed_unit(rt->bus, unit);
        }
        return r;
}

int pod_exec_kill(PodRuntime *rt, const char *unit, int signal) {
        if (signal < 1 || signal > 64)
                return -EINVAL;
        return systemd_kill_unit(rt->bus, unit, "all", signal);
}
