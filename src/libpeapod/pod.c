/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "fs-util.h"
#include "image.h"
#include "json-util.h"
#include "manifest.h"
#include "pod.h"
#include "strv.h"
#include "time-util.h"

static const char * const pod_state_table[_POD_STATE_MAX] = {
        [POD_CREATED] = "created",
        [POD_PREPARING] = "preparing",
        [POD_RUNNING] = "running",
        [POD_EXITED] = "exited",
};

static const char * const app_state_table[_APP_STATE_MAX] = {
        [APP_CREATED] = "created",
        [APP_RUNNING] = "running",
        [APP_EXITED] = "exited",
};

static const char * const app_result_table[_APP_RESULT_MAX] = {
        [APP_RESULT_NONE] = "",
        [APP_RESULT_EXITED] = "exited",
        [APP_RESULT_KILLED] = "killed",
        [APP_RESULT_DUMPED] = "dumped",
};

static int table_lookup(const char * const *table, int n, const char *s) {
        if (!s)
                return -EINVAL;
        for (int i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return i;
        return -EINVAL;
}

const char *pod_state_to_string(PodState s) {
        return s >= 0 && s < _POD_STATE_MAX ? pod_state_table[s] : NULL;
}
PodState pod_state_from_string(const char *s) {
        return (PodState) table_lookup(pod_state_table, _POD_STATE_MAX, s);
}
const char *app_state_to_string(AppState s) {
        return s >= 0 && s < _APP_STATE_MAX ? app_state_table[s] : NULL;
}
AppState app_state_from_string(const char *s) {
        return (AppState) table_lookup(app_state_table, _APP_STATE_MAX, s);
}
const char *app_result_to_string(AppResult r) {
        return r >= 0 && r < _APP_RESULT_MAX ? app_result_table[r] : NULL;
}
AppResult app_result_from_string(const char *s) {
        return (AppResult) table_lookup(app_result_table, _APP_RESULT_MAX, s);
}

void app_done(App *a) {
        free(a->name);
        free(a->image);
        free(a->image_id);
        strv_free(a->lowerdirs);
        strv_free(a->exec);
        strv_free(a->env);
        free(a->workdir);
        free(a->user);
}

Pod *pod_free(Pod *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_apps; i++)
                app_done(&p->apps[i]);
        free(p->apps);
        free(p->name);
        free(p->stage1);
        pod_network_done(&p->net);
        free(p);
        return NULL;
}

/* Environment entries must be K=V with a non-empty K without '='. */
static bool env_assignment_is_valid(const char *e) {
        const char *eq = strchr(e, '=');
        return eq && eq != e;
}

/* Image env first, then the caller's, a later K replacing an earlier one. */
static int env_merge(char * const *base, char * const *extra, char ***ret) {
        _cleanup_strv_free_ char **l = strv_copy(base);
        int r;

        if (!l)
                return -ENOMEM;
        FOREACH_STRV(e, extra) {
                size_t k = strcspn(e, "=");
                bool replaced = false;

                for (char **i = l; *i; i++)
                        if (strneq(*i, e, k) && (*i)[k] == '=') {
                                char *c = strdup(e);
                                if (!c)
                                        return -ENOMEM;
                                free(*i);
                                *i = c;
                                replaced = true;
                                break;
                        }
                if (!replaced) {
                        r = strv_extend(&l, e);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

int pod_new_empty(const char *name, Pod **ret, PeapodError *err) {
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        if (!isempty(name) && !pod_name_is_valid(name))
                return peapod_error_set(err, -EINVAL,
                                 "Invalid pod name '%s': use 1-64 letters, digits, '.' and '-', not starting with '-' or '.'",
                                 name);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        r = id_generate(p->id);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to generate a pod id");
        if (!isempty(name))
                p->name = strdup(name);
        else if (asprintf(&p->name, "pod-%.8s", p->id) < 0)
                p->name = NULL;
        if (!p->name)
                return -ENOMEM;
        p->state = POD_CREATED;
        p->created_usec = now_usec(CLOCK_REALTIME);
        p->stop_when_apps_exit = true;
        *ret = TAKE_PTR(p);
        return 0;
}

int pod_new(const char *name, const AppSpec *specs, size_t n_specs, const char *image_store, Pod **ret,
            PeapodError *err) {
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        if (n_specs == 0)
                return peapod_error_set(err, -EINVAL, "A pod needs at least one app");
        if (n_specs > POD_APPS_MAX)
                return peapod_error_set(err, -E2BIG, "Too many apps (at most %d)", POD_APPS_MAX);
        r = pod_new_empty(name, &p, err);
        if (r < 0)
                return r;
        p->apps = calloc(n_specs, sizeof(App));
        if (!p->apps)
                return -ENOMEM;

        for (size_t i = 0; i < n_specs; i++) {
                const AppSpec *s = &specs[i];
                _cleanup_(image_freep) Image *img = NULL;
                App *a = &p->apps[p->n_apps];

                if (isempty(s->image))
                        return peapod_error_set(err, -EINVAL, "App %zu has no image", i + 1);
                if (!image_reference_is_valid(s->image))
                        return peapod_error_set(err, -EINVAL, "Invalid image reference '%s'", s->image);

                if (!isempty(s->name)) {
                        if (!app_name_is_valid(s->name))
                                return peapod_error_set(err, -EINVAL,
                                                 "Invalid app name '%s': use 1-63 lower-case letters, digits and '-', starting with a letter or digit",
                                                 s->name);
                        a->name = strdup(s->name);
                        if (!a->name)
                                return -ENOMEM;
                } else {
                        _cleanup_free_ char *base = NULL;

                        r = app_name_from_image(s->image, &base);
                        if (r < 0)
                                return peapod_error_set(err, -EINVAL, "Cannot derive an app name from '%s', give one", s->image);
                        a->name = strdup(base);
                        if (!a->name)
                                return -ENOMEM;
                        for (unsigned k = 2; pod_find_app(p, a->name); k++) {
                                free(a->name);
                                if (asprintf(&a->name, "%.58s-%u", base, k) < 0) {
                                        a->name = NULL;
                                        return -ENOMEM;
                                }
                        }
                }
                if (pod_find_app(p, a->name)) {
                        app_done(a);
                        memset(a, 0, sizeof(*a));
                        return peapod_error_set(err, -EEXIST, "Duplicate app name '%s'", s->name);
                }
                /* Counted from here on so that pod_free() releases it. */
                p->n_apps++;

                FOREACH_STRV(e, s->env)
                        if (!env_assignment_is_valid(e))
                                return peapod_error_set(err, -EINVAL, "Invalid environment assignment '%s' (want KEY=VALUE)", e);
                if (s->workdir && s->workdir[0] != '/')
                        return peapod_error_set(err, -EINVAL, "Working directory '%s' is not absolute", s->workdir);

                PeapodError ie = {};
                r = image_find(s->image, image_store, &img, &ie);
                if (r == -ENOENT)
                        return peapod_error_set(err, -ENOENT, "Image not found: %s", s->image);
                if (r < 0)
                        return peapod_error_set(err, r, "Failed to load image %s: %s", s->image,
                                                ie.message[0] ? ie.message : strerror(-r));

                r = image_resolve_command(img, s->exec, s->args, &a->exec);
                if (r == -EINVAL)
                        return peapod_error_set(err, -EINVAL, "App '%s' has an empty command", a->name);
                if (r < 0)
                        return r;
                r = env_merge(img->env, s->env, &a->env);
                if (r < 0)
                        return r;
                a->image = strdup(img->name);
                a->lowerdirs = strv_copy(img->layers);
                a->workdir = strdup(s->workdir ?: img->workdir ?: "/");
                if (!a->image || !a->lowerdirs || !a->workdir)
                        return -ENOMEM;
                if (img->id) {
                        a->image_id = strdup(img->id);
                        if (!a->image_id)
                                return -ENOMEM;
                }
                /* Taken as written: names in it are resolved by stage1 in the
                 * app's own /etc/passwd, which only exists inside the app. */
                if (!isempty(img->user)) {
                        a->user = strdup(img->user);
                        if (!a->user)
                                return -ENOMEM;
                }
                r = id_generate(a->id);
                if (r < 0)
                        return r;
                a->state = APP_CREATED;
        }

        *ret = TAKE_PTR(p);
        return 0;
}

const char *pod_stage1(const Pod *p) {
        return p->stage1 ?: "default";
}

/* A flavour names a directory: 1-32 of [a-z0-9-], not starting with '-'. */
bool stage1_name_is_valid(const char *s) {
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > STAGE1_NAME_MAX || s[0] == '-')
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

App *pod_find_app(Pod *p, const char *name) {
        for (size_t i = 0; i < p->n_apps; i++)
                if (p->apps[i].name && streq(p->apps[i].name, name))
                        return &p->apps[i];
        return NULL;
}

bool pod_all_apps_exited(const Pod *p) {
        for (size_t i = 0; i < p->n_apps; i++)
                if (p->apps[i].state != APP_EXITED)
                        return false;
        return true;
}

int pod_unit_names(const Pod *p, char **ret_slice, char **ret_scope) {
        _cleanup_free_ char *slice = NULL, *scope = NULL;
        int r;

        r = pod_slice_name(p->name, &slice);
        if (r < 0)
                return r;
        r = pod_scope_name(p->name, &scope);
        if (r < 0)
                return r;
        if (ret_slice)
                *ret_slice = TAKE_PTR(slice);
        if (ret_scope)
                *ret_scope = TAKE_PTR(scope);
        return 0;
}

int pod_to_json_string(const Pod *p, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *apps;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "version", json_object_new_int(1));
        json_object_object_add(o, "id", json_object_new_string(p->id));
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "state", json_object_new_string(pod_state_to_string(p->state)));
        json_object_object_add(o, "stop_when_apps_exit", json_object_new_boolean(p->stop_when_apps_exit));
        if (p->stage1)
                json_object_object_add(o, "stage1", json_object_new_string(p->stage1));
        json_object_object_add(o, "leader", json_object_new_int64(p->leader));
        json_object_object_add(o, "created_usec", json_object_new_uint64(p->created_usec));
        json_object_object_add(o, "started_usec", json_object_new_uint64(p->started_usec));
        json_object_object_add(o, "exited_usec", json_object_new_uint64(p->exited_usec));
        {
                json_object *net = NULL;
                int r = pod_network_to_json(&p->net, &net);
                if (r < 0)
                        return r;
                json_object_object_add(o, "network", net);
        }
        apps = json_object_new_array();
        json_object_object_add(o, "apps", apps);
        for (size_t i = 0; i < p->n_apps; i++) {
                const App *a = &p->apps[i];
                json_object *j = json_object_new_object();

                json_object_array_add(apps, j);
                json_object_object_add(j, "name", json_object_new_string(a->name));
                json_object_object_add(j, "id", json_object_new_string(a->id));
                json_object_object_add(j, "image", json_object_new_string(a->image));
                json_object_object_add(j, "lowerdirs", json_new_strv(a->lowerdirs));
                if (a->image_id)
                        json_object_object_add(j, "image_id", json_object_new_string(a->image_id));
                json_object_object_add(j, "exec", json_new_strv(a->exec));
                json_object_object_add(j, "env", json_new_strv(a->env));
                json_object_object_add(j, "workdir", json_object_new_string(a->workdir));
                if (a->user)
                        json_object_object_add(j, "user", json_object_new_string(a->user));
                json_object_object_add(j, "state", json_object_new_string(app_state_to_string(a->state)));
                json_object_object_add(j, "result", json_object_new_string(app_result_to_string(a->result)));
                json_object_object_add(j, "status", json_object_new_int(a->status));
                json_object_object_add(j, "started_usec", json_object_new_uint64(a->started_usec));
                json_object_object_add(j, "exited_usec", json_object_new_uint64(a->exited_usec));
        }
        *ret = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        return *ret ? 0 : -ENOMEM;
}

static int json_dup_string(json_object *o, const char *key, char **ret) {
        const char *s;
        int r = json_get_string(o, key, &s);
        if (r < 0)
                return r;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* pod.json is ours, but it is read back after crashes and by hand edits:
 * every field is checked, and a file that does not validate is refused
 * rather than half-loaded. */
int pod_from_json_string(const char *s, Pod **ret) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        json_object *apps, *v;
        const char *str;
        int64_t i64;
        size_t n;
        int r;

        o = json_tokener_parse(s);
        if (!o || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;

        r = json_get_string(o, "id", &str);
        if (r < 0)
                return r;
        if (!id_is_valid(str))
                return -EBADMSG;
        memcpy(p->id, str, POD_ID_LEN + 1);
        r = json_dup_string(o, "name", &p->name);
        if (r < 0)
                return r;
        if (!pod_name_is_valid(p->name))
                return -EBADMSG;
        r = json_get_string(o, "state", &str);
        if (r < 0)
                return r;
        p->state = pod_state_from_string(str);
        if (p->state < 0)
                return -EBADMSG;
        if (json_object_object_get_ex(o, "stop_when_apps_exit", &v))
                p->stop_when_apps_exit = json_object_get_boolean(v);
        /* Optional: pods from before flavours are "default" ones. */
        r = json_get_string_opt(o, "stage1", &str);
        if (r < 0)
                return r;
        if (str) {
                if (!stage1_name_is_valid(str))
                        return -EBADMSG;
                p->stage1 = strdup(str);
                if (!p->stage1)
                        return -ENOMEM;
        }
        r = json_get_int64(o, "leader", &i64);
        if (r < 0)
                return r;
        if (i64 < 0 || i64 > INT32_MAX)
                return -EBADMSG;
        p->leader = (pid_t) i64;
        if (json_get_uint64(o, "created_usec", &p->created_usec) < 0 ||
            json_get_uint64(o, "started_usec", &p->started_usec) < 0 ||
            json_get_uint64(o, "exited_usec", &p->exited_usec) < 0)
                return -EBADMSG;

        /* Pods from before networking have no "network": lo only, as they had. */
        r = pod_network_from_json(json_object_object_get_ex(o, "network", &v) ? v : NULL, &p->net);
        if (r < 0)
                return r;

        if (!json_object_object_get_ex(o, "apps", &apps) || !json_object_is_type(apps, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(apps);
        if (n > POD_APPS_MAX)
                return -EBADMSG;
        p->apps = calloc(n ?: 1, sizeof(App));
        if (!p->apps)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                json_object *j = json_object_array_get_idx(apps, k);
                App *a = &p->apps[k];
                int64_t status;

                if (!json_object_is_type(j, json_type_object))
                        return -EBADMSG;
                p->n_apps++;
                if ((r = json_dup_string(j, "name", &a->name)) < 0 || (r = json_dup_string(j, "image", &a->image)) < 0 ||
                    (r = json_get_strv(j, "lowerdirs", &a->lowerdirs)) < 0 ||
                    (r = json_get_string_opt(j, "image_id", &str)) < 0 ||
                    (r = json_dup_string(j, "workdir", &a->workdir)) < 0 ||
                    (r = json_get_strv(j, "exec", &a->exec)) < 0 || (r = json_get_strv(j, "env", &a->env)) < 0)
                        return r;
                if (str) {
                        if (!digest_is_valid_string(str))
                                return -EBADMSG;
                        a->image_id = strdup(str);
                        if (!a->image_id)
                                return -ENOMEM;
                }
                /* Optional: pods created before apps had a user run as root. */
                r = json_get_string_opt(j, "user", &str);
                if (r < 0)
                        return r;
                if (!isempty(str)) {
                        a->user = strdup(str);
                        if (!a->user)
                                return -ENOMEM;
                }
                if (!a->lowerdirs) {
                        /* pod.json of version 1 before multi-layer images: one tree. */
                        _cleanup_free_ char *lower = NULL;

                        r = json_dup_string(j, "rootfs_lower", &lower);
                        if (r < 0)
                                return r;
                        r = strv_consume(&a->lowerdirs, TAKE_PTR(lower));
                        if (r < 0)
                                return r;
                }
                if (!app_name_is_valid(a->name) || strv_length(a->exec) == 0 || strv_length(a->lowerdirs) == 0 ||
                    strv_length(a->lowerdirs) > MANIFEST_LAYERS_MAX)
                        return -EBADMSG;
                r = json_get_string(j, "id", &str);
                if (r < 0)
                        return r;
                if (!id_is_valid(str))
                        return -EBADMSG;
                memcpy(a->id, str, POD_ID_LEN + 1);
                r = json_get_string(j, "state", &str);
                if (r < 0)
                        return r;
                a->state = app_state_from_string(str);
                if (a->state < 0)
                        return -EBADMSG;
                r = json_get_string(j, "result", &str);
                if (r < 0)
                        return r;
                a->result = app_result_from_string(str);
                if (a->result < 0)
                        return -EBADMSG;
                r = json_get_int64(j, "status", &status);
                if (r < 0)
                        return r;
                if (status < INT32_MIN || status > INT32_MAX)
                        return -EBADMSG;
                a->status = (int) status;
                if (json_get_uint64(j, "started_usec", &a->started_usec) < 0 ||
                    json_get_uint64(j, "exited_usec", &a->exited_usec) < 0)
                        return -EBADMSG;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

int pod_dir(const char *state_dir, const char *id, char **ret) {
        if (!id_is_valid(id))
                return -EINVAL;
        return asprintf(ret, "%s/pods/%s", state_dir, id) < 0 ? -ENOMEM : 0;
}

int pod_save(const Pod *p, const char *state_dir) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
        int r;

        r = pod_dir(state_dir, p->id, &dir);
        if (r < 0)
                return r;
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/pod.json", dir) < 0)
                return -ENOMEM;
        r = pod_to_json_string(p, &text);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, strlen(text), 0600);
}

int pod_load(const char *state_dir, const char *id, Pod **ret) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *text = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        r = pod_dir(state_dir, id, &dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/pod.json", dir) < 0)
                return -ENOMEM;
        r = read_file(path, POD_FILE_MAX, &text, NULL);
        if (r < 0)
                return r;
        r = pod_from_json_string(text, &p);
        if (r < 0)
                return r;
        if (!streq(p->id, id))
                return -EBADMSG;
        *ret = TAKE_PTR(p);
        return 0;
}
