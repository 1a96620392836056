/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "registry.h"

/* WWW-Authenticate headers come from any registry we pull from. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        AuthChallenge *c = NULL;
        size_t n = 0;

        if (size > WWW_AUTHENTICATE_MAX + 16)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        if (www_authenticate_parse(s, &c, &n) < 0)
                return 0;
        if (n > AUTH_CHALLENGES_MAX)
                abort();
        for (size_t i = 0; i < n; i++)
                if (!c[i].scheme || !c[i].scheme[0])
                        abort();
        auth_challenges_free(c, n);
        return 0;
}
