/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "image-pull.h"
#include "image.h"
#include "manifest.h"
#include "reference.h"
#include "registry.h"
#include "string-util.h"
#include "strv.h"
#include "unpack.h"

static const char * const pull_phase_table[_PULL_PHASE_MAX] = {
        [PULL_PHASE_RESOLVING] = "resolving",
        [PULL_PHASE_DOWNLOADING] = "downloading",
        [PULL_PHASE_UNPACKING] = "unpacking",
        [PULL_PHASE_DONE] = "done",
};

const char *pull_phase_to_string(PullPhase p) {
        return p >= 0 && p < _PULL_PHASE_MAX ? pull_phase_table[p] : NULL;
}

PullPhase pull_phase_from_string(const char *s) {
        if (s)
                for (PullPhase p = 0; p < _PULL_PHASE_MAX; p++)
                        if (streq(s, pull_phase_table[p]))
                                return p;
        return _PULL_PHASE_INVALID;
}

/* What a pull knows about its progress; the callback sees it as PullProgress. */
typedef struct Puller {
        Store *store;
        PullProgressFn progress;
        void *userdata;
        PullProgress p;
        PullLayerProgress *layers;
        /* registry_get_blobs() request index -> layer index */
        size_t *request_layer;
} Puller;

static int puller_report(Puller *pl, PullPhase phase) {
        pl->p.phase = phase;
        pl->p.layers = pl->layers;
        pl->p.done = pl->p.total = 0;
        for (size_t i = 0; i < pl->p.n_layers; i++) {
                pl->p.done += pl->layers[i].done;
                pl->p.total += pl->layers[i].total;
        }
        if (pl->progress && pl->progress(&pl->p, pl->userdata) != 0)
                return -ECANCELED;
        return 0;
}

/* --- a registry sink writing into the store --- */

typedef struct BlobSink {
        Store *store;
        Digest digest;
        uint64_t size;
        BlobWriter *writer;
        PeapodError error;
} BlobSink;

static int blob_sink_write(const void *data, size_t size, void *userdata) {
        BlobSink *b = userdata;
        int r;

        if (!b->writer) {
                r = store_blob_begin(b->store, &b->digest, b->size, &b->writer);
                if (r < 0)
                        return r;
        }
        return blob_writer_write(b->writer, data, size, &b->error);
}

/* A retry that starts over: the bytes so far go, with their temp file. */
static int blob_sink_reset(void *userdata) {
        BlobSink *b = userdata;

        b->writer = blob_writer_free(b->writer);
        return 0;
}

static int registry_progress(size_t index, uint64_t done, uint64_t total, void *userdata) {
        Puller *pl = userdata;
        PullLayerProgress *l = &pl->layers[pl->request_layer[index]];

        /* done can go back down when a transfer starts over: count what
         * arrived on the wire either way. */
        if (done > l->done)
                pl->p.fetched += done - l->done;
        l->done = done;
        return puller_report(pl, PULL_PHASE_DOWNLOADING) < 0 ? 1 : 0;
}

/* --- layers --- */

static int layer_tree_exists(Store *s, const Digest *chain) {
        _cleanup_free_ char *path = NULL;
        struct stat st;

        if (asprintf(&path, "%s/layers/%s", store_root(s), chain->hex) < 0)
                return -ENOMEM;
        if (lstat(path, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        return S_ISDIR(st.st_mode);
}

static void rm_rf_freep(char **p) {
        if (*p) {
                (void) rm_rf(*p);
                free(*p);
        }
}

/* Unpack one layer blob into layers/<chain hex>, unless a tree is there. */
static int layer_unpack_into_store(Store *s, const Descriptor *layer, const Digest *diff_id, const Digest *chain,
                                   UnpackBudget *budget, PeapodError *e) {
        const StorageLimits *l = store_limits(s);
        char a[DIGEST_STRING_MAX];
        _cleanup_(rm_rf_freep) char *tmp = NULL;
        _cleanup_free_ char *final = NULL;
        _cleanup_close_ int lock_fd = -EBADF, fd = -EBADF;
        uint64_t rnd;
        int r;

        /* Two pulls sharing a layer unpack it once: the second waits here
         * and then finds the tree. The chain id is a digest, so it names a
         * lock like a blob does (the blob locks are released by now). */
        r = store_blob_lock(s, chain, &lock_fd);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to lock layer %s: %s", digest_to_string(chain, a), strerror(-r));
        r = layer_tree_exists(s, chain);
        if (r != 0)
                return r < 0 ? r : 0;

        r = store_blob_open(s, &layer->digest, &fd);
        if (r < 0)
                return peapod_error_set(e, r, "Layer %s is not in the store: %s", digest_to_string(&layer->digest, a),
                                        strerror(-r));
        /* Unpack under a temp name in layers/ and rename: a tree under its
         * chain id is always complete. gc removes temp trees of crashed
         * unpacks (they are under no chain id). */
        if (getrandom(&rnd, sizeof(rnd), 0) != sizeof(rnd))
                return -errno;
        if (asprintf(&tmp, "%s/layers/.tmp-%016" PRIx64, store_root(s), rnd) < 0) {
                tmp = NULL;
                return -ENOMEM;
        }
        if (asprintf(&final, "%s/layers/%s", store_root(s), chain->hex) < 0) {
                final = NULL;
                return -ENOMEM;
        }
        /* The config commits to the uncompressed stream: its sha256 is
         * checked in the same pass that unpacks it (decompressing once),
         * and a layer that differs is removed again. Until then only our
         * hardened tar reader has seen it, as for any layer. */
        r = layer_unpack(fd, tmp,
                         &(UnpackOptions) {
                                 .expected_diff_id = diff_id,
                                 .max_total_size = l->max_layer_size,
                                 .max_inodes = l->max_layer_inodes,
                                 .budget = budget,
                                 .min_free_bytes = l->min_free_bytes,
                                 .min_free_percent = l->min_free_percent,
                         },
                         NULL, e);
        if (r < 0) {
                free(TAKE_PTR(tmp)); /* layer_unpack() removed it */
                return peapod_error_prefix(e, r, "Layer %s", digest_to_string(&layer->digest, a));
        }
        if (rename(tmp, final) < 0) {
                r = -errno;
                /* Someone unpacked it without the lock (another tool): same content. */
                if (r == -EEXIST || r == -ENOTEMPTY)
                        return 0;
                return peapod_error_set(e, r, "Failed to rename %s: %s", tmp, strerror(-r));
        }
        free(TAKE_PTR(tmp));
        store_note_added_tree(s, chain);
        return 1;
}

typedef struct LayerJob {
        Store *store;
        UnpackBudget *budget;
        const Descriptor *layer;
        const Digest *diff_id, *chain;
        pthread_t thread;
        bool started;
        int r;
        PeapodError error;
} LayerJob;

static void *layer_job_run(void *userdata) {
        LayerJob *j = userdata;

        j->r = layer_unpack_into_store(j->store, j->layer, j->diff_id, j->chain, j->budget, &j->error);
        return NULL;
}

/* Layers are independent trees (each under its own chain id, lock and temp
 * name), so they unpack in parallel, a few at a time: unpacking is CPU
 * (decompression, hashing) and file creation, and the largest layer
 * otherwise waits for all the others. */
#define UNPACK_PARALLEL_MAX 4

static int unpack_layers(Puller *pl, const Manifest *m, const ImageConfig *c, PeapodError *e) {
        _cleanup_free_ Digest *chain = NULL;
        _cleanup_free_ LayerJob *jobs = NULL;
        _cleanup_close_ int root_fd = -EBADF;
        /* What this image adds: layer trees that are there already (shared
         * with other images) cost nothing new. */
        UnpackBudget budget = { .max_size = store_limits(pl->store)->max_image_size };
        size_t next = 0, parallel;
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        bool any = false;
        int r, ret = 0;

        r = layer_chain_ids(c->diff_ids, c->n_diff_ids, &chain);
        if (r < 0)
                return r;
        jobs = calloc(m->n_layers ?: 1, sizeof(LayerJob));
        if (!jobs)
                return -ENOMEM;
        parallel = ncpu > 1 ? (size_t) ncpu : 1;
        if (parallel > UNPACK_PARALLEL_MAX)
                parallel = UNPACK_PARALLEL_MAX;

        r = puller_report(pl, PULL_PHASE_UNPACKING);
        if (r < 0)
                return peapod_error_set(e, r, "Pull cancelled");

        /* Start up to `parallel` layers, then join in order, starting the
         * next one whenever one is joined. Progress is reported from this
         * thread only. */
        for (size_t i = 0; i < m->n_layers; i++) {
                while (next < m->n_layers && next < i + parallel) {
                        LayerJob *j = &jobs[next];

                        *j = (LayerJob) { .store = pl->store, .budget = &budget, .layer = &m->layers[next],
                                          .diff_id = &c->diff_ids[next], .chain = &chain[next] };
                        if (ret >= 0) {
                                r = -pthread_create(&j->thread, NULL, layer_job_run, j);
                                if (r < 0)
                                        j->r = r; /* run it here instead */
                                else
                                        j->started = true;
                        }
                        if (!j->started && ret >= 0)
                                layer_job_run(j);
                        else if (!j->started)
                                j->r = -ECANCELED; /* an earlier layer failed: not tried */
                        next++;
                }
                if (jobs[i].started)
                        (void) pthread_join(jobs[i].thread, NULL);
                if (jobs[i].r < 0 && ret >= 0) {
                        ret = jobs[i].r;
                        if (e && !peapod_error_is_set(e))
                                *e = jobs[i].error;
                }
                if (jobs[i].r > 0)
                        any = true;
                if (jobs[i].r >= 0 && pl->layers)
                        pl->layers[i].unpacked = true;
                if (ret >= 0) {
                        r = puller_report(pl, PULL_PHASE_UNPACKING);
                        if (r < 0)
                                ret = peapod_error_set(e, r, "Pull cancelled");
                }
        }
        if (ret < 0)
                return ret;
        if (!any)
                return 0;
        /* One syncfs for all trees rather than an fsync per file: layers
         * have thousands of files, and a crash before the ref is set loses
         * nothing that a new pull would not redo. */
        root_fd = open(store_root(pl->store), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return -errno;
        if (syncfs(root_fd) < 0)
                return -errno;
        return 0;
}

int image_unpack_layers(Store *s, const Digest *manifest, PullProgressFn progress, void *userdata, PeapodError *e) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ PullLayerProgress *layers = NULL;
        Puller pl = {
                .store = s,
                .progress = progress,
                .userdata = userdata,
        };
        int r;

        r = image_load_manifest(s, manifest, &m, &c, e);
        if (r < 0)
                return r;
        layers = calloc(m->n_layers ?: 1, sizeof(PullLayerProgress));
        if (!layers)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_layers; i++)
                layers[i] = (PullLayerProgress) {
                        .digest = m->layers[i].digest,
                        .done = m->layers[i].size,
                        .total = m->layers[i].size,
                };
        pl.layers = layers;
        pl.p.n_layers = m->n_layers;
        return unpack_layers(&pl, m, c, e);
}

/* --- the pull --- */

static void blob_sinks_free(BlobSink *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                blob_writer_free(l[i].writer);
        free(l);
}

static void close_many(int *fds, size_t n) {
        for (size_t i = 0; fds && i < n; i++)
                safe_close(fds[i]);
        free(fds);
}

static int digest_compare(const void *a, const void *b) {
        const Descriptor * const *x = a, * const *y = b;
        return strcmp((*x)->digest.hex, (*y)->digest.hex);
}

/* What one fetch_blobs() call holds: the distinct blobs in digest order with
 * their locks, and a request (with its sink) for each one that is missing. */
typedef struct BlobFetch {
        const Descriptor **sorted;
        int *locks;
        size_t n_sorted;
        RegistryBlobRequest *requests;
        char **digest_strings;
        BlobSink *sinks;
        size_t n_requests;
} BlobFetch;

static void blob_fetch_done(BlobFetch *f) {
        blob_sinks_free(f->sinks, f->n_requests);
        close_many(f->locks, f->n_sorted);
        for (size_t i = 0; f->digest_strings && i < f->n_requests; i++)
                free(f->digest_strings[i]);
        free(f->digest_strings);
        free(f->requests);
        free(f->sorted);
}

static void layers_mark_done(Puller *pl, const Descriptor *descs, size_t n, const Digest *digest) {
        for (size_t j = 0; j < n; j++)
                if (digest_equal(&descs[j].digest, digest))
                        pl->layers[j].done = pl->layers[j].total;
}

/* Lock each distinct blob (in digest order) and make a request for each one
 * the store lacks; the ones already there count as done, and so do their
 * twins. */
static int blob_fetch_plan(BlobFetch *f, Puller *pl, const Descriptor *descs, size_t n, PeapodError *e) {
        char a[DIGEST_STRING_MAX];
        int r;

        f->sorted = calloc(n ?: 1, sizeof(Descriptor *));
        f->requests = calloc(n ?: 1, sizeof(RegistryBlobRequest));
        f->digest_strings = calloc(n ?: 1, sizeof(char *));
        f->sinks = calloc(n ?: 1, sizeof(BlobSink));
        f->locks = malloc((n ?: 1) * sizeof(int));
        pl->request_layer = calloc(n ?: 1, sizeof(size_t));
        if (!f->sorted || !f->requests || !f->digest_strings || !f->sinks || !f->locks || !pl->request_layer)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                f->sorted[i] = &descs[i];
        qsort(f->sorted, n, sizeof(Descriptor *), digest_compare);
        for (size_t i = 0; i < n; i++) {
                if (f->n_sorted > 0 && digest_equal(&f->sorted[f->n_sorted - 1]->digest, &f->sorted[i]->digest))
                        continue; /* the same blob twice in one manifest */
                f->sorted[f->n_sorted] = f->sorted[i];
                f->locks[f->n_sorted] = -EBADF;
                f->n_sorted++;
        }

        for (size_t i = 0; i < f->n_sorted; i++) {
                const Descriptor *d = f->sorted[i];

                r = store_blob_lock(pl->store, &d->digest, &f->locks[i]);
                if (r < 0)
                        return peapod_error_set(e, r, "Failed to lock blob %s: %s", digest_to_string(&d->digest, a),
                                                strerror(-r));
                r = store_blob_exists(pl->store, &d->digest);
                if (r < 0)
                        return r;
                if (r > 0) {
                        /* Already there: counts as done, and so do its twins. */
                        layers_mark_done(pl, descs, n, &d->digest);
                        continue;
                }
                f->digest_strings[f->n_requests] = digest_to_string_alloc(&d->digest);
                if (!f->digest_strings[f->n_requests])
                        return -ENOMEM;
                f->sinks[f->n_requests] = (BlobSink) {
                        .store = pl->store,
                        .digest = d->digest,
                        .size = d->size,
                };
                pl->request_layer[f->n_requests] = (size_t) (d - descs);
                f->n_requests++;
        }
        /* Fill requests only now: sinks[] no longer moves. */
        for (size_t i = 0; i < f->n_requests; i++)
                f->requests[i] = (RegistryBlobRequest) {
                        .digest = f->digest_strings[i],
                        .size = f->sinks[i].size,
                        .sink = { .write = blob_sink_write, .reset = blob_sink_reset, .userdata = &f->sinks[i] },
                };
        return 0;
}

/* Download the planned requests and commit each blob to the store. */
static int blob_fetch_run(BlobFetch *f, Puller *pl, RegistryClient *client, const ImageReference *ref,
                          const Descriptor *descs, size_t n, PeapodError *e) {
        int r;

        if (f->n_requests == 0)
                return 0;
        r = registry_get_blobs(client, ref, f->requests, f->n_requests, registry_progress, pl, e);
        if (r < 0) {
                /* A sink's own failure (disk full) says more than "transfer aborted". */
                for (size_t i = 0; i < f->n_requests; i++)
                        if (e && f->requests[i].result < 0 && f->sinks[i].error.message[0]) {
                                *e = f->sinks[i].error;
                                break;
                        }
                if (r == -ECANCELED)
                        (void) peapod_error_set(e, r, "Pull cancelled");
                return r;
        }
        for (size_t i = 0; i < f->n_requests; i++) {
                if (!f->sinks[i].writer) { /* an empty blob: nothing was written */
                        r = store_blob_begin(pl->store, &f->sinks[i].digest, f->sinks[i].size, &f->sinks[i].writer);
                        if (r < 0)
                                return r;
                }
                r = store_blob_commit(TAKE_PTR(f->sinks[i].writer), NULL, e);
                if (r < 0)
                        return r;
                layers_mark_done(pl, descs, n, &f->sinks[i].digest);
        }
        return 0;
}

/* Bring the blobs of descriptors into the store, fetching what is missing,
 * several at once. Blob locks are taken in digest order, so two pulls that
 * share blobs (in whatever order their manifests list them) cannot deadlock,
 * and the second one finds the first one's blobs. */
static int fetch_blobs(Puller *pl, RegistryClient *client, const ImageReference *ref, const Descriptor *descs,
                       size_t n, PeapodError *e) {
        _cleanup_(blob_fetch_done) BlobFetch f = {};
        int r;

        r = blob_fetch_plan(&f, pl, descs, n, e);
        if (r >= 0) {
                r = puller_report(pl, PULL_PHASE_DOWNLOADING);
                if (r < 0)
                        (void) peapod_error_set(e, r, "Pull cancelled");
        }
        if (r >= 0)
                r = blob_fetch_run(&f, pl, client, ref, descs, n, e);
        if (r >= 0) {
                r = puller_report(pl, PULL_PHASE_DOWNLOADING);
                if (r < 0)
                        (void) peapod_error_set(e, r, "Pull cancelled");
        }
        /* Released before the locks: the registry's callbacks are done. */
        pl->request_layer = mfree(pl->request_layer);
        return r;
}

/* A single small blob (a config) into the store, unless it is there. */
static int fetch_small_blob(Store *s, RegistryClient *client, const ImageReference *ref, const Descriptor *d,
                            PeapodError *e) {
        _cleanup_close_ int lock_fd = -EBADF;
        _cleanup_free_ char *ds = NULL;
        BlobSink sink = { .store = s, .digest = d->digest, .size = d->size };
        RegistrySink rs = { .write = blob_sink_write, .reset = blob_sink_reset, .userdata = &sink };
        int r;

        if (d->size > MANIFEST_SIZE_MAX)
                return peapod_error_set(e, -EFBIG, "Config of %" PRIu64 " bytes is larger than the limit", d->size);
        r = store_blob_lock(s, &d->digest, &lock_fd);
        if (r < 0)
                return r;
        r = store_blob_exists(s, &d->digest);
        if (r != 0)
                return r < 0 ? r : 0;
        ds = digest_to_string_alloc(&d->digest);
        if (!ds)
                return -ENOMEM;
        r = registry_get_blob(client, ref, ds, d->size, &rs, NULL, NULL, e);
        if (r < 0) {
                if (e && sink.error.message[0])
                        *e = sink.error;
                blob_writer_free(sink.writer);
                return r;
        }
        if (!sink.writer) {
                r = store_blob_begin(s, &d->digest, d->size, &sink.writer);
                if (r < 0)
                        return r;
        }
        return store_blob_commit(sink.writer, NULL, e);
}

static int registries_conf_add_insecure(RegistriesConf *c, const char *registry) {
        RegistryEntry *n;

        n = reallocarray(c->entries, c->n_entries + 1, sizeof(RegistryEntry));
        if (!n)
                return -ENOMEM;
        c->entries = n;
        c->entries[c->n_entries] = (RegistryEntry) { .prefix = strdup(registry), .insecure = true };
        if (!c->entries[c->n_entries].prefix)
                return -ENOMEM;
        c->n_entries++;
        return 0;
}

/* reference parsed, a short name given its registry from registries.conf,
 * and its full name. */
static int pull_resolve(const char *reference, const PullOptions *o, ImageReference **ret_ref,
                        RegistriesConf **ret_conf, char **ret_name, PeapodError *e) {
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *name = NULL;
        const char *reason = NULL;
        int r;

        r = image_reference_parse_reason(reference, &ref, &reason);
        if (r < 0)
                return peapod_error_set(e, r, "Invalid image reference '%s': %s", reference, reason ?: strerror(-r));
        r = registries_conf_load(o->registries_conf, &conf, e);
        if (r < 0)
                return r;
        r = image_reference_resolve(ref, conf, e);
        if (r < 0)
                return r;
        r = image_reference_to_string(ref, &name);
        if (r < 0)
                return r;
        *ret_ref = TAKE_PTR(ref);
        *ret_conf = TAKE_PTR(conf);
        *ret_name = TAKE_PTR(name);
        return 0;
}

/* "localhost/..." names what was imported here; no registry is asked. */
static int pull_local(Store *s, const char *name, Puller *pl, char **ret_image_id, PeapodError *e) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ char *id = NULL;
        Digest d;
        int r;

        r = store_ref_get(s, name, &d);
        if (r == -ENOENT)
                return peapod_error_set(e, -ENOENT,
                                        "%s names a local image (registry \"localhost\") and is not in the store; "
                                        "import it instead of pulling",
                                        name);
        if (r < 0)
                return r;
        r = image_load_manifest(s, &d, &m, &c, e);
        if (r < 0)
                return r;
        id = digest_to_string_alloc(&m->config.digest);
        if (!id)
                return -ENOMEM;
        r = puller_report(pl, PULL_PHASE_DONE);
        if (r < 0)
                return peapod_error_set(e, r, "Pull cancelled");
        if (ret_image_id)
                *ret_image_id = TAKE_PTR(id);
        return 0;
}

/* The client that talks to ref's registry, with the credentials it may use
 * (the client keeps a pointer to them: ret_auth must outlive ret_client). */
static int pull_connect(const PullOptions *o, RegistriesConf *conf, const ImageReference *ref, AuthFile **ret_auth,
                        RegistryClient **ret_client, PeapodError *e) {
        _cleanup_(auth_file_freep) AuthFile *auth = NULL;
        _cleanup_(registry_client_freep) RegistryClient *client = NULL;
        int r;

        if (o->insecure) {
                r = registries_conf_add_insecure(conf, ref->registry);
                if (r < 0)
                        return r;
        }
        /* Without "auth-file" in registries.conf, the file 'peapod login'
         * writes: a login needs no other configuration. */
        /* With a registry or identity token, only the token goes to the registry. */
        if (o->username || o->password) {
                r = auth_file_new_one(ref->registry, o->username, o->password, &auth);
                if (r < 0)
                        return peapod_error_set(e, r, "Cannot use the credentials given for %s", ref->registry);
        } else if (!o->registry_token && !o->identity_token) {
                r = auth_file_load(o->auth_file ?: registries_conf_auth_file(conf), &auth, e);
                if (r < 0)
                        return r;
        }
        r = registry_client_new(&(RegistryClientOptions) {
                                        .config = conf,
                                        .auth = auth,
                                        .bearer_registry = o->registry_token || o->identity_token ? ref->registry : NULL,
                                        .bearer_token = o->registry_token,
                                        .identity_token = o->identity_token,
                                        .ca_file = o->ca_file,
                                        .max_connections = o->max_connections,
                                },
                                &client);
        if (r < 0)
                return r;
        *ret_client = TAKE_PTR(client);
        *ret_auth = TAKE_PTR(auth);
        return 0;
}

/* The index the tag points at is kept in the store; the manifest for this
 * platform is fetched by digest, so the registry's answer is checked against
 * it. On success *body and its companions hold that manifest. */
static int pull_pick_from_index(Store *s, RegistryClient *client, const PullOptions *o, const char *name,
                                char **body, size_t *size, char **content_type, char **body_digest,
                                Digest *manifest_digest, PeapodError *e) {
        _cleanup_(manifest_index_freep) ManifestIndex *index = NULL;
        _cleanup_(image_reference_freep) ImageReference *by_digest = NULL;
        const char *os, *arch, *variant;
        const Descriptor *pick;
        int r;

        r = manifest_index_parse(*body, *size, *content_type, &index, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "%s", name);
        manifest_host_platform(&os, &arch, &variant);
        if (o->os || o->architecture) {
                os = o->os ?: os;
                arch = o->architecture ?: arch;
                variant = o->variant;
        }
        r = manifest_index_select(index, os, arch, variant, &pick);
        if (r < 0)
                return peapod_error_set(e, r, "%s has no image for %s/%s%s%s", name, os, arch, variant ? "/" : "",
                                        strempty(variant));
        /* Keep the index too: it is what the tag pointed at. */
        r = store_blob_write_buffer(s, manifest_digest, *body, *size, NULL, e);
        if (r < 0)
                return r;
        r = image_reference_parse(name, &by_digest);
        if (r < 0)
                return r;
        free(by_digest->digest);
        by_digest->digest = digest_to_string_alloc(&pick->digest);
        if (!by_digest->digest)
                return -ENOMEM;
        *body = mfree(*body);
        *content_type = mfree(*content_type);
        *body_digest = mfree(*body_digest);
        /* By digest: the registry's answer is checked against it. */
        r = registry_get_manifest(client, by_digest, NULL, body, size, content_type, body_digest, e);
        if (r < 0)
                return r;
        *manifest_digest = pick->digest;
        return 0;
}

/* The image manifest for ref (through an index when the tag names one),
 * verified by o->verify before anything else is fetched, parsed and stored. */
static int pull_manifest(Store *s, RegistryClient *client, const ImageReference *ref, const char *name,
                         const PullOptions *o, Digest *ret_digest, Manifest **ret_manifest, PeapodError *e) {
        _cleanup_free_ char *body = NULL, *content_type = NULL, *body_digest = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        Digest manifest_digest;
        MediaType type;
        size_t size;
        int r;

        r = registry_get_manifest(client, ref, NULL, &body, &size, &content_type, &body_digest, e);
        if (r < 0)
                return r;
        r = digest_parse(body_digest, &manifest_digest);
        if (r < 0)
                return peapod_error_set(e, r, "Registry gave an invalid digest for %s", name);
        /* Verified before any other blob is fetched: a refused image costs
         * one manifest and leaves nothing behind. */
        if (o->verify) {
                r = o->verify(name, &manifest_digest, o->verify_userdata, e);
                if (r < 0)
                        return r;
        }
        r = manifest_detect(body, size, content_type, &type, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "%s", name);
        if (media_type_is_index(type)) {
                r = pull_pick_from_index(s, client, o, name, &body, &size, &content_type, &body_digest,
                                         &manifest_digest, e);
                if (r < 0)
                        return r;
        }
        r = manifest_parse(body, size, content_type, &m, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "%s", name);
        r = store_blob_write_buffer(s, &manifest_digest, body, size, NULL, e);
        if (r < 0)
                return r;
        *ret_digest = manifest_digest;
        *ret_manifest = TAKE_PTR(m);
        return 0;
}

/* The image config m names, fetched, parsed and checked against m and the
 * requested OS. */
static int pull_config(Store *s, RegistryClient *client, const ImageReference *ref, const char *name,
                       const PullOptions *o, const Manifest *m, ImageConfig **ret_config, PeapodError *e) {
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ char *config_text = NULL;
        size_t size;
        int r;

        r = fetch_small_blob(s, client, ref, &m->config, e);
        if (r < 0)
                return r;
        r = store_blob_read(s, &m->config.digest, MANIFEST_SIZE_MAX, &config_text, &size, e);
        if (r < 0)
                return r;
        r = image_config_parse(config_text, size, &c, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "Config of %s", name);
        r = manifest_check_config(m, c, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "%s", name);
        if (o->os && c->os && !streq(c->os, o->os))
                return peapod_error_set(e, -EMEDIUMTYPE, "%s is an image for %s, not %s", name, c->os, o->os);
        *ret_config = TAKE_PTR(c);
        return 0;
}

int image_pull(Store *s, const char *reference, const PullOptions *o, PullProgressFn progress, void *userdata,
               char **ret_image_id, PeapodError *e) {
        static const PullOptions defaults = {};
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_(auth_file_freep) AuthFile *auth = NULL;
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_(registry_client_freep) RegistryClient *client = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ char *name = NULL, *id = NULL;
        _cleanup_free_ PullLayerProgress *layers = NULL;
        _cleanup_close_ int pin_fd = -EBADF;
        Digest manifest_digest;
        Puller pl = {
                .store = s,
                .progress = progress,
                .userdata = userdata,
        };
        int r;

        if (!s || !reference)
                return -EINVAL;
        o = o ?: &defaults;

        r = pull_resolve(reference, o, &ref, &conf, &name, e);
        if (r < 0)
                return r;
        pl.p.reference = name;

        if (streq(ref->registry, "localhost"))
                return pull_local(s, name, &pl, ret_image_id, e);

        r = pull_connect(o, conf, ref, &auth, &client, e);
        if (r < 0)
                return r;
        r = puller_report(&pl, PULL_PHASE_RESOLVING);
        if (r < 0)
                return peapod_error_set(e, r, "Pull cancelled");

        /* Everything added from here on is reachable from no ref until the
         * end: keep gc away. */
        r = store_pin(s, &pin_fd);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to pin the image store: %s", strerror(-r));

        r = pull_manifest(s, client, ref, name, o, &manifest_digest, &m, e);
        if (r < 0)
                return r;
        r = pull_config(s, client, ref, name, o, m, &c, e);
        if (r < 0)
                return r;

        layers = calloc(m->n_layers ?: 1, sizeof(PullLayerProgress));
        if (!layers)
                return -ENOMEM;
        for (size_t i = 0; i < m->n_layers; i++)
                layers[i] = (PullLayerProgress) { .digest = m->layers[i].digest, .total = m->layers[i].size };
        pl.layers = layers;
        pl.p.n_layers = m->n_layers;

        r = fetch_blobs(&pl, client, ref, m->layers, m->n_layers, e);
        if (r < 0)
                return r;
        r = unpack_layers(&pl, m, c, e);
        if (r < 0)
                return r;

        r = store_ref_set(s, name, &manifest_digest, e);
        if (r < 0)
                return r;
        id = digest_to_string_alloc(&m->config.digest);
        if (!id)
                return -ENOMEM;
        /* The ref is set: a cancel now would undo nothing. */
        (void) puller_report(&pl, PULL_PHASE_DONE);
        if (ret_image_id)
                *ret_image_id = TAKE_PTR(id);
        return 0;
}
