/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

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

/* An image by name (a stored reference), by "sha256:<id>" or by a unique id
 * prefix of at least 12 hex digits. -ENOENT if none, -ENOTUNIQ if the
 * prefix is ambiguous. */
int image_catalog_find(Store *s, const char *key, ImageInfo *ret, PeapodError *e);
void image_info_done(ImageInfo *i);
