/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>

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
