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
#include "valid-util.h"

#define FIREWALL_STDERR_MAX 1024
#define FIREWALL_INPUT_MAX (1024 * 1024)
/* iptables waits up to 10 s for the xtables lock (-w 10); past this it is
 * stuck, not waiting. */
#define FIREWALL_TIMEOUT_USEC (30ULL * 1000000ULL)

/* Names and addresses end up in an ebtables-restore script: one that is
 * not what it claims to be (a newline in a "name") must never get there
 * (ifname_is_valid(), and these). */
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

/* The pod chains' listing, at most this much of it: ~700 bytes a pod. */
#define PORTS_LIST_OUT_MAX (64U * 1024 * 1024)

/* -w: wait for the xtables lock (the legacy backend; CNI plugins run
 * iptables at the same time). */
#define IPTABLES_WAIT "-w", "10"

/* With --noflush the declaration of a chain that exists flushes that chain
 * only, and the new rules come in the same commit: the rules are replaced,
 * never briefly missing, and never doubled. Both directions: with
 * route_localnet the bridge accepts 127.0.0.0/8 sources too (all but the
 * host's own 127.0.0.1), and a forged "local" sender would reach services
 * that trust 127.0.0.0/8 (blindly for TCP, fully for UDP). */
#define LOOPBACK_CHAIN_RULES                                                  \
        "*filter\n"                                                           \
        ":" FIREWALL_LOOPBACK_CHAIN " - [0:0]\n"                              \
        "-A " FIREWALL_LOOPBACK_CHAIN " ! -i lo -d 127.0.0.0/8"                 \
        " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"                   \
        " -m comment --comment \"peapod: loopback stays loopback\" -j DROP\n" \
        "-A " FIREWALL_LOOPBACK_CHAIN " ! -i lo -s 127.0.0.0/8"                 \
        " -m conntrack ! --ctstate RELATED,ESTABLISHED,DNAT"                   \
        " -m comment --comment \"peapod: loopback stays loopback\" -j DROP\n"
static const char loopback_script[] = LOOPBACK_CHAIN_RULES "COMMIT\n";

static const char * const base_chains[] = { "INPUT", "FORWARD" };

/* The same, and each base chain's jump moved to the front in the same
 * commit, when a look (iptables -S, which commits nothing) found the
 * guard not whole: a restore is an nf_tables commit, 10-18 ms here, and
 * the guard comes before the first plugin. -D fails the whole commit when
 * a jump is missing (the first start after a boot, or an operator deleted
 * it): then the steps below, which look at each base chain. */
static const char loopback_script_jumps_moved[] =
        LOOPBACK_CHAIN_RULES
        "-D INPUT -j " FIREWALL_LOOPBACK_CHAIN "\n-I INPUT 1 -j " FIREWALL_LOOPBACK_CHAIN "\n"
        "-D FORWARD -j " FIREWALL_LOOPBACK_CHAIN "\n-I FORWARD 1 -j " FIREWALL_LOOPBACK_CHAIN "\n"
        "COMMIT\n";

/* A jump peapod keeps first in a base chain (to the longest of its
 * chains' names: iptables takes up to 28 bytes). */
typedef struct GuardJump {
        const char *table, *base;
        char chain[sizeof(FIREWALL_MASQ_CHAIN_PREFIX) + 16];
} GuardJump;

/* Each operation is a short sequence of tool runs where the next depends
 * on how the last ended; the tools are children the loop watches. */
typedef enum FirewallStep {
        GUARD_LOOK,        /* iptables -S of the filter table: the guard in place, nothing to do */
        GUARD_CHECK_FIRST, /* iptables -C BASE -j chain, each: all there, nothing to do */
        GUARD_RESTORE_MOVE, /* iptables-restore of the chain, the jumps moved first */
        GUARD_RESTORE,     /* iptables-restore of the chain */
        GUARD_CHECK_JUMP,  /* iptables -C BASE -j chain */
        GUARD_INSERT_JUMP, /* iptables-restore -I BASE 1 -j chain */
        UNBIND_FIRST,      /* ebtables-restore: both jumps and the chain at once, unlisted */
        UNBIND_LIST,       /* ebtables -L chain: is there one? */
        UNBIND_RESTORE,    /* ebtables-restore: both jumps and the chain at once */
        UNBIND_DELETE_JUMP,
        UNBIND_FLUSH,
        UNBIND_DELETE,
        BIND_RESTORE,      /* ebtables-restore of chain and jumps */
        PORTS_LIST,        /* ebtables -L of the filter table: the pods' chains there */
        STEP_DONE,
} FirewallStep;

struct FirewallOp {
        sd_event *event;
        sd_event_source *defer;
        Spawn *spawn;
        FirewallStep step;
        bool bind; /* unbind, then bind */
        size_t base;
        char chain[sizeof(FIREWALL_PORT_CHAIN_PREFIX) + 20];
        char *script;
        /* The host rules (op_step_guard()): the script that moves every
         * jump to the front, the one without the jumps, and the jumps. */
        char *guard_moved, *guard_plain;
        GuardJump *jumps;
        size_t n_jumps;
        int status; /* of the last tool: exit status, or -errno */
        char *out;  /* the last tool's stdout, when asked for (op_exec_full()) */
        char **pod_ids; /* PORTS_LIST: the id prefixes of the pods' chains */
        char errbuf[FIREWALL_STDERR_MAX + 1];
        PeapodError err;
        firewall_callback_t callback;
        void *userdata;
};

FirewallOp *firewall_op_free(FirewallOp *op) {
        if (!op)
                return NULL;
        spawn_free(op->spawn);
        sd_event_source_disable_unref(op->defer);
        sd_event_unref(op->event);
        free(op->script);
        free(op->guard_moved);
        free(op->guard_plain);
        free(op->out);
        strv_free(op->pod_ids);
        free(op->jumps);
        return mfree(op);
}

static void op_step(FirewallOp *op);

static void op_end(FirewallOp *op, int r) {
        op->step = STEP_DONE;
        op->callback(op, r, &op->err, op->userdata);
}

static void on_tool_done(Spawn *sp, int error, SpawnResult *res, void *userdata) {
        FirewallOp *op = userdata;

        if (error < 0)
                op->status = error;
        else {
                /* Keep the first line: iptables says what is wrong first. */
                snprintf(op->errbuf, sizeof(op->errbuf), "%s", strempty(res->err));
                op->errbuf[strcspn(op->errbuf, "\n")] = 0;
                op->status = res->code == CLD_EXITED ? res->status : -EIO;
                free(op->out);
                op->out = TAKE_PTR(res->out);
        }
        op->spawn = spawn_free(op->spawn);
        op_step(op);
}

/* Runs argv[0], found in CNI_TOOLS_PATH, with input (may be NULL) on stdin
 * in a clean environment, its stdout kept in op->out up to out_max (0:
 * none); op_step() goes on from its end. */
static void op_exec_full(FirewallOp *op, char * const *argv, const char *input, size_t out_max) {
        _cleanup_free_ char *path = NULL;
        int r;

        op->errbuf[0] = 0;
        if (input && strlen(input) > FIREWALL_INPUT_MAX)
                r = -E2BIG;
        else
                r = spawn_find_program(CNI_TOOLS_PATH, argv[0], &path);
        if (r >= 0)
                r = spawn_start(op->event,
                                &(SpawnOptions) {
                                        .path = path,
                                        .argv = argv,
                                        .env = STRV_MAKE("PATH=" CNI_TOOLS_PATH),
                                        .input = input,
                                        .input_size = input ? strlen(input) : 0,
                                        .out_max = out_max,
                                        .err_max = FIREWALL_STDERR_MAX,
                                        .timeout_usec = FIREWALL_TIMEOUT_USEC,
                                },
                                on_tool_done, op, &op->spawn);
        if (r < 0) {
                op->status = r;
                op_step(op);
        }
}

static void op_exec(FirewallOp *op, char * const *argv, const char *input) {
        op_exec_full(op, argv, input, 0);
}

static void op_restore_ebtables(FirewallOp *op) {
        op->step = BIND_RESTORE;
        op_exec(op, STRV_MAKE("ebtables-restore", "--noflush"), op->script);
}

static int guard_tool_error(FirewallOp *op, int st, const char *tool) {
        if (st < 0)
                return peapod_error_set(&op->err, st, "Cannot run %s to install peapod's host rules: %s", tool, strerror(-st));
        return peapod_error_set(&op->err, -EIO, "%s failed to install peapod's host rules (exit status %d): %.200s", tool, st,
                                op->errbuf);
}

/* iptables -C of jump op->base: is it there? (Exit status 1: no.) */
static void jump_look(FirewallOp *op) {
        const GuardJump *j = &op->jumps[op->base];

        op_exec(op, STRV_MAKE("iptables", IPTABLES_WAIT, "-t", (char *) j->table, "-C", (char *) j->base, "-j", (char *) j->chain),
                NULL);
}

static void guard_check_jump(FirewallOp *op) {
        op->step = GUARD_CHECK_JUMP;
        jump_look(op);
}

/* Line l (n bytes, no newline) is s, or has s in it. */
static bool line_is(const char *l, size_t n, const char *s) {
        return n == strlen(s) && strneq(l, s, n);
}

static bool line_has(const char *l, size_t n, const char *s) {
        return memmem(l, n, s, strlen(s));
}

/* Whether the filter table's rules (iptables -S) have the loopback guard
 * whole: its chain with its two rules, and its jump the first rule of
 * INPUT and of FORWARD (but for the networks' forwarding jumps, which may
 * come before it). Anything else (another rule first, a rule of the
 * chain changed, another iptables's way of printing them) is a no, and
 * the guard is installed again: the look may only save work. */
static bool loopback_guard_in_place(const char *rules) {
        bool declared = false, to = false, from = false;
        int input_first = -1, forward_first = -1; /* -1: no rule seen yet */
        unsigned n_rules = 0;

        for (const char *l = rules; l && *l;) {
                size_t n = strcspn(l, "\n");

                if (line_is(l, n, "-N " FIREWALL_LOOPBACK_CHAIN))
                        declared = true;
                else if (startswith(l, "-A INPUT ") && input_first < 0)
                        input_first = line_is(l, n, "-A INPUT -j " FIREWALL_LOOPBACK_CHAIN);
                else if (n == strlen("-A FORWARD -j " FIREWALL_FORWARD_CHAIN_PREFIX) + 16 &&
                         startswith(l, "-A FORWARD -j " FIREWALL_FORWARD_CHAIN_PREFIX))
                        ; /* a network's forwarding may come first (firewall.h) */
                else if (startswith(l, "-A FORWARD ") && forward_first < 0)
                        forward_first = line_is(l, n, "-A FORWARD -j " FIREWALL_LOOPBACK_CHAIN);
                else if (startswith(l, "-A " FIREWALL_LOOPBACK_CHAIN " ")) {
                        bool common = line_has(l, n, " ! -i lo ") && line_has(l, n, " -j DROP") &&
                                      line_has(l, n, " ! --ctstate RELATED,ESTABLISHED,DNAT ");

                        n_rules++;
                        to = to || (common && line_has(l, n, " -d 127.0.0.0/8 "));
                        from = from || (common && line_has(l, n, " -s 127.0.0.0/8 "));
                }
                l += n;
                if (*l == '\n')
                        l++;
        }
        return declared && to && from && n_rules == 2 && input_first == 1 && forward_first == 1;
}

/* The chains and the jumps moved first, in one commit; where a jump is
 * missing that commit fails and GUARD_RESTORE goes on one jump at a time. */
static void guard_restore_moved(FirewallOp *op) {
        op->step = GUARD_RESTORE_MOVE;
        op_exec(op, STRV_MAKE("iptables-restore", IPTABLES_WAIT, "--noflush"), op->guard_moved);
}

/* The host rules (the loopback guard, the networks' masquerading): the
 * chains, then a jump to each first in its base chain where it lacks one. */
static void op_step_guard(FirewallOp *op, int st) {
        switch (op->step) {
        case GUARD_LOOK:
                /* A look commits nothing; a restore is an nf_tables commit
                 * (~10-18 ms here) at every start. */
                if (st == 0 && loopback_guard_in_place(op->out))
                        return op_end(op, 0);
                return guard_restore_moved(op);
        case GUARD_CHECK_FIRST:
                if (st == 0 && ++op->base < op->n_jumps)
                        return jump_look(op);
                if (st == 0)
                        return op_end(op, 0);
                /* A jump is missing (or the look failed): all of it again. */
                return guard_restore_moved(op);
        case GUARD_RESTORE_MOVE:
                if (st == 0)
                        return op_end(op, 0);
                op->step = GUARD_RESTORE;
                return op_exec(op, STRV_MAKE("iptables-restore", IPTABLES_WAIT, "--noflush"), op->guard_plain);
        case GUARD_RESTORE:
                if (st != 0)
                        return op_end(op, guard_tool_error(op, st, "iptables-restore"));
                /* The jumps go first in their chains, so that no ACCEPT of the
                 * host's own firewall before them lets the packets through. */
                op->base = 0;
                return guard_check_jump(op);
        case GUARD_CHECK_JUMP:
                if (st == 1) { /* no such rule */
                        const GuardJump *j = &op->jumps[op->base];

                        free(op->script);
                        if (asprintf(&op->script, "*%s\n-I %s 1 -j %s\nCOMMIT\n", j->table, j->base, j->chain) < 0)
                                return op_end(op, -ENOMEM);
                        op->step = GUARD_INSERT_JUMP;
                        return op_exec(op, STRV_MAKE("iptables-restore", IPTABLES_WAIT, "--noflush"), op->script);
                }
                if (st != 0)
                        return op_end(op, st < 0 ? guard_tool_error(op, st, "iptables")
                                                 : peapod_error_set(&op->err, -EIO, "iptables -t %s -C %s failed (exit status %d): %.200s",
                                                                    op->jumps[op->base].table, op->jumps[op->base].base, st,
                                                                    op->errbuf));
                __attribute__((__fallthrough__));
        case GUARD_INSERT_JUMP:
                if (op->step == GUARD_INSERT_JUMP && st != 0)
                        return op_end(op, guard_tool_error(op, st, "iptables-restore"));
                if (++op->base >= op->n_jumps)
                        return op_end(op, 0);
                return guard_check_jump(op);
        default:
                break;
        }
}

/* Both jumps, the chain's rules and the chain, in one run of the tool,
 * which is what costs: a transaction, so that a jump an operator deleted
 * (or a chain that is not there) fails it whole. */
static void op_unbind_restore(FirewallOp *op, FirewallStep step) {
        _cleanup_free_ char *script = NULL;

        if (asprintf(&script, "*filter\n-D INPUT -j %1$s\n-D FORWARD -j %1$s\n-F %1$s\n-X %1$s\nCOMMIT\n", op->chain) < 0)
                return op_end(op, -ENOMEM);
        op->step = step;
        op_exec(op, STRV_MAKE("ebtables-restore", "--noflush"), script);
}

/* A pod's bridge ports: our chain and its jumps removed if there, then
 * (bind) made anew. A plain unbind (the pod's end, when the chain is there)
 * tries the removal first and looks only when it fails; a bind, at a start
 * (when there is none), looks first. */
static void op_step_ports(FirewallOp *op, int st) {
        switch (op->step) {
        case UNBIND_FIRST:
                if (st == 0)
                        return op_end(op, 0);
                op->step = UNBIND_LIST;
                return op_exec(op, STRV_MAKE("ebtables", "-t", "filter", "-L", op->chain), NULL);
        case UNBIND_LIST:
                if (st == -ENOENT || st == 1) /* no ebtables, or no such chain: nothing of ours */
                        return op->bind ? op_restore_ebtables(op) : op_end(op, 0);
                if (st < 0)
                        return op_end(op, peapod_error_set(&op->err, st, "Cannot run ebtables: %s", strerror(-st)));
                if (st > 0)
                        return op_end(op, peapod_error_set(&op->err, -EIO, "ebtables -L %s failed (exit status %d): %.200s",
                                                           op->chain, st, op->errbuf));
                /* Then each goes on its own below, if this fails. */
                return op_unbind_restore(op, UNBIND_RESTORE);
        case UNBIND_RESTORE:
                if (st == 0)
                        return op->bind ? op_restore_ebtables(op) : op_end(op, 0);
                /* Each jump on its own: one an operator deleted must not keep
                 * the others and the chain. */
                op->base = 0;
                op->step = UNBIND_DELETE_JUMP;
                return op_exec(op, STRV_MAKE("ebtables", "-t", "filter", "-D", (char *) base_chains[0], "-j", op->chain),
                               NULL);
        case UNBIND_DELETE_JUMP:
                if (++op->base < ELEMENTSOF(base_chains))
                        return op_exec(op, STRV_MAKE("ebtables", "-t", "filter", "-D", (char *) base_chains[op->base], "-j",
                                                     op->chain),
                                       NULL);
                op->step = UNBIND_FLUSH;
                return op_exec(op, STRV_MAKE("ebtables", "-t", "filter", "-F", op->chain), NULL);
        case UNBIND_FLUSH:
                if (st == 0) {
                        op->step = UNBIND_DELETE;
                        return op_exec(op, STRV_MAKE("ebtables", "-t", "filter", "-X", op->chain), NULL);
                }
                __attribute__((__fallthrough__));
        case UNBIND_DELETE:
                if (st < 0)
                        return op_end(op, peapod_error_set(&op->err, st, "Cannot run ebtables: %s", strerror(-st)));
                if (st > 0)
                        return op_end(op, peapod_error_set(&op->err, -EIO,
                                                           "Failed to remove ebtables chain %s (exit status %d): %.200s",
                                                           op->chain, st, op->errbuf));
                return op->bind ? op_restore_ebtables(op) : op_end(op, 0);
        case BIND_RESTORE:
                if (st < 0)
                        return op_end(op, peapod_error_set(&op->err, st,
                                                           "Cannot run ebtables-restore to bind the pod's bridge ports: %s",
                                                           strerror(-st)));
                if (st > 0)
                        return op_end(op, peapod_error_set(&op->err, -EIO,
                                                           "ebtables-restore failed to bind the pod's bridge ports (exit status %d): %.200s",
                                                           st, op->errbuf));
                return op_end(op, 0);
        default:
                break;
        }
}

int firewall_port_chains_parse(const char *out, char ***ret) {
        _cleanup_strv_free_ char **ids = NULL;
        const char *line = out;

        while (line && *line) {
                const char *nl = strchr(line, '\n'), *name;
                size_t len = nl ? (size_t) (nl - line) : strlen(line);

                name = startswith(line, "Bridge chain: " FIREWALL_PORT_CHAIN_PREFIX);
                if (name && (size_t) (name - line) + 21 <= len && strspn(name, "0123456789abcdef") == 20 && name[20] == ',') {
                        char *id = strndup(name, 20);

                        if (!id || strv_consume(&ids, id) < 0)
                                return -ENOMEM;
                }
                line = nl ? nl + 1 : NULL;
        }
        *ret = TAKE_PTR(ids);
        return 0;
}

static void op_step_ports_list(FirewallOp *op, int st) {
        if (st == -ENOENT) /* no ebtables: no chain of ours either */
                return op_end(op, 0);
        if (st < 0)
                return op_end(op, peapod_error_set(&op->err, st, "Cannot run ebtables: %s", strerror(-st)));
        if (st > 0)
                return op_end(op, peapod_error_set(&op->err, -EIO, "ebtables -L failed (exit status %d): %.200s", st,
                                                   op->errbuf));
        op_end(op, firewall_port_chains_parse(strempty(op->out), &op->pod_ids));
}

/* Called at the start (status unused) and after each tool with its status. */
static void op_step(FirewallOp *op) {
        switch (op->step) {
        case GUARD_LOOK:
        case GUARD_CHECK_FIRST:
        case GUARD_RESTORE_MOVE:
        case GUARD_RESTORE:
        case GUARD_CHECK_JUMP:
        case GUARD_INSERT_JUMP:
                return op_step_guard(op, op->status);
        case UNBIND_FIRST:
        case UNBIND_LIST:
        case UNBIND_RESTORE:
        case UNBIND_DELETE_JUMP:
        case UNBIND_FLUSH:
        case UNBIND_DELETE:
        case BIND_RESTORE:
                return op_step_ports(op, op->status);
        case PORTS_LIST:
                return op_step_ports_list(op, op->status);
        case STEP_DONE:
                break;
        }
}

static int on_op_start(sd_event_source *es, void *userdata) {
        FirewallOp *op = userdata;

        op->defer = sd_event_source_disable_unref(op->defer);
        switch (op->step) {
        case GUARD_RESTORE_MOVE:
                guard_restore_moved(op);
                break;
        case GUARD_CHECK_FIRST:
                op->base = 0;
                jump_look(op);
                break;
        case GUARD_LOOK:
                op_exec_full(op, STRV_MAKE("iptables", IPTABLES_WAIT, "-t", "filter", "-S"), NULL, FIREWALL_INPUT_MAX);
                break;
        case UNBIND_FIRST:
                op_unbind_restore(op, UNBIND_FIRST);
                break;
        case UNBIND_LIST:
                op_exec(op, STRV_MAKE("ebtables", "-t", "filter", "-L", op->chain), NULL);
                break;
        case BIND_RESTORE:
                op_restore_ebtables(op);
                break;
        case PORTS_LIST:
                op_exec_full(op, STRV_MAKE("ebtables", "-t", "filter", "-L"), NULL, PORTS_LIST_OUT_MAX);
                break;
        default:
                op_end(op, -EINVAL);
        }
        return 0;
}

static int op_new(sd_event *e, FirewallStep first, firewall_callback_t callback, void *userdata, FirewallOp **ret) {
        _cleanup_(firewall_op_freep) FirewallOp *op = NULL;
        int r;

        op = calloc(1, sizeof(FirewallOp));
        if (!op)
                return -ENOMEM;
        op->event = sd_event_ref(e);
        op->step = first;
        op->callback = callback;
        op->userdata = userdata;
        /* The first tool starts from the loop: the callback never runs
         * before the caller has the op. */
        r = sd_event_add_defer(e, &op->defer, on_op_start, op);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(op);
        return 0;
}

/* A network's chain: its name from the network's (FNV-1a, 64 bits: the
 * name may be longer than a chain's), so that each network's rules are
 * replaced on their own. */
static void network_chain(const char *prefix, const char *network, char chain[static sizeof(((GuardJump) {}).chain)]) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (const char *c = network; *c; c++)
                h = (h ^ (uint8_t) *c) * UINT64_C(0x100000001b3);
        snprintf(chain, sizeof(((GuardJump) {}).chain), "%s%016" PRIx64, prefix, h);
}

/* The two kinds of a network's rules, each a chain of its table jumped to
 * first from its base chain. */
typedef struct NetworkRulesKind {
        const char *table, *base, *prefix;
        bool forward; /* else masquerading */
} NetworkRulesKind;

static const NetworkRulesKind network_rules_kinds[] = {
        { "nat", "POSTROUTING", FIREWALL_MASQ_CHAIN_PREFIX, false },
        { "filter", "FORWARD", FIREWALL_FORWARD_CHAIN_PREFIX, true },
};

/* A network's chain of kind: its rules (declaring the chain flushes it,
 * with --noflush: they are replaced in the commit) into both scripts, and
 * into moved its jump moved to the front too. */
static int network_chain_scripts(FirewallOp *op, const NetworkRulesKind *kind, const FirewallNetwork *net, char **moved,
                                 char **plain) {
        GuardJump *j = &op->jumps[op->n_jumps++];
        _cleanup_free_ char *rules = NULL;
        int r;

        *j = (GuardJump) { .table = kind->table, .base = kind->base };
        network_chain(kind->prefix, net->network, j->chain);
        r = strextendf(&rules, ":%s - [0:0]\n", j->chain);
        if (!kind->forward) {
                /* A packet from one of the network's subnets to anywhere but
                 * its subnets and multicast leaves with the host's address,
                 * as the bridge plugin's ipMasq does per pod. */
                FOREACH_STRV(sn, net->subnets)
                        if (r >= 0)
                                r = strextendf(&rules, "-A %s -d %s -j RETURN\n", j->chain, sn);
                if (r >= 0)
                        r = strextendf(&rules, "-A %s -d 224.0.0.0/4 -j RETURN\n", j->chain);
                FOREACH_STRV(sn, net->subnets)
                        if (r >= 0)
                                r = strextendf(&rules,
                                               "-A %s -s %s -m comment --comment \"peapod: network %.64s\" -j MASQUERADE\n",
                                               j->chain, sn, net->network);
        } else
                /* Out of the bridge from the pods, and the replies back in. */
                FOREACH_STRV(sn, net->subnets)
                        if (r >= 0)
                                r = strextendf(&rules,
                                               "-A %1$s -i %2$s -s %3$s -m comment --comment \"peapod: network %4$.64s\" -j ACCEPT\n"
                                               "-A %1$s -o %2$s -d %3$s -m conntrack --ctstate RELATED,ESTABLISHED"
                                               " -m comment --comment \"peapod: network %4$.64s\" -j ACCEPT\n",
                                               j->chain, net->forward_bridge, sn, net->network);
        if (r >= 0)
                r = strextendf(moved, "%s-D %s -j %s\n-I %s 1 -j %s\n", rules, kind->base, j->chain, kind->base,
                               j->chain);
        if (r >= 0)
                r = strextendf(plain, "%s", rules);
        return r;
}

/* The scripts of the networks' rules: the nat table's part (masquerading),
 * then the filter table's (forwarding), each table committed once. */
static int network_scripts(FirewallOp *op, const FirewallNetwork *nets, size_t n, char **moved, char **plain) {
        int r;

        for (size_t k = 0; k < ELEMENTSOF(network_rules_kinds); k++) {
                const NetworkRulesKind *kind = &network_rules_kinds[k];
                bool any = false;

                for (size_t i = 0; i < n; i++) {
                        if (kind->forward ? !nets[i].forward_bridge : !nets[i].masquerade)
                                continue;
                        if (!any && ((r = strextendf(moved, "*%s\n", kind->table)) < 0 ||
                                     (r = strextendf(plain, "*%s\n", kind->table)) < 0))
                                return r;
                        any = true;
                        r = network_chain_scripts(op, kind, &nets[i], moved, plain);
                        if (r < 0)
                                return r;
                }
                if (any && ((r = strextendf(moved, "COMMIT\n")) < 0 || (r = strextendf(plain, "COMMIT\n")) < 0))
                        return r;
        }
        return 0;
}

/* An op of the guard's kind with room for n_jumps jumps: its scripts and
 * jumps are the caller's to fill in. */
static int guard_op_new(sd_event *e, FirewallStep first, size_t n_jumps, firewall_callback_t callback, void *userdata,
                        FirewallOp **ret) {
        _cleanup_(firewall_op_freep) FirewallOp *op = NULL;
        int r;

        r = op_new(e, first, callback, userdata, &op);
        if (r < 0)
                return r;
        op->jumps = calloc(n_jumps, sizeof(GuardJump));
        if (!op->jumps)
                return -ENOMEM;
        *ret = TAKE_PTR(op);
        return 0;
}

int firewall_network_rules_async(sd_event *e, const FirewallNetwork *nets, size_t n, bool check_first,
                                 firewall_callback_t callback, void *userdata, FirewallOp **ret) {
        _cleanup_(firewall_op_freep) FirewallOp *op = NULL;
        int r;

        if (n == 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (isempty(nets[i].network) || strv_length(nets[i].subnets) == 0 ||
                    (!nets[i].masquerade && !nets[i].forward_bridge) ||
                    (nets[i].forward_bridge && !ifname_is_valid(nets[i].forward_bridge)))
                        return -EINVAL;
        /* Room for both jumps of every network. */
        r = guard_op_new(e, check_first ? GUARD_CHECK_FIRST : GUARD_RESTORE_MOVE, 2 * n, callback, userdata, &op);
        if (r < 0)
                return r;
        r = network_scripts(op, nets, n, &op->guard_moved, &op->guard_plain);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(op);
        return 0;
}

int firewall_loopback_guard_async(sd_event *e, firewall_callback_t callback, void *userdata, FirewallOp **ret) {
        _cleanup_(firewall_op_freep) FirewallOp *op = NULL;
        int r;

        r = guard_op_new(e, GUARD_LOOK, ELEMENTSOF(base_chains), callback, userdata, &op);
        if (r < 0)
                return r;
        op->guard_moved = strdup(loopback_script_jumps_moved);
        op->guard_plain = strdup(loopback_script);
        if (!op->guard_moved || !op->guard_plain)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(base_chains); i++) {
                GuardJump *j = &op->jumps[op->n_jumps++];

                *j = (GuardJump) { .table = "filter", .base = base_chains[i] };
                strcpy(j->chain, FIREWALL_LOOPBACK_CHAIN);
        }
        *ret = TAKE_PTR(op);
        return 0;
}

int firewall_pod_ports_unbind_async(sd_event *e, const char *pod_id, firewall_callback_t callback, void *userdata,
                                    FirewallOp **ret) {
        _cleanup_(firewall_op_freep) FirewallOp *op = NULL;
        int r;

        r = op_new(e, UNBIND_FIRST, callback, userdata, &op);
        if (r < 0)
                return r;
        r = port_chain(pod_id, op->chain);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(op);
        return 0;
}

int firewall_pod_port_chains_async(sd_event *e, firewall_callback_t callback, void *userdata, FirewallOp **ret) {
        return op_new(e, PORTS_LIST, callback, userdata, ret);
}

char * const *firewall_op_pod_ids(const FirewallOp *op) {
        return op->pod_ids;
}

int firewall_pod_ports_bind_async(sd_event *e, const char *pod_id, const char *rules, bool fresh,
                                  firewall_callback_t callback, void *userdata, FirewallOp **ret) {
        _cleanup_(firewall_op_freep) FirewallOp *op = NULL;
        int r;

        /* A chain left by a crash is removed with its jumps first, so that
         * the jumps below are never doubled. */
        r = firewall_pod_ports_unbind_async(e, pod_id, callback, userdata, &op);
        if (r < 0)
                return r;
        op->bind = true;
        /* At a start there is normally no chain: look first (see
         * op_step_ports()); a pod known to have none binds at once. */
        op->step = fresh ? BIND_RESTORE : UNBIND_LIST;
        if (asprintf(&op->script,
                     "*filter\n"
                     ":%1$s RETURN\n"
                     "%2$s"
                     "-I INPUT 1 -j %1$s\n"
                     "-I FORWARD 1 -j %1$s\n"
                     "COMMIT\n",
                     op->chain, strempty(rules)) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(op);
        return 0;
}

typedef struct OpWait {
        bool done;
        int r;
        PeapodError *err;
} OpWait;

static void on_op_sync_done(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        OpWait *w = userdata;

        w->done = true;
        w->r = r;
        if (r < 0 && w->err && !peapod_error_is_set(w->err))
                *w->err = *err;
}

/* The synchronous forms: the same on a private loop. */
static int op_run_sync(int (*start)(sd_event *e, const char *pod_id, const char *rules, OpWait *w, FirewallOp **ret),
                       const char *pod_id, const char *rules, PeapodError *err) {
        _cleanup_(firewall_op_freep) FirewallOp *op = NULL;
        OpWait w = { .err = err };
        SpawnLoop l;
        int r;

        r = spawn_loop_open(&l);
        if (r < 0)
                return r;
        r = start(l.event, pod_id, rules, &w, &op);
        if (r >= 0)
                r = spawn_loop_run(&l, &w.done);
        if (r >= 0)
                r = w.r;
        op = firewall_op_free(op);
        spawn_loop_close(&l);
        return r;
}

static int start_guard(sd_event *e, const char *pod_id, const char *rules, OpWait *w, FirewallOp **ret) {
        return firewall_loopback_guard_async(e, on_op_sync_done, w, ret);
}

static int start_unbind(sd_event *e, const char *pod_id, const char *rules, OpWait *w, FirewallOp **ret) {
        return firewall_pod_ports_unbind_async(e, pod_id, on_op_sync_done, w, ret);
}

static int start_bind(sd_event *e, const char *pod_id, const char *rules, OpWait *w, FirewallOp **ret) {
        return firewall_pod_ports_bind_async(e, pod_id, rules, false, on_op_sync_done, w, ret);
}

int firewall_loopback_guard(PeapodError *err) {
        return op_run_sync(start_guard, NULL, NULL, err);
}

int firewall_pod_ports_unbind(const char *pod_id, PeapodError *err) {
        return op_run_sync(start_unbind, pod_id, NULL, err);
}

int firewall_pod_ports_bind(const char *pod_id, const char *rules, PeapodError *err) {
        return op_run_sync(start_bind, pod_id, rules, err);
}
