/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "storage-conf.h"

/* storage.conf is root's file, but every pull and import reads it: a typo
 * must fail with a message, never crash peapodd or yield a limit of 0
 * ("unlimited" is not a value). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *text = NULL;
        StorageLimits l;
        PeapodError e = {};
        char buf[32];
        uint64_t n = 0;

        if (size > STORAGE_CONF_MAX + 1)
                return 0;
        text = malloc(size + 1);
        if (!text)
                return 0;
        memcpy(text, data, size);
        text[size] = 0;
        memcpy(&n, data, size < sizeof(n) ? size : sizeof(n));
        if (!storage_format_size(n, buf) || strlen(buf) >= sizeof(buf))
                abort();
        if (storage_conf_parse(text, &l, &e) < 0) {
                if (!e.message[0])
                        abort();
                return 0;
        }
        if (l.max_layer_size == 0 || l.max_image_size == 0 || l.max_layer_inodes == 0 ||
            l.max_layer_inodes > UINT64_C(1) << 32 || l.min_free_percent > 90 ||
            (l.min_free_percent > 0 && l.min_free_bytes > 0))
                abort();
        return 0;
}
