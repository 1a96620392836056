/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "policy.h"

/* policy.json is root's file, but a parser that crashes on a typo would take
 * every pull down with it: bounded and fuzzed like wire input. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char * const refs[] = {
                "localhost/busybox:latest", "quay.io/a/b:c", "127.0.0.1:5000/test/bb:latest",
                "quay.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "not a reference",
        };
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *text = NULL;
        PeapodError e;

        if (size > POLICY_SIZE_MAX + 1)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        if (policy_parse(text, size, &p, &e) < 0)
                return 0;
        if (p->n_entries > POLICY_ENTRIES_MAX)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
                const PolicyEntry *x = policy_lookup(p, refs[i]);
                if (!x || x->type < 0 || x->type >= _POLICY_TYPE_MAX)
                        abort();
                if (x->key_path && (x->type != POLICY_SIGNED_BY || x->key_path[0] != '/'))
                        abort();
        }
        return 0;
}
