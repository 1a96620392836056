/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "pod.h"

/* pod.json is read back after crashes and may have been edited by hand. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        Pod *p = NULL;

        if (size > POD_FILE_MAX)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        if (pod_from_json_string(s, &p) >= 0) {
                char *again = NULL;

                /* What loads must save and load again to the same thing. */
                if (pod_to_json_string(p, &again) >= 0) {
                        Pod *q = NULL;

                        if (pod_from_json_string(again, &q) < 0)
                                abort();
                        pod_free(q);
                        free(again);
                }
                pod_free(p);
        }
        return 0;
}
