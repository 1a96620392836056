/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/* "64M" -> 67108864: a decimal number of bytes with an optional suffix K,
 * M, G or T (powers of 1024, also spelled Ki, Mi, Gi, Ti). At most 2^62. */
int parse_size(const char *s, uint64_t *ret);
