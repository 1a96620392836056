/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A new pod from the apps a client asks for and their images: the checks
 * of every wish and the image's part of each app. Apart from pod.c (the
 * model and its JSON), so that what only reads pods (the CLI) links no
 * image store and no hashing. */
#include <stdio.h>

#include "capability-util.h"
#include "image.h"
#include "pod.h"
#include "strv.h"
#include "time-util.h"

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

static int app_copy_mounts(App *a, const AppMount *mounts, size_t n, PeapodError *err) {
        int r;

        if (n > APP_MOUNTS_MAX)
                return peapod_error_set(err, -E2BIG, "App %s: too many mounts (at most %d)", a->name, APP_MOUNTS_MAX);
        a->mounts = calloc(n ?: 1, sizeof(AppMount));
        if (!a->mounts)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = app_mount_validate(&mounts[i], err);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < i; k++)
                        if (streq(mounts[k].target, mounts[i].target))
                                return peapod_error_set(err, -EINVAL, "App %s: two mounts on %s", a->name, mounts[i].target);
                a->mounts[i].volume = strdup(mounts[i].volume);
                a->mounts[i].target = strdup(mounts[i].target);
                a->n_mounts++;
                if (!a->mounts[i].volume || !a->mounts[i].target)
                        return -ENOMEM;
        }
        return 0;
}

bool app_specs_privileged(const AppSpec *specs, size_t n_specs) {
        for (size_t i = 0; i < n_specs; i++)
                if (specs[i].privileged)
                        return true;
        return false;
}

/* A privileged app is what runc makes of kubelet's `privileged`: every
 * capability, no seccomp filter, no_new_privs off; stage1 adds the
 * host's /dev, an unmasked /proc and a writable /sys, the unit no device
 * cgroup (stage1/README.md, "Privileged apps"). So the fields that would
 * narrow it are refused rather than silently dropped: a client that
 * names capabilities, a seccomp filter, devices or masked paths for it
 * has misunderstood what it asks for. NoNewPrivileges, a plain boolean
 * whose absence cannot be told from false, is not looked at. */
static int app_set_privileged(App *a, const AppSpec *s, PeapodError *err) {
        const char *what = s->caps_retain || s->caps_remove ? "capabilities" :
                           s->seccomp && !streq(s->seccomp, "unconfined") ? "a seccomp filter" :
                           s->n_devices > 0 ? "devices (it has the host's /dev)" :
                           s->masked_paths || s->readonly_paths ? "masked or read-only paths" : NULL;

        if (what)
                return peapod_error_set(err, -EINVAL, "App %s is privileged and cannot also have %s", a->name, what);
        a->privileged = true;
        a->caps = CAPABILITY_ALL;
        a->ambient_caps = false;
        a->no_new_privs = false;
        free(a->seccomp);
        a->seccomp = strdup("unconfined");
        return a->seccomp ? 0 : -ENOMEM;
}

/* Identity, privileges, limits and mounts of a new app: the client's
 * wishes checked (they come over the bus, untrusted), the defaults
 * otherwise. */
static int app_set_isolation(App *a, const AppSpec *s, const char *image_user, PeapodError *err) {
        const char *user = s->user ?: image_user;
        int r;

        if (s->user && !user_spec_is_valid(s->user))
                return peapod_error_set(err, -EINVAL, "Invalid user '%s': USER[:GROUP], ids or names", s->user);
        if (s->group && !user_part_is_valid(s->group, strlen(s->group)))
                return peapod_error_set(err, -EINVAL, "Invalid group '%s'", s->group);
        if (s->group) {
                size_t n = isempty(user) ? 0 : strcspn(user, ":");

                if (asprintf(&a->user, "%.*s:%s", (int) (n ?: 1), n ? user : "0", s->group) < 0)
                        return (a->user = NULL), -ENOMEM;
        } else if (!isempty(user)) {
                /* The image's is taken as written: names in it are resolved
                 * by stage1 in the app's own /etc/passwd. */
                a->user = strdup(user);
                if (!a->user)
                        return -ENOMEM;
        }

        if (strv_length(s->supplementary_groups) > 64)
                return peapod_error_set(err, -E2BIG, "Too many supplementary groups (at most 64)");
        FOREACH_STRV(g, s->supplementary_groups)
                if (!user_part_is_valid(g, strlen(g)))
                        return peapod_error_set(err, -EINVAL, "Invalid supplementary group '%s'", g);
        if (s->supplementary_groups) {
                a->supplementary_groups = strv_copy(s->supplementary_groups);
                if (!a->supplementary_groups)
                        return -ENOMEM;
        }

        r = app_caps_resolve(s->caps_retain, s->caps_remove, &a->caps, &a->ambient_caps, err);
        if (r < 0)
                return r;
        a->no_new_privs = !s->allow_new_privs;
        r = app_seccomp_validate(s->seccomp ?: "default", err);
        if (r < 0)
                return r;
        a->seccomp = strdup(s->seccomp ?: "default");
        if (!a->seccomp)
                return -ENOMEM;
        a->readonly_rootfs = s->readonly_rootfs;
        if (s->stdin_once && !s->stdin_open)
                return peapod_error_set(err, -EINVAL, "StdinOnce needs Stdin");
        a->stdin_open = s->stdin_open;
        a->stdin_once = s->stdin_once;
        a->tty = s->tty;
        a->pid_namespace = s->pid_namespace ? pid_namespace_from_string(s->pid_namespace) : PID_NAMESPACE_POD;
        if (a->pid_namespace < 0)
                return peapod_error_set(err, -EINVAL, "Invalid PID namespace '%s' (pod or app)", s->pid_namespace);
        a->ipc_namespace = s->ipc_namespace ? ipc_namespace_from_string(s->ipc_namespace) : IPC_NAMESPACE_POD;
        if (a->ipc_namespace < 0)
                return peapod_error_set(err, -EINVAL, "Invalid IPC namespace '%s' (pod or app)", s->ipc_namespace);
        a->restart = s->restart ? app_restart_from_string(s->restart) : APP_RESTART_NO;
        if (a->restart < 0)
                return peapod_error_set(err, -EINVAL, "Invalid restart policy '%s' (no, on-failure or always)", s->restart);

        r = app_limits_validate(s->cpu_quota_usec, s->cpu_shares, s->memory_max, s->tasks_max, err);
        if (r < 0)
                return r;
        a->cpu_quota_usec = s->cpu_quota_usec;
        a->cpu_shares = s->cpu_shares;
        a->memory_max = s->memory_max;
        a->tasks_max = s->tasks_max;

        r = app_devices_copy(s->devices, s->n_devices, &a->devices, &a->n_devices, err);
        if (r < 0)
                return r;
        if ((r = app_protected_paths_validate(s->masked_paths, "masked", err)) < 0 ||
            (r = app_protected_paths_validate(s->readonly_paths, "read-only", err)) < 0)
                return r;
        if ((s->masked_paths && !(a->masked_paths = strv_copy(s->masked_paths))) ||
            (s->readonly_paths && !(a->readonly_paths = strv_copy(s->readonly_paths))))
                return -ENOMEM;
        if (s->privileged && (r = app_set_privileged(a, s, err)) < 0)
                return r;
        return app_copy_mounts(a, s->mounts, s->n_mounts, err);
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
        p->slice_in_shard = true;
        *ret = TAKE_PTR(p);
        return 0;
}

/* The image reference of spec i and the app's name: given, or derived
 * from the image and made unique in p. a is not yet counted in p. */
static int app_name_from_spec(Pod *p, App *a, const AppSpec *s, size_t i, PeapodError *err) {
        const char *reason;
        int r;

        if (isempty(s->image))
                return peapod_error_set(err, -EINVAL, "App %zu has no image", i + 1);
        reason = image_reference_invalid_reason(s->image);
        if (reason)
                return peapod_error_set(err, -EINVAL, "Invalid image reference '%s': %s", s->image, reason);

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
        return 0;
}

/* The rest of app a from spec s and its image: command, environment,
 * layers, working directory, isolation, annotations, a new id. */
static int app_from_spec(App *a, const AppSpec *s, const char *image_store, PeapodError *err) {
        _cleanup_(image_freep) Image *img = NULL;
        PeapodError ie = {};
        int r;

        FOREACH_STRV(e, s->env)
                if (!env_assignment_is_valid(e))
                        return peapod_error_set(err, -EINVAL, "Invalid environment assignment '%s' (want KEY=VALUE)", e);
        if (s->workdir && !app_workdir_is_valid(s->workdir))
                return peapod_error_set(err, -EINVAL, "Invalid working directory '%s': it must be an absolute path",
                                        s->workdir);

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
        /* The image's WorkingDir is checked by the rule the stage1
         * helper applies, now rather than at every start; "" is
         * unset, as docker reads it. */
        if (!s->workdir && !isempty(img->workdir) && !app_workdir_is_valid(img->workdir))
                return peapod_error_set(err, -EINVAL,
                                        "Image %s has the working directory '%s', which is not an absolute path; "
                                        "give one with --working-dir (WorkingDirectory)",
                                        s->image, img->workdir);
        a->workdir = strdup(s->workdir ?: !isempty(img->workdir) ? img->workdir : "/");
        if (!a->image || !a->lowerdirs || !a->workdir)
                return -ENOMEM;
        if (img->id) {
                a->image_id = strdup(img->id);
                if (!a->image_id)
                        return -ENOMEM;
        }
        r = app_set_isolation(a, s, img->user, err);
        if (r < 0)
                return r;
        if (s->annotations) {
                r = annotations_check(s->annotations, err);
                if (r < 0)
                        return r;
                a->annotations = strv_copy(s->annotations);
                if (!a->annotations)
                        return -ENOMEM;
        }
        r = id_generate(a->id);
        if (r < 0)
                return r;
        a->state = APP_CREATED;
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
                App *a = &p->apps[p->n_apps];

                r = app_name_from_spec(p, a, &specs[i], i, err);
                if (r < 0)
                        return r;
                /* Counted from here on so that pod_free() releases it. */
                p->n_apps++;
                r = app_from_spec(a, &specs[i], image_store, err);
                if (r < 0)
                        return r;
        }

        r = pod_check_annotations(p, NULL, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}
