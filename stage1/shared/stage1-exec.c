/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod-stage1-exec: the ExecStart of an exec unit (peapod enter, the
 * Exec D-Bus method). Runs a command inside a running app: its namespaces,
 * its root, and exactly its privileges, copied from the app's main process
 * itself. See stage1/README.md for the contract. */

#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/param.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "fs-util.h"
#include "log.h"
#include "stage1-child.h"
#include "stage1-identity.h"
#include "stage1-sealed.h"
#include "stage1-seccomp-cache.h"
#include "stage1-security.h"
#include "stage1-util.h"
#include "strv.h"

#define PROC_STATUS_MAX (64 * 1024)

static const struct {
        const char *file;
        int type;
} app_namespaces[] = {
        { "ns/net", CLONE_NEWNET },
        { "ns/ipc", CLONE_NEWIPC },
        { "ns/uts", CLONE_NEWUTS },
        /* Affects our children only. */
        { "ns/pid", CLONE_NEWPID },
        /* Last: it changes our root to the app's. */
        { "ns/mnt", CLONE_NEWNS },
};

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

typedef struct ExecArgs {
        pid_t app_pid;
        const char *unit;
        const char *workdir;
        char **env;  /* owned */
        char **cmd;  /* into argv */
        SeccompSpec seccomp;  /* the app's filter, loaded for CMD too */
        bool tty;             /* stdin is a pty made for CMD: its controlling terminal */
        int gate_fd;          /* --gate-fd: wait for one byte here first; -1 = none */
} ExecArgs;

static void exec_args_done(ExecArgs *a) {
        strv_free(a->env);
        seccomp_spec_done(&a->seccomp);
}

static void help(void) {
        printf("Usage: peapod-stage1-exec --app-pid=PID --unit=UNIT [--workdir=DIR] [--env=K=V]... [--seccomp=SPEC] [--tty] [--gate-fd=FD] -- CMD [ARG]...\n\n"
               "Run CMD in the namespaces and root of the app whose main process is PID\n"
               "(which must be in unit UNIT), with exactly that process's uid, gids,\n"
               "capabilities and no-new-privs, under the app's seccomp filter SPEC as\n"
               "given to peapod-stage1-app (stage1 contract version %d). With --tty, stdin\n"
               "(a pty the caller made for CMD) becomes CMD's controlling terminal. With\n"
               "--gate-fd=FD, nothing is done before one byte is read from FD, and then\n"
               "only if this process is in unit UNIT too.\n",
               STAGE1_CONTRACT_VERSION);
}

static int exec_args_parse(int argc, char *argv[], ExecArgs *ret) {
        enum { ARG_APP_PID = 0x100, ARG_UNIT, ARG_WORKDIR, ARG_ENV, ARG_SECCOMP, ARG_TTY, ARG_GATE_FD };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "app-pid", required_argument, NULL, ARG_APP_PID },
                { "unit", required_argument, NULL, ARG_UNIT },
                { "workdir", required_argument, NULL, ARG_WORKDIR },
                { "env", required_argument, NULL, ARG_ENV },
                { "seccomp", required_argument, NULL, ARG_SECCOMP },
                { "tty", no_argument, NULL, ARG_TTY },
                { "gate-fd", required_argument, NULL, ARG_GATE_FD },
                {}
        };
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_(stage1_security_done) Stage1Security sec = {};
        ExecArgs a = { .gate_fd = -1 };
        int c;

        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 1;
                case ARG_APP_PID:
                        if (parse_pid(optarg, &a.app_pid) < 0 || a.app_pid <= 1)
                                return log_error_errno(EINVAL, "Invalid --app-pid='%s'.", optarg);
                        break;
                case ARG_UNIT:
                        if (!unit_name_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --unit='%s'.", optarg);
                        a.unit = optarg;
                        break;
                case ARG_WORKDIR:
                        if (optarg[0] != '/')
                                return log_error_errno(EINVAL, "Invalid --workdir='%s': not absolute.", optarg);
                        a.workdir = optarg;
                        break;
                case ARG_ENV:
                        if (!env_assignment_is_valid(optarg))
                                return log_error_errno(EINVAL, "Invalid --env='%s' (expected K=V).", optarg);
                        if (strv_extend(&env, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_SECCOMP:
                        /* The parser of peapod-stage1-app's option. */
                        if (stage1_security_parse_option(&sec, STAGE1_ARG_SECCOMP, optarg) < 0)
                                return -EINVAL;
                        break;
                case ARG_TTY:
                        a.tty = true;
                        break;
                case ARG_GATE_FD:
                        if (parse_fd(optarg, &a.gate_fd) < 0 || a.gate_fd < 3)
                                return log_error_errno(EINVAL, "Invalid --gate-fd='%s'.", optarg);
                        break;
                default:
                        return -EINVAL;
                }
        if (a.app_pid <= 0 || !a.unit)
                return log_error_errno(EINVAL, "--app-pid= and --unit= are required.");
        if (optind >= argc || isempty(argv[optind]))
                return log_error_errno(EINVAL, "No command given.");
        if (a.tty && !isatty(STDIN_FILENO))
                return log_error_errno(ENOTTY, "--tty given, but stdin is not a terminal.");
        a.cmd = argv + optind;
        a.env = TAKE_PTR(env);
        a.seccomp = sec.seccomp;
        sec.seccomp = (SeccompSpec) {};
        *ret = a;
        return 0;
}

typedef struct Target {
        int ns_fd[ELEMENTSOF(app_namespaces)];
        int root_fd;
        Identity id;
        struct rlimit rlimits[RLIM_NLIMITS]; /* the app's, for CMD */
} Target;

static void target_done(Target *t) {
        for (size_t i = 0; i < ELEMENTSOF(t->ns_fd); i++)
                t->ns_fd[i] = safe_close(t->ns_fd[i]);
        t->root_fd = safe_close(t->root_fd);
}

static int parse_limit(const char *s, rlim_t *ret) {
        unsigned long long v;
        char *end;

        if (streq(s, "unlimited")) {
                *ret = RLIM_INFINITY;
                return 0;
        }
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || end == s || *end || s[0] == '-')
                return -EINVAL;
        *ret = (rlim_t) v;
        return 0;
}

/* /proc/PID/limits: a header line, then one line per resource in the
 * kernel's order (that of RLIMIT_*), "NAME<padding>SOFT HARD [UNITS]"
 * with NAME in the first 26 columns. */
static int parse_proc_limits(const char *text, struct rlimit rl[RLIM_NLIMITS]) {
        const char *line = strchr(text, '\n');

        for (int i = 0; i < RLIM_NLIMITS; i++) {
                char soft[32], hard[32];
                const char *nl;

                if (!line)
                        return -EINVAL;
                line++;
                nl = strchr(line, '\n');
                if (!nl || nl - line < 26)
                        return -EINVAL;
                if (sscanf(line + 26, "%31s %31s", soft, hard) != 2 || parse_limit(soft, &rl[i].rlim_cur) < 0 ||
                    parse_limit(hard, &rl[i].rlim_max) < 0 || rl[i].rlim_cur > rl[i].rlim_max)
                        return -EINVAL;
                line = nl;
        }
        return 0;
}

/* The app's limits for CMD; where one is above ours and we may not raise
 * ours (no CAP_SYS_RESOURCE), ours: lower, never higher, than the app's. */
static int take_limits(const struct rlimit rl[RLIM_NLIMITS]) {
        for (int i = 0; i < RLIM_NLIMITS; i++) {
                struct rlimit cur, l = rl[i];

                if (setrlimit(i, &l) >= 0)
                        continue;
                if (errno != EPERM || getrlimit(i, &cur) < 0)
                        return -errno;
                l.rlim_max = MIN(l.rlim_max, cur.rlim_max);
                l.rlim_cur = MIN(l.rlim_cur, l.rlim_max);
                if (setrlimit(i, &l) < 0)
                        return -errno;
        }
        return 0;
}

/* Everything is opened and read through one fd of /proc/PID, which stays
 * bound to that process: a pid reused meanwhile makes the opens fail
 * instead of handing us a stranger. The cgroup is read last, so that it
 * vouches for all that was opened before. */
static int target_open(const ExecArgs *a, Target *t) {
        _cleanup_close_ int proc_fd = -EBADF;
        _cleanup_free_ char *status = NULL;
        char path[64];
        int r;

        snprintf(path, sizeof(path), "/proc/%i", (int) a->app_pid);
        proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return log_error_errno(errno, "Failed to open %s (has the app exited?): %m", path);
        for (size_t i = 0; i < ELEMENTSOF(app_namespaces); i++) {
                t->ns_fd[i] = openat(proc_fd, app_namespaces[i].file, O_RDONLY | O_CLOEXEC);
                if (t->ns_fd[i] < 0)
                        return log_error_errno(errno, "Failed to open %s/%s: %m", path, app_namespaces[i].file);
        }
        t->root_fd = openat(proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (t->root_fd < 0)
                return log_error_errno(errno, "Failed to open %s/root: %m", path);

        status = malloc(PROC_STATUS_MAX);
        if (!status)
                return log_oom();
        r = read_small_fileat(proc_fd, "status", status, PROC_STATUS_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/status: %m", path);
        r = identity_parse_proc_status(status, &t->id);
        if (r < 0)
                return log_error_errno(r, "Failed to parse %s/status: %m", path);
        /* Its resource limits too: never those of whoever started us
         * (peapodd's), which may be higher. */
        r = read_small_fileat(proc_fd, "limits", status, PROC_STATUS_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/limits: %m", path);
        r = parse_proc_limits(status, t->rlimits);
        if (r < 0)
                return log_error_errno(r, "Failed to parse %s/limits: %m", path);

        return proc_check_in_unit(proc_fd, path, a->unit, PROC_STATUS_MAX);
}

/* Started by peapodd itself rather than by systemd (the fast path, see
 * stage1/README.md): nothing is done until peapodd has moved us into the
 * app's unit and says so with one byte on the gate; its end closed without
 * one (peapodd could not, or went) means do nothing. Then we check that we
 * are in the unit indeed, so that neither we nor CMD ever run in peapodd's
 * cgroup, out of the app's limits and of its stop. */
static int gate_pass(const ExecArgs *a) {
        _cleanup_close_ int fd = a->gate_fd, self_fd = -EBADF;
        pid_t parent = getppid();
        char byte;
        ssize_t n;

        /* The exec ends with peapodd, whichever way it goes: nobody would
         * announce its end, and no process of the pod should run on
         * unaccounted for (the command has its own parent-death signal,
         * for us). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
                return log_error_errno(errno, "Failed to set our parent-death signal: %m");
        do
                n = read(fd, &byte, 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return log_error_errno(errno, "Failed to read the gate: %m");
        if (n == 0 || getppid() != parent)
                return log_error_errno(ECANCELED, "Not moved into %s, not running the command.", a->unit);
        self_fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (self_fd < 0)
                return log_error_errno(errno, "Failed to open /proc/self: %m");
        return proc_check_in_unit(self_fd, "/proc/self", a->unit, PROC_STATUS_MAX);
}

static int target_join(Target *t) {
        for (size_t i = 0; i < ELEMENTSOF(app_namespaces); i++)
                if (setns(t->ns_fd[i], app_namespaces[i].type) < 0)
                        return log_error_errno(errno, "Failed to join the app's %s: %m", app_namespaces[i].file);
        /* The app's root, even if it chroot()ed below its mount
         * namespace's root. */
        if (fchdir(t->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return log_error_errno(errno, "Failed to enter the app's root: %m");
        return 0;
}

static void reset_signals(void) {
        sigset_t none;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) signal(sig, SIG_DFL);
        sigemptyset(&none);
        (void) sigprocmask(SIG_SETMASK, &none, NULL);
}

static _noreturn_ void child_main(const ExecArgs *a, const Target *t, const Stage1SeccompProgram *seccomp) {
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Only a pty made for CMD (peapod enter -t) becomes its controlling
         * terminal, so that job control and ^C work as in a login shell;
         * taken over (1) from the session of our helper, which systemd
         * made its leader. Never merely because stdin is a terminal: that
         * could be the caller's own, and a controlling terminal (or any fd
         * of it, with TIOCSTI) lets CMD type into the caller's shell. */
        if (a->tty)
                (void) stage1_take_tty();
        r = take_limits(t->rlimits);
        if (r < 0) {
                log_error_errno(r, "Failed to take the app's resource limits: %m");
                _exit(STAGE1_APP_EXIT_SETUP);
        }
        if (a->workdir && chdir(a->workdir) < 0)
                log_warning_errno(errno, "Failed to enter %s, staying in /: %m", a->workdir);

        if (clearenv() != 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        FOREACH_STRV(e, a->env)
                if (putenv(e) != 0)
                        _exit(STAGE1_APP_EXIT_SETUP);
        if (!env_has_path(a->env) && setenv("PATH", STAGE1_DEFAULT_PATH, 1) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);

        /* Whatever we hold (the namespace fds above all) or inherited stays
         * on this side of exec. */
        stage1_cloexec_all();

        /* The app's filter, first: loading one needs CAP_SYS_ADMIN unless
         * no_new_privs is set, and the app's identity may have neither;
         * what identity_apply() calls after it is allowed by every filter
         * peapod-stage1-app loads (it calls the same). Its capability rules
         * look at the app's bounding set, which is what --capabilities
         * made it: the same spec and set give the app's filter (built
         * before we joined the app, see run()). */
        if (stage1_seccomp_program_load(seccomp) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        if (identity_apply(&t->id) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        /* A filter cannot be read back from a process; rather than run the
         * command under fewer filters than the app, refuse. */
        r = identity_seccomp_covers(&t->id);
        if (r <= 0) {
                log_error_errno(r < 0 ? r : EPERM, "The app runs under a seccomp filter that exec cannot reproduce, refusing.");
                _exit(STAGE1_APP_EXIT_SETUP);
        }
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        reset_signals();
        execvpe(a->cmd[0], a->cmd, environ);
        r = -errno;
        if (exec_errno_to_exit_status(r) == STAGE1_APP_EXIT_NOT_FOUND)
                log_error_errno(r, "Command %s not found: %m", a->cmd[0]);
        else
                log_error_errno(r, "Command %s is not executable: %m", a->cmd[0]);
        _exit(exec_errno_to_exit_status(r));
}

static int run(int argc, char *argv[]) {
        _cleanup_(exec_args_done) ExecArgs args = {};
        _cleanup_(target_done) Target t = { .ns_fd = { -EBADF, -EBADF, -EBADF, -EBADF, -EBADF }, .root_fd = -EBADF };
        _cleanup_(stage1_seccomp_program_done) Stage1SeccompProgram seccomp = {};
        sigset_t mask;
        pid_t child;
        int r;

        /* An exec runs once: its arguments file goes with it. */
        if (stage1_args_file_load(&argc, &argv, /* unlink_after= */ true) < 0)
                return STAGE1_APP_EXIT_SETUP;
        r = exec_args_parse(argc, argv, &args);
        if (r < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (r > 0)
                return EXIT_SUCCESS;
        if (args.gate_fd >= 0 && gate_pass(&args) < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (target_open(&args, &t) < 0)
                return STAGE1_APP_EXIT_SETUP;
        /* Here, in the host's mount namespace, where the helpers' cache of
         * programs is (stage1-seccomp-cache.c). */
        if (stage1_seccomp_program_cached(STAGE1_SECCOMP_CACHE_DIR, &args.seccomp, t.id.cap_bnd, &seccomp) < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (target_join(&t) < 0)
                return STAGE1_APP_EXIT_SETUP;
        stage1_children_in_pod();

        stage1_block_signals(forwarded_signals, ELEMENTSOF(forwarded_signals), &mask);

        child = fork();
        if (child < 0) {
                log_error_errno(errno, "Failed to fork into the app: %m");
                return STAGE1_APP_EXIT_SETUP;
        }
        if (child == 0)
                child_main(&args, &t, &seccomp);
        target_done(&t);

        r = stage1_wait_child(child, &mask);
        return r < 0 ? STAGE1_APP_EXIT_SETUP : r;
}

int main(int argc, char *argv[]) {
        log_set_program(program_invocation_short_name);
        /* Our child is in the pod from fork() until it execs CMD. */
        return stage1_helper_main(argc, argv, run, STAGE1_APP_EXIT_SETUP);
}
