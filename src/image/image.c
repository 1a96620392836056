/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "image.h"
#include "json-util.h"
#include "manifest.h"
#include "reference.h"
#include "string-util.h"
#include "strv.h"

#define IMAGE_CONFIG_MAX (1024 * 1024)
#define new0(t, n) ((t *) calloc((n), sizeof(t)))

Image *image_free(Image *i) {
        if (!i)
                return NULL;
        free(i->name);
        free(i->id);
        strv_free(i->layers);
        strv_free(i->entrypoint);
        strv_free(i->cmd);
        strv_free(i->env);
        free(i->workdir);
        free(i->user);
        free(i);
        return NULL;
}

static bool image_id_prefix_is_valid(const char *s) {
        size_t n;

        s = startswith(s, "sha256:") ?: s;
        n = strlen(s);
        if (n < IMAGE_ID_PREFIX_MIN || n > DIGEST_HEX_MAX)
                return false;
        return strspn(s, "0123456789abcdef") == n;
}

const char *image_reference_invalid_reason(const char *ref) {
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        const char *reason = NULL;
        int k;

        if (isempty(ref))
                return "it is empty";
        if (strlen(ref) > STORE_REF_MAX)
                return "it is too long";
        if (image_id_prefix_is_valid(ref))
                return NULL;
        k = image_reference_parse_reason(ref, &r, &reason);
        if (k >= 0)
                return NULL;
        return reason ?: "it cannot be parsed";
}

bool image_reference_is_valid(const char *ref) {
        return !image_reference_invalid_reason(ref);
}

int image_load_manifest(Store *s, const Digest *manifest, Manifest **ret_m, ImageConfig **ret_c, PeapodError *e) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r;

        r = store_blob_read(s, manifest, MANIFEST_SIZE_MAX, &text, &size, e);
        if (r < 0)
                return r;
        r = manifest_parse(text, size, NULL, &m, e);
        if (r < 0)
                return r;
        text = mfree(text);
        r = store_blob_read(s, &m->config.digest, MANIFEST_SIZE_MAX, &text, &size, e);
        if (r < 0)
                return r;
        r = image_config_parse(text, size, &c, e);
        if (r < 0)
                return r;
        r = manifest_check_config(m, c, e);
        if (r < 0)
                return r;
        *ret_m = TAKE_PTR(m);
        *ret_c = TAKE_PTR(c);
        return 0;
}

/* The manifest of a stored manifest or index (the host's entry). */
int image_platform_manifest(Store *s, const Digest *d, Digest *ret, PeapodError *e) {
        _cleanup_(manifest_index_freep) ManifestIndex *index = NULL;
        _cleanup_free_ char *text = NULL;
        const char *os, *arch, *variant;
        const Descriptor *pick;
        MediaType type;
        size_t size;
        int r;

        r = store_blob_read(s, d, MANIFEST_SIZE_MAX, &text, &size, e);
        if (r < 0)
                return r;
        r = manifest_detect(text, size, NULL, &type, e);
        if (r < 0)
                return r;
        if (!media_type_is_index(type)) {
                *ret = *d;
                return 0;
        }
        r = manifest_index_parse(text, size, NULL, &index, e);
        if (r < 0)
                return r;
        manifest_host_platform(&os, &arch, &variant);
        r = manifest_index_select(index, os, arch, NULL, &pick);
        if (r < 0)
                return peapod_error_set(e, r, "No image for %s/%s in index %s", os, arch,
                                        digest_to_string(d, (char[DIGEST_STRING_MAX]) {}));
        /* One level only: an index of indexes is not something images use. */
        *ret = pick->digest;
        return 0;
}

static int image_from_manifest(Store *s, const char *name, const Digest *manifest, Image **ret, PeapodError *e) {
        _cleanup_(image_freep) Image *i = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ Digest *chain = NULL;
        char a[DIGEST_STRING_MAX];
        Digest platform;
        int r;

        /* A ref another tool set on an index: the host's entry. */
        r = image_platform_manifest(s, manifest, &platform, e);
        if (r < 0)
                return r;
        r = image_load_manifest(s, &platform, &m, &c, e);
        if (r < 0)
                return r;
        if (c->n_diff_ids == 0)
                return peapod_error_set(e, -EMEDIUMTYPE, "%s has no layers", name);
        r = layer_chain_ids(c->diff_ids, c->n_diff_ids, &chain);
        if (r < 0)
                return r;

        i = new0(Image, 1);
        if (!i)
                return -ENOMEM;
        i->name = strdup(name);
        i->id = digest_to_string_alloc(&m->config.digest);
        i->layers = new0(char *, c->n_diff_ids + 1);
        if (!i->name || !i->id || !i->layers)
                return -ENOMEM;
        /* overlayfs stacks lowerdir=A:B with A on top: the last layer first. */
        for (size_t k = 0; k < c->n_diff_ids; k++) {
                const Digest *d = &chain[c->n_diff_ids - 1 - k];
                struct stat st;

                if (asprintf(&i->layers[k], "%s/layers/%s", store_root(s), d->hex) < 0) {
                        i->layers[k] = NULL;
                        return -ENOMEM;
                }
                if (stat(i->layers[k], &st) < 0 || !S_ISDIR(st.st_mode))
                        return peapod_error_set(e, -ENOENT, "Layer %s of %s is not unpacked in the store; pull it again",
                                                digest_to_string(d, a), name);
        }
        i->entrypoint = TAKE_PTR(c->entrypoint);
        i->cmd = TAKE_PTR(c->cmd);
        i->env = TAKE_PTR(c->env);
        i->workdir = TAKE_PTR(c->working_dir);
        i->user = TAKE_PTR(c->user);
        *ret = TAKE_PTR(i);
        return 0;
}

/* The ref whose manifest's config has this id (prefix). */
static int find_by_id(Store *s, const char *prefix, Digest *ret_manifest, PeapodError *e) {
        StoreRef *refs = NULL;
        size_t n = 0;
        Digest found = {}, found_id = {};
        bool have = false;
        int r;

        prefix = startswith(prefix, "sha256:") ?: prefix;
        r = store_ref_list(s, &refs, &n);
        if (r < 0)
                return r;
        for (size_t k = 0; k < n; k++) {
                _cleanup_(manifest_freep) Manifest *m = NULL;
                _cleanup_free_ char *text = NULL;
                size_t size;

                if (store_blob_read(s, &refs[k].descriptor.digest, MANIFEST_SIZE_MAX, &text, &size, NULL) < 0 ||
                    manifest_parse(text, size, NULL, &m, NULL) < 0)
                        continue; /* an index or something broken: not what an id names */
                if (!startswith(m->config.digest.hex, prefix))
                        continue;
                if (have && !digest_equal(&found_id, &m->config.digest)) {
                        store_ref_list_free(refs, n);
                        return peapod_error_set(e, -ENOTUNIQ, "Image id prefix %s is ambiguous", prefix);
                }
                have = true;
                found = refs[k].descriptor.digest;
                found_id = m->config.digest;
        }
        store_ref_list_free(refs, n);
        if (!have)
                return -ENOENT;
        *ret_manifest = found;
        return 0;
}

/* REPOSITORY@DIGEST for an image the store holds under a tag of the same
 * repository: a pull by tag records the name with the tag only, yet the
 * manifest it stored is the one that digest names (kubelet asks by the
 * repo digest that ImageStatus reported). The digest must be the stored
 * manifest's own, so this never picks another manifest of the repository. */
static int find_by_repo_digest(Store *s, const ImageReference *want, Digest *ret_manifest) {
        StoreRef *refs = NULL;
        Digest d;
        size_t n = 0;
        int r;

        if (!want->digest || digest_parse(want->digest, &d) < 0)
                return -ENOENT;
        r = store_ref_list(s, &refs, &n);
        if (r < 0)
                return r;
        r = -ENOENT;
        for (size_t k = 0; k < n && r == -ENOENT; k++) {
                _cleanup_(image_reference_freep) ImageReference *have = NULL;

                if (!refs[k].name || !digest_equal(&refs[k].descriptor.digest, &d) ||
                    image_reference_parse(refs[k].name, &have) < 0)
                        continue;
                if (streq_ptr(have->registry, want->registry) && streq_ptr(have->repository, want->repository))
                        r = 0;
        }
        store_ref_list_free(refs, n);
        if (r >= 0)
                *ret_manifest = d;
        return r;
}

/* A name in the store: its own ref, else (REPOSITORY@DIGEST) the manifest a
 * tag of that repository holds. */
static int store_name_get(Store *s, const ImageReference *r, const char *name, Digest *ret_manifest) {
        int q;

        q = store_ref_get(s, name, ret_manifest);
        if (q == -ENOENT && r->digest)
                q = find_by_repo_digest(s, r, ret_manifest);
        return q;
}

int image_store_lookup(Store *s, const char *ref, const char *registries_conf, char **ret_name, Digest *ret_manifest,
                       PeapodError *e) {
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_free_ char *name = NULL;
        const char *reason;
        Digest manifest;
        int q;

        reason = image_reference_invalid_reason(ref);
        if (reason)
                return peapod_error_set(e, -EINVAL, "Invalid image reference '%s': %s", ref, reason);

        if (image_reference_parse(ref, &r) >= 0) {
                if (!r->registry) {
                        /* Imported images first: "busybox" is localhost/busybox:latest
                         * when that was imported, whatever registries.conf says. */
                        _cleanup_(image_reference_freep) ImageReference *local = NULL;

                        q = image_reference_parse(ref, &local);
                        if (q < 0)
                                return q;
                        local->registry = strdup("localhost");
                        if (!local->registry)
                                return -ENOMEM;
                        q = image_reference_to_string(local, &name);
                        if (q < 0)
                                return q;
                        q = store_name_get(s, local, name, &manifest);
                        if (q >= 0)
                                goto found;
                        if (q != -ENOENT)
                                return q;
                        name = mfree(name);

                        /* Then as a pull would have named it. No search
                         * registry configured: not an error here, just not found. */
                        q = registries_conf_load(registries_conf, &conf, NULL);
                        if (q >= 0 && image_reference_resolve(r, conf, NULL) < 0)
                                q = -ENOENT;
                } else
                        q = 0;
                if (q >= 0) {
                        q = image_reference_to_string(r, &name);
                        if (q < 0)
                                return q;
                        q = store_name_get(s, r, name, &manifest);
                        if (q >= 0)
                                goto found;
                }
                if (q != -ENOENT)
                        return q;
        }
        if (image_id_prefix_is_valid(ref)) {
                q = find_by_id(s, ref, &manifest, e);
                if (q < 0 && q != -ENOENT)
                        return q;
                if (q >= 0) {
                        name = strdup(ref);
                        if (!name)
                                return -ENOMEM;
                        goto found;
                }
        }
        return peapod_error_set(e, -ENOENT, "Image not found: %s", ref);
found:
        if (ret_name)
                *ret_name = TAKE_PTR(name);
        *ret_manifest = manifest;
        return 0;
}

int image_find_in_store(Store *s, const char *ref, const char *registries_conf, Image **ret, PeapodError *e) {
        _cleanup_free_ char *name = NULL;
        Digest manifest;
        int r;

        r = image_store_lookup(s, ref, registries_conf, &name, &manifest, e);
        if (r < 0)
                return r;
        return image_from_manifest(s, name, &manifest, ret, e);
}

int image_find(const char *ref, const char *store_root, Image **ret, PeapodError *e) {
        _cleanup_(store_freep) Store *s = NULL;
        const char *reason;
        int r;

        reason = image_reference_invalid_reason(ref);
        if (reason)
                return peapod_error_set(e, -EINVAL, "Invalid image reference '%s': %s", ref, reason);
        r = store_open(store_root, &s);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to open the image store: %s", strerror(-r));
        return image_find_in_store(s, ref, NULL, ret, e);
}

int image_resolve_command(const Image *i, char * const *exec, char * const *args, char ***ret) {
        _cleanup_strv_free_ char **c = NULL;
        int r;

        if (exec) {
                c = strv_copy(exec);
                if (!c)
                        return -ENOMEM;
        } else {
                c = strv_copy(i->entrypoint);
                if (!c)
                        return -ENOMEM;
                FOREACH_STRV(s, args ?: i->cmd) {
                        r = strv_extend(&c, s);
                        if (r < 0)
                                return r;
                }
        }
        if (strv_length(c) == 0 || isempty(c[0]))
                return -EINVAL;
        *ret = TAKE_PTR(c);
        return 0;
}
