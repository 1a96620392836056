/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "manifest.h"
#include "store.h"

/* The store's images as users see them: one entry per image (config
 * digest, like docker's image id) with every name that points at it. */
typedef struct ImageInfo {
        Digest id;              /* the config's digest */
        Digest manifest;        /* the manifest the names point at */
        char **names;           /* references, sorted */
        uint64_t size;          /* config + compressed layers, as stored */
        ImageConfig *config;
} ImageInfo;

void image_info_free_many(ImageInfo *l, size_t n);

int image_catalog_list(Store *s, ImageInfo **ret, size_t *ret_n, PeapodError *e);

/* An image by name (whatever image_store_lookup() takes: a stored
 * reference, a short name, "sha256:<id>" or a unique id prefix of at least
 * 12 hex digits), found as pods find it. -ENOENT if none, -ENOTUNIQ if the
 * prefix is ambiguous, -EINVAL if key is no reference at all. */
int image_catalog_find(Store *s, const char *key, ImageInfo *ret, PeapodError *e);
void image_info_done(ImageInfo *i);

/* Who uses an image: one entry per app of a pod that is not removed. Pods
 * know their images by id, so what they use survives the loss of every
 * name. */
typedef struct ImageUser {
        const char *image_id;   /* "sha256:<config hex>" */
        const char *pod;        /* the pod's name, for messages */
} ImageUser;

/* A name to give an image (tag, import): a short name becomes
 * "localhost/NAME[:TAG]" (local names are never pulled); a digest reference
 * is refused (-EINVAL): a digest is what the content is, not a name. */
int image_name_normalize(const char *reference, char **ret, PeapodError *e);

/* Add reference, normalised as above, as a name of the image key finds.
 * ret_name (may be NULL) is the name as stored. */
int image_catalog_tag(Store *s, const char *key, const char *reference, char **ret_name, PeapodError *e);

/* Remove names: key naming the image by one of its names removes that
 * name; by id (or id prefix) removes all of them. Taking the last name of an
 * image that users use is refused (-EBUSY, the message names the pods)
 * unless force is set. When the image has no name left, its blobs and layer
 * trees are collected (keeping what users use). ret_removed (may be NULL)
 * lists the names removed (also when that gc then fails), ret_stats (may
 * be NULL) what the gc freed. */
int image_catalog_remove(Store *s, const char *key, const ImageUser *users, size_t n_users, bool force,
                         char ***ret_removed, StoreGcStats *ret_stats, PeapodError *e);
/* image_catalog_remove() without the gc, for a caller that runs it
 * elsewhere (off its loop): ret_collect says whether the image has no name
 * left, so that image_catalog_gc() is due. */
int image_catalog_untag(Store *s, const char *key, const ImageUser *users, size_t n_users, bool force,
                        char ***ret_removed, bool *ret_collect, PeapodError *e);

/* store_gc() keeping every image in users. */
int image_catalog_gc(Store *s, const ImageUser *users, size_t n_users, StoreGcStats *ret_stats, PeapodError *e);
