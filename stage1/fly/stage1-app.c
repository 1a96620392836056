/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod-stage1-app of the fly flavour: the app shares the host's network,
 * IPC, UTS and PID namespaces and is only chrooted into its root, with the
 * host's /proc, /dev and /sys bound in (rkt's stage1-fly: for privileged
 * system tools), the host-wide parts of /proc and all of /sys read-only.
 * Same arguments, exit codes and fate mirroring as the default flavour's.
 * See stage1/README.md. */

#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "fs-util.h"
#include "log.h"
#include "stage1-child.h"
#include "stage1-journal.h"
#include "stage1-mount.h"
#include "stage1-sealed.h"
#include "stage1-util.h"
#include "strv.h"

static const int forwarded_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };

/* The pid reuse guard of the default flavour: the leader, read through one
 * fd of /proc/PID, must be in the pod's scope. */
static int leader_check(pid_t leader, const char *scope) {
        _cleanup_close_ int proc_fd = -EBADF;
        char path[64];

        snprintf(path, sizeof(path), "/proc/%i", (int) leader);
        proc_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (proc_fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", path);
        return proc_check_in_unit(proc_fd, path, scope, 16384);
}

/* Binds the host's /name (recursively) onto name below the app's root and
 * returns an O_PATH fd of the bind. The mount point is made or checked
 * without following symlinks, since the root comes from an image. */
static int bind_host(int root_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        char p[FD_PATH_MAX], src[16];

        snprintf(src, sizeof(src), "/%s", name);
        fd = mkdirat_nofollow(root_fd, name, 0755);
        if (fd < 0)
                return log_error_errno(fd, "Failed to create mount point %s (symlinks are refused): %m", name);
        if (mount(src, fd_path(p, fd), NULL, MS_BIND | MS_REC, NULL) < 0)
                return log_error_errno(errno, "Failed to bind %s: %m", src);
        /* The fd above is the directory beneath: open the bind itself. */
        fd = safe_close(fd);
        fd = openat(root_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", name);
        return TAKE_FD(fd);
}

/* The host's /proc, /dev and /sys, as privileged system tools want them,
 * less what would hand the host's kernel to the app: the app's uid 0 alone,
 * without any capability, may write most sysctls (kernel.core_pattern,
 * whose pipe runs a program as the host's root at the next core dump),
 * binfmt_misc's register file, /proc/sysrq-trigger, and what sysfs and
 * its submounts (cgroup2, efivarfs, debugfs, ...) let root-owned files be
 * written. The same masks and read-only entries as the default flavour's
 * /proc (stage1_protect_proc()), and all of /sys read-only. */
static int bind_host_trees(int root_fd) {
        _cleanup_close_ int proc_fd = -EBADF, dev_fd = -EBADF, sys_fd = -EBADF;
        int r;

        proc_fd = bind_host(root_fd, "proc");
        if (proc_fd < 0)
                return proc_fd;
        r = stage1_protect_proc(proc_fd);
        if (r < 0)
                return r;

        dev_fd = bind_host(root_fd, "dev");
        if (dev_fd < 0)
                return dev_fd;

        sys_fd = bind_host(root_fd, "sys");
        if (sys_fd < 0)
                return sys_fd;
        r = stage1_mask_sys_firmware(sys_fd);
        if (r < 0)
                return r;
        r = stage1_mount_tree_read_only(sys_fd);
        if (r < 0)
                return log_error_errno(r, "Failed to make /sys read-only: %m");
        return 0;
}

static int setup_root(const Stage1AppCommand *a) {
        const char *rootfs = a->rootfs;
        _cleanup_close_ int root_fd = -EBADF;
        int r;

        /* Our own mount namespace, a slave of the host's: nothing we mount
         * (the app's overlay, the host trees) shows on the host. */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return log_error_errno(errno, "Failed to make a mount namespace: %m");
        r = stage1_app_mount_root(a);
        if (r < 0)
                return r;
        root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(errno, "Failed to open %s: %m", rootfs);
        r = bind_host_trees(root_fd);
        if (r < 0)
                return r;
        if (a->readonly_rootfs &&
            mount_setattr(root_fd, "", AT_EMPTY_PATH, &(struct mount_attr) { .attr_set = MOUNT_ATTR_RDONLY },
                          sizeof(struct mount_attr)) < 0)
                return log_error_errno(errno, "Failed to make the app's root read-only: %m");
        /* chroot, not pivot_root: fly isolates nothing but the file
         * system view, and the host's tree stays mounted beneath. */
        if (fchdir(root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)
                return log_error_errno(errno, "Failed to chroot into %s: %m", rootfs);
        return 0;
}

static int enter_workdir(const char *workdir) {
        int r;

        if (chdir(workdir) >= 0)
                return 0;
        if (errno != ENOENT)
                return log_error_errno(errno, "Failed to enter working directory %s: %m", workdir);
        r = mkdir_p(workdir, 0755);
        if (r < 0 || chdir(workdir) < 0)
                return log_error_errno(r < 0 ? r : -errno, "Failed to create working directory %s: %m", workdir);
        return 0;
}

static bool env_has_home(char * const *env) {
        if (env)
                for (char * const *e = env; *e; e++)
                        if (strneq(*e, "HOME=", 5))
                                return true;
        return false;
}

static _noreturn_ void child_main(const Stage1AppCommand *a, int out_fd, int err_fd, int keep_fd) {
        _cleanup_(credentials_done) Credentials creds = {};
        int r;

        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (setup_root(a) < 0 || enter_workdir(a->workdir ?: "/") < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        /* A pty of the host's /dev/pts, which fly apps see anyway. */
        if (a->tty && stage1_pty_for_app(keep_fd) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        /* Inside the chroot: the image's own files, never NSS. */
        if (stage1_security_resolve(&a->sec, &creds) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        if (a->tty && fchown(STDIN_FILENO, creds.uid, (gid_t) -1) < 0)
                log_warning_errno(errno, "Failed to give the terminal to uid %u: %m", (unsigned) creds.uid);
        if (clearenv() != 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        FOREACH_STRV(e, a->env)
                if (putenv(e) != 0)
                        _exit(STAGE1_APP_EXIT_SETUP);
        if (!env_has_path(a->env) && setenv("PATH", STAGE1_DEFAULT_PATH, 1) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        if (creds.home && !env_has_home(a->env) && setenv("HOME", creds.home, 1) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        /* Whatever we hold or inherited stays on this side of exec. */
        stage1_cloexec_all();
        /* The same identity and privileges as a default app's. */
        if (stage1_security_apply(&a->sec, &creds, NULL) < 0)
                _exit(STAGE1_APP_EXIT_SETUP);
        if ((out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0) || (err_fd >= 0 && dup2(err_fd, STDERR_FILENO) < 0))
                _exit(STAGE1_APP_EXIT_SETUP);

        {
                sigset_t none;

                for (int sig = 1; sig < _NSIG; sig++)
                        if (sig != SIGKILL && sig != SIGSTOP)
                                (void) signal(sig, SIG_DFL);
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
        }
        execvpe(a->cmd[0], a->cmd, environ);
        r = -errno;
        log_error_errno(r, "Failed to execute %s: %m", a->cmd[0]);
        _exit(exec_errno_to_exit_status(r));
}

int main(int argc, char *argv[]) {
        _cleanup_(stage1_app_command_done) Stage1AppCommand args = {};
        _cleanup_(stage1_app_output_done) Stage1AppOutput output = STAGE1_APP_OUTPUT_NULL;
        _cleanup_close_pair_ int keep[2] = { -EBADF, -EBADF };
        sigset_t mask;
        pid_t child;
        int r, status = 0;

        log_set_program(program_invocation_short_name);
        /* Fly apps share the host's PID namespace: they see this helper
         * for its whole life, and its child until it execs the app. */
        if (stage1_seal_self(argv) < 0)
                return STAGE1_APP_EXIT_SETUP;
        /* After the seal: the sealed copy is what reads the file. */
        if (stage1_args_file_load(&argc, &argv, /* unlink_after= */ false) < 0)
                return STAGE1_APP_EXIT_SETUP;
        r = stage1_app_command_parse(argc, argv, &args);
        if (r < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (r > 0)
                return EXIT_SUCCESS;
        /* Refused rather than ignored: fly apps share the host's PID and
         * IPC namespaces and see the host's /dev, and volumes are not bound
         * in by this flavour yet. --privileged too: the masks and the
         * device cgroup are all that separates a fly app from the host's
         * root (stage1/README.md, "Privileged apps"). */
        if (args.private_pid_ns || args.private_ipc_ns || args.n_binds > 0 || args.n_devices > 0 || args.masked_paths ||
            args.readonly_paths || args.privileged) {
                log_error("The fly stage1 supports neither --pid-namespace=app, --ipc-namespace=app, --bind=, --device=, "
                          "--masked-path=, --readonly-path= nor --privileged.");
                return STAGE1_APP_EXIT_SETUP;
        }
        /* With --tty the app writes to its terminal, as in default. */
        if (stage1_app_output_open(args.log_namespace, args.app_name ?: args.app_id, !args.tty || args.tty_log,
                                   args.tty_log, &output) < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (leader_check(args.leader, args.scope) < 0)
                return STAGE1_APP_EXIT_SETUP;
        if (args.tty_log && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, keep) < 0) {
                log_error_errno(errno, "Failed to make a socket pair: %m");
                return STAGE1_APP_EXIT_SETUP;
        }

        stage1_block_signals(forwarded_signals, ELEMENTSOF(forwarded_signals), &mask);

        child = fork();
        if (child < 0) {
                log_error_errno(errno, "Failed to fork the app: %m");
                return STAGE1_APP_EXIT_SETUP;
        }
        if (child == 0) {
                keep[0] = safe_close(keep[0]);
                /* The terminal is the app's stdio; the pipes are for the rest. */
                child_main(&args, args.tty ? -EBADF : output.app_out, args.tty ? -EBADF : output.app_err, keep[1]);
        }
        keep[1] = safe_close(keep[1]);
        /* The app holds its ends of the pipes now. */
        output.app_out = safe_close(output.app_out);
        output.app_err = safe_close(output.app_err);

        r = stage1_wait_child_output(child, &mask, output.relay, args.tty_log ? keep[0] : -EBADF, &status);
        return r < 0 ? STAGE1_APP_EXIT_SETUP : stage1_mirror_status(status);
}
