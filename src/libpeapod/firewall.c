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
#include "subprocess.h"
#include "string-util.h"
#include "strv.h"

#define FIREWALL_STDERR_MAX 1024
#define FIREWALL_INPUT_MAX (1024 * 1024)
/* iptables waits up to 10 s for the xtables lock (-w 10); past this it is
 * stuck, not waiting. */
#define FIREWALL_TIMEOUT_USEC (30ULL * 1000000ULL)

/* Runs argv[0], found in CNI_TOOLS_PATH, with input (may be NULL) on
 * stdin, in a clean environment. Returns its exit status (0..255), with the
 * first line of its stderr in errbuf, or -errno if it could not run or died
 * by a signal. */
static int tool_run(char * const *argv, const char *input, char errbuf[static FIREWALL_STDERR_MAX + 1]) {
        _cleanup_free_ char *path = NULL;
        SpawnResult res = {};
        int r;

        errbuf[0] = 0;
        if (input && strlen(input) > FIREWALL_INPUT_MAX)
                return -E2BIG;
        r = spawn_find_program(CNI_TOOLS_PATH, argv[0], &path);
        if (r < 0)
                return r;
        r = spawn_run(&(SpawnOptions) {
                              .path = path,
                              .argv = argv,
                              .env = STRV_MAKE("PATH=" CNI_TOOLS_PATH),
                              .input = input,
                              .input_size = input ? strlen(input) : 0,
                              /* Keep the start: iptables says what is wrong first. */
                              .err_max = FIREWALL_STDERR_MAX,
                              .timeout_usec = FIREWALL_TIMEOUT_USEC,
                      },
                      &res);
        if (r < 0)
                return r;
        memcpy(errbuf, res.err, res.err_size + 1);
        errbuf[strcspn(errbuf, "\n")] = 0;
        r = res.code == CLD_EXITED ? res.status : -EIO;
        spawn_result_done(&res);
        return r;
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
