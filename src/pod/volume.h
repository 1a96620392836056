/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "macro.h"

/* A pod's volumes and the apps' mounts of them, as rkt had them:
 *   --volume=NAME,kind=host,source=/path[,readOnly=true]
 *   --volume=NAME,kind=empty[,readOnly=true]     a directory of the pod, shared by its apps
 *   --volume=NAME,kind=tmpfs[,size=64M][,readOnly=true]
 *   --mount=volume=NAME,target=/path              per app */
typedef enum VolumeKind {
        VOLUME_HOST,
        VOLUME_EMPTY,
        VOLUME_TMPFS,
        _VOLUME_KIND_MAX,
        _VOLUME_KIND_INVALID = -EINVAL,
} VolumeKind;

const char *volume_kind_to_string(VolumeKind k);
VolumeKind volume_kind_from_string(const char *s);

typedef struct Volume {
        char *name;
        VolumeKind kind;
        char *source;      /* host only: an absolute path on the host */
        bool read_only;
        uint64_t size;     /* tmpfs only: bytes, 0 = the kernel's default (half the RAM) */
        /* The id of the app whose own volume this is (AddApp's Volumes: made
         * with the app, removed with it); NULL: the pod's. */
        char *owner;
} Volume;

typedef struct AppMount {
        char *volume;
        char *target;      /* absolute inside the app, no "." or ".." */
} AppMount;

#define POD_VOLUMES_MAX 64
#define APP_MOUNTS_MAX 64

void volume_done(Volume *v);
void app_mount_done(AppMount *m);

/* Names of volumes: like app names, 1-63 of [a-z0-9-], not starting with '-'. */
bool volume_name_is_valid(const char *s);

/* Checks one volume as a client sent it: name, kind, an existing absolute
 * host source without ':' (stage1 splits at it), no source for the other
 * kinds, a size for tmpfs only. err says what is wrong. */
int volume_validate(const Volume *v, PeapodError *err);
int app_mount_validate(const AppMount *m, PeapodError *err);

/* The command line spellings above; -EINVAL with err set on bad input. */
int volume_from_string(const char *s, Volume *ret, PeapodError *err);
int app_mount_from_string(const char *s, AppMount *ret, PeapodError *err);
/* podman's and docker's "-v HOSTPATH:TARGET[:ro|rw]": a host volume called
 * name and its mount at TARGET; the same checks as the spellings above. */
int volume_bind_from_string(const char *s, const char *name, Volume *ret_volume, AppMount *ret_mount,
                            PeapodError *err);
