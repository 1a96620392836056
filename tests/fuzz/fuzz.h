/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a C string (cut at its first NUL, as the file readers of
 * the parsers would see it). NULL only on OOM. */
static inline char *fuzz_string(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        if (!s)
                return NULL;
        memcpy(s, data, size);
        s[size] = 0;
        return s;
}

/* The next NUL-terminated part of [*p, end) (the rest when there is no
 * NUL); *p moves past it. s is a writable copy of the input. */
static inline char *fuzz_next_part(char **p, char *end) {
        char *start = *p, *z;

        if (start >= end)
                return NULL;
        z = memchr(start, 0, (size_t) (end - start));
        *p = z ? z + 1 : end;
        return start;
}
