/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "image-archive.h"
#include "reference.h"
#include "strv.h"

/* The two documents an image archive (peapod image import, ImportImage)
 * names its images with: a docker-archive's manifest.json and an OCI
 * layout's index.json. Every name that comes out is a fully qualified
 * reference, and the counts stay within their bounds. */
static void check_names(char * const *names) {
        FOREACH_STRV(n, names) {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;

                if (image_reference_parse(n, &r) < 0 || !r->registry)
                        abort();
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        PeapodError e = {};

        if (size > 256 * 1024)
                return 0;
        s = fuzz_string(data, size);
        if (!s)
                return 0;

        for (int names = 0; names <= 1; names++) {
                DockerArchiveImage *l = NULL;
                size_t n = 0;

                if (docker_archive_manifest_parse(s, size, names, &l, &n, &e) >= 0) {
                        if (n == 0 || n > MANIFEST_INDEX_ENTRIES_MAX)
                                abort();
                        for (size_t i = 0; i < n; i++) {
                                if (!l[i].config || strv_length(l[i].layers) > MANIFEST_LAYERS_MAX || (!names && l[i].names))
                                        abort();
                                check_names(l[i].names);
                        }
                        docker_archive_images_free(l, n);
                }
                peapod_error_clear(&e);
        }
        {
                _cleanup_(oci_archive_index_freep) OciArchiveIndex *x = NULL;

                if (oci_archive_index_parse(s, size, &x, &e) >= 0)
                        for (size_t i = 0; i < x->index->n_manifests; i++)
                                check_names(x->names[i]);
                peapod_error_clear(&e);
        }
        return 0;
}
