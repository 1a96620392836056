/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "parse-util.h"
#include "macro.h"

int parse_size(const char *s, uint64_t *ret) {
        static const char suffixes[] = "KMGT";
        uint64_t v = 0;
        const char *p = s;
        unsigned shift = 0;

        if (isempty(s) || !isdigit((unsigned char) *s))
                return -EINVAL;
        for (; isdigit((unsigned char) *p); p++) {
                if (v > (UINT64_C(1) << 62) / 10)
                        return -ERANGE;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (*p) {
                const char *k = strchr(suffixes, *p);

                if (!k)
                        return -EINVAL;
                shift = 10 * (unsigned) (k - suffixes + 1);
                p++;
                if (*p == 'i')
                        p++;
                if (*p)
                        return -EINVAL;
        }
        if (v > (UINT64_C(1) << 62) >> shift)
                return -ERANGE;
        *ret = v << shift;
        return 0;
}
