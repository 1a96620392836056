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
