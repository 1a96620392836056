/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "image.h"
#include "name.h"

/* Names and image references arrive from D-Bus callers. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *app = NULL;

        if (size > 4096)
                return 0;
        s = malloc(size + 1);
        if (!s)
                return 0;
        memcpy(s, data, size);
        s[size] = 0;
        (void) image_reference_is_valid(s);
        (void) pod_name_is_valid(s);
        if (app_name_from_image(s, &app) >= 0 && !app_name_is_valid(app))
                abort();
        return 0;
}
