/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "digest.h"
#include "macro.h"

/* Everything parsed here arrives from a registry or an archive and is
 * untrusted: every size and count is bounded, every field type-checked. */
#define MANIFEST_SIZE_MAX (4U * 1024U * 1024U)     /* manifests, indexes, configs */
#define MANIFEST_LAYERS_MAX 256U
#define MANIFEST_INDEX_ENTRIES_MAX 1024U
#define MANIFEST_STRING_MAX (64U * 1024U)          /* one env entry, label, path... */
#define MANIFEST_LIST_MAX 4096U                    /* entries of Env, Cmd, Labels, ... */
#define MANIFEST_NAME_MAX 255U                     /* media types, os, architecture */
/* json-c recurses per nesting level; real manifests (and the index.json and
 * manifest.json of image archives) nest four or five deep. */
#define MANIFEST_JSON_DEPTH_MAX 16
#define DESCRIPTOR_SIZE_MAX (UINT64_C(1) << 40)    /* no layer is a terabyte */

typedef enum MediaType {
        MEDIA_TYPE_OCI_MANIFEST,
        MEDIA_TYPE_OCI_INDEX,
        MEDIA_TYPE_OCI_CONFIG,
        MEDIA_TYPE_OCI_LAYER_TAR,
        MEDIA_TYPE_OCI_LAYER_TAR_GZIP,
        MEDIA_TYPE_OCI_LAYER_TAR_ZSTD,
        MEDIA_TYPE_OCI_LAYER_NONDIST_TAR,
        MEDIA_TYPE_OCI_LAYER_NONDIST_TAR_GZIP,
        MEDIA_TYPE_OCI_LAYER_NONDIST_TAR_ZSTD,
        MEDIA_TYPE_DOCKER_MANIFEST,
        MEDIA_TYPE_DOCKER_MANIFEST_LIST,
        MEDIA_TYPE_DOCKER_CONFIG,
        MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP,
        MEDIA_TYPE_DOCKER_LAYER_FOREIGN_TAR_GZIP,
        MEDIA_TYPE_DOCKER_MANIFEST_V1,             /* schema 1: recognised only to refuse it clearly */
        MEDIA_TYPE_DOCKER_MANIFEST_V1_SIGNED,
        _MEDIA_TYPE_MAX,
        _MEDIA_TYPE_INVALID = -EINVAL,
} MediaType;

const char *media_type_to_string(MediaType t);
/* Accepts a Content-Type header value too: parameters after ';' and
 * surrounding blanks are ignored. */
MediaType media_type_from_string(const char *s);
bool media_type_is_manifest(MediaType t);  /* OCI manifest or Docker v2 schema 2 */
bool media_type_is_index(MediaType t);     /* OCI index or Docker manifest list */
bool media_type_is_config(MediaType t);
/* A layer we can unpack: distributable tar, tar+gzip or tar+zstd. */
bool media_type_is_layer(MediaType t);

typedef enum LayerCompression {
        LAYER_COMPRESSION_NONE,
        LAYER_COMPRESSION_GZIP,
        LAYER_COMPRESSION_ZSTD,
        _LAYER_COMPRESSION_MAX,
        _LAYER_COMPRESSION_INVALID = -EINVAL,
} LayerCompression;

LayerCompression media_type_layer_compression(MediaType t);

typedef struct Descriptor {
        MediaType media_type;
        Digest digest;
        uint64_t size;
        /* Only for entries of an index; NULL when the entry has no platform. */
        char *os;
        char *architecture;
        char *variant;
} Descriptor;

void descriptor_done(Descriptor *d);

/* An OCI image manifest or a Docker v2 schema 2 manifest. */
typedef struct Manifest {
        MediaType media_type;
        Descriptor config;
        Descriptor *layers;
        size_t n_layers;
} Manifest;

Manifest *manifest_free(Manifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(Manifest *, manifest_free);

/* An OCI image index or a Docker manifest list. */
typedef struct ManifestIndex {
        MediaType media_type;
        Descriptor *manifests;
        size_t n_manifests;
} ManifestIndex;

ManifestIndex *manifest_index_free(ManifestIndex *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(ManifestIndex *, manifest_index_free);

/* The parts of an OCI (or Docker) image config that peapod uses. */
typedef struct ImageConfig {
        char **entrypoint;
        char **cmd;
        char **env;
        char *working_dir;
        char *user;
        char **labels;          /* key, value, key, value, ..., NULL */
        char **exposed_ports;   /* the keys: "80/tcp", ... */
        Digest *diff_ids;
        size_t n_diff_ids;
        char *created;
        char *architecture;
        char *os;
        char *variant;
} ImageConfig;

ImageConfig *image_config_free(ImageConfig *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(ImageConfig *, image_config_free);

/* What a document is: its own mediaType field if it has one, else
 * content_type (the registry's Content-Type, may be NULL), else its shape
 * ("manifests" = index, "config" + "layers" = manifest, "rootfs" = config).
 * -EMEDIUMTYPE for anything else, -EOPNOTSUPP for Docker schema 1. */
int manifest_detect(const void *data, size_t size, const char *content_type, MediaType *ret, PeapodError *e);

/* Parse one document. Each fails with -EMEDIUMTYPE when the document is of
 * another kind (call manifest_detect() first to dispatch), -EFBIG beyond
 * MANIFEST_SIZE_MAX, -E2BIG beyond the count limits, -EOPNOTSUPP for layers
 * we cannot use (foreign, non-distributable, unknown) and -EBADMSG for
 * anything malformed; e says which field. */
int manifest_parse(const void *data, size_t size, const char *content_type, Manifest **ret, PeapodError *e);
int manifest_index_parse(const void *data, size_t size, const char *content_type, ManifestIndex **ret, PeapodError *e);
int image_config_parse(const void *data, size_t size, ImageConfig **ret, PeapodError *e);

/* The entry for a platform: os and architecture must match; variant only
 * if given (NULL = any, the first one listed wins). Entries without a
 * platform (attestations, "unknown/unknown") never match. -ENOENT if none. */
int manifest_index_select(const ManifestIndex *i, const char *os, const char *architecture, const char *variant,
                          const Descriptor **ret);

/* The host's platform in OCI terms (GOARCH names: amd64, arm64, arm + v7...).
 * Strings are static. */
void manifest_host_platform(const char **ret_os, const char **ret_architecture, const char **ret_variant);

/* A config belongs to a manifest only if it lists one diff_id per layer. */
int manifest_check_config(const Manifest *m, const ImageConfig *c, PeapodError *e);

/* Chain ids of a layer stack: chain(L0) = diff(L0), chain(Ln) =
 * sha256("<chain(Ln-1)> <diff(Ln)>"). They name unpacked layer trees, so that
 * two images sharing a base share its trees. ret has n entries. */
int layer_chain_ids(const Digest *diff_ids, size_t n, Digest **ret);
