/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <curl/curl.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "policy.h"
#include "reference.h"
#include "signature.h"
#include "string-util.h"
#include "strv.h"
#include "trust.h"

bool fingerprint_is_valid(const char *s) {
        size_t n = strlen(s);

        /* v4 fingerprints are 40 hex digits, v5 ones 64. */
        if (n != 40 && n != 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("0123456789ABCDEF", s[i]))
                        return false;
        return true;
}

void trusted_key_free_many(TrustedKey *k, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(k[i].fingerprint);
                free(k[i].prefix);
                free(k[i].uid);
                free(k[i].path);
        }
        free(k);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static char *prefix_escape(const char *prefix) {
        char *s = strdup(prefix);
        for (char *p = s; p && *p; p++)
                if (*p == '/')
                        *p = ',';
        return s;
}

static char *prefix_unescape(const char *name) {
        char *s = strdup(name);
        for (char *p = s; p && *p; p++)
                if (*p == ',')
                        *p = '/';
        return s;
}

static int key_file_path(const char *dir, const char *prefix, const char *fpr, char **ret) {
        _cleanup_free_ char *esc = NULL;

        if (!prefix)
                return asprintf(ret, "%s/root.d/%s.gpg", dir, fpr) < 0 ? -ENOMEM : 0;
        esc = prefix_escape(prefix);
        if (!esc)
                return -ENOMEM;
        return asprintf(ret, "%s/prefix.d/%s/%s.gpg", dir, esc, fpr) < 0 ? -ENOMEM : 0;
}

int trust_store_add(const char *dir, const void *key, size_t size, const char *prefix, GpgKeyInfo *ret_info,
                    PeapodError *e) {
        _cleanup_free_ char *path = NULL, *parent = NULL;
        GpgKeyInfo info = {};
        int r;

        dir = dir ?: TRUST_KEYS_DIR;
        /* Bounded here, for every caller: the key goes to gpg and to disk. */
        if (size == 0 || size > GPG_KEY_SIZE_MAX)
                return peapod_error_set(e, -EINVAL, "Invalid key size");
        if (prefix && !registry_prefix_is_valid(prefix))
                return peapod_error_set(e, -EINVAL, "'%s' is not a registry[/repository] prefix", prefix);
        r = gpg_key_inspect(key, size, &info, e);
        if (r < 0)
                return r;
        r = key_file_path(dir, prefix, info.fingerprint, &path);
        if (r >= 0) {
                parent = strdup(path);
                r = parent ? 0 : -ENOMEM;
        }
        if (r >= 0) {
                *strrchr(parent, '/') = 0;
                r = mkdir_p(parent, 0755);
                if (r < 0)
                        peapod_error_set(e, r, "Failed to make %s: %s", parent, strerror(-r));
        }
        if (r >= 0) {
                r = write_file_atomic(path, key, size, 0644);
                if (r < 0)
                        peapod_error_set(e, r, "Failed to write %s: %s", path, strerror(-r));
        }
        if (r < 0 || !ret_info)
                gpg_key_info_done(&info);
        else
                *ret_info = info;
        return r;
}

/* Calls f for each "<FPR>.gpg" in dir/sub; prefix NULL for root.d. */
typedef int (*KeyFileFn)(const char *path, const char *fpr, const char *prefix, void *userdata);

static int key_dir_foreach(const char *dir, const char *prefix, KeyFileFn f, void *userdata) {
        _cleanup_(closedirp) DIR *d = opendir(dir);
        struct dirent *de;
        int r;

        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *fpr = NULL, *path = NULL;
                const char *dot = strrchr(de->d_name, '.');

                if (!dot || !streq(dot, ".gpg"))
                        continue;
                fpr = strndup(de->d_name, dot - de->d_name);
                if (!fpr)
                        return -ENOMEM;
                if (!fingerprint_is_valid(fpr))
                        continue;
                if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                        return -ENOMEM;
                r = f(path, fpr, prefix, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int key_store_foreach(const char *dir, KeyFileFn f, void *userdata) {
        _cleanup_free_ char *root = NULL, *pfx = NULL;
        _cleanup_(closedirp) DIR *d = NULL;
        struct dirent *de;
        int r;

        if (asprintf(&root, "%s/root.d", dir) < 0 || asprintf(&pfx, "%s/prefix.d", dir) < 0)
                return -ENOMEM;
        r = key_dir_foreach(root, NULL, f, userdata);
        if (r < 0)
                return r;
        d = opendir(pfx);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        while ((de = readdir(d))) {
                _cleanup_free_ char *prefix = NULL, *sub = NULL;

                if (de->d_name[0] == '.')
                        continue;
                prefix = prefix_unescape(de->d_name);
                if (!prefix)
                        return -ENOMEM;
                if (!registry_prefix_is_valid(prefix))
                        continue;
                if (asprintf(&sub, "%s/%s", pfx, de->d_name) < 0)
                        return -ENOMEM;
                r = key_dir_foreach(sub, prefix, f, userdata);
                if (r < 0)
                        return r;
        }
        return 0;
}

typedef struct KeyList {
        TrustedKey *keys;
        size_t n;
} KeyList;

static int key_list_add(const char *path, const char *fpr, const char *prefix, void *userdata) {
        KeyList *l = userdata;
        _cleanup_free_ char *text = NULL;
        GpgKeyInfo info = {};
        TrustedKey *n;
        size_t size;

        if (l->n >= TRUST_KEYS_MAX)
                return -E2BIG;
        n = reallocarray(l->keys, l->n + 1, sizeof(TrustedKey));
        if (!n)
                return -ENOMEM;
        l->keys = n;
        n = &l->keys[l->n++];
        *n = (TrustedKey) {};
        if (read_file(path, GPG_KEY_SIZE_MAX, &text, &size) >= 0 && gpg_key_inspect(text, size, &info, NULL) >= 0) {
                n->uid = TAKE_PTR(info.uid);
                gpg_key_info_done(&info);
        }
        n->fingerprint = strdup(fpr);
        n->path = strdup(path);
        n->prefix = prefix ? strdup(prefix) : NULL;
        if (!n->fingerprint || !n->path || (prefix && !n->prefix))
                return -ENOMEM;
        return 0;
}

int trust_store_list(const char *dir, TrustedKey **ret, size_t *ret_n, PeapodError *e) {
        KeyList l = {};
        int r;

        dir = dir ?: TRUST_KEYS_DIR;
        r = key_store_foreach(dir, key_list_add, &l);
        if (r < 0) {
                trusted_key_free_many(l.keys, l.n);
                return peapod_error_set(e, r, "Failed to read the trust store %s: %s", dir, strerror(-r));
        }
        *ret = l.keys;
        *ret_n = l.n;
        return 0;
}

typedef struct KeyRemoval {
        const char *fingerprint;
        unsigned removed;
} KeyRemoval;

static int key_remove_one(const char *path, const char *fpr, const char *prefix, void *userdata) {
        KeyRemoval *k = userdata;

        if (!streq(fpr, k->fingerprint))
                return 0;
        if (unlink(path) < 0)
                return -errno;
        if (prefix) {
                /* An empty prefix directory says nothing: drop it. */
                _cleanup_free_ char *parent = strdup(path);
                if (parent) {
                        *strrchr(parent, '/') = 0;
                        (void) rmdir(parent);
                }
        }
        k->removed++;
        return 0;
}

int trust_store_remove(const char *dir, const char *fingerprint, PeapodError *e) {
        _cleanup_free_ char *upper = strdup(fingerprint);
        KeyRemoval k = {};
        int r;

        if (!upper)
                return -ENOMEM;
        for (char *p = upper; *p; p++)
                *p = (char) (*p >= 'a' && *p <= 'f' ? *p - 'a' + 'A' : *p);
        if (!fingerprint_is_valid(upper))
                return peapod_error_set(e, -EINVAL, "'%s' is not a key fingerprint (40 hex digits)", fingerprint);
        dir = dir ?: TRUST_KEYS_DIR;
        k.fingerprint = upper;
        r = key_store_foreach(dir, key_remove_one, &k);
        if (r < 0)
                return peapod_error_set(e, r, "Failed to remove key %s: %s", upper, strerror(-r));
        if (k.removed == 0)
                return peapod_error_set(e, -ENOENT, "No trusted key %s", upper);
        return (int) k.removed;
}

typedef struct KeysFor {
        const char *name;
        char **paths;
} KeysFor;

static int keys_for_add(const char *path, const char *fpr, const char *prefix, void *userdata) {
        KeysFor *k = userdata;

        if (prefix && !scope_covers(prefix, k->name))
                return 0;
        if (strv_length(k->paths) >= TRUST_KEYS_MAX)
                return -E2BIG;
        return strv_extend(&k->paths, path);
}

int trust_store_keys_for(const char *dir, const char *name, char ***ret, PeapodError *e) {
        KeysFor k = { .name = name };
        int r;

        dir = dir ?: TRUST_KEYS_DIR;
        r = key_store_foreach(dir, keys_for_add, &k);
        if (r < 0) {
                strv_free(k.paths);
                return peapod_error_set(e, r, "Failed to read the trust store %s: %s", dir, strerror(-r));
        }
        *ret = k.paths;
        return 0;
}

/* --- lookaside --- */

int lookaside_signature_url(const char *lookaside, const char *repository, const Digest *manifest, unsigned n,
                            char **ret) {
        const char *base = lookaside;
        size_t len = strlen(base);

        while (len > 0 && base[len - 1] == '/')
                len--;
        return asprintf(ret, "%.*s/%s@%s=%s/signature-%u", (int) len, base, repository,
                        digest_algorithm_to_string(manifest->algorithm), manifest->hex, n) < 0
                       ? -ENOMEM
                       : 0;
}

typedef struct Fetch {
        char *data;
        size_t size;
        bool too_big;
} Fetch;

static size_t fetch_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
        Fetch *f = userdata;
        size_t n = size * nmemb;
        char *d;

        if (f->size + n > GPG_SIGNATURE_SIZE_MAX) {
                f->too_big = true;
                return 0;
        }
        d = realloc(f->data, f->size + n + 1);
        if (!d)
                return 0;
        memcpy(d + f->size, ptr, n);
        f->data = d;
        f->size += n;
        f->data[f->size] = 0;
        return n;
}

static void curl_easy_freep(CURL **c) {
        if (*c)
                curl_easy_cleanup(*c);
}

static int lookaside_fetch_http(const char *url, char **ret, size_t *ret_size, PeapodError *e) {
        _cleanup_(curl_easy_freep) CURL *c = NULL;
        Fetch f = {};
        CURLcode cc;
        long status = 0;

        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return -EIO;
        c = curl_easy_init();
        if (!c)
                return -ENOMEM;
        if (curl_easy_setopt(c, CURLOPT_URL, url) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_TIMEOUT, 120L) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, fetch_write) != CURLE_OK ||
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &f) != CURLE_OK)
                return -EIO;
        cc = curl_easy_perform(c);
        (void) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        if (cc == CURLE_OK && (status == 404 || status == 410)) {
                free(f.data);
                return -ENOENT;
        }
        if (f.too_big) {
                free(f.data);
                return peapod_error_set(e, -E2BIG, "%s: signature larger than %d bytes", url, GPG_SIGNATURE_SIZE_MAX);
        }
        if (cc != CURLE_OK || status != 200) {
                free(f.data);
                return peapod_error_set(e, -EIO, "Failed to fetch %s: %s", url,
                                        cc != CURLE_OK ? curl_easy_strerror(cc) : "unexpected HTTP status");
        }
        *ret = f.data ?: strdup("");
        *ret_size = f.size;
        return *ret ? 0 : -ENOMEM;
}

int lookaside_fetch(const char *url, char **ret, size_t *ret_size, PeapodError *e) {
        const char *path = startswith(url, "file://");
        int r;

        if (path) {
                r = read_file(path, GPG_SIGNATURE_SIZE_MAX, ret, ret_size);
                if (r == -ENOENT)
                        return r;
                if (r < 0)
                        return peapod_error_set(e, r, "Failed to read %s: %s", path, strerror(-r));
                return 0;
        }
        if (startswith(url, "http://") || startswith(url, "https://"))
                return lookaside_fetch_http(url, ret, ret_size, e);
        return peapod_error_set(e, -EINVAL, "Unsupported lookaside URL %s", url);
}

/* --- the decision --- */

/* The policy's verdict before any signature is looked at: 1 if signatures
 * must be checked (ret_keys: the trusted key files), 0 if accepted as is. */
static int trust_policy_keys(const TrustOptions *o, const ImageReference *ref, const char *reference, char ***ret_keys,
                             PeapodError *e) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_strv_free_ char **keys = NULL;
        _cleanup_free_ char *name = NULL;
        const PolicyEntry *x;
        int r;

        r = policy_load(o->policy, &p, e);
        if (r < 0)
                return r == -ENOENT ? -EACCES : r;
        x = policy_lookup(p, reference);
        if (!x)
                return -ENOMEM;
        switch (x->type) {
        case POLICY_REJECT:
                return peapod_error_set(e, -EACCES, "%s: rejected by policy (%s)", reference, x->scope ?: "default");
        case POLICY_INSECURE_ACCEPT_ANYTHING:
                return 0;
        case POLICY_SIGNED_BY:
                break;
        default:
                return -EINVAL;
        }
        if (asprintf(&name, "%s/%s", ref->registry, ref->repository) < 0)
                return -ENOMEM;
        r = trust_store_keys_for(o->keys_dir, name, &keys, e);
        if (r < 0)
                return r;
        if (x->key_path) {
                r = strv_extend(&keys, x->key_path);
                if (r < 0)
                        return r;
        }
        if (strv_length(keys) == 0)
                return peapod_error_set(e, -EACCES,
                                        "%s: the policy requires a signature and no key is trusted for it (see 'peapod trust add')",
                                        reference);
        *ret_keys = TAKE_PTR(keys);
        return 1;
}

/* Same identity: the repository, and the tag unless the pull named a digest
 * only (then the digest check is what binds the signature). */
static bool signature_identity_matches(const ImageReference *ref, const char *signed_reference) {
        _cleanup_(image_reference_freep) ImageReference *s = NULL;

        if (image_reference_parse(signed_reference, &s) < 0 || !s->registry)
                return false;
        if (!streq(s->registry, ref->registry) || !streq(s->repository, ref->repository))
                return false;
        if (ref->tag)
                return streq_ptr(s->tag, ref->tag);
        return true;
}

static int check_one_signature(GpgVerifier *v, const ImageReference *ref, const Digest *manifest, const char *data,
                               size_t size, char **ret_signer, PeapodError *e) {
        _cleanup_(simple_signature_freep) SimpleSignature *sig = NULL;
        _cleanup_free_ char *payload = NULL, *signer = NULL;
        char buf[DIGEST_STRING_MAX];
        size_t n;
        int r;

        r = gpg_verifier_verify_opaque(v, data, size, &payload, &n, &signer, e);
        if (r < 0)
                return r;
        r = simple_signature_parse(payload, n, &sig, e);
        if (r < 0)
                return r;
        if (!streq(sig->manifest_digest, digest_to_string(manifest, buf)))
                return peapod_error_set(e, -EBADMSG, "signature is for another image digest (%s)", sig->manifest_digest);
        if (!signature_identity_matches(ref, sig->docker_reference))
                return peapod_error_set(e, -EBADMSG, "signature is for another reference (%.255s)", sig->docker_reference);
        *ret_signer = TAKE_PTR(signer);
        return 0;
}

int trust_verify_image(const TrustOptions *o, const char *reference, const Digest *manifest, char **ret_how,
                       PeapodError *e) {
        static const TrustOptions defaults = {};
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_(gpg_verifier_freep) GpgVerifier *v = NULL;
        _cleanup_strv_free_ char **keys = NULL;
        PeapodError first = {};
        const char *lookaside;
        char *how;
        int r, first_r = 0;

        o = o ?: &defaults;
        r = image_reference_parse(reference, &ref);
        if (r < 0 || !ref->registry)
                return peapod_error_set(e, -EINVAL, "Invalid image reference '%s'", reference);
        r = trust_policy_keys(o, ref, reference, &keys, e);
        if (r < 0)
                return r;
        if (r == 0) {
                if (ret_how && !(*ret_how = strdup("insecureAcceptAnything")))
                        return -ENOMEM;
                return 0;
        }
        r = registries_conf_load(o->registries_conf, &conf, e);
        if (r < 0)
                return r;
        lookaside = registries_conf_lookaside(conf, ref->registry, ref->repository);
        if (!lookaside)
                return peapod_error_set(e, -EACCES, "%s: no signature (no lookaside is configured for it in registries.conf)",
                                        reference);
        r = gpg_verifier_new(keys, &v, e);
        if (r < 0)
                return r;

        /* Any one good signature is enough; if none is, the first one's
         * reason is what the operator needs to read. */
        for (unsigned n = 1; n <= TRUST_SIGNATURES_MAX; n++) {
                _cleanup_free_ char *url = NULL, *data = NULL, *signer = NULL;
                PeapodError one = {};
                size_t size;

                r = lookaside_signature_url(lookaside, ref->repository, manifest, n, &url);
                if (r < 0)
                        return r;
                r = lookaside_fetch(url, &data, &size, &one);
                if (r == -ENOENT)
                        break;
                if (r >= 0)
                        r = check_one_signature(v, ref, manifest, data, size, &signer, &one);
                if (r >= 0) {
                        if (ret_how) {
                                if (asprintf(&how, "signed by %s", signer) < 0)
                                        return -ENOMEM;
                                *ret_how = how;
                        }
                        return 0;
                }
                if (first_r == 0) {
                        first_r = r;
                        first = one;
                }
        }
        if (first_r == 0)
                return peapod_error_set(e, -EACCES, "%s: no signature", reference);
        return peapod_error_set(e, first_r, "%s: %s", reference, first.message);
}

int trust_verify_detached(const TrustOptions *o, const char *reference, int fd, const void *sig, size_t sig_size,
                          char **ret_how, PeapodError *e) {
        static const TrustOptions defaults = {};
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_(gpg_verifier_freep) GpgVerifier *v = NULL;
        _cleanup_strv_free_ char **keys = NULL;
        _cleanup_free_ char *signer = NULL;
        PeapodError one = {};
        int r;

        o = o ?: &defaults;
        r = image_reference_parse(reference, &ref);
        if (r < 0 || !ref->registry)
                return peapod_error_set(e, -EINVAL, "Invalid image reference '%s'", reference);
        r = trust_policy_keys(o, ref, reference, &keys, e);
        if (r < 0)
                return r;
        if (r == 0) {
                if (ret_how && !(*ret_how = strdup("insecureAcceptAnything")))
                        return -ENOMEM;
                return 0;
        }
        if (!sig)
                return peapod_error_set(e, -EACCES, "%s: no signature", reference);
        r = gpg_verifier_new(keys, &v, e);
        if (r < 0)
                return r;
        r = gpg_verifier_verify_detached(v, fd, sig, sig_size, &signer, &one);
        if (r < 0)
                return peapod_error_set(e, r, "%s: %s", reference, one.message);
        if (ret_how && asprintf(ret_how, "signed by %s", signer) < 0)
                return -ENOMEM;
        return 0;
}
