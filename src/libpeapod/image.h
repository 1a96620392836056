/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "macro.h"

/* An image as pods see it: a read-only root file system tree and the parts
 * of an OCI image config that decide how an app runs. Images come from the
 * image directories (the state directory's, then the built-in one); the
 * registry and the OCI store slot in behind image_find() later. */
typedef struct Image {
        char *name;       /* the reference as given, normalised with a tag */
        char *rootfs;     /* absolute path of the read-only tree */
        char **entrypoint;
        char **cmd;
        char **env;
        char *workdir;
} Image;

Image *image_free(Image *i);
DEFINE_TRIVIAL_CLEANUP_FUNC(Image *, image_free);

/* The reference syntax accepted here: NAME[:TAG], NAME of [a-z0-9._/-],
 * TAG of [A-Za-z0-9._-]; anything else is -EINVAL. */
int image_reference_is_valid(const char *ref);

/* Find an image by reference in the given directories (NULL-terminated,
 * searched in order; NULL = the defaults). -ENOENT when none has it. */
int image_find(const char *ref, char * const *dirs, Image **ret);

/* The command an app runs: exec, if given, replaces everything; otherwise
 * entrypoint + (args if given, else the image's cmd). -EINVAL if empty. */
int image_resolve_command(const Image *i, char * const *exec, char * const *args, char ***ret);
