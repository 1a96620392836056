/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>

/* Tiny assertion helpers: a failed check prints where and what, and the
 * test program exits 1 (meson counts it failed); 77 means skipped. */
#define EXIT_TEST_SKIP 77

#define ASSERT_TRUE(expr)                                                                       \
        do {                                                                                    \
                if (!(expr)) {                                                                  \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        exit(EXIT_FAILURE);                                                     \
                }                                                                               \
        } while (0)
#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))
#define ASSERT_OK(expr)                                                                         \
        do {                                                                                    \
                long _r = (long) (expr);                                                        \
                if (_r < 0) {                                                                   \
                        fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #expr, strerror((int) -_r)); \
                        exit(EXIT_FAILURE);                                                     \
                }                                                                               \
        } while (0)
#define ASSERT_ERR(expr, err)                                                                   \
        do {                                                                                    \
                long _r = (long) (expr);                                                        \
                if (_r != -(err)) {                                                             \
                        fprintf(stderr, "%s:%d: %s returned %ld, expected -%s\n", __FILE__, __LINE__, #expr, _r, #err); \
                        exit(EXIT_FAILURE);                                                     \
                }                                                                               \
        } while (0)
#define ASSERT_STREQ(a, b)                                                                      \
        do {                                                                                    \
                const char *_a = (a), *_b = (b);                                                \
                if (!_a || !_b || strcmp(_a, _b) != 0) {                                        \
                        fprintf(stderr, "%s:%d: \"%s\" != \"%s\" (%s vs %s)\n", __FILE__, __LINE__, _a ?: "(null)", _b ?: "(null)", #a, #b); \
                        exit(EXIT_FAILURE);                                                     \
                }                                                                               \
        } while (0)

#define TEST(name) static void test_##name(void)
