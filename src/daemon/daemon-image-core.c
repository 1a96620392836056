/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What peapodd does with images, without the bus face (daemon-image.c):
 * the store, the jobs that pull, import and export in worker threads, the
 * gc off the loop, name changes and their announcement. */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "aci.h"
#include "daemon-image.h"
#include "daemon-trust.h"
#include "gpg.h"
#include "image-archive.h"
#include "image-catalog.h"
#include "image-pull.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

int daemon_image_store(Daemon *d, Store **ret) {
        int r;

        if (!d->store) {
                r = store_open(d->images_dir, &d->store);
                if (r < 0)
                        return r;
        }
        *ret = d->store;
        return 0;
}

/* Every app of every pod peapodd knows (pods that are removed are gone
 * from d->pods): what gc must keep and rm must not take. The strings are
 * the pods'; valid until the pods change. */
static int daemon_image_users(Daemon *d, ImageUser **ret, size_t *ret_n) {
        ImageUser *u;
        size_t n = 0, max = 0;

        for (size_t i = 0; i < d->n_pods; i++)
                max += d->pods[i]->n_apps;
        u = calloc(max ?: 1, sizeof(ImageUser));
        if (!u)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_pods; i++)
                for (size_t k = 0; k < d->pods[i]->n_apps; k++)
                        if (d->pods[i]->apps[k].image_id)
                                u[n++] = (ImageUser) { .image_id = d->pods[i]->apps[k].image_id, .pod = d->pods[i]->name };
        *ret = u;
        *ret_n = n;
        return 0;
}

/* The names of the store now, one "ID NAME" per name (ID: sha256:hex). */
static int image_refs_now(Daemon *d, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        ImageInfo *infos = NULL;
        size_t n = 0;
        Store *s;
        int r;

        r = daemon_image_store(d, &s);
        if (r < 0)
                return r;
        r = image_catalog_list(s, &infos, &n, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                char buf[DIGEST_STRING_MAX];

                for (char **name = infos[i].names; r >= 0 && name && *name; name++) {
                        char *e;

                        r = asprintf(&e, "%s %s", digest_to_string(&infos[i].id, buf), *name) < 0 ? -ENOMEM : 0;
                        if (r >= 0)
                                r = strv_consume(&l, e);
                }
        }
        image_info_free_many(infos, n);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static bool image_refs_have_id(char **refs, const char *id) {
        size_t len = strlen(id);

        for (char **e = refs; e && *e; e++)
                if (strncmp(*e, id, len) == 0 && (*e)[len] == ' ')
                        return true;
        return false;
}

/* Appends an "a(ss)" of (name, id) for the entries of a that b lacks, and
 * adds to *ids (once) each of their ids that b has no name for at all. */
static int append_refs_diff(sd_bus_message *m, char **a, char **b, char ***ids) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ss)");
        for (char **e = a; r >= 0 && e && *e; e++) {
                _cleanup_free_ char *id = NULL;
                const char *sp = strchr(*e, ' ');

                if (!sp || strv_contains(b, *e))
                        continue;
                id = strndup(*e, sp - *e);
                if (!id)
                        return -ENOMEM;
                r = sd_bus_message_append(m, "(ss)", sp + 1, id);
                if (r >= 0 && !image_refs_have_id(b, id) && !strv_contains(*ids, id))
                        r = strv_extend(ids, id);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
}

/* Adds to *ids the id of every entry of a that is not in b, unless the id
 * is in skip or *ids already. */
static int collect_changed_ids(char **a, char **b, char **skip, char ***ids) {
        for (char **e = a; e && *e; e++) {
                const char *sp = strchr(*e, ' ');
                _cleanup_free_ char *id = NULL;

                if (!sp || strv_contains(b, *e))
                        continue;
                id = strndup(*e, sp - *e);
                if (!id)
                        return -ENOMEM;
                if (!strv_contains(skip, id) && !strv_contains(*ids, id) && strv_extend(ids, id) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int image_path_of_id(const char *id, char **ret) {
        const char *hex = startswith(id, "sha256:");

        if (!hex)
                return -EINVAL;
        return asprintf(ret, PEAPOD_IMAGE_PATH_PREFIX "/%s", hex) < 0 ? -ENOMEM : 0;
}

static int images_announce(Daemon *d, char **was, char **now) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_strv_free_ char **added = NULL, **removed = NULL, **touched = NULL;
        int r;

        r = sd_bus_message_new_signal(d->bus, &m, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "ImagesChanged");
        if (r >= 0)
                r = append_refs_diff(m, now, was, &added);
        if (r >= 0)
                r = append_refs_diff(m, was, now, &removed);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, added);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, removed);
        if (r < 0)
                return r;
        r = sd_bus_send(d->bus, m, NULL);
        if (r < 0)
                return r;

        /* The object manager's view: objects for new and gone ids, Names
         * for the images that stay and whose names changed. */
        for (char **i = added; i && *i; i++) {
                _cleanup_free_ char *path = NULL;

                if (image_path_of_id(*i, &path) >= 0)
                        (void) sd_bus_emit_object_added(d->bus, path);
        }
        for (char **i = removed; i && *i; i++) {
                _cleanup_free_ char *path = NULL;

                /* The object is gone from the store: name its interfaces,
                 * as sd_bus_emit_object_removed() cannot find them now. */
                if (image_path_of_id(*i, &path) >= 0)
                        (void) sd_bus_emit_interfaces_removed(d->bus, path, "org.freedesktop.DBus.Peer",
                                                              "org.freedesktop.DBus.Introspectable",
                                                              "org.freedesktop.DBus.Properties", PEAPOD_IMAGE_INTERFACE, NULL);
        }
        r = collect_changed_ids(now, was, added, &touched);
        if (r >= 0)
                r = collect_changed_ids(was, now, removed, &touched);
        if (r < 0)
                return r;
        for (char **i = touched; i && *i; i++) {
                _cleanup_free_ char *path = NULL;

                if (image_path_of_id(*i, &path) >= 0)
                        (void) sd_bus_emit_properties_changed(d->bus, path, PEAPOD_IMAGE_INTERFACE, "Names", NULL);
        }
        return 0;
}

void daemon_images_changed(Daemon *d) {
        _cleanup_strv_free_ char **now = NULL;
        bool same;
        int r;

        r = image_refs_now(d, &now);
        if (r < 0) {
                log_warning_errno(r, "Failed to list images to announce their change: %m");
                return;
        }
        same = strv_length(now) == strv_length(d->image_refs);
        for (char **e = now; same && e && *e; e++)
                same = strv_contains(d->image_refs, *e);
        if (d->image_refs_known && !same) {
                r = images_announce(d, d->image_refs, now);
                if (r < 0)
                        log_warning_errno(r, "Failed to announce changed images: %m");
        }
        strv_free(d->image_refs);
        d->image_refs = TAKE_PTR(now);
        d->image_refs_known = true;
}

typedef struct PullJob {
        char *reference;
        char *images_dir;
        uint64_t flags;
        /* PullImageWithAuth's: in memory only, never logged. */
        PullCredentials creds;
} PullJob;

static void pull_job_free(void *p) {
        PullJob *pj = p;

        if (!pj)
                return;
        free(pj->reference);
        free(pj->images_dir);
        pull_credentials_done(&pj->creds);
        free(pj);
}

/* A store object of the job's own (nothing shared with the main thread).
 * A job that adds images gets the limits that storage.conf sets now (read
 * per job like the trust policy, so an edit needs no restart) and records
 * what it adds, for job_store_undo(). */
static int job_store_open(const char *images_dir, bool adds, Store **ret, char *message, size_t message_size) {
        _cleanup_(store_freep) Store *s = NULL;
        StorageLimits limits = STORAGE_LIMITS_DEFAULT;
        PeapodError e = {};
        int r;

        if (adds) {
                r = storage_conf_load(NULL, &limits, &e);
                if (r < 0) {
                        snprintf(message, message_size, "%s", e.message[0] ? e.message : strerror(-r));
                        return r;
                }
        }
        r = store_open(images_dir, &s);
        if (r < 0) {
                snprintf(message, message_size, "Failed to open the image store: %s", strerror(-r));
                return r;
        }
        store_set_limits(s, &limits);
        if (adds)
                store_track_added(s);
        *ret = TAKE_PTR(s);
        return 0;
}

/* A refused image leaves the store as it was: the blobs and layer trees
 * this job added go again, unless a ref reaches them (another job named
 * them meanwhile) or another job is writing (then gc takes them later). */
static void job_store_undo(Store *s) {
        StoreGcStats st = {};
        int r;

        r = store_remove_added(s, &st);
        if (r < 0)
                log_debug_errno(r, "Left what the failed job added to the image store for gc: %m");
        else if (st.blobs_removed + st.layers_removed > 0)
                log_debug("Removed %" PRIu64 " blob(s) and %" PRIu64 " layer tree(s) of the failed job.", st.blobs_removed,
                          st.layers_removed);
}

/* Pulls keep the verified blobs of a failed pull for the next attempt
 * (gc collects them otherwise), but not those of an image that is over the
 * storage.conf limits: that one never fits. */
static bool pull_error_is_limit(int r) {
        return r == -EFBIG || r == -E2BIG || r == -ENOSPC;
}

/* Called by the pull in the worker thread: copy what it says into the
 * job's progress; a non-zero return cancels the pull. */
static int pull_progress(const PullProgress *p, void *userdata) {
        Job *j = userdata;
        JobProgress jp = {};

        snprintf(jp.phase, sizeof(jp.phase), "%s", pull_phase_to_string(p->phase));
        jp.done = p->done;
        jp.total = p->total;
        for (size_t i = 0; i < p->n_layers && i < JOB_ITEMS_MAX; i++) {
                char buf[DIGEST_STRING_MAX];

                snprintf(jp.items[i].name, sizeof(jp.items[i].name), "%s", digest_to_string(&p->layers[i].digest, buf));
                jp.items[i].done = p->layers[i].done;
                jp.items[i].total = p->layers[i].total;
                jp.n_items++;
        }
        return job_report_progress(j, &jp) < 0 ? 1 : 0;
}

static int pull_work(Job *j, void *userdata, char **ret_result, char *message, size_t message_size) {
        _cleanup_(store_freep) Store *s = NULL;
        PullJob *pj = userdata;
        PullOptions o = {
                .verify = (pj->flags & PEAPOD_IMAGE_INSECURE_SKIP_VERIFY) ? NULL : daemon_image_verify,
                .username = pj->creds.username,
                .password = pj->creds.password,
                .registry_token = pj->creds.registry_token,
                .identity_token = pj->creds.identity_token,
        };
        PeapodError e = {};
        int r;

        r = job_store_open(pj->images_dir, /* adds= */ true, &s, message, message_size);
        if (r < 0)
                return r;
        r = image_pull(s, pj->reference, &o, pull_progress, j, ret_result, &e);
        if (r < 0) {
                snprintf(message, message_size, "%s", e.message[0] ? e.message : strerror(-r));
                if (pull_error_is_limit(r))
                        job_store_undo(s);
        }
        return r;
}

static void pull_done(Daemon *d, Job *j, int r, const char *result, void *userdata) {
        /* New names may now point at a new image object. */
        if (r >= 0)
                daemon_images_changed(d);
}

/* Starts a job pulling reference with creds (taken: they go with the job),
 * checked against the trust policy unless flags skip it. */
int daemon_pull_image(Daemon *d, const char *reference, PullCredentials *creds, uint64_t flags, Job **ret,
                             PeapodError *err) {
        PullJob *pj;
        int r;

        if (isempty(reference) || strlen(reference) > 1024)
                return peapod_error_set(err, -EINVAL, "Invalid image reference");
        pj = calloc(1, sizeof(*pj));
        if (!pj)
                return -ENOMEM;
        if (flags & PEAPOD_IMAGE_INSECURE_SKIP_VERIFY)
                log_warning("Pulling %s without checking its signature, as the caller asked (--insecure-options=image).",
                            reference);
        pj->creds = *creds;
        *creds = (PullCredentials) {};
        pj->reference = strdup(reference);
        pj->flags = flags;
        pj->images_dir = strdup(d->images_dir);
        if (!pj->reference || !pj->images_dir) {
                pull_job_free(pj);
                return -ENOMEM;
        }
        r = job_start(d, "pull", reference, pull_work, pull_done, pj, pull_job_free, ret);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to start the pull of %s: %s", reference, strerror(-r));
        return 0;
}

/* The store's gc off the loop (daemon-work.c): it takes gc.lock
 * exclusively, so it waits for every pull and import in flight (they hold
 * it shared), and it walks and deletes whole layer trees. It gets a store
 * of its own (as a pull's thread does) and a copy of what pods use, taken
 * after the names went: an image that a pod created later uses is named,
 * and a name keeps it. */
typedef struct GcWork {
        sd_bus_message *call;
        char *images_dir;
        ImageUser *users;
        size_t n_users;
        bool prune; /* PruneImages: answers the bytes freed */
        StoreGcStats stats;
        PeapodError err;
} GcWork;

static GcWork *gc_work_free(GcWork *g) {
        if (!g)
                return NULL;
        sd_bus_message_unref(g->call);
        free(g->images_dir);
        for (size_t i = 0; i < g->n_users; i++) {
                free((char *) g->users[i].image_id);
                free((char *) g->users[i].pod);
        }
        free(g->users);
        return mfree(g);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(GcWork *, gc_work_free);

/* RemoveImage and TagImage change index.json, under index.lock (and
 * TagImage pins the store: gc.lock shared), which a gc holds exclusively
 * until it is done: while one of ours runs, they wait here rather than on
 * the loop, and are dispatched again once it has ended. */
int daemon_image_wait_for_gc(Daemon *d, sd_bus_message *m) {
        sd_bus_message **l;

        l = reallocarray(d->image_waiting, d->n_image_waiting + 1, sizeof(sd_bus_message *));
        if (!l)
                return -ENOMEM;
        d->image_waiting = l;
        d->image_waiting[d->n_image_waiting++] = sd_bus_message_ref(m);
        return 1;
}

static void daemon_image_gc_ended(Daemon *d) {
        if (d->n_image_gcs > 0 && --d->n_image_gcs > 0)
                return;
        /* In arrival order; one that starts a gc again makes the rest wait again. */
        for (size_t i = 0; i < d->n_image_waiting; i++) {
                sd_bus_message *m = d->image_waiting[i];
                int r;

                r = sd_bus_message_rewind(m, true);
                if (r >= 0)
                        r = sd_bus_enqueue_for_read(d->bus, m);
                if (r < 0)
                        (void) sd_bus_reply_method_errnof(m, r, "Failed to dispatch the call again: %m");
                sd_bus_message_unref(m);
        }
        d->image_waiting = mfree(d->image_waiting);
        d->n_image_waiting = 0;
}

void daemon_image_waiting_free(Daemon *d) {
        for (size_t i = 0; i < d->n_image_waiting; i++)
                sd_bus_message_unref(d->image_waiting[i]);
        d->image_waiting = mfree(d->image_waiting);
        d->n_image_waiting = 0;
}

static int gc_work_run(void *userdata) {
        _cleanup_(store_freep) Store *s = NULL;
        GcWork *g = userdata;
        int r;

        r = store_open(g->images_dir, &s);
        if (r < 0)
                return peapod_error_set(&g->err, r, "Failed to open the image store %s: %s", g->images_dir, strerror(-r));
        return image_catalog_gc(s, g->users, g->n_users, &g->stats, &g->err);
}

static void gc_work_done(Daemon *d, int r, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(gc_work_freep) GcWork *g = userdata;
        const StoreGcStats *st = &g->stats;

        daemon_image_gc_ended(d);
        if (r < 0) {
                log_warning_errno(r, "Image gc failed: %s", g->err.message[0] ? g->err.message : strerror(-r));
                (void) bus_error_from_errno(&error, BUS_ERROR_SCOPE_IMAGE, r, g->err.message,
                                            "Failed to collect unused images");
                (void) sd_bus_reply_method_error(g->call, &error);
                return;
        }
        log_info("Image gc: %" PRIu64 " blobs, %" PRIu64 " layer trees, %" PRIu64 " temp files, %" PRIu64 " bytes freed.",
                 st->blobs_removed, st->layers_removed, st->temp_removed, st->bytes_freed);
        if (g->prune)
                (void) sd_bus_reply_method_return(g->call, "t", st->bytes_freed);
        else
                (void) sd_bus_reply_method_return(g->call, NULL);
}

/* Starts the gc for call, which is answered when it is done. */
int daemon_image_gc(Daemon *d, sd_bus_message *call, bool prune) {
        _cleanup_(gc_work_freep) GcWork *g = NULL;
        _cleanup_free_ ImageUser *users = NULL;
        size_t n_users;
        int r;

        r = daemon_image_users(d, &users, &n_users);
        if (r < 0)
                return r;
        g = calloc(1, sizeof(GcWork));
        if (!g)
                return -ENOMEM;
        g->call = sd_bus_message_ref(call);
        g->prune = prune;
        g->images_dir = strdup(d->images_dir);
        g->users = calloc(n_users ?: 1, sizeof(ImageUser));
        if (!g->images_dir || !g->users)
                return -ENOMEM;
        for (size_t i = 0; i < n_users; i++) {
                ImageUser *u = &g->users[g->n_users++];

                u->image_id = strdup(users[i].image_id);
                u->pod = users[i].pod ? strdup(users[i].pod) : NULL;
                if (!u->image_id || (users[i].pod && !u->pod))
                        return -ENOMEM;
        }
        r = daemon_work(d, gc_work_run, gc_work_done, g);
        if (r < 0)
                return r;
        TAKE_PTR(g);
        d->n_image_gcs++;
        return 0;
}

/* Removes the name key (or, given an id, every name of that image) and,
 * once no name is left, the image: 0 when done; 1 when the image's blobs
 * and layers go in a gc that answers call when it is done. An image a pod
 * uses keeps its last name unless force. */
int daemon_image_remove(Daemon *d, const char *key, bool force, sd_bus_message *call, PeapodError *err) {
        _cleanup_strv_free_ char **removed = NULL;
        _cleanup_free_ ImageUser *users = NULL;
        bool collect = false;
        size_t n_users;
        Store *s;
        int r;

        r = daemon_image_store(d, &s);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to open the image store %s: %s", d->images_dir, strerror(-r));
        r = daemon_image_users(d, &users, &n_users);
        if (r < 0)
                return r;
        /* The names go at once (one small file); the gc is the slow part. */
        r = image_catalog_untag(s, key, users, n_users, force, &removed, &collect, err);
        if (removed)
                daemon_images_changed(d);
        if (r < 0)
                return r;
        FOREACH_STRV(name, removed)
                log_info("Removed image name %s.", name);
        if (!collect)
                return 0;
        r = daemon_image_gc(d, call, false);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to collect image %s: %s", key, strerror(-r));
        return 1;
}

/* Gives the image key the name reference. */
int daemon_image_tag(Daemon *d, const char *key, const char *reference, PeapodError *err) {
        _cleanup_free_ char *name = NULL;
        Store *s;
        int r;

        if (isempty(reference) || strlen(reference) > STORE_REF_MAX)
                return peapod_error_set(err, -EINVAL, "Invalid image reference");
        r = daemon_image_store(d, &s);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to open the image store %s: %s", d->images_dir, strerror(-r));
        r = image_catalog_tag(s, key, reference, &name, err);
        if (r < 0)
                return r;
        log_info("Tagged image %s as %s.", key, name);
        daemon_images_changed(d);
        return 0;
}

/* Imports and exports: the caller's fd (owned by the message, so dup'ed
 * for the thread) is read or written by the worker thread. */
typedef struct ArchiveJob {
        char *images_dir;
        char *image;       /* export: what to write; import: the name to give, NULL = the archive's */
        int fd;
        ImageArchiveFormat format;
        uint64_t flags;
        void *signature;        /* import: an ACI's detached signature, or NULL */
        size_t signature_size;
        /* Where the archive starts in fd, when it is a regular file (a
         * pipe's byte count is not known): the sizes the job reports. */
        bool seekable;
        uint64_t start;
} ArchiveJob;

static void archive_job_free(void *p) {
        ArchiveJob *aj = p;

        if (!aj)
                return;
        free(aj->images_dir);
        free(aj->image);
        free(aj->signature);
        safe_close(aj->fd);
        free(aj);
}

static int archive_job_new(Daemon *d, int fd, const char *image, ArchiveJob **ret) {
        ArchiveJob *aj;

        aj = calloc(1, sizeof(*aj));
        if (!aj)
                return -ENOMEM;
        aj->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (aj->fd < 0) {
                int r = -errno;
                free(aj);
                return r;
        }
        {
                struct stat st;
                off_t o = lseek(aj->fd, 0, SEEK_CUR);

                aj->seekable = o >= 0 && fstat(aj->fd, &st) >= 0 && S_ISREG(st.st_mode);
                aj->start = aj->seekable ? (uint64_t) o : 0;
        }
        aj->images_dir = strdup(d->images_dir);
        aj->image = isempty(image) ? NULL : strdup(image);
        if (!aj->images_dir || (!isempty(image) && !aj->image)) {
                archive_job_free(aj);
                return -ENOMEM;
        }
        *ret = aj;
        return 0;
}

/* The archive's bytes so far: for an import the file's size from where
 * it starts (what is read), for an export what was written (the position
 * in the file). 0 when the fd is no regular file. */
static uint64_t archive_job_bytes(const ArchiveJob *aj, bool import) {
        struct stat st;
        off_t o;

        if (!aj->seekable || aj->fd < 0)
                return 0;
        if (import) {
                if (fstat(aj->fd, &st) < 0 || (uint64_t) st.st_size < aj->start)
                        return 0;
                return (uint64_t) st.st_size - aj->start;
        }
        o = lseek(aj->fd, 0, SEEK_CUR);
        return o >= 0 && (uint64_t) o >= aj->start ? (uint64_t) o - aj->start : 0;
}

static void archive_job_phase(Job *j, const char *phase, uint64_t done, uint64_t total) {
        JobProgress jp = { .done = done, .total = total };

        snprintf(jp.phase, sizeof(jp.phase), "%s", phase);
        (void) job_report_progress(j, &jp);
}

static int import_work(Job *j, void *userdata, char **ret_result, char *message, size_t message_size) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_strv_free_ char **ids = NULL;
        ArchiveJob *aj = userdata;
        PeapodError e = {};
        uint64_t size;
        int r;

        r = job_store_open(aj->images_dir, /* adds= */ true, &s, message, message_size);
        if (r < 0)
                return r;
        size = archive_job_bytes(aj, true);
        archive_job_phase(j, "importing", 0, size);
        /* rkt's ACIs carry a detached signature of the whole file; other
         * archives are checked per name against their lookaside. */
        r = aci_detect(aj->fd, NULL, &e);
        if (r > 0) {
                _cleanup_free_ char *id = NULL;

                r = aci_import(s, aj->fd, aj->image, aj->signature, aj->signature_size,
                               (aj->flags & PEAPOD_IMAGE_INSECURE_SKIP_VERIFY) ? NULL : daemon_aci_verify, NULL, &id, NULL, &e);
                if (r < 0) {
                        snprintf(message, message_size, "%s", e.message[0] ? e.message : strerror(-r));
                        job_store_undo(s);
                        return r;
                }
                archive_job_phase(j, "done", size, size);
                *ret_result = TAKE_PTR(id);
                return 0;
        }
        if (r < 0) {
                snprintf(message, message_size, "%s", e.message[0] ? e.message : strerror(-r));
                return r;
        }
        if (aj->signature) {
                snprintf(message, message_size, "A detached signature is for ACI images only; this is not one");
                return -EINVAL;
        }
        r = image_import_archive_verified(s, aj->fd, aj->image,
                                          (aj->flags & PEAPOD_IMAGE_INSECURE_SKIP_VERIFY) ? NULL : daemon_image_verify, NULL,
                                          &ids, NULL, &e);
        if (r < 0) {
                snprintf(message, message_size, "%s", e.message[0] ? e.message : strerror(-r));
                job_store_undo(s);
                return r;
        }
        archive_job_phase(j, "done", size, size);
        *ret_result = strv_join(ids, " ");
        return *ret_result ? 0 : -ENOMEM;
}

static int export_work(Job *j, void *userdata, char **ret_result, char *message, size_t message_size) {
        _cleanup_(store_freep) Store *s = NULL;
        ArchiveJob *aj = userdata;
        PeapodError e = {};
        uint64_t size;
        int r;

        r = job_store_open(aj->images_dir, /* adds= */ false, &s, message, message_size);
        if (r < 0)
                return r;
        archive_job_phase(j, "exporting", 0, 0);
        r = image_export_archive(s, aj->image, aj->fd, aj->format, &e);
        if (r < 0) {
                snprintf(message, message_size, "%s", e.message[0] ? e.message : strerror(-r));
                return r;
        }
        size = archive_job_bytes(aj, false);
        /* The reader sees the end of the archive now, not when the job
         * object goes. */
        aj->fd = safe_close(aj->fd);
        archive_job_phase(j, "done", size, size);
        return 0;
}

static void import_done(Daemon *d, Job *j, int r, const char *result, void *userdata) {
        if (r >= 0)
                daemon_images_changed(d);
}

/* Starts a job importing the archive in fd (the caller's: dup'ed) as
 * reference (NULL or "": the names in the archive), checked against the
 * trust policy unless flags skip it, and with sig (an ACI's detached
 * signature) if sig_size > 0. */
int daemon_import_image(Daemon *d, int fd, const char *reference, const void *sig, size_t sig_size,
                               uint64_t flags, Job **ret, PeapodError *err) {
        _cleanup_free_ char *name = NULL;
        ArchiveJob *aj;
        int r;

        if (sig_size > GPG_SIGNATURE_SIZE_MAX)
                return peapod_error_set(err, -EINVAL, "Signature too large");
        if (flags & PEAPOD_IMAGE_INSECURE_SKIP_VERIFY)
                log_warning("Importing %s without checking signatures, as the caller asked (--insecure-options=image).",
                            isempty(reference) ? "an archive" : reference);
        if (!isempty(reference)) {
                r = image_name_normalize(reference, &name, err);
                if (r < 0)
                        return r;
        }
        r = archive_job_new(d, fd, name, &aj);
        if (r < 0)
                return r;
        aj->flags = flags;
        if (sig_size > 0) {
                aj->signature = malloc(sig_size);
                if (!aj->signature) {
                        archive_job_free(aj);
                        return -ENOMEM;
                }
                memcpy(aj->signature, sig, sig_size);
                aj->signature_size = sig_size;
        }
        r = job_start(d, "import", name ?: "archive", import_work, import_done, aj, archive_job_free, ret);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to start the import: %s", strerror(-r));
        return 0;
}

/* Starts a job writing image to fd (the caller's: dup'ed) as an archive
 * of format. */
int daemon_export_image(Daemon *d, const char *image, int fd, ImageArchiveFormat format, Job **ret,
                               PeapodError *err) {
        ArchiveJob *aj;
        int r;

        if (isempty(image) || strlen(image) > STORE_REF_MAX)
                return peapod_error_set(err, -EINVAL, "Invalid image reference");
        r = archive_job_new(d, fd, image, &aj);
        if (r < 0)
                return r;
        aj->format = format;
        r = job_start(d, "export", image, export_work, NULL, aj, archive_job_free, ret);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to start the export of %s: %s", image, strerror(-r));
        return 0;
}
