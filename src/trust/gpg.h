/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

/* OpenPGP through gpgme. Verification never touches a keyring of the host:
 * a GpgVerifier is a private GNUPGHOME (a fresh 0700 directory, removed when
 * it is freed) holding exactly the keys the caller trusts, so a signature
 * verifies only if one of them made it, whatever else root's keyring holds. */

#define GPG_KEY_SIZE_MAX (1024 * 1024)
#define GPG_SIGNATURE_SIZE_MAX (64 * 1024)

typedef struct GpgKeyInfo {
        char *fingerprint; /* of the primary key, 40 upper-case hex digits */
        char *uid;         /* the first user id, or NULL */
        bool revoked, expired;
} GpgKeyInfo;

void gpg_key_info_done(GpgKeyInfo *k);

/* A key file (armored or binary) must hold exactly one public key. */
int gpg_key_inspect(const void *data, size_t size, GpgKeyInfo *ret, PeapodError *e);

typedef struct GpgVerifier GpgVerifier;

/* A private home with the keys of key_files (each must exist and hold keys). */
int gpg_verifier_new(char * const *key_files, GpgVerifier **ret, PeapodError *e);
GpgVerifier *gpg_verifier_free(GpgVerifier *v);
DEFINE_TRIVIAL_CLEANUP_FUNC(GpgVerifier *, gpg_verifier_free);

/* An opaque (signed-and-encapsulated) signature, as simple signing uses:
 * on success ret_payload is what was signed and ret_signer the primary
 * fingerprint of the key that did. Failures say why in e: "signed by
 * untrusted key FPR", "key expired", "key revoked", "signature expired",
 * "bad signature", "not a signature" (-EKEYREJECTED, -EKEYEXPIRED,
 * -EKEYREVOKED, -EBADMSG). */
int gpg_verifier_verify_opaque(GpgVerifier *v, const void *sig, size_t sig_size, char **ret_payload, size_t *ret_size,
                               char **ret_signer, PeapodError *e);
/* A detached signature over what fd reads from its current offset to EOF. */
int gpg_verifier_verify_detached(GpgVerifier *v, int fd, const void *sig, size_t sig_size, char **ret_signer,
                                 PeapodError *e);

/* Sign payload with the secret key signer (a fingerprint) of the caller's own
 * GNUPGHOME: an opaque binary signature. For operators, never the daemon. */
int gpg_sign_opaque(const char *signer, const void *payload, size_t size, char **ret, size_t *ret_size, PeapodError *e);
