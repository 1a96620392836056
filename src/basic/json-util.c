/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "strv.h"

int json_get_string_opt(json_object *o, const char *key, const char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return -EBADMSG;
        *ret = json_object_get_string(v);
        return 1;
}

int json_get_string(json_object *o, const char *key, const char **ret) {
        const char *s;
        int r = json_get_string_opt(o, key, &s);
        if (r < 0)
                return r;
        if (!s)
                return -EBADMSG;
        *ret = s;
        return 0;
}

int json_get_int64(json_object *o, const char *key, int64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        *ret = json_object_get_int64(v);
        return 0;
}

int json_get_uint64(json_object *o, const char *key, uint64_t *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
                return -EBADMSG;
        *ret = json_object_get_uint64(v);
        return 0;
}

int json_get_strv(json_object *o, const char *key, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;
        size_t n;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(v);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *e = json_object_array_get_idx(v, i);
                if (!json_object_is_type(e, json_type_string))
                        return -EBADMSG;
                l[i] = strdup(json_object_get_string(e));
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

json_object *json_new_strv(char * const *l) {
        json_object *a = json_object_new_array();
        if (!a)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                json_object_array_add(a, json_object_new_string(l[i]));
        return a;
}

static int json_parse_fail(const char *data, size_t offset, const char *reason, int r, JsonParseError *ret_error) {
        if (ret_error) {
                /* Without data, no place to point at (line 0). */
                JsonParseError e = { .reason = reason, .offset = offset, .line = !!data, .column = !!data };

                for (size_t i = 0; data && i < offset; i++) {
                        if (data[i] == '\n') {
                                e.line++;
                                e.column = 1;
                        } else
                                e.column++;
                }
                *ret_error = e;
        }
        return r;
}

int json_parse_untrusted(const void *data, size_t size, size_t size_max, int depth_max, json_object **ret,
                       JsonParseError *ret_error) {
        _cleanup_json_ json_object *o = NULL;
        enum json_tokener_error err;
        const char *text = data, *nul;
        json_tokener *tok;
        size_t end;

        /* json-c counts in int. */
        if (size_max > INT_MAX)
                size_max = INT_MAX;
        if (size > size_max)
                return json_parse_fail(NULL, 0, "larger than the limit", -E2BIG, ret_error);
        nul = size > 0 ? memchr(text, 0, size) : NULL;
        if (nul)
                return json_parse_fail(text, (size_t) (nul - text), "a NUL byte", -EBADMSG, ret_error);

        tok = json_tokener_new_ex(depth_max);
        if (!tok)
                return -ENOMEM;
        o = json_tokener_parse_ex(tok, text, (int) size);
        err = json_tokener_get_error(tok);
        end = json_tokener_get_parse_end(tok);
        json_tokener_free(tok);
        if (end > size)
                end = size;
        if (err == json_tokener_continue)
                return json_parse_fail(text, size, "truncated JSON, it ends too early", -EBADMSG, ret_error);
        if (err != json_tokener_success || !o)
                return json_parse_fail(text, end, json_tokener_error_desc(err), -EBADMSG, ret_error);
        for (size_t i = end; i < size; i++)
                if (!strchr(" \t\r\n", text[i]))
                        return json_parse_fail(text, i, "trailing data after the JSON value", -EBADMSG, ret_error);
        *ret = TAKE_PTR(o);
        return 0;
}

const char *json_parse_error_to_string(const JsonParseError *e, char *buf, size_t size) {
        if (e->line == 0)
                snprintf(buf, size, "%s", e->reason ?: "invalid");
        else
                snprintf(buf, size, "line %u, column %u: %s", e->line, e->column, e->reason ?: "invalid");
        return buf;
}
