/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "app-spec.h"
#include "macro.h"
#include "strv.h"

void volume_done(Volume *v) {
        v->name = mfree(v->name);
        v->source = mfree(v->source);
        v->owner = mfree(v->owner);
}

void app_mount_done(AppMount *m) {
        m->volume = mfree(m->volume);
        m->target = mfree(m->target);
}

void app_device_done(AppDevice *d) {
        d->host = mfree(d->host);
        d->container = mfree(d->container);
        d->permissions = mfree(d->permissions);
}

void app_devices_free(AppDevice *d, size_t n) {
        for (size_t i = 0; d && i < n; i++)
                app_device_done(&d[i]);
        free(d);
}

void app_spec_done(AppSpec *s) {
        free(s->name);
        free(s->image);
        strv_free(s->exec);
        strv_free(s->args);
        strv_free(s->env);
        free(s->workdir);
        free(s->user);
        free(s->group);
        strv_free(s->supplementary_groups);
        strv_free(s->caps_retain);
        strv_free(s->caps_remove);
        free(s->seccomp);
        free(s->pid_namespace);
        free(s->ipc_namespace);
        free(s->restart);
        for (size_t i = 0; s->mounts && i < s->n_mounts; i++)
                app_mount_done(&s->mounts[i]);
        free(s->mounts);
        app_devices_free(s->devices, s->n_devices);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        strv_free(s->annotations);
        for (size_t i = 0; s->volumes && i < s->n_volumes; i++)
                volume_done(&s->volumes[i]);
        free(s->volumes);
        *s = (AppSpec) {};
}
