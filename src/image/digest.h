/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "macro.h"

typedef enum DigestAlgorithm {
        DIGEST_SHA256,
        _DIGEST_ALGORITHM_MAX,
        _DIGEST_ALGORITHM_INVALID = -EINVAL,
} DigestAlgorithm;

#define DIGEST_SHA256_SIZE 32
#define DIGEST_HEX_MAX (DIGEST_SHA256_SIZE * 2)
/* "sha256:" + 64 hex digits + NUL */
#define DIGEST_STRING_MAX (sizeof("sha256:") + DIGEST_HEX_MAX)

/* A content digest: the algorithm and the lower-case hex of the hash. Only
 * sha256 is accepted: it is what registries and the OCI spec require, and
 * accepting more algorithms only adds ways to name the same blob twice. */
typedef struct Digest {
        DigestAlgorithm algorithm;
        char hex[DIGEST_HEX_MAX + 1];
} Digest;

const char *digest_algorithm_to_string(DigestAlgorithm a);
DigestAlgorithm digest_algorithm_from_string(const char *s);

/* "sha256:<64 lower-case hex>" and nothing else: other algorithms, upper case
 * and wrong lengths are -EINVAL. The hex part becomes a file name in the
 * store, so this check is also what keeps "/" and ".." out of paths. */
int digest_parse(const char *s, Digest *ret);
/* The same for a bare hex string (a file name in blobs/sha256/). */
int digest_from_hex(DigestAlgorithm a, const char *hex, Digest *ret);
bool digest_is_valid_string(const char *s);

/* Writes "sha256:<hex>" into buf and returns buf. */
char *digest_to_string(const Digest *d, char buf[static DIGEST_STRING_MAX]);
/* Same, into a new string; NULL on OOM. */
char *digest_to_string_alloc(const Digest *d);
bool digest_equal(const Digest *a, const Digest *b);

/* Streaming hash over libcrypto's EVP interface. Initialise with
 * DIGEST_CONTEXT_NULL, release with digest_context_done() (cleanup-safe, also
 * after final or a failed init). */
struct evp_md_ctx_st;
typedef struct DigestContext {
        DigestAlgorithm algorithm;
        struct evp_md_ctx_st *ctx;
        uint64_t size; /* bytes hashed so far */
} DigestContext;
#define DIGEST_CONTEXT_NULL ((DigestContext) { .algorithm = _DIGEST_ALGORITHM_INVALID })

int digest_context_init(DigestContext *c, DigestAlgorithm a);
int digest_context_update(DigestContext *c, const void *data, size_t size);
/* Finish and reset; the context must be initialised again before reuse. */
int digest_context_final(DigestContext *c, Digest *ret);
void digest_context_done(DigestContext *c);

int digest_buffer(DigestAlgorithm a, const void *data, size_t size, Digest *ret);
/* Hash fd from its current offset to EOF. */
int digest_fd(int fd, DigestAlgorithm a, Digest *ret, uint64_t *ret_size);
/* 0 if fd (from its current offset to EOF) has the given digest and, unless
 * expected_size is UINT64_MAX, that size; -EBADMSG if not. */
int digest_verify_fd(int fd, const Digest *expected, uint64_t expected_size, PeapodError *e);
