/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "digest.h"
#include "fuzz.h"
#include "signature.h"

/* The payload comes out of a signature before anything says whether it is
 * for this image: it is attacker-controlled text. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(simple_signature_freep) SimpleSignature *s = NULL;
        PeapodError e;

        if (simple_signature_parse(data, size, &s, &e) < 0)
                return 0;
        if (!s->docker_reference || !digest_is_valid_string(s->manifest_digest))
                abort();
        return 0;
}
