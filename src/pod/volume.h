/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "app-spec.h"
#include "error.h"
#include "macro.h"

/* The checks and spellings of a pod's volumes and the apps' mounts of
 * them (the types are in app-spec.h), as rkt had them:
 *   --volume=NAME,kind=host,source=/path[,readOnly=true][,propagation=rslave|rshared]
 *   --volume=NAME,kind=empty[,readOnly=true]     a directory of the pod, shared by its apps
 *   --volume=NAME,kind=tmpfs[,size=64M][,readOnly=true]
 *   --mount=volume=NAME,target=/path              per app */

const char *volume_kind_to_string(VolumeKind k);
VolumeKind volume_kind_from_string(const char *s);

const char *volume_propagation_to_string(VolumePropagation p);
VolumePropagation volume_propagation_from_string(const char *s);

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

/* The command line spellings (app-spec.h); -EINVAL with err set on bad input. */
int volume_from_string(const char *s, Volume *ret, PeapodError *err);
int app_mount_from_string(const char *s, AppMount *ret, PeapodError *err);
/* podman's and docker's "-v HOSTPATH:TARGET[:ro|rw][:private|rslave|rshared]": a host volume called
 * name and its mount at TARGET; the same checks as the spellings above. */
int volume_bind_from_string(const char *s, const char *name, Volume *ret_volume, AppMount *ret_mount,
                            PeapodError *err);
