/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "image-archive.h"
#include "image-pull.h"
#include "image.h"
#include "json-util.h"
#include "manifest.h"
#include "reference.h"
#include "string-util.h"
#include "strv.h"
#include "unpack.h"

#define ARCHIVE_BLOCK (1024 * 1024)
#define new0(t, n) ((t *) calloc((n), sizeof(t)))

static const char * const image_archive_format_table[_IMAGE_ARCHIVE_FORMAT_MAX] = {
        [IMAGE_ARCHIVE_OCI] = "oci",
        [IMAGE_ARCHIVE_DOCKER] = "docker-archive",
};

const char *image_archive_format_to_string(ImageArchiveFormat f) {
        return f >= 0 && f < _IMAGE_ARCHIVE_FORMAT_MAX ? image_archive_format_table[f] : NULL;
}

ImageArchiveFormat image_archive_format_from_string(const char *s) {
        if (s)
                for (ImageArchiveFormat f = 0; f < _IMAGE_ARCHIVE_FORMAT_MAX; f++)
                        if (streq(s, image_archive_format_table[f]))
                                return f;
        return _IMAGE_ARCHIVE_FORMAT_INVALID;
}

static void archive_read_freep(struct archive **a) {
        if (*a)
                (void) archive_read_free(*a);
}

static void archive_write_freep(struct archive **a) {
        if (*a)
                (void) archive_write_free(*a);
}

static void archive_entry_freep(struct archive_entry **e) {
        if (*e)
                archive_entry_free(*e);
}

/* --- import --- */

/* A file of the archive that went into the store. */
typedef struct ArchiveFile {
        char *path;
        Digest digest;
        uint64_t size;
} ArchiveFile;

typedef struct Importer {
        Store *store;
        ArchiveFile *files;
        size_t n_files;
        char *index_json, *manifest_json;
        size_t index_json_size, manifest_json_size;
        bool oci_layout;
        char **ids, **refs;
        ImageImportVerifyFn verify;
        void *verify_userdata;
} Importer;

static void importer_done(Importer *im) {
        for (size_t i = 0; i < im->n_files; i++)
                free(im->files[i].path);
        free(im->files);
        free(im->index_json);
        free(im->manifest_json);
        strv_free(im->ids);
        strv_free(im->refs);
}

static const ArchiveFile *importer_file(const Importer *im, const char *path) {
        path = startswith(path, "./") ?: path;
        for (size_t i = 0; i < im->n_files; i++)
                if (streq(im->files[i].path, path))
                        return &im->files[i];
        return NULL;
}

static int read_small(struct archive *a, int64_t declared, const char *name, char **ret, size_t *ret_size,
                      PeapodError *e) {
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        if (declared < 0 || (uint64_t) declared > MANIFEST_SIZE_MAX)
                return peapod_error_set(e, -EFBIG, "%s in the archive is larger than %u bytes", name, MANIFEST_SIZE_MAX);
        buf = malloc((size_t) declared + 1);
        if (!buf)
                return -ENOMEM;
        while (n < (size_t) declared) {
                la_ssize_t k = archive_read_data(a, buf + n, (size_t) declared - n);
                if (k < 0)
                        return peapod_error_set(e, -EBADMSG, "Cannot read %s from the archive: %s", name,
                                                strna(archive_error_string(a)));
                if (k == 0)
                        return peapod_error_set(e, -EBADMSG, "%s in the archive is truncated", name);
                n += (size_t) k;
        }
        buf[n] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = n;
        return 0;
}

/* One regular file of the archive into the store. Under blobs/sha256/ the
 * name is the digest it must have; elsewhere (docker-archive) whatever it
 * hashes to is recorded under its path. */
static int import_file(Importer *im, struct archive *a, const char *path, int64_t size, PeapodError *e) {
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        ArchiveFile *n;
        Digest expected, got;
        const char *hex;
        bool named;
        int r;

        if (im->n_files >= IMAGE_ARCHIVE_FILES_MAX)
                return peapod_error_set(e, -E2BIG, "Archive has more than %u files", IMAGE_ARCHIVE_FILES_MAX);
        if (size < 0)
                return peapod_error_set(e, -EBADMSG, "%s has no size", path);
        hex = startswith(path, "blobs/sha256/");
        named = hex && digest_from_hex(DIGEST_SHA256, hex, &expected) >= 0;
        r = store_blob_begin(im->store, named ? &expected : NULL, (uint64_t) size, &w);
        if (r < 0)
                return r;
        for (;;) {
                const void *buf;
                size_t k;
                la_int64_t offset;

                r = archive_read_data_block(a, &buf, &k, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return peapod_error_set(e, -EBADMSG, "Cannot read %s from the archive: %s", path,
                                                strna(archive_error_string(a)));
                r = blob_writer_write(w, buf, k, e);
                if (r < 0)
                        return peapod_error_prefix(e, r, "%s", path);
        }
        r = store_blob_commit(TAKE_PTR(w), &got, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "%s", path);

        n = reallocarray(im->files, im->n_files + 1, sizeof(ArchiveFile));
        if (!n)
                return -ENOMEM;
        im->files = n;
        im->files[im->n_files] = (ArchiveFile) { .path = strdup(path), .digest = got, .size = (uint64_t) size };
        if (!im->files[im->n_files].path)
                return -ENOMEM;
        im->n_files++;
        return 0;
}

static int import_read(Importer *im, int fd, PeapodError *e) {
        _cleanup_(archive_read_freep) struct archive *a = NULL;
        int r;

        a = archive_read_new();
        if (!a)
                return -ENOMEM;
        /* Built-in decompressors only (no external programs), tar only. */
        if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
            archive_read_support_format_tar(a) != ARCHIVE_OK)
                return peapod_error_set(e, -EOPNOTSUPP, "libarchive lacks gzip, zstd or tar support");
        if (archive_read_open_fd(a, fd, ARCHIVE_BLOCK) != ARCHIVE_OK)
                return peapod_error_set(e, -EBADMSG, "Cannot read the archive: %s", strna(archive_error_string(a)));
        for (;;) {
                struct archive_entry *entry;
                const char *path;

                r = archive_read_next_header(a, &entry);
                if (r == ARCHIVE_EOF)
                        break;
                if (r != ARCHIVE_OK)
                        return peapod_error_set(e, -EBADMSG, "Cannot read the archive: %s", strna(archive_error_string(a)));
                path = archive_entry_pathname(entry);
                if (!path)
                        return peapod_error_set(e, -EBADMSG, "Archive entry without a name");
                path = startswith(path, "./") ?: path;
                /* Only regular files carry anything; directories, links and
                 * the rest are not part of either format. Nothing of the
                 * archive ever becomes a path on disk: files are blobs. */
                if (archive_entry_filetype(entry) != AE_IFREG)
                        continue;
                if (streq(path, "index.json"))
                        r = read_small(a, archive_entry_size(entry), path, &im->index_json, &im->index_json_size, e);
                else if (streq(path, "manifest.json"))
                        r = read_small(a, archive_entry_size(entry), path, &im->manifest_json, &im->manifest_json_size, e);
                else if (streq(path, "oci-layout")) {
                        im->oci_layout = true;
                        continue;
                } else if (streq(path, "repositories"))
                        continue; /* docker's old duplicate of RepoTags */
                else
                        r = import_file(im, a, path, archive_entry_size(entry), e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A name as the archive gives it, fully qualified. Short names are docker's
 * familiar form (docker-archive RepoTags), which mean docker.io. */
static int normalize_name(const char *name, bool short_is_docker, char **ret) {
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        _cleanup_free_ char *full = NULL;
        int q;

        q = image_reference_parse(name, &r);
        if (q < 0)
                return q;
        if (!r->registry) {
                if (!short_is_docker)
                        return -EINVAL;
                image_reference_free(TAKE_PTR(r));
                if (asprintf(&full, DOCKER_IO "/%s", name) < 0)
                        return -ENOMEM;
                q = image_reference_parse(full, &r);
                if (q < 0)
                        return q;
        }
        return image_reference_to_string(r, ret);
}

/* Unpack one image whose blobs are all in the store and name it. */
/* signed_digest: what a signature of the image names (the top-level
 * manifest or index the archive lists). */
static int import_image(Importer *im, const Digest *manifest, const Digest *signed_digest, char * const *names,
                        PeapodError *e) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *text = NULL, *id = NULL;
        char a[DIGEST_STRING_MAX];
        size_t size;
        int r;

        if (strv_length(names) == 0)
                return peapod_error_set(e, -EINVAL, "Image %s in the archive has no name; give one",
                                        digest_to_string(manifest, a));
        r = store_blob_read(im->store, manifest, MANIFEST_SIZE_MAX, &text, &size, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "Manifest %s", digest_to_string(manifest, a));
        r = manifest_parse(text, size, NULL, &m, e);
        if (r < 0)
                return r;
        if (store_blob_exists(im->store, &m->config.digest) <= 0)
                return peapod_error_set(e, -EBADMSG, "The archive lacks config %s", digest_to_string(&m->config.digest, a));
        for (size_t i = 0; i < m->n_layers; i++)
                if (store_blob_exists(im->store, &m->layers[i].digest) <= 0)
                        return peapod_error_set(e, -EBADMSG, "The archive lacks layer %s",
                                                digest_to_string(&m->layers[i].digest, a));
        if (im->verify)
                FOREACH_STRV(n, names) {
                        r = im->verify(n, signed_digest, im->verify_userdata, e);
                        if (r < 0)
                                return r;
                }
        r = image_unpack_layers(im->store, manifest, NULL, NULL, e);
        if (r < 0)
                return r;
        FOREACH_STRV(n, names) {
                r = store_ref_set(im->store, n, manifest, e);
                if (r < 0)
                        return r;
                r = strv_extend(&im->refs, n);
                if (r < 0)
                        return r;
        }
        id = digest_to_string_alloc(&m->config.digest);
        if (!id)
                return -ENOMEM;
        return strv_consume(&im->ids, TAKE_PTR(id));
}

OciArchiveIndex *oci_archive_index_free(OciArchiveIndex *x) {
        if (!x)
                return NULL;
        for (size_t i = 0; x->names && x->index && i < x->index->n_manifests; i++)
                strv_free(x->names[i]);
        free(x->names);
        manifest_index_free(x->index);
        free(x);
        return NULL;
}

int oci_archive_index_parse(const char *text, size_t size, OciArchiveIndex **ret, PeapodError *e) {
        _cleanup_(oci_archive_index_freep) OciArchiveIndex *x = NULL;
        _cleanup_json_ json_object *root = NULL;
        json_object *manifests;
        int r;

        x = new0(OciArchiveIndex, 1);
        if (!x)
                return -ENOMEM;
        /* Validated by the parser first: bounds, digests, media types. */
        r = manifest_index_parse(text, size, NULL, &x->index, e);
        if (r < 0)
                return peapod_error_prefix(e, r, "index.json");
        /* The same bytes again for the annotations, with the same bounds
         * (a NUL would end a looser parse early and not the other). */
        r = json_parse_untrusted(text, size, MANIFEST_SIZE_MAX, MANIFEST_JSON_DEPTH_MAX, &root, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || !json_object_object_get_ex(root, "manifests", &manifests) ||
            !json_object_is_type(manifests, json_type_array) ||
            json_object_array_length(manifests) != x->index->n_manifests)
                return peapod_error_set(e, -EBADMSG, "index.json: malformed");
        x->names = new0(char **, x->index->n_manifests ?: 1);
        if (!x->names)
                return -ENOMEM;
        for (size_t i = 0; i < x->index->n_manifests; i++) {
                json_object *entry = json_object_array_get_idx(manifests, i), *ann;
                /* skopeo puts just a tag in ref.name; containerd and docker
                 * put the full name in their own key. Short names in
                 * ref.name are taken as local. */
                static const char * const keys[] = { STORE_REF_NAME_ANNOTATION, "io.containerd.image.name" };

                if (!json_object_object_get_ex(entry, "annotations", &ann) || !json_object_is_type(ann, json_type_object))
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(keys) && !x->names[i]; k++) {
                        const char *v = NULL;
                        _cleanup_free_ char *full = NULL;

                        if (json_get_string_opt(ann, keys[k], &v) <= 0 || !v)
                                continue;
                        if (normalize_name(v, k == 1, &full) < 0)
                                continue;
                        r = strv_consume(&x->names[i], TAKE_PTR(full));
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(x);
        return 0;
}

static int import_oci(Importer *im, const char *ref_override, PeapodError *e) {
        _cleanup_(oci_archive_index_freep) OciArchiveIndex *x = NULL;
        const ManifestIndex *index;
        int r;

        r = oci_archive_index_parse(im->index_json, im->index_json_size, &x, e);
        if (r < 0)
                return r;
        index = x->index;
        if (ref_override && index->n_manifests != 1)
                return peapod_error_set(e, -EINVAL, "The archive holds %zu images; a name can be given for one only",
                                        index->n_manifests);
        if (index->n_manifests == 0)
                return peapod_error_set(e, -EBADMSG, "index.json names no image");

        for (size_t i = 0; i < index->n_manifests; i++) {
                char *override[] = { (char *) ref_override, NULL };
                Digest manifest;

                if (store_blob_exists(im->store, &index->manifests[i].digest) <= 0)
                        return peapod_error_set(e, -EBADMSG, "The archive lacks manifest %s",
                                                digest_to_string(&index->manifests[i].digest, (char[DIGEST_STRING_MAX]) {}));
                r = image_platform_manifest(im->store, &index->manifests[i].digest, &manifest, e);
                if (r < 0)
                        return r;
                r = import_image(im, &manifest, &index->manifests[i].digest, ref_override ? override : x->names[i], e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static MediaType blob_layer_media_type(Store *s, const Digest *d) {
        _cleanup_close_ int fd = -EBADF;
        unsigned char magic[4] = {};

        if (store_blob_open(s, d, &fd) < 0 || read(fd, magic, sizeof(magic)) != sizeof(magic))
                return MEDIA_TYPE_OCI_LAYER_TAR;
        if (magic[0] == 0x1f && magic[1] == 0x8b)
                return MEDIA_TYPE_OCI_LAYER_TAR_GZIP;
        if (magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f && magic[3] == 0xfd)
                return MEDIA_TYPE_OCI_LAYER_TAR_ZSTD;
        return MEDIA_TYPE_OCI_LAYER_TAR;
}

static json_object *descriptor_json(MediaType t, const Digest *d, uint64_t size) {
        char a[DIGEST_STRING_MAX];
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        if (json_object_object_add(o, "mediaType", json_object_new_string(media_type_to_string(t))) < 0 ||
            json_object_object_add(o, "digest", json_object_new_string(digest_to_string(d, a))) < 0 ||
            json_object_object_add(o, "size", json_object_new_int64((int64_t) size)) < 0) {
                json_object_put(o);
                return NULL;
        }
        return o;
}

void docker_archive_images_free(DockerArchiveImage *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].config);
                strv_free(l[i].layers);
                strv_free(l[i].names);
        }
        free(l);
}

int docker_archive_manifest_parse(const char *text, size_t size, bool names, DockerArchiveImage **ret, size_t *ret_n,
                                  PeapodError *e) {
        _cleanup_json_ json_object *root = NULL;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        DockerArchiveImage *l;
        JsonParseError pe;
        size_t n;
        int r;

        r = json_parse_untrusted(text, size, MANIFEST_SIZE_MAX, MANIFEST_JSON_DEPTH_MAX, &root, &pe);
        if (r == -E2BIG || r == -EBADMSG)
                return peapod_error_set(e, r, "manifest.json: not a list (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(root, json_type_array))
                return peapod_error_set(e, -EBADMSG, "manifest.json: not a list");
        n = json_object_array_length(root);
        if (n == 0)
                return peapod_error_set(e, -EBADMSG, "manifest.json names no image");
        if (n > MANIFEST_INDEX_ENTRIES_MAX)
                return peapod_error_set(e, -E2BIG, "manifest.json: too many images");
        l = new0(DockerArchiveImage, n);
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                _cleanup_strv_free_ char **tags = NULL;
                json_object *item = json_object_array_get_idx(root, i);
                const char *config;

                if (!json_object_is_type(item, json_type_object) || json_get_string(item, "Config", &config) < 0 ||
                    json_get_strv(item, "RepoTags", &tags) < 0 || json_get_strv(item, "Layers", &l[i].layers) < 0) {
                        docker_archive_images_free(l, n);
                        return peapod_error_set(e, -EBADMSG, "manifest.json: entry %zu is malformed", i);
                }
                if (strv_length(l[i].layers) > MANIFEST_LAYERS_MAX) {
                        docker_archive_images_free(l, n);
                        return peapod_error_set(e, -E2BIG, "manifest.json: too many layers");
                }
                l[i].config = strdup(config);
                if (!l[i].config) {
                        docker_archive_images_free(l, n);
                        return -ENOMEM;
                }
                if (names)
                        FOREACH_STRV(t, tags) {
                                _cleanup_free_ char *full = NULL;

                                r = normalize_name(t, true, &full);
                                if (r >= 0)
                                        r = strv_consume(&l[i].names, TAKE_PTR(full));
                                if (r < 0) {
                                        docker_archive_images_free(l, n);
                                        return r == -ENOMEM ? r
                                                            : peapod_error_set(e, r, "manifest.json: invalid RepoTag '%.200s'", t);
                                }
                        }
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* One image of a docker-archive: an OCI manifest for its files, then the
 * image itself. */
static int import_docker_image(Importer *im, const DockerArchiveImage *x, char * const *names, PeapodError *e) {
        _cleanup_json_ json_object *m = NULL;
        json_object *ls;
        const ArchiveFile *cf;
        const char *text;
        Digest manifest;
        int r;

        cf = importer_file(im, x->config);
        if (!cf)
                return peapod_error_set(e, -EBADMSG, "The archive lacks %.200s", x->config);
        if (cf->size > MANIFEST_SIZE_MAX)
                return peapod_error_set(e, -EFBIG, "Config %.200s is too large", x->config);

        m = json_object_new_object();
        ls = json_object_new_array();
        if (!m || !ls) {
                json_object_put(ls);
                return -ENOMEM;
        }
        json_object_object_add(m, "schemaVersion", json_object_new_int(2));
        json_object_object_add(m, "mediaType", json_object_new_string(media_type_to_string(MEDIA_TYPE_OCI_MANIFEST)));
        json_object_object_add(m, "config", descriptor_json(MEDIA_TYPE_OCI_CONFIG, &cf->digest, cf->size));
        json_object_object_add(m, "layers", ls);
        FOREACH_STRV(l, x->layers) {
                const ArchiveFile *lf = importer_file(im, l);

                if (!lf)
                        return peapod_error_set(e, -EBADMSG, "The archive lacks layer %.200s", l);
                if (json_object_array_add(ls, descriptor_json(blob_layer_media_type(im->store, &lf->digest), &lf->digest,
                                                              lf->size)) < 0)
                        return -ENOMEM;
        }
        text = json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN);
        if (!text)
                return -ENOMEM;
        r = store_blob_write_buffer(im->store, NULL, text, strlen(text), &manifest, e);
        if (r < 0)
                return r;
        return import_image(im, &manifest, &manifest, names, e);
}

/* docker-archive: the layer tars are stored as they are (their digest is
 * their diff_id), under an OCI manifest made for them. */
static int import_docker(Importer *im, const char *ref_override, PeapodError *e) {
        DockerArchiveImage *images;
        size_t n;
        int r;

        r = docker_archive_manifest_parse(im->manifest_json, im->manifest_json_size, !ref_override, &images, &n, e);
        if (r < 0)
                return r;
        if (ref_override && n != 1) {
                docker_archive_images_free(images, n);
                return peapod_error_set(e, -EINVAL, "The archive holds %zu images; a name can be given for one only", n);
        }
        for (size_t i = 0; i < n; i++) {
                char *override[] = { (char *) ref_override, NULL };

                r = import_docker_image(im, &images[i], ref_override ? override : images[i].names, e);
                if (r < 0)
                        break;
        }
        docker_archive_images_free(images, n);
        return r;
}

int image_import_archive(Store *s, int fd, const char *ref_override, char ***ret_image_ids, char ***ret_refs,
                         PeapodError *e) {
        return image_import_archive_verified(s, fd, ref_override, NULL, NULL, ret_image_ids, ret_refs, e);
}

int image_import_archive_verified(Store *s, int fd, const char *ref_override, ImageImportVerifyFn verify,
                                  void *userdata, char ***ret_image_ids, char ***ret_refs, PeapodError *e) {
        _cleanup_(importer_done) Importer im = { .store = s, .verify = verify, .verify_userdata = userdata };
        _cleanup_close_ int pin_fd = -EBADF;
        _cleanup_free_ char *override = NULL;
        int r;

        if (!s || fd < 0)
                return -EINVAL;
        if (ref_override) {
                r = normalize_name(ref_override, false, &override);
                if (r < 0)
                        return peapod_error_set(e, -EINVAL, "Invalid name '%s': give a fully qualified reference "
                                                "(localhost/NAME:TAG for a local image)", ref_override);
        }
        /* Blobs and trees land before any ref reaches them. */
        r = store_pin(s, &pin_fd);
        if (r < 0)
                return r;
        r = import_read(&im, fd, e);
        if (r < 0)
                return r;
        if (im.index_json && im.oci_layout)
                r = import_oci(&im, override, e);
        else if (im.manifest_json)
                r = import_docker(&im, override, e);
        else
                return peapod_error_set(e, -EMEDIUMTYPE,
                                        "Not an image archive: neither an OCI layout (oci-layout, index.json) nor a "
                                        "docker-archive (manifest.json)");
        if (r < 0)
                return r;
        if (ret_image_ids)
                *ret_image_ids = TAKE_PTR(im.ids);
        if (ret_refs)
                *ret_refs = TAKE_PTR(im.refs);
        return 0;
}

/* --- export --- */

static int write_header(struct archive *a, const char *path, mode_t type, uint64_t size, PeapodError *e) {
        _cleanup_(archive_entry_freep) struct archive_entry *entry = archive_entry_new();

        if (!entry)
                return -ENOMEM;
        /* Reproducible: fixed times and owners, so that exporting twice
         * gives the same bytes. */
        archive_entry_set_pathname(entry, path);
        archive_entry_set_filetype(entry, type);
        archive_entry_set_perm(entry, type == AE_IFDIR ? 0755 : 0644);
        archive_entry_set_size(entry, type == AE_IFDIR ? 0 : (la_int64_t) size);
        archive_entry_set_mtime(entry, 0, 0);
        archive_entry_set_uid(entry, 0);
        archive_entry_set_gid(entry, 0);
        if (archive_write_header(a, entry) != ARCHIVE_OK)
                return peapod_error_set(e, -EIO, "Failed to write %s: %s", path, strna(archive_error_string(a)));
        return 0;
}

static int write_buffer(struct archive *a, const char *path, const void *data, size_t size, PeapodError *e) {
        int r;

        r = write_header(a, path, AE_IFREG, size, e);
        if (r < 0)
                return r;
        if (size > 0 && archive_write_data(a, data, size) != (la_ssize_t) size)
                return peapod_error_set(e, -EIO, "Failed to write %s: %s", path, strna(archive_error_string(a)));
        return 0;
}

static int archive_data_write(const void *data, size_t size, void *userdata) {
        struct archive *a = userdata;

        return archive_write_data(a, data, size) == (la_ssize_t) size ? 0 : -EIO;
}

static int count_write(const void *data, size_t size, void *userdata) {
        *(uint64_t *) userdata += size;
        return 0;
}

static int write_blob(struct archive *a, Store *s, const char *path, const Digest *d, bool decompress,
                      PeapodError *e) {
        _cleanup_close_ int fd = -EBADF;
        char buf[64 * 1024];
        uint64_t size = 0;
        struct stat st;
        int r;

        r = store_blob_open(s, d, &fd);
        if (r < 0)
                return peapod_error_set(e, r, "Blob %s is not in the store", digest_to_string(d, (char[DIGEST_STRING_MAX]) {}));
        if (decompress) {
                /* A tar header needs the size first: count, then write. */
                r = layer_decompress(fd, count_write, &size, e);
                if (r < 0)
                        return r;
                if (lseek(fd, 0, SEEK_SET) < 0)
                        return -errno;
                r = write_header(a, path, AE_IFREG, size, e);
                if (r < 0)
                        return r;
                r = layer_decompress(fd, archive_data_write, a, e);
                if (r < 0)
                        return peapod_error_set(e, r, "Failed to write %s: %s", path, strna(archive_error_string(a)));
                return 0;
        }
        if (fstat(fd, &st) < 0)
                return -errno;
        r = write_header(a, path, AE_IFREG, (uint64_t) st.st_size, e);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                if (archive_write_data(a, buf, (size_t) n) != n)
                        return peapod_error_set(e, -EIO, "Failed to write %s: %s", path, strna(archive_error_string(a)));
        }
        return 0;
}

static int blob_path(const Digest *d, char **ret) {
        return asprintf(ret, "blobs/sha256/%s", d->hex) < 0 ? -ENOMEM : 0;
}

/* The image an export writes: its manifest and config, read from the store
 * and checked against each other. */
typedef struct ExportImage {
        char *name;
        bool named;            /* false when found by id: there is no name to write */
        Digest manifest;
        size_t msize;
        Manifest *m;
        ImageConfig *c;
} ExportImage;

static void export_image_done(ExportImage *x) {
        free(x->name);
        manifest_free(x->m);
        image_config_free(x->c);
}

static int export_image_load(Store *s, const char *ref, ExportImage *x, PeapodError *e) {
        _cleanup_free_ char *mtext = NULL, *ctext = NULL;
        Digest found;
        size_t csize;
        int r;

        r = image_store_lookup(s, ref, NULL, &x->name, &found, e);
        if (r < 0)
                return r;
        /* Found by id: there is no name to write. */
        x->named = !startswith(x->name, "sha256:") && strchr(x->name, '/');
        r = image_platform_manifest(s, &found, &x->manifest, e);
        if (r < 0)
                return r;
        r = store_blob_read(s, &x->manifest, MANIFEST_SIZE_MAX, &mtext, &x->msize, e);
        if (r < 0)
                return r;
        r = manifest_parse(mtext, x->msize, NULL, &x->m, e);
        if (r < 0)
                return r;
        r = store_blob_read(s, &x->m->config.digest, MANIFEST_SIZE_MAX, &ctext, &csize, e);
        if (r < 0)
                return r;
        r = image_config_parse(ctext, csize, &x->c, e);
        if (r < 0)
                return r;
        return manifest_check_config(x->m, x->c, e);
}

/* An OCI image layout: oci-layout, index.json (the name as the ref
 * annotation), and the blobs as they are stored. */
static int export_oci(struct archive *a, Store *s, const ExportImage *x, PeapodError *e) {
        _cleanup_json_ json_object *top = NULL;
        const Manifest *m = x->m;
        json_object *ms, *d, *ann;
        const char *text;
        int r;

        r = write_buffer(a, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30, e);
        if (r < 0)
                return r;
        top = json_object_new_object();
        ms = json_object_new_array();
        d = descriptor_json(m->media_type, &x->manifest, x->msize);
        ann = json_object_new_object();
        if (!top || !ms || !d || !ann) {
                json_object_put(ms);
                json_object_put(d);
                json_object_put(ann);
                return -ENOMEM;
        }
        json_object_object_add(top, "schemaVersion", json_object_new_int(2));
        json_object_object_add(top, "mediaType", json_object_new_string(media_type_to_string(MEDIA_TYPE_OCI_INDEX)));
        json_object_object_add(top, "manifests", ms);
        json_object_array_add(ms, d);
        if (x->named) {
                json_object_object_add(ann, STORE_REF_NAME_ANNOTATION, json_object_new_string(x->name));
                json_object_object_add(d, "annotations", ann);
        } else
                json_object_put(ann);
        text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
        if (!text)
                return -ENOMEM;
        r = write_buffer(a, "index.json", text, strlen(text), e);
        if (r < 0)
                return r;
        r = write_header(a, "blobs", AE_IFDIR, 0, e);
        if (r >= 0)
                r = write_header(a, "blobs/sha256", AE_IFDIR, 0, e);
        if (r < 0)
                return r;
        /* Manifest, config, layers; each blob once. */
        for (size_t i = 0; i < m->n_layers + 2; i++) {
                _cleanup_free_ char *path = NULL;
                const Digest *b = i == 0 ? &x->manifest : i == 1 ? &m->config.digest : &m->layers[i - 2].digest;
                bool dup = false;

                for (size_t j = 2; j < i; j++)
                        dup = dup || digest_equal(&m->layers[j - 2].digest, b);
                if (dup)
                        continue;
                r = blob_path(b, &path);
                if (r < 0)
                        return r;
                r = write_blob(a, s, path, b, false, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The classic `docker save` names: <config hex>.json and <diff_id
 * hex>/layer.tar, uncompressed, and manifest.json. */
static int export_docker(struct archive *a, Store *s, const ExportImage *x, PeapodError *e) {
        _cleanup_json_ json_object *top = NULL;
        _cleanup_free_ char *config_path = NULL;
        const Manifest *m = x->m;
        const ImageConfig *c = x->c;
        json_object *item, *layers, *tags;
        const char *text;
        int r;

        if (asprintf(&config_path, "%s.json", m->config.digest.hex) < 0)
                return -ENOMEM;
        r = write_blob(a, s, config_path, &m->config.digest, false, e);
        if (r < 0)
                return r;
        top = json_object_new_array();
        item = json_object_new_object();
        layers = json_object_new_array();
        tags = json_object_new_array();
        if (!top || !item || !layers || !tags) {
                json_object_put(item);
                json_object_put(layers);
                json_object_put(tags);
                return -ENOMEM;
        }
        json_object_array_add(top, item);
        json_object_object_add(item, "Config", json_object_new_string(config_path));
        json_object_object_add(item, "RepoTags", tags);
        json_object_object_add(item, "Layers", layers);
        if (x->named)
                json_object_array_add(tags, json_object_new_string(x->name));
        for (size_t i = 0; i < m->n_layers; i++) {
                _cleanup_free_ char *dir = NULL, *path = NULL;
                bool dup = false;

                if (asprintf(&dir, "%s", c->diff_ids[i].hex) < 0 || asprintf(&path, "%s/layer.tar", dir) < 0)
                        return -ENOMEM;
                json_object_array_add(layers, json_object_new_string(path));
                for (size_t j = 0; j < i; j++)
                        dup = dup || digest_equal(&c->diff_ids[j], &c->diff_ids[i]);
                if (dup)
                        continue;
                r = write_header(a, dir, AE_IFDIR, 0, e);
                if (r < 0)
                        return r;
                r = write_blob(a, s, path, &m->layers[i].digest,
                               media_type_layer_compression(m->layers[i].media_type) != LAYER_COMPRESSION_NONE, e);
                if (r < 0)
                        return r;
        }
        text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PLAIN);
        if (!text)
                return -ENOMEM;
        return write_buffer(a, "manifest.json", text, strlen(text), e);
}

int image_export_archive(Store *s, const char *ref, int fd, ImageArchiveFormat format, PeapodError *e) {
        _cleanup_(archive_write_freep) struct archive *a = NULL;
        _cleanup_(export_image_done) ExportImage x = {};
        int r;

        if (!s || !ref || fd < 0 || format < 0 || format >= _IMAGE_ARCHIVE_FORMAT_MAX)
                return -EINVAL;
        r = export_image_load(s, ref, &x, e);
        if (r < 0)
                return r;

        a = archive_write_new();
        if (!a)
                return -ENOMEM;
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK || archive_write_add_filter_none(a) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK || archive_write_open_fd(a, fd) != ARCHIVE_OK)
                return peapod_error_set(e, -EIO, "Cannot write the archive: %s", strna(archive_error_string(a)));

        if (format == IMAGE_ARCHIVE_OCI)
                r = export_oci(a, s, &x, e);
        else
                r = export_docker(a, s, &x, e);
        if (r < 0)
                return r;
        if (archive_write_close(a) != ARCHIVE_OK)
                return peapod_error_set(e, -EIO, "Cannot finish the archive: %s", strna(archive_error_string(a)));
        return 0;
}
