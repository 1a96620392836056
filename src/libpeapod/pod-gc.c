/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pod-gc.h"

bool pod_gc_is_due(const Pod *p, uint64_t now_usec, uint64_t grace_usec) {
        if (p->state != POD_EXITED)
                return false;
        /* An exit time in the future (a clock set back) is not "long ago". */
        if (p->exited_usec > now_usec)
                return grace_usec == 0;
        return now_usec - p->exited_usec >= grace_usec;
}

int timespan_parse(const char *s, uint64_t *ret_usec) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                /* Longest first, so that "ms" is not read as "m" + "s". */
                { "usec", 1 }, { "msec", 1000 }, { "sec", 1000000 }, { "min", 60000000 },
                { "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { "m", 60000000 },
                { "h", 3600000000ULL }, { "d", 86400000000ULL },
        };
        const uint64_t max = 100ULL * 365 * 86400000000ULL;
        uint64_t total = 0;

        if (!s || !*s)
                return -EINVAL;
        while (*s) {
                unsigned long long v;
                uint64_t unit = 0;
                char *end;

                if (*s < '0' || *s > '9')
                        return -EINVAL;
                errno = 0;
                v = strtoull(s, &end, 10);
                if (errno != 0 || v > max)
                        return -EINVAL;
                s = end;
                if (!*s && total == 0) {
                        unit = 1000000;  /* a bare number: seconds */
                } else {
                        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                                size_t n = strlen(units[i].suffix);

                                if (strncmp(s, units[i].suffix, n) == 0 && !(s[n] >= 'a' && s[n] <= 'z')) {
                                        unit = units[i].usec;
                                        s += n;
                                        break;
                                }
                        }
                        if (unit == 0)
                                return -EINVAL;
                }
                if (v > (max - total) / unit)
                        return -EINVAL;
                total += v * unit;
        }
        *ret_usec = total;
        return 0;
}
