/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "macro.h"

static inline void json_object_putp(json_object **o) {
        if (*o)
                json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Typed getters that fail with -EBADMSG when the key is missing or has the
 * wrong type: everything read back from disk or the wire is untrusted. */
int json_get_string(json_object *o, const char *key, const char **ret);
int json_get_string_opt(json_object *o, const char *key, const char **ret);
int json_get_int64(json_object *o, const char *key, int64_t *ret);
int json_get_uint64(json_object *o, const char *key, uint64_t *ret);
int json_get_strv(json_object *o, const char *key, char ***ret);
json_object *json_new_strv(char * const *l);

/* Why and where json_parse_untrusted() refused a document. */
typedef struct JsonParseError {
        const char *reason;   /* a phrase: "a NUL byte", "nesting too deep", ... */
        size_t offset;        /* the byte where the parser stopped */
        unsigned line;        /* 1-based, of offset */
        unsigned column;      /* 1-based, in bytes */
} JsonParseError;

/* The one reader of untrusted JSON documents (manifests, signatures,
 * policy.json, run specs, the store's index): parses exactly
 * [data, data+size) as one JSON value, refusing
 *   - more than size_max bytes (-E2BIG): bounds memory before json-c
 *     allocates anything;
 *   - a NUL byte (-EBADMSG): json-c would stop at it while a digest or a
 *     signature covers every byte, so the two would disagree about what
 *     the document says;
 *   - nesting deeper than depth_max (-EBADMSG): json-c recurses per level;
 *   - invalid or truncated JSON, or anything but whitespace after the value
 *     (-EBADMSG).
 * -ENOMEM as is. On -EBADMSG and -E2BIG, *ret_error (may be NULL) says why
 * and where. The value need not be an object: callers check the type. */
int json_parse_untrusted(const void *data, size_t size, size_t size_max, int depth_max, json_object **ret,
                       JsonParseError *ret_error);

/* "line L, column C: REASON" (or just the reason when it has no place, as
 * for a document too large), in buf. Returns buf. */
const char *json_parse_error_to_string(const JsonParseError *e, char *buf, size_t size);
#define JSON_PARSE_ERROR_STRING_MAX 128
