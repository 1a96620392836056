/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/param.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cni.h"
#include "firewall.h"
#include "string-util.h"
#include "strv.h"

#define FIREWALL_STDERR_MAX 1024
#define FIREWALL_INPUT_MAX (1024 * 1024)

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
        _cleanup_close_ int in_w = -EBADF, err_r = -EBADF;
        int in[2], ep[2], status;
        size_t len = 0;
        pid_t pid;
        int r;

        errbuf[0] = 0;
        if (input && strlen(input) > FIREWALL_INPUT_MAX)
                return -E2BIG;
        r = tool_find(argv[0], &path);
        if (r < 0)
                return r;
        /* stdin is a socket so that a tool that exits without reading all
         * cannot kill us with SIGPIPE (send() with MSG_NOSIGNAL). */
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) < 0)
                return -errno;
        in_w = in[0];
        if (pipe2(ep, O_CLOEXEC) < 0) {
                safe_close(in[1]);
                return -errno;
        }
        err_r = ep[0];

        pid = fork();
        if (pid < 0) {
                r = -errno;
                safe_close(in[1]);
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
                if (null_fd < 0 || dup2(in[1], STDIN_FILENO) < 0 || dup2(null_fd, STDOUT_FILENO) < 0 ||
                    dup2(ep[1], STDERR_FILENO) < 0)
                        _exit(126);
                close_range(3, ~0U, 0);
                execve(path, argv, STRV_MAKE("PATH=" CNI_TOOLS_PATH));
                _exit(127);
        }
        safe_close(in[1]);
        safe_close(ep[1]);

        /* The tool reads all its input before it writes much: its stderr
         * cannot fill while we are still writing. */
        for (size_t off = 0, n = input ? strlen(input) : 0; off < n;) {
                ssize_t k = send(in_w, input + off, n - off, MSG_NOSIGNAL);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break; /* it stopped reading: its exit status says why */
                off += (size_t) k;
        }
        in_w = safe_close(in_w);

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
         * directions: with route_localnet the bridge accepts 127.0.0.0/8
         * sources too (all but the host's own 127.0.0.1), and a forged
         * "local" sender would reach services that trust 127.0.0.0/8
         * (blindly for TCP, fully for UDP). */
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

/* Names and addresses end up in an ebtables-restore script: one that is
 * not what it claims to be (a newline in a "name") must never get there. */
static bool ifname_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        return n > 0 && n < 16 && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static bool mac_is_valid(const char *s) {
        if (!s || strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != ':' : !strchr("0123456789abcdefABCDEF", s[i]))
                        return false;
        return true;
}

static int port_chain(const char *pod_id, char ret[static sizeof(FIREWALL_PORT_CHAIN_PREFIX) + 20]) {
        if (!pod_id || strlen(pod_id) < 20 || strspn(pod_id, "0123456789abcdef") < 20)
                return -EINVAL;
        snprintf(ret, sizeof(FIREWALL_PORT_CHAIN_PREFIX) + 20, FIREWALL_PORT_CHAIN_PREFIX "%.20s", pod_id);
        return 0;
}

static int strextendf(char **s, const char *fmt, ...) _printf_(2, 3);
static int strextendf(char **s, const char *fmt, ...) {
        _cleanup_free_ char *add = NULL;
        size_t n = *s ? strlen(*s) : 0;
        va_list ap;
        char *t;
        int k;

        va_start(ap, fmt);
        k = vasprintf(&add, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        t = realloc(*s, n + (size_t) k + 1);
        if (!t)
                return -ENOMEM;
        memcpy(t + n, add, (size_t) k + 1);
        *s = t;
        return 0;
}

int firewall_port_rules_append(const char *pod_id, const char *host_ifname, const char *mac, char * const *ipv4,
                               char **rules, PeapodError *err) {
        char chain[sizeof(FIREWALL_PORT_CHAIN_PREFIX) + 20];
        int r;

        if (port_chain(pod_id, chain) < 0)
                return -EINVAL;
        if (!ifname_is_valid(host_ifname))
                return peapod_error_set(err, -EINVAL, "Invalid host interface name in the CNI result");
        if (!mac_is_valid(mac))
                return peapod_error_set(err, -EINVAL, "Invalid MAC address of interface %s's peer in the CNI result",
                                        host_ifname);
        r = strextendf(rules,
                       "-A %1$s -i %2$s -s ! %3$s -j DROP\n"
                       "-A %1$s -i %2$s -p ARP --arp-mac-src ! %3$s -j DROP\n",
                       chain, host_ifname, mac);
        if (r < 0)
                return r;
        FOREACH_STRV(a, ipv4) {
                struct in_addr in;
                char text[INET_ADDRSTRLEN];

                if (inet_pton(AF_INET, a, &in) != 1 || !inet_ntop(AF_INET, &in, text, sizeof(text)))
                        return peapod_error_set(err, -EINVAL, "Invalid IPv4 address '%.64s' in the CNI result", a);
                r = strextendf(rules,
                               "-A %1$s -i %2$s -p ARP --arp-ip-src %3$s -j RETURN\n"
                               "-A %1$s -i %2$s -p IPv4 --ip-src %3$s -j RETURN\n",
                               chain, host_ifname, text);
                if (r < 0)
                        return r;
        }
        return strextendf(rules,
                          "-A %1$s -i %2$s -p IPv6 -j RETURN\n"
                          "-A %1$s -i %2$s -j DROP\n",
                          chain, host_ifname);
}

static int ebtables_restore(const char *script, PeapodError *err) {
        char errbuf[FIREWALL_STDERR_MAX + 1];
        int r;

        r = tool_run(STRV_MAKE("ebtables-restore", "--noflush"), script, errbuf);
        if (r < 0)
                return peapod_error_set(err, r, "Cannot run ebtables-restore to bind the pod's bridge ports: %s",
                                        strerror(-r));
        if (r > 0)
                return peapod_error_set(err, -EIO,
                                        "ebtables-restore failed to bind the pod's bridge ports (exit status %d): %.200s", r,
                                        errbuf);
        return 0;
}

int firewall_pod_ports_unbind(const char *pod_id, PeapodError *err) {
        char chain[sizeof(FIREWALL_PORT_CHAIN_PREFIX) + 20], errbuf[FIREWALL_STDERR_MAX + 1];
        int r;

        if (port_chain(pod_id, chain) < 0)
                return -EINVAL;
        r = tool_run(STRV_MAKE("ebtables", "-t", "filter", "-L", chain), NULL, errbuf);
        if (r == -ENOENT || r == 1)
                return 0; /* no ebtables, or no such chain: nothing of ours */
        if (r < 0)
                return peapod_error_set(err, r, "Cannot run ebtables: %s", strerror(-r));
        if (r > 0)
                return peapod_error_set(err, -EIO, "ebtables -L %s failed (exit status %d): %.200s", chain, r, errbuf);
        /* Each jump on its own: one an operator deleted must not keep the
         * others and the chain. */
        FOREACH_STRV(base, STRV_MAKE("INPUT", "FORWARD"))
                (void) tool_run(STRV_MAKE("ebtables", "-t", "filter", "-D", base, "-j", chain), NULL, errbuf);
        r = tool_run(STRV_MAKE("ebtables", "-t", "filter", "-F", chain), NULL, errbuf);
        if (r == 0)
                r = tool_run(STRV_MAKE("ebtables", "-t", "filter", "-X", chain), NULL, errbuf);
        if (r < 0)
                return peapod_error_set(err, r, "Cannot run ebtables: %s", strerror(-r));
        if (r > 0)
                return peapod_error_set(err, -EIO, "Failed to remove ebtables chain %s (exit status %d): %.200s", chain,
                                        r, errbuf);
        return 0;
}

int firewall_pod_ports_bind(const char *pod_id, const char *rules, PeapodError *err) {
        char chain[sizeof(FIREWALL_PORT_CHAIN_PREFIX) + 20];
        _cleanup_free_ char *script = NULL;
        int r;

        if (port_chain(pod_id, chain) < 0)
                return -EINVAL;
        /* A chain left by a crash is removed with its jumps first, so that
         * the jumps below are never doubled. */
        r = firewall_pod_ports_unbind(pod_id, err);
        if (r < 0)
                return r;
        if (asprintf(&script,
                     "*filter\n"
                     ":%1$s RETURN\n"
                     "%2$s"
                     "-I INPUT 1 -j %1$s\n"
                     "-I FORWARD 1 -j %1$s\n"
                     "COMMIT\n",
                     chain, strempty(rules)) < 0)
                return -ENOMEM;
        return ebtables_restore(script, err);
}
