/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "registry.h"

/* What a registry (or anyone between it and us over plain HTTP, for an
 * insecure one) sends back besides the blobs: response header lines, error
 * bodies that end up in our messages, and a token service's JSON whose
 * token goes into our next request's headers. The first byte picks which;
 * the rest is what the server sent. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *body = (const char *) data + 1;
        size_t n = size - 1;

        if (size < 1 || size > 128 * 1024)
                return 0;
        switch (data[0] % 3) {
        case 0: {
                _cleanup_(registry_header_done) RegistryHeader h = {};

                if (registry_header_parse(body, n, &h) < 0)
                        return 0;
                if (h.value && (strpbrk(h.value, "\r\n") || strlen(h.value) > (h.kind == REGISTRY_HEADER_WWW_AUTHENTICATE
                                                                                      ? WWW_AUTHENTICATE_MAX
                                                                                      : REGISTRY_HEADER_VALUE_MAX)))
                        abort();
                if (h.kind == REGISTRY_HEADER_RETRY_AFTER && h.number > UINT64_C(10000000))
                        abort();
                break;
        }
        case 1: {
                _cleanup_free_ char *s = fuzz_string(data + 1, n);
                char out[256];

                if (!s)
                        return 0;
                registry_error_body_describe(s, n, out, sizeof(out));
                /* It goes into messages on an operator's terminal. */
                for (const char *p = out; *p; p++)
                        if (*p < ' ' || *p >= 0x7f)
                                abort();
                break;
        }
        case 2: {
                _cleanup_free_ char *s = fuzz_string(data + 1, n), *token = NULL;
                uint64_t lifetime;

                if (!s)
                        return 0;
                if (registry_token_parse(s, n, &token, &lifetime) >= 0) {
                        if (!token[0] || lifetime < UINT64_C(50) * 1000000 || lifetime > UINT64_C(86390) * 1000000)
                                abort();
                        for (const char *p = token; *p; p++)
                                if (*p <= ' ' || *p >= 0x7f)
                                        abort();
                }
                break;
        }
        }
        return 0;
}
