/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

size_t strv_length(char * const *l);
char **strv_copy(char * const *l);
/* Append a copy of value; returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *value);
/* Append value, taking ownership (freed on failure too). */
int strv_consume(char ***l, char *value);
bool strv_contains(char * const *l, const char *s);
/* Sorts l in place (strcmp order); returns l. */
char **strv_sort(char **l);
/* Join with separator; NULL on OOM. */
char *strv_join(char * const *l, const char *sep);
