/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"
#include "macro.h"
#include "manifest.h"
#include "store.h"

/* Image archives: a tar (plain, gzip or zstd) holding either
 *  - an OCI image layout (oci-layout, index.json, blobs/sha256/...), as
 *    skopeo's oci-archive: and docker 25's `docker save` write, or
 *  - a docker-archive: manifest.json ([{"Config", "RepoTags", "Layers"}])
 *    naming a config JSON and uncompressed layer tars by path, as `docker
 *    save` wrote before. */

typedef enum ImageArchiveFormat {
        IMAGE_ARCHIVE_OCI,
        IMAGE_ARCHIVE_DOCKER,
        _IMAGE_ARCHIVE_FORMAT_MAX,
        _IMAGE_ARCHIVE_FORMAT_INVALID = -EINVAL,
} ImageArchiveFormat;

const char *image_archive_format_to_string(ImageArchiveFormat f);
ImageArchiveFormat image_archive_format_from_string(const char *s);

#define IMAGE_ARCHIVE_FILES_MAX 4096U

/* A docker-archive's manifest.json, parsed and checked whole before
 * anything of the archive is used. */
typedef struct DockerArchiveImage {
        char *config;   /* the config's path in the archive */
        char **layers;  /* the layer tars' paths, in order */
        char **names;   /* RepoTags, fully qualified (short ones are docker.io's) */
} DockerArchiveImage;

void docker_archive_images_free(DockerArchiveImage *l, size_t n);
/* -EBADMSG on anything malformed, -E2BIG past MANIFEST_INDEX_ENTRIES_MAX
 * images or MANIFEST_LAYERS_MAX layers. With names false (the caller names
 * the image) RepoTags are neither checked nor returned. */
int docker_archive_manifest_parse(const char *text, size_t size, bool names, DockerArchiveImage **ret, size_t *ret_n,
                                  PeapodError *e);

/* An OCI archive's index.json: the index, and for each of its manifests
 * the names its annotations give (org.opencontainers.image.ref.name, taken
 * only when fully qualified; io.containerd.image.name, short names being
 * docker.io's), NULL when none. */
typedef struct OciArchiveIndex {
        ManifestIndex *index;
        char ***names;
} OciArchiveIndex;

OciArchiveIndex *oci_archive_index_free(OciArchiveIndex *x);
DEFINE_TRIVIAL_CLEANUP_FUNC(OciArchiveIndex *, oci_archive_index_free);
int oci_archive_index_parse(const char *text, size_t size, OciArchiveIndex **ret, PeapodError *e);

/* Read an archive from fd (streamed once: every file goes straight into
 * the store, digest-checked where the archive names the digest), unpack
 * the layers of every image in it (diff_ids checked) and set a ref for
 * each: ref_override if given (then the archive must hold one image), else
 * the names the archive gives (org.opencontainers.image.ref.name when it
 * is a full reference, io.containerd.image.name, RepoTags; a short docker
 * name "busybox:latest" means docker.io/library/busybox:latest, as docker
 * meant it). An image without any name is refused (-EINVAL): nothing would
 * keep it from gc. ret_image_ids and ret_refs (each may be NULL) list the
 * ids ("sha256:<config>") and refs set. */
int image_import_archive(Store *s, int fd, const char *ref_override, char ***ret_image_ids, char ***ret_refs,
                         PeapodError *e);

/* The same with a check of each image before its layers are unpacked and
 * its names set: verify (may be NULL) gets each name and the image's
 * manifest digest; a refusal fails the import. */
typedef int (*ImageImportVerifyFn)(const char *reference, const Digest *manifest, void *userdata, PeapodError *e);
int image_import_archive_verified(Store *s, int fd, const char *ref_override, ImageImportVerifyFn verify,
                                  void *userdata, char ***ret_image_ids, char ***ret_refs, PeapodError *e);

/* Write the image ref names (anything image_store_lookup() takes) as an
 * archive to fd: an OCI layout with index.json naming it, or a docker-archive
 * whose layers are the uncompressed tars (named by diff_id). */
int image_export_archive(Store *s, const char *ref, int fd, ImageArchiveFormat format, PeapodError *e);
