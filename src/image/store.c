/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "io-util.h"
#include "json-util.h"
#include "store.h"
#include "string-util.h"

#define new0(t, n) ((t *) calloc((n), sizeof(t)))

/* index.json is ours, but other tools (skopeo, umoci) write OCI layouts too
 * and a corrupt file must not take the process down: bounded like any input. */
#define STORE_INDEX_SIZE_MAX (32U * 1024U * 1024U)
#define STORE_INDEX_DEPTH_MAX 16
/* An index names manifests, which may again be indexes; the spec sets no
 * limit, we do. Content addressing already rules out cycles. */
#define STORE_NESTING_MAX 4
#define TMP_PREFIX ".tmp-"

struct Store {
        char *root;
        int root_fd;
        int blobs_fd;   /* blobs/sha256 */
        int layers_fd;
        int locks_fd;
        StorageLimits limits;
        /* With tracking on: what this object added, for store_remove_added().
         * Blobs and trees are added from several threads (layer unpackers). */
        pthread_mutex_t added_lock;
        bool track_added;
        Digest *added_blobs, *added_trees;
        size_t n_added_blobs, n_added_trees;
};

struct BlobWriter {
        Store *store;
        int fd;
        int pin_fd;     /* shared gc lock: gc never sees our temp file as garbage */
        char *tmp_name;
        DigestContext ctx;
        Digest expected;
        bool has_expected;
        uint64_t expected_size;
        bool broken;    /* a write failed half-way: commit must refuse */
        uint64_t unchecked; /* bytes written since the free space was last checked */
};

/* How often a blob writer looks at the free space: often enough that a
 * write cannot eat much of the reserve, rarely enough to cost nothing. */
#define BLOB_FREE_CHECK_BYTES (UINT64_C(16) << 20)

Store *store_free(Store *s) {
        if (!s)
                return NULL;
        safe_close(s->root_fd);
        safe_close(s->blobs_fd);
        safe_close(s->layers_fd);
        safe_close(s->locks_fd);
        free(s->added_blobs);
        free(s->added_trees);
        pthread_mutex_destroy(&s->added_lock);
        free(s->root);
        free(s);
        return NULL;
}

const char *store_root(const Store *s) {
        return s->root;
}

void store_set_limits(Store *s, const StorageLimits *l) {
        s->limits = *l;
}

const StorageLimits *store_limits(const Store *s) {
        return &s->limits;
}

void store_track_added(Store *s) {
        s->track_added = true;
}

static void note_added(Store *s, Digest **list, size_t *n, const Digest *d) {
        Digest *l;

        if (!s->track_added)
                return;
        pthread_mutex_lock(&s->added_lock);
        /* Without memory the entry is lost: gc still gets it, later. */
        l = reallocarray(*list, *n + 1, sizeof(Digest));
        if (l) {
                l[(*n)++] = *d;
                *list = l;
        }
        pthread_mutex_unlock(&s->added_lock);
}

void store_note_added_tree(Store *s, const Digest *chain) {
        note_added(s, &s->added_trees, &s->n_added_trees, chain);
}

static int open_subdir(int dir_fd, const char *name, mode_t mode, int *ret_fd) {
        int fd;

        if (mkdirat(dir_fd, name, mode) < 0 && errno != EEXIST)
                return -errno;
        /* O_NOFOLLOW: a symlink planted in the store must not redirect
         * where verified blobs or lock files go. */
        fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

/* Take an flock on locks/<name>. Lock files may be deleted by gc (which does
 * so only while holding them); a waiter that then wins a lock on the deleted
 * inode notices that the name points elsewhere and tries again, so no two
 * holders ever hold "the same" lock. */
static int lock_file(const Store *s, const char *name, int op, int *ret_fd) {
        for (unsigned attempt = 0; attempt < 1000; attempt++) {
                _cleanup_close_ int fd = -EBADF;
                struct stat a, b;

                fd = openat(s->locks_fd, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return -errno;
                while (flock(fd, op) < 0) {
                        if (errno != EINTR)
                                return -errno;
                }
                if (fstat(fd, &a) < 0)
                        return -errno;
                if (fstatat(s->locks_fd, name, &b, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
                        continue;
                *ret_fd = TAKE_FD(fd);
                return 0;
        }
        return -EDEADLK;
}

int store_pin(Store *s, int *ret_fd) {
        return lock_file(s, "gc.lock", LOCK_SH, ret_fd);
}

static int index_json_new(json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();

        if (!o ||
            json_object_object_add(o, "schemaVersion", json_object_new_int(2)) < 0 ||
            json_object_object_add(o, "mediaType", json_object_new_string(media_type_to_string(MEDIA_TYPE_OCI_INDEX))) < 0 ||
            json_object_object_add(o, "manifests", json_object_new_array()) < 0)
                return -ENOMEM;
        *ret = TAKE_PTR(o);
        return 0;
}

static int store_write_at_root(const Store *s, const char *name, const char *text) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", s->root, name) < 0)
                return -ENOMEM;
        return write_file_atomic(p, text, strlen(text), 0644);
}

static int index_save(const Store *s, json_object *o) {
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

        if (!text)
                return -ENOMEM;
        return store_write_at_root(s, "index.json", text);
}

int store_open(const char *root, Store **ret) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_close_ int blobs_fd = -EBADF;
        int r;

        s = new0(Store, 1);
        if (!s)
                return -ENOMEM;
        s->root_fd = s->blobs_fd = s->layers_fd = s->locks_fd = -EBADF;
        s->limits = STORAGE_LIMITS_DEFAULT;
        pthread_mutex_init(&s->added_lock, NULL);
        s->root = strdup(root ?: STORE_DEFAULT_ROOT);
        if (!s->root)
                return -ENOMEM;
        /* 0700: image contents (and whatever secrets images carry) are for
         * root and the pods that use them. */
        r = mkdir_p(s->root, 0700);
        if (r < 0)
                return r;
        s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
                return -errno;
        r = open_subdir(s->root_fd, "blobs", 0755, &blobs_fd);
        if (r < 0)
                return r;
        r = open_subdir(blobs_fd, "sha256", 0755, &s->blobs_fd);
        if (r < 0)
                return r;
        r = open_subdir(s->root_fd, "layers", 0755, &s->layers_fd);
        if (r < 0)
                return r;
        r = open_subdir(s->root_fd, "locks", 0700, &s->locks_fd);
        if (r < 0)
                return r;

        if (faccessat(s->root_fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0 ||
            faccessat(s->root_fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                _cleanup_close_ int lock_fd = -EBADF;

                /* Under the index lock, and checked again: a second opener
                 * must not replace an index.json someone just wrote refs to. */
                r = lock_file(s, "index.lock", LOCK_EX, &lock_fd);
                if (r < 0)
                        return r;
                if (faccessat(s->root_fd, "oci-layout", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = store_write_at_root(s, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
                        if (r < 0)
                                return r;
                }
                if (faccessat(s->root_fd, "index.json", F_OK, AT_SYMLINK_NOFOLLOW) < 0) {
                        _cleanup_json_ json_object *o = NULL;

                        r = index_json_new(&o);
                        if (r < 0)
                                return r;
                        r = index_save(s, o);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int blob_name(const Digest *d, const char **ret) {
        if (!d || d->algorithm != DIGEST_SHA256)
                return -EOPNOTSUPP;
        /* The hex was validated by digest_parse(): no '/', no "..". */
        if (digest_from_hex(d->algorithm, d->hex, NULL) < 0)
                return -EINVAL;
        *ret = d->hex;
        return 0;
}

int store_blob_path(const Store *s, const Digest *d, char **ret) {
        const char *name;
        char *p;
        int r;

        r = blob_name(d, &name);
        if (r < 0)
                return r;
        if (asprintf(&p, "%s/blobs/sha256/%s", s->root, name) < 0)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int store_blob_exists(const Store *s, const Digest *d) {
        const char *name;
        struct stat st;
        int r;

        r = blob_name(d, &name);
        if (r < 0)
                return r;
        if (fstatat(s->blobs_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return S_ISREG(st.st_mode);
}

int store_blob_open(const Store *s, const Digest *d, int *ret_fd) {
        const char *name;
        int fd, r;

        r = blob_name(d, &name);
        if (r < 0)
                return r;
        fd = openat(s->blobs_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        *ret_fd = fd;
        return 0;
}

int store_blob_read(const Store *s, const Digest *d, size_t max_size, char **ret, size_t *ret_size, PeapodError *e) {
        _cleanup_free_ char *buf = NULL, *path = NULL;
        char a[DIGEST_STRING_MAX];
        size_t n;
        Digest got;
        int r;

        r = store_blob_path(s, d, &path);
        if (r < 0)
                return r;
        r = read_file(path, max_size, &buf, &n);
        if (r == -EFBIG)
                return peapod_error_set(e, r, "Blob %s is larger than %zu bytes", digest_to_string(d, a), max_size);
        if (r < 0)
                return r;
        r = digest_buffer(d->algorithm, buf, n, &got);
        if (r < 0)
                return r;
        if (!digest_equal(&got, d))
                return peapod_error_set(e, -EBADMSG, "Blob %s in the store is corrupt", digest_to_string(d, a));
        *ret = TAKE_PTR(buf);
        if (ret_size)
                *ret_size = n;
        return 0;
}

BlobWriter *blob_writer_free(BlobWriter *w) {
        if (!w)
                return NULL;
        if (w->tmp_name)
                (void) unlinkat(w->store->blobs_fd, w->tmp_name, 0);
        safe_close(w->fd);
        safe_close(w->pin_fd);
        free(w->tmp_name);
        digest_context_done(&w->ctx);
        free(w);
        return NULL;
}

int store_blob_begin(Store *s, const Digest *expected, uint64_t expected_size, BlobWriter **ret) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        const char *name;
        int r;

        if (expected) {
                r = blob_name(expected, &name);
                if (r < 0)
                        return r;
        }
        w = new0(BlobWriter, 1);
        if (!w)
                return -ENOMEM;
        *w = (BlobWriter) {
                .store = s,
                .fd = -EBADF,
                .pin_fd = -EBADF,
                .ctx = DIGEST_CONTEXT_NULL,
                .expected_size = expected_size,
                .has_expected = !!expected,
        };
        if (expected)
                w->expected = *expected;
        r = store_pin(s, &w->pin_fd);
        if (r < 0)
                return r;
        r = digest_context_init(&w->ctx, DIGEST_SHA256);
        if (r < 0)
                return r;
        /* A named temp file in the blob directory itself, so the final step
         * is a link within one directory (atomic, no copy). Its name starts
         * with a dot and never parses as a digest, so no reader mistakes it
         * for a blob; gc removes leftovers of crashed writers. */
        for (unsigned attempt = 0; w->fd < 0; attempt++) {
                uint64_t rnd;

                if (attempt >= 16)
                        return -EEXIST;
                if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                        return -errno;
                w->tmp_name = mfree(w->tmp_name);
                if (asprintf(&w->tmp_name, TMP_PREFIX "%016" PRIx64, rnd) < 0) {
                        w->tmp_name = NULL;
                        return -ENOMEM;
                }
                /* 0444: a blob never changes after it is verified. */
                w->fd = openat(s->blobs_fd, w->tmp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
                if (w->fd < 0 && errno != EEXIST) {
                        w->tmp_name = mfree(w->tmp_name);
                        return -errno;
                }
        }
        *ret = TAKE_PTR(w);
        return 0;
}

int blob_writer_write(BlobWriter *w, const void *data, size_t size, PeapodError *e) {
        int r;

        if (w->fd < 0 || w->broken)
                return -EBADF;
        if (w->expected_size != UINT64_MAX && size > w->expected_size - w->ctx.size) {
                char a[DIGEST_STRING_MAX];

                w->broken = true;
                return peapod_error_set(e, -EBADMSG, "Blob %s is larger than the expected %" PRIu64 " bytes",
                                       w->has_expected ? digest_to_string(&w->expected, a) : "(new)", w->expected_size);
        }
        /* Checked as the bytes come, not once up front: the size of a
         * blob being downloaded or imported is known only at its end, and
         * other writers share the file system. */
        if (w->ctx.size == 0 || w->unchecked >= BLOB_FREE_CHECK_BYTES) {
                const StorageLimits *l = &w->store->limits;
                uint64_t reserve = 0;

                r = storage_check_free_space(w->fd, l->min_free_bytes, l->min_free_percent, size, &reserve);
                if (r < 0) {
                        char a[DIGEST_STRING_MAX], b[32];

                        w->broken = true;
                        if (r != -ENOSPC)
                                return r;
                        return peapod_error_set(e, r, "Blob %s would leave less than %s free in the image store "
                                                "(limit storage.conf " STORAGE_KEY_MIN_FREE_SPACE ")",
                                                w->has_expected ? digest_to_string(&w->expected, a) : "(new)",
                                                storage_format_size(reserve, b));
                }
                w->unchecked = 0;
        }
        w->unchecked += size;
        r = loop_write(w->fd, data, size);
        if (r < 0) {
                /* Part of the data may be in the file now: the hash and the
                 * file disagree, so this writer can never commit. */
                w->broken = true;
                return r;
        }
        r = digest_context_update(&w->ctx, data, size);
        if (r < 0)
                w->broken = true;
        return r;
}

int store_blob_commit(BlobWriter *writer, Digest *ret_digest, PeapodError *e) {
        _cleanup_(blob_writer_freep) BlobWriter *w = writer;
        char a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX];
        uint64_t size;
        Digest got;
        int r, added = 1;

        if (w->fd < 0 || w->broken)
                return -EBADF;
        size = w->ctx.size;
        r = digest_context_final(&w->ctx, &got);
        if (r < 0)
                return r;
        /* Both checks before the blob gets its name: a name in blobs/ is a
         * promise that the content hashes to it. */
        if (w->expected_size != UINT64_MAX && size != w->expected_size)
                return peapod_error_set(e, -EBADMSG, "Blob %s has %" PRIu64 " bytes, expected %" PRIu64,
                                       digest_to_string(&got, a), size, w->expected_size);
        if (w->has_expected && !digest_equal(&got, &w->expected))
                return peapod_error_set(e, -EBADMSG, "Digest mismatch: expected %s, got %s",
                                       digest_to_string(&w->expected, a), digest_to_string(&got, b));
        if (fsync(w->fd) < 0)
                return -errno;
        /* link, not rename: when two writers race, the second gets EEXIST
         * and leaves the first one's (equally verified) blob alone. */
        if (linkat(w->store->blobs_fd, w->tmp_name, w->store->blobs_fd, got.hex, 0) < 0) {
                if (errno != EEXIST)
                        return -errno;
                added = 0;
        }
        (void) fsync(w->store->blobs_fd);
        if (added)
                note_added(w->store, &w->store->added_blobs, &w->store->n_added_blobs, &got);
        if (ret_digest)
                *ret_digest = got;
        return added; /* the cleanup unlinks the temp name */
}

int store_blob_write_fd(Store *s, const Digest *expected, uint64_t expected_size, int fd, Digest *ret_digest,
                        PeapodError *e) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        _cleanup_free_ char *buf = NULL;
        int r;

        r = store_blob_begin(s, expected, expected_size, &w);
        if (r < 0)
                return r;
        buf = malloc(128 * 1024);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf, 128 * 1024);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                r = blob_writer_write(w, buf, (size_t) n, e);
                if (r < 0)
                        return r;
        }
        return store_blob_commit(TAKE_PTR(w), ret_digest, e);
}

int store_blob_write_buffer(Store *s, const Digest *expected, const void *data, size_t size, Digest *ret_digest,
                            PeapodError *e) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        int r;

        r = store_blob_begin(s, expected, size, &w);
        if (r < 0)
                return r;
        r = blob_writer_write(w, data, size, e);
        if (r < 0)
                return r;
        return store_blob_commit(TAKE_PTR(w), ret_digest, e);
}

int store_blob_lock(Store *s, const Digest *d, int *ret_fd) {
        char name[sizeof("sha256-.lock") + DIGEST_HEX_MAX];
        const char *hex;
        int r;

        r = blob_name(d, &hex);
        if (r < 0)
                return r;
        (void) snprintf(name, sizeof(name), "sha256-%s.lock", hex);
        return lock_file(s, name, LOCK_EX, ret_fd);
}

/* --- refs --- */

static bool ref_name_is_valid(const char *ref) {
        size_t n;

        if (!ref)
                return false;
        n = strnlen(ref, STORE_REF_MAX + 1);
        if (n == 0 || n > STORE_REF_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (ref[i] <= ' ' || ref[i] >= 127)
                        return false;
        return true;
}

static int index_parse(const char *text, size_t n, json_object **ret, json_object **ret_manifests) {
        _cleanup_json_ json_object *o = NULL;
        json_object *m;
        int r;

        r = json_parse_untrusted(text, n, STORE_INDEX_SIZE_MAX, STORE_INDEX_DEPTH_MAX, &o, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !json_object_is_type(o, json_type_object))
                return -EBADMSG;
        if (!json_object_object_get_ex(o, "manifests", &m) || !json_object_is_type(m, json_type_array))
                return -EBADMSG;
        if (json_object_array_length(m) > STORE_REFS_MAX)
                return -E2BIG;
        *ret_manifests = m;
        *ret = TAKE_PTR(o);
        return 0;
}

static int index_load(const Store *s, json_object **ret, json_object **ret_manifests) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t n;
        int r;

        if (asprintf(&path, "%s/index.json", s->root) < 0)
                return -ENOMEM;
        r = read_file(path, STORE_INDEX_SIZE_MAX, &text, &n);
        if (r < 0)
                return r;
        return index_parse(text, n, ret, ret_manifests);
}

/* The ref name of an index.json entry, or NULL. */
static const char *entry_ref_name(json_object *entry) {
        json_object *ann, *v;

        if (!json_object_object_get_ex(entry, "annotations", &ann) || !json_object_is_type(ann, json_type_object))
                return NULL;
        if (!json_object_object_get_ex(ann, STORE_REF_NAME_ANNOTATION, &v) || !json_object_is_type(v, json_type_string))
                return NULL;
        return json_object_get_string(v);
}

static int entry_descriptor(json_object *entry, Descriptor *ret) {
        const char *mt, *dg;
        uint64_t size;
        Digest d;

        if (!json_object_is_type(entry, json_type_object))
                return -EBADMSG;
        if (json_get_string(entry, "digest", &dg) < 0 || digest_parse(dg, &d) < 0)
                return -EBADMSG;
        if (json_get_string_opt(entry, "mediaType", &mt) < 0)
                return -EBADMSG;
        if (json_get_uint64(entry, "size", &size) < 0)
                return -EBADMSG;
        *ret = (Descriptor) { .media_type = media_type_from_string(mt), .digest = d, .size = size };
        return 0;
}

int store_ref_set(Store *s, const char *ref, const Digest *manifest, PeapodError *e) {
        _cleanup_close_ int pin_fd = -EBADF, lock_fd = -EBADF;
        _cleanup_json_ json_object *o = NULL, *entry = NULL, *ann = NULL;
        _cleanup_free_ char *text = NULL, *dstr = NULL;
        json_object *manifests, *kept;
        char a[DIGEST_STRING_MAX];
        MediaType t;
        size_t n;
        int r;

        if (!ref_name_is_valid(ref))
                return peapod_error_set(e, -EINVAL, "Invalid reference");
        /* Pinned from before we look at the blob until the ref is written,
         * so gc cannot take the blob from under a ref being set. */
        r = store_pin(s, &pin_fd);
        if (r < 0)
                return r;
        r = store_blob_read(s, manifest, MANIFEST_SIZE_MAX, &text, &n, e);
        if (r == -ENOENT)
                return peapod_error_set(e, r, "Manifest %s is not in the store", digest_to_string(manifest, a));
        if (r < 0)
                return r;
        r = manifest_detect(text, n, NULL, &t, e);
        if (r < 0)
                return r;
        if (!media_type_is_manifest(t) && !media_type_is_index(t))
                return peapod_error_set(e, -EMEDIUMTYPE, "Blob %s is not a manifest or index", digest_to_string(manifest, a));

        dstr = digest_to_string_alloc(manifest);
        entry = json_object_new_object();
        ann = json_object_new_object();
        if (!dstr || !entry || !ann ||
            json_object_object_add(entry, "mediaType", json_object_new_string(media_type_to_string(t))) < 0 ||
            json_object_object_add(entry, "digest", json_object_new_string(dstr)) < 0 ||
            json_object_object_add(entry, "size", json_object_new_int64((int64_t) n)) < 0 ||
            json_object_object_add(ann, STORE_REF_NAME_ANNOTATION, json_object_new_string(ref)) < 0 ||
            json_object_object_add(entry, "annotations", TAKE_PTR(ann)) < 0)
                return -ENOMEM;

        r = lock_file(s, "index.lock", LOCK_EX, &lock_fd);
        if (r < 0)
                return r;
        r = index_load(s, &o, &manifests);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to read %s/index.json: %s", s->root, strerror(-r));
        kept = json_object_new_array();
        if (!kept)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(manifests); i++) {
                json_object *x = json_object_array_get_idx(manifests, i);

                if (streq_ptr(entry_ref_name(x), ref))
                        continue;
                json_object_array_add(kept, json_object_get(x));
        }
        if (json_object_array_length(kept) >= STORE_REFS_MAX) {
                json_object_put(kept);
                return peapod_error_set(e, -E2BIG, "Too many refs in the store");
        }
        json_object_array_add(kept, TAKE_PTR(entry));
        json_object_object_add(o, "manifests", kept);
        return index_save(s, o);
}

int store_ref_get(Store *s, const char *ref, Digest *ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *manifests;
        int r;

        if (!ref_name_is_valid(ref))
                return -EINVAL;
        /* No lock: index.json is only ever replaced by rename. */
        r = index_load(s, &o, &manifests);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(manifests); i++) {
                json_object *x = json_object_array_get_idx(manifests, i);
                Descriptor d;

                if (!streq_ptr(entry_ref_name(x), ref))
                        continue;
                r = entry_descriptor(x, &d);
                if (r < 0)
                        return r;
                *ret = d.digest;
                return 0;
        }
        return -ENOENT;
}

int store_ref_remove(Store *s, const char *ref) {
        _cleanup_close_ int lock_fd = -EBADF;
        _cleanup_json_ json_object *o = NULL;
        json_object *manifests, *kept;
        bool found = false;
        int r;

        if (!ref_name_is_valid(ref))
                return -EINVAL;
        r = lock_file(s, "index.lock", LOCK_EX, &lock_fd);
        if (r < 0)
                return r;
        r = index_load(s, &o, &manifests);
        if (r < 0)
                return r;
        kept = json_object_new_array();
        if (!kept)
                return -ENOMEM;
        for (size_t i = 0; i < json_object_array_length(manifests); i++) {
                json_object *x = json_object_array_get_idx(manifests, i);

                if (streq_ptr(entry_ref_name(x), ref)) {
                        found = true;
                        continue;
                }
                json_object_array_add(kept, json_object_get(x));
        }
        json_object_object_add(o, "manifests", kept);
        if (!found)
                return -ENOENT;
        return index_save(s, o);
}

void store_ref_list_free(StoreRef *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].name);
                descriptor_done(&l[i].descriptor);
        }
        free(l);
}

static int index_refs(json_object *manifests, StoreRef **ret, size_t *ret_n) {
        StoreRef *l;
        size_t n, k = 0;
        int r;

        n = json_object_array_length(manifests);
        l = new0(StoreRef, n ?: 1);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *x = json_object_array_get_idx(manifests, i);
                const char *name = entry_ref_name(x);

                r = entry_descriptor(x, &l[k].descriptor);
                if (r < 0)
                        goto fail;
                if (name) {
                        l[k].name = strdup(name);
                        if (!l[k].name) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
                k++;
        }
        *ret = l;
        *ret_n = k;
        return 0;
fail:
        store_ref_list_free(l, k);
        return r;
}

int store_ref_list(Store *s, StoreRef **ret, size_t *ret_n) {
        _cleanup_json_ json_object *o = NULL;
        json_object *manifests;
        int r;

        r = index_load(s, &o, &manifests);
        if (r < 0)
                return r;
        return index_refs(manifests, ret, ret_n);
}

int store_index_parse(const char *text, size_t size, StoreRef **ret, size_t *ret_n) {
        _cleanup_json_ json_object *o = NULL;
        json_object *manifests;
        int r;

        r = index_parse(text, size, &o, &manifests);
        if (r < 0)
                return r;
        return index_refs(manifests, ret, ret_n);
}

/* --- gc --- */

typedef struct DigestSet {
        char (*hex)[DIGEST_HEX_MAX + 1];
        size_t n, allocated;
} DigestSet;

static void digest_set_done(DigestSet *set) {
        free(set->hex);
        *set = (DigestSet) {};
}

static bool digest_set_contains(const DigestSet *set, const char *hex) {
        for (size_t i = 0; i < set->n; i++)
                if (streq(set->hex[i], hex))
                        return true;
        return false;
}

/* Returns 1 if added, 0 if already there. */
static int digest_set_add(DigestSet *set, const Digest *d) {
        if (digest_set_contains(set, d->hex))
                return 0;
        if (set->n == set->allocated) {
                size_t na = set->allocated ? set->allocated * 2 : 64;
                void *p = reallocarray(set->hex, na, sizeof(*set->hex));
                if (!p)
                        return -ENOMEM;
                set->hex = p;
                set->allocated = na;
        }
        memcpy(set->hex[set->n++], d->hex, sizeof(*set->hex));
        return 1;
}

typedef struct GcState {
        DigestSet blobs;
        DigestSet layers;
        bool layers_incomplete; /* a reachable config could not be read: keep all layer trees */
} GcState;

static void gc_state_done(GcState *g) {
        digest_set_done(&g->blobs);
        digest_set_done(&g->layers);
}

/* A config keeps the layer trees it names: reached through a manifest, or
 * kept on its own (a pod's image whose names are all gone: the trees are
 * all a pod needs). */
static int gc_mark_config_layers(GcState *g, const char *text, size_t n) {
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ Digest *chain = NULL;
        int r;

        if (image_config_parse(text, n, &c, NULL) < 0) {
                g->layers_incomplete = true;
                return 0;
        }
        r = layer_chain_ids(c->diff_ids, c->n_diff_ids, &chain);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->n_diff_ids; i++) {
                r = digest_set_add(&g->layers, &chain[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int gc_mark(Store *s, GcState *g, const Digest *d, unsigned depth) {
        _cleanup_free_ char *text = NULL;
        MediaType t;
        size_t n;
        int r;

        r = digest_set_add(&g->blobs, d);
        if (r <= 0)
                return r;
        if (depth > STORE_NESTING_MAX)
                return 0;
        /* A missing document (an index's entries for other platforms)
         * marks only itself. One that is there but unreadable might have
         * named any layer tree: keep them all rather than guess. */
        r = store_blob_read(s, d, MANIFEST_SIZE_MAX, &text, &n, NULL);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                g->layers_incomplete = true;
                return 0;
        }
        if (manifest_detect(text, n, NULL, &t, NULL) < 0) {
                g->layers_incomplete = true;
                return 0;
        }
        if (media_type_is_index(t)) {
                _cleanup_(manifest_index_freep) ManifestIndex *idx = NULL;

                if (manifest_index_parse(text, n, NULL, &idx, NULL) < 0) {
                        g->layers_incomplete = true;
                        return 0;
                }
                for (size_t i = 0; i < idx->n_manifests; i++) {
                        r = gc_mark(s, g, &idx->manifests[i].digest, depth + 1);
                        if (r < 0)
                                return r;
                }
        } else if (media_type_is_manifest(t)) {
                _cleanup_(manifest_freep) Manifest *m = NULL;
                _cleanup_free_ char *ctext = NULL;
                size_t cn;

                if (manifest_parse(text, n, NULL, &m, NULL) < 0) {
                        g->layers_incomplete = true;
                        return 0;
                }
                r = digest_set_add(&g->blobs, &m->config.digest);
                if (r < 0)
                        return r;
                for (size_t i = 0; i < m->n_layers; i++) {
                        r = digest_set_add(&g->blobs, &m->layers[i].digest);
                        if (r < 0)
                                return r;
                }
                r = store_blob_read(s, &m->config.digest, MANIFEST_SIZE_MAX, &ctext, &cn, NULL);
                if (r == -ENOMEM)
                        return r;
                if (r == -ENOENT)
                        return 0; /* never pulled completely: no layer trees either */
                if (r < 0) {
                        g->layers_incomplete = true;
                        return 0;
                }
                return gc_mark_config_layers(g, ctext, cn);
        } else if (media_type_is_config(t))
                return gc_mark_config_layers(g, text, n);
        return 0;
}

static int gc_collect_refs(Store *s, GcState *g, const Digest *keep, size_t n_keep) {
        _cleanup_json_ json_object *o = NULL;
        json_object *manifests;
        int r;

        r = index_load(s, &o, &manifests);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_object_array_length(manifests); i++) {
                Descriptor d;

                /* An entry we cannot read could reach anything: stop
                 * rather than delete what it needs. */
                r = entry_descriptor(json_object_array_get_idx(manifests, i), &d);
                if (r < 0)
                        return r;
                r = gc_mark(s, g, &d.digest, 0);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < n_keep; i++) {
                r = gc_mark(s, g, &keep[i], 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* g NULL: only the temp files. */
static int gc_sweep_blobs(Store *s, const GcState *g, StoreGcStats *stats) {
        _cleanup_close_ int fd = -EBADF;
        struct dirent *de;
        DIR *d;
        int r = 0;

        fd = openat(s->blobs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                bool is_tmp = startswith(de->d_name, TMP_PREFIX);
                struct stat st;

                if (!is_tmp && (!g || digest_from_hex(DIGEST_SHA256, de->d_name, NULL) < 0 ||
                                digest_set_contains(&g->blobs, de->d_name)))
                        continue; /* temp files only, not ours to judge, or reachable */
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0) {
                        if (errno != ENOENT && r == 0)
                                r = -errno;
                        continue;
                }
                /* A temp file may be a second link to a blob (a crash
                 * between link and unlink): it frees nothing then. */
                if (st.st_nlink <= 1)
                        stats->bytes_freed += (uint64_t) st.st_size;
                if (is_tmp)
                        stats->temp_removed++;
                else
                        stats->blobs_removed++;
        }
        closedir(d);
        return r;
}

/* Only a statistic: bounded in depth so that a deep tree cannot use up our
 * fds (rm_rf does the real work). */
static uint64_t tree_size(int dir_fd, unsigned depth) {
        _cleanup_close_ int fd = dir_fd;
        struct dirent *de;
        uint64_t total = 0;
        DIR *d;

        if (depth > 64)
                return 0;
        d = fdopendir(fd);
        if (!d)
                return 0;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                struct stat st;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        int sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                total += tree_size(sub, depth + 1);
                } else if (S_ISREG(st.st_mode) && st.st_nlink == 1)
                        total += (uint64_t) st.st_size;
        }
        closedir(d);
        return total;
}

/* g NULL: only the temp trees. */
static int gc_sweep_layers(Store *s, const GcState *g, StoreGcStats *stats) {
        _cleanup_close_ int fd = -EBADF;
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (g && g->layers_incomplete)
                return 0;
        fd = openat(s->layers_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL;
                uint64_t size = 0;
                int q, sub;

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (g ? digest_set_contains(&g->layers, de->d_name) : !startswith(de->d_name, TMP_PREFIX))
                        continue;
                /* Everything else under layers/ is ours and unused: trees of
                 * images no ref reaches and leftovers of crashed unpacks
                 * (unpackers hold a pin, so none is running now). */
                sub = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub >= 0)
                        size = tree_size(sub, 0);
                if (asprintf(&path, "%s/layers/%s", s->root, de->d_name) < 0) {
                        r = -ENOMEM;
                        break;
                }
                q = rm_rf(path);
                if (q < 0) {
                        if (r == 0)
                                r = q;
                        continue;
                }
                stats->layers_removed++;
                stats->bytes_freed += size;
        }
        closedir(d);
        return r;
}

static void gc_sweep_locks(Store *s) {
        _cleanup_close_ int fd = -EBADF;
        struct dirent *de;
        DIR *d;

        fd = openat(s->locks_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d)
                return;
        TAKE_FD(fd);
        while ((de = readdir(d))) {
                _cleanup_close_ int lfd = -EBADF;

                if (!startswith(de->d_name, "sha256-") || !endswith(de->d_name, ".lock"))
                        continue;
                lfd = openat(dirfd(d), de->d_name, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
                /* Only a lock nobody holds is removed, and while we hold it:
                 * see lock_file() for why waiters then still do the right thing. */
                if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                (void) unlinkat(dirfd(d), de->d_name, 0);
        }
        closedir(d);
}

static void gc_sweep_root_temp(Store *s, StoreGcStats *stats) {
        _cleanup_close_ int fd = -EBADF;
        struct dirent *de;
        DIR *d;

        fd = openat(s->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        d = fdopendir(fd);
        if (!d)
                return;
        TAKE_FD(fd);
        /* write_file_atomic()'s temp names; we hold the index lock, so
         * nobody is writing one now. */
        while ((de = readdir(d)))
                if ((startswith(de->d_name, "index.json.tmp.") || startswith(de->d_name, "oci-layout.tmp.")) &&
                    unlinkat(dirfd(d), de->d_name, 0) >= 0)
                        stats->temp_removed++;
        closedir(d);
}

/* gc.lock, then index.lock (the order everywhere), both exclusive: no
 * pin, no blob writer and no index writer is alive meanwhile. With wait
 * false, -EBUSY instead of waiting for writers that are at work. */
static int store_lock_exclusive(Store *s, bool wait, int *ret_gc_fd, int *ret_index_fd) {
        _cleanup_close_ int gc_fd = -EBADF, index_fd = -EBADF;
        int r;

        r = lock_file(s, "gc.lock", LOCK_EX | (wait ? 0 : LOCK_NB), &gc_fd);
        if (r == -EWOULDBLOCK)
                return -EBUSY;
        if (r < 0)
                return r;
        r = lock_file(s, "index.lock", LOCK_EX, &index_fd);
        if (r < 0)
                return r;
        *ret_gc_fd = TAKE_FD(gc_fd);
        *ret_index_fd = TAKE_FD(index_fd);
        return 0;
}

int store_gc(Store *s, const Digest *keep, size_t n_keep, StoreGcStats *ret_stats) {
        _cleanup_close_ int gc_fd = -EBADF, index_fd = -EBADF;
        _cleanup_(gc_state_done) GcState g = {};
        StoreGcStats stats = {};
        int r;

        /* Exclusive against every pin and blob writer: whatever is not
         * reachable now is garbage, temp files included. Lock order:
         * gc.lock before index.lock, everywhere. */
        r = store_lock_exclusive(s, true, &gc_fd, &index_fd);
        if (r < 0)
                return r;
        r = gc_collect_refs(s, &g, keep, n_keep);
        if (r < 0)
                return r;
        r = gc_sweep_blobs(s, &g, &stats);
        if (r < 0)
                return r;
        r = gc_sweep_layers(s, &g, &stats);
        if (r < 0)
                return r;
        gc_sweep_root_temp(s, &stats);
        gc_sweep_locks(s);
        if (ret_stats)
                *ret_stats = stats;
        return 0;
}

int store_remove_temp(Store *s, StoreGcStats *ret_stats) {
        _cleanup_close_ int gc_fd = -EBADF, index_fd = -EBADF;
        StoreGcStats stats = {};
        int r;

        /* Every writer (a blob writer, an unpack, an import) holds gc.lock
         * shared for as long as its temp files exist, so with the lock held
         * exclusively every temp file is a dead writer's. Not waiting: a
         * writer that is alive is not ours to stop. */
        r = store_lock_exclusive(s, false, &gc_fd, &index_fd);
        if (r < 0)
                return r;
        r = gc_sweep_blobs(s, NULL, &stats);
        if (r >= 0)
                r = gc_sweep_layers(s, NULL, &stats);
        gc_sweep_root_temp(s, &stats);
        if (ret_stats)
                *ret_stats = stats;
        return r;
}

int store_remove_added(Store *s, StoreGcStats *ret_stats) {
        _cleanup_close_ int gc_fd = -EBADF, index_fd = -EBADF;
        _cleanup_(gc_state_done) GcState g = {};
        StoreGcStats stats = {};
        int r;

        /* Exclusive, as gc: no writer (of this job or another) is alive,
         * so nobody is about to point a ref at what we remove. Not
         * waiting: with other writers at work, gc gets these later. */
        r = store_lock_exclusive(s, false, &gc_fd, &index_fd);
        if (r < 0)
                return r;
        /* What a ref reaches stays: another import may have named the same
         * blobs meanwhile. Pods are not asked; a pod's image was complete
         * and named when the pod was made, so nothing this object added
         * and no ref reaches can be a pod's. */
        r = gc_collect_refs(s, &g, NULL, 0);
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n_added_blobs; i++) {
                struct stat st;

                if (digest_set_contains(&g.blobs, s->added_blobs[i].hex) ||
                    fstatat(s->blobs_fd, s->added_blobs[i].hex, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    unlinkat(s->blobs_fd, s->added_blobs[i].hex, 0) < 0)
                        continue;
                stats.blobs_removed++;
                stats.bytes_freed += (uint64_t) st.st_size;
        }
        for (size_t i = 0; i < s->n_added_trees && !g.layers_incomplete; i++) {
                _cleanup_free_ char *path = NULL;

                if (digest_set_contains(&g.layers, s->added_trees[i].hex))
                        continue;
                if (asprintf(&path, "%s/layers/%s", s->root, s->added_trees[i].hex) < 0)
                        return -ENOMEM;
                if (rm_rf(path) >= 0)
                        stats.layers_removed++;
        }
        s->n_added_blobs = s->n_added_trees = 0;
        if (ret_stats)
                *ret_stats = stats;
        return 0;
}
