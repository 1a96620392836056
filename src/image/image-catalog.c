/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "image-catalog.h"
#include "image.h"
#include "reference.h"
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

/* Read a ref's manifest and config; what a ref points at was verified when
 * it was stored and is verified again here before it is parsed. */
static int image_info_load(Store *s, const Digest *manifest_digest, ImageInfo *ret, PeapodError *e) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        ImageInfo i = {};
        int r;

        r = image_load_manifest(s, manifest_digest, &m, &i.config, e);
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

/* One entry per image id: two manifests of one config (the same image
 * imported from a docker-archive and from an OCI layout) are one image
 * with the names of both, as image ids are what users and pods go by. */
int image_catalog_list(Store *s, ImageInfo **ret, size_t *ret_n, PeapodError *e) {
        StoreRef *refs = NULL;
        ImageInfo *l = NULL;
        Digest *manifests = NULL; /* manifests[k]: a manifest already seen, in l[owner[k]] */
        size_t *owner = NULL;
        size_t n_refs = 0, n = 0, n_seen = 0;
        int r;

        r = store_ref_list(s, &refs, &n_refs);
        if (r < 0)
                return r;
        l = calloc(n_refs ?: 1, sizeof(ImageInfo));
        manifests = calloc(n_refs ?: 1, sizeof(Digest));
        owner = calloc(n_refs ?: 1, sizeof(size_t));
        if (!l || !manifests || !owner) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t k = 0; k < n_refs; k++) {
                ImageInfo info = {};
                size_t at = SIZE_MAX;

                if (!refs[k].name || !media_type_is_manifest(refs[k].descriptor.media_type))
                        continue;
                for (size_t m = 0; m < n_seen; m++)
                        if (digest_equal(&manifests[m], &refs[k].descriptor.digest)) {
                                at = owner[m];
                                break;
                        }
                if (at == SIZE_MAX) {
                        r = image_info_load(s, &refs[k].descriptor.digest, &info, e);
                        if (r < 0)
                                continue; /* a broken image must not hide the others */
                        for (size_t m = 0; m < n; m++)
                                if (digest_equal(&l[m].id, &info.id)) {
                                        at = m;
                                        break;
                                }
                        if (at == SIZE_MAX) {
                                at = n;
                                l[n++] = info;
                        } else
                                image_info_done(&info);
                        manifests[n_seen] = refs[k].descriptor.digest;
                        owner[n_seen++] = at;
                }
                if (!strv_contains(l[at].names, refs[k].name)) {
                        r = strv_extend(&l[at].names, refs[k].name);
                        if (r < 0)
                                goto fail;
                }
        }
        for (size_t k = 0; k < n; k++)
                strv_sort(l[k].names);
        store_ref_list_free(refs, n_refs);
        free(manifests);
        free(owner);
        *ret = l;
        *ret_n = n;
        return 0;
fail:
        store_ref_list_free(refs, n_refs);
        free(manifests);
        free(owner);
        image_info_free_many(l, n);
        return r;
}

/* Find key as pods do (image_store_lookup), then its catalog entry.
 * ret_matched is the name key resolved to, or the id when key was one. */
static int catalog_find(Store *s, const char *key, ImageInfo *ret, char **ret_matched, PeapodError *e) {
        _cleanup_free_ char *matched = NULL;
        ImageInfo found = {}, *l = NULL;
        Digest manifest;
        size_t n = 0;
        int r;

        r = image_store_lookup(s, key, NULL, &matched, &manifest, e);
        if (r < 0)
                return r;
        /* Only a manifest names an image; a name pointing at an index
         * (another tool's entry) is not in the catalog. */
        r = image_info_load(s, &manifest, &found, NULL);
        if (r < 0)
                return -ENOENT;
        r = image_catalog_list(s, &l, &n, e);
        if (r < 0) {
                image_info_done(&found);
                return r;
        }
        r = -ENOENT;
        for (size_t k = 0; k < n; k++)
                if (digest_equal(&l[k].id, &found.id)) {
                        *ret = l[k];
                        memset(&l[k], 0, sizeof(l[k]));
                        r = 0;
                        break;
                }
        image_info_done(&found);
        image_info_free_many(l, n);
        if (r >= 0 && ret_matched)
                *ret_matched = TAKE_PTR(matched);
        return r;
}

int image_catalog_find(Store *s, const char *key, ImageInfo *ret, PeapodError *e) {
        return catalog_find(s, key, ret, NULL, e);
}

int image_name_normalize(const char *reference, char **ret, PeapodError *e) {
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *name = NULL;
        const char *reason = NULL;
        int r;

        r = image_reference_parse_reason(reference, &ref, &reason);
        if (r < 0)
                return peapod_error_set(e, -EINVAL, "Invalid image reference '%s': %s", reference, reason ?: strerror(-r));
        if (ref->digest)
                return peapod_error_set(e, -EINVAL, "'%s' has a digest: a name to give cannot", reference);
        if (!ref->registry) {
                ref->registry = strdup("localhost");
                if (!ref->registry)
                        return -ENOMEM;
        }
        r = image_reference_to_string(ref, &name);
        if (r < 0)
                return r;
        if (strlen(name) > STORE_REF_MAX)
                return peapod_error_set(e, -EINVAL, "Image reference '%s' is too long", reference);
        *ret = TAKE_PTR(name);
        return 0;
}

int image_catalog_tag(Store *s, const char *key, const char *reference, char **ret_name, PeapodError *e) {
        _cleanup_free_ char *name = NULL, *matched = NULL;
        Digest manifest;
        int r;

        r = image_name_normalize(reference, &name, e);
        if (r < 0)
                return r;
        r = image_store_lookup(s, key, NULL, &matched, &manifest, e);
        if (r < 0)
                return r;
        r = store_ref_set(s, name, &manifest, e);
        if (r < 0)
                return r;
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        return 0;
}

static int users_to_keep(const ImageUser *users, size_t n_users, Digest **ret, size_t *ret_n) {
        _cleanup_free_ Digest *keep = NULL;
        size_t n = 0;

        keep = calloc(n_users ?: 1, sizeof(Digest));
        if (!keep)
                return -ENOMEM;
        for (size_t i = 0; i < n_users; i++)
                /* An id that does not parse keeps nothing: it cannot name
                 * anything in the store either. */
                if (users[i].image_id && digest_parse(users[i].image_id, &keep[n]) >= 0)
                        n++;
        *ret = TAKE_PTR(keep);
        *ret_n = n;
        return 0;
}

int image_catalog_gc(Store *s, const ImageUser *users, size_t n_users, StoreGcStats *ret_stats, PeapodError *e) {
        _cleanup_free_ Digest *keep = NULL;
        size_t n_keep;
        int r;

        r = users_to_keep(users, n_users, &keep, &n_keep);
        if (r < 0)
                return r;
        r = store_gc(s, keep, n_keep, ret_stats);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to collect unused images: %s", strerror(-r));
        return 0;
}

int image_catalog_untag(Store *s, const char *key, const ImageUser *users, size_t n_users, bool force,
                        char ***ret_removed, bool *ret_collect, PeapodError *e) {
        _cleanup_free_ char *matched = NULL;
        _cleanup_strv_free_ char **remove = NULL, **removed = NULL, **pods = NULL;
        ImageInfo info = {};
        char id[DIGEST_STRING_MAX];
        int r;

        r = catalog_find(s, key, &info, &matched, e);
        if (r < 0)
                return r;
        digest_to_string(&info.id, id);
        if (strv_contains(info.names, matched))
                r = strv_extend(&remove, matched);
        else
                remove = strv_copy(info.names), r = remove ? 0 : -ENOMEM;
        if (r < 0)
                goto finish;

        if (strv_length(remove) >= strv_length(info.names) && !force) {
                for (size_t i = 0; i < n_users; i++)
                        if (streq_ptr(users[i].image_id, id) && users[i].pod && !strv_contains(pods, users[i].pod)) {
                                r = strv_extend(&pods, users[i].pod);
                                if (r < 0)
                                        goto finish;
                        }
                if (pods) {
                        _cleanup_free_ char *list = strv_join(pods, ", ");

                        r = peapod_error_set(e, -EBUSY, "Image %s is used by pod%s %s", key, pods[1] ? "s" : "",
                                             list ?: "(out of memory)");
                        goto finish;
                }
        }

        FOREACH_STRV(name, remove) {
                r = store_ref_remove(s, name);
                if (r == -ENOENT)
                        continue; /* someone else removed it meanwhile: as good */
                if (r < 0) {
                        r = peapod_error_set(e, r, "Failed to remove name %s: %s", name, strerror(-r));
                        goto finish;
                }
                r = strv_extend(&removed, name);
                if (r < 0)
                        goto finish;
        }

        /* Its last name gone, nothing but pods reaches the image any more. */
        r = 0;
        *ret_collect = strv_length(remove) >= strv_length(info.names);
        if (ret_removed)
                *ret_removed = TAKE_PTR(removed);
finish:
        image_info_done(&info);
        return r;
}

int image_catalog_remove(Store *s, const char *key, const ImageUser *users, size_t n_users, bool force,
                         char ***ret_removed, StoreGcStats *ret_stats, PeapodError *e) {
        StoreGcStats stats = {};
        bool collect = false;
        int r;

        r = image_catalog_untag(s, key, users, n_users, force, ret_removed, &collect, e);
        if (r < 0)
                return r;
        /* Should the gc fail, the names are gone all the same: the caller
         * learns both. */
        if (collect)
                r = image_catalog_gc(s, users, n_users, &stats, e);
        if (ret_stats)
                *ret_stats = stats;
        return r;
}
