/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"
#include "manifest.h"
#include "macro.h"
#include "store.h"

/* An image as pods see it: read-only layer trees (overlayfs lower dirs) and
 * the parts of an OCI image config that decide how an app runs. Images come
 * from the image store (pulled or imported; the built-in busybox is
 * imported by peapodd at start). */
typedef struct Image {
        char *name;       /* the full reference it was found by (or the id) */
        char *id;         /* "sha256:<hex>" of the config */
        char **layers;    /* absolute paths of the trees, top-most first (overlayfs' lowerdir order) */
        char **entrypoint;
        char **cmd;
        char **env;
        char *workdir;
        char *user;       /* the config's User, NULL if none */
} Image;

Image *image_free(Image *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);

/* What image_find() accepts: a reference image_reference_parse() accepts
 * (short or fully qualified, with tag and/or digest), an image id
 * "sha256:<64 hex>" or an id prefix of 12 to 64 hex digits. */
bool image_reference_is_valid(const char *ref);
/* Why ref is neither an image reference nor an id prefix (a static string
 * for the user), or NULL when it is one. */
const char *image_reference_invalid_reason(const char *ref);

#define IMAGE_ID_PREFIX_MIN 12

/* Find an image in the store: by id or unique id prefix (-ENOTUNIQ if it
 * is ambiguous), or by reference: a fully qualified one as it is; a short
 * NAME[:TAG] first as "localhost/NAME:TAG" (imported images), then as the
 * first of registries.conf's unqualified-search-registries gives it
 * (registries_conf NULL = the default file). REPOSITORY@DIGEST also finds
 * that manifest held under a tag of the same repository (a pull by tag
 * records only the tag). The layer trees must all be
 * there (-ENOENT with a message otherwise). */
int image_find_in_store(Store *s, const char *ref, const char *registries_conf, Image **ret, PeapodError *e);
/* The same lookup, giving the ref (or id) it matched and the manifest (or
 * index) it points at. */
int image_store_lookup(Store *s, const char *ref, const char *registries_conf, char **ret_name, Digest *ret_manifest,
                       PeapodError *e);

/* Read an image manifest and its config from the store (each verified
 * against its digest as it is read), and check that they agree. */
int image_load_manifest(Store *s, const Digest *manifest, Manifest **ret_m, ImageConfig **ret_c, PeapodError *e);

/* The manifest a stored manifest or index stands for on this host: the
 * digest itself for a manifest, the host platform's entry for an index. */
int image_platform_manifest(Store *s, const Digest *d, Digest *ret, PeapodError *e);

/* image_find_in_store() in the store at store_root (NULL = STORE_DEFAULT_ROOT). */
int image_find(const char *ref, const char *store_root, Image **ret, PeapodError *e);

/* The command an app runs: exec, if given, replaces everything; otherwise
 * entrypoint + (args if given, else the image's cmd). -EINVAL if empty. */
int image_resolve_command(const Image *i, char * const *exec, char * const *args, char ***ret);
