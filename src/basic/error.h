/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "macro.h"

/* A message that travels with a -errno across the library boundary (a digest
 * mismatch, which field of a manifest was wrong, what a registry answered):
 * the core fills it, the edge (a CLI verb, a bus handler) logs it once.
 * Every function taking one accepts NULL.
 *
 * The first message set stays: the innermost function knows best what went
 * wrong ("layers/...: entry escapes the layer"), and an outer one that fails
 * because of it would only say less ("unpacking failed"). An outer layer that
 * wants to add context uses peapod_error_prefix(). http_status is the HTTP
 * status that decided a registry failure, 0 if none did. */
typedef struct PeapodError {
        int http_status;
        char message[512];
} PeapodError;

#define PEAPOD_ERROR_NULL ((PeapodError) {})

/* Format the message if e is non-NULL and has none yet; return r, so that
 * failures read "return peapod_error_set(e, -EBADMSG, ...)". */
int peapod_error_set(PeapodError *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Put "<formatted>: " in front of the message (or make it the message when
 * there is none); return r. */
int peapod_error_prefix(PeapodError *e, int r, const char *fmt, ...) _printf_(3, 4);
/* Forget the message and status (a failure that was recovered from, such as
 * a mirror that failed before the next one answered). */
void peapod_error_clear(PeapodError *e);
/* Whether a message is set. */
static inline bool peapod_error_is_set(const PeapodError *e) {
        return e && e->message[0];
}
