/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapod-stage1-init: makes a pod's namespaces and its PID 1. See
 * stage1/README.md for the contract. */

#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>

#include "log.h"
#include "stage1-bus.h"
#include "stage1-sealed.h"
#include "stage1-util.h"
#include "time-util.h"

/* How long a stop waits for the apps after SIGTERM before our exit kills
 * them: peapodd's TimeoutStopSec of app units. */
#define STAGE1_STOP_TIMEOUT_USEC (10 * USEC_PER_SEC)

static const char os_release[] =
        "NAME=\"peapod pod\"\n"
        "ID=peapod\n"
        "PRETTY_NAME=\"peapod pod\"\n";

/* Close everything but stdio and keep[]: PID 1 lives as long as the pod,
 * and any descriptor leaked by its caller would live that long too (the
 * ready fd above all: peapodd must see EOF on it when we fail). */
static void close_all_fds_except(const int *keep, size_t n) {
        unsigned lo = 3;

        for (;;) {
                unsigned next = ~0U;

                for (size_t i = 0; i < n; i++)
                        if (keep[i] >= (int) lo && (unsigned) keep[i] < next)
                                next = (unsigned) keep[i];
                if (next > lo)
                        (void) close_range(lo, next == ~0U ? ~0U : next - 1, 0);
                if (next == ~0U)
                        return;
                lo = next + 1;
        }
}

static int write_os_release(int root_fd) {
        _cleanup_close_ int etc_fd = -EBADF, fd = -EBADF;

        etc_fd = mkdirat_nofollow(root_fd, "etc", 0755);
        if (etc_fd < 0)
                return etc_fd;
        /* O_PATH fds cannot be written through; open a real one below it. */
        fd = openat(root_fd, "etc/os-release", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        return loop_write(fd, os_release, sizeof(os_release) - 1);
}

static int loopback_up(void) {
        _cleanup_close_ int fd = -EBADF;
        struct ifreq ifr = {};

        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        strncpy(ifr.ifr_name, "lo", sizeof(ifr.ifr_name) - 1);
        if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -errno;
        if (ifr.ifr_flags & IFF_UP)
                return 0;
        ifr.ifr_flags |= IFF_UP;
        if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
                return -errno;
        return 0;
}

/* Apps get no CAP_NET_RAW by default (it forges ARP and reaches past the
 * gateway), so ping must work through ICMP echo sockets (SOCK_DGRAM,
 * IPPROTO_ICMP), which the kernel opens to the groups in this sysctl: all
 * of them. Such a socket only sends echo requests with the kernel's own
 * headers. The sysctl is per network namespace: this writes the pod's, never
 * the host's (a --host-network pod does not call this). */
static int ping_sockets_allow(void) {
        _cleanup_close_ int fd = -EBADF;
        static const char range[] = "0 2147483647\n";

        fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return loop_write(fd, range, sizeof(range) - 1);
}

/* --sysctl=KEY=VALUE, checked by init_args_parse(): a key the kernel keeps
 * per network or IPC namespace. Written here, in PID 1's namespaces before
 * any app runs: /proc/sys/net and the IPC sysctls show the namespaces of
 * the process that opens them, the pod's. The key's components are
 * [A-Za-z0-9_-], so the path stays below /proc/sys, and O_NOFOLLOW keeps it
 * from following anything. */
static int sysctl_write(const char *assignment) {
        const char *eq = strchr(assignment, '=');
        char path[sizeof("/proc/sys/") + SYSCTL_KEY_MAX];
        _cleanup_close_ int fd = -EBADF;
        size_t n;
        int r;

        n = (size_t) (eq - assignment);
        memcpy(path, "/proc/sys/", strlen("/proc/sys/"));
        for (size_t i = 0; i < n; i++)
                path[strlen("/proc/sys/") + i] = assignment[i] == '.' ? '/' : assignment[i];
        path[strlen("/proc/sys/") + n] = 0;
        fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = loop_write(fd, eq + 1, strlen(eq + 1));
        if (r < 0)
                return r;
        return loop_write(fd, "\n", 1);
}

/* What `machinectl shell` and `login` need to get as far as asking for a
 * shell, so that they get our answer (stage1-bus.h) instead of a bare
 * "Input/output error": a devpts of the pod's own (machined allocates the
 * terminal in the leader's namespaces) and a bus socket. Called in the new
 * root, before it turns read-only. Returns the listening socket. */
static int machine_endpoints_setup(void) {
        union {
                struct sockaddr sa;
                struct sockaddr_un un;
        } sa = { .un.sun_family = AF_UNIX, .un.sun_path = STAGE1_BUS_SOCKET };
        _cleanup_close_ int fd = -EBADF;

        if ((mkdir("/dev", 0755) < 0 && errno != EEXIST) || (mkdir("/dev/pts", 0755) < 0 && errno != EEXIST))
                return -errno;
        /* A new instance: none of the host's or an app's terminals. */
        if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") < 0)
                return -errno;
        if (symlink("pts/ptmx", "/dev/ptmx") < 0)
                return -errno;

        /* sd-bus's x-machine-unix: address, which machined uses, connects
         * to /var/run/dbus/system_bus_socket; /var/run is /run as on any
         * system. Absolute: ".." onto our root would step into what is
         * mounted on it, the first app's root for machined's copy (see
         * stage1-machine-root.h), while "/" starts at our root itself. */
        if ((mkdir("/run", 0755) < 0 && errno != EEXIST) || (mkdir("/run/dbus", 0755) < 0 && errno != EEXIST) ||
            (mkdir("/var", 0755) < 0 && errno != EEXIST) || symlink("/run", "/var/run") < 0)
                return -errno;
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (bind(fd, &sa.sa, sizeof(sa.un)) < 0)
                return -errno;
        if (chmod(STAGE1_BUS_SOCKET, 0600) < 0)
                return -errno;
        if (listen(fd, 4) < 0)
                return -errno;
        return TAKE_FD(fd);
}

/* Answers one connection to the bus socket, for at most 5 s (PID 1 reaps
 * nothing meanwhile; signals wait in the signalfd). */
static void machine_bus_answer(int listen_fd) {
        _cleanup_close_ int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                return;
        (void) stage1_bus_serve(fd, "org.freedesktop.DBus.Error.NotSupported",
                                "A peapod pod has no init, getty or shell of its own for machinectl to start one with; "
                                "use 'peapod enter POD' (with -t for a terminal), see peapod(1), MACHINECTL.",
                                5 * USEC_PER_SEC);
}

/* The pod's root: a small tmpfs with os-release and the namespace's /proc,
 * pivoted into. Returns an exit code: 0 when done. */
static int pid1_make_root(const InitArgs *args) {
        _cleanup_close_ int root_fd = -EBADF, proc_fd = -EBADF;
        char p[FD_PATH_MAX];
        int r;

        if (mount("tmpfs", args->root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") < 0) {
                log_error_errno(errno, "Failed to mount tmpfs on %s: %m", args->root);
                return STAGE1_INIT_EXIT_ROOT_TMPFS;
        }
        root_fd = open(args->root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                log_error_errno(errno, "Failed to open %s: %m", args->root);
                return STAGE1_INIT_EXIT_ROOT_TMPFS;
        }

        r = write_os_release(root_fd);
        if (r < 0) {
                log_error_errno(r, "Failed to write %s/etc/os-release: %m", args->root);
                return STAGE1_INIT_EXIT_ROOT_POPULATE;
        }
        proc_fd = mkdirat_nofollow(root_fd, "proc", 0555);
        if (proc_fd < 0) {
                log_error_errno(proc_fd, "Failed to create %s/proc: %m", args->root);
                return STAGE1_INIT_EXIT_ROOT_POPULATE;
        }

        /* Mounted by us, after unshare(CLONE_NEWPID) and fork: it shows
         * the pod's processes, not the host's. */
        if (mount("proc", fd_path(p, proc_fd), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
                log_error_errno(errno, "Failed to mount proc on %s/proc: %m", args->root);
                return STAGE1_INIT_EXIT_PROC;
        }

        /* machined runs `machinectl shell/login/copy-to/copy-from/bind` in
         * the leader's mount namespace, relative to the leader's root. If
         * that root were the host's, they would hand out the host. So
         * pivot into the tmpfs and detach the old root: afterwards no path
         * in this namespace leads back to a host file. */
        if (fchdir(root_fd) < 0 ||
            syscall(SYS_pivot_root, ".", ".") < 0 ||
            umount2(".", MNT_DETACH) < 0 ||
            chdir("/") < 0) {
                log_error_errno(errno, "Failed to pivot into %s: %m", args->root);
                return STAGE1_INIT_EXIT_PIVOT;
        }
        return 0;
}

/* Returns an exit code: 0 when the root is ready. */
static int pid1_setup(const InitArgs *args, int *ret_bus_fd) {
        int r;

        /* Our mounts must not leak to the host, and the host's later
         * mounts must not show up in the pod. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                log_error_errno(errno, "Failed to make mount propagation private: %m");
                return STAGE1_INIT_EXIT_PROPAGATION;
        }

        r = pid1_make_root(args);
        if (r != 0)
                return r;

        if (sethostname(args->hostname, strlen(args->hostname)) < 0) {
                log_error_errno(errno, "Failed to set hostname: %m");
                return STAGE1_INIT_EXIT_HOSTNAME;
        }

        /* The host's lo is the host's business. */
        r = args->host_network ? 0 : loopback_up();
        if (r < 0) {
                log_error_errno(r, "Failed to bring up loopback: %m");
                return STAGE1_INIT_EXIT_LOOPBACK;
        }
        r = args->host_network ? 0 : ping_sockets_allow();
        if (r < 0) {
                log_error_errno(r, "Failed to set net.ipv4.ping_group_range: %m");
                return STAGE1_INIT_EXIT_LOOPBACK;
        }
        /* After ping_group_range: a pod that asks for another range gets it. */
        for (size_t i = 0; i < args->n_sysctls; i++) {
                r = sysctl_write(args->sysctls[i]);
                if (r < 0) {
                        log_error_errno(r, "Failed to set sysctl %s: %m", args->sysctls[i]);
                        return STAGE1_INIT_EXIT_SYSCTL;
                }
        }

        /* Not being able to say why machinectl shell fails is no reason to
         * fail the pod. */
        *ret_bus_fd = machine_endpoints_setup();
        if (*ret_bus_fd < 0)
                log_warning_errno(*ret_bus_fd, "Failed to set up the machine's devpts and bus socket, "
                                  "machinectl shell will not say why it fails: %m");

        /* Nothing ever needs to write here; read-only stops copy-to too. */
        if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL) < 0) {
                log_error_errno(errno, "Failed to remount the root read-only: %m");
                return STAGE1_INIT_EXIT_READ_ONLY;
        }

        return 0;
}

static bool is_stop_signal(int sig) {
        return sig == SIGTERM || sig == SIGINT || sig == SIGRTMIN + 3 || sig == SIGRTMIN + 4;
}

/* Whether any process but us is left in the pod's PID namespace: our /proc
 * is the namespace's. Apps are not our children (their helpers, outside
 * the namespace, are their parents), so waitpid() cannot tell. */
static bool others_left(void) {
        DIR *d = opendir("/proc");
        struct dirent *de;
        bool found = false;

        if (!d)
                return false;
        while (!found && (de = readdir(d)))
                found = de->d_name[0] >= '1' && de->d_name[0] <= '9' && !streq(de->d_name, "1");
        closedir(d);
        return found;
}

/* PID 1's life once the pod is ready: reap, answer the machine bus socket,
 * and stop on a stop signal. */
static _noreturn_ void pid1_serve(int sfd, int bus_fd) {
        /* A stop (machined's poweroff and halt send SIGRTMIN+4 and +3 to
         * us, its reboot SIGINT, `kill` of the scope SIGTERM) is graceful,
         * as `machinectl terminate` and `peapod stop` are through systemd:
         * SIGTERM to every process of the namespace, then as long as the
         * apps' TimeoutStopSec for them to exit. Our exit then makes the
         * kernel SIGKILL what is left; the scope goes empty and systemd
         * stops the app units bound to it (apps in PID namespaces of their
         * own are not ours to signal: they get their SIGTERM from that). */
        for (uint64_t deadline = UINT64_MAX;;) {
                struct signalfd_siginfo si;
                /* The bus socket is not answered while stopping. */
                struct pollfd pfd[2] = {
                        { .fd = sfd, .events = POLLIN },
                        { .fd = deadline == UINT64_MAX ? bus_fd : -1, .events = POLLIN },
                };
                ssize_t n;

                if (deadline != UINT64_MAX) {
                        uint64_t now = now_usec(CLOCK_MONOTONIC);

                        if (now >= deadline || !others_left())
                                _exit(EXIT_SUCCESS);
                }
                /* Nothing tells us when the last app is gone: while
                 * stopping, look every 50 ms. */
                if (poll(pfd, 2, deadline == UINT64_MAX ? -1 : 50) <= 0)
                        continue;
                if (pfd[1].revents & POLLIN)
                        machine_bus_answer(bus_fd);
                if (!(pfd[0].revents & POLLIN))
                        continue;

                n = read(sfd, &si, sizeof(si));
                if (n < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (n != (ssize_t) sizeof(si))
                        _exit(EXIT_FAILURE);

                if (si.ssi_signo == SIGCHLD)
                        while (waitpid(-1, NULL, WNOHANG) > 0)
                                ;
                else if (is_stop_signal((int) si.ssi_signo) && deadline == UINT64_MAX) {
                        (void) kill(-1, SIGTERM);
                        deadline = now_usec(CLOCK_MONOTONIC) + STAGE1_STOP_TIMEOUT_USEC;
                }
        }
}

static _noreturn_ void pid1_main(const InitArgs *args, int ready_pipe) {
        _cleanup_close_ int sfd = -EBADF, null_fd = -EBADF, bus_fd = -EBADF;
        sigset_t all;
        int r;

        /* If our caller dies before we are ready, nobody will learn our pid:
         * go too. Cleared again once ready. */
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);

        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0) {
                log_error_errno(errno, "Failed to open /dev/null: %m");
                _exit(STAGE1_INIT_EXIT_ROOT_POPULATE);
        }
        close_all_fds_except((int[]) { ready_pipe, null_fd }, 2);

        r = pid1_setup(args, &bus_fd);
        if (r != 0)
                _exit(r);

        /* As PID 1 the kernel drops every signal we have no handler for;
         * blocked signals are still queued, and the signalfd is our handler.
         * All were blocked before fork(), so none is lost in between. */
        sigfillset(&all);
        sfd = signalfd(-1, &all, SFD_CLOEXEC);
        if (sfd < 0) {
                log_error_errno(errno, "Failed to create signalfd: %m");
                _exit(STAGE1_INIT_EXIT_SIGNALS);
        }

        (void) prctl(PR_SET_PDEATHSIG, 0);
        if (loop_write(ready_pipe, "R", 1) < 0)
                _exit(STAGE1_INIT_EXIT_READY_FD);
        ready_pipe = safe_close(ready_pipe);

        /* From here on, hold nothing of the caller's: peapodd may read our
         * stdout/stderr until EOF, and PID 1 has nothing more to say. */
        (void) dup2(null_fd, STDIN_FILENO);
        (void) dup2(null_fd, STDOUT_FILENO);
        (void) dup2(null_fd, STDERR_FILENO);
        null_fd = safe_close(null_fd);

        pid1_serve(sfd, bus_fd);
}

/* Wait for PID 1 to be ready, then tell the caller its pid on --ready-fd.
 * Returns our exit code. */
static int pid1_wait_ready(const InitArgs *args, pid_t pid, int ready_r) {
        char line[32];
        ssize_t n;
        int r, status = 0;

        do
                n = read(ready_r, line, 1);
        while (n < 0 && errno == EINTR);

        if (n != 1) {
                /* PID 1 said why on stderr and exited with its own code,
                 * unless something killed it. */
                if (waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) != 0)
                        return WEXITSTATUS(status);
                if (WIFSIGNALED(status))
                        log_error("PID 1 died before it was ready: %s.", strsignal(WTERMSIG(status)));
                else
                        log_error("PID 1 exited before it was ready.");
                return STAGE1_INIT_EXIT_PID1_DIED;
        }

        /* A gone reader must be an error we see, not a signal that kills us
         * before we can kill the orphaned PID 1. */
        (void) signal(SIGPIPE, SIG_IGN);
        snprintf(line, sizeof(line), "%i\n", (int) pid);
        r = loop_write(args->ready_fd, line, strlen(line));
        if (r < 0) {
                (void) kill(pid, SIGKILL);
                log_error_errno(r, "Failed to write to --ready-fd=%d: %m", args->ready_fd);
                return STAGE1_INIT_EXIT_READY_FD;
        }
        if (close(args->ready_fd) < 0 && errno != EINTR) {
                (void) kill(pid, SIGKILL);
                log_error_errno(errno, "Failed to close --ready-fd=%d: %m", args->ready_fd);
                return STAGE1_INIT_EXIT_READY_FD;
        }
        return EXIT_SUCCESS;
}

static int run(int argc, char *argv[]) {
        _cleanup_close_ int ready_r = -EBADF, ready_w = -EBADF;
        InitArgs args;
        sigset_t all, old;
        pid_t pid;
        int r;

        r = init_args_parse(argc, argv, &args);
        if (r < 0)
                return STAGE1_INIT_EXIT_USAGE;
        if (r > 0)
                return EXIT_SUCCESS;

        if (fcntl(args.ready_fd, F_GETFD) < 0) {
                log_error_errno(errno, "--ready-fd=%d is not open: %m", args.ready_fd);
                return STAGE1_INIT_EXIT_USAGE;
        }

        if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWPID | (args.host_network ? 0 : CLONE_NEWNET)) < 0) {
                log_error_errno(errno, "Failed to create namespaces: %m");
                return STAGE1_INIT_EXIT_NAMESPACES;
        }
        stage1_children_in_pod();

        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                log_error_errno(errno, "Failed to create pipe: %m");
                return STAGE1_INIT_EXIT_FORK;
        }
        ready_r = p[0];
        ready_w = p[1];

        sigfillset(&all);
        (void) sigprocmask(SIG_SETMASK, &all, &old);
        pid = fork();
        if (pid < 0) {
                log_error_errno(errno, "Failed to fork PID 1: %m");
                return STAGE1_INIT_EXIT_FORK;
        }
        if (pid == 0) {
                ready_r = safe_close(ready_r);
                pid1_main(&args, TAKE_FD(ready_w));
        }
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        ready_w = safe_close(ready_w);

        return pid1_wait_ready(&args, pid, ready_r);
}

int main(int argc, char *argv[]) {
        log_set_program(program_invocation_short_name);
        /* PID 1 is in the pod for the pod's whole life. */
        return stage1_helper_main(argc, argv, run, STAGE1_INIT_EXIT_SEALED);
}
