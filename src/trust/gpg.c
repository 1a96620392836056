/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <gpgme.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "gpg.h"
#include "strv.h"

struct GpgVerifier {
        char *home;
        gpgme_ctx_t ctx;
        char **fingerprints; /* primary keys imported */
};

static void gpgme_ctx_releasep(gpgme_ctx_t *c) {
        if (*c)
                gpgme_release(*c);
}
static void gpgme_data_releasep(gpgme_data_t *d) {
        if (*d)
                gpgme_data_release(*d);
}
static void gpgme_key_unrefp(gpgme_key_t *k) {
        if (*k)
                gpgme_key_unref(*k);
}

static pthread_once_t gpgme_once = PTHREAD_ONCE_INIT;
static const char *gpgme_version;

/* gpgme_check_version() initialises the library; once per process, before
 * any other thread uses it. */
static void gpgme_init(void) {
        gpgme_version = gpgme_check_version(NULL);
}

static int gpg_error_to_errno(gpgme_error_t err) {
        int r = gpgme_err_code_to_errno(gpgme_err_code(err));
        return r > 0 ? -r : -EIO;
}

static int gpg_context_new(const char *home, gpgme_ctx_t *ret, PeapodError *e) {
        _cleanup_(gpgme_ctx_releasep) gpgme_ctx_t ctx = NULL;
        gpgme_error_t err;

        (void) pthread_once(&gpgme_once, gpgme_init);
        if (!gpgme_version)
                return peapod_error_set(e, -ENOTSUP, "gpgme could not be initialised");
        err = gpgme_new(&ctx);
        if (!err)
                err = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP);
        if (!err && home)
                err = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home);
        if (err)
                return peapod_error_set(e, gpg_error_to_errno(err), "Failed to set up gpg: %s", gpgme_strerror(err));
        gpgme_set_offline(ctx, 1);
        *ret = TAKE_PTR(ctx);
        return 0;
}

GpgVerifier *gpg_verifier_free(GpgVerifier *v) {
        if (!v)
                return NULL;
        if (v->ctx)
                gpgme_release(v->ctx);
        if (v->home)
                (void) rm_rf(v->home);
        free(v->home);
        strv_free(v->fingerprints);
        free(v);
        return NULL;
}

/* A fresh home: mkdtemp makes it 0700 (gpg insists); gpg.conf keeps gpg
 * from starting an agent or asking a keyserver for anything. */
static int gpg_home_new(GpgVerifier *v, PeapodError *e) {
        _cleanup_free_ char *conf = NULL;
        char t[] = "/tmp/peapod-gpg.XXXXXX";
        static const char conf_text[] = "no-autostart\nno-auto-key-retrieve\n";

        if (!mkdtemp(t))
                return peapod_error_set(e, -errno, "Failed to make a gpg home: %m");
        v->home = strdup(t);
        if (!v->home) {
                (void) rmdir(t);
                return -ENOMEM;
        }
        if (asprintf(&conf, "%s/gpg.conf", v->home) < 0)
                return -ENOMEM;
        if (write_file_atomic(conf, conf_text, sizeof(conf_text) - 1, 0600) < 0)
                return peapod_error_set(e, -EIO, "Failed to write %s", conf);
        return gpg_context_new(v->home, &v->ctx, e);
}

static int gpg_import(gpgme_ctx_t ctx, const void *data, size_t size, char ***fingerprints, PeapodError *e) {
        _cleanup_(gpgme_data_releasep) gpgme_data_t d = NULL;
        gpgme_import_result_t res;
        gpgme_error_t err;

        if (size > GPG_KEY_SIZE_MAX)
                return peapod_error_set(e, -E2BIG, "Key file is larger than %d bytes", GPG_KEY_SIZE_MAX);
        err = gpgme_data_new_from_mem(&d, data, size, 0);
        if (!err)
                err = gpgme_op_import(ctx, d);
        if (err)
                return peapod_error_set(e, -EBADMSG, "Not a usable OpenPGP key: %s", gpgme_strerror(err));
        res = gpgme_op_import_result(ctx);
        if (!res || res->considered == 0 || res->imported + res->unchanged == 0)
                return peapod_error_set(e, -EBADMSG, "No OpenPGP public key found");
        if (res->secret_read > 0)
                return peapod_error_set(e, -EPERM, "The file holds a secret key: give the public key only");
        for (gpgme_import_status_t i = res->imports; fingerprints && i; i = i->next)
                if (i->fpr && !i->result && strv_extend(fingerprints, i->fpr) < 0)
                        return -ENOMEM;
        return 0;
}

void gpg_key_info_done(GpgKeyInfo *k) {
        free(k->fingerprint);
        free(k->uid);
        *k = (GpgKeyInfo) {};
}

int gpg_key_inspect(const void *data, size_t size, GpgKeyInfo *ret, PeapodError *e) {
        _cleanup_(gpg_verifier_freep) GpgVerifier *v = NULL;
        _cleanup_(gpgme_key_unrefp) gpgme_key_t key = NULL, extra = NULL;
        GpgKeyInfo k = {};
        gpgme_error_t err;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        r = gpg_home_new(v, e);
        if (r < 0)
                return r;
        r = gpg_import(v->ctx, data, size, NULL, e);
        if (r < 0)
                return r;
        err = gpgme_op_keylist_start(v->ctx, NULL, 0);
        if (!err)
                err = gpgme_op_keylist_next(v->ctx, &key);
        if (err)
                return peapod_error_set(e, -EBADMSG, "No OpenPGP public key found: %s", gpgme_strerror(err));
        if (!gpgme_op_keylist_next(v->ctx, &extra))
                return peapod_error_set(e, -E2BIG, "The file holds more than one key: give one key per file");
        (void) gpgme_op_keylist_end(v->ctx);
        if (!key->fpr || strlen(key->fpr) < 32)
                return peapod_error_set(e, -EBADMSG, "The key has no fingerprint");
        k.fingerprint = strdup(key->fpr);
        k.uid = key->uids && key->uids->uid ? strdup(key->uids->uid) : NULL;
        k.revoked = key->revoked;
        k.expired = key->expired;
        if (!k.fingerprint || (key->uids && key->uids->uid && !k.uid)) {
                gpg_key_info_done(&k);
                return -ENOMEM;
        }
        *ret = k;
        return 0;
}

int gpg_verifier_new(char * const *key_files, GpgVerifier **ret, PeapodError *e) {
        _cleanup_(gpg_verifier_freep) GpgVerifier *v = NULL;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        r = gpg_home_new(v, e);
        if (r < 0)
                return r;
        FOREACH_STRV(f, key_files) {
                _cleanup_free_ char *text = NULL;
                size_t size;

                r = read_file(f, GPG_KEY_SIZE_MAX, &text, &size);
                if (r < 0)
                        return peapod_error_set(e, r, "Failed to read key %s: %s", f, strerror(-r));
                r = gpg_import(v->ctx, text, size, &v->fingerprints, e);
                if (r < 0)
                        return peapod_error_prefix(e, r, "%s", f);
        }
        *ret = TAKE_PTR(v);
        return 0;
}

/* Judge the first signature of the last verify operation. */
static int gpg_verify_result(GpgVerifier *v, char **ret_signer, PeapodError *e) {
        _cleanup_(gpgme_key_unrefp) gpgme_key_t key = NULL;
        gpgme_verify_result_t res = gpgme_op_verify_result(v->ctx);
        gpgme_signature_t sig = res ? res->signatures : NULL;
        gpgme_err_code_t code;
        char *signer;

        if (!sig)
                return peapod_error_set(e, -EBADMSG, "not a signature");
        code = gpgme_err_code(sig->status);
        /* Only the trusted keys are in this home: a key gpg cannot find is
         * a key nobody trusted. */
        if ((sig->summary & GPGME_SIGSUM_KEY_MISSING) || code == GPG_ERR_NO_PUBKEY)
                return peapod_error_set(e, -EKEYREJECTED, "signed by untrusted key %s", strna(sig->fpr));
        if ((sig->summary & GPGME_SIGSUM_KEY_REVOKED) || code == GPG_ERR_CERT_REVOKED)
                return peapod_error_set(e, -EKEYREVOKED, "key revoked: %s", strna(sig->fpr));
        if ((sig->summary & GPGME_SIGSUM_KEY_EXPIRED) || code == GPG_ERR_KEY_EXPIRED)
                return peapod_error_set(e, -EKEYEXPIRED, "key expired: %s", strna(sig->fpr));
        if ((sig->summary & GPGME_SIGSUM_SIG_EXPIRED) || code == GPG_ERR_SIG_EXPIRED)
                return peapod_error_set(e, -EKEYEXPIRED, "signature expired");
        if (code != GPG_ERR_NO_ERROR || (sig->summary & (GPGME_SIGSUM_RED | GPGME_SIGSUM_CRL_MISSING | GPGME_SIGSUM_SYS_ERROR)))
                return peapod_error_set(e, -EBADMSG, "bad signature: %s", gpgme_strerror(sig->status));
        if (sig->next)
                return peapod_error_set(e, -EBADMSG, "more than one signature in one file");
        if (!sig->fpr)
                return peapod_error_set(e, -EKEYREJECTED, "signed by an unknown key");
        /* Usually the signature names the primary key's fingerprint; a
         * subkey's, or a bare key id, is looked up (one more gpg run). */
        if (strv_contains(v->fingerprints, sig->fpr))
                signer = strdup(sig->fpr);
        else {
                if (gpgme_op_keylist_start(v->ctx, sig->fpr, 0) || gpgme_op_keylist_next(v->ctx, &key) || !key->fpr) {
                        (void) gpgme_op_keylist_end(v->ctx);
                        return peapod_error_set(e, -EKEYREJECTED, "signed by untrusted key %s", sig->fpr);
                }
                (void) gpgme_op_keylist_end(v->ctx);
                signer = strdup(key->fpr);
        }
        if (!signer)
                return -ENOMEM;
        *ret_signer = signer;
        return 0;
}

int gpg_verifier_verify_opaque(GpgVerifier *v, const void *sig, size_t sig_size, char **ret_payload, size_t *ret_size,
                               char **ret_signer, PeapodError *e) {
        _cleanup_(gpgme_data_releasep) gpgme_data_t in = NULL, out = NULL;
        _cleanup_free_ char *signer = NULL;
        gpgme_error_t err;
        char *mem, *payload;
        size_t n;
        int r;

        if (sig_size > GPG_SIGNATURE_SIZE_MAX)
                return peapod_error_set(e, -E2BIG, "signature larger than %d bytes", GPG_SIGNATURE_SIZE_MAX);
        err = gpgme_data_new_from_mem(&in, sig, sig_size, 0);
        if (!err)
                err = gpgme_data_new(&out);
        if (err)
                return peapod_error_set(e, gpg_error_to_errno(err), "gpgme: %s", gpgme_strerror(err));
        err = gpgme_op_verify(v->ctx, in, NULL, out);
        if (err)
                return peapod_error_set(e, -EBADMSG, "not a signature (%s)", gpgme_strerror(err));
        r = gpg_verify_result(v, &signer, e);
        if (r < 0)
                return r;
        mem = gpgme_data_release_and_get_mem(out, &n);
        out = NULL;
        if (n > GPG_SIGNATURE_SIZE_MAX) {
                gpgme_free(mem);
                return peapod_error_set(e, -E2BIG, "signed payload larger than %d bytes", GPG_SIGNATURE_SIZE_MAX);
        }
        payload = malloc(n + 1);
        if (!payload) {
                gpgme_free(mem);
                return -ENOMEM;
        }
        if (n > 0)
                memcpy(payload, mem, n);
        payload[n] = 0;
        gpgme_free(mem);
        *ret_payload = payload;
        *ret_size = n;
        *ret_signer = TAKE_PTR(signer);
        return 0;
}

int gpg_verifier_verify_detached(GpgVerifier *v, int fd, const void *sig, size_t sig_size, char **ret_signer,
                                 PeapodError *e) {
        _cleanup_(gpgme_data_releasep) gpgme_data_t s = NULL, text = NULL;
        gpgme_error_t err;

        if (sig_size > GPG_SIGNATURE_SIZE_MAX)
                return peapod_error_set(e, -E2BIG, "signature larger than %d bytes", GPG_SIGNATURE_SIZE_MAX);
        err = gpgme_data_new_from_mem(&s, sig, sig_size, 0);
        if (!err)
                err = gpgme_data_new_from_fd(&text, fd);
        if (err)
                return peapod_error_set(e, gpg_error_to_errno(err), "gpgme: %s", gpgme_strerror(err));
        err = gpgme_op_verify(v->ctx, s, text, NULL);
        if (err)
                return peapod_error_set(e, -EBADMSG, "not a signature (%s)", gpgme_strerror(err));
        return gpg_verify_result(v, ret_signer, e);
}

int gpg_sign_opaque(const char *signer, const void *payload, size_t size, char **ret, size_t *ret_size, PeapodError *e) {
        _cleanup_(gpgme_ctx_releasep) gpgme_ctx_t ctx = NULL;
        _cleanup_(gpgme_data_releasep) gpgme_data_t in = NULL, out = NULL;
        _cleanup_(gpgme_key_unrefp) gpgme_key_t key = NULL;
        gpgme_error_t err;
        char *mem, *buf;
        size_t n;
        int r;

        r = gpg_context_new(NULL, &ctx, e);
        if (r < 0)
                return r;
        err = gpgme_get_key(ctx, signer, &key, 1);
        if (err)
                return peapod_error_set(e, -ENOKEY, "No secret key %s in the keyring: %s", signer, gpgme_strerror(err));
        err = gpgme_signers_add(ctx, key);
        if (!err)
                err = gpgme_data_new_from_mem(&in, payload, size, 0);
        if (!err)
                err = gpgme_data_new(&out);
        if (!err)
                err = gpgme_op_sign(ctx, in, out, GPGME_SIG_MODE_NORMAL);
        if (err)
                return peapod_error_set(e, gpg_error_to_errno(err), "Failed to sign with %s: %s", signer, gpgme_strerror(err));
        mem = gpgme_data_release_and_get_mem(out, &n);
        out = NULL;
        buf = malloc(n ?: 1);
        if (!buf) {
                gpgme_free(mem);
                return -ENOMEM;
        }
        memcpy(buf, mem, n);
        gpgme_free(mem);
        *ret = buf;
        *ret_size = n;
        return 0;
}
