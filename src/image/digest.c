/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "digest.h"
#include "string-util.h"

/* The names and forms of digests; hashing is in digest-hash.c, so that a
 * program that only checks digest strings (the CLI) does not load libcrypto. */

static const char * const digest_algorithm_table[_DIGEST_ALGORITHM_MAX] = {
        [DIGEST_SHA256] = "sha256",
};

static const size_t digest_algorithm_hex_len[_DIGEST_ALGORITHM_MAX] = {
        [DIGEST_SHA256] = DIGEST_SHA256_SIZE * 2,
};

const char *digest_algorithm_to_string(DigestAlgorithm a) {
        return a >= 0 && a < _DIGEST_ALGORITHM_MAX ? digest_algorithm_table[a] : NULL;
}

DigestAlgorithm digest_algorithm_from_string(const char *s) {
        if (!s)
                return _DIGEST_ALGORITHM_INVALID;
        for (int i = 0; i < _DIGEST_ALGORITHM_MAX; i++)
                if (streq(digest_algorithm_table[i], s))
                        return (DigestAlgorithm) i;
        return _DIGEST_ALGORITHM_INVALID;
}

int digest_from_hex(DigestAlgorithm a, const char *hex, Digest *ret) {
        size_t n;

        if (a < 0 || a >= _DIGEST_ALGORITHM_MAX || !hex)
                return -EINVAL;
        n = strnlen(hex, DIGEST_HEX_MAX + 1);
        if (n != digest_algorithm_hex_len[a])
                return -EINVAL;
        /* Lower case only: the OCI spec's canonical form, and one blob must
         * have exactly one file name. */
        for (size_t i = 0; i < n; i++)
                if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
                        return -EINVAL;
        if (ret) {
                *ret = (Digest) { .algorithm = a };
                memcpy(ret->hex, hex, n);
                ret->hex[n] = 0;
        }
        return 0;
}

int digest_parse(const char *s, Digest *ret) {
        const char *colon;
        char alg[16];
        DigestAlgorithm a;

        if (!s)
                return -EINVAL;
        colon = strchr(s, ':');
        if (!colon || colon == s || (size_t) (colon - s) >= sizeof(alg))
                return -EINVAL;
        memcpy(alg, s, colon - s);
        alg[colon - s] = 0;
        a = digest_algorithm_from_string(alg);
        if (a < 0)
                return -EINVAL;
        return digest_from_hex(a, colon + 1, ret);
}

bool digest_is_valid_string(const char *s) {
        return digest_parse(s, NULL) >= 0;
}

char *digest_to_string(const Digest *d, char buf[static DIGEST_STRING_MAX]) {
        (void) snprintf(buf, DIGEST_STRING_MAX, "%s:%s", strna(digest_algorithm_to_string(d->algorithm)), d->hex);
        return buf;
}

char *digest_to_string_alloc(const Digest *d) {
        char buf[DIGEST_STRING_MAX];

        return strdup(digest_to_string(d, buf));
}

bool digest_equal(const Digest *a, const Digest *b) {
        return a && b && a->algorithm == b->algorithm && streq(a->hex, b->hex);
}
