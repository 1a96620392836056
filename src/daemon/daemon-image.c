/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* org.peapod1.Image objects and the image methods of the Manager: each
 * handler reads, authorizes, calls one function of daemon-image-core.c and
 * maps its -errno. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "daemon-image.h"
#include "image-archive.h"
#include "image-catalog.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

static int image_object_path(const ImageInfo *i, char **ret) {
        return asprintf(ret, PEAPOD_IMAGE_PATH_PREFIX "/%s", i->id.hex) < 0 ? -ENOMEM : 0;
}

static int daemon_store(Daemon *d, Store **ret, sd_bus_error *error) {
        int r;

        r = daemon_image_store(d, ret);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to open the image store %s: %m", d->images_dir);
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
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_IMAGE, r, e.message, "Failed to look up image %s", key);
        return 0;
}

/* Image objects are looked up in the store on every access: the store is
 * the truth, and images are few. */
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
 * which change with pulls, tags and removals (PropertiesChanged and
 * Manager.ImagesChanged, daemon_images_changed()). */
const sd_bus_vtable image_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Digest", "s", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Names", "as", property_get_image, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
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

static int pull_image(sd_bus_message *m, Daemon *d, bool with_auth, sd_bus_error *error) {
        _cleanup_(pull_credentials_done) PullCredentials creds = {};
        PeapodError e = {};
        const char *ref;
        uint64_t flags;
        Job *j;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_IMAGES, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "s", &ref);
        if (r < 0)
                return r;
        if (with_auth) {
                r = bus_read_pull_credentials(m, &creds, error);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_IMAGE_INSECURE_SKIP_VERIFY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = daemon_pull_image(d, ref, &creds, flags, &j, &e);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_IMAGE, r, e.message, "Failed to pull %s", ref);
        return sd_bus_reply_method_return(m, "o", j->path);
}

int bus_method_pull_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return pull_image(m, userdata, /* with_auth= */ false, error);
}

/* PullImage with credentials for this one pull (the CRI's AuthConfig),
 * which are never written to disk, as a login's are. */
int bus_method_pull_image_with_auth(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return pull_image(m, userdata, /* with_auth= */ true, error);
}

int bus_method_remove_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        PeapodError e = {};
        const char *key;
        uint64_t flags;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_IMAGES, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        if (d->n_image_gcs > 0)
                return daemon_image_wait_for_gc(d, m);
        r = sd_bus_message_read(m, "st", &key, &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_REMOVE_IMAGE_FORCE)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = daemon_image_remove(d, key, flags & PEAPOD_REMOVE_IMAGE_FORCE, m, &e);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_IMAGE, r, e.message, "Failed to remove image %s", key);
        if (r == 0)
                return sd_bus_reply_method_return(m, NULL);
        return 1; /* answered once the image's blobs and layers are gone */
}

int bus_method_tag_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        PeapodError e = {};
        const char *key, *ref;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_IMAGES, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        if (d->n_image_gcs > 0)
                return daemon_image_wait_for_gc(d, m);
        r = sd_bus_message_read(m, "ss", &key, &ref);
        if (r < 0)
                return r;
        r = daemon_image_tag(d, key, ref, &e);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_IMAGE, r, e.message, "Failed to tag image %s", key);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_method_prune_images(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        uint64_t flags;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_IMAGES, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        /* Answered with the bytes freed once the gc is done. */
        r = daemon_image_gc(d, m, true);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to collect unused images: %m");
        return 1;
}

/* ImportImage's and ImportImageWithSignature's (h fd, [ay signature,] s
 * reference, t flags). */
static int import_image(sd_bus_message *m, Daemon *d, bool with_signature, sd_bus_error *error) {
        const void *sig = NULL;
        size_t sig_size = 0;
        PeapodError e = {};
        const char *ref;
        uint64_t flags;
        Job *j;
        int fd, r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_IMAGES, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "h", &fd);
        if (r >= 0 && with_signature)
                r = sd_bus_message_read_array(m, 'y', &sig, &sig_size);
        if (r >= 0)
                r = sd_bus_message_read(m, "st", &ref, &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_IMAGE_INSECURE_SKIP_VERIFY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        r = daemon_import_image(d, fd, ref, sig, sig_size, flags, &j, &e);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_IMAGE, r, e.message, "Failed to import %s",
                                            isempty(ref) ? "the archive" : ref);
        return sd_bus_reply_method_return(m, "o", j->path);
}

int bus_method_import_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return import_image(m, userdata, /* with_signature= */ false, error);
}

int bus_method_import_image_with_signature(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        return import_image(m, userdata, /* with_signature= */ true, error);
}

int bus_method_export_image(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        PeapodError e = {};
        const char *image, *format;
        ImageArchiveFormat f;
        uint64_t flags;
        Job *j;
        int fd, r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_IMAGES, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "shst", &image, &fd, &format, &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        f = image_archive_format_from_string(format);
        if (f < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown archive format '%s'", format);
        r = daemon_export_image(d, image, fd, f, &j, &e);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_IMAGE, r, e.message, "Failed to export %s", image);
        return sd_bus_reply_method_return(m, "o", j->path);
}
