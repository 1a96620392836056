/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RuntimeService: containers. A container is an app of its sandbox's pod,
 * added without being started (Pod.AddApp); its id is the pod's id and
 * the app's, so that every call finds it with one bus call. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <json-c/json.h>

#include "app-security.h"
#include "bus-util.h"
#include "capability-util.h"
#include "cri-pod.h"
#include "cri-seccomp.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "peapod-bus.h"
#include "string-util.h"
#include "strv.h"

#define CRI_CONTAINER_BUS_TIMEOUT_USEC (5ULL * 60ULL * 1000000ULL)
/* How often StopContainer looks whether the app has ended when peapodd's
 * PropertiesChanged of the pod cannot tell it (the match not in force):
 * soon after the signal first (most apps end within milliseconds of
 * SIGTERM, and kubelet waits for the answer), then doubling up to every
 * 100 ms (a GetApp each). With the match, every 100 ms, as a safety net. */
#define CRI_STOP_POLL_FIRST_USEC (5ULL * 1000ULL)
#define CRI_STOP_POLL_USEC (100ULL * 1000ULL)
#define CRI_STOP_RETRY_USEC (60ULL * 1000ULL * 1000ULL)
#define APP_NAME_BASE_MAX 50

/* What stage1 masks and makes read-only in every app's /proc and /sys
 * (stage1/README.md): a masked or read-only path of kubelet's among them
 * is there already; any other becomes the app's MaskedPaths or
 * ReadOnlyPaths. */
static const char *const stage1_masked[] = {
        "/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/latency_stats", "/proc/acpi", "/proc/scsi", "/sys/firmware", NULL,
};
static const char *const stage1_read_only[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

typedef struct ContainerRef {
        char pod_id[CRI_POD_ID_LEN + 1];
        char app_id[CRI_POD_ID_LEN + 1];
        char *pod_path;
} ContainerRef;

static int container_ref_parse(const char *id, ContainerRef *ret) {
        if (cri_container_id_parse(id, ret->pod_id, ret->app_id) < 0)
                return -EINVAL;
        if (asprintf(&ret->pod_path, PEAPOD_POD_PATH_PREFIX "/%s", ret->pod_id) < 0)
                return -ENOMEM;
        return 0;
}

static void container_ref_free(void *p) {
        ContainerRef *c = p;

        if (!c)
                return;
        free(c->pod_path);
        free(c);
}

/* A query whose data is the container named by id; NULL with the call
 * answered (INVALID_ARGUMENT or NOT_FOUND) when id names none. */
static CriQuery *container_query(Cri *cri, GrpcCall *call, const char *id, GrpcStatus bad_id, int *ret) {
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        ContainerRef *c;
        int r;

        c = calloc(1, sizeof(ContainerRef));
        if (!c) {
                *ret = -ENOMEM;
                return NULL;
        }
        r = container_ref_parse(id, c);
        if (r < 0) {
                container_ref_free(c);
                *ret = r == -ENOMEM ? r : grpc_call_fail(call, bad_id, "invalid container id \"%.80s\" (64 hex digits)",
                                                         strempty(id));
                return NULL;
        }
        q = cri_query_new(cri, call);
        if (!q) {
                container_ref_free(c);
                *ret = -ENOMEM;
                return NULL;
        }
        q->data = c;
        q->data_free = container_ref_free;
        *ret = 0;
        return TAKE_PTR(q);
}

static bool path_in(const char *p, const char *const *l);

/* The paths of kubelet's that stage1 does not cover in every app already,
 * as the app property name (as), only when there are any. The helper
 * finds each inside the app's root and skips one that is not there. */
static int append_protected_paths(sd_bus_message *m, const char *name, char **paths, size_t n,
                                   const char *const *stage1_set) {
        _cleanup_strv_free_ char **l = NULL;

        for (size_t i = 0; i < n; i++)
                if (!path_in(paths[i], stage1_set) && strv_extend(&l, paths[i]) < 0)
                        return -ENOMEM;
        return l ? bus_append_property_as(m, name, l) : 0;
}

static bool path_in(const char *p, const char *const *l) {
        for (; *l; l++)
                if (streq(p, *l))
                        return true;
        return false;
}

/* "NET_ADMIN" (kubelet's way), "CAP_NET_ADMIN" or "net_admin" -> a capability. */
static int cri_capability(const char *name) {
        _cleanup_free_ char *full = NULL;

        if (capability_from_name(name) >= 0)
                return capability_from_name(name);
        if (asprintf(&full, "CAP_%s", name) < 0)
                return -ENOMEM;
        return capability_from_name(full);
}

/* ALL in the list sets *all; unknown names are refused. */
static int cri_capability_set(char **l, size_t n, uint64_t *ret, bool *ret_all, const char **ret_bad) {
        uint64_t set = 0;

        *ret_all = false;
        for (size_t i = 0; i < n; i++) {
                int c;

                if (strcasecmp(l[i], "ALL") == 0) {
                        *ret_all = true;
                        continue;
                }
                c = cri_capability(l[i]);
                if (c < 0) {
                        *ret_bad = l[i];
                        return -EINVAL;
                }
                set |= UINT64_C(1) << c;
        }
        *ret = set;
        return 0;
}

/* The app's Seccomp setting; a Localhost profile is read (and checked)
 * only when read_profiles, at the AddApp that uses it. */
static int seccomp_setting(const Runtime__V1__LinuxContainerSecurityContext *sc, bool read_profiles, char **ret,
                           char *buf, size_t size) {
        const char *path = sc->seccomp_profile_path, *s = NULL;

        if (sc->seccomp) {
                switch (sc->seccomp->profile_type) {
                case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__RuntimeDefault:
                        s = "default";
                        break;
                case RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Unconfined:
                        s = "unconfined";
                        break;
                default:
                        if (!read_profiles)
                                return 0;
                        return cri_seccomp_from_file(sc->seccomp->localhost_ref, ret, buf, size);
                }
        } else if (isempty(path) || streq(path, "runtime/default") || streq(path, "docker/default"))
                /* The older string field; empty is the runtime's choice: peapod's default filter. */
                s = "default";
        else if (streq(path, "unconfined"))
                s = "unconfined";
        else if (startswith(path, "localhost/")) {
                if (!read_profiles)
                        return 0;
                return cri_seccomp_from_file(path + strlen("localhost/"), ret, buf, size);
        } else {
                snprintf(buf, size, "seccomp profile \"%.200s\" is not one (runtime/default, unconfined or localhost/PATH)",
                         path);
                return -EINVAL;
        }
        if (!ret)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* The CRI's mounts[].propagation as peapod's VolumePropagation: PRIVATE
 * private, HOST_TO_CONTAINER rslave, BIDIRECTIONAL rshared. */
static VolumePropagation mount_propagation(Runtime__V1__MountPropagation p) {
        switch (p) {
        case RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE:
                return VOLUME_PROPAGATION_PRIVATE;
        case RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_HOST_TO_CONTAINER:
                return VOLUME_PROPAGATION_RSLAVE;
        case RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_BIDIRECTIONAL:
                return VOLUME_PROPAGATION_RSHARED;
        default:
                return _VOLUME_PROPAGATION_INVALID;
        }
}

static const char *mount_propagation_name(VolumePropagation p) {
        return p == VOLUME_PROPAGATION_RSHARED ? "BIDIRECTIONAL" :
               p == VOLUME_PROPAGATION_RSLAVE ? "HOST_TO_CONTAINER" : "PRIVATE";
}

/* What the container's mounts ask that peapod cannot honour; NULL when all
 * of it can be. */
static const char *mounts_refusal(const Runtime__V1__ContainerConfig *c, char *buf, size_t size) {
        const Runtime__V1__LinuxContainerSecurityContext *sc = c->linux ? c->linux->security_context : NULL;
        /* Without a security context the app gets peapod's default, no_new_privs. */
        bool no_new_privs = sc ? sc->no_new_privs : true, privileged = sc && sc->privileged;

        for (size_t i = 0; i < c->n_mounts; i++) {
                const Runtime__V1__Mount *mt = c->mounts[i];
                VolumePropagation prop = mount_propagation(mt->propagation);
                const char *reason;

                if (isempty(mt->host_path) || mt->host_path[0] != '/' || isempty(mt->container_path) ||
                    mt->container_path[0] != '/')
                        return snprintf(buf, size, "mount %.200s: host_path and container_path must be absolute paths",
                                        strempty(mt->container_path)), buf;
                if (prop < 0)
                        return snprintf(buf, size, "mount %.200s: unknown propagation %d", mt->container_path,
                                        (int) mt->propagation), buf;
                /* The rules of volume_validate() and app_check_mounts()
                 * (app_mount_propagation_check()), said here with the
                 * CRI's names for the fields. */
                if (prop != VOLUME_PROPAGATION_PRIVATE && mt->readonly)
                        return snprintf(buf, size,
                                        "mount %.200s: propagation %s cannot be readonly: mounts the host makes below "
                                        "host_path arrive with the host's flags, writable ones included",
                                        mt->container_path, mount_propagation_name(prop)), buf;
                if (app_mount_propagation_check(prop, no_new_privs, privileged, &reason) < 0)
                        return snprintf(buf, size, "mount %.200s (propagation %s): %s; set security_context.%s",
                                        mt->container_path, mount_propagation_name(prop), reason,
                                        prop == VOLUME_PROPAGATION_RSHARED ?
                                        "privileged (in a privileged sandbox)" :
                                        "no_new_privs (allowPrivilegeEscalation: false)"), buf;
                if (mt->n_uidmappings > 0 || mt->n_gidmappings > 0)
                        return "id-mapped mounts are not supported by peapod";
                if (mt->image && !isempty(mt->image->image))
                        return "image volumes are not supported by peapod";
        }
        return NULL;
}

/* What the container's resources ask that peapod cannot honour. */
static const char *resources_refusal(const Runtime__V1__LinuxContainerResources *res) {
        if (!isempty(res->cpuset_cpus) || !isempty(res->cpuset_mems))
                return "cpusets are not supported by peapod";
        if (res->n_unified > 0)
                return "unified cgroup settings are not supported by peapod";
        for (size_t i = 0; i < res->n_hugepage_limits; i++)
                if (res->hugepage_limits[i]->limit > 0)
                        return "hugepage limits are not supported by peapod";
        if (res->cpu_quota > 0 && res->cpu_period <= 0)
                return "a CPU quota needs a CPU period";
        return NULL;
}

/* What the container's namespace options ask that peapod cannot honour. */
static const char *namespaces_refusal(const Runtime__V1__NamespaceOption *ns) {
        if (ns->network != RUNTIME__V1__NAMESPACE_MODE__POD && ns->network != RUNTIME__V1__NAMESPACE_MODE__NODE)
                return "a container shares its sandbox's network (network namespace mode POD or NODE)";
        if (ns->pid != RUNTIME__V1__NAMESPACE_MODE__POD && ns->pid != RUNTIME__V1__NAMESPACE_MODE__CONTAINER)
                return "PID namespace mode NODE or TARGET is not supported by peapod (POD or CONTAINER)";
        if (ns->ipc != RUNTIME__V1__NAMESPACE_MODE__POD && ns->ipc != RUNTIME__V1__NAMESPACE_MODE__CONTAINER)
                return "IPC namespace mode NODE or TARGET is not supported by peapod (POD or CONTAINER)";
        if (ns->userns_options && ns->userns_options->mode != RUNTIME__V1__NAMESPACE_MODE__NODE)
                return "user namespaces are not supported by peapod";
        return NULL;
}

/* What the container's user, groups, masked and read-only paths and
 * capabilities ask that peapod cannot honour. */
static const char *privileges_refusal(const Runtime__V1__LinuxContainerSecurityContext *sc, char *buf, size_t size) {
        if (sc->run_as_group && !sc->run_as_user && isempty(sc->run_as_username))
                return "run_as_group needs run_as_user or run_as_username";
        if (sc->run_as_user && sc->run_as_user->value < 0)
                return "run_as_user must not be negative";
        if (sc->run_as_group && sc->run_as_group->value < 0)
                return "run_as_group must not be negative";
        for (size_t i = 0; i < sc->n_supplemental_groups; i++)
                if (sc->supplemental_groups[i] < 0)
                        return "supplemental groups must not be negative";
        if (sc->n_masked_paths > APP_PROTECTED_PATHS_MAX || sc->n_readonly_paths > APP_PROTECTED_PATHS_MAX)
                return snprintf(buf, size, "at most %d masked and %d read-only paths", APP_PROTECTED_PATHS_MAX,
                                APP_PROTECTED_PATHS_MAX), buf;
        for (size_t k = 0; k < 2; k++)
                for (size_t i = 0; i < (k ? sc->n_readonly_paths : sc->n_masked_paths); i++) {
                        const char *path = k ? sc->readonly_paths[i] : sc->masked_paths[i], *reason;

                        if (app_protected_path_check(path, &reason) < 0)
                                return snprintf(buf, size, "%s path %.200s: %s", k ? "read-only" : "masked", strempty(path),
                                                reason), buf;
                }
        if (sc->capabilities) {
                const Runtime__V1__Capability *caps = sc->capabilities;
                const char *bad = NULL;
                uint64_t set;
                bool all;

                if (caps->n_add_ambient_capabilities > 0)
                        return "ambient capabilities are not supported by peapod-cri";
                if (cri_capability_set(caps->add_capabilities, caps->n_add_capabilities, &set, &all, &bad) < 0 ||
                    cri_capability_set(caps->drop_capabilities, caps->n_drop_capabilities, &set, &all, &bad) < 0)
                        return snprintf(buf, size, "unknown capability \"%.64s\"", bad), buf;
        }
        return NULL;
}

/* What the container's security context asks that peapod cannot honour. */
static const char *security_context_refusal(const Runtime__V1__LinuxContainerSecurityContext *sc, char *buf,
                                            size_t size) {
        const char *refusal;

        if (sc->namespace_options && (refusal = namespaces_refusal(sc->namespace_options)))
                return refusal;
        if (sc->selinux_options && (!isempty(sc->selinux_options->user) || !isempty(sc->selinux_options->role) ||
                                    !isempty(sc->selinux_options->type) || !isempty(sc->selinux_options->level)))
                return "SELinux options are not supported by peapod";
        if ((sc->apparmor && sc->apparmor->profile_type == RUNTIME__V1__SECURITY_PROFILE__PROFILE_TYPE__Localhost) ||
            (!isempty(sc->apparmor_profile) && !streq(sc->apparmor_profile, "runtime/default") &&
             !streq(sc->apparmor_profile, "unconfined")))
                return "AppArmor profiles are not supported by peapod";
        /* A privileged container's capabilities, seccomp profile, masked
         * and read-only paths are ignored, as containerd ignores them: it
         * has all of them, or none (append_security_properties()). */
        if (sc->privileged)
                return NULL;
        refusal = privileges_refusal(sc, buf, size);
        if (refusal)
                return refusal;
        if (seccomp_setting(sc, false, NULL, buf, size) < 0)
                return buf;
        return NULL;
}

/* What a container's config asks that peapod cannot honour; NULL when all
 * of it can be. No isolation setting is ever dropped silently. */
static const char *container_config_refusal(const Runtime__V1__ContainerConfig *c, char *buf, size_t size) {
        const Runtime__V1__LinuxContainerConfig *l = c->linux;
        const Runtime__V1__LinuxContainerSecurityContext *sc = l ? l->security_context : NULL;
        const Runtime__V1__LinuxContainerResources *res = l ? l->resources : NULL;
        const char *refusal;

        if (!c->metadata || isempty(c->metadata->name))
                return "the container config needs metadata with a name";
        if (!c->image || isempty(c->image->image))
                return "the container config needs an image";
        refusal = mounts_refusal(c, buf, size);
        if (refusal)
                return refusal;
        /* The text here, to name the field; whether host_path is a
         * device is peapodd's check (app_devices_copy()). A privileged
         * container has the host's whole /dev instead. */
        for (size_t i = 0; !(sc && sc->privileged) && i < c->n_devices; i++) {
                const Runtime__V1__Device *d = c->devices[i];
                const char *reason;

                if (app_device_check(d->host_path, d->container_path, d->permissions, &reason) < 0)
                        return snprintf(buf, size, "device %.200s: %s", strempty(d->host_path), reason), buf;
        }
        if (c->stdin_once && !c->stdin)
                return "stdin_once needs stdin";
        for (size_t i = 0; i < c->n_envs; i++)
                if (isempty(c->envs[i]->key) || strchr(c->envs[i]->key, '='))
                        return snprintf(buf, size, "invalid environment variable name \"%.200s\"", c->envs[i]->key), buf;
        if (res && (refusal = resources_refusal(res)))
                return refusal;
        return sc ? security_context_refusal(sc, buf, size) : NULL;
}

/* An app name from the container's: [a-z0-9-], starting with a letter or
 * digit, with the attempt, as kubelet makes a new container per attempt. */
static int container_app_name(const Runtime__V1__ContainerMetadata *md, char **ret) {
        char base[APP_NAME_BASE_MAX + 1];
        size_t n = 0;

        for (const char *c = md->name; *c && n < APP_NAME_BASE_MAX; c++) {
                char x = (char) (*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);

                if (n == 0 && !cri_char_is_alnum(x))
                        continue;
                base[n++] = cri_char_is_alnum(x) ? x : '-';
        }
        base[n] = 0;
        return asprintf(ret, "%s-%" PRIu32, n > 0 ? base : "c", md->attempt) < 0 ? -ENOMEM : 0;
}

/* The app's capability set as peapod's properties say it: kubelet's list
 * is docker's default set plus add minus drop ("ALL" in either). Only
 * drop: CapabilitiesRemove (peapod's default set minus them, as docker);
 * anything added: the exact set, CapabilitiesRetain. */
static int append_capabilities(sd_bus_message *m, const Runtime__V1__Capability *caps, char *buf, size_t size) {
        _cleanup_strv_free_ char **names = NULL;
        uint64_t add = 0, drop = 0, set;
        bool add_all, drop_all;
        const char *bad = NULL;
        int r;

        if (!caps || (caps->n_add_capabilities == 0 && caps->n_drop_capabilities == 0))
                return 0;
        if (cri_capability_set(caps->add_capabilities, caps->n_add_capabilities, &add, &add_all, &bad) < 0 ||
            cri_capability_set(caps->drop_capabilities, caps->n_drop_capabilities, &drop, &drop_all, &bad) < 0) {
                snprintf(buf, size, "unknown capability \"%.64s\"", bad);
                return -EINVAL;
        }
        if (caps->n_add_capabilities == 0 && !drop_all) {
                for (int c = 0; c <= CAPABILITY_LAST; c++)
                        if (drop & (UINT64_C(1) << c) && (r = strv_extend(&names, capability_to_name(c))) < 0)
                                return r;
                return bus_append_property_as(m, "CapabilitiesRemove", names ?: (char *[]) { NULL });
        }
        set = drop_all ? 0 : capability_default_set & ~drop;
        set |= add_all ? CAPABILITY_ALL : add;
        if (add_all && !drop_all)
                set &= ~drop;
        for (int c = 0; c <= CAPABILITY_LAST; c++)
                if (set & (UINT64_C(1) << c) && (r = strv_extend(&names, capability_to_name(c))) < 0)
                        return r;
        return bus_append_property_as(m, "CapabilitiesRetain", names ?: (char *[]) { NULL });
}

/* The mounts as ContainerStatus gives them back. */
static int mounts_to_json(const Runtime__V1__ContainerConfig *c, char **ret) {
        json_object *a = json_object_new_array();
        int r = 0;

        if (!a)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < c->n_mounts; i++) {
                json_object *m = json_object_new_array();

                if (!m || json_object_array_add(a, m) < 0) {
                        json_object_put(m);
                        r = -ENOMEM;
                        break;
                }
                json_object_array_add(m, json_object_new_string(c->mounts[i]->container_path));
                json_object_array_add(m, json_object_new_string(c->mounts[i]->host_path));
                json_object_array_add(m, json_object_new_boolean(c->mounts[i]->readonly));
                /* Only when not private: what an older peapod-cri wrote had three. */
                if (c->mounts[i]->propagation != RUNTIME__V1__MOUNT_PROPAGATION__PROPAGATION_PRIVATE)
                        json_object_array_add(m, json_object_new_int(c->mounts[i]->propagation));
        }
        if (r >= 0) {
                *ret = strdup(json_object_to_json_string_ext(a, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
                if (!*ret)
                        r = -ENOMEM;
        }
        json_object_put(a);
        return r;
}

/* Back from the annotation (written by us above; anything else is skipped). */
static int mounts_from_json(CriArena *arena, const char *text, Runtime__V1__Mount ***ret, size_t *ret_n) {
        json_object *a = NULL;
        Runtime__V1__Mount **l;
        size_t n = 0, max;

        *ret = NULL;
        *ret_n = 0;
        /* Any client that manages pods can write an annotation: read it as
         * untrusted, bounded (an array of [path, path, bool]). */
        if (text && json_parse_untrusted(text, strlen(text), 1024 * 1024, 3, &a, NULL) == -ENOMEM)
                return -ENOMEM;
        if (!a || !json_object_is_type(a, json_type_array)) {
                json_object_put(a);
                return 0;
        }
        max = json_object_array_length(a);
        l = cri_arena_new(arena, max * sizeof(void *));
        if (!l) {
                json_object_put(a);
                return -ENOMEM;
        }
        for (size_t i = 0; i < max; i++) {
                json_object *m = json_object_array_get_idx(a, i);
                Runtime__V1__Mount *mt;

                json_object *prop;

                if (!json_object_is_type(m, json_type_array) || json_object_array_length(m) < 3 ||
                    json_object_array_length(m) > 4)
                        continue;
                mt = cri_arena_new(arena, sizeof(*mt));
                if (!mt) {
                        json_object_put(a);
                        return -ENOMEM;
                }
                runtime__v1__mount__init(mt);
                mt->container_path = cri_arena_strdup(arena, json_object_get_string(json_object_array_get_idx(m, 0)));
                mt->host_path = cri_arena_strdup(arena, json_object_get_string(json_object_array_get_idx(m, 1)));
                mt->readonly = json_object_get_boolean(json_object_array_get_idx(m, 2));
                prop = json_object_array_get_idx(m, 3);
                if (prop && json_object_is_type(prop, json_type_int) &&
                    mount_propagation(json_object_get_int(prop)) > VOLUME_PROPAGATION_PRIVATE)
                        mt->propagation = json_object_get_int(prop);
                if (!mt->container_path || !mt->host_path) {
                        json_object_put(a);
                        return -ENOMEM;
                }
                l[n++] = mt;
        }
        json_object_put(a);
        *ret = l;
        *ret_n = n;
        return 0;
}

static int container_annotations(const Runtime__V1__CreateContainerRequest *req, const char *image_ref, char ***ret) {
        const Runtime__V1__ContainerConfig *c = req->config;
        const char *dir = req->sandbox_config ? req->sandbox_config->log_directory : NULL;
        _cleanup_strv_free_ char **l = NULL;
        _cleanup_free_ char *log_path = NULL, *mounts = NULL;
        char attempt[16], created[32];
        struct timespec ts;
        int r;

        if (!isempty(c->log_path)) {
                if (!isempty(dir) && c->log_path[0] != '/') {
                        if (asprintf(&log_path, "%s/%s", dir, c->log_path) < 0)
                                return -ENOMEM;
                } else if (!(log_path = strdup(c->log_path)))
                        return -ENOMEM;
        }
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(attempt, sizeof(attempt), "%" PRIu32, c->metadata->attempt);
        snprintf(created, sizeof(created), "%" PRIi64, (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec);
        if ((r = cri_pairs_add(&l, NULL, CRI_KEY_NAME, c->metadata->name)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_ATTEMPT, attempt)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_IMAGE, c->image->image)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_IMAGE_REF, image_ref)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_CREATED, created)) < 0 ||
            (r = cri_pairs_add(&l, NULL, CRI_KEY_LOG_PATH, log_path)) < 0)
                return r;
        if (c->n_mounts > 0) {
                r = mounts_to_json(c, &mounts);
                if (r < 0)
                        return r;
                r = cri_pairs_add(&l, NULL, CRI_KEY_MOUNTS, mounts);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_labels; i++) {
                r = cri_pairs_add(&l, CRI_PREFIX_LABEL, c->labels[i]->key, c->labels[i]->value);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_annotations; i++) {
                r = cri_pairs_add(&l, CRI_PREFIX_ANNOTATION, c->annotations[i]->key, c->annotations[i]->value);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* The process: command and args, environment, working directory, stdin
 * and terminal. */
static int append_process_properties(sd_bus_message *m, const Runtime__V1__ContainerConfig *c) {
        _cleanup_strv_free_ char **env = NULL;
        int r = 0;

        /* kubelet's command replaces the image's entrypoint and its args the
         * image's cmd; a command alone runs without the image's cmd. */
        if (c->n_command > 0) {
                _cleanup_strv_free_ char **exec = NULL;

                for (size_t i = 0; i < c->n_command; i++)
                        if ((r = strv_extend(&exec, c->command[i])) < 0)
                                return r;
                for (size_t i = 0; i < c->n_args; i++)
                        if ((r = strv_extend(&exec, c->args[i])) < 0)
                                return r;
                r = bus_append_property_as(m, "Exec", exec);
        } else if (c->n_args > 0)
                r = bus_append_property_strn(m, "Args", c->args, c->n_args);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_envs; i++) {
                _cleanup_free_ char *e = NULL;

                if (asprintf(&e, "%s=%s", c->envs[i]->key, c->envs[i]->value) < 0)
                        return -ENOMEM;
                r = strv_consume(&env, TAKE_PTR(e));
                if (r < 0)
                        return r;
        }
        if (env && (r = bus_append_property_as(m, "Environment", env)) < 0)
                return r;
        if (!isempty(c->working_dir) && (r = sd_bus_message_append(m, "(sv)", "WorkingDirectory", "s", c->working_dir)) < 0)
                return r;
        /* A stdin that peapodd keeps for Attach (Pod.AttachApp), or a
         * terminal whose master it keeps. */
        if (c->stdin && ((r = sd_bus_message_append(m, "(sv)", "Stdin", "b", 1)) < 0 ||
                         (r = sd_bus_message_append(m, "(sv)", "StdinOnce", "b", (int) c->stdin_once)) < 0))
                return r;
        if (c->tty && (r = sd_bus_message_append(m, "(sv)", "Tty", "b", 1)) < 0)
                return r;
        return 0;
}

/* The identity: user, group and supplementary groups. */
static int append_identity_properties(sd_bus_message *m, const Runtime__V1__LinuxContainerSecurityContext *sc) {
        char id[32];
        int r = 0;

        if (sc->run_as_user) {
                snprintf(id, sizeof(id), "%" PRIi64, sc->run_as_user->value);
                r = sd_bus_message_append(m, "(sv)", "User", "s", id);
        } else if (!isempty(sc->run_as_username))
                r = sd_bus_message_append(m, "(sv)", "User", "s", sc->run_as_username);
        if (r < 0)
                return r;
        if (sc->run_as_group) {
                snprintf(id, sizeof(id), "%" PRIi64, sc->run_as_group->value);
                r = sd_bus_message_append(m, "(sv)", "Group", "s", id);
                if (r < 0)
                        return r;
        }
        if (sc->n_supplemental_groups > 0) {
                _cleanup_strv_free_ char **groups = NULL;

                for (size_t i = 0; i < sc->n_supplemental_groups; i++) {
                        snprintf(id, sizeof(id), "%" PRIi64, sc->supplemental_groups[i]);
                        if ((r = strv_extend(&groups, id)) < 0)
                                return r;
                }
                r = bus_append_property_as(m, "SupplementaryGroups", groups);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The security context: identity, capabilities, read-only root, no new
 * privileges, seccomp and the app's own namespaces. A privileged
 * container is the app property Privileged instead of capabilities, no
 * new privileges and seccomp (peapodd refuses them beside it). */
static int append_security_properties(sd_bus_message *m, const Runtime__V1__LinuxContainerSecurityContext *sc,
                                      char *buf, size_t size) {
        _cleanup_free_ char *seccomp = NULL;
        int r;

        r = append_identity_properties(m, sc);
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "(sv)", "ReadOnlyRootfs", "b", (int) sc->readonly_rootfs);
        if (r < 0)
                return r;
        if (sc->privileged)
                r = sd_bus_message_append(m, "(sv)", "Privileged", "b", 1);
        else {
                r = append_capabilities(m, sc->capabilities, buf, size);
                if (r < 0)
                        return r;
                /* Exactly kubelet's wish: allowPrivilegeEscalation is its inverse. */
                r = sd_bus_message_append(m, "(sv)", "NoNewPrivileges", "b", (int) sc->no_new_privs);
                if (r < 0)
                        return r;
                r = seccomp_setting(sc, true, &seccomp, buf, size);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "(sv)", "Seccomp", "s", seccomp);
        }
        if (r < 0)
                return r;
        if (sc->namespace_options && sc->namespace_options->pid == RUNTIME__V1__NAMESPACE_MODE__CONTAINER) {
                r = sd_bus_message_append(m, "(sv)", "PIDNamespace", "s", "app");
                if (r < 0)
                        return r;
        }
        if (sc->namespace_options && sc->namespace_options->ipc == RUNTIME__V1__NAMESPACE_MODE__CONTAINER) {
                r = sd_bus_message_append(m, "(sv)", "IPCNamespace", "s", "app");
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The container's mounts: each a host volume of the app's own (removed
 * with it), named uniquely in the pod, and its mount point. The host path
 * is resolved, symlinks included, when it is set up. peapod's read-only
 * is recursive. */
static int append_mount_properties(sd_bus_message *m, const Runtime__V1__ContainerConfig *c) {
        bool have_propagation = false;
        uint64_t tag;
        int r;

        if (getrandom(&tag, sizeof(tag), 0) != sizeof(tag))
                return -errno;
        r = bus_open_array_property(m, "Volumes", "(sssbt)");
        for (size_t i = 0; r >= 0 && i < c->n_mounts; i++) {
                char name[64];

                snprintf(name, sizeof(name), "cri-%016" PRIx64 "-%zu", tag, i);
                r = sd_bus_message_append(m, "(sssbt)", name, "host", c->mounts[i]->host_path,
                                          (int) c->mounts[i]->readonly, UINT64_C(0));
        }
        if (r >= 0)
                r = bus_close_array_property(m);
        /* HOST_TO_CONTAINER is rslave, BIDIRECTIONAL rshared
         * (mounts_refusal() checked the rest). */
        for (size_t i = 0; r >= 0 && i < c->n_mounts; i++) {
                VolumePropagation prop = mount_propagation(c->mounts[i]->propagation);
                char name[64];

                if (prop <= VOLUME_PROPAGATION_PRIVATE)
                        continue;
                snprintf(name, sizeof(name), "cri-%016" PRIx64 "-%zu", tag, i);
                if (!have_propagation) {
                        r = bus_open_array_property(m, "VolumePropagation", "{ss}");
                        have_propagation = r >= 0;
                }
                if (r >= 0)
                        r = sd_bus_message_append(m, "{ss}", name,
                                                  prop == VOLUME_PROPAGATION_RSHARED ? "rshared" : "rslave");
        }
        if (r >= 0 && have_propagation)
                r = bus_close_array_property(m);
        if (r >= 0)
                r = bus_open_array_property(m, "Mounts", "(ss)");
        for (size_t i = 0; r >= 0 && i < c->n_mounts; i++) {
                char name[64];

                snprintf(name, sizeof(name), "cri-%016" PRIx64 "-%zu", tag, i);
                r = sd_bus_message_append(m, "(ss)", name, c->mounts[i]->container_path);
        }
        if (r >= 0)
                r = bus_close_array_property(m);
        return r < 0 ? r : 0;
}

/* Exactly these nodes with exactly these permissions: the app unit's
 * DeviceAllow= (app-device.h). */
static int append_devices_property(sd_bus_message *m, const Runtime__V1__ContainerConfig *c) {
        int r;

        r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "Devices");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sss)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sss)");
        for (size_t i = 0; r >= 0 && i < c->n_devices; i++)
                r = sd_bus_message_append(m, "(sss)", c->devices[i]->host_path, c->devices[i]->container_path,
                                          c->devices[i]->permissions);
        for (int k = 0; k < 3 && r >= 0; k++)
                r = sd_bus_message_close_container(m);
        return r < 0 ? r : 0;
}

/* The resource limits. oom_score_adj is kubelet's ordering of evictions,
 * not a limit: systemd's own OOM handling applies. */
static int append_resource_properties(sd_bus_message *m, const Runtime__V1__LinuxContainerResources *res) {
        int r;

        if (res->cpu_quota > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t",
                                       (uint64_t) res->cpu_quota * 1000000ULL / (uint64_t) res->cpu_period)) < 0)
                return r;
        if (res->cpu_shares > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "CPUShares", "t", (uint64_t) res->cpu_shares)) < 0)
                return r;
        if (res->memory_limit_in_bytes > 0 &&
            (r = sd_bus_message_append(m, "(sv)", "MemoryMax", "t", (uint64_t) res->memory_limit_in_bytes)) < 0)
                return r;
        return 0;
}

/* AddApp's app properties for the container (checked by
 * container_config_refusal() before). */
static int append_container_properties(sd_bus_message *m, const Runtime__V1__CreateContainerRequest *req,
                                       const char *image_ref, char *buf, size_t size) {
        const Runtime__V1__ContainerConfig *c = req->config;
        const Runtime__V1__LinuxContainerSecurityContext *sc = c->linux ? c->linux->security_context : NULL;
        const Runtime__V1__LinuxContainerResources *res = c->linux ? c->linux->resources : NULL;
        _cleanup_strv_free_ char **annotations = NULL;
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        r = append_process_properties(m, c);
        if (r < 0)
                return r;
        if (sc && (r = append_security_properties(m, sc, buf, size)) < 0)
                return r;
        if (c->n_mounts > 0 && (r = append_mount_properties(m, c)) < 0)
                return r;
        if (sc && !sc->privileged) {
                r = append_protected_paths(m, "MaskedPaths", sc->masked_paths, sc->n_masked_paths, stage1_masked);
                if (r >= 0)
                        r = append_protected_paths(m, "ReadOnlyPaths", sc->readonly_paths, sc->n_readonly_paths,
                                                   stage1_read_only);
                if (r < 0)
                        return r;
        }
        if (c->n_devices > 0 && !(sc && sc->privileged) && (r = append_devices_property(m, c)) < 0)
                return r;
        if (res && (r = append_resource_properties(m, res)) < 0)
                return r;
        r = container_annotations(req, image_ref, &annotations);
        if (r < 0)
                return r;
        r = cri_append_annotations_property(m, annotations);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

/* CreateContainer's chain: the image's id (GetImage, its Id), then AddApp
 * by that id. The request is kept (a copy) for the later steps. */
typedef struct ContainerCreate {
        Runtime__V1__CreateContainerRequest *req;
        char *pod_path;
} ContainerCreate;

static void container_create_free(void *p) {
        ContainerCreate *c = p;

        if (!c)
                return;
        if (c->req)
                protobuf_c_message_free_unpacked(&c->req->base, NULL);
        free(c->pod_path);
        free(c);
}

static int create_on_added(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__CreateContainerResponse resp = RUNTIME__V1__CREATE_CONTAINER_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ContainerCreate *c = q->data;
        const char *name, *app_id;
        char id[CRI_CONTAINER_ID_LEN + 1];
        int r;

        if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such sandbox %s", c->req->pod_sandbox_id);
        if (e)
                return cri_fail_from_bus(q, e);
        r = sd_bus_message_read(m, "ss", &name, &app_id);
        if (r < 0)
                return r;
        if (!cri_hex_id_is_valid(app_id, CRI_POD_ID_LEN))
                return -EBADMSG;
        snprintf(id, sizeof(id), "%s%s", c->req->pod_sandbox_id, app_id);
        resp.container_id = id;
        return cri_reply(q->call, &resp.base);
}

static int create_on_image_id(CriQuery *q, sd_bus_message *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        _cleanup_free_ char *name = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ContainerCreate *c = q->data;
        const char *image_id;
        char buf[512] = "";
        int r;

        if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "image %s was removed", c->req->config->image->image);
        if (e)
                return cri_fail_from_bus(q, e);
        r = sd_bus_message_read(m, "v", "s", &image_id);
        if (r < 0)
                return r;
        r = container_app_name(c->req->config->metadata, &name);
        if (r < 0)
                return r;
        r = cri_query_new_method(q, c->pod_path, PEAPOD_POD_INTERFACE, "AddApp", &call);
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "ss", name, image_id);
        if (r < 0)
                return r;
        r = append_container_properties(call, c->req, image_id, buf, sizeof(buf));
        if (r == -EINVAL && buf[0])
                return grpc_call_fail(q->call, GRPC_STATUS_INVALID_ARGUMENT, "%s", buf);
        if (r < 0)
                return r;
        r = sd_bus_message_append(call, "t", UINT64_C(0));
        if (r < 0)
                return r;
        return cri_query_send(q, call, create_on_added);
}

static int create_on_image(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ContainerCreate *c = q->data;
        const char *path;
        int r;

        if (e && sd_bus_error_has_name(e, BUS_ERROR_NO_SUCH_IMAGE))
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "image \"%s\" not found", c->req->config->image->image);
        if (e)
                return cri_fail_from_bus(q, e);
        r = sd_bus_message_read(m, "o", &path);
        if (r < 0)
                return r;
        return cri_query_call(q, path, "org.freedesktop.DBus.Properties", "Get", create_on_image_id, "ss",
                              PEAPOD_IMAGE_INTERFACE, "Id");
}

static int create_get_image(CriQuery *q) {
        ContainerCreate *c = q->data;

        return cri_query_call(q, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "GetImage", create_on_image, "s",
                              c->req->config->image->image);
}

/* A privileged container: kubelet's rule that its sandbox must be
 * privileged too, from the sandbox's record (RunPodSandbox's annotation,
 * kept by peapodd). peapodd then asks polkit for
 * org.peapod1.run-privileged of peapod-cri's caller, root. */
static int create_on_sandbox(CriQuery *q, sd_bus_message *m) {
        _cleanup_strv_free_ char **annotations = NULL;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ContainerCreate *c = q->data;
        int r;

        if (e && sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such sandbox %s", c->req->pod_sandbox_id);
        if (e)
                return cri_fail_from_bus(q, e);
        r = sd_bus_message_enter_container(m, 'v', "a{ss}");
        if (r < 0)
                return r;
        r = cri_read_pairs(m, &annotations);
        if (r < 0)
                return r;
        if (!streq_ptr(cri_pairs_get(annotations, CRI_KEY_PRIVILEGED), "true"))
                return grpc_call_fail(q->call, GRPC_STATUS_INVALID_ARGUMENT,
                                      "privileged container in sandbox %s, which is not privileged",
                                      c->req->pod_sandbox_id);
        return create_get_image(q);
}

int cri_create_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__CreateContainerRequest *req = (const Runtime__V1__CreateContainerRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_free_ uint8_t *packed = NULL;
        ContainerCreate *c;
        const char *refusal;
        char buf[512];
        size_t len;
        int r;

        if (!cri_hex_id_is_valid(req->pod_sandbox_id, CRI_POD_ID_LEN))
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such sandbox \"%.80s\" (an id has 32 hex digits)",
                                      strempty(req->pod_sandbox_id));
        if (!req->config)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "CreateContainer needs a config");
        refusal = container_config_refusal(req->config, buf, sizeof(buf));
        if (refusal)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "%s", refusal);
        q = cri_query_new(cri, call);
        c = calloc(1, sizeof(ContainerCreate));
        if (!q || !c) {
                free(c);
                return -ENOMEM;
        }
        q->data = c;
        q->data_free = container_create_free;
        /* AddApp resolves the image's layers: more than a quick call. */
        q->bus_timeout_usec = CRI_CONTAINER_BUS_TIMEOUT_USEC;
        cri_query_detach(q);
        len = protobuf_c_message_get_packed_size(request);
        packed = malloc(len ?: 1);
        if (!packed)
                return -ENOMEM;
        (void) protobuf_c_message_pack(request, packed);
        c->req = (Runtime__V1__CreateContainerRequest *) protobuf_c_message_unpack(request->descriptor, NULL, len, packed);
        if (!c->req)
                return -ENOMEM;
        if (asprintf(&c->pod_path, PEAPOD_POD_PATH_PREFIX "/%s", req->pod_sandbox_id) < 0)
                return -ENOMEM;
        if (req->config->linux && req->config->linux->security_context && req->config->linux->security_context->privileged)
                r = cri_query_call(q, c->pod_path, "org.freedesktop.DBus.Properties", "Get", create_on_sandbox, "ss",
                                   PEAPOD_POD_INTERFACE, "Annotations");
        else
                r = create_get_image(q);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

static int start_on_done(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__StartContainerResponse resp = RUNTIME__V1__START_CONTAINER_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e)
                return cri_fail_from_bus(q, e);
        return cri_reply(q->call, &resp.base);
}

int cri_start_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__StartContainerRequest *req = (const Runtime__V1__StartContainerRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        ContainerRef *c;
        int r;

        q = container_query(cri, call, req->container_id, GRPC_STATUS_NOT_FOUND, &r);
        if (!q)
                return r;
        c = q->data;
        q->bus_timeout_usec = CRI_CONTAINER_BUS_TIMEOUT_USEC;
        r = cri_query_call(q, c->pod_path, PEAPOD_POD_INTERFACE, "StartApp", start_on_done, "s", c->app_id);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

/* StopContainer: SIGTERM, and SIGKILL when the timeout has passed (at
 * once for a timeout of 0). The app's end is seen when peapodd announces
 * a change of the pod (PropertiesChanged, matched before the Kill so that
 * a quick end is not missed): a GetApp then tells whether it was the
 * app's. A timer looks too, for the SIGKILL and in case a signal is lost
 * (the bus connected anew). The stop runs on when kubelet gives up
 * waiting: nothing of it blocks the loop. */
typedef struct ContainerStop {
        ContainerRef ref;
        uint64_t kill_at;       /* CLOCK_MONOTONIC */
        uint64_t poll_usec;     /* the next wait before GetApp */
        bool killed;
        bool changed;           /* the pod changed while a call was out: look again at once */
} ContainerStop;

static uint64_t stop_next_poll(CriQuery *q) {
        ContainerStop *s = q->data;
        uint64_t t = s->poll_usec ?: CRI_STOP_POLL_FIRST_USEC;

        if (q->match)
                return CRI_STOP_POLL_USEC;
        s->poll_usec = t * 2 < CRI_STOP_POLL_USEC ? t * 2 : CRI_STOP_POLL_USEC;
        return t;
}

static void container_stop_free(void *p) {
        ContainerStop *s = p;

        if (!s)
                return;
        free(s->ref.pod_path);
        free(s);
}

static int stop_answer(CriQuery *q) {
        Runtime__V1__StopContainerResponse resp = RUNTIME__V1__STOP_CONTAINER_RESPONSE__INIT;

        q->match = sd_bus_slot_unref(q->match);
        return cri_reply(q->call, &resp.base);
}

static int stop_fail(CriQuery *q, const sd_bus_error *e) {
        q->match = sd_bus_slot_unref(q->match);
        return cri_fail_from_bus(q, e);
}

static int stop_poll(CriQuery *q, sd_bus_message *m);

/* The next look: at once when the pod changed meanwhile, else at the
 * next signal or the timer. */
static int stop_wait(CriQuery *q, uint64_t usec) {
        ContainerStop *s = q->data;

        if (s->changed)
                return stop_poll(q, NULL);
        return cri_query_sleep(q, usec, stop_poll);
}

static int stop_on_pod_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriQuery *q = userdata;
        ContainerStop *s = q->data;
        int r;

        if (!q->timer) {
                s->changed = true;      /* a call is out: its answer looks again */
                return 0;
        }
        q->timer = sd_event_source_disable_unref(q->timer);
        r = stop_poll(q, NULL);
        if (r < 0) {
                (void) grpc_call_fail(q->call, GRPC_STATUS_INTERNAL, "cannot call peapodd: %s", strerror(-r));
                cri_query_free(q);
        }
        return 0;
}

/* peapodd away for a moment (restarted, being activated): the stop goes
 * on once it is back, for a minute past the timeout at most. */
static bool stop_retry(CriQuery *q, const sd_bus_error *e) {
        ContainerStop *s = q->data;
        uint64_t now;

        if (cri_status_from_bus_error(e) != GRPC_STATUS_UNAVAILABLE ||
            sd_event_now(q->cri->event, CLOCK_MONOTONIC, &now) < 0 || now > s->kill_at + CRI_STOP_RETRY_USEC)
                return false;
        return true;
}

static int stop_on_killed(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ContainerStop *s = q->data;

        /* Not running (any more): stopped is what was asked. */
        if (e && sd_bus_error_has_name(e, BUS_ERROR_BAD_STATE))
                return stop_answer(q);
        if (e && stop_retry(q, e)) {
                /* A SIGKILL that did not get through is sent again. */
                s->killed = false;
                return stop_wait(q, stop_next_poll(q));
        }
        if (e)
                return stop_fail(q, e);
        /* After SIGKILL, soon again. */
        s->poll_usec = 0;
        return stop_wait(q, stop_next_poll(q));
}

static int stop_on_app(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        ContainerStop *s = q->data;
        const char *state = NULL;
        uint64_t now, wait;
        int r;

        if (e && stop_retry(q, e))
                return cri_query_sleep(q, CRI_STOP_POLL_USEC, stop_poll);   /* peapodd away: no hurry */
        if (e)
                return stop_fail(q, e);
        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r >= 0 && streq(name, "State"))
                        r = sd_bus_message_read(m, "v", "s", &state);
                else if (r >= 0)
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                return r;
        if (!streq_ptr(state, "running"))
                return stop_answer(q);
        r = sd_event_now(q->cri->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        if (!s->killed && now >= s->kill_at) {
                s->killed = true;
                s->changed = false;
                return cri_query_call(q, s->ref.pod_path, PEAPOD_POD_INTERFACE, "Kill", stop_on_killed, "si", s->ref.app_id,
                                      (int32_t) SIGKILL);
        }
        wait = stop_next_poll(q);
        /* Not past the SIGKILL's time: the timer wakes us then at the latest. */
        if (!s->killed && s->kill_at - now < wait)
                wait = s->kill_at - now;
        return stop_wait(q, wait);
}

static int stop_poll(CriQuery *q, sd_bus_message *m) {
        ContainerStop *s = q->data;

        s->changed = false;
        return cri_query_call(q, s->ref.pod_path, PEAPOD_POD_INTERFACE, "GetApp", stop_on_app, "s", s->ref.app_id);
}

int cri_stop_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__StopContainerRequest *req = (const Runtime__V1__StopContainerRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        ContainerStop *s;
        sd_bus *bus;
        uint64_t now;
        int r;

        s = calloc(1, sizeof(ContainerStop));
        if (!s)
                return -ENOMEM;
        r = container_ref_parse(req->container_id, &s->ref);
        if (r < 0) {
                container_stop_free(s);
                return r == -ENOMEM ? r : grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "invalid container id \"%.80s\" (64 hex digits)",
                                                         strempty(req->container_id));
        }
        q = cri_query_new(cri, call);
        if (!q) {
                container_stop_free(s);
                return -ENOMEM;
        }
        q->data = s;
        q->data_free = container_stop_free;
        r = sd_event_now(cri->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        s->kill_at = now + (req->timeout > 0 ? (uint64_t) req->timeout * 1000000ULL : 0);
        s->killed = req->timeout <= 0;
        /* A stop once begun ends with SIGKILL, whether kubelet waits or not. */
        cri_query_detach(q);
        r = cri_bus(cri, &bus);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        /* Before the Kill, so that an app that ends at once is not missed.
         * Without it (refused), the timer alone looks. */
        if (sd_bus_match_signal_async(bus, &q->match, PEAPOD_BUS_NAME, s->ref.pod_path, "org.freedesktop.DBus.Properties",
                                      "PropertiesChanged", stop_on_pod_changed, NULL, q) < 0)
                q->match = NULL;
        r = cri_query_call(q, s->ref.pod_path, PEAPOD_POD_INTERFACE, "Kill", stop_on_killed, "si", s->ref.app_id,
                           (int32_t) (req->timeout > 0 ? SIGTERM : SIGKILL));
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

static int remove_on_done(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__RemoveContainerResponse resp = RUNTIME__V1__REMOVE_CONTAINER_RESPONSE__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        /* Gone already: removed is what was asked. */
        if (e && !sd_bus_error_has_names(e, BUS_ERROR_NO_SUCH_APP, BUS_ERROR_NO_SUCH_POD, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return cri_fail_from_bus(q, e);
        return cri_reply(q->call, &resp.base);
}

int cri_remove_container(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__RemoveContainerRequest *req = (const Runtime__V1__RemoveContainerRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        ContainerRef *c;
        int r;

        q = container_query(cri, call, req->container_id, GRPC_STATUS_INVALID_ARGUMENT, &r);
        if (!q)
                return r;
        c = q->data;
        q->bus_timeout_usec = CRI_CONTAINER_BUS_TIMEOUT_USEC;
        cri_query_detach(q);
        r = cri_query_call(q, c->pod_path, PEAPOD_POD_INTERFACE, "RemoveApp", remove_on_done, "st", c->app_id,
                           PEAPOD_REMOVE_APP_FORCE);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

static Runtime__V1__ContainerState container_state(const char *state) {
        if (streq_ptr(state, "created"))
                return RUNTIME__V1__CONTAINER_STATE__CONTAINER_CREATED;
        if (streq_ptr(state, "running"))
                return RUNTIME__V1__CONTAINER_STATE__CONTAINER_RUNNING;
        if (streq_ptr(state, "exited"))
                return RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED;
        return RUNTIME__V1__CONTAINER_STATE__CONTAINER_UNKNOWN;
}

Runtime__V1__ContainerMetadata *cri_container_metadata(CriArena *a, char **annotations) {
        Runtime__V1__ContainerMetadata *md = cri_arena_new(a, sizeof(*md));
        const char *attempt = cri_pairs_get(annotations, CRI_KEY_ATTEMPT);

        if (!md)
                return NULL;
        runtime__v1__container_metadata__init(md);
        md->name = (char *) strempty(cri_pairs_get(annotations, CRI_KEY_NAME));
        md->attempt = attempt ? (uint32_t) strtoul(attempt, NULL, 10) : 0;
        return md;
}

static Runtime__V1__ImageSpec *container_image(CriArena *a, char **annotations) {
        Runtime__V1__ImageSpec *img = cri_arena_new(a, sizeof(*img));

        if (!img)
                return NULL;
        runtime__v1__image_spec__init(img);
        img->image = (char *) strempty(cri_pairs_get(annotations, CRI_KEY_IMAGE));
        return img;
}

static int64_t container_created(char **annotations) {
        const char *s = cri_pairs_get(annotations, CRI_KEY_CREATED);

        return s ? strtoll(s, NULL, 10) : 0;
}

typedef struct AppInfo {
        const char *state, *result;
        int32_t status;
        int oom_killed;         /* GetApp's OOMKilled (b) */
        uint64_t started_usec, exited_usec;
        char **annotations;
} AppInfo;

static int read_get_app(sd_bus_message *m, AppInfo *ret) {
        AppInfo i = {};
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *name;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        break;
                if (streq(name, "State"))
                        r = sd_bus_message_read(m, "v", "s", &i.state);
                else if (streq(name, "Result"))
                        r = sd_bus_message_read(m, "v", "s", &i.result);
                else if (streq(name, "Status"))
                        r = sd_bus_message_read(m, "v", "i", &i.status);
                else if (streq(name, "OOMKilled"))
                        r = sd_bus_message_read(m, "v", "b", &i.oom_killed);
                else if (streq(name, "StartedTimestamp"))
                        r = sd_bus_message_read(m, "v", "t", &i.started_usec);
                else if (streq(name, "ExitedTimestamp"))
                        r = sd_bus_message_read(m, "v", "t", &i.exited_usec);
                else if (streq(name, "Annotations")) {
                        r = sd_bus_message_enter_container(m, 'v', "a{ss}");
                        if (r >= 0)
                                r = cri_read_pairs(m, &i.annotations);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r < 0) {
                strv_free(i.annotations);
                return r;
        }
        *ret = i;
        return 0;
}

static int status_on_app(CriQuery *q, sd_bus_message *m) {
        Runtime__V1__ContainerStatusResponse resp = RUNTIME__V1__CONTAINER_STATUS_RESPONSE__INIT;
        Runtime__V1__ContainerStatus st = RUNTIME__V1__CONTAINER_STATUS__INIT;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        _cleanup_(cri_arena_done) CriArena a = {};
        ContainerRef *c = q->data;
        char id[CRI_CONTAINER_ID_LEN + 1];
        Runtime__V1__ContainerStatusResponse__InfoEntry info = RUNTIME__V1__CONTAINER_STATUS_RESPONSE__INFO_ENTRY__INIT;
        Runtime__V1__ContainerStatusResponse__InfoEntry *infos[] = { &info };
        _cleanup_free_ char *json = NULL;
        void **labels, **annotations;
        size_t n_labels, n_annotations;
        AppInfo i = {};
        int r;

        if (e && sd_bus_error_has_names(e, BUS_ERROR_NO_SUCH_APP, SD_BUS_ERROR_UNKNOWN_OBJECT))
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such container %s%s", c->pod_id, c->app_id);
        if (e)
                return cri_fail_from_bus(q, e);
        r = read_get_app(m, &i);
        if (r < 0)
                return r;
        if (!cri_pairs_get(i.annotations, CRI_KEY_NAME)) {
                strv_free(i.annotations);
                return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such container: app %s is not one of the CRI's",
                                      c->app_id);
        }
        snprintf(id, sizeof(id), "%s%s", c->pod_id, c->app_id);
        st.id = id;
        st.metadata = cri_container_metadata(&a, i.annotations);
        st.image = container_image(&a, i.annotations);
        r = cri_pairs_to_map(&a, i.annotations, CRI_PREFIX_LABEL, &runtime__v1__container_status__labels_entry__descriptor,
                             &labels, &n_labels);
        if (r >= 0)
                r = cri_pairs_to_map(&a, i.annotations, CRI_PREFIX_ANNOTATION,
                                     &runtime__v1__container_status__annotations_entry__descriptor, &annotations, &n_annotations);
        if (r >= 0 && (!st.metadata || !st.image))
                r = -ENOMEM;
        if (r >= 0) {
                st.state = container_state(i.state);
                st.created_at = container_created(i.annotations);
                st.started_at = cri_usec_to_ns(i.started_usec);
                if (st.state == RUNTIME__V1__CONTAINER_STATE__CONTAINER_EXITED) {
                        st.finished_at = cri_usec_to_ns(i.exited_usec);
                        /* As a shell reports a death by signal. */
                        st.exit_code = streq_ptr(i.result, "exited") ? i.status : 128 + i.status;
                        /* kubelet's words: OOMKilled shows in the pod's status. */
                        st.reason = (char *) (i.oom_killed ? "OOMKilled" : st.exit_code == 0 ? "Completed" : "Error");
                }
                st.image_ref = (char *) strempty(cri_pairs_get(i.annotations, CRI_KEY_IMAGE_REF));
                st.image_id = st.image_ref;
                st.log_path = (char *) strempty(cri_pairs_get(i.annotations, CRI_KEY_LOG_PATH));
                r = mounts_from_json(&a, cri_pairs_get(i.annotations, CRI_KEY_MOUNTS), &st.mounts, &st.n_mounts);
        }
        /* Verbose: the app as peapodd describes it (GetApp's properties). */
        if (r >= 0 && q->verbose) {
                r = cri_properties_to_json(m, &json);
                info.key = (char *) "info";
                info.value = json;
                resp.n_info = 1;
                resp.info = infos;
        }
        if (r >= 0) {
                st.n_labels = n_labels;
                st.labels = (Runtime__V1__ContainerStatus__LabelsEntry **) labels;
                st.n_annotations = n_annotations;
                st.annotations = (Runtime__V1__ContainerStatus__AnnotationsEntry **) annotations;
                resp.status = &st;
                r = cri_reply(q->call, &resp.base);
        }
        strv_free(i.annotations);
        return r;
}

int cri_container_status(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ContainerStatusRequest *req = (const Runtime__V1__ContainerStatusRequest *) request;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        ContainerRef *c;
        int r;

        q = container_query(cri, call, req->container_id, GRPC_STATUS_NOT_FOUND, &r);
        if (!q)
                return r;
        c = q->data;
        q->verbose = req->verbose;
        r = cri_query_call(q, c->pod_path, PEAPOD_POD_INTERFACE, "GetApp", status_on_app, "s", c->app_id);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}

static int list_answer(GrpcCall *call, const CriPod *pods, size_t n_pods, const CriListFilter *f) {
        Runtime__V1__ListContainersResponse resp = RUNTIME__V1__LIST_CONTAINERS_RESPONSE__INIT;
        _cleanup_(cri_arena_done) CriArena a = {};
        Runtime__V1__Container **items = NULL;
        size_t n_items = 0, max = 0;
        int r = 0;

        for (size_t i = 0; i < n_pods; i++)
                max += pods[i].n_apps;
        items = cri_arena_new(&a, max * sizeof(void *));
        if (!items)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < n_pods; i++) {
                const CriPod *p = &pods[i];

                if (f->pod_sandbox_id && !startswith(p->id, f->pod_sandbox_id))
                        continue;
                for (size_t k = 0; r >= 0 && k < p->n_apps; k++) {
                        const CriApp *app = &p->apps[k];
                        Runtime__V1__Container *ct;
                        void **labels, **annotations;
                        size_t n_labels, n_annotations;
                        char *id;

                        if (!app->state || !cri_pairs_get(app->annotations, CRI_KEY_NAME))
                                continue;
                        id = cri_arena_add(&a, cri_strjoin(p->id, app->id));
                        if (!id) {
                                r = -ENOMEM;
                                break;
                        }
                        if (f->id && !startswith(id, f->id))
                                continue;
                        if (f->has_state && (int) container_state(app->state) != f->state)
                                continue;
                        if (!cri_selector_match(app->annotations, f->selector))
                                continue;
                        ct = cri_arena_new(&a, sizeof(*ct));
                        if (!ct) {
                                r = -ENOMEM;
                                break;
                        }
                        runtime__v1__container__init(ct);
                        ct->id = id;
                        ct->pod_sandbox_id = p->id;
                        ct->metadata = cri_container_metadata(&a, app->annotations);
                        ct->image = container_image(&a, app->annotations);
                        if (!ct->metadata || !ct->image) {
                                r = -ENOMEM;
                                break;
                        }
                        ct->image_ref = (char *) strempty(cri_pairs_get(app->annotations, CRI_KEY_IMAGE_REF));
                        ct->image_id = ct->image_ref;
                        ct->state = container_state(app->state);
                        ct->created_at = container_created(app->annotations);
                        r = cri_pairs_to_map(&a, app->annotations, CRI_PREFIX_LABEL,
                                             &runtime__v1__container__labels_entry__descriptor, &labels, &n_labels);
                        if (r >= 0)
                                r = cri_pairs_to_map(&a, app->annotations, CRI_PREFIX_ANNOTATION,
                                                     &runtime__v1__container__annotations_entry__descriptor, &annotations,
                                                     &n_annotations);
                        if (r < 0)
                                break;
                        ct->n_labels = n_labels;
                        ct->labels = (Runtime__V1__Container__LabelsEntry **) labels;
                        ct->n_annotations = n_annotations;
                        ct->annotations = (Runtime__V1__Container__AnnotationsEntry **) annotations;
                        items[n_items++] = ct;
                }
        }
        if (r < 0)
                return r;
        resp.n_containers = n_items;
        resp.containers = items;
        return cri_reply(call, &resp.base);
}

int cri_list_containers(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ListContainersRequest *req = (const Runtime__V1__ListContainersRequest *) request;
        const Runtime__V1__ContainerFilter *filter = req->filter;
        CriListFilter *f;
        int r;

        r = cri_list_filter_new(filter ? filter->id : NULL, filter ? filter->pod_sandbox_id : NULL,
                                filter && filter->state, filter && filter->state ? (int) filter->state->state : 0,
                                filter ? (void **) filter->label_selector : NULL, filter ? filter->n_label_selector : 0, &f);
        if (r < 0)
                return r;
        return cri_list(cri, call, f, list_answer);
}
