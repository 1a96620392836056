/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "digest.h"
#include "error.h"
#include "gpg.h"
#include "macro.h"

/* The trust store, /etc/peapod/keys/ (rkt's layout, with fingerprints as
 * file names):
 *   root.d/<FPR>.gpg                       trusted for every image
 *   prefix.d/<escaped prefix>/<FPR>.gpg    trusted for images at or below the prefix
 * where the escaped prefix is "registry[:port][/path]" with each '/' written
 * as ',' (a character no prefix has). Key files are OpenPGP public keys,
 * armored or binary, one key per file. */

#define TRUST_KEYS_DIR PEAPOD_CONF_DIR "/keys"
#define TRUST_KEYS_MAX 4096
#define TRUST_SIGNATURES_MAX 16

typedef struct TrustedKey {
        char *fingerprint;
        char *prefix; /* NULL: a root key */
        char *uid;    /* NULL if the key has none or could not be read */
        char *path;
} TrustedKey;

void trusted_key_free_many(TrustedKey *k, size_t n);

/* Add (or replace: an updated key, revoked say) a key; prefix NULL = root.
 * ret_info (may be NULL) describes the key. */
int trust_store_add(const char *dir, const void *key, size_t size, const char *prefix, GpgKeyInfo *ret_info,
                    PeapodError *e);
int trust_store_list(const char *dir, TrustedKey **ret, size_t *ret_n, PeapodError *e);
/* Remove every copy of the key (root and all prefixes); -ENOENT if none. */
int trust_store_remove(const char *dir, const char *fingerprint, PeapodError *e);
/* The key files trusted for "registry/repository". */
int trust_store_keys_for(const char *dir, const char *name, char ***ret, PeapodError *e);

bool fingerprint_is_valid(const char *s);

typedef struct TrustOptions {
        const char *policy;           /* NULL: policy_load()'s default */
        const char *keys_dir;         /* NULL: TRUST_KEYS_DIR */
        const char *registries_conf;  /* NULL: registries.conf's default */
} TrustOptions;

/* Whether the policy accepts the image that reference (fully qualified)
 * resolved to, manifest being the digest of what the reference named (the
 * top-level manifest or index, what skopeo signs). signedBy: a simple
 * signing signature from the repository's lookaside
 * (<lookaside>/<repository>@sha256=<hex>/signature-N) must verify with a
 * trusted key and name this digest and this reference. 0 if accepted;
 * -EACCES (rejected by policy, no signature, no trusted key) or the
 * verification's error otherwise, the reason in e. ret_how (may be NULL):
 * "insecureAcceptAnything" or "signed by FPR". */
int trust_verify_image(const TrustOptions *o, const char *reference, const Digest *manifest, char **ret_how,
                       PeapodError *e);

/* The same policy decision for a file with a detached signature (an ACI and
 * its .asc): sig NULL means none was given. */
int trust_verify_detached(const TrustOptions *o, const char *reference, int fd, const void *sig, size_t sig_size,
                          char **ret_how, PeapodError *e);

/* Where signature N (from 1) of repository@manifest lives under lookaside. */
int lookaside_signature_url(const char *lookaside, const char *repository, const Digest *manifest, unsigned n,
                            char **ret);
/* Fetch it (file:// or http(s)://); -ENOENT when there is none. */
int lookaside_fetch(const char *url, char **ret, size_t *ret_size, PeapodError *e);
