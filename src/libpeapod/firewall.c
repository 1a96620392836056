/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/param.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"
#include "firewall.h"
#include "string-util.h"
#include "strv.h"

#define FIREWALL_STDERR_MAX 1024

/* The first of CNI_TOOLS_PATH's directories that has an executable name. */
static int tool_find(const char *name, char **ret) {
        const char *p = CNI_TOOLS_PATH;

        while (*p) {
                size_t n = strcspn(p, ":");
                char *path;

                if (asprintf(&path, "%.*s/%s", (int) n, p, name) < 0)
                        return -ENOMEM;
                if (access(path, X_OK) >= 0) {
                        *ret = path;
                        return 0;
                }
                free(path);
                p += n;
                p += *p == ':';
        }
        return -ENOENT;
}

/* Runs argv[0] with input (may be NULL) on stdin, in a clean environment.
 * Returns its exit status (0..255), with the first line of its stderr in
 * errbuf, or -errno if it could not run or died by a signal. */
static int tool_run(char * const *argv, const char *input, char errbuf[static FIREWALL_STDERR_MAX + 1]) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int in_r = -EBADF, err_r = -EBADF;
        int in[2], ep[2], status;
        size_t len = 0;
        pid_t pid;
        int r;

        errbuf[0] = 0;
        r = tool_find(argv[0], &path);
        if (r < 0)
                return r;
        if (pipe2(in, O_CLOEXEC) < 0)
                return -errno;
        in_r = in[0];
        /* The input is a few hundred bytes: it fits the pipe's buffer, so it
         * is written whole before the tool starts. */
        if (input) {
                size_t n = strlen(input);

                if (n > 4096 || write(in[1], input, n) != (ssize_t) n) {
                        safe_close(in[1]);
                        return -EIO;
                }
        }
        safe_close(in[1]);
        if (pipe2(ep, O_CLOEXEC) < 0)
                return -errno;
        err_r = ep[0];

        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(ep[1]);
                return r;
        }
        if (pid == 0) {
                sigset_t ss;
                int null_fd;

                sigemptyset(&ss);
                sigprocmask(SIG_SETMASK, &ss, NULL);
                for (int s = 1; s < NSIG; s++)
                        (void) signal(s, SIG_DFL);
                null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                if (null_fd < 0 || dup2(in_r, STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
                    dup2(ep[1], STDERR_FILENO) < 0)
                        _exit(126);
                close_range(3, ~0U, 0);
                execve(path, argv, STRV_MAKE("PATH=" CNI_TOOLS_PATH));
                _exit(127);
        }
        safe_close(ep[1]);

        for (;;) {
                char buf[512];
                ssize_t n = read(err_r, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                /* Keep the start: iptables says what is wrong first. */
                if (len < FIREWALL_STDERR_MAX) {
                        size_t k = MIN((size_t) n, FIREWALL_STDERR_MAX - len);
                        memcpy(errbuf + len, buf, k);
                        len += k;
                }
        }
        errbuf[len] = 0;
        errbuf[strcspn(errbuf, "\n")] = 0;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (!WIFEXITED(status))
                return -EIO;
        return WEXITSTATUS(status);
}

/* -w: wait for the xtables lock (the legacy backend; CNI plugins run
 * iptables at the same time). */
#define IPTABLES_WAIT "-w", "10"

static int iptables_restore(const char *script, PeapodError *err) {
        char errbuf[FIREWALL_STDERR_MAX + 1];
        int r;

        r = tool_run(STRV_MAKE("iptables-restore", IPTABLES_WAIT, "--noflush"), script, errbuf);
        if (r < 0)
                return peapod_error_set(err, r, "Cannot run iptables-restore to guard the host's loopback: %s",
                                        strerror(-r));
        if (r > 0)
                return peapod_error_set(err, -EIO,
                                        "iptables-restore failed to guard the host's loopback (exit status %d): %.200s", r,
                                        errbuf);
        return 0;
}

int firewall_loopback_guard(PeapodError *err) {
        char errbuf[FIREWALL_STDERR_MAX + 1];
        int r;

        /* With --noflush the declaration of a chain that exists flushes that
         * chain only, and the new rules come in the same commit: the rules
         * are replaced, never briefly missing, and never doubled. Both
         * directions: with route_localnet the bridge accepts 127.0.0.0/8 as
         * a source too, and a forged "local" sender would reach services
         * that trust 127.0.0.1 (blindly for TCP, fully for UDP), on the host
         * or in other pods. */
        r = iptables_restore("*filter\n"
                             ":" FIREWALL_LOOPBACK_CHAIN " - [0:0]\n"
                             "-A " FIREWALL_LOOPBACK_CHAIN " ! -i lo -d 127.0.0.0/8"
                             " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"
                             " -m comment --comment \"peapod: loopback stays loopback\" -j DROP\n"
                             "-A " FIREWALL_LOOPBACK_CHAIN " ! -i lo -s 127.0.0.0/8"
                             " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"
                             " -m comment --comment \"peapod: loopback stays loopback\" -j DROP\n"
                             "COMMIT\n",
                             err);
        if (r < 0)
                return r;

        /* The jumps go first in their chains, so that no ACCEPT of the
         * host's own firewall before them lets the packets through. */
        FOREACH_STRV(base, STRV_MAKE("INPUT", "FORWARD")) {
                _cleanup_free_ char *script = NULL;

                r = tool_run(STRV_MAKE("iptables", IPTABLES_WAIT, "-t", "filter", "-C", base, "-j", FIREWALL_LOOPBACK_CHAIN),
                             NULL, errbuf);
                if (r < 0)
                        return peapod_error_set(err, r, "Cannot run iptables to guard the host's loopback: %s",
                                                strerror(-r));
                if (r == 0)
                        continue;
                if (r != 1) /* 1: no such rule */
                        return peapod_error_set(err, -EIO, "iptables -C %s failed (exit status %d): %.200s", base, r,
                                                errbuf);
                if (asprintf(&script, "*filter\n-I %s 1 -j " FIREWALL_LOOPBACK_CHAIN "\nCOMMIT\n", base) < 0)
                        return -ENOMEM;
                r = iptables_restore(script, err);
                if (r < 0)
                        return r;
        }
        return 0;
}
