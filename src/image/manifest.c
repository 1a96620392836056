/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "json-util.h"
#include "manifest.h"
#include "string-util.h"
#include "strv.h"

#define new0(t, n) ((t *) calloc((n), sizeof(t)))
#define IN_SET(x, ...)                                                  \
        ({                                                              \
                const int _x_ = (x), _set_[] = { __VA_ARGS__ };         \
                bool _found_ = false;                                   \
                for (size_t _i_ = 0; _i_ < ELEMENTSOF(_set_); _i_++)    \
                        if (_set_[_i_] == _x_)                          \
                                _found_ = true;                         \
                _found_;                                                \
        })

static const char * const media_type_table[_MEDIA_TYPE_MAX] = {
        [MEDIA_TYPE_OCI_MANIFEST] = "application/vnd.oci.image.manifest.v1+json",
        [MEDIA_TYPE_OCI_INDEX] = "application/vnd.oci.image.index.v1+json",
        [MEDIA_TYPE_OCI_CONFIG] = "application/vnd.oci.image.config.v1+json",
        [MEDIA_TYPE_OCI_LAYER_TAR] = "application/vnd.oci.image.layer.v1.tar",
        [MEDIA_TYPE_OCI_LAYER_TAR_GZIP] = "application/vnd.oci.image.layer.v1.tar+gzip",
        [MEDIA_TYPE_OCI_LAYER_TAR_ZSTD] = "application/vnd.oci.image.layer.v1.tar+zstd",
        [MEDIA_TYPE_OCI_LAYER_NONDIST_TAR] = "application/vnd.oci.image.layer.nondistributable.v1.tar",
        [MEDIA_TYPE_OCI_LAYER_NONDIST_TAR_GZIP] = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        [MEDIA_TYPE_OCI_LAYER_NONDIST_TAR_ZSTD] = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        [MEDIA_TYPE_DOCKER_MANIFEST] = "application/vnd.docker.distribution.manifest.v2+json",
        [MEDIA_TYPE_DOCKER_MANIFEST_LIST] = "application/vnd.docker.distribution.manifest.list.v2+json",
        [MEDIA_TYPE_DOCKER_CONFIG] = "application/vnd.docker.container.image.v1+json",
        [MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP] = "application/vnd.docker.image.rootfs.diff.tar.gzip",
        [MEDIA_TYPE_DOCKER_LAYER_FOREIGN_TAR_GZIP] = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        [MEDIA_TYPE_DOCKER_MANIFEST_V1] = "application/vnd.docker.distribution.manifest.v1+json",
        [MEDIA_TYPE_DOCKER_MANIFEST_V1_SIGNED] = "application/vnd.docker.distribution.manifest.v1+prettyjws",
};

const char *media_type_to_string(MediaType t) {
        return t >= 0 && t < _MEDIA_TYPE_MAX ? media_type_table[t] : NULL;
}

MediaType media_type_from_string(const char *s) {
        size_t n;

        if (!s)
                return _MEDIA_TYPE_INVALID;
        s += strspn(s, " \t");
        n = strcspn(s, ";");
        while (n > 0 && strchr(" \t", s[n - 1]))
                n--;
        for (int i = 0; i < _MEDIA_TYPE_MAX; i++)
                if (strlen(media_type_table[i]) == n && strncasecmp(media_type_table[i], s, n) == 0)
                        return (MediaType) i;
        return _MEDIA_TYPE_INVALID;
}

bool media_type_is_manifest(MediaType t) {
        return IN_SET(t, MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST);
}

bool media_type_is_index(MediaType t) {
        return IN_SET(t, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST);
}

bool media_type_is_config(MediaType t) {
        return IN_SET(t, MEDIA_TYPE_OCI_CONFIG, MEDIA_TYPE_DOCKER_CONFIG);
}

LayerCompression media_type_layer_compression(MediaType t) {
        switch (t) {
        case MEDIA_TYPE_OCI_LAYER_TAR:
                return LAYER_COMPRESSION_NONE;
        case MEDIA_TYPE_OCI_LAYER_TAR_GZIP:
        case MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP:
                return LAYER_COMPRESSION_GZIP;
        case MEDIA_TYPE_OCI_LAYER_TAR_ZSTD:
                return LAYER_COMPRESSION_ZSTD;
        default:
                return _LAYER_COMPRESSION_INVALID;
        }
}

bool media_type_is_layer(MediaType t) {
        return media_type_layer_compression(t) >= 0;
}

void descriptor_done(Descriptor *d) {
        if (!d)
                return;
        free(d->os);
        free(d->architecture);
        free(d->variant);
        *d = (Descriptor) { .media_type = _MEDIA_TYPE_INVALID };
}

static void descriptors_free(Descriptor *d, size_t n) {
        for (size_t i = 0; i < n; i++)
                descriptor_done(&d[i]);
        free(d);
}

Manifest *manifest_free(Manifest *m) {
        if (!m)
                return NULL;
        descriptor_done(&m->config);
        descriptors_free(m->layers, m->n_layers);
        free(m);
        return NULL;
}

ManifestIndex *manifest_index_free(ManifestIndex *i) {
        if (!i)
                return NULL;
        descriptors_free(i->manifests, i->n_manifests);
        free(i);
        return NULL;
}

ImageConfig *image_config_free(ImageConfig *c) {
        if (!c)
                return NULL;
        strv_free(c->entrypoint);
        strv_free(c->cmd);
        strv_free(c->env);
        free(c->working_dir);
        free(c->user);
        strv_free(c->labels);
        strv_free(c->exposed_ports);
        free(c->diff_ids);
        free(c->created);
        free(c->architecture);
        free(c->os);
        free(c->variant);
        free(c);
        return NULL;
}

/* Parse exactly [data, data+size) as one JSON object: no trailing garbage,
 * no NUL bytes (which would make json-c and the digest disagree about what
 * the document is), bounded size and nesting. */
static int json_parse_document(const void *data, size_t size, json_object **ret, PeapodError *e) {
        _cleanup_json_ json_object *o = NULL;
        char where[JSON_PARSE_ERROR_STRING_MAX];
        JsonParseError pe;
        int r;

        if (size == 0)
                return peapod_error_set(e, -EBADMSG, "Document is empty");
        r = json_parse_untrusted(data, size, MANIFEST_SIZE_MAX, MANIFEST_JSON_DEPTH_MAX, &o, &pe);
        if (r == -E2BIG)
                return peapod_error_set(e, -EFBIG, "Document is %zu bytes, more than the limit of %u",
                                       size, MANIFEST_SIZE_MAX);
        if (r == -EBADMSG)
                return peapod_error_set(e, r, "Document is not valid JSON (%s)",
                                        json_parse_error_to_string(&pe, where, sizeof(where)));
        if (r < 0)
                return r;
        if (!json_object_is_type(o, json_type_object))
                return peapod_error_set(e, -EBADMSG, "Document is not a JSON object");
        *ret = TAKE_PTR(o);
        return 0;
}

/* A string member, at most max bytes and without embedded NULs (a "\u0000"
 * escape would cut the C string short of what was signed). Returns 0 and
 * NULL if absent or null and !required. */
static int json_string_member(json_object *o, const char *key, bool required, size_t max, const char *where,
                              const char **ret, PeapodError *e) {
        json_object *v;
        const char *s;
        size_t n;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                if (required)
                        return peapod_error_set(e, -EBADMSG, "%s%s\"%s\" is missing", strempty(where),
                                               isempty(where) ? "" : ": ", key);
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_string))
                return peapod_error_set(e, -EBADMSG, "%s%s\"%s\" is not a string", strempty(where),
                                       isempty(where) ? "" : ": ", key);
        s = json_object_get_string(v);
        n = (size_t) json_object_get_string_len(v);
        if (strlen(s) != n)
                return peapod_error_set(e, -EBADMSG, "%s%s\"%s\" contains a NUL character", strempty(where),
                                       isempty(where) ? "" : ": ", key);
        if (n > max)
                return peapod_error_set(e, -E2BIG, "%s%s\"%s\" is longer than %zu bytes", strempty(where),
                                       isempty(where) ? "" : ": ", key, max);
        *ret = s;
        return 0;
}

static int json_strdup_member(json_object *o, const char *key, bool required, size_t max, const char *where,
                              char **ret, PeapodError *e) {
        const char *s = NULL;
        char *c = NULL;
        int r;

        r = json_string_member(o, key, required, max, where, &s, e);
        if (r < 0)
                return r;
        if (s) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
        }
        *ret = c;
        return 0;
}

static int json_check_string(json_object *v, const char *where, char **ret, PeapodError *e) {
        const char *s;

        if (!json_object_is_type(v, json_type_string))
                return peapod_error_set(e, -EBADMSG, "%s: an entry is not a string", where);
        s = json_object_get_string(v);
        if ((size_t) json_object_get_string_len(v) != strlen(s))
                return peapod_error_set(e, -EBADMSG, "%s: an entry contains a NUL character", where);
        if (strlen(s) > MANIFEST_STRING_MAX)
                return peapod_error_set(e, -E2BIG, "%s: an entry is longer than %u bytes", where, MANIFEST_STRING_MAX);
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

/* An array of strings; absent or null gives NULL. */
static int json_strv_member(json_object *o, const char *key, const char *where, char ***ret, PeapodError *e) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;
        size_t n;
        int r;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_array))
                return peapod_error_set(e, -EBADMSG, "%s.%s is not an array", where, key);
        n = json_object_array_length(v);
        if (n > MANIFEST_LIST_MAX)
                return peapod_error_set(e, -E2BIG, "%s.%s has %zu entries, more than %u", where, key, n,
                                       MANIFEST_LIST_MAX);
        l = calloc(n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char w[64];

                (void) snprintf(w, sizeof(w), "%s.%s", where, key);
                r = json_check_string(json_object_array_get_idx(v, i), w, &l[i], e);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* An object's keys (and, if with_values, its string values, alternating). */
static int json_object_member_strv(json_object *o, const char *key, const char *where, bool with_values, char ***ret,
                                   PeapodError *e) {
        _cleanup_strv_free_ char **l = NULL;
        json_object *v;
        size_t n, k = 0;
        char w[64];
        int r;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                return 0;
        }
        if (!json_object_is_type(v, json_type_object))
                return peapod_error_set(e, -EBADMSG, "%s.%s is not an object", where, key);
        n = (size_t) json_object_object_length(v);
        if (n > MANIFEST_LIST_MAX)
                return peapod_error_set(e, -E2BIG, "%s.%s has %zu entries, more than %u", where, key, n,
                                       MANIFEST_LIST_MAX);
        (void) snprintf(w, sizeof(w), "%s.%s", where, key);
        l = calloc(2 * n + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        json_object_object_foreach(v, name, val) {
                if (strlen(name) > MANIFEST_STRING_MAX)
                        return peapod_error_set(e, -E2BIG, "%s: a key is longer than %u bytes", w, MANIFEST_STRING_MAX);
                l[k] = strdup(name);
                if (!l[k++])
                        return -ENOMEM;
                if (with_values) {
                        r = json_check_string(val, w, &l[k++], e);
                        if (r < 0)
                                return r;
                }
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int json_schema_version_2(json_object *o, PeapodError *e) {
        json_object *v;

        if (!json_object_object_get_ex(o, "schemaVersion", &v))
                return peapod_error_set(e, -EBADMSG, "\"schemaVersion\" is missing");
        if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) != 2)
                return peapod_error_set(e, -EOPNOTSUPP, "\"schemaVersion\" is not 2");
        return 0;
}

/* A descriptor; only index entries (index_entry) carry a platform. */
static int descriptor_parse(json_object *o, const char *where, bool index_entry, Descriptor *ret, PeapodError *e) {
        _cleanup_(descriptor_done) Descriptor d = { .media_type = _MEDIA_TYPE_INVALID };
        const char *s;
        json_object *v;
        int64_t size;
        int r;

        if (!json_object_is_type(o, json_type_object))
                return peapod_error_set(e, -EBADMSG, "%s is not an object", where);

        r = json_string_member(o, "mediaType", true, MANIFEST_NAME_MAX, where, &s, e);
        if (r < 0)
                return r;
        d.media_type = media_type_from_string(s);

        r = json_string_member(o, "digest", true, MANIFEST_NAME_MAX, where, &s, e);
        if (r < 0)
                return r;
        if (digest_parse(s, &d.digest) < 0)
                return peapod_error_set(e, -EBADMSG, "%s: bad digest \"%s\" (only sha256:<64 lower-case hex> is accepted)",
                                       where, s);

        if (!json_object_object_get_ex(o, "size", &v))
                return peapod_error_set(e, -EBADMSG, "%s: \"size\" is missing", where);
        if (!json_object_is_type(v, json_type_int))
                return peapod_error_set(e, -EBADMSG, "%s: \"size\" is not an integer", where);
        size = json_object_get_int64(v);
        if (size < 0 || (uint64_t) size > DESCRIPTOR_SIZE_MAX)
                return peapod_error_set(e, -EBADMSG, "%s: \"size\" %" PRIi64 " is out of range", where, size);
        d.size = (uint64_t) size;

        if (index_entry && json_object_object_get_ex(o, "platform", &v) && !json_object_is_type(v, json_type_null)) {
                char w[64];

                (void) snprintf(w, sizeof(w), "%s.platform", where);
                if (!json_object_is_type(v, json_type_object))
                        return peapod_error_set(e, -EBADMSG, "%s is not an object", w);
                r = json_strdup_member(v, "os", true, MANIFEST_NAME_MAX, w, &d.os, e);
                if (r < 0)
                        return r;
                r = json_strdup_member(v, "architecture", true, MANIFEST_NAME_MAX, w, &d.architecture, e);
                if (r < 0)
                        return r;
                r = json_strdup_member(v, "variant", false, MANIFEST_NAME_MAX, w, &d.variant, e);
                if (r < 0)
                        return r;
        }
        /* "urls" (foreign layers) are ignored on purpose: blobs come from the
         * registry the manifest came from and nowhere else. */
        *ret = d;
        d = (Descriptor) {};
        return 0;
}

static int document_media_type(json_object *o, const char *content_type, MediaType *ret, PeapodError *e) {
        const char *s = NULL;
        MediaType t;
        int r;

        r = json_string_member(o, "mediaType", false, MANIFEST_NAME_MAX, NULL, &s, e);
        if (r < 0)
                return r;
        if (!s && content_type && !isempty(content_type)) {
                /* Registries answer application/json or text/plain for
                 * documents they do not know; that says nothing, so look at
                 * the document itself then. */
                t = media_type_from_string(content_type);
                if (t >= 0)
                        s = content_type;
        }
        if (s) {
                t = media_type_from_string(s);
                if (t < 0)
                        return peapod_error_set(e, -EMEDIUMTYPE, "Unsupported media type \"%s\"", s);
        } else if (json_object_object_get_ex(o, "manifests", NULL))
                t = MEDIA_TYPE_OCI_INDEX;
        else if (json_object_object_get_ex(o, "config", NULL) && json_object_object_get_ex(o, "layers", NULL))
                t = MEDIA_TYPE_OCI_MANIFEST;
        else if (json_object_object_get_ex(o, "fsLayers", NULL))
                t = MEDIA_TYPE_DOCKER_MANIFEST_V1;
        else if (json_object_object_get_ex(o, "rootfs", NULL))
                t = MEDIA_TYPE_OCI_CONFIG;
        else
                return peapod_error_set(e, -EMEDIUMTYPE, "Document has no media type and is neither a manifest, an index nor an image config");

        if (IN_SET(t, MEDIA_TYPE_DOCKER_MANIFEST_V1, MEDIA_TYPE_DOCKER_MANIFEST_V1_SIGNED))
                return peapod_error_set(e, -EOPNOTSUPP, "Docker image manifest schema 1 is not supported (deprecated; ask for schema 2 or OCI)");
        if (!media_type_is_manifest(t) && !media_type_is_index(t) && !media_type_is_config(t))
                return peapod_error_set(e, -EMEDIUMTYPE, "Media type \"%s\" is a blob, not a document", media_type_to_string(t));
        *ret = t;
        return 0;
}

int manifest_detect(const void *data, size_t size, const char *content_type, MediaType *ret, PeapodError *e) {
        _cleanup_json_ json_object *o = NULL;
        int r;

        r = json_parse_document(data, size, &o, e);
        if (r < 0)
                return r;
        return document_media_type(o, content_type, ret, e);
}

/* The array member key of a document (doc: "Index"), of at most max
 * elements (noun: "entries"), and its length. */
static int json_array_member(json_object *o, const char *doc, const char *key, const char *noun, size_t max,
                             json_object **ret, size_t *ret_n, PeapodError *e) {
        json_object *v;
        size_t n;

        if (!json_object_object_get_ex(o, key, &v))
                return peapod_error_set(e, -EBADMSG, "%s has no \"%s\"", doc, key);
        if (!json_object_is_type(v, json_type_array))
                return peapod_error_set(e, -EBADMSG, "\"%s\" is not an array", key);
        n = json_object_array_length(v);
        if (n > max)
                return peapod_error_set(e, -E2BIG, "%s has %zu %s, more than the limit of %zu", doc, n, noun, max);
        *ret = v;
        *ret_n = n;
        return 0;
}

/* What a manifest and an index both are: one bounded JSON document (see
 * json_parse_document()) of a media type of the kind is_kind accepts
 * (kind names it: "an image index"), as document_media_type() finds it,
 * and of schemaVersion 2. */
static int document_parse_v2(const void *data, size_t size, const char *content_type, bool (*is_kind)(MediaType t),
                             const char *kind, json_object **ret, MediaType *ret_type, PeapodError *e) {
        _cleanup_json_ json_object *o = NULL;
        MediaType t;
        int r;

        r = json_parse_document(data, size, &o, e);
        if (r < 0)
                return r;
        r = document_media_type(o, content_type, &t, e);
        if (r < 0)
                return r;
        if (!is_kind(t))
                return peapod_error_set(e, -EMEDIUMTYPE, "Document is %s, not %s", media_type_to_string(t), kind);
        r = json_schema_version_2(o, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        *ret_type = t;
        return 0;
}

int manifest_parse(const void *data, size_t size, const char *content_type, Manifest **ret, PeapodError *e) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        json_object *v;
        MediaType t;
        size_t n;
        int r;

        r = document_parse_v2(data, size, content_type, media_type_is_manifest, "an image manifest", &o, &t, e);
        if (r < 0)
                return r;

        m = new0(Manifest, 1);
        if (!m)
                return -ENOMEM;
        m->media_type = t;
        m->config.media_type = _MEDIA_TYPE_INVALID;

        if (!json_object_object_get_ex(o, "config", &v))
                return peapod_error_set(e, -EBADMSG, "Manifest has no \"config\"");
        r = descriptor_parse(v, "config", false, &m->config, e);
        if (r < 0)
                return r;
        if (!media_type_is_config(m->config.media_type))
                return peapod_error_set(e, -EMEDIUMTYPE, "config: media type is not an image config: this is not a container image");
        if (m->config.size > MANIFEST_SIZE_MAX)
                return peapod_error_set(e, -EFBIG, "config: %" PRIu64 " bytes, more than the limit of %u",
                                       m->config.size, MANIFEST_SIZE_MAX);

        r = json_array_member(o, "Manifest", "layers", "layers", MANIFEST_LAYERS_MAX, &v, &n, e);
        if (r < 0)
                return r;
        m->layers = new0(Descriptor, n ?: 1);
        if (!m->layers)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char where[32];
                Descriptor *l;

                (void) snprintf(where, sizeof(where), "layers[%zu]", i);
                r = descriptor_parse(json_object_array_get_idx(v, i), where, false, &m->layers[i], e);
                if (r < 0)
                        return r;
                m->n_layers++;
                l = &m->layers[i];
                if (IN_SET(l->media_type, MEDIA_TYPE_OCI_LAYER_NONDIST_TAR, MEDIA_TYPE_OCI_LAYER_NONDIST_TAR_GZIP,
                           MEDIA_TYPE_OCI_LAYER_NONDIST_TAR_ZSTD, MEDIA_TYPE_DOCKER_LAYER_FOREIGN_TAR_GZIP))
                        return peapod_error_set(e, -EOPNOTSUPP, "%s: foreign/non-distributable layers (%s) are not supported",
                                               where, media_type_to_string(l->media_type));
                if (!media_type_is_layer(l->media_type)) {
                        const char *s = NULL;

                        (void) json_string_member(json_object_array_get_idx(v, i), "mediaType", true, MANIFEST_NAME_MAX,
                                                  NULL, &s, NULL);
                        return peapod_error_set(e, -EOPNOTSUPP, "%s: unsupported layer media type \"%s\"", where, strna(s));
                }
        }
        *ret = TAKE_PTR(m);
        return 0;
}

int manifest_index_parse(const void *data, size_t size, const char *content_type, ManifestIndex **ret, PeapodError *e) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(manifest_index_freep) ManifestIndex *idx = NULL;
        json_object *v;
        MediaType t;
        size_t n;
        int r;

        r = document_parse_v2(data, size, content_type, media_type_is_index, "an image index", &o, &t, e);
        if (r < 0)
                return r;
        r = json_array_member(o, "Index", "manifests", "entries", MANIFEST_INDEX_ENTRIES_MAX, &v, &n, e);
        if (r < 0)
                return r;

        idx = new0(ManifestIndex, 1);
        if (!idx)
                return -ENOMEM;
        idx->media_type = t;
        idx->manifests = new0(Descriptor, n ?: 1);
        if (!idx->manifests)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char where[32];

                (void) snprintf(where, sizeof(where), "manifests[%zu]", i);
                /* Entries of unknown media types (artifacts, signatures)
                 * are kept with _MEDIA_TYPE_INVALID; select skips them. */
                r = descriptor_parse(json_object_array_get_idx(v, i), where, true, &idx->manifests[i], e);
                if (r < 0)
                        return r;
                idx->n_manifests++;
        }
        *ret = TAKE_PTR(idx);
        return 0;
}

int manifest_index_select(const ManifestIndex *i, const char *os, const char *architecture, const char *variant,
                          const Descriptor **ret) {
        if (!i || !os || !architecture)
                return -EINVAL;
        /* Two passes when a variant is asked for: an exact variant first,
         * then an entry that names none (arm64 images often omit "v8"). */
        for (int pass = 0; pass < 2; pass++)
                for (size_t k = 0; k < i->n_manifests; k++) {
                        const Descriptor *d = &i->manifests[k];

                        if (!media_type_is_manifest(d->media_type) || !d->os || !d->architecture)
                                continue;
                        if (!streq(d->os, os) || !streq(d->architecture, architecture))
                                continue;
                        if (variant && pass == 0 && !streq_ptr(d->variant, variant))
                                continue;
                        if (variant && pass == 1 && d->variant)
                                continue;
                        *ret = d;
                        return 0;
                }
        return -ENOENT;
}

void manifest_host_platform(const char **ret_os, const char **ret_architecture, const char **ret_variant) {
        const char *arch = "unknown", *variant = NULL;

#if defined(__x86_64__)
        arch = "amd64";
#elif defined(__aarch64__)
        arch = "arm64";
        variant = "v8";
#elif defined(__arm__)
        arch = "arm";
#  if defined(__ARM_ARCH) && __ARM_ARCH >= 7
        variant = "v7";
#  elif defined(__ARM_ARCH) && __ARM_ARCH == 6
        variant = "v6";
#  else
        variant = "v5";
#  endif
#elif defined(__i386__)
        arch = "386";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        arch = "ppc64le";
#elif defined(__s390x__)
        arch = "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
        arch = "riscv64";
#elif defined(__loongarch64)
        arch = "loong64";
#endif
        if (ret_os)
                *ret_os = "linux";
        if (ret_architecture)
                *ret_architecture = arch;
        if (ret_variant)
                *ret_variant = variant;
}

/* "config": what the image runs, and how. */
static int image_config_parse_run(json_object *v, ImageConfig *c, PeapodError *e) {
        int r;

        if (!json_object_is_type(v, json_type_object))
                return peapod_error_set(e, -EBADMSG, "config: \"config\" is not an object");
        r = json_strv_member(v, "Entrypoint", "config", &c->entrypoint, e);
        if (r < 0)
                return r;
        r = json_strv_member(v, "Cmd", "config", &c->cmd, e);
        if (r < 0)
                return r;
        r = json_strv_member(v, "Env", "config", &c->env, e);
        if (r < 0)
                return r;
        r = json_strdup_member(v, "WorkingDir", false, MANIFEST_STRING_MAX, "config.config", &c->working_dir, e);
        if (r < 0)
                return r;
        r = json_strdup_member(v, "User", false, MANIFEST_NAME_MAX, "config.config", &c->user, e);
        if (r < 0)
                return r;
        r = json_object_member_strv(v, "Labels", "config", true, &c->labels, e);
        if (r < 0)
                return r;
        r = json_object_member_strv(v, "ExposedPorts", "config", false, &c->exposed_ports, e);
        if (r < 0)
                return r;
        return 0;
}

/* "rootfs": layers, by their uncompressed digests. */
static int image_config_parse_rootfs(json_object *o, ImageConfig *c, PeapodError *e) {
        json_object *rootfs, *diff_ids;
        const char *s;
        size_t n;
        int r;

        if (!json_object_object_get_ex(o, "rootfs", &rootfs))
                return peapod_error_set(e, -EBADMSG, "config: \"rootfs\" is missing");
        if (!json_object_is_type(rootfs, json_type_object))
                return peapod_error_set(e, -EBADMSG, "config: \"rootfs\" is not an object");
        r = json_string_member(rootfs, "type", true, MANIFEST_NAME_MAX, "config.rootfs", &s, e);
        if (r < 0)
                return r;
        if (!streq(s, "layers"))
                return peapod_error_set(e, -EBADMSG, "config.rootfs: type is \"%s\", not \"layers\"", s);
        if (!json_object_object_get_ex(rootfs, "diff_ids", &diff_ids))
                return peapod_error_set(e, -EBADMSG, "config.rootfs: \"diff_ids\" is missing");
        if (!json_object_is_type(diff_ids, json_type_array))
                return peapod_error_set(e, -EBADMSG, "config.rootfs: \"diff_ids\" is not an array");
        n = json_object_array_length(diff_ids);
        if (n > MANIFEST_LAYERS_MAX)
                return peapod_error_set(e, -E2BIG, "config.rootfs: %zu diff_ids, more than the limit of %u", n,
                                       MANIFEST_LAYERS_MAX);
        c->diff_ids = new0(Digest, n ?: 1);
        if (!c->diff_ids)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_object *d = json_object_array_get_idx(diff_ids, i);

                if (!json_object_is_type(d, json_type_string) ||
                    digest_parse(json_object_get_string(d), &c->diff_ids[i]) < 0)
                        return peapod_error_set(e, -EBADMSG, "config.rootfs.diff_ids[%zu]: bad digest", i);
        }
        c->n_diff_ids = n;
        return 0;
}

int image_config_parse(const void *data, size_t size, ImageConfig **ret, PeapodError *e) {
        _cleanup_json_ json_object *o = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        json_object *v;
        const char *s;
        int r;

        r = json_parse_document(data, size, &o, e);
        if (r < 0)
                return r;
        /* A config carries no mediaType of its own; the manifest's config
         * descriptor said what it is. One that claims another type is not. */
        r = json_string_member(o, "mediaType", false, MANIFEST_NAME_MAX, NULL, &s, e);
        if (r < 0)
                return r;
        if (s && !media_type_is_config(media_type_from_string(s)))
                return peapod_error_set(e, -EMEDIUMTYPE, "Document is \"%s\", not an image config", s);

        c = new0(ImageConfig, 1);
        if (!c)
                return -ENOMEM;
        r = json_strdup_member(o, "architecture", true, MANIFEST_NAME_MAX, "config", &c->architecture, e);
        if (r < 0)
                return r;
        r = json_strdup_member(o, "os", true, MANIFEST_NAME_MAX, "config", &c->os, e);
        if (r < 0)
                return r;
        r = json_strdup_member(o, "variant", false, MANIFEST_NAME_MAX, "config", &c->variant, e);
        if (r < 0)
                return r;
        r = json_strdup_member(o, "created", false, MANIFEST_NAME_MAX, "config", &c->created, e);
        if (r < 0)
                return r;

        if (json_object_object_get_ex(o, "config", &v) && !json_object_is_type(v, json_type_null)) {
                r = image_config_parse_run(v, c, e);
                if (r < 0)
                        return r;
        }
        r = image_config_parse_rootfs(o, c, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

int manifest_check_config(const Manifest *m, const ImageConfig *c, PeapodError *e) {
        if (m->n_layers != c->n_diff_ids)
                return peapod_error_set(e, -EBADMSG, "Layer count mismatch: the manifest has %zu layers, the config %zu diff_ids",
                                       m->n_layers, c->n_diff_ids);
        return 0;
}

int layer_chain_ids(const Digest *diff_ids, size_t n, Digest **ret) {
        _cleanup_free_ Digest *chain = NULL;

        if (n > MANIFEST_LAYERS_MAX)
                return -E2BIG;
        chain = new0(Digest, n ?: 1);
        if (!chain)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                char a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX], buf[2 * DIGEST_STRING_MAX];
                int r;

                if (i == 0) {
                        chain[0] = diff_ids[0];
                        continue;
                }
                r = snprintf(buf, sizeof(buf), "%s %s", digest_to_string(&chain[i - 1], a),
                             digest_to_string(&diff_ids[i], b));
                r = digest_buffer(DIGEST_SHA256, buf, (size_t) r, &chain[i]);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(chain);
        return 0;
}
