/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "store.h"

/* The store's index.json: ours, but an OCI layout that skopeo, umoci or a
 * person may write too, and read on every image lookup by peapodd (root).
 * A malformed entry fails the read as a whole; what is listed is bounded. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        StoreRef *l = NULL;
        size_t n = 0;

        if (size > 256 * 1024)
                return 0;
        if (store_index_parse((const char *) data, size, &l, &n) < 0)
                return 0;
        if (n > STORE_REFS_MAX)
                abort();
        for (size_t i = 0; i < n; i++)
                if (l[i].descriptor.digest.algorithm != DIGEST_SHA256)
                        abort();
        store_ref_list_free(l, n);
        return 0;
}
