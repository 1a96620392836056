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

/* peapod-stage1-exec's command line: the app to join, its working
 * directory, seccomp filter and environment (then extra_env), and cmd. */
static int exec_helper_argv(const App *a, pid_t pid, const char *app_unit, bool tty, char * const *cmd,
                            char * const *extra_env, char ***ret, PeapodError *err) {
        _cleanup_strv_free_ char **argv = NULL;
        char *arg;
        int r;

        r = strv_extend(&argv, "peapod-stage1-exec");
        if (r >= 0)
                r = asprintf(&arg, "--gate-fd=%d", POD_EXEC_GATE_FD) < 0 ? -ENOMEM : strv_consume(&argv, arg);
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

void pod_exec_done(PodExec *x) {
        x->id = mfree(x->id);
        x->app_unit = mfree(x->app_unit);
        x->helper = mfree(x->helper);
        strv_free(x->argv);
        x->argv = NULL;
}

int pod_exec_check(const Pod *p, const App *a, char * const *cmd, bool tty, int stdin_fd, PeapodError *err) {
        if (tty && stdin_fd >= 0 && !isatty(stdin_fd))
                return peapod_error_set(err, -EINVAL, "The tty flag wants a terminal on stdin");
        if (strv_length((char **) cmd) == 0)
                return peapod_error_set(err, -EINVAL, "No command given");
        if (p->state != POD_RUNNING || a->state != APP_RUNNING)
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is not running (%s)", a->name, p->name,
                                        p->state != POD_RUNNING ? pod_state_to_string(p->state)
                                                                : app_state_to_string(a->state));
        return 0;
}

int pod_exec_prepare(PodRuntime *rt, const Pod *p, const App *a, pid_t pid, char * const *cmd, char * const *extra_env,
                     bool tty, PodExec *ret, PeapodError *err) {
        _cleanup_(pod_exec_done) PodExec x = {};
        _cleanup_free_ char *prefix = NULL;
        char rnd[POD_ID_LEN + 1];
        int r;

        r = pod_exec_check(p, a, cmd, false, -EBADF, err);
        if (r < 0)
                return r;
        if (strv_length((char **) cmd) > POD_EXEC_ARGV_MAX || strv_length((char **) extra_env) > POD_EXEC_ENV_MAX)
                return peapod_error_set(err, -E2BIG, "Command or environment too long");
        if (pid <= 1)
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is not running", a->name, p->name);

        r = id_generate(rnd);
        if (r < 0)
                return r;
        r = exec_unit_prefix(p, a, &prefix);
        if (r < 0)
                return r;
        if (asprintf(&x.id, "%s%.12s", prefix, rnd) < 0)
                return -ENOMEM;
        r = app_unit_name(p->name, a->name, &x.app_unit);
        if (r < 0)
                return r;
        if (asprintf(&x.helper, "%s/%s/peapod-stage1-exec", rt->stage1_dir, pod_stage1(p)) < 0)
                return -ENOMEM;
        r = exec_helper_argv(a, pid, x.app_unit, tty, cmd, extra_env, &x.argv, err);
        if (r < 0)
                return r;
        *ret = x;
        x = (PodExec) {};
        return 0;
}

int pod_exec_attach_message(sd_bus *bus, const PodExec *x, pid_t helper_pid, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        /* The app's unit is not delegated: its own cgroup ("") is the only
         * one systemd lets us name. */
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "AttachProcessesToUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ssau", x->app_unit, "", 1, (uint32_t) helper_pid);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}
