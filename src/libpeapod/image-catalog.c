/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "image-catalog.h"
#include "string-util.h"
#include "strv.h"

void image_info_done(ImageInfo *i) {
        strv_free(i->names);
        image_config_free(i->config);
        memset(i, 0, sizeof(*i));
}

void image_info_free_many(ImageInfo *l, size_t n) {
        for (size_t i = 0; i < n; i++)
                image_info_done(&l[i]);
        free(l);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

/* Read a ref's manifest and config; what a ref points at was verified when
 * it was stored and is verified again here before it is parsed. */
static int image_info_load(Store *s, const Digest *manifest_digest, ImageInfo *ret, PeapodError *e) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_free_ char *mtext = NULL, *ctext = NULL;
        size_t msize, csize;
        ImageInfo i = {};
        int r;

        r = store_blob_read(s, manifest_digest, MANIFEST_SIZE_MAX, &mtext, &msize, e);
        if (r < 0)
                return r;
        r = manifest_parse(mtext, msize, NULL, &m, e);
        if (r < 0)
                return r;
        r = store_blob_read(s, &m->config.digest, MANIFEST_SIZE_MAX, &ctext, &csize, e);
        if (r < 0)
                return r;
        r = image_config_parse(ctext, csize, &i.config, e);
        if (r < 0)
                return r;
        i.id = m->config.digest;
        i.manifest = *manifest_digest;
        i.size = m->config.size;
        for (size_t k = 0; k < m->n_layers; k++)
                i.size += m->layers[k].size;
        *ret = i;
        return 0;
}

int image_catalog_list(Store *s, ImageInfo **ret, size_t *ret_n, PeapodError *e) {
        StoreRef *refs = NULL;
        ImageInfo *l = NULL;
        size_t n_refs = 0, n = 0;
        int r;

        r = store_ref_list(s, &refs, &n_refs);
        if (r < 0)
                return r;
        l = calloc(n_refs ?: 1, sizeof(ImageInfo));
        if (!l) {
                store_ref_list_free(refs, n_refs);
                return -ENOMEM;
        }
        for (size_t k = 0; k < n_refs; k++) {
                ImageInfo info = {};
                size_t at;

                if (!refs[k].name || !media_type_is_manifest(refs[k].descriptor.media_type))
                        continue;
                for (at = 0; at < n; at++)
                        if (digest_equal(&l[at].manifest, &refs[k].descriptor.digest))
                                break;
                if (at == n) {
                        r = image_info_load(s, &refs[k].descriptor.digest, &info, e);
                        if (r < 0)
                                continue; /* a broken image must not hide the others */
                        l[n++] = info;
                }
                r = strv_extend(&l[at].names, refs[k].name);
                if (r < 0)
                        goto fail;
        }
        for (size_t k = 0; k < n; k++)
                qsort(l[k].names, strv_length(l[k].names), sizeof(char *), cmp_str);
        store_ref_list_free(refs, n_refs);
        *ret = l;
        *ret_n = n;
        return 0;
fail:
        store_ref_list_free(refs, n_refs);
        image_info_free_many(l, n);
        return r;
}

int image_catalog_find(Store *s, const char *key, ImageInfo *ret, PeapodError *e) {
        _cleanup_free_ char *id_string = NULL;
        ImageInfo *l = NULL;
        size_t n = 0, found = SIZE_MAX, matches = 0;
        const char *hex;
        int r;

        r = image_catalog_list(s, &l, &n, e);
        if (r < 0)
                return r;
        hex = startswith(key, "sha256:") ?: key;
        for (size_t k = 0; k < n; k++) {
                char buf[DIGEST_STRING_MAX];

                if (strv_contains(l[k].names, key)) {
                        found = k;
                        matches = 1;
                        break;
                }
                digest_to_string(&l[k].id, buf);
                if (strlen(hex) >= 12 && startswith(buf + strlen("sha256:"), hex)) {
                        found = k;
                        matches++;
                }
        }
        if (matches == 1) {
                *ret = l[found];
                memset(&l[found], 0, sizeof(l[found]));
                r = 0;
        } else
                r = matches > 1 ? -ENOTUNIQ : -ENOENT;
        image_info_free_many(l, n);
        return r;
}
