/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <string.h>

#include "macro.h"

/* Return a pointer just past prefix in s, or NULL. */
static inline const char *startswith(const char *s, const char *prefix) {
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* Return a pointer to where suffix starts in s, or NULL. */
static inline const char *endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0 ? s + a - b : NULL;
}

static inline int streq_ptr(const char *a, const char *b) {
        if (a && b)
                return strcmp(a, b) == 0;
        return !a && !b;
}

#define STRV_MAKE(...) ((char **) ((const char *[]) { __VA_ARGS__, NULL }))
