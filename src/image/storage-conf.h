/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

#include "error.h"

/* What one image may cost the store, from /etc/peapod/storage.conf
 * (peapod-storage.conf(5)): a JSON object, every key optional,
 *
 *   {"max-layer-size": "16G", "max-layer-inodes": 1000000,
 *    "max-image-size": "32G", "min-free-space": "5%"}
 *
 * Sizes are a number of bytes or a string with a K, M, G or T suffix
 * (powers of 1024); min-free-space may also be a percentage of the store's
 * file system ("5%"). Unknown keys refuse the whole file. There is no
 * "unlimited": an image's author controls every one of these numbers. */

#define STORAGE_CONF_MAX (64U * 1024U)

#define STORAGE_KEY_MAX_LAYER_SIZE "max-layer-size"
#define STORAGE_KEY_MAX_LAYER_INODES "max-layer-inodes"
#define STORAGE_KEY_MAX_IMAGE_SIZE "max-image-size"
#define STORAGE_KEY_MIN_FREE_SPACE "min-free-space"

typedef struct StorageLimits {
        uint64_t max_layer_size;   /* bytes one layer unpacks to: declared sizes, sparse holes included */
        uint64_t max_layer_inodes; /* inodes one layer creates (hard links make none) */
        uint64_t max_image_size;   /* bytes the layers one pull or import unpacks add up to */
        uint64_t min_free_bytes;   /* free space kept on the store's file system... */
        unsigned min_free_percent; /* ...or this share of it, whichever is more */
} StorageLimits;

/* No real image comes near these: the largest common images (CUDA, ML
 * frameworks) have layers of a few GiB and a few hundred thousand files. */
#define STORAGE_MAX_LAYER_SIZE_DEFAULT (UINT64_C(16) << 30)
#define STORAGE_MAX_LAYER_INODES_DEFAULT UINT64_C(1000000)
#define STORAGE_MAX_IMAGE_SIZE_DEFAULT (UINT64_C(32) << 30)
#define STORAGE_MIN_FREE_PERCENT_DEFAULT 5U

#define STORAGE_LIMITS_DEFAULT                                          \
        ((StorageLimits) {                                              \
                .max_layer_size = STORAGE_MAX_LAYER_SIZE_DEFAULT,       \
                .max_layer_inodes = STORAGE_MAX_LAYER_INODES_DEFAULT,   \
                .max_image_size = STORAGE_MAX_IMAGE_SIZE_DEFAULT,       \
                .min_free_percent = STORAGE_MIN_FREE_PERCENT_DEFAULT,   \
        })

/* Parse storage.conf text (NUL-terminated); keys not given keep their
 * defaults. -EBADMSG with e set on anything malformed. */
int storage_conf_parse(const char *text, StorageLimits *ret, PeapodError *e);
/* NULL path = PEAPOD_CONF_DIR "/storage.conf"; a missing file means the
 * defaults. */
int storage_conf_load(const char *path, StorageLimits *ret, PeapodError *e);

/* Whether writing need more bytes on the file system of fd leaves at least
 * min_bytes and min_percent of it free: 0, or -ENOSPC with *ret_reserve
 * (may be NULL) the space that must stay free. Both 0: no check. */
int storage_check_free_space(int fd, uint64_t min_bytes, unsigned min_percent, uint64_t need, uint64_t *ret_reserve);

/* "16 GiB", "1.5 MiB", "512 B": for messages. */
const char *storage_format_size(uint64_t n, char buf[static 32]);
