/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "daemon-job.h"
#include "daemon.h"
#include "image-catalog.h"
#include "image-pull.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

#define PEAPOD_IMAGE_PATH_PREFIX "/org/peapod1/image"
#define BUS_ERROR_NO_SUCH_IMAGE "org.peapod1.Error.NoSuchImage"
#define BUS_ERROR_IMAGE_IN_USE "org.peapod1.Error.ImageInUse"
#define REMOVE_IMAGE_FORCE UINT64_C(1)

static int image_object_path(const ImageInfo *i, char **ret) {
        return asprintf(ret, PEAPOD_IMAGE_PATH_PREFIX "/%s", i->id.hex) < 0 ? -ENOMEM : 0;
}

static int daemon_store(Daemon *d, Store **ret, sd_bus_error *error) {
        int r;

        if (!d->store) {
                r = store_open(d->images_dir, &d->store);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to open the image store %s: %m", d->images_dir);
        }
        *ret = d->store;
        return 0;
}

static int bus_find_image(Daemon *d, const char *key, ImageInfo *ret, sd_bus_error *error) {
        PeapodError e = {};
        Store *s;
        int r;

        r = daemon_store(d, &s, error);
        if (r < 0)
                return r;
        r = image_catalog_find(s, key, ret, &e);
        if (r == -ENOENT)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "Image not found: %s", key);
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_IMAGE, "Image id prefix '%s' is ambiguous", key);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to look up image %s: %s", key, e.message[0] ? e.message : strerror(-r));
        return 0;
}

/* Image objects are looked up in the store on every access: the store is
 * the truth, and images are few. */
typedef struct ImageObject {
        ImageInfo info;
} ImageObject;

int image_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                      sd_bus_error *error) {
        Daemon *d = userdata;
        const char *hex = startswith(path, PEAPOD_IMAGE_PATH_PREFIX "/");
        _cleanup_free_ char *key = NULL;

        if (!hex || strlen(hex) != 64)
                return 0;
        if (asprintf(&key, "sha256:%s", hex) < 0)
                return -ENOMEM;
        image_info_done(&d->image_cache);
        if (bus_find_image(d, key, &d->image_cache, NULL) < 0)
                return 0;
        *found = &d->image_cache;
        return 1;
}

int image_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_strv_free_ char **l = NULL;
        ImageInfo *infos = NULL;
        size_t n = 0;
        Store *s;
        int r;

        r = daemon_store(d, &s, error);
        if (r < 0)
                return r;
        r = image_catalog_list(s, &infos, &n, NULL);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n && r >= 0; i++) {
                char *p;
                r = image_object_path(&infos[i], &p);
                if (r >= 0)
                        r = strv_consume(&l, p);
        }
        image_info_free_many(infos, n);
        if (r < 0)
                return r;
        *nodes = TAKE_PTR(l) ?: calloc(1, sizeof(char *));
        return *nodes ? 0 : -ENOMEM;
}

static int property_get_image(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        ImageInfo *i = userdata;
        char buf[DIGEST_STRING_MAX];

        if (streq(property, "Id"))
                return sd_bus_message_append(reply, "s", digest_to_string(&i->id, buf));
        if (streq(property, "Digest"))
                return sd_bus_message_append(reply, "s", digest_to_string(&i->manifest, buf));
        if (streq(property, "Size"))
                return sd_bus_message_append(reply, "t", i->size);
        if (streq(property, "Created"))
                return sd_bus_message_append(reply, "s", strempty(i->config->created));
        if (streq(property, "WorkingDirectory"))
                return sd_bus_message_append(reply, "s", strempty(i->config->working_dir));
        if (streq(property, "User"))
                return sd_bus_message_append(reply, "s", strempty(i->config->user));
        if (streq(property, "Names"))
                return sd_bus_message_append_strv(reply, i->names);
        if (streq(property, "Entrypoint"))
                return sd_bus_message_append_strv(reply, i->config->entrypoint);
        if (streq(property, "Cmd"))
                return sd_bus_message_append_strv(reply, i->config->cmd);
        if (streq(property, "Environment"))
                return sd_bus_message_append_strv(reply, i->config->env);
        if (streq(property, "Layers")) {
                int r = sd_bus_message_open_container(reply, 'a', "s");
                for (size_t k = 0; r >= 0 && k < i->config->n_diff_ids; k++)
                        r = sd_bus_message_append(reply, "s", digest_to_string(&i->config->diff_ids[k], buf));
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        if (streq(property, "Labels")) {
                int r = sd_bus_message_open_container(reply, 'a', "{ss}");
                for (char **l = i->config->labels; r >= 0 && l && l[0] && l[1]; l += 2)
                        r = sd_bus_message_append(reply, "{ss}", l[0], l[1]);
                return r < 0 ? r : sd_bus_message_close_container(reply);
        }
        return -EINVAL;
}

/* An image object is its config: everything is constant but the names,
 * which change with pulls and tags (announced by Manager.ImagesChanged). */
const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Digest", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Names", "as", property_get_image, 0, 0),
        SD_BUS_PROPERTY("Size", "t", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Created", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Layers", "as", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Entrypoint", "as", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Cmd", "as", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Environment", "as", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("WorkingDirectory", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("User", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Labels", "a{ss}", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_VTABLE_END,
};

int bus_method_list_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        ImageInfo *infos = NULL;
        PeapodError e = {};
        size_t n = 0;
        Store *s;
        int r;

        r = daemon_store(d, &s, error);
        if (r < 0)
                return r;
        r = image_catalog_list(s, &infos, &n, &e);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to list images: %s", e.message[0] ? e.message : strerror(-r));
        r = sd_bus_message_new_method_return(m, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(sastso)");
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *path = NULL;
                char buf[DIGEST_STRING_MAX];

                r = image_object_path(&infos[i], &path);
                if (r >= 0)
                        r = sd_bus_message_open_container(reply, 'r', "sastso");
                if (r >= 0)
                        r = sd_bus_message_append(reply, "s", digest_to_string(&infos[i].id, buf));
                if (r >= 0)
                        r = sd_bus_message_append_strv(reply, infos[i].names);
                if (r >= 0)
                        r = sd_bus_message_append(reply, "tso", infos[i].size, strempty(infos[i].config->created), path);
                if (r >= 0)
                        r = sd_bus_message_close_container(reply);
        }
        image_info_free_many(infos, n);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

int bus_method_get_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL;
        ImageInfo info = {};
        const char *key;
        int r;

        r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
                return r;
        r = bus_find_image(userdata, key, &info, error);
        if (r < 0)
                return r;
        r = image_object_path(&info, &path);
        image_info_done(&info);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "o", path);
}

typedef struct PullJob {
        char *reference;
        char *images_dir;
        uint64_t flags;
} PullJob;

static void pull_job_free(void *p) {
        PullJob *pj = p;

        if (!pj)
                return;
        free(pj->reference);
        free(pj->images_dir);
        free(pj);
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
        PullOptions o = {};
        PeapodError e = {};
        int r;

        /* A store object of its own: nothing is shared with the main thread. */
        r = store_open(pj->images_dir, &s);
        if (r < 0) {
                snprintf(message, message_size, "Failed to open the image store: %s", strerror(-r));
                return r;
        }
        r = image_pull(s, pj->reference, &o, pull_progress, j, ret_result, &e);
        if (r < 0)
                snprintf(message, message_size, "%s", e.message[0] ? e.message : strerror(-r));
        return r;
}

static void pull_done(Daemon *d, Job *j, int r, const char *result, void *userdata) {
        /* New names may now point at a new image object. */
        if (r >= 0)
                (void) sd_bus_emit_signal(d->bus, PEAPOD_ROOT_PATH, "org.peapod1.Manager", "ImagesChanged", NULL);
}

int bus_method_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        PullJob *pj;
        const char *ref;
        uint64_t flags;
        Job *j;
        int r;

        r = bus_check_privileged(m, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "st", &ref, &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        if (isempty(ref) || strlen(ref) > 1024)
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid image reference");
        pj = calloc(1, sizeof(*pj));
        if (!pj)
                return -ENOMEM;
        pj->reference = strdup(ref);
        pj->images_dir = strdup(d->images_dir);
        if (!pj->reference || !pj->images_dir) {
                pull_job_free(pj);
                return -ENOMEM;
        }
        r = job_start(d, "pull", ref, pull_work, pull_done, pj, pull_job_free, &j);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to start the pull of %s: %m", ref);
        return sd_bus_reply_method_return(m, "o", j->path);
}
