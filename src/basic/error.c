/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int peapod_error_set(PeapodError *e, int r, const char *fmt, ...) {
        va_list ap;

        if (!e || e->message[0])
                return r;
        va_start(ap, fmt);
        (void) vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        return r;
}

int peapod_error_prefix(PeapodError *e, int r, const char *fmt, ...) {
        char prefix[sizeof(e->message)], old[sizeof(e->message)];
        va_list ap;

        if (!e)
                return r;
        va_start(ap, fmt);
        (void) vsnprintf(prefix, sizeof(prefix), fmt, ap);
        va_end(ap);
        if (!e->message[0]) {
                memcpy(e->message, prefix, sizeof(e->message));
                return r;
        }
        /* Truncation is fine: the end of a too long message is lost. */
        memcpy(old, e->message, sizeof(old));
        size_t n = strnlen(prefix, sizeof(e->message) - 1);
        memcpy(e->message, prefix, n);
        if (n + 2 < sizeof(e->message)) {
                memcpy(e->message + n, ": ", 2);
                n += 2;
        }
        size_t m = strnlen(old, sizeof(old) - 1);
        if (m > sizeof(e->message) - 1 - n)
                m = sizeof(e->message) - 1 - n;
        memcpy(e->message + n, old, m);
        e->message[n + m] = 0;
        return r;
}

void peapod_error_clear(PeapodError *e) {
        if (e)
                *e = PEAPOD_ERROR_NULL;
}
