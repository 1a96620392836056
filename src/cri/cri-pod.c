/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Sandboxes and containers: what both need (see cri-pod.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus-util.h"
#include "cri.h"
#include "cri-pod.h"
#include "json-util.h"
#include "peapod-bus.h"
#include "string-util.h"
#include "strv.h"

bool cri_hex_id_is_valid(const char *s, size_t len) {
        if (!s || strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!strchr("0123456789abcdef", s[i]))
                        return false;
        return true;
}

int cri_container_id_parse(const char *id, char ret_pod[static 33], char ret_app[static 33]) {
        if (!cri_hex_id_is_valid(id, CRI_CONTAINER_ID_LEN))
                return -EINVAL;
        memcpy(ret_pod, id, CRI_POD_ID_LEN);
        ret_pod[CRI_POD_ID_LEN] = 0;
        memcpy(ret_app, id + CRI_POD_ID_LEN, CRI_POD_ID_LEN);
        ret_app[CRI_POD_ID_LEN] = 0;
        return 0;
}

char *cri_strjoin(const char *a, const char *b) {
        char *s;

        return asprintf(&s, "%s%s", a, b) < 0 ? NULL : s;
}

int cri_pairs_add(char ***pairs, const char *prefix, const char *key, const char *value) {
        _cleanup_free_ char *k = NULL;
        int r;

        if (asprintf(&k, "%s%s", strempty(prefix), key) < 0)
                return -ENOMEM;
        r = strv_consume(pairs, TAKE_PTR(k));
        if (r < 0)
                return r;
        return strv_extend(pairs, strempty(value));
}

const char *cri_pairs_get(char **pairs, const char *key) {
        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2)
                if (streq(pairs[i], key))
                        return pairs[i + 1];
        return NULL;
}

int cri_read_pairs(sd_bus_message *m, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        const char *k, *v;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
                r = cri_pairs_add(&l, NULL, k, v);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = TAKE_PTR(l);
        return 0;
}

int cri_append_annotations_property(sd_bus_message *m, char **pairs) {
        int r;

        r = bus_open_array_property(m, "Annotations", "{ss}");
        for (size_t i = 0; r >= 0 && pairs && pairs[i] && pairs[i + 1]; i += 2)
                r = sd_bus_message_append(m, "{ss}", pairs[i], pairs[i + 1]);
        if (r >= 0)
                r = bus_close_array_property(m);
        return r;
}

bool cri_selector_match(char **pairs, char **selector) {
        for (size_t i = 0; selector && selector[i] && selector[i + 1]; i += 2) {
                _cleanup_free_ char *k = NULL;

                if (asprintf(&k, CRI_PREFIX_LABEL "%s", selector[i]) < 0)
                        return false;
                if (!streq_ptr(cri_pairs_get(pairs, k), selector[i + 1]))
                        return false;
        }
        return true;
}

int cri_map_to_pairs(void **entries, size_t n, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < n; i++) {
                const CriMapEntry *e = entries[i];

                r = cri_pairs_add(&l, NULL, e->key, e->value);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

void *cri_arena_add(CriArena *a, void *p) {
        void **n;

        if (!p)
                return NULL;
        n = reallocarray(a->ptrs, a->n + 1, sizeof(void *));
        if (!n) {
                free(p);
                return NULL;
        }
        a->ptrs = n;
        a->ptrs[a->n++] = p;
        return p;
}

void *cri_arena_new(CriArena *a, size_t size) {
        return cri_arena_add(a, calloc(1, size ?: 1));
}

char *cri_arena_strdup(CriArena *a, const char *s) {
        return cri_arena_add(a, strdup(strempty(s)));
}

void cri_arena_done(CriArena *a) {
        for (size_t i = 0; i < a->n; i++)
                free(a->ptrs[i]);
        free(a->ptrs);
        *a = (CriArena) {};
}

int cri_pairs_to_map(CriArena *a, char **pairs, const char *prefix, const ProtobufCMessageDescriptor *d,
                     void ***ret, size_t *ret_n) {
        size_t n = 0, max = strv_length(pairs) / 2;
        void **entries;

        /* protoc-c makes every map entry a message of key and value. */
        assert(d->sizeof_message == sizeof(CriMapEntry));
        entries = cri_arena_new(a, max * sizeof(void *));
        if (!entries)
                return -ENOMEM;
        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2) {
                const char *k = startswith(pairs[i], prefix);
                CriMapEntry *e;

                if (!k)
                        continue;
                e = cri_arena_new(a, sizeof(CriMapEntry));
                if (!e)
                        return -ENOMEM;
                protobuf_c_message_init(d, e);
                e->key = (char *) k;
                e->value = pairs[i + 1];
                entries[n++] = e;
        }
        *ret = entries;
        *ret_n = n;
        return 0;
}

static void cri_app_done(CriApp *a) {
        free(a->name);
        free(a->id);
        free(a->image);
        free(a->state);
        free(a->result);
        strv_free(a->annotations);
}

void cri_pod_done(CriPod *p) {
        free(p->id);
        free(p->state);
        free(p->network_mode);
        free(p->ip);
        strv_free(p->annotations);
        for (size_t i = 0; i < p->n_apps; i++)
                cri_app_done(&p->apps[i]);
        free(p->apps);
        *p = (CriPod) {};
}

void cri_pods_free(CriPod *pods, size_t n) {
        for (size_t i = 0; i < n; i++)
                cri_pod_done(&pods[i]);
        free(pods);
}

bool cri_pod_is_sandbox(const CriPod *p) {
        return p->id && cri_pairs_get(p->annotations, CRI_KEY_NAME);
}

static int dup_string(sd_bus_message *m, char **ret) {
        const char *s;
        int r = sd_bus_message_read(m, "s", &s);

        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* The app's annotations in apps (by id), taken; NULL if it has none. */
static char **steal_app_annotations(CriApp *apps, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (streq_ptr(apps[i].id, id))
                        return TAKE_PTR(apps[i].annotations);
        return NULL;
}

static void cri_apps_free(CriApp *apps, size_t n) {
        for (size_t i = 0; i < n; i++)
                cri_app_done(&apps[i]);
        free(apps);
}

/* Apps replaces the pod's list; an app keeps the annotations it had (the
 * separate AppAnnotations may come before or after, or not at all). */
static int read_apps(sd_bus_message *m, CriPod *p) {
        const char *name, *id, *image, *unit, *state, *result;
        CriApp *apps = NULL;
        size_t n_apps = 0;
        int32_t status;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sssassssi)");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'r', "sssassssi")) > 0) {
                CriApp *n, *a;

                r = sd_bus_message_read(m, "sss", &name, &id, &image);
                if (r >= 0)
                        r = sd_bus_message_skip(m, "as");
                if (r >= 0)
                        r = sd_bus_message_read(m, "sssi", &unit, &state, &result, &status);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r < 0)
                        break;
                n = reallocarray(apps, n_apps + 1, sizeof(CriApp));
                if (!n) {
                        r = -ENOMEM;
                        break;
                }
                apps = n;
                a = &apps[n_apps++];
                *a = (CriApp) { .name = strdup(name), .id = strdup(id), .image = strdup(image),
                                .state = strdup(state), .result = strdup(result), .status = status };
                if (!a->name || !a->id || !a->image || !a->state || !a->result)
                        r = -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                cri_apps_free(apps, n_apps);
                return r;
        }
        for (size_t i = 0; i < n_apps; i++)
                apps[i].annotations = steal_app_annotations(p->apps, p->n_apps, apps[i].id);
        cri_apps_free(p->apps, p->n_apps);
        p->apps = apps;
        p->n_apps = n_apps;
        return 0;
}

/* AppAnnotations is every app's map: it replaces them all. An id that
 * Apps has not listed (yet) is kept as an app without state, which the
 * lists skip, until Apps names it. */
static int read_app_annotations(sd_bus_message *m, CriPod *p) {
        const char *id;
        size_t k = 0;
        int r;

        for (size_t i = 0; i < p->n_apps; i++) {
                strv_free(p->apps[i].annotations);
                p->apps[i].annotations = NULL;
                if (!p->apps[i].state)
                        cri_app_done(&p->apps[i]);      /* an earlier placeholder */
                else
                        p->apps[k++] = p->apps[i];
        }
        p->n_apps = k;

        r = sd_bus_message_enter_container(m, 'a', "{sa{ss}}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{ss}")) > 0) {
                _cleanup_strv_free_ char **pairs = NULL;

                r = sd_bus_message_read(m, "s", &id);
                if (r < 0)
                        return r;
                r = cri_read_pairs(m, &pairs);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < p->n_apps; i++)
                        if (streq(p->apps[i].id, id)) {
                                strv_free(p->apps[i].annotations);
                                p->apps[i].annotations = TAKE_PTR(pairs);
                                break;
                        }
                if (pairs) {
                        CriApp *n = reallocarray(p->apps, p->n_apps + 1, sizeof(CriApp));

                        if (!n)
                                return -ENOMEM;
                        p->apps = n;
                        n[p->n_apps++] = (CriApp) { .id = strdup(id), .annotations = TAKE_PTR(pairs) };
                        if (!n[p->n_apps - 1].id)
                                return -ENOMEM;
                }
        }
        if (r < 0)
                return r;
        p->has_app_annotations = true;
        return sd_bus_message_exit_container(m);
}

/* The first address of the pod's networks, without its prefix length. */
static int read_networks(sd_bus_message *m, CriPod *p) {
        const char *net, *ifname, *addr;
        int r;

        p->ip = mfree(p->ip);
        r = sd_bus_message_enter_container(m, 'a', "(sss)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(sss)", &net, &ifname, &addr)) > 0)
                if (!p->ip) {
                        p->ip = strndup(addr, strcspn(addr, "/"));
                        if (!p->ip)
                                return -ENOMEM;
                }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

int cri_pod_update(sd_bus_message *m, CriPod *p) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name, *contents;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        break;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        break;
                r = sd_bus_message_enter_container(m, 'v', contents);
                if (r < 0)
                        break;
                if (streq(name, "Id") && streq(contents, "s"))
                        r = dup_string(m, &p->id);
                else if (streq(name, "State") && streq(contents, "s"))
                        r = dup_string(m, &p->state);
                else if (streq(name, "NetworkMode") && streq(contents, "s"))
                        r = dup_string(m, &p->network_mode);
                else if (streq(name, "CreatedTimestamp") && streq(contents, "t"))
                        r = sd_bus_message_read(m, "t", &p->created_usec);
                else if (streq(name, "Annotations") && streq(contents, "a{ss}"))
                        r = cri_read_pairs(m, &p->annotations);
                else if (streq(name, "Networks") && streq(contents, "a(sss)"))
                        r = read_networks(m, p);
                else if (streq(name, "Apps") && streq(contents, "a(sssassssi)"))
                        r = read_apps(m, p);
                else if (streq(name, "AppAnnotations") && streq(contents, "a{sa{ss}}"))
                        r = read_app_annotations(m, p);
                else
                        r = sd_bus_message_skip(m, contents);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);   /* the variant */
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);   /* the entry */
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

int cri_pod_read(sd_bus_message *m, CriPod *ret) {
        CriPod p = {};
        int r;

        r = cri_pod_update(m, &p);
        if (r < 0) {
                cri_pod_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

int cri_pods_read_managed(sd_bus_message *m, CriPod **ret, size_t *ret_n) {
        CriPod *pods = NULL;
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
                const char *path;

                r = sd_bus_message_read(m, "o", &path);
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
                while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                        const char *iface;

                        r = sd_bus_message_read(m, "s", &iface);
                        if (r < 0)
                                break;
                        if (streq(iface, PEAPOD_POD_INTERFACE)) {
                                CriPod p = {}, *np;

                                r = cri_pod_read(m, &p);
                                if (r < 0)
                                        break;
                                if (!cri_pod_is_sandbox(&p)) {
                                        cri_pod_done(&p);
                                } else {
                                        np = reallocarray(pods, n + 1, sizeof(CriPod));
                                        if (!np) {
                                                cri_pod_done(&p);
                                                r = -ENOMEM;
                                                break;
                                        }
                                        pods = np;
                                        pods[n++] = p;
                                }
                        } else {
                                r = sd_bus_message_skip(m, "a{sv}");
                                if (r < 0)
                                        break;
                        }
                        r = sd_bus_message_exit_container(m);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                cri_pods_free(pods, n);
                return r;
        }
        *ret = pods;
        *ret_n = n;
        return 0;
}

/* The variant at m as JSON into *ret (NULL when out of memory), for the
 * types a property of peapodd has; 0 when it is of another type and was
 * skipped. */
static int variant_to_json(sd_bus_message *m, const char *contents, json_object **ret) {
        json_object *v = NULL;
        int r;

        if (streq(contents, "s")) {
                const char *x;

                r = sd_bus_message_read(m, "v", "s", &x);
                v = json_object_new_string(x);
        } else if (streq(contents, "t")) {
                uint64_t x;

                r = sd_bus_message_read(m, "v", "t", &x);
                v = json_object_new_uint64(x);
        } else if (streq(contents, "i")) {
                int32_t x;

                r = sd_bus_message_read(m, "v", "i", &x);
                v = json_object_new_int(x);
        } else if (streq(contents, "u")) {
                uint32_t x;

                r = sd_bus_message_read(m, "v", "u", &x);
                v = json_object_new_uint64(x);
        } else if (streq(contents, "b")) {
                int x;

                r = sd_bus_message_read(m, "v", "b", &x);
                v = json_object_new_boolean(x);
        } else if (streq(contents, "as")) {
                _cleanup_strv_free_ char **l = NULL;

                r = sd_bus_message_enter_container(m, 'v', "as");
                if (r >= 0)
                        r = sd_bus_message_read_strv(m, &l);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                v = json_new_strv(l);
        } else if (streq(contents, "a{ss}")) {
                const char *k, *x;

                v = json_object_new_object();
                r = sd_bus_message_enter_container(m, 'v', "a{ss}");
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'a', "{ss}");
                while (r >= 0 && v && (r = sd_bus_message_read(m, "{ss}", &k, &x)) > 0)
                        if (json_object_object_add(v, k, json_object_new_string(x)) < 0)
                                r = -ENOMEM;
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else {
                *ret = NULL;
                r = sd_bus_message_skip(m, "v");
                return r < 0 ? r : 0;
        }
        if (r < 0) {
                json_object_put(v);
                return r;
        }
        *ret = v;
        return 1;
}

int cri_properties_to_json(sd_bus_message *m, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        int r;

        if (!o)
                return -ENOMEM;
        r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                json_object *v = NULL;
                const char *name, *contents;

                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0)
                        r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        break;
                r = variant_to_json(m, contents, &v);
                if (r == 0) {
                        r = sd_bus_message_exit_container(m);
                        continue;
                }
                if (r > 0 && (!v || json_object_object_add(o, name, v) < 0)) {
                        json_object_put(v);
                        r = -ENOMEM;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return r;
        *ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        return *ret ? 0 : -ENOMEM;
}

int cri_fail_from_bus(CriQuery *q, const sd_bus_error *e) {
        return grpc_call_fail(q->call, cri_status_from_bus_error(e), "peapodd: %s", e->message ?: e->name);
}

int64_t cri_usec_to_ns(uint64_t usec) {
        return usec > (uint64_t) INT64_MAX / 1000 ? INT64_MAX : (int64_t) usec * 1000;
}
