/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "macro.h"

/* A pod's volumes and the apps' mounts of them, as rkt had them:
 *   --volume=NAME,kind=host,source=/path[,readOnly=true][,propagation=rslave]
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

/* How mounts below a host volume's source travel (mount_namespaces(7)):
 * private, the default, none either way; rslave (the CRI's
 * HOST_TO_CONTAINER) mounts the host makes below the source after the
 * pod started appear in the apps, nothing from an app reaches the host;
 * rshared (BIDIRECTIONAL) both ways, refused: it needs a privileged
 * container. */
typedef enum VolumePropagation {
        VOLUME_PROPAGATION_PRIVATE,
        VOLUME_PROPAGATION_RSLAVE,
        VOLUME_PROPAGATION_RSHARED,
        _VOLUME_PROPAGATION_MAX,
        _VOLUME_PROPAGATION_INVALID = -EINVAL,
} VolumePropagation;

const char *volume_propagation_to_string(VolumePropagation p);
VolumePropagation volume_propagation_from_string(const char *s);

typedef struct Volume {
        char *name;
        VolumeKind kind;
        char *source;      /* host only: an absolute path on the host */
        bool read_only;
        uint64_t size;     /* tmpfs only: bytes, 0 = the kernel's default (half the RAM) */
        VolumePropagation propagation;  /* host only; private unless asked */
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

/* Sets the propagation of the volumes named in pairs (name, propagation,
 * name, propagation, ..., NULL: the D-Bus property VolumePropagation);
 * a name that is not among volumes, or an unknown propagation, is -EINVAL
 * with err set. volume_validate() judges the result. */
int volumes_set_propagation(Volume *volumes, size_t n_volumes, char * const *pairs, PeapodError *err);

/* The command line spellings above; -EINVAL with err set on bad input. */
int volume_from_string(const char *s, Volume *ret, PeapodError *err);
int app_mount_from_string(const char *s, AppMount *ret, PeapodError *err);
/* podman's and docker's "-v HOSTPATH:TARGET[:ro|rw][:private|rslave]": a host volume called
 * name and its mount at TARGET; the same checks as the spellings above. */
int volume_bind_from_string(const char *s, const char *name, Volume *ret_volume, AppMount *ret_mount,
                            PeapodError *err);
