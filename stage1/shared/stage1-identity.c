/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "stage1-identity.h"

/* Finds "Key:\t" at the start of a line; returns the rest of that line. */
static const char *status_field(const char *contents, const char *key) {
        size_t n = strlen(key);

        for (const char *l = contents; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
                if (strncmp(l, key, n) == 0 && l[n] == ':')
                        return l + n + 1;
        return NULL;
}

static int parse_ids(const char *contents, const char *key, uint32_t ret[3]) {
        const char *v = status_field(contents, key);
        unsigned long long a[4];

        if (!v || sscanf(v, "%llu %llu %llu %llu", &a[0], &a[1], &a[2], &a[3]) != 4)
                return -EBADMSG;
        for (int i = 0; i < 3; i++) {
                if (a[i] >= UINT32_MAX)
                        return -EBADMSG;
                ret[i] = (uint32_t) a[i];
        }
        return 0;
}

static int parse_hex(const char *contents, const char *key, uint64_t *ret) {
        const char *v = status_field(contents, key);
        char *end;

        if (!v)
                return -EBADMSG;
        v += strspn(v, " \t");
        errno = 0;
        *ret = strtoull(v, &end, 16);
        if (errno != 0 || end == v || (*end != '\n' && *end != 0))
                return -EBADMSG;
        return 0;
}

static int parse_int(const char *contents, const char *key, int *ret) {
        const char *v = status_field(contents, key);

        if (!v || sscanf(v, "%d", ret) != 1)
                return -EBADMSG;
        return 0;
}

int identity_parse_proc_status(const char *contents, Identity *ret) {
        Identity id = {};
        const char *g;
        int nnp, r;

        if ((r = parse_ids(contents, "Uid", id.uid)) < 0 || (r = parse_ids(contents, "Gid", id.gid)) < 0 ||
            (r = parse_hex(contents, "CapInh", &id.cap_inh)) < 0 || (r = parse_hex(contents, "CapPrm", &id.cap_prm)) < 0 ||
            (r = parse_hex(contents, "CapEff", &id.cap_eff)) < 0 || (r = parse_hex(contents, "CapBnd", &id.cap_bnd)) < 0 ||
            (r = parse_hex(contents, "CapAmb", &id.cap_amb)) < 0 || (r = parse_int(contents, "NoNewPrivs", &nnp)) < 0 ||
            (r = parse_int(contents, "Seccomp", &id.seccomp)) < 0 ||
            (r = parse_int(contents, "Seccomp_filters", &id.seccomp_filters)) < 0)
                return r;
        if ((nnp != 0 && nnp != 1) || id.seccomp < 0 || id.seccomp > 2 || id.seccomp_filters < 0)
                return -EBADMSG;
        id.no_new_privs = nnp;

        g = status_field(contents, "Groups");
        if (!g)
                return -EBADMSG;
        for (;;) {
                unsigned long long v;
                char *end;

                g += strspn(g, " \t");
                if (*g == '\n' || *g == 0)
                        break;
                errno = 0;
                v = strtoull(g, &end, 10);
                if (errno != 0 || end == g || v >= UINT32_MAX)
                        return -EBADMSG;
                if (id.n_groups >= IDENTITY_GROUPS_MAX)
                        return -E2BIG;
                id.groups[id.n_groups++] = (gid_t) v;
                g = end;
        }
        *ret = id;
        return 0;
}

static int caps_get(struct __user_cap_data_struct data[2]) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };

        return syscall(SYS_capget, &h, data) < 0 ? -errno : 0;
}

static int caps_set(uint64_t inh, uint64_t prm, uint64_t eff) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct data[2] = {
                { .effective = (uint32_t) eff, .permitted = (uint32_t) prm, .inheritable = (uint32_t) inh },
                { .effective = (uint32_t) (eff >> 32), .permitted = (uint32_t) (prm >> 32), .inheritable = (uint32_t) (inh >> 32) },
        };

        return syscall(SYS_capset, &h, data) < 0 ? -errno : 0;
}

static int cap_last(void) {
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        int last = 40;

        if (f) {
                if (fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
                        last = 40;
                fclose(f);
        }
        return last;
}

int identity_apply(const Identity *id) {
        struct __user_cap_data_struct now[2];
        int last = cap_last(), r;
        uid_t ru, eu, su;
        gid_t rg, eg, sg;

        /* The bounding set first: it caps what any later exec can gain,
         * and dropping from it needs CAP_SETPCAP, which goes with the uid. */
        for (int c = 0; c <= last; c++)
                if (!(id->cap_bnd & (UINT64_C(1) << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
                        return log_error_errno(errno, "Failed to drop capability %d from the bounding set: %m", c);

        if (setgroups(id->n_groups, id->groups) < 0)
                return log_error_errno(errno, "Failed to set supplementary groups: %m");
        if (setresgid(id->gid[0], id->gid[1], id->gid[2]) < 0)
                return log_error_errno(errno, "Failed to set gids: %m");
        /* Keep the permitted set over the uid change, so that it can be set
         * to exactly the app's below (a subset of ours, never more). */
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to keep capabilities: %m");
        if (setresuid(id->uid[0], id->uid[1], id->uid[2]) < 0)
                return log_error_errno(errno, "Failed to set uids: %m");
        if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to reset keep-capabilities: %m");
        r = caps_set(id->cap_inh, id->cap_prm, id->cap_eff);
        if (r < 0)
                return log_error_errno(r, "Failed to set capabilities: %m");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to clear ambient capabilities: %m");
        for (int c = 0; c <= last; c++)
                if ((id->cap_amb & (UINT64_C(1) << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        return log_error_errno(errno, "Failed to raise ambient capability %d: %m", c);
        if (id->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return log_error_errno(errno, "Failed to set no-new-privs: %m");

        /* Checked, not trusted: a half-done switch would leave us root. */
        if (getresuid(&ru, &eu, &su) < 0 || getresgid(&rg, &eg, &sg) < 0)
                return log_error_errno(errno, "Failed to check our ids: %m");
        if (ru != id->uid[0] || eu != id->uid[1] || su != id->uid[2] || rg != id->gid[0] || eg != id->gid[1] ||
            sg != id->gid[2])
                return log_error_errno(EPERM, "Switching to the app's ids did not take, refusing.");
        r = caps_get(now);
        if (r < 0)
                return log_error_errno(r, "Failed to read our capabilities: %m");
        if ((now[0].effective | (uint64_t) now[1].effective << 32) != id->cap_eff ||
            (now[0].permitted | (uint64_t) now[1].permitted << 32) != id->cap_prm)
                return log_error_errno(EPERM, "Taking the app's capabilities did not take, refusing.");
        return 0;
}

int identity_seccomp_covers(const Identity *id) {
        char buf[16384];
        Identity self;
        size_t n;
        FILE *f;
        int r;

        f = fopen("/proc/self/status", "re");
        if (!f)
                return -errno;
        n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = 0;
        r = identity_parse_proc_status(buf, &self);
        if (r < 0)
                return r;
        if (id->seccomp == 1)
                return self.seccomp == 1;
        return self.seccomp_filters >= id->seccomp_filters;
}
