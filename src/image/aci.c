/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aci.h"
#include "image-catalog.h"
#include "image-pull.h"
#include "json-util.h"
#include "manifest.h"
#include "reference.h"
#include "string-util.h"
#include "strv.h"

AciManifest *aci_manifest_free(AciManifest *m) {
        if (!m)
                return NULL;
        free(m->name);
        free(m->version);
        free(m->os);
        free(m->arch);
        strv_free(m->exec);
        free(m->user);
        free(m->group);
        strv_free(m->env);
        free(m->working_dir);
        free(m);
        return NULL;
}

static int dup_string(json_object *o, const char *key, size_t max, char **ret) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v))
                return 0;
        if (!json_object_is_type(v, json_type_string) || strlen(json_object_get_string(v)) > max)
                return -EBADMSG;
        *ret = strdup(json_object_get_string(v));
        return *ret ? 0 : -ENOMEM;
}

/* The labels peapod uses: version, os and arch. */
static int aci_labels_parse(json_object *labels, AciManifest *m, PeapodError *e) {
        size_t n;

        if (!json_object_is_type(labels, json_type_array))
                return peapod_error_set(e, -EBADMSG, "ACI manifest: \"labels\" is not a list");
        n = json_object_array_length(labels);
        if (n > 256)
                return peapod_error_set(e, -E2BIG, "ACI manifest: too many labels");
        for (size_t i = 0; i < n; i++) {
                json_object *l = json_object_array_get_idx(labels, i);
                const char *name, *value;
                char **dst;

                if (!json_object_is_type(l, json_type_object) || json_get_string(l, "name", &name) < 0 ||
                    json_get_string(l, "value", &value) < 0)
                        return peapod_error_set(e, -EBADMSG, "ACI manifest: label %zu is not {name, value}", i);
                dst = streq(name, "version") ? &m->version : streq(name, "os") ? &m->os : streq(name, "arch") ? &m->arch : NULL;
                if (!dst)
                        continue;
                if (strlen(value) > IMAGE_TAG_MAX)
                        return peapod_error_set(e, -EBADMSG, "ACI manifest: label %s is too long", name);
                free(*dst);
                *dst = strdup(value);
                if (!*dst)
                        return -ENOMEM;
        }
        return 0;
}

/* app.environment: a list of {name, value}, as K=V entries. */
static int aci_env_parse(json_object *v, AciManifest *m, PeapodError *e) {
        size_t n;
        int r;

        if (!json_object_is_type(v, json_type_array) || (n = json_object_array_length(v)) > ACI_ENV_MAX)
                return peapod_error_set(e, -EBADMSG, "ACI manifest: app.environment is not a list");
        for (size_t i = 0; i < n; i++) {
                json_object *x = json_object_array_get_idx(v, i);
                const char *name, *value;
                char *kv;

                if (!json_object_is_type(x, json_type_object) || json_get_string(x, "name", &name) < 0 ||
                    json_get_string(x, "value", &value) < 0 || !name[0] || strchr(name, '='))
                        return peapod_error_set(e, -EBADMSG, "ACI manifest: app.environment[%zu] is not {name, value}", i);
                if (asprintf(&kv, "%s=%s", name, value) < 0)
                        return -ENOMEM;
                r = strv_consume(&m->env, kv);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The app: exec, user, group, working directory and environment. */
static int aci_app_parse(json_object *app, AciManifest *m, PeapodError *e) {
        json_object *v;
        int r;

        if (!json_object_is_type(app, json_type_object))
                return peapod_error_set(e, -EBADMSG, "ACI manifest: \"app\" is not an object");
        if (json_object_object_get_ex(app, "exec", &v)) {
                r = json_get_strv(app, "exec", &m->exec);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || strv_length(m->exec) > ACI_EXEC_MAX)
                        return peapod_error_set(e, -EBADMSG, "ACI manifest: app.exec is not a list of strings");
        }
        if (dup_string(app, "user", 256, &m->user) < 0 || dup_string(app, "group", 256, &m->group) < 0 ||
            dup_string(app, "workingDirectory", 4096, &m->working_dir) < 0)
                return peapod_error_set(e, -EBADMSG, "ACI manifest: app.user, app.group or app.workingDirectory is not a string");
        if ((m->user && (!m->user[0] || strchr(m->user, ':'))) || (m->group && (!m->group[0] || strchr(m->group, ':'))))
                return peapod_error_set(e, -EBADMSG, "ACI manifest: invalid app.user or app.group");
        if (m->working_dir && m->working_dir[0] != '/')
                return peapod_error_set(e, -EBADMSG, "ACI manifest: app.workingDirectory is not absolute");
        if (json_object_object_get_ex(app, "environment", &v))
                return aci_env_parse(v, m, e);
        return 0;
}

int aci_manifest_parse(const void *data, size_t size, AciManifest **ret, PeapodError *e) {
        _cleanup_(aci_manifest_freep) AciManifest *m = NULL;
        _cleanup_json_ json_object *root = NULL;
        json_object *labels, *app;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        JsonParseError pe;
        const char *kind;
        int r;

        r = json_parse_untrusted(data, size, ACI_MANIFEST_SIZE_MAX, ACI_MANIFEST_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG)
                return peapod_error_set(e, r, "ACI manifest larger than %d bytes", ACI_MANIFEST_SIZE_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(e, r, "ACI manifest is not a JSON object (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_object))
                return peapod_error_set(e, -EBADMSG, "ACI manifest is not a JSON object");
        if (json_get_string(root, "acKind", &kind) < 0 || !streq(kind, "ImageManifest"))
                return peapod_error_set(e, -EBADMSG, "ACI manifest: acKind is not \"ImageManifest\"");
        m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        r = dup_string(root, "name", IMAGE_NAME_MAX, &m->name);
        if (r < 0 || !m->name)
                return r == -ENOMEM ? r : peapod_error_set(e, -EBADMSG, "ACI manifest: no valid \"name\"");

        if (json_object_object_get_ex(root, "labels", &labels)) {
                r = aci_labels_parse(labels, m, e);
                if (r < 0)
                        return r;
        }
        if (json_object_object_get_ex(root, "app", &app) && !json_object_is_type(app, json_type_null)) {
                r = aci_app_parse(app, m, e);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int aci_manifest_reference(const AciManifest *m, char **ret, PeapodError *e) {
        _cleanup_free_ char *s = NULL;

        if (asprintf(&s, "%s:%s", m->name, m->version ?: "latest") < 0)
                return -ENOMEM;
        return image_name_normalize(s, ret, e);
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                archive_read_free(*a);
}
static void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}

static int archive_reader_new(int fd, struct archive **ret, PeapodError *e) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();

        if (!a)
                return -ENOMEM;
        /* The compressions the ACI spec allows, built-in ones only:
         * filter_all would also run external programs (lrzip, lzop, grzip)
         * on an untrusted file where they are installed. */
        if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_bzip2(a) != ARCHIVE_OK ||
            archive_read_support_filter_xz(a) != ARCHIVE_OK || archive_read_support_format_tar(a) != ARCHIVE_OK)
                return -EIO;
        if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
                return peapod_error_set(e, -EBADMSG, "Not a tar archive: %s", archive_error_string(a));
        *ret = TAKE_PTR(a);
        return 0;
}

/* "manifest", "./manifest" */
static bool entry_is(const char *path, const char *name) {
        return streq(path, name) || (startswith(path, "./") && streq(path + 2, name));
}

static int read_manifest_entry(struct archive *a, struct archive_entry *entry, AciManifest **ret, PeapodError *e) {
        _cleanup_free_ char *buf = NULL;
        int64_t size = archive_entry_size(entry);
        la_ssize_t n;

        if (size < 0 || size > ACI_MANIFEST_SIZE_MAX)
                return peapod_error_set(e, -E2BIG, "ACI manifest larger than %d bytes", ACI_MANIFEST_SIZE_MAX);
        buf = malloc((size_t) size + 1);
        if (!buf)
                return -ENOMEM;
        n = archive_read_data(a, buf, (size_t) size);
        if (n != size)
                return peapod_error_set(e, -EBADMSG, "ACI manifest truncated");
        buf[size] = 0;
        return aci_manifest_parse(buf, (size_t) size, ret, e);
}

int aci_detect(int fd, AciManifest **ret_manifest, PeapodError *e) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        _cleanup_(aci_manifest_freep) AciManifest *m = NULL;
        struct archive_entry *entry;
        int r;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return errno == ESPIPE ? 0 : -errno;
        r = archive_reader_new(fd, &a, NULL);
        if (r < 0) {
                (void) lseek(fd, 0, SEEK_SET);
                return 0;
        }
        for (unsigned i = 0; i < ACI_SCAN_ENTRIES_MAX; i++) {
                if (archive_read_next_header(a, &entry) != ARCHIVE_OK)
                        break;
                if (!entry_is(archive_entry_pathname(entry), "manifest"))
                        continue;
                r = read_manifest_entry(a, entry, &m, e);
                break;
        }
        a = (archive_read_freep(&a), NULL);
        if (lseek(fd, 0, SEEK_SET) < 0)
                return -errno;
        if (!m)
                return r < 0 ? r : 0;
        if (ret_manifest)
                *ret_manifest = TAKE_PTR(m);
        return 1;
}

typedef struct LayerSink {
        BlobWriter *writer;
        uint64_t size;
        PeapodError error;
        int r;
} LayerSink;

static la_ssize_t layer_sink_write(struct archive *a, void *userdata, const void *buf, size_t n) {
        LayerSink *sink = userdata;
        int r;

        if (!sink->writer)
                return -1;
        r = blob_writer_write(sink->writer, buf, n, &sink->error);
        if (r < 0) {
                sink->r = r;
                archive_set_error(a, -r, "%s", sink->error.message[0] ? sink->error.message : strerror(-r));
                return -1;
        }
        sink->size += n;
        return (la_ssize_t) n;
}

/* The store's reason (free space) says more than libarchive's. */
static int aci_layer_write_error(struct archive *out, LayerSink *sink, PeapodError *e) {
        if (sink->r < 0 && sink->error.message[0]) {
                if (e)
                        *e = sink->error;
                return sink->r;
        }
        return peapod_error_set(e, sink->r < 0 ? sink->r : -EIO, "Failed to write the layer: %s",
                                archive_error_string(out));
}

int aci_rootfs_copy(int fd, struct archive *out, const StorageLimits *l, PeapodError *e) {
        _cleanup_(archive_read_freep) struct archive *in = NULL;
        struct archive_entry *entry;
        uint64_t declared = 0, entries = 0;
        char buf[64 * 1024], size_buf[32];
        int r;

        r = archive_reader_new(fd, &in, e);
        if (r < 0)
                return r;
        for (;;) {
                const char *path, *rest, *link;
                la_ssize_t n;

                r = archive_read_next_header(in, &entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return peapod_error_set(e, -EBADMSG, "ACI: %s", archive_error_string(in));
                path = archive_entry_pathname(entry);
                if (!path)
                        return peapod_error_set(e, -EBADMSG, "ACI: an entry without a name");
                if (startswith(path, "./"))
                        path += 2;
                rest = startswith(path, "rootfs/");
                if (!rest || isempty(rest))
                        continue; /* the manifest, rootfs/ itself, anything beside */
                _cleanup_free_ char *name = strdup(rest), *target = NULL;
                if (!name)
                        return -ENOMEM;
                link = archive_entry_hardlink(entry);
                if (link) {
                        const char *t = startswith(startswith(link, "./") ?: link, "rootfs/");
                        if (!t)
                                return peapod_error_set(e, -EBADMSG, "ACI: hard link %s points outside rootfs/", path);
                        target = strdup(t);
                        if (!target)
                                return -ENOMEM;
                        archive_entry_set_hardlink(entry, target);
                }
                archive_entry_set_pathname(entry, name);
                if (!link && ++entries > l->max_layer_inodes)
                        return peapod_error_set(e, -E2BIG, "ACI: rootfs has more than %" PRIu64 " files (limit storage.conf "
                                                STORAGE_KEY_MAX_LAYER_INODES ")", l->max_layer_inodes);
                if (archive_entry_size(entry) > 0) {
                        declared += (uint64_t) archive_entry_size(entry);
                        if (declared > l->max_layer_size)
                                return peapod_error_set(e, -EFBIG, "ACI: rootfs unpacks to more than %s (limit storage.conf "
                                                        STORAGE_KEY_MAX_LAYER_SIZE ")",
                                                        storage_format_size(l->max_layer_size, size_buf));
                }
                if (archive_write_header(out, entry) != ARCHIVE_OK)
                        return peapod_error_set(e, -EIO, "Failed to write the layer: %s", archive_error_string(out));
                /* Never more than the header said: the limit above holds
                 * for what is written, whatever the data stream brings. */
                while ((n = archive_read_data(in, buf, sizeof(buf))) > 0)
                        if (archive_write_data(out, buf, (size_t) n) != n)
                                return peapod_error_set(e, -EIO, "Failed to write the layer: %s",
                                                        archive_error_string(out));
                if (n < 0)
                        return peapod_error_set(e, -EBADMSG, "ACI: %s", archive_error_string(in));
        }
        return 0;
}

/* rootfs/ of the ACI into a new blob of the store. The layer is as large
 * as the image unpacked, so it is bounded here already, by the same limits
 * that its unpacking applies. */
static int aci_write_layer(Store *s, int fd, Digest *ret_digest, uint64_t *ret_size, PeapodError *e) {
        /* Declared in this order so that they go in the reverse one: out
         * first, whose free may still write its padding into the sink and
         * so into w, then w (and its temp file), then sink. */
        LayerSink sink = {};
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        _cleanup_(archive_write_freep) struct archive *out = archive_write_new();
        int r;

        if (!out)
                return -ENOMEM;
        r = store_blob_begin(s, NULL, UINT64_MAX, &w);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to write the layer: %s", strerror(-r));
        sink.writer = w;
        if (archive_write_set_format_pax_restricted(out) != ARCHIVE_OK ||
            archive_write_open(out, &sink, NULL, layer_sink_write, NULL) != ARCHIVE_OK)
                return peapod_error_set(e, -EIO, "Failed to write the layer: %s", archive_error_string(out));
        r = aci_rootfs_copy(fd, out, store_limits(s), e);
        if (r >= 0 && archive_write_close(out) != ARCHIVE_OK)
                r = -EIO;
        if (r == -EIO)
                return aci_layer_write_error(out, &sink, e);
        if (r < 0)
                return r;
        sink.writer = NULL;
        r = store_blob_commit(TAKE_PTR(w), ret_digest, e);
        if (r < 0)
                return r;
        *ret_size = sink.size;
        return 0;
}

static const char *aci_arch_to_oci(const char *arch) {
        if (!arch || streq(arch, "amd64"))
                return "amd64";
        if (streq(arch, "aarch64"))
                return "arm64";
        if (streq(arch, "i386"))
                return "386";
        return arch;
}

static json_object *descriptor(MediaType t, const Digest *d, uint64_t size) {
        char buf[DIGEST_STRING_MAX];
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "mediaType", json_object_new_string(media_type_to_string(t)));
        json_object_object_add(o, "digest", json_object_new_string(digest_to_string(d, buf)));
        json_object_object_add(o, "size", json_object_new_int64((int64_t) size));
        return o;
}

static int store_json(Store *s, json_object *o, Digest *ret, uint64_t *ret_size, PeapodError *e) {
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);

        if (!text)
                return -ENOMEM;
        *ret_size = strlen(text);
        return store_blob_write_buffer(s, NULL, text, strlen(text), ret, e);
}

/* The ACI app as an OCI image config whose one layer is layer. */
static int aci_config_json(const AciManifest *m, const Digest *layer, json_object **ret) {
        _cleanup_json_ json_object *config = NULL;
        _cleanup_free_ char *user = NULL;
        char buf[DIGEST_STRING_MAX];
        json_object *c, *diff_ids, *labels, *rootfs;

        config = json_object_new_object();
        c = json_object_new_object();
        diff_ids = json_object_new_array();
        if (!config || !c || !diff_ids) {
                json_object_put(c);
                json_object_put(diff_ids);
                return -ENOMEM;
        }
        json_object_object_add(config, "architecture", json_object_new_string(aci_arch_to_oci(m->arch)));
        json_object_object_add(config, "os", json_object_new_string(m->os ?: "linux"));
        json_object_object_add(config, "config", c);
        if (m->exec)
                json_object_object_add(c, "Entrypoint", json_new_strv(m->exec));
        if (m->user || m->group) {
                if (asprintf(&user, "%s%s%s", m->user ?: "0", m->group ? ":" : "", strempty(m->group)) < 0) {
                        json_object_put(diff_ids);
                        return -ENOMEM;
                }
                json_object_object_add(c, "User", json_object_new_string(user));
        }
        if (m->env)
                json_object_object_add(c, "Env", json_new_strv(m->env));
        if (m->working_dir)
                json_object_object_add(c, "WorkingDir", json_object_new_string(m->working_dir));
        labels = json_object_new_object();
        rootfs = json_object_new_object();
        if (!labels || !rootfs) {
                json_object_put(labels);
                json_object_put(rootfs);
                json_object_put(diff_ids);
                return -ENOMEM;
        }
        json_object_object_add(labels, "org.peapod.aci.name", json_object_new_string(m->name));
        json_object_object_add(c, "Labels", labels);
        json_object_array_add(diff_ids, json_object_new_string(digest_to_string(layer, buf)));
        json_object_object_add(rootfs, "type", json_object_new_string("layers"));
        json_object_object_add(rootfs, "diff_ids", diff_ids);
        json_object_object_add(config, "rootfs", rootfs);
        *ret = TAKE_PTR(config);
        return 0;
}

/* An OCI image manifest of one uncompressed layer. */
static int oci_manifest_json(const Digest *layer, uint64_t layer_size, const Digest *config, uint64_t config_size,
                             json_object **ret) {
        _cleanup_json_ json_object *manifest = NULL;
        json_object *layers;

        manifest = json_object_new_object();
        if (!manifest)
                return -ENOMEM;
        layers = json_object_new_array();
        if (!layers)
                return -ENOMEM;
        json_object_array_add(layers, descriptor(MEDIA_TYPE_OCI_LAYER_TAR, layer, layer_size));
        json_object_object_add(manifest, "schemaVersion", json_object_new_int(2));
        json_object_object_add(manifest, "mediaType", json_object_new_string(media_type_to_string(MEDIA_TYPE_OCI_MANIFEST)));
        json_object_object_add(manifest, "config", descriptor(MEDIA_TYPE_OCI_CONFIG, config, config_size));
        json_object_object_add(manifest, "layers", layers);
        *ret = TAKE_PTR(manifest);
        return 0;
}

int aci_import(Store *s, int fd, const char *ref_override, const void *sig, size_t sig_size, AciVerifyFn verify,
               void *userdata, char **ret_image_id, char **ret_ref, PeapodError *e) {
        _cleanup_(aci_manifest_freep) AciManifest *m = NULL;
        _cleanup_json_ json_object *config = NULL, *manifest = NULL;
        _cleanup_free_ char *ref = NULL, *id = NULL;
        _cleanup_close_ int pin_fd = -EBADF;
        Digest layer, config_digest, manifest_digest;
        uint64_t layer_size = 0, config_size = 0, manifest_size = 0;
        int r;

        r = aci_detect(fd, &m, e);
        if (r < 0)
                return r;
        if (r == 0)
                return peapod_error_set(e, -EMEDIUMTYPE, "Not an ACI (no \"manifest\" of acKind ImageManifest in a seekable tar)");
        if (ref_override)
                r = image_name_normalize(ref_override, &ref, e);
        else
                r = aci_manifest_reference(m, &ref, e);
        if (r < 0)
                return r;

        /* The whole file is what the signature covers: checked before
         * anything of it is stored. */
        if (verify) {
                r = verify(ref, fd, sig, sig_size, userdata, e);
                if (r < 0)
                        return r;
                if (lseek(fd, 0, SEEK_SET) < 0)
                        return -errno;
        }

        r = store_pin(s, &pin_fd);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to pin the image store: %s", strerror(-r));
        r = aci_write_layer(s, fd, &layer, &layer_size, e);
        if (r < 0)
                return r;

        /* The ACI app as an image config. */
        r = aci_config_json(m, &layer, &config);
        if (r < 0)
                return r;
        r = store_json(s, config, &config_digest, &config_size, e);
        if (r < 0)
                return r;
        r = oci_manifest_json(&layer, layer_size, &config_digest, config_size, &manifest);
        if (r < 0)
                return r;
        r = store_json(s, manifest, &manifest_digest, &manifest_size, e);
        if (r < 0)
                return r;
        r = image_unpack_layers(s, &manifest_digest, NULL, NULL, e);
        if (r < 0)
                return r;
        r = store_ref_set(s, ref, &manifest_digest, e);
        if (r < 0)
                return r;
        id = digest_to_string_alloc(&config_digest);
        if (!id)
                return -ENOMEM;
        if (ret_image_id)
                *ret_image_id = TAKE_PTR(id);
        if (ret_ref)
                *ret_ref = TAKE_PTR(ref);
        return 0;
}
