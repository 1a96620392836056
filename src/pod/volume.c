/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "name.h"
#include "parse-util.h"
#include "string-util.h"
#include "volume.h"

static const char *const volume_kind_table[_VOLUME_KIND_MAX] = {
        [VOLUME_HOST] = "host",
        [VOLUME_EMPTY] = "empty",
        [VOLUME_TMPFS] = "tmpfs",
};

const char *volume_kind_to_string(VolumeKind k) {
        return k >= 0 && k < _VOLUME_KIND_MAX ? volume_kind_table[k] : NULL;
}

VolumeKind volume_kind_from_string(const char *s) {
        if (s)
                for (int i = 0; i < _VOLUME_KIND_MAX; i++)
                        if (streq(volume_kind_table[i], s))
                                return (VolumeKind) i;
        return _VOLUME_KIND_INVALID;
}

static const char *const volume_propagation_table[_VOLUME_PROPAGATION_MAX] = {
        [VOLUME_PROPAGATION_PRIVATE] = "private",
        [VOLUME_PROPAGATION_RSLAVE] = "rslave",
        [VOLUME_PROPAGATION_RSHARED] = "rshared",
};

const char *volume_propagation_to_string(VolumePropagation p) {
        return p >= 0 && p < _VOLUME_PROPAGATION_MAX ? volume_propagation_table[p] : NULL;
}

VolumePropagation volume_propagation_from_string(const char *s) {
        if (s)
                for (int i = 0; i < _VOLUME_PROPAGATION_MAX; i++)
                        if (streq(volume_propagation_table[i], s))
                                return (VolumePropagation) i;
        return _VOLUME_PROPAGATION_INVALID;
}

bool volume_name_is_valid(const char *s) {
        /* The same rule as app names: it becomes a directory name. */
        return app_name_is_valid(s);
}

int volume_validate(const Volume *v, PeapodError *err) {
        struct stat st;

        if (!volume_name_is_valid(v->name))
                return peapod_error_set(err, -EINVAL,
                                        "Invalid volume name '%s': use 1-63 lower-case letters, digits and '-'",
                                        strempty(v->name));
        if (!volume_kind_to_string(v->kind))
                return peapod_error_set(err, -EINVAL, "Volume %s: invalid kind (host, empty or tmpfs)", v->name);
        if (v->kind == VOLUME_HOST) {
                if (!v->source || !mount_target_is_valid(v->source) || strchr(v->source, ':'))
                        return peapod_error_set(err, -EINVAL,
                                                "Volume %s: source '%s' must be an absolute path without '..', '.' or ':'",
                                                v->name, strempty(v->source));
                if (stat(v->source, &st) < 0)
                        return peapod_error_set(err, -EINVAL, "Volume %s: source %s: %s", v->name, v->source,
                                                strerror(errno));
        } else if (!isempty(v->source))
                return peapod_error_set(err, -EINVAL, "Volume %s: only a host volume has a source", v->name);
        if (v->size > 0 && v->kind != VOLUME_TMPFS)
                return peapod_error_set(err, -EINVAL, "Volume %s: only a tmpfs volume has a size", v->name);
        if (!volume_propagation_to_string(v->propagation))
                return peapod_error_set(err, -EINVAL, "Volume %s: invalid propagation (private, rslave or rshared)", v->name);
        if (v->propagation != VOLUME_PROPAGATION_PRIVATE && v->kind != VOLUME_HOST)
                return peapod_error_set(err, -EINVAL, "Volume %s: only a host volume has a propagation", v->name);
        /* Whether an app may mount it (rshared: privileged apps only) is
         * the app's question: app_mount_propagation_check(). Mounts
         * arriving from the host keep the host's flags, a writable one
         * included: a read-only volume would stop being one below its
         * first arrival (and an rshared one is the app's to mount on). */
        if (v->propagation != VOLUME_PROPAGATION_PRIVATE && v->read_only)
                return peapod_error_set(err, -EINVAL,
                                        "Volume %s: propagation %s cannot be read-only: mounts the host makes "
                                        "below the source arrive with the host's flags, writable ones included",
                                        v->name, volume_propagation_to_string(v->propagation));
        return 0;
}

int volumes_set_propagation(Volume *volumes, size_t n_volumes, char * const *pairs, PeapodError *err) {
        for (char * const *p = pairs; p && p[0] && p[1]; p += 2) {
                VolumePropagation prop = volume_propagation_from_string(p[1]);
                Volume *v = NULL;

                if (prop < 0)
                        return peapod_error_set(err, -EINVAL, "Volume %s: invalid propagation '%s' (private, rslave or rshared)",
                                                p[0], p[1]);
                for (size_t i = 0; i < n_volumes && !v; i++)
                        if (streq(volumes[i].name, p[0]))
                                v = &volumes[i];
                if (!v)
                        return peapod_error_set(err, -EINVAL, "VolumePropagation names volume '%s', which is not given",
                                                p[0]);
                v->propagation = prop;
        }
        return 0;
}

int app_mount_validate(const AppMount *m, PeapodError *err) {
        const char *reason;

        if (!volume_name_is_valid(m->volume))
                return peapod_error_set(err, -EINVAL, "Invalid volume name '%s' in a mount", strempty(m->volume));
        /* The stage1 helper's own rule: refused here, never first at start. */
        if (app_mount_target_check(m->target, &reason) < 0)
                return peapod_error_set(err, -EINVAL, "Invalid mount target '%s': %s", strempty(m->target), reason);
        return 0;
}

/* Splits "a=b,c=d" style text: the next comma-separated item of *p. */
static char *next_item(const char **p) {
        const char *s = *p;
        size_t n;

        if (!s)
                return NULL;
        n = strcspn(s, ",");
        *p = s[n] ? s + n + 1 : NULL;
        return strndup(s, n);
}

static int parse_bool_value(const char *v, bool *ret) {
        if (streq(v, "true") || streq(v, "yes") || streq(v, "1"))
                *ret = true;
        else if (streq(v, "false") || streq(v, "no") || streq(v, "0"))
                *ret = false;
        else
                return -EINVAL;
        return 0;
}

int volume_from_string(const char *s, Volume *ret, PeapodError *err) {
        _cleanup_(volume_done) Volume v = { .kind = _VOLUME_KIND_INVALID };
        const char *p = s;
        int r;

        if (isempty(s))
                return peapod_error_set(err, -EINVAL, "Empty volume");
        v.name = next_item(&p);
        if (!v.name)
                return -ENOMEM;
        if (!volume_name_is_valid(v.name))
                return peapod_error_set(err, -EINVAL,
                                        "Invalid volume '%s': it starts with a name of 1-63 lower-case letters, digits and '-'",
                                        s);
        while (p) {
                _cleanup_free_ char *item = next_item(&p);
                const char *val;

                if (!item)
                        return -ENOMEM;
                if ((val = startswith(item, "kind="))) {
                        v.kind = volume_kind_from_string(val);
                        if (v.kind < 0)
                                return peapod_error_set(err, -EINVAL, "Invalid volume kind '%s' (host, empty or tmpfs)", val);
                } else if ((val = startswith(item, "source="))) {
                        free(v.source);
                        v.source = strdup(val);
                        if (!v.source)
                                return -ENOMEM;
                } else if ((val = startswith(item, "readOnly="))) {
                        if (parse_bool_value(val, &v.read_only) < 0)
                                return peapod_error_set(err, -EINVAL, "Invalid readOnly='%s' (true or false)", val);
                } else if ((val = startswith(item, "size="))) {
                        r = parse_size(val, &v.size);
                        if (r < 0 || v.size == 0)
                                return peapod_error_set(err, -EINVAL, "Invalid volume size '%s' (e.g. 64M)", val);
                } else if ((val = startswith(item, "propagation="))) {
                        v.propagation = volume_propagation_from_string(val);
                        if (v.propagation < 0)
                                return peapod_error_set(err, -EINVAL, "Invalid propagation '%s' (private, rslave or rshared)", val);
                } else
                        return peapod_error_set(err, -EINVAL,
                                                "Unknown volume parameter '%s' (kind, source, readOnly, size, propagation)",
                                                item);
        }
        if (v.kind < 0)
                return peapod_error_set(err, -EINVAL, "Volume %s: kind= is missing", v.name);
        r = volume_validate(&v, err);
        if (r < 0)
                return r;
        *ret = v;
        v = (Volume) {};
        return 0;
}

int app_mount_from_string(const char *s, AppMount *ret, PeapodError *err) {
        _cleanup_(app_mount_done) AppMount m = {};
        const char *p = s;
        int r;

        if (isempty(s))
                return peapod_error_set(err, -EINVAL, "Empty mount");
        while (p) {
                _cleanup_free_ char *item = next_item(&p);
                const char *val;
                char **field;

                if (!item)
                        return -ENOMEM;
                if ((val = startswith(item, "volume=")))
                        field = &m.volume;
                else if ((val = startswith(item, "target=")))
                        field = &m.target;
                else
                        return peapod_error_set(err, -EINVAL, "Unknown mount parameter '%s' (volume, target)", item);
                free(*field);
                *field = strdup(val);
                if (!*field)
                        return -ENOMEM;
        }
        if (!m.volume || !m.target)
                return peapod_error_set(err, -EINVAL, "Invalid mount '%s': volume=NAME,target=/PATH", s);
        r = app_mount_validate(&m, err);
        if (r < 0)
                return r;
        *ret = m;
        m = (AppMount) {};
        return 0;
}

int volume_bind_from_string(const char *s, const char *name, Volume *ret_volume, AppMount *ret_mount,
                            PeapodError *err) {
        _cleanup_(volume_done) Volume v = { .kind = VOLUME_HOST };
        _cleanup_(app_mount_done) AppMount m = {};
        const char *target, *options;
        int r;

        target = strchr(s, ':');
        if (!target || target == s)
                return peapod_error_set(err, -EINVAL, "HOSTPATH:TARGET[:ro|rw] expected");
        if (s[0] != '/')
                return peapod_error_set(err, -EINVAL,
                                        "the host side is an absolute path (a volume by name is "
                                        "--volume=NAME,kind=... with --mount=volume=NAME,target=...)");
        v.source = strndup(s, target - s);
        target++;
        options = strchr(target, ':');
        m.target = options ? strndup(target, options - target) : strdup(target);
        v.name = strdup(name);
        m.volume = strdup(name);
        if (!v.source || !m.target || !v.name || !m.volume)
                return -ENOMEM;
        for (const char *p = options ? options + 1 : NULL; p;) {
                _cleanup_free_ char *item = next_item(&p);

                if (!item)
                        return -ENOMEM;
                if (streq(item, "ro"))
                        v.read_only = true;
                else if (streq(item, "rw"))
                        v.read_only = false;
                else if (volume_propagation_from_string(item) >= 0)
                        v.propagation = volume_propagation_from_string(item);
                else
                        return peapod_error_set(err, -EINVAL, "unknown option '%s' (ro, rw, private, rslave or rshared)", item);
        }
        r = volume_validate(&v, err);
        if (r < 0)
                return r;
        r = app_mount_validate(&m, err);
        if (r < 0)
                return r;
        *ret_volume = v;
        *ret_mount = m;
        v = (Volume) {};
        m = (AppMount) {};
        return 0;
}
