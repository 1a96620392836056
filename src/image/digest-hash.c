/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "digest.h"
#include "string-util.h"

static const EVP_MD *digest_algorithm_md(DigestAlgorithm a) {
        switch (a) {
        case DIGEST_SHA256:
                return EVP_sha256();
        default:
                return NULL;
        }
}

int digest_context_init(DigestContext *c, DigestAlgorithm a) {
        const EVP_MD *md = digest_algorithm_md(a);
        EVP_MD_CTX *ctx;

        if (!md)
                return -EINVAL;
        ctx = EVP_MD_CTX_new();
        if (!ctx)
                return -ENOMEM;
        if (EVP_DigestInit_ex(ctx, md, NULL) != 1) {
                EVP_MD_CTX_free(ctx);
                return -EIO;
        }
        digest_context_done(c);
        *c = (DigestContext) { .algorithm = a, .ctx = ctx };
        return 0;
}

int digest_context_update(DigestContext *c, const void *data, size_t size) {
        if (!c->ctx)
                return -EINVAL;
        if (size == 0)
                return 0;
        if (EVP_DigestUpdate(c->ctx, data, size) != 1)
                return -EIO;
        c->size += size;
        return 0;
}

int digest_context_final(DigestContext *c, Digest *ret) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned len = 0;
        Digest d;

        if (!c->ctx)
                return -EINVAL;
        if (EVP_DigestFinal_ex(c->ctx, md, &len) != 1 || len * 2 > DIGEST_HEX_MAX)
                return -EIO;
        d = (Digest) { .algorithm = c->algorithm };
        for (unsigned i = 0; i < len; i++) {
                d.hex[2 * i] = "0123456789abcdef"[md[i] >> 4];
                d.hex[2 * i + 1] = "0123456789abcdef"[md[i] & 15];
        }
        d.hex[2 * len] = 0;
        digest_context_done(c);
        *ret = d;
        return 0;
}

void digest_context_done(DigestContext *c) {
        if (!c)
                return;
        EVP_MD_CTX_free(c->ctx); /* accepts NULL */
        *c = DIGEST_CONTEXT_NULL;
}

int digest_buffer(DigestAlgorithm a, const void *data, size_t size, Digest *ret) {
        _cleanup_(digest_context_done) DigestContext c = DIGEST_CONTEXT_NULL;
        int r;

        r = digest_context_init(&c, a);
        if (r < 0)
                return r;
        r = digest_context_update(&c, data, size);
        if (r < 0)
                return r;
        return digest_context_final(&c, ret);
}

int digest_fd(int fd, DigestAlgorithm a, Digest *ret, uint64_t *ret_size) {
        _cleanup_(digest_context_done) DigestContext c = DIGEST_CONTEXT_NULL;
        _cleanup_free_ char *buf = NULL;
        uint64_t size;
        Digest d;
        int r;

        r = digest_context_init(&c, a);
        if (r < 0)
                return r;
        /* On the heap: 128K is a good read size for page cache and disks
         * alike, but too much for the stack of a thread. */
        buf = malloc(128 * 1024);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t n = read(fd, buf, 128 * 1024);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                r = digest_context_update(&c, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
        size = c.size;
        r = digest_context_final(&c, &d);
        if (r < 0)
                return r;
        *ret = d;
        if (ret_size)
                *ret_size = size;
        return 0;
}

int digest_verify_fd(int fd, const Digest *expected, uint64_t expected_size, PeapodError *e) {
        char a[DIGEST_STRING_MAX], b[DIGEST_STRING_MAX];
        uint64_t size;
        Digest d;
        int r;

        r = digest_fd(fd, expected->algorithm, &d, &size);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to read blob %s: %s", digest_to_string(expected, a), strerror(-r));
        if (expected_size != UINT64_MAX && size != expected_size)
                return peapod_error_set(e, -EBADMSG, "Blob %s has %" PRIu64 " bytes, expected %" PRIu64,
                                       digest_to_string(expected, a), size, expected_size);
        if (!digest_equal(&d, expected))
                return peapod_error_set(e, -EBADMSG, "Digest mismatch: expected %s, got %s",
                                       digest_to_string(expected, a), digest_to_string(&d, b));
        return 0;
}
