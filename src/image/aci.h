/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

#include "error.h"
#include "macro.h"
#include "store.h"

/* rkt's App Container Images: a tar (plain or compressed) holding
 * "manifest" (JSON, acKind "ImageManifest") and the file system under
 * "rootfs/". Imported as an OCI image of one uncompressed layer (rootfs/
 * stripped) whose config carries the ACI app: exec -> Entrypoint, user and
 * group -> User "user:group", environment -> Env, workingDirectory ->
 * WorkingDir. The name is "NAME:VERSION" (the "version" label; "latest"
 * without one), short names local (localhost/NAME). Its signature is
 * detached: X.aci.asc signs the whole X.aci file. */

#define ACI_MANIFEST_SIZE_MAX (1024 * 1024)
/* Nesting of the manifest's JSON (json-c recurses per level). */
#define ACI_MANIFEST_DEPTH_MAX 16
#define ACI_EXEC_MAX 256
#define ACI_ENV_MAX 1024
#define ACI_SCAN_ENTRIES_MAX 64

typedef struct AciManifest {
        char *name;
        char *version; /* NULL: no version label */
        char *os, *arch;
        char **exec;
        char *user, *group;
        char **env;        /* "K=V" */
        char *working_dir;
} AciManifest;

AciManifest *aci_manifest_free(AciManifest *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(AciManifest *, aci_manifest_free);

int aci_manifest_parse(const void *data, size_t size, AciManifest **ret, PeapodError *e);
/* "NAME:VERSION" as a stored reference. */
int aci_manifest_reference(const AciManifest *m, char **ret, PeapodError *e);

/* Whether fd (a seekable file, read from its start) is an ACI; 1 with
 * ret_manifest (may be NULL) set, 0 if not (or not seekable: ACIs are
 * read twice), -errno on read errors. Leaves the offset at 0. */
int aci_detect(int fd, AciManifest **ret_manifest, PeapodError *e);


/* Copy rootfs/ of the ACI in fd (a tar, plain or compressed with gzip,
 * bzip2 or xz) into out (an open archive writer) as tar entries, names
 * without the "rootfs/" prefix; hard links must point into rootfs/ too.
 * Bounded by l's max-layer-size (declared sizes) and max-layer-inodes.
 * A failed write of out is -EIO. */
struct archive;
int aci_rootfs_copy(int fd, struct archive *out, const StorageLimits *l, PeapodError *e);

/* Checks the detached signature of the file for the name it gets; a
 * negative return refuses the import. sig NULL: none was given. */
typedef int (*AciVerifyFn)(const char *reference, int fd, const void *sig, size_t sig_size, void *userdata,
                           PeapodError *e);

/* Import the ACI in fd as ref_override, or its own name. verify (NULL = no
 * check) runs before anything is stored. */
int aci_import(Store *s, int fd, const char *ref_override, const void *sig, size_t sig_size, AciVerifyFn verify,
               void *userdata, char **ret_image_id, char **ret_ref, PeapodError *e);
