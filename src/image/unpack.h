/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "digest.h"
#include "error.h"
#include "macro.h"

/* What the layers of one image may add up to, shared by the layers of a
 * pull or import while they unpack (in parallel: hence atomic). */
typedef struct UnpackBudget {
        uint64_t max_size;       /* the sum of the declared sizes of all their entries */
        _Atomic uint64_t used;
} UnpackBudget;

/* Limits for one layer. A size or count left 0 takes the default below:
 * there is no "unlimited", every size an image controls is bounded. The
 * messages of refusals name the storage.conf keys that set them. */
typedef struct UnpackOptions {
        bool allow_devices;      /* create block and char device nodes (fifos are always allowed) */
        uint64_t max_entry_size; /* declared size of one entry */
        uint64_t max_total_size; /* sum of the declared sizes of all entries (max-layer-size): a sparse
                                  * file counts with its holes, a hard link's data counts once more */
        uint64_t max_entries;    /* number of entries, directories, hard links and whiteouts included */
        uint64_t max_inodes;     /* inodes created (max-layer-inodes): entries and the directories their
                                  * paths imply; a hard link creates none */
        UnpackBudget *budget;    /* NULL, or the image's (max-image-size) */
        /* Free space to keep on dest's file system (min-free-space), checked
         * before each file and as its data is written; both 0: no check. */
        uint64_t min_free_bytes;
        unsigned min_free_percent;
        /* If set, the sha256 of the whole uncompressed stream must be this
         * (the layer's diff_id), or the layer is refused (-EBADMSG) and
         * dest removed. Computed while unpacking: one decompression pass. */
        const Digest *expected_diff_id;
} UnpackOptions;

#define UNPACK_MAX_ENTRY_SIZE_DEFAULT (UINT64_C(16) << 30)
#define UNPACK_MAX_TOTAL_SIZE_DEFAULT (UINT64_C(16) << 30)
#define UNPACK_MAX_ENTRIES_DEFAULT UINT64_C(1000000)
#define UNPACK_MAX_INODES_DEFAULT UINT64_C(1000000)

typedef struct UnpackStats {
        uint64_t entries; /* archive entries applied */
        uint64_t bytes;   /* file content bytes written */
        uint64_t inodes;  /* inodes created */
} UnpackStats;

/* Unpack one OCI/Docker layer read from fd (from its current offset; gzip,
 * zstd or uncompressed tar, detected from the data) into the directory dest,
 * which must not exist and is created. The result is meant to be an overlayfs
 * lowerdir: ".wh.NAME" entries become whiteouts (char device 0/0 NAME) and
 * ".wh..wh..opq" makes its directory opaque (trusted.overlay.opaque=y).
 *
 * Nothing is ever created, changed or followed outside dest: entries with
 * absolute names or ".." components, entries reaching through a symlink or a
 * non-directory, hard links leaving the layer, device nodes (unless allowed)
 * and anything over the limits refuse the whole layer. On failure dest is
 * removed entirely, so a refused layer leaves nothing behind; ret_stats is
 * untouched and err (if not NULL) says why, in one line naming the entry
 * (names from the archive escaped as \xNN, so the line is safe to log). Nothing is synced: the caller
 * calls syncfs() once when it wants the layer durable. Needs root (ownership,
 * whiteouts, trusted.* xattrs). Logs nothing. */
int layer_unpack(int fd, const char *dest, const UnpackOptions *opts, UnpackStats *ret_stats, PeapodError *err);

/* Feed the uncompressed stream of a layer read from fd (from its current
 * offset) to write(), in order; a negative return of write() stops and is
 * returned. */
int layer_decompress(int fd, int (*write)(const void *data, size_t size, void *userdata), void *userdata,
                     PeapodError *err);
