/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "capability-util.h"
#include "digest.h"
#include "json-util.h"
#include "manifest.h"
#include "pod.h"
#include "seccomp-spec.h"
#include "strv.h"
#include "valid-util.h"

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

/* systemd's own words for Restart=. */
static const char * const app_restart_table[_APP_RESTART_MAX] = {
        [APP_RESTART_NO] = "no",
        [APP_RESTART_ON_FAILURE] = "on-failure",
        [APP_RESTART_ALWAYS] = "always",
};

const char *app_restart_to_string(AppRestart r) {
        return r >= 0 && r < _APP_RESTART_MAX ? app_restart_table[r] : NULL;
}
AppRestart app_restart_from_string(const char *s) {
        return (AppRestart) table_lookup(app_restart_table, _APP_RESTART_MAX, s);
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
        strv_free(a->supplementary_groups);
        free(a->seccomp);
        for (size_t i = 0; i < a->n_mounts; i++)
                app_mount_done(&a->mounts[i]);
        free(a->mounts);
        app_devices_free(a->devices, a->n_devices);
        strv_free(a->masked_paths);
        strv_free(a->readonly_paths);
        strv_free(a->annotations);
}

Pod *pod_free(Pod *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_apps; i++)
                app_done(&p->apps[i]);
        free(p->apps);
        for (size_t i = 0; i < p->n_volumes; i++)
                volume_done(&p->volumes[i]);
        free(p->volumes);
        free(p->name);
        free(p->stage1);
        strv_free(p->annotations);
        strv_free(p->sysctls);
        pod_network_done(&p->net);
        free(p);
        return NULL;
}

static size_t annotations_size(char * const *pairs) {
        size_t n = 0;

        FOREACH_STRV(s, pairs)
                n += strlen(s);
        return n;
}

int annotations_check(char * const *pairs, PeapodError *err) {
        size_t n = strv_length(pairs);

        if (n % 2 != 0)
                return peapod_error_set(err, -EINVAL, "Annotations come as pairs of key and value");
        if (n / 2 > ANNOTATIONS_MAX)
                return peapod_error_set(err, -E2BIG, "Too many annotations (at most %d)", ANNOTATIONS_MAX);
        for (size_t i = 0; i < n; i += 2) {
                size_t len = strlen(pairs[i]);

                if (len == 0 || len > ANNOTATION_KEY_MAX)
                        return peapod_error_set(err, -EINVAL, "An annotation key must have 1-%d bytes", ANNOTATION_KEY_MAX);
                /* Quadratic, but over at most 256 keys: unique keys make
                 * the map a map, whichever way a client reads it. */
                for (size_t k = 0; k < i; k += 2)
                        if (streq(pairs[k], pairs[i]))
                                return peapod_error_set(err, -EINVAL, "Annotation key '%.64s' is given twice", pairs[i]);
        }
        if (annotations_size(pairs) > ANNOTATIONS_SIZE_MAX)
                return peapod_error_set(err, -E2BIG, "Annotations too large (at most %d bytes in a pod)",
                                        ANNOTATIONS_SIZE_MAX);
        return 0;
}

int pod_check_annotations(const Pod *p, char * const *extra, PeapodError *err) {
        size_t total = annotations_size(p->annotations) + annotations_size(extra);
        int r;

        r = annotations_check(p->annotations, err);
        if (r < 0)
                return r;
        r = annotations_check(extra, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n_apps; i++) {
                r = annotations_check(p->apps[i].annotations, err);
                if (r < 0)
                        return r;
                total += annotations_size(p->apps[i].annotations);
        }
        if (total > ANNOTATIONS_SIZE_MAX)
                return peapod_error_set(err, -E2BIG, "Annotations too large (at most %d bytes in a pod and its apps)",
                                        ANNOTATIONS_SIZE_MAX);
        return 0;
}

int pod_set_annotations(Pod *p, char * const *pairs, PeapodError *err) {
        _cleanup_strv_free_ char **copy = NULL, **old = NULL;
        int r;

        if (pairs) {
                copy = strv_copy(pairs);
                if (!copy)
                        return -ENOMEM;
        }
        old = p->annotations;
        p->annotations = copy;
        r = pod_check_annotations(p, NULL, err);
        if (r < 0) {
                p->annotations = TAKE_PTR(old);
                return r;
        }
        TAKE_PTR(copy);
        return 0;
}

int pod_set_sysctls(Pod *p, char * const *pairs, PeapodError *err) {
        _cleanup_strv_free_ char **l = NULL;
        bool host = p->net.mode == POD_NETWORK_HOST;
        size_t n = 0;

        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2, n++) {
                char *a;

                if (n >= POD_SYSCTLS_MAX)
                        return peapod_error_set(err, -E2BIG, "Too many sysctls (at most %d)", POD_SYSCTLS_MAX);
                if (!sysctl_key_is_pod_settable(pairs[i], host))
                        return peapod_error_set(err, -EINVAL,
                                                "Sysctl %.128s cannot be set in a pod: only net.* (in the pod's own network), "
                                                "kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.* (in its IPC namespace)",
                                                pairs[i]);
                if (!sysctl_value_is_valid(pairs[i + 1]))
                        return peapod_error_set(err, -EINVAL, "Invalid value for sysctl %s (1-%d printable characters)",
                                                pairs[i], SYSCTL_VALUE_MAX);
                if (asprintf(&a, "%s=%s", pairs[i], pairs[i + 1]) < 0 || strv_consume(&l, a) < 0)
                        return -ENOMEM;
        }
        strv_free(p->sysctls);
        p->sysctls = TAKE_PTR(l);
        return 0;
}

static json_object *annotations_to_json(char * const *pairs) {
        json_object *o = json_object_new_object();

        for (size_t i = 0; o && pairs && pairs[i] && pairs[i + 1]; i += 2)
                json_object_object_add(o, pairs[i], json_object_new_string(pairs[i + 1]));
        return o;
}

/* Optional: records from before annotations have none. Checked as the
 * bus checks them. */
static int annotations_from_json(json_object *o, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;
        int r;

        if (!json_object_object_get_ex(o, "annotations", &v)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_object))
                return -EBADMSG;
        json_object_object_foreach(v, key, value) {
                if (!json_object_is_type(value, json_type_string))
                        return -EBADMSG;
                r = strv_extend(&l, key);
                if (r < 0)
                        return r;
                r = strv_extend(&l, json_object_get_string(value));
                if (r < 0)
                        return r;
        }
        if (annotations_check(l, NULL) < 0)
                return -EBADMSG;
        *ret = TAKE_PTR(l);
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

int app_check_mounts(const App *a, const Volume *volumes, size_t n_volumes, PeapodError *err) {
        for (size_t m = 0; m < a->n_mounts; m++) {
                const Volume *v = NULL;
                const char *reason;

                for (size_t k = 0; k < n_volumes && !v; k++)
                        if (streq(volumes[k].name, a->mounts[m].volume))
                                v = &volumes[k];
                if (!v)
                        return peapod_error_set(err, -EINVAL, "App %s mounts volume '%s', which the pod does not have",
                                                a->name, a->mounts[m].volume);
                if (app_mount_propagation_check(v->propagation, a->no_new_privs, a->privileged, &reason) < 0)
                        return peapod_error_set(err, -EINVAL, "App %s, volume %s: %s", a->name, v->name, reason);
        }
        return 0;
}

int pod_set_volumes(Pod *p, const Volume *volumes, size_t n_volumes, PeapodError *err) {
        Volume *v;
        int r;

        if (n_volumes > POD_VOLUMES_MAX)
                return peapod_error_set(err, -E2BIG, "Too many volumes (at most %d)", POD_VOLUMES_MAX);
        for (size_t i = 0; i < n_volumes; i++) {
                r = volume_validate(&volumes[i], err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < i; k++)
                        if (streq(volumes[k].name, volumes[i].name))
                                return peapod_error_set(err, -EINVAL, "Duplicate volume name '%s'", volumes[i].name);
        }
        for (size_t i = 0; i < p->n_apps; i++) {
                r = app_check_mounts(&p->apps[i], volumes, n_volumes, err);
                if (r < 0)
                        return r;
        }

        v = calloc(n_volumes ?: 1, sizeof(Volume));
        if (!v)
                return -ENOMEM;
        for (size_t i = 0; i < n_volumes; i++) {
                v[i] = (Volume) { .kind = volumes[i].kind, .read_only = volumes[i].read_only, .size = volumes[i].size,
                                  .propagation = volumes[i].propagation };
                v[i].name = strdup(volumes[i].name);
                if (volumes[i].source)
                        v[i].source = strdup(volumes[i].source);
                if (!v[i].name || (volumes[i].source && !v[i].source)) {
                        for (size_t k = 0; k <= i; k++)
                                volume_done(&v[k]);
                        free(v);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < p->n_volumes; i++)
                volume_done(&p->volumes[i]);
        free(p->volumes);
        p->volumes = v;
        p->n_volumes = n_volumes;
        return 0;
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

        r = pod_slice_name(p->name, p->slice_in_shard ? p->id[0] : 0, &slice);
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

static int app_isolation_to_json(const App *a, json_object *j) {
        _cleanup_free_ char *caps = NULL;
        json_object *o = json_object_new_object(), *mounts;
        int r;

        if (!o)
                return -ENOMEM;
        json_object_object_add(j, "isolation", o);
        r = capability_set_to_string(a->caps, &caps);
        if (r < 0)
                return r;
        if (a->supplementary_groups)
                json_object_object_add(o, "supplementary_groups", json_new_strv(a->supplementary_groups));
        json_object_object_add(o, "capabilities", json_object_new_string(caps));
        json_object_object_add(o, "ambient_capabilities", json_object_new_boolean(a->ambient_caps));
        json_object_object_add(o, "no_new_privileges", json_object_new_boolean(a->no_new_privs));
        json_object_object_add(o, "seccomp", json_object_new_string(a->seccomp ?: "default"));
        json_object_object_add(o, "readonly_rootfs", json_object_new_boolean(a->readonly_rootfs));
        if (a->privileged)
                json_object_object_add(o, "privileged", json_object_new_boolean(true));
        if (a->stdin_open || a->tty) {
                json_object_object_add(o, "stdin", json_object_new_boolean(a->stdin_open));
                json_object_object_add(o, "stdin_once", json_object_new_boolean(a->stdin_once));
                json_object_object_add(o, "tty", json_object_new_boolean(a->tty));
        }
        json_object_object_add(o, "pid_namespace", json_object_new_string(pid_namespace_to_string(a->pid_namespace)));
        json_object_object_add(o, "ipc_namespace", json_object_new_string(ipc_namespace_to_string(a->ipc_namespace)));
        json_object_object_add(o, "restart", json_object_new_string(app_restart_to_string(a->restart)));
        json_object_object_add(o, "cpu_quota_usec", json_object_new_uint64(a->cpu_quota_usec));
        json_object_object_add(o, "cpu_shares", json_object_new_uint64(a->cpu_shares));
        json_object_object_add(o, "memory_max", json_object_new_uint64(a->memory_max));
        json_object_object_add(o, "tasks_max", json_object_new_uint64(a->tasks_max));
        if (a->n_devices > 0)
                json_object_object_add(o, "devices", app_devices_to_json(a->devices, a->n_devices));
        if (a->masked_paths)
                json_object_object_add(o, "masked_paths", json_new_strv(a->masked_paths));
        if (a->readonly_paths)
                json_object_object_add(o, "readonly_paths", json_new_strv(a->readonly_paths));
        mounts = json_object_new_array();
        json_object_object_add(o, "mounts", mounts);
        for (size_t i = 0; i < a->n_mounts; i++) {
                json_object *m = json_object_new_object();

                json_object_array_add(mounts, m);
                json_object_object_add(m, "volume", json_object_new_string(a->mounts[i].volume));
                json_object_object_add(m, "target", json_object_new_string(a->mounts[i].target));
        }
        return 0;
}

static int json_get_bool(json_object *o, const char *key, bool *ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
                return -EBADMSG;
        *ret = json_object_get_boolean(v);
        return 0;
}

static int json_dup_string(json_object *o, const char *key, char **ret);

/* Missing entirely in pods made before apps had these: the defaults. */
/* An app's mounts of the pod's volumes. */
static int app_mounts_from_json(App *a, json_object *o) {
        json_object *mounts;
        size_t n;
        int r;

        if (!json_object_object_get_ex(o, "mounts", &mounts) || !json_object_is_type(mounts, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(mounts);
        if (n > APP_MOUNTS_MAX)
                return -EBADMSG;
        a->mounts = calloc(n ?: 1, sizeof(AppMount));
        if (!a->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *m = json_object_array_get_idx(mounts, i);
                AppMount *am = &a->mounts[i];

                if (!json_object_is_type(m, json_type_object))
                        return -EBADMSG;
                a->n_mounts++;
                if ((r = json_dup_string(m, "volume", &am->volume)) < 0 || (r = json_dup_string(m, "target", &am->target)) < 0)
                        return r;
                /* The syntax only: a pod made before a target was refused
                 * at creation stays loadable (and removable); its start
                 * fails as it always did. */
                if (!volume_name_is_valid(am->volume) || !mount_target_is_valid(am->target) || strchr(am->target, ':'))
                        return -EBADMSG;
        }
        return 0;
}

static int app_isolation_from_json(App *a, json_object *j) {
        json_object *o;
        const char *str;
        int r;

        if (!json_object_object_get_ex(j, "isolation", &o)) {
                a->caps = capability_default_set;
                a->no_new_privs = true;
                a->seccomp = strdup("default");
                return a->seccomp ? 0 : -ENOMEM;
        }
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if ((r = json_get_strv(o, "supplementary_groups", &a->supplementary_groups)) < 0 ||
            (r = json_get_string(o, "capabilities", &str)) < 0)
                return r;
        if (strv_length(a->supplementary_groups) > 64 || capability_set_from_string(str, &a->caps) < 0)
                return -EBADMSG;
        if ((r = json_get_bool(o, "ambient_capabilities", &a->ambient_caps)) < 0 ||
            (r = json_get_bool(o, "no_new_privileges", &a->no_new_privs)) < 0 ||
            (r = json_get_bool(o, "readonly_rootfs", &a->readonly_rootfs)) < 0 ||
            (r = json_dup_string(o, "seccomp", &a->seccomp)) < 0 ||
            (r = json_get_string(o, "pid_namespace", &str)) < 0)
                return r;
        a->pid_namespace = pid_namespace_from_string(str);
        if (a->pid_namespace < 0)
                return -EBADMSG;
        /* A pod.json from before IPC namespaces per app: the pod's. */
        r = json_get_string_opt(o, "ipc_namespace", &str);
        if (r < 0)
                return r;
        a->ipc_namespace = str ? ipc_namespace_from_string(str) : IPC_NAMESPACE_POD;
        if (a->ipc_namespace < 0)
                return -EBADMSG;
        /* A pod.json from before attachable stdins: none. */
        if (json_object_object_get_ex(o, "stdin", NULL) &&
            ((r = json_get_bool(o, "stdin", &a->stdin_open)) < 0 ||
             (r = json_get_bool(o, "stdin_once", &a->stdin_once)) < 0 ||
             (r = json_get_bool(o, "tty", &a->tty)) < 0))
                return r;
        /* A pod.json from before restart policies: "no". */
        r = json_get_string_opt(o, "restart", &str);
        if (r < 0)
                return r;
        a->restart = str ? app_restart_from_string(str) : APP_RESTART_NO;
        if (a->restart < 0)
                return -EBADMSG;
        {
                SeccompSpec spec = {};

                r = seccomp_spec_parse(a->seccomp, &spec);
                seccomp_spec_done(&spec);
                if (r < 0)
                        return r == -ENOMEM ? r : -EBADMSG;
        }
        if (json_get_uint64(o, "cpu_quota_usec", &a->cpu_quota_usec) < 0 ||
            json_get_uint64(o, "cpu_shares", &a->cpu_shares) < 0 || json_get_uint64(o, "memory_max", &a->memory_max) < 0 ||
            json_get_uint64(o, "tasks_max", &a->tasks_max) < 0 ||
            app_limits_validate(a->cpu_quota_usec, a->cpu_shares, a->memory_max, a->tasks_max, NULL) < 0)
                return -EBADMSG;

        r = app_devices_from_json(o, &a->devices, &a->n_devices);
        if (r < 0)
                return r;
        /* Missing in pods made before they existed: none. */
        if ((json_object_object_get_ex(o, "masked_paths", NULL) &&
             (r = json_get_strv(o, "masked_paths", &a->masked_paths)) < 0) ||
            (json_object_object_get_ex(o, "readonly_paths", NULL) &&
             (r = json_get_strv(o, "readonly_paths", &a->readonly_paths)) < 0))
                return r;
        if (app_protected_paths_validate(a->masked_paths, "masked", NULL) < 0 ||
            app_protected_paths_validate(a->readonly_paths, "read-only", NULL) < 0)
                return -EBADMSG;
        /* Missing in pods made before privileged apps, and in every other
         * app: not privileged. */
        if (json_object_object_get_ex(o, "privileged", NULL) &&
            (r = json_get_bool(o, "privileged", &a->privileged)) < 0)
                return r;
        return app_mounts_from_json(a, o);
}

static int pod_volumes_to_json(const Pod *p, json_object *o) {
        json_object *vols = json_object_new_array();

        if (!vols)
                return -ENOMEM;
        json_object_object_add(o, "volumes", vols);
        for (size_t i = 0; i < p->n_volumes; i++) {
                const Volume *v = &p->volumes[i];
                json_object *j = json_object_new_object();

                json_object_array_add(vols, j);
                json_object_object_add(j, "name", json_object_new_string(v->name));
                json_object_object_add(j, "kind", json_object_new_string(volume_kind_to_string(v->kind)));
                if (v->source)
                        json_object_object_add(j, "source", json_object_new_string(v->source));
                json_object_object_add(j, "read_only", json_object_new_boolean(v->read_only));
                json_object_object_add(j, "size", json_object_new_uint64(v->size));
                /* Only when asked: an older peapodd reads the others. */
                if (v->propagation != VOLUME_PROPAGATION_PRIVATE)
                        json_object_object_add(j, "propagation",
                                               json_object_new_string(volume_propagation_to_string(v->propagation)));
                if (v->owner)
                        json_object_object_add(j, "owner", json_object_new_string(v->owner));
        }
        return 0;
}

/* Not volume_validate(): a host source that is gone since the pod was made
 * is the start's problem, not a reason to forget the pod. */
static int pod_volumes_from_json(Pod *p, json_object *o) {
        json_object *vols;
        size_t n;
        int r;

        if (!json_object_object_get_ex(o, "volumes", &vols))
                return 0;
        if (!json_object_is_type(vols, json_type_array))
                return -EBADMSG;
        n = json_object_array_length(vols);
        if (n > POD_VOLUMES_MAX)
                return -EBADMSG;
        p->volumes = calloc(n ?: 1, sizeof(Volume));
        if (!p->volumes)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *j = json_object_array_get_idx(vols, i);
                Volume *v = &p->volumes[i];
                const char *str;

                if (!json_object_is_type(j, json_type_object))
                        return -EBADMSG;
                p->n_volumes++;
                if ((r = json_dup_string(j, "name", &v->name)) < 0 || (r = json_get_string(j, "kind", &str)) < 0)
                        return r;
                v->kind = volume_kind_from_string(str);
                if ((r = json_get_string_opt(j, "source", &str)) < 0)
                        return r;
                if (str) {
                        v->source = strdup(str);
                        if (!v->source)
                                return -ENOMEM;
                }
                if (json_get_bool(j, "read_only", &v->read_only) < 0 || json_get_uint64(j, "size", &v->size) < 0)
                        return -EBADMSG;
                if ((r = json_get_string_opt(j, "propagation", &str)) < 0)
                        return r;
                if (str && (v->propagation = volume_propagation_from_string(str)) < 0)
                        return -EBADMSG;
                /* Optional: the pod's own volumes have no owner. */
                if ((r = json_get_string_opt(j, "owner", &str)) < 0)
                        return r;
                if (str) {
                        if (!id_is_valid(str))
                                return -EBADMSG;
                        v->owner = strdup(str);
                        if (!v->owner)
                                return -ENOMEM;
                }
                if (!volume_name_is_valid(v->name) || v->kind < 0 ||
                    (v->kind == VOLUME_HOST) != !!v->source ||
                    (v->source && (!mount_target_is_valid(v->source) || strchr(v->source, ':'))) ||
                    (v->size > 0 && v->kind != VOLUME_TMPFS) ||
                    (v->propagation != VOLUME_PROPAGATION_PRIVATE && v->kind != VOLUME_HOST))
                        return -EBADMSG;
                for (size_t k = 0; k < i; k++)
                        if (streq(p->volumes[k].name, v->name))
                                return -EBADMSG;
        }
        return 0;
}

int pod_to_json_string(const Pod *p, char **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *apps;
        int r;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "version", json_object_new_int(1));
        json_object_object_add(o, "id", json_object_new_string(p->id));
        json_object_object_add(o, "name", json_object_new_string(p->name));
        json_object_object_add(o, "state", json_object_new_string(pod_state_to_string(p->state)));
        json_object_object_add(o, "stop_when_apps_exit", json_object_new_boolean(p->stop_when_apps_exit));
        if (p->cpu_accounting)
                json_object_object_add(o, "cpu_accounting", json_object_new_boolean(true));
        if (p->slice_in_shard)
                json_object_object_add(o, "slice_in_shard", json_object_new_boolean(true));
        if (p->stage1)
                json_object_object_add(o, "stage1", json_object_new_string(p->stage1));
        json_object_object_add(o, "leader", json_object_new_int64(p->leader));
        json_object_object_add(o, "created_usec", json_object_new_uint64(p->created_usec));
        json_object_object_add(o, "started_usec", json_object_new_uint64(p->started_usec));
        json_object_object_add(o, "exited_usec", json_object_new_uint64(p->exited_usec));
        json_object_object_add(o, "generation", json_object_new_uint64(p->generation));
        if (p->annotations)
                json_object_object_add(o, "annotations", annotations_to_json(p->annotations));
        if (p->sysctls)
                json_object_object_add(o, "sysctls", json_new_strv(p->sysctls));
        {
                json_object *net = NULL;

                r = pod_network_to_json(&p->net, &net);
                if (r < 0)
                        return r;
                json_object_object_add(o, "network", net);
        }
        apps = json_object_new_array();
        json_object_object_add(o, "apps", apps);
        r = pod_volumes_to_json(p, o);
        if (r < 0)
                return r;
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
                r = app_isolation_to_json(a, j);
                if (r < 0)
                        return r;
                json_object_object_add(j, "state", json_object_new_string(app_state_to_string(a->state)));
                json_object_object_add(j, "result", json_object_new_string(app_result_to_string(a->result)));
                json_object_object_add(j, "status", json_object_new_int(a->status));
                if (a->oom_killed)
                        json_object_object_add(j, "oom_killed", json_object_new_boolean(true));
                json_object_object_add(j, "started_usec", json_object_new_uint64(a->started_usec));
                json_object_object_add(j, "exited_usec", json_object_new_uint64(a->exited_usec));
                if (a->annotations)
                        json_object_object_add(j, "annotations", annotations_to_json(a->annotations));
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

/* pod.json's deepest: pod, apps, app, mounts or volumes, one entry. */
#define POD_JSON_DEPTH_MAX 8

/* An app's identity: name, image, layers, command, environment, user. */
static int app_identity_from_json(App *a, json_object *j) {
        const char *str;
        int r;

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
        return 0;
}

/* An app's state, outcome and times. */
static int app_state_from_json(App *a, json_object *j) {
        const char *str;
        int64_t status;
        json_object *oom;
        int r;

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
        /* Absent (older records, and every app not killed so): false. */
        if (json_object_object_get_ex(j, "oom_killed", &oom)) {
                if (!json_object_is_type(oom, json_type_boolean))
                        return -EBADMSG;
                a->oom_killed = json_object_get_boolean(oom);
        }
        if (json_get_uint64(j, "started_usec", &a->started_usec) < 0 ||
            json_get_uint64(j, "exited_usec", &a->exited_usec) < 0)
                return -EBADMSG;
        return 0;
}

static int apps_from_json(Pod *p, json_object *o) {
        json_object *apps;
        size_t n;
        int r;

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

                if (!json_object_is_type(j, json_type_object))
                        return -EBADMSG;
                p->n_apps++;
                if ((r = app_identity_from_json(a, j)) < 0 || (r = app_isolation_from_json(a, j)) < 0 ||
                    (r = app_state_from_json(a, j)) < 0 || (r = annotations_from_json(j, &a->annotations)) < 0)
                        return r;
        }
        return 0;
}

/* The pod's own fields: id, name, state, flavour, leader, times. */
static int pod_fields_from_json(Pod *p, json_object *o) {
        const char *str;
        json_object *v;
        int64_t i64;
        int r;

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
        if (json_object_object_get_ex(o, "cpu_accounting", &v))
                p->cpu_accounting = json_object_get_boolean(v);
        if (json_object_object_get_ex(o, "slice_in_shard", &v))
                p->slice_in_shard = json_object_get_boolean(v);
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
        /* Not in files from before the durable copy: generation 0. */
        if (json_object_object_get_ex(o, "generation", NULL) && json_get_uint64(o, "generation", &p->generation) < 0)
                return -EBADMSG;
        return 0;
}

/* pod.json is ours, but it is read back after crashes and by hand edits:
 * every field is checked, and a file that does not validate is refused
 * rather than half-loaded. */
int pod_from_json_string(const char *s, Pod **ret) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        json_object *v;
        int r;

        r = json_parse_untrusted(s, strlen(s), POD_FILE_MAX, POD_JSON_DEPTH_MAX, &o, NULL);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;

        r = pod_fields_from_json(p, o);
        if (r < 0)
                return r;
        /* Pods from before networking have no "network": lo only, as they had. */
        r = pod_network_from_json(json_object_object_get_ex(o, "network", &v) ? v : NULL, &p->net);
        if (r < 0)
                return r;
        r = pod_volumes_from_json(p, o);
        if (r < 0)
                return r;
        r = annotations_from_json(o, &p->annotations);
        if (r < 0)
                return r;
        /* Optional (pods from before have none); checked as CreatePod checks them. */
        r = json_get_strv(o, "sysctls", &p->sysctls);
        if (r < 0)
                return r;
        if (strv_length(p->sysctls) > POD_SYSCTLS_MAX)
                return -EBADMSG;
        FOREACH_STRV(a, p->sysctls)
                if (!sysctl_assignment_is_valid(a, p->net.mode == POD_NETWORK_HOST))
                        return -EBADMSG;
        r = apps_from_json(p, o);
        if (r < 0)
                return r;
        if (pod_check_annotations(p, NULL, NULL) < 0)
                return -EBADMSG;
        *ret = TAKE_PTR(p);
        return 0;
}

int pod_dir(const char *state_dir, const char *id, char **ret) {
        if (!id_is_valid(id))
                return -EINVAL;
        return asprintf(ret, "%s/pods/%s", state_dir, id) < 0 ? -ENOMEM : 0;
}

int pod_write_durable(const char *path, const char *text) {
        return write_file_atomic_full(path, text, strlen(text), 0600, WRITE_FILE_DURABLE);
}

int pod_save(Pod *p, const char *state_dir, const char *volatile_dir, const PodDurableWriter *w) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *vdir = NULL, *vpath = NULL, *text = NULL;
        int r;

        r = pod_dir(state_dir, p->id, &dir);
        if (r < 0)
                return r;
        /* Made here, never by the writer: a copy written after the pod's
         * removal finds no directory instead of making one. (An existing
         * directory costs a lookup, no journal.) */
        r = mkdir_p(dir, 0700);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/pod.json", dir) < 0)
                return -ENOMEM;
        p->generation++;
        r = pod_to_json_string(p, &text);
        if (r < 0)
                return r;
        if (!volatile_dir || !w || !w->write)
                return pod_write_durable(path, text);

        r = pod_dir(volatile_dir, p->id, &vdir);
        if (r < 0)
                return r;
        r = mkdir_p(vdir, 0700);
        if (r < 0)
                return r;
        if (asprintf(&vpath, "%s/pod.json", vdir) < 0)
                return -ENOMEM;
        r = write_file_atomic_full(vpath, text, strlen(text), 0600, 0);
        if (r < 0)
                return r;
        w->write(w->userdata, TAKE_PTR(path), TAKE_PTR(text));
        return 0;
}

static int pod_load_file(const char *path, const char *id, Pod **ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

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

int pod_load(const char *state_dir, const char *volatile_dir, const char *id, Pod **ret) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *vdir = NULL, *vpath = NULL;
        _cleanup_(pod_freep) Pod *durable = NULL, *current = NULL;
        int r, rv = -ENOENT;

        r = pod_dir(state_dir, id, &dir);
        if (r < 0)
                return r;
        if (asprintf(&path, "%s/pod.json", dir) < 0)
                return -ENOMEM;
        if (volatile_dir) {
                r = pod_dir(volatile_dir, id, &vdir);
                if (r < 0)
                        return r;
                if (asprintf(&vpath, "%s/pod.json", vdir) < 0)
                        return -ENOMEM;
                rv = pod_load_file(vpath, id, &current);
        }
        r = pod_load_file(path, id, &durable);
        if (rv >= 0 && (r < 0 || current->generation > durable->generation)) {
                *ret = TAKE_PTR(current);
                return 0;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(durable);
        return 0;
}
