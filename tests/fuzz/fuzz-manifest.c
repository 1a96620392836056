/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz.h"
#include "manifest.h"

/* Manifests, indexes and configs arrive from registries and archives. Every
 * parser sees every input, with and without a Content-Type, and what they
 * accept must keep the promises of manifest.h. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char * const content_types[] = {
                NULL,
                "application/vnd.oci.image.manifest.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json; charset=utf-8",
        };
        PeapodError e;
        MediaType t;

        if (size > MANIFEST_SIZE_MAX + 1)
                return 0;
        (void) manifest_detect(data, size, NULL, &t, &e);

        for (size_t k = 0; k < ELEMENTSOF(content_types); k++) {
                _cleanup_(manifest_freep) Manifest *m = NULL;
                _cleanup_(manifest_index_freep) ManifestIndex *i = NULL;

                if (manifest_parse(data, size, content_types[k], &m, &e) >= 0) {
                        char buf[DIGEST_STRING_MAX];

                        if (!media_type_is_manifest(m->media_type) || !media_type_is_config(m->config.media_type) ||
                            m->n_layers > MANIFEST_LAYERS_MAX || m->config.size > MANIFEST_SIZE_MAX)
                                abort();
                        for (size_t l = 0; l < m->n_layers; l++)
                                if (!media_type_is_layer(m->layers[l].media_type) ||
                                    !digest_is_valid_string(digest_to_string(&m->layers[l].digest, buf)))
                                        abort();
                }
                if (manifest_index_parse(data, size, content_types[k], &i, &e) >= 0) {
                        const Descriptor *d;

                        if (i->n_manifests > MANIFEST_INDEX_ENTRIES_MAX)
                                abort();
                        if (manifest_index_select(i, "linux", "amd64", NULL, &d) >= 0 &&
                            !media_type_is_manifest(d->media_type))
                                abort();
                        (void) manifest_index_select(i, "linux", "arm64", "v8", &d);
                }
        }

        {
                _cleanup_(image_config_freep) ImageConfig *c = NULL;
                _cleanup_free_ Digest *chain = NULL;

                if (image_config_parse(data, size, &c, &e) >= 0) {
                        if (c->n_diff_ids > MANIFEST_LAYERS_MAX || !c->os || !c->architecture)
                                abort();
                        if (layer_chain_ids(c->diff_ids, c->n_diff_ids, &chain) < 0)
                                abort();
                }
        }
        return 0;
}
