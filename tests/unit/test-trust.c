/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The trust store, signature verification and the policy decision with
 * real keys: gpg makes them here (batch, no passphrase, no network) in a
 * throw-away GNUPGHOME, which plays the operator's keyring. */
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "gpg.h"
#include "signature.h"
#include "strv.h"
#include "tests.h"
#include "trust.h"

#define D64A "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define D64B "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

static char tmp[] = "/tmp/peapod-test-trust.XXXXXX";
static char home[256], keys[256], sigs[256], policy[256], conf[256];

_printf_(1, 2) static void run(const char *fmt, ...) {
        _cleanup_free_ char *cmd = NULL;
        va_list ap;

        va_start(ap, fmt);
        ASSERT_TRUE(vasprintf(&cmd, fmt, ap) >= 0);
        va_end(ap);
        if (system(cmd) != 0) {
                fprintf(stderr, "command failed: %s\n", cmd);
                exit(EXIT_FAILURE);
        }
}

static char *read_text(const char *path) {
        char *s = NULL;
        size_t n;
        ASSERT_OK(read_file(path, 1 << 20, &s, &n));
        return s;
}

/* Make a key and return its fingerprint; its public key goes to <name>.pub. */
static char *make_key(const char *name, const char *extra) {
        _cleanup_free_ char *path = NULL;
        char *fpr;

        run("gpg --batch --quiet --passphrase '' %s --quick-gen-key '%s <%s@example.com>' ed25519 sign %s 2>/dev/null",
            extra, name, name, strstr(extra, "faked") ? "1d" : "never");
        ASSERT_TRUE(asprintf(&path, "%s/%s.fpr", tmp, name) >= 0);
        run("gpg --with-colons --list-keys '<%s@example.com>' | awk -F: '/^fpr/ {print $10; exit}' | tr -d '\\n' >%s", name,
            path);
        fpr = read_text(path);
        ASSERT_TRUE(fingerprint_is_valid(fpr));
        run("gpg --export --armor %s >%s/%s.pub", fpr, tmp, name);
        return fpr;
}

static void write_text(const char *path, const char *text) {
        ASSERT_OK(write_file_atomic(path, text, strlen(text), 0644));
}

/* Sign reference/digest as signature-N of the lookaside. */
static void sign(const char *fpr, const char *reference, const char *repository, const char *digest, unsigned n,
                 const char *gpg_extra) {
        _cleanup_free_ char *payload = NULL, *sig = NULL, *dir = NULL, *path = NULL, *payload_path = NULL;
        PeapodError e = {};
        size_t size;

        ASSERT_TRUE(asprintf(&dir, "%s/%s@sha256=%s", sigs, repository, digest + strlen("sha256:")) >= 0);
        ASSERT_OK(mkdir_p(dir, 0755));
        ASSERT_TRUE(asprintf(&path, "%s/signature-%u", dir, n) >= 0);
        ASSERT_OK(simple_signature_format(reference, digest, &payload));
        if (gpg_extra) {
                /* gpg itself, for what gpgme cannot do: sign at a faked time. */
                ASSERT_TRUE(asprintf(&payload_path, "%s/payload", tmp) >= 0);
                write_text(payload_path, payload);
                run("gpg --batch --quiet --yes %s -u %s --sign --output %s %s 2>/dev/null", gpg_extra, fpr, path, payload_path);
                return;
        }
        ASSERT_OK(gpg_sign_opaque(fpr, payload, strlen(payload), &sig, &size, &e));
        ASSERT_OK(write_file_atomic(path, sig, size, 0644));
}

static void add_key(const char *name, const char *prefix) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        GpgKeyInfo info = {};
        PeapodError e = {};
        size_t n;

        ASSERT_TRUE(asprintf(&path, "%s/%s.pub", tmp, name) >= 0);
        ASSERT_OK(read_file(path, 1 << 20, &text, &n));
        if (trust_store_add(keys, text, n, prefix, &info, &e) < 0) {
                fprintf(stderr, "trust_store_add: %s\n", e.message);
                exit(EXIT_FAILURE);
        }
        gpg_key_info_done(&info);
}

/* Verify and compare the outcome: NULL = accepted, else a part of the reason. */
static void expect(const char *reference, const char *digest, const char *reason) {
        const TrustOptions o = { .policy = policy, .keys_dir = keys, .registries_conf = conf };
        _cleanup_free_ char *how = NULL;
        PeapodError e = {};
        Digest d;
        int r;

        ASSERT_OK(digest_parse(digest, &d));
        r = trust_verify_image(&o, reference, &d, &how, &e);
        if (!reason) {
                if (r < 0) {
                        fprintf(stderr, "%s refused: %s\n", reference, e.message);
                        exit(EXIT_FAILURE);
                }
                return;
        }
        if (r >= 0 || !strstr(e.message, reason)) {
                fprintf(stderr, "%s: expected refusal with '%s', got %d '%s'\n", reference, reason, r, e.message);
                exit(EXIT_FAILURE);
        }
}

int main(void) {
        _cleanup_free_ char *a = NULL, *b = NULL, *old = NULL, *rev = NULL, *pub_a = NULL;
        _cleanup_strv_free_ char **paths = NULL;
        TrustedKey *list = NULL;
        GpgKeyInfo info = {};
        PeapodError e = {};
        size_t n = 0;

        if (system("gpg --version >/dev/null 2>&1") != 0)
                return EXIT_TEST_SKIP;
        ASSERT_TRUE(mkdtemp(tmp));
        snprintf(home, sizeof(home), "%s/gnupg", tmp);
        snprintf(keys, sizeof(keys), "%s/keys", tmp);
        snprintf(sigs, sizeof(sigs), "%s/sigstore", tmp);
        snprintf(policy, sizeof(policy), "%s/policy.json", tmp);
        snprintf(conf, sizeof(conf), "%s/registries.conf", tmp);
        ASSERT_TRUE(mkdir(home, 0700) == 0);
        setenv("GNUPGHOME", home, 1);

        a = make_key("alice", "");
        b = make_key("bob", "");
        old = make_key("old", "--faked-system-time 20200101T000000");
        rev = make_key("rev", "");

        /* The store: inspect, add, list, keys for a name, remove. */
        {
                _cleanup_free_ char *p = NULL;
                ASSERT_TRUE(asprintf(&p, "%s/alice.pub", tmp) >= 0);
                pub_a = read_text(p);
        }
        ASSERT_OK(gpg_key_inspect(pub_a, strlen(pub_a), &info, &e));
        ASSERT_STREQ(info.fingerprint, a);
        ASSERT_STREQ(info.uid, "alice <alice@example.com>");
        ASSERT_FALSE(info.revoked || info.expired);
        gpg_key_info_done(&info);
        ASSERT_TRUE(gpg_key_inspect("junk", 4, &info, &e) < 0);

        add_key("alice", "reg.example.com/team");
        ASSERT_OK(trust_store_keys_for(keys, "reg.example.com/team/app", &paths, &e));
        ASSERT_TRUE(strv_length(paths) == 1);
        strv_free(paths);
        paths = NULL;
        ASSERT_OK(trust_store_keys_for(keys, "reg.example.com/teammate", &paths, &e));
        ASSERT_TRUE(strv_length(paths) == 0);
        strv_free(paths);
        paths = NULL;
        add_key("bob", NULL);
        ASSERT_OK(trust_store_keys_for(keys, "other.example.com/x", &paths, &e));
        ASSERT_TRUE(strv_length(paths) == 1);
        strv_free(paths);
        paths = NULL;
        ASSERT_OK(trust_store_list(keys, &list, &n, &e));
        ASSERT_TRUE(n == 2);
        for (size_t i = 0; i < n; i++)
                if (streq(list[i].fingerprint, a)) {
                        ASSERT_STREQ(list[i].prefix, "reg.example.com/team");
                        ASSERT_STREQ(list[i].uid, "alice <alice@example.com>");
                } else {
                        ASSERT_STREQ(list[i].fingerprint, b);
                        ASSERT_TRUE(list[i].prefix == NULL);
                }
        trusted_key_free_many(list, n);
        ASSERT_TRUE(trust_store_remove(keys, b, &e) == 1);
        ASSERT_ERR(trust_store_remove(keys, b, &e), ENOENT);
        ASSERT_ERR(trust_store_remove(keys, "xyz", &e), EINVAL);
        /* Bounded before gpg sees it: empty, or more than a key can be. */
        {
                _cleanup_free_ char *big = calloc(1, GPG_KEY_SIZE_MAX + 1);

                ASSERT_TRUE(big);
                ASSERT_ERR(trust_store_add(keys, "", 0, NULL, NULL, &e), EINVAL);
                peapod_error_clear(&e);
                ASSERT_ERR(trust_store_add(keys, big, GPG_KEY_SIZE_MAX + 1, "reg.example.com", NULL, &e), EINVAL);
                ASSERT_TRUE(strstr(e.message, "key size"));
        }

        /* Verification: alice is trusted for reg.example.com/team. */
        write_text(policy, "{\"default\": {\"type\": \"signedBy\"},"
                           " \"scopes\": {\"reg.example.com/open\": {\"type\": \"insecureAcceptAnything\"},"
                           "              \"reg.example.com/team/closed\": {\"type\": \"reject\"}}}");
        expect("reg.example.com/team/app:1", "sha256:" D64A, "no lookaside");
        {
                _cleanup_free_ char *c = NULL;
                ASSERT_TRUE(asprintf(&c, "{\"default-lookaside\": \"file://%s\"}", sigs) >= 0);
                write_text(conf, c);
        }
        expect("reg.example.com/team/app:1", "sha256:" D64A, "no signature");
        expect("reg.example.com/open/x:1", "sha256:" D64A, NULL);
        expect("reg.example.com/team/closed:1", "sha256:" D64A, "rejected by policy");
        expect("elsewhere.example.com/x:1", "sha256:" D64A, "no key is trusted");

        sign(a, "reg.example.com/team/app:1", "team/app", "sha256:" D64A, 1, NULL);
        expect("reg.example.com/team/app:1", "sha256:" D64A, NULL);
        /* Another digest has no signature; another tag is another reference. */
        expect("reg.example.com/team/app:1", "sha256:" D64B, "no signature");
        expect("reg.example.com/team/app:2", "sha256:" D64A, "another reference");
        /* A digest reference needs only the repository to match. */
        expect("reg.example.com/team/app@sha256:" D64A, "sha256:" D64A, NULL);

        /* Signed for a digest that is not the image's. */
        sign(a, "reg.example.com/team/app:3", "team/app", "sha256:" D64B, 1, NULL);
        run("mkdir -p %s/team/app@sha256=%s && cp %s/team/app@sha256=%s/signature-1 %s/team/app@sha256=%s/signature-2", sigs,
            D64A, sigs, D64B, sigs, D64A);
        {
                _cleanup_free_ char *p = NULL;
                ASSERT_TRUE(asprintf(&p, "%s/team/app@sha256=%s/signature-1", sigs, D64A) >= 0);
                ASSERT_TRUE(unlink(p) == 0);
        }
        run("mv %s/team/app@sha256=%s/signature-2 %s/team/app@sha256=%s/signature-1", sigs, D64A, sigs, D64A);
        expect("reg.example.com/team/app:3", "sha256:" D64A, "another image digest");

        /* bob is trusted nowhere now: his signature is an untrusted key's. */
        sign(b, "reg.example.com/team/bob:1", "team/bob", "sha256:" D64A, 1, NULL);
        expect("reg.example.com/team/bob:1", "sha256:" D64A, "untrusted key");
        /* A second, good signature is enough. */
        sign(a, "reg.example.com/team/bob:1", "team/bob", "sha256:" D64A, 2, NULL);
        expect("reg.example.com/team/bob:1", "sha256:" D64A, NULL);

        /* Garbage as a signature. */
        run("mkdir -p %s/team/junk@sha256=%s && echo junk >%s/team/junk@sha256=%s/signature-1", sigs, D64A, sigs, D64A);
        expect("reg.example.com/team/junk:1", "sha256:" D64A, "not a signature");

        /* An expired key (made and used in 2020, valid for a day). */
        add_key("old", "reg.example.com/old");
        sign(old, "reg.example.com/old/app:1", "old/app", "sha256:" D64A, 1, "--faked-system-time 20200101T010000");
        expect("reg.example.com/old/app:1", "sha256:" D64A, "key expired");

        /* A key revoked after it signed. */
        sign(rev, "reg.example.com/rev/app:1", "rev/app", "sha256:" D64A, 1, NULL);
        run("sed 's/^:-----/-----/' %s/openpgp-revocs.d/%s.rev | gpg --batch --quiet --import 2>/dev/null", home, rev);
        run("gpg --export --armor %s >%s/rev.pub", rev, tmp);
        add_key("rev", "reg.example.com/rev");
        expect("reg.example.com/rev/app:1", "sha256:" D64A, "key revoked");

        /* keyPath: a key the policy entry names, beside the store's. */
        {
                _cleanup_free_ char *pol = NULL;
                ASSERT_TRUE(asprintf(&pol,
                                     "{\"default\": {\"type\": \"signedBy\"}, \"scopes\": {\"reg.example.com/kp\":"
                                     " {\"type\": \"signedBy\", \"keyPath\": \"%s/bob.pub\"}}}",
                                     tmp) >= 0);
                write_text(policy, pol);
        }
        sign(b, "reg.example.com/kp/app:1", "kp/app", "sha256:" D64A, 1, NULL);
        expect("reg.example.com/kp/app:1", "sha256:" D64A, NULL);
        sign(b, "reg.example.com/nokp/app:1", "nokp/app", "sha256:" D64A, 1, NULL);
        expect("reg.example.com/nokp/app:1", "sha256:" D64A, "no key is trusted");

        run("gpgconf --homedir %s --kill all 2>/dev/null || true", home);
        ASSERT_OK(rm_rf(tmp));
        return 0;
}
