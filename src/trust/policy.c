/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "json-util.h"
#include "policy.h"
#include "reference.h"
#include "string-util.h"

static const char * const policy_type_table[_POLICY_TYPE_MAX] = {
        [POLICY_REJECT] = "reject",
        [POLICY_INSECURE_ACCEPT_ANYTHING] = "insecureAcceptAnything",
        [POLICY_SIGNED_BY] = "signedBy",
};

const char *policy_type_to_string(PolicyType t) {
        return t >= 0 && t < _POLICY_TYPE_MAX ? policy_type_table[t] : NULL;
}

PolicyType policy_type_from_string(const char *s) {
        if (s)
                for (PolicyType t = 0; t < _POLICY_TYPE_MAX; t++)
                        if (streq(s, policy_type_table[t]))
                                return t;
        return _POLICY_TYPE_INVALID;
}

static void policy_entry_done(PolicyEntry *x) {
        free(x->scope);
        free(x->key_path);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        policy_entry_done(&p->default_entry);
        for (size_t i = 0; i < p->n_entries; i++)
                policy_entry_done(&p->entries[i]);
        free(p->entries);
        free(p);
        return NULL;
}

/* A scope with a tag names one image exactly; without, a repository prefix. */
static bool scope_is_exact(const char *scope) {
        const char *slash = strchr(scope, '/');
        return slash && strchr(slash, ':');
}

static bool scope_is_valid(const char *scope) {
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *s = NULL;

        if (!scope_is_exact(scope))
                return registry_prefix_is_valid(scope);
        /* Exact scopes must be written the way references are stored, or
         * they would silently never match. */
        if (image_reference_parse(scope, &ref) < 0 || !ref->registry || !ref->tag || ref->digest)
                return false;
        return image_reference_to_string(ref, &s) >= 0 && streq(s, scope);
}

static int policy_entry_parse(json_object *o, const char *scope, PolicyEntry *ret, PeapodError *e) {
        const char *type, *key_path;
        PolicyType t;

        if (!json_object_is_type(o, json_type_object) || json_get_string(o, "type", &type) < 0)
                return peapod_error_set(e, -EBADMSG, "policy.json: the entry for %s has no \"type\"", scope ?: "default");
        t = policy_type_from_string(type);
        if (t < 0)
                return peapod_error_set(e, -EBADMSG,
                                        "policy.json: unknown type \"%.64s\" for %s (reject, insecureAcceptAnything, signedBy)",
                                        type, scope ?: "default");
        if (json_get_string_opt(o, "keyPath", &key_path) < 0)
                return peapod_error_set(e, -EBADMSG, "policy.json: \"keyPath\" of %s is not a string", scope ?: "default");
        if (key_path && (t != POLICY_SIGNED_BY || key_path[0] != '/' || strlen(key_path) > 4096))
                return peapod_error_set(e, -EBADMSG, "policy.json: \"keyPath\" of %s must be an absolute path in a signedBy entry",
                                        scope ?: "default");
        json_object_object_foreach(o, k, v) {
                (void) v;
                if (!streq(k, "type") && !streq(k, "keyPath"))
                        return peapod_error_set(e, -EBADMSG, "policy.json: unknown key \"%.64s\" in the entry for %s", k,
                                                scope ?: "default");
        }
        *ret = (PolicyEntry) { .type = t };
        if (scope && !(ret->scope = strdup(scope)))
                return -ENOMEM;
        if (key_path && !(ret->key_path = strdup(key_path))) {
                policy_entry_done(ret);
                return -ENOMEM;
        }
        return 0;
}

int policy_parse(const char *text, size_t size, Policy **ret, PeapodError *e) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_json_ json_object *root = NULL;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        json_object *v, *scopes;
        JsonParseError pe;
        int r;

        r = json_parse_untrusted(text, size, POLICY_SIZE_MAX, POLICY_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG)
                return peapod_error_set(e, r, "policy.json is larger than %d bytes", POLICY_SIZE_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(e, r, "policy.json: not a JSON object (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return peapod_error_set(e, -EBADMSG, "policy.json: not a JSON object");

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->default_entry.type = POLICY_REJECT;
        json_object_object_foreach(root, k, val) {
                (void) val;
                if (!streq(k, "default") && !streq(k, "scopes"))
                        return peapod_error_set(e, -EBADMSG, "policy.json: unknown key \"%.64s\"", k);
        }
        if (json_object_object_get_ex(root, "default", &v)) {
                r = policy_entry_parse(v, NULL, &p->default_entry, e);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(root, "scopes", &scopes)) {
                size_t n;

                if (!json_object_is_type(scopes, json_type_object))
                        return peapod_error_set(e, -EBADMSG, "policy.json: \"scopes\" is not an object");
                n = json_object_object_length(scopes);
                if (n > POLICY_ENTRIES_MAX)
                        return peapod_error_set(e, -E2BIG, "policy.json: more than %d scopes", POLICY_ENTRIES_MAX);
                p->entries = calloc(n ?: 1, sizeof(PolicyEntry));
                if (!p->entries)
                        return -ENOMEM;
                json_object_object_foreach(scopes, scope, o) {
                        if (!scope_is_valid(scope))
                                return peapod_error_set(e, -EBADMSG,
                                                        "policy.json: scope \"%.255s\" is neither registry[/path] nor registry/repository:tag",
                                                        scope);
                        r = policy_entry_parse(o, scope, &p->entries[p->n_entries], e);
                        if (r < 0)
                                return r;
                        p->n_entries++;
                }
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int policy_load(const char *path, Policy **ret, PeapodError *e) {
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        if (!path) {
                r = read_file(POLICY_PATH, POLICY_SIZE_MAX, &text, &size);
                path = POLICY_PATH;
                if (r == -ENOENT) {
                        r = read_file(POLICY_SHIPPED_PATH, POLICY_SIZE_MAX, &text, &size);
                        path = POLICY_SHIPPED_PATH;
                }
                if (r == -ENOENT)
                        return peapod_error_set(e, r, "No trust policy: neither %s nor %s exists, so no image is trusted",
                                                POLICY_PATH, POLICY_SHIPPED_PATH);
        } else
                r = read_file(path, POLICY_SIZE_MAX, &text, &size);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to read %s: %s", path, strerror(-r));
        r = policy_parse(text, size, ret, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "%s", path);
        return 0;
}

bool scope_covers(const char *prefix, const char *name) {
        const char *rest = startswith(name, prefix);
        return rest && (*rest == 0 || *rest == '/');
}

const PolicyEntry *policy_lookup(const Policy *p, const char *reference) {
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *name = NULL, *tagged = NULL;
        const PolicyEntry *best = NULL;
        size_t best_len = 0;

        if (!p)
                return NULL;
        if (image_reference_parse(reference, &ref) < 0 || !ref->registry)
                return &p->default_entry;
        if (asprintf(&name, "%s/%s", ref->registry, ref->repository) < 0)
                return NULL;
        if (ref->tag && asprintf(&tagged, "%s:%s", name, ref->tag) < 0)
                return NULL;
        for (size_t i = 0; i < p->n_entries; i++) {
                const char *scope = p->entries[i].scope;
                size_t n = strlen(scope);
                bool match = scope_is_exact(scope) ? streq_ptr(tagged, scope) : scope_covers(scope, name);

                if (match && n > best_len) {
                        best = &p->entries[i];
                        best_len = n;
                }
        }
        return best ?: &p->default_entry;
}
