/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "macro.h"
#include "manifest.h"
#include "storage-conf.h"

/* The content-addressed image store, an OCI image layout:
 *
 *   <root>/oci-layout              {"imageLayoutVersion":"1.0.0"}
 *   <root>/index.json              the refs: an OCI index whose entries carry
 *                                  org.opencontainers.image.ref.name = full reference
 *   <root>/blobs/sha256/<hex>      manifests, configs, layers; read-only, verified
 *   <root>/layers/<chain-hex>/     unpacked layer trees (overlay lower dirs)
 *   <root>/locks/                  flock files: gc.lock, index.lock, sha256-<hex>.lock
 *
 * A blob appears under its name only after its size and digest were checked
 * and its data fsynced; index.json is replaced atomically. A crash at any
 * point leaves either the old state or the new one, plus temp files that
 * store_gc() removes. */

#define STORE_DEFAULT_ROOT PEAPOD_STATE_DIR "/images"
#define STORE_REF_NAME_ANNOTATION "org.opencontainers.image.ref.name"
#define STORE_REF_MAX 1024U       /* length of a reference */
#define STORE_REFS_MAX 65536U     /* entries in index.json */

typedef struct Store Store;

/* Open (and create, if missing) the store at root; NULL = the default. */
int store_open(const char *root, Store **ret);
Store *store_free(Store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Store *, store_free);
const char *store_root(const Store *s);
/* What an image may cost this store (storage.conf); store_open() starts
 * with STORAGE_LIMITS_DEFAULT. Blob writes keep the free space, unpacking
 * (image_unpack_layers) applies all of them. Not thread-safe: set it right
 * after store_open(), before the store is shared. */
void store_set_limits(Store *s, const StorageLimits *l);
const StorageLimits *store_limits(const Store *s);

/* --- blobs --- */

int store_blob_path(const Store *s, const Digest *d, char **ret);
/* 1 if present, 0 if not. */
int store_blob_exists(const Store *s, const Digest *d);
/* A read-only O_CLOEXEC fd; -ENOENT if absent. */
int store_blob_open(const Store *s, const Digest *d, int *ret_fd);
/* Read a small blob (a manifest or config), bounded by max_size (-EFBIG),
 * and check it against its digest again: it is about to be parsed. */
int store_blob_read(const Store *s, const Digest *d, size_t max_size, char **ret, size_t *ret_size, PeapodError *e);

/* Streaming blob writes: begin, write any number of times, then commit or
 * free. expected may be NULL (the digest is then whatever the data hashes to,
 * returned by commit); expected_size may be UINT64_MAX (unknown). Writing
 * more than expected_size fails at once with -EBADMSG. */
typedef struct BlobWriter BlobWriter;
int store_blob_begin(Store *s, const Digest *expected, uint64_t expected_size, BlobWriter **ret);
int blob_writer_write(BlobWriter *w, const void *data, size_t size, PeapodError *e);
/* Verify size and digest, fsync, and make the blob visible under its name
 * atomically. Returns 1 if this call added it, 0 if it was already there
 * (another writer won: fine, same content). On mismatch -EBADMSG and the
 * data is gone. The writer is consumed in every case. */
int store_blob_commit(BlobWriter *w, Digest *ret_digest, PeapodError *e);
/* Abandon a write (the temp data is removed); accepts NULL. */
BlobWriter *blob_writer_free(BlobWriter *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(BlobWriter *, blob_writer_free);

/* Everything readable from fd (a file, a pipe, a socket) as one blob. */
int store_blob_write_fd(Store *s, const Digest *expected, uint64_t expected_size, int fd, Digest *ret_digest,
                        PeapodError *e);
int store_blob_write_buffer(Store *s, const Digest *expected, const void *data, size_t size, Digest *ret_digest,
                            PeapodError *e);

/* Serialise work on one blob between processes (two pulls of the same
 * image): blocks until no one else holds the digest's lock, returns the fd
 * holding it; closing it releases the lock. Then check store_blob_exists():
 * the other puller may have done the work. Unpacking locks a layer tree by
 * its chain id the same way. flock() locks belong to the open file, so one
 * process taking the same digest's lock twice deadlocks: release blob locks
 * before taking chain-id locks (an uncompressed layer's digest is its
 * diff_id, which is the chain id of a bottom layer). */
int store_blob_lock(Store *s, const Digest *d, int *ret_fd);

/* Hold while adding blobs or layer trees that no ref reaches yet (a pull in
 * progress): store_gc() waits for all pins. Closing the fd releases it. */
int store_pin(Store *s, int *ret_fd);

/* --- refs (index.json) --- */

typedef struct StoreRef {
        char *name;             /* the annotation; NULL for entries other tools added without one */
        Descriptor descriptor;  /* a manifest or an index */
} StoreRef;

void store_ref_list_free(StoreRef *l, size_t n);

/* Point ref at a manifest or index blob, which must be in the store
 * (-ENOENT otherwise); its media type and size come from the blob. */
int store_ref_set(Store *s, const char *ref, const Digest *manifest, PeapodError *e);
/* -ENOENT if no such ref. */
int store_ref_get(Store *s, const char *ref, Digest *ret);
int store_ref_remove(Store *s, const char *ref);
int store_ref_list(Store *s, StoreRef **ret, size_t *ret_n);
/* The refs of an index.json's text, as store_ref_list() reads them:
 * -EBADMSG on a malformed index or entry, -E2BIG past STORE_REFS_MAX. */
int store_index_parse(const char *text, size_t size, StoreRef **ret, size_t *ret_n);

/* --- gc --- */

typedef struct StoreGcStats {
        uint64_t blobs_removed;
        uint64_t layers_removed;
        uint64_t temp_removed;
        uint64_t bytes_freed;
} StoreGcStats;

/* Remove blobs no ref reaches (ref -> index -> manifest -> config +
 * layers), layer trees no reachable config names, and leftovers of crashed
 * writers. keep lists extra manifests, indexes or configs to treat as
 * reachable (the images of existing pods, whose refs may have been removed;
 * pods know their image by its config, and a kept config keeps the config
 * blob and its layer trees, which is all a pod uses). Waits for
 * pins (store_pin, open BlobWriters) to be released first, so the caller must
 * hold none itself. */
int store_gc(Store *s, const Digest *keep, size_t n_keep, StoreGcStats *ret_stats);

/* Remove only the leftovers of crashed writers: blobs/sha256/.tmp-*,
 * layers/.tmp-* trees and index.json temp files (what a SIGKILL during a
 * pull or import leaves, possibly gigabytes). Cheap: no ref is read. Takes
 * gc.lock exclusively without waiting: -EBUSY while any writer is alive
 * (in this or another process), since its temp files may be in use. */
int store_remove_temp(Store *s, StoreGcStats *ret_stats);

/* Undoing a failed pull or import: after store_track_added(), this object
 * records the blobs it added (not those it found) and the layer trees that
 * store_note_added_tree() names; store_remove_added() then removes those of
 * them that no ref reaches, so that a refused image leaves the store as it
 * was. Like store_remove_temp() it takes gc.lock exclusively without
 * waiting: -EBUSY while any writer is alive (gc removes them later then);
 * the caller must hold no pin itself. */
void store_track_added(Store *s);
void store_note_added_tree(Store *s, const Digest *chain);
int store_remove_added(Store *s, StoreGcStats *ret_stats);
