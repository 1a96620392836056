/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>

#include "capability-util.h"
#include "string-util.h"

/* Indexed by number: the kernel's numbering is ABI. */
static const char *const capability_names[CAPABILITY_LAST + 1] = {
        "CAP_CHOWN",            "CAP_DAC_OVERRIDE",   "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
        "CAP_FSETID",           "CAP_KILL",           "CAP_SETGID",          "CAP_SETUID",
        "CAP_SETPCAP",          "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",        "CAP_NET_RAW",        "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",       "CAP_SYS_RAWIO",      "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",        "CAP_SYS_ADMIN",      "CAP_SYS_BOOT",        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",     "CAP_SYS_TIME",       "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
        "CAP_LEASE",            "CAP_AUDIT_WRITE",    "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",     "CAP_MAC_ADMIN",      "CAP_SYSLOG",          "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",    "CAP_AUDIT_READ",     "CAP_PERFMON",         "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

#define BIT(n) (UINT64_C(1) << (n))
const uint64_t capability_default_set =
        BIT(0) /* CHOWN */ | BIT(1) /* DAC_OVERRIDE */ | BIT(4) /* FSETID */ | BIT(3) /* FOWNER */ |
        BIT(27) /* MKNOD */ | BIT(6) /* SETGID */ | BIT(7) /* SETUID */ |
        BIT(31) /* SETFCAP */ | BIT(8) /* SETPCAP */ | BIT(10) /* NET_BIND_SERVICE */ |
        BIT(18) /* SYS_CHROOT */ | BIT(5) /* KILL */ | BIT(29) /* AUDIT_WRITE */;

const char *capability_to_name(int cap) {
        return cap >= 0 && cap <= CAPABILITY_LAST ? capability_names[cap] : NULL;
}

int capability_from_name(const char *name) {
        if (isempty(name) || strlen(name) > 32)
                return -EINVAL;
        for (int i = 0; i <= CAPABILITY_LAST; i++) {
                const char *full = capability_names[i], *bare = full + 4;
                bool lower = true;

                if (streq(name, full))
                        return i;
                /* "chown": the bare name in lower case only, so that
                 * "Chown" or "cap_chown" are typos, not aliases. */
                if (strlen(name) != strlen(bare))
                        continue;
                for (size_t k = 0; bare[k] && lower; k++)
                        lower = name[k] == tolower((unsigned char) bare[k]);
                if (lower)
                        return i;
        }
        return -EINVAL;
}

static int capability_set_add(uint64_t *set, const char *name, size_t n) {
        char buf[33];
        int c;

        if (n == 0 || n >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, name, n);
        buf[n] = 0;
        c = capability_from_name(buf);
        if (c < 0 || (*set & BIT(c)))
                return -EINVAL;
        *set |= BIT(c);
        return 0;
}

int capability_set_from_string(const char *s, uint64_t *ret) {
        uint64_t set = 0;
        int r;

        if (!s)
                return -EINVAL;
        while (*s) {
                const char *comma = strchr(s, ',');
                size_t n = comma ? (size_t) (comma - s) : strlen(s);

                r = capability_set_add(&set, s, n);
                if (r < 0)
                        return r;
                if (!comma)
                        break;
                s = comma + 1;
                if (!*s)
                        return -EINVAL; /* a trailing comma is an empty name */
        }
        *ret = set;
        return 0;
}

int capability_set_from_strv(char * const *l, uint64_t *ret) {
        uint64_t set = 0;
        int r;

        if (l)
                for (char * const *i = l; *i; i++) {
                        r = capability_set_add(&set, *i, strlen(*i));
                        if (r < 0)
                                return r;
                }
        *ret = set;
        return 0;
}

int capability_set_to_string(uint64_t set, char **ret) {
        char *s;
        size_t n = 0;

        s = malloc((CAPABILITY_LAST + 1) * 32);
        if (!s)
                return -ENOMEM;
        s[0] = 0;
        for (int i = 0; i <= CAPABILITY_LAST; i++)
                if (set & BIT(i))
                        n += (size_t) sprintf(s + n, "%s%s", n > 0 ? "," : "", capability_names[i]);
        *ret = s;
        return 0;
}
