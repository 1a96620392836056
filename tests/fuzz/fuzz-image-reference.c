/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "image.h"
#include "name.h"
#include "reference.h"
#include "string-util.h"

static bool reference_equal(const ImageReference *a, const ImageReference *b) {
        return streq_ptr(a->registry, b->registry) && streq_ptr(a->repository, b->repository) &&
               streq_ptr(a->tag, b->tag) && streq_ptr(a->digest, b->digest);
}

/* Names and image references arrive from D-Bus callers. A parsed reference
 * printed and parsed again must be the same reference: the printed form is
 * what the store records as a ref name. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL, *app = NULL, *printed = NULL;
        _cleanup_(image_reference_freep) ImageReference *ref = NULL, *again = NULL;

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
        if (image_reference_parse(s, &ref) >= 0) {
                if (image_reference_to_string(ref, &printed) < 0)
                        return 0; /* OOM only */
                if (image_reference_parse(printed, &again) < 0 || !reference_equal(ref, again))
                        abort();
        }
        return 0;
}
