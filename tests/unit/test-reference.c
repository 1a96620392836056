/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "reference.h"
#include "registry.h"
#include "string-util.h"
#include "tests.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void check_ref(const char *in, const char *registry, const char *repository, const char *tag, const char *digest) {
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        _cleanup_free_ char *s = NULL;
        int k = image_reference_parse(in, &r);

        if (k < 0) {
                fprintf(stderr, "parse of '%s' failed: %s\n", in, strerror(-k));
                exit(EXIT_FAILURE);
        }
        if (!streq_ptr(r->registry, registry) || !streq_ptr(r->repository, repository) || !streq_ptr(r->tag, tag) ||
            !streq_ptr(r->digest, digest)) {
                fprintf(stderr, "'%s' -> registry=%s repository=%s tag=%s digest=%s\n", in, strna(r->registry),
                        strna(r->repository), strna(r->tag), strna(r->digest));
                exit(EXIT_FAILURE);
        }
        ASSERT_OK(image_reference_to_string(r, &s));
}

TEST(reference_parse) {
        check_ref("127.0.0.1:5000/test/busybox:latest", "127.0.0.1:5000", "test/busybox", "latest", NULL);
        check_ref("127.0.0.1:5000/test/busybox", "127.0.0.1:5000", "test/busybox", "latest", NULL);
        check_ref("quay.io/coreos/etcd:v3.5.0", "quay.io", "coreos/etcd", "v3.5.0", NULL);
        check_ref("localhost/foo", "localhost", "foo", "latest", NULL);
        check_ref("localhost:5000/foo/bar_baz__x-y--z.w", "localhost:5000", "foo/bar_baz__x-y--z.w", "latest", NULL);
        check_ref("docker.io/busybox", "docker.io", "library/busybox", "latest", NULL);
        check_ref("index.docker.io/busybox:1.36", "docker.io", "library/busybox", "1.36", NULL);
        check_ref("docker.io/someone/thing", "docker.io", "someone/thing", "latest", NULL);
        check_ref("busybox", NULL, "busybox", "latest", NULL);
        check_ref("library/busybox:musl", NULL, "library/busybox", "musl", NULL);
        check_ref("busybox@sha256:" D64, NULL, "busybox", NULL, "sha256:" D64);
        check_ref("reg.example:443/a/b:t@sha256:" D64, "reg.example:443", "a/b", "t", "sha256:" D64);
        check_ref("Reg-1.Example.com/x", "Reg-1.Example.com", "x", "latest", NULL);
        check_ref("a:_under", NULL, "a", "_under", NULL);
}

static void check_reason(const char *in, const char *reason) {
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        const char *got = NULL;

        ASSERT_ERR(image_reference_parse_reason(in, &r, &got), EINVAL);
        if (!got || !strstr(got, reason)) {
                fprintf(stderr, "'%s': reason '%s', expected '%s'\n", in, strna(got), reason);
                exit(EXIT_FAILURE);
        }
}

TEST(reference_reasons) {
        char long_name[300] = {};

        check_reason("Busybox", "repository names must be lowercase");
        check_reason("docker.io/Library/busybox:Latest", "repository names must be lowercase");
        check_reason("", "empty");
        check_reason("a//b", "empty part");
        check_reason("busybox/", "empty part");
        check_reason("a..b", "lower-case letters and digits");
        check_reason("caf\xc3\xa9", "lower-case letters and digits");
        check_reason("busybox:-x", "a tag is");
        check_reason("busybox:", "a tag is");
        check_reason("a@sha256:abc", "a digest is");
        check_reason("ho_st.com/x", "the registry is not a host name");
        check_reason("host:99999/x", "the registry is not a host name");
        memset(long_name, 'a', 256);
        check_reason(long_name, "longer than 255");
        memcpy(long_name, "docker.io/", 10);
        long_name[255] = 0;
        check_reason(long_name, "longer than 255");
        /* A valid one leaves no reason. */
        {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                const char *got = "x";

                ASSERT_OK(image_reference_parse_reason("busybox:Latest", &r, &got));
                ASSERT_TRUE(got == NULL);
        }
}

TEST(reference_invalid) {
        static const char *bad[] = {
                "",
                "Busybox",                /* upper case path */
                "busybox:",               /* empty tag */
                "busybox:-x",             /* tag starts with '-' */
                "busybox:.x",
                "busybox::x",
                "/busybox",
                "busybox/",
                "a//b",
                "a/../b",
                "a/./b",
                "a..b",
                "a.-b",
                "a___b",
                "-a",
                "a-",
                "_a",
                "host:5000",              /* that's name "host" with tag "5000"... */
                "host:/x",
                "host:99999/x",           /* port out of range */
                "host:123456/x",
                "-host.com/x",
                "host-.com/x",
                "ho_st.com/x",
                "a@sha256:abc",           /* short digest */
                "a@sha512:" D64 D64,      /* only sha256 */
                "a@sha256:" "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                "a b",
                "caf\xc3\xa9",
                "a:t\x01",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                int k = image_reference_parse(bad[i], &r);

                /* "host:5000" is valid: name "host" tagged "5000". */
                if (streq(bad[i], "host:5000")) {
                        ASSERT_OK(k);
                        ASSERT_TRUE(r->registry == NULL);
                        ASSERT_STREQ(r->tag, "5000");
                        continue;
                }
                if (k != -EINVAL) {
                        fprintf(stderr, "'%s' parsed (%d)\n", bad[i], k);
                        exit(EXIT_FAILURE);
                }
                ASSERT_TRUE(r == NULL);
        }

        /* Length limits. */
        char long_tag[200], long_name[300];
        memset(long_tag, 0, sizeof(long_tag));
        memcpy(long_tag, "a:", 2);
        memset(long_tag + 2, 'x', 129);
        ASSERT_ERR(image_reference_parse(long_tag, &(ImageReference *) { NULL }), EINVAL);
        memset(long_name, 0, sizeof(long_name));
        memset(long_name, 'a', 256);
        ASSERT_ERR(image_reference_parse(long_name, &(ImageReference *) { NULL }), EINVAL);
        long_name[255] = 0;
        {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                ASSERT_OK(image_reference_parse(long_name, &r));
        }

        /* The bound is on the stored form: "docker.io/NAME" is stored as
         * "docker.io/library/NAME", which must parse again (found by
         * fuzz-image-reference). */
        memset(long_name, 0, sizeof(long_name));
        memcpy(long_name, "docker.io/", 10);
        memset(long_name + 10, 'a', 245);
        ASSERT_ERR(image_reference_parse(long_name, &(ImageReference *) { NULL }), EINVAL);
        long_name[10 + 237] = 0; /* "docker.io/library/" + 237 = 255 */
        {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                _cleanup_free_ char *s = NULL;

                ASSERT_OK(image_reference_parse(long_name, &r));
                ASSERT_OK(image_reference_to_string(r, &s));
                ASSERT_TRUE(strlen(s) == 255 + strlen(":latest"));
        }
        memset(long_name, 0, sizeof(long_name));
        memcpy(long_name, "index.docker.io/", 16);
        memset(long_name + 16, 'a', 239);
        ASSERT_ERR(image_reference_parse(long_name, &(ImageReference *) { NULL }), EINVAL);

        /* A short name resolved through unqualified-search-registries too. */
        {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                RegistriesConf c = { .unqualified_search_registries = (char *[]) { (char *) "docker.io", NULL } };
                PeapodError e = {};

                memset(long_name, 0, sizeof(long_name));
                memset(long_name, 'a', 250);
                ASSERT_OK(image_reference_parse(long_name, &r));
                ASSERT_ERR(image_reference_resolve(r, &c, &e), EINVAL);
                peapod_error_clear(&e);
        }
}

TEST(to_string) {
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        _cleanup_free_ char *s = NULL;

        ASSERT_OK(image_reference_parse("docker.io/busybox@sha256:" D64, &r));
        ASSERT_OK(image_reference_to_string(r, &s));
        ASSERT_STREQ(s, "docker.io/library/busybox@sha256:" D64);
        ASSERT_STREQ(image_reference_object(r), "sha256:" D64);
        ASSERT_STREQ(registry_api_host(r->registry), "registry-1.docker.io");
        ASSERT_STREQ(registry_api_host("127.0.0.1:5000"), "127.0.0.1:5000");
}

static const char *conf_text =
        "{\"unqualified-search-registries\": [\"127.0.0.1:5000\", \"docker.io\"],"
        " \"registries\": ["
        "   {\"prefix\": \"127.0.0.1:5000\", \"insecure\": true},"
        "   {\"prefix\": \"127.0.0.1:5000/secure\", \"insecure\": false},"
        "   {\"prefix\": \"docker.io\", \"mirrors\": [\"mirror.example:5000\"]},"
        "   {\"prefix\": \"docker.io/library\", \"mirrors\": [\"lib-mirror.example\"]}"
        " ],"
        " \"auth-file\": \"/etc/peapod/auth.json\"}";

TEST(registries_conf) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL;
        const RegistryEntry *x;
        PeapodError e = {};

        ASSERT_OK(registries_conf_parse(conf_text, &c, &e));
        ASSERT_STREQ(c->auth_file, "/etc/peapod/auth.json");
        ASSERT_TRUE(c->n_entries == 4);

        ASSERT_TRUE(registries_conf_is_insecure(c, "127.0.0.1:5000", "test/busybox"));
        /* Longest prefix wins. */
        ASSERT_FALSE(registries_conf_is_insecure(c, "127.0.0.1:5000", "secure/x"));
        /* Component boundaries: neither another port nor a longer path component matches. */
        ASSERT_FALSE(registries_conf_is_insecure(c, "127.0.0.1:50001", "test/busybox"));
        ASSERT_TRUE(registries_conf_is_insecure(c, "127.0.0.1:5000", "securex/y"));
        ASSERT_FALSE(registries_conf_is_insecure(c, "127.0.0.2:5000", "x"));
        ASSERT_FALSE(registries_conf_is_insecure(NULL, "127.0.0.1:5000", "x"));

        x = registries_conf_find(c, "docker.io", "library/busybox");
        ASSERT_TRUE(x);
        ASSERT_STREQ(x->prefix, "docker.io/library");
        ASSERT_STREQ(x->mirrors[0], "lib-mirror.example");
        x = registries_conf_find(c, "docker.io", "someone/x");
        ASSERT_STREQ(x->prefix, "docker.io");
        ASSERT_TRUE(registries_conf_find(c, "quay.io", "x") == NULL);

        static const char *bad[] = {
                "[]",
                "{\"unqualified-search-registries\": \"docker.io\"}",
                "{\"unqualified-search-registries\": [\"https://docker.io\"]}",
                "{\"registries\": [{\"insecure\": true}]}",
                "{\"registries\": [{\"prefix\": \"x.io\", \"insecure\": \"yes\"}]}",
                "{\"registries\": [{\"prefix\": \"x.io/UPPER\"}]}",
                "{\"registries\": [{\"prefix\": \"x.io\", \"mirrors\": [\"m/x\"]}]}",
                "{\"auth-file\": \"relative.json\"}",
                "{\"registries\": {}}",
                "not json",
                "{} {}",                     /* trailing data: the bounded reader refuses it */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                RegistriesConf *d = NULL;
                e = (PeapodError) {};
                e = PEAPOD_ERROR_NULL;
                ASSERT_ERR(registries_conf_parse(bad[i], &d, &e), EBADMSG);
                ASSERT_TRUE(d == NULL);
                ASSERT_TRUE(e.message[0]);
        }

        /* A missing file is an empty configuration. */
        _cleanup_(registries_conf_freep) RegistriesConf *empty = NULL;
        ASSERT_OK(registries_conf_load("/nonexistent/registries.conf", &empty, NULL));
        ASSERT_TRUE(empty->n_entries == 0 && !empty->unqualified_search_registries);
}

TEST(short_names) {
        _cleanup_(registries_conf_freep) RegistriesConf *c = NULL, *none = NULL, *hub = NULL;
        PeapodError e = {};

        ASSERT_OK(registries_conf_parse(conf_text, &c, NULL));
        ASSERT_OK(registries_conf_parse("{}", &none, NULL));
        ASSERT_OK(registries_conf_parse("{\"unqualified-search-registries\": [\"docker.io\"]}", &hub, NULL));

        {
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                ASSERT_OK(image_reference_parse("busybox", &r));
                ASSERT_OK(image_reference_resolve(r, c, &e));
                ASSERT_STREQ(r->registry, "127.0.0.1:5000");
                ASSERT_STREQ(r->repository, "busybox");
        }
        {
                /* docker.io as the search registry: the library/ namespace applies after resolution. */
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                ASSERT_OK(image_reference_parse("busybox:1.36", &r));
                ASSERT_OK(image_reference_resolve(r, hub, &e));
                ASSERT_STREQ(r->registry, "docker.io");
                ASSERT_STREQ(r->repository, "library/busybox");
                ASSERT_STREQ(r->tag, "1.36");
        }
        {
                /* Never silently docker.io. */
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                ASSERT_OK(image_reference_parse("busybox", &r));
                e = PEAPOD_ERROR_NULL;
                ASSERT_ERR(image_reference_resolve(r, none, &e), ENXIO);
                ASSERT_TRUE(strstr(e.message, "short name"));
                ASSERT_TRUE(strstr(e.message, "unqualified-search-registries"));
                ASSERT_TRUE(r->registry == NULL);
                ASSERT_ERR(image_reference_resolve(r, NULL, NULL), ENXIO);
        }
        {
                /* Qualified names are left alone. */
                _cleanup_(image_reference_freep) ImageReference *r = NULL;
                ASSERT_OK(image_reference_parse("quay.io/a/b", &r));
                ASSERT_OK(image_reference_resolve(r, c, &e));
                ASSERT_STREQ(r->registry, "quay.io");
        }
}

TEST(base64) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        size_t n;

        ASSERT_OK(base64_decode("dXNlcjpwYXNz", &a, &n));
        ASSERT_STREQ(a, "user:pass");
        ASSERT_TRUE(n == 9);
        ASSERT_OK(base64_decode("YQ==", &b, &n));
        ASSERT_STREQ(b, "a");
        ASSERT_OK(base64_decode("", &c, &n));
        ASSERT_TRUE(n == 0);
        ASSERT_ERR(base64_decode("YQ=", &(char *) { NULL }, NULL), EINVAL);
        ASSERT_ERR(base64_decode("Y===", &(char *) { NULL }, NULL), EINVAL);
        ASSERT_ERR(base64_decode("YQ=a", &(char *) { NULL }, NULL), EINVAL);
        ASSERT_ERR(base64_decode("YQ!=", &(char *) { NULL }, NULL), EINVAL);
        ASSERT_ERR(base64_decode("=AAA", &(char *) { NULL }, NULL), EINVAL);
}

TEST(auth_file) {
        _cleanup_(auth_file_freep) AuthFile *a = NULL, *empty = NULL;
        const AuthEntry *x;
        PeapodError e = {};

        ASSERT_OK(auth_file_parse("{\"auths\": {"
                                  " \"127.0.0.1:5000\": {\"auth\": \"dXNlcjpwYTpzcw==\"},"
                                  " \"https://index.docker.io/v1/\": {\"auth\": \"aHViOnNlY3JldA==\"},"
                                  " \"helper.example\": {\"identitytoken\": \"x\"}"
                                  "}}",
                                  &a, &e));
        x = auth_file_find(a, "127.0.0.1:5000");
        ASSERT_TRUE(x);
        ASSERT_STREQ(x->username, "user");
        ASSERT_STREQ(x->password, "pa:ss"); /* only the first ':' separates */
        x = auth_file_find(a, "docker.io");
        ASSERT_TRUE(x);
        ASSERT_STREQ(x->username, "hub");
        ASSERT_TRUE(auth_file_find(a, "helper.example") == NULL);
        ASSERT_TRUE(auth_file_find(a, "127.0.0.1:5001") == NULL);
        ASSERT_TRUE(auth_file_find(NULL, "x") == NULL);

        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(auth_file_parse("{\"auths\": {\"x\": {\"auth\": \"bm9jb2xvbg==\"}}}", &(AuthFile *) { NULL }, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "user:password"));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(auth_file_parse("{\"auths\": {\"x\": {\"auth\": \"!!\"}}}", &(AuthFile *) { NULL }, &e), EBADMSG);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(auth_file_parse("{\"auths\": []}", &(AuthFile *) { NULL }, &e), EBADMSG);
        ASSERT_ERR(auth_file_parse("{\"auths\": {}} trailing", &(AuthFile *) { NULL }, &e), EBADMSG);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(auth_file_parse("{\"auths\": {\"x\": 1}}", &(AuthFile *) { NULL }, &e), EBADMSG);
        ASSERT_OK(auth_file_load("/nonexistent/auth.json", &empty, NULL));
        ASSERT_TRUE(empty->n_entries == 0);
}

TEST(auth_file_update) {
        const char *docker = "{\"credHelpers\": {\"h\": \"x\"}, \"auths\": {"
                             "\"https://index.docker.io/v1/\": {\"auth\": \"aHViOnNlY3JldA==\"},"
                             "\"other:5000\": {\"auth\": \"bzpw\"}}}";
        char dir[] = "/tmp/test-auth-XXXXXX", path[64], *norm = NULL;
        _cleanup_(auth_file_freep) AuthFile *a = NULL;
        _cleanup_free_ char *text = NULL;
        PeapodError e = {};
        struct stat st;

        ASSERT_OK(auth_registry_normalize("https://index.docker.io/v1/", &norm));
        ASSERT_STREQ(norm, "docker.io");
        free(norm);
        ASSERT_OK(auth_registry_normalize("127.0.0.1:5000", &norm));
        ASSERT_STREQ(norm, "127.0.0.1:5000");
        free(norm);
        ASSERT_ERR(auth_registry_normalize("", &norm), EINVAL);
        ASSERT_ERR(auth_registry_normalize("localhost", &norm), EINVAL);
        ASSERT_ERR(auth_registry_normalize("a b", &norm), EINVAL);
        ASSERT_STREQ(registries_conf_auth_file(NULL), PEAPOD_CONF_DIR "/auth.json");

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/auth.json", dir);
        /* Nothing to remove from a file that is not there. */
        ASSERT_TRUE(auth_file_update(path, "x.example", NULL, NULL, &e) == 0);
        ASSERT_TRUE(stat(path, &st) < 0);
        /* Another program's keys and entries are kept; docker's key for
         * docker.io is replaced by ours. */
        ASSERT_TRUE(write_file_atomic(path, docker, strlen(docker), 0644) == 0);
        ASSERT_TRUE(auth_file_update(path, "docker.io", "me", "pa:ss", &e) == 1);
        ASSERT_TRUE(auth_file_update(path, "127.0.0.1:5000", "u", "pw", &e) == 1);
        ASSERT_TRUE(stat(path, &st) == 0 && (st.st_mode & 07777) == 0600);
        ASSERT_OK(auth_file_load(path, &a, &e));
        ASSERT_TRUE(a->n_entries == 3);
        ASSERT_STREQ(auth_file_find(a, "docker.io")->username, "me");
        ASSERT_STREQ(auth_file_find(a, "docker.io")->password, "pa:ss");
        ASSERT_STREQ(auth_file_find(a, "127.0.0.1:5000")->password, "pw");
        ASSERT_STREQ(auth_file_find(a, "other:5000")->username, "o");
        a = auth_file_free(a);
        ASSERT_OK(read_file(path, AUTH_FILE_MAX, &text, NULL));
        ASSERT_TRUE(strstr(text, "credHelpers"));
        ASSERT_TRUE(!strstr(text, "index.docker.io"));
        ASSERT_ERR(auth_file_update(path, "x.example", "a:b", "pw", &e), EINVAL);

        /* logout REGISTRY, then logout --all. */
        ASSERT_TRUE(auth_file_update(path, "docker.io", NULL, NULL, &e) == 1);
        ASSERT_TRUE(auth_file_update(path, "docker.io", NULL, NULL, &e) == 0);
        ASSERT_OK(auth_file_load(path, &a, &e));
        ASSERT_TRUE(a->n_entries == 2 && !auth_file_find(a, "docker.io"));
        a = auth_file_free(a);
        ASSERT_TRUE(auth_file_update(path, NULL, NULL, NULL, &e) == 1);
        ASSERT_OK(auth_file_load(path, &a, &e));
        ASSERT_TRUE(a->n_entries == 0);

        /* A file a pull could not read is not rewritten. */
        ASSERT_TRUE(write_file_atomic(path, "{\"auths\": []}", 13, 0600) == 0);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(auth_file_update(path, "x.example", "u", "p", &e), EBADMSG);
        unlink(path);
        rmdir(dir);
}

static void check_challenges(const char *h, size_t n_expected, const char *scheme, const char *realm, const char *service,
                             const char *scope) {
        AuthChallenge *c = NULL;
        size_t n = 0;
        int r = www_authenticate_parse(h, &c, &n);

        if (r < 0 || n != n_expected || (n > 0 && (!streq_ptr(c[0].scheme, scheme) || !streq_ptr(c[0].realm, realm) ||
                                                   !streq_ptr(c[0].service, service) || !streq_ptr(c[0].scope, scope)))) {
                fprintf(stderr, "'%s': r=%d n=%zu scheme=%s realm=%s service=%s scope=%s\n", h, r, n,
                        n ? strna(c[0].scheme) : "-", n ? strna(c[0].realm) : "-", n ? strna(c[0].service) : "-",
                        n ? strna(c[0].scope) : "-");
                exit(EXIT_FAILURE);
        }
        auth_challenges_free(c, n);
}

TEST(www_authenticate) {
        check_challenges("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\","
                         "scope=\"repository:library/busybox:pull\"",
                         1, "Bearer", "https://auth.docker.io/token", "registry.docker.io", "repository:library/busybox:pull");
        /* Commas and escaped quotes inside quoted strings; blanks around '=' and ','. */
        check_challenges("Bearer realm = \"https://a/t?x=1,2\" , scope=\"repository:a/b:pull,push\", service=\"s \\\"q\\\"\"", 1,
                         "Bearer", "https://a/t?x=1,2", "s \"q\"", "repository:a/b:pull,push");
        check_challenges("Basic realm=\"Registry Realm\"", 1, "Basic", "Registry Realm", NULL, NULL);
        /* Unquoted values, case-insensitive parameter names. */
        check_challenges("bearer REALM=https://x/token,Service=reg", 1, "bearer", "https://x/token", "reg", NULL);
        /* Several challenges in one header; token68; unknown parameters. */
        check_challenges("Negotiate abc==, Basic realm=\"r\", Bearer realm=\"b\",error=\"invalid_token\",x=y", 3, "Negotiate", NULL,
                         NULL, NULL);
        check_challenges("Basic", 1, "Basic", NULL, NULL, NULL);
        check_challenges(",, Basic ,", 1, "Basic", NULL, NULL, NULL);
        check_challenges("", 0, NULL, NULL, NULL, NULL);

        {
                AuthChallenge *c = NULL;
                size_t n = 0;
                ASSERT_OK(www_authenticate_parse("Newauth realm=\"apps\", type=1, title=\"Login to \\\"apps\\\"\", Basic realm=\"simple\"",
                                                 &c, &n));
                ASSERT_TRUE(n == 2);
                ASSERT_STREQ(c[0].scheme, "Newauth");
                ASSERT_STREQ(c[0].realm, "apps");
                ASSERT_STREQ(c[1].scheme, "Basic");
                ASSERT_STREQ(c[1].realm, "simple");
                auth_challenges_free(c, n);
        }

        static const char *bad[] = {
                "realm=\"x\"",                           /* parameter before a scheme */
                "Bearer realm=\"unterminated",
                "Bearer realm=\"x\\",
                "Bearer realm=\"a\", realm=\"b\"",       /* ambiguous */
                "Bearer realm=\"a\" junk",
                "\"Bearer\"",
                "Bearer realm=\"a\"\"b\"",
                "Basic abc== def",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                AuthChallenge *c = NULL;
                size_t n = 0;
                int r = www_authenticate_parse(bad[i], &c, &n);
                if (r != -EBADMSG) {
                        fprintf(stderr, "'%s' -> %d (n=%zu)\n", bad[i], r, n);
                        exit(EXIT_FAILURE);
                }
        }
        ASSERT_ERR(www_authenticate_parse(NULL, &(AuthChallenge *) { NULL }, &(size_t) { 0 }), EBADMSG);
        {
                /* Bounded: too many challenges, too long a header. */
                _cleanup_free_ char *many = NULL, *huge = NULL;
                many = malloc(AUTH_CHALLENGES_MAX * 4 + 8);
                huge = malloc(WWW_AUTHENTICATE_MAX + 2);
                ASSERT_TRUE(many && huge);
                many[0] = 0;
                for (int i = 0; i <= AUTH_CHALLENGES_MAX; i++)
                        strcat(many, "A, ");
                ASSERT_ERR(www_authenticate_parse(many, &(AuthChallenge *) { NULL }, &(size_t) { 0 }), E2BIG);
                memset(huge, 'a', WWW_AUTHENTICATE_MAX + 1);
                huge[WWW_AUTHENTICATE_MAX + 1] = 0;
                ASSERT_ERR(www_authenticate_parse(huge, &(AuthChallenge *) { NULL }, &(size_t) { 0 }), EBADMSG);
        }
}

TEST(client) {
        _cleanup_(registry_client_freep) RegistryClient *c = NULL;
        _cleanup_(image_reference_freep) ImageReference *r = NULL;
        PeapodError e = {};
        char *body = NULL;

        ASSERT_OK(registry_client_new(NULL, &c));
        /* Short names are never sent anywhere. */
        ASSERT_OK(image_reference_parse("busybox", &r));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(registry_get_manifest(c, r, NULL, &body, NULL, NULL, NULL, &e), EINVAL);
        ASSERT_TRUE(strstr(e.message, "short name"));
        ASSERT_TRUE(body == NULL);
        /* Bad blob requests are refused before any connection. */
        free(r->registry);
        r->registry = strdup("127.0.0.1:1");
        ASSERT_TRUE(r->registry);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(registry_get_blob(c, r, "sha256:abc", 1, &REGISTRY_SINK_FD(1), NULL, NULL, &e), EINVAL);
}

TEST(registry_answers) {
        _cleanup_free_ char *token = NULL;
        uint64_t lifetime;
        char out[256];
        static const char *bad_tokens[] = {
                "{\"token\":\"abc\\r\\nX-Evil: 1\"}", /* would add a header line */
                "{\"token\":\"a b\"}",
                "{\"token\":\"\"}",
                "{\"expires_in\":60}",
                "[\"token\"]",
                "{\"token\":\"abc\"} trailing",
        };

        const char *ok = "{\"token\":\"e30.abc\",\"expires_in\":300}";

        ASSERT_OK(registry_token_parse(ok, strlen(ok), &token, &lifetime));
        ASSERT_STREQ(token, "e30.abc");
        ASSERT_TRUE(lifetime == UINT64_C(290) * 1000000);
        token = mfree(token);
        ok = "{\"access_token\":\"x\",\"expires_in\":99999999}";
        ASSERT_OK(registry_token_parse(ok, strlen(ok), &token, &lifetime));
        ASSERT_TRUE(lifetime == UINT64_C(86390) * 1000000);
        for (size_t i = 0; i < ELEMENTSOF(bad_tokens); i++)
                ASSERT_ERR(registry_token_parse(bad_tokens[i], strlen(bad_tokens[i]), &token, &lifetime), EBADMSG);

        ok = "{\"errors\":[{\"code\":\"DENIED\",\"message\":\"no\\u001b[31m\"}]}";
        registry_error_body_describe(ok, strlen(ok), out, sizeof(out));
        ASSERT_STREQ(out, " (DENIED: no?[31m)");
        registry_error_body_describe("not json", 8, out, sizeof(out));
        ASSERT_STREQ(out, "");
        /* Every byte counts: a NUL would end json-c's reading early. */
        registry_error_body_describe("{\"errors\":[]}\0x", 15, out, sizeof(out));
        ASSERT_STREQ(out, "");

        {
                _cleanup_(registry_header_done) RegistryHeader h = {};
                const char *l = "docker-content-digest: sha256:abc\rX-Evil: 1\r\n";

                ASSERT_OK(registry_header_parse(l, strlen(l), &h));
                ASSERT_TRUE(h.kind == REGISTRY_HEADER_DOCKER_CONTENT_DIGEST);
                ASSERT_STREQ(h.value, "sha256:abc");
        }
        {
                RegistryHeader h = {};
                const char *l = "Retry-After: 99999999999999999999999\r\n";

                ASSERT_OK(registry_header_parse(l, strlen(l), &h));
                ASSERT_TRUE(h.kind == REGISTRY_HEADER_RETRY_AFTER && h.number == UINT64_C(10000000));
                l = "Content-Length: -1\r\n";
                ASSERT_OK(registry_header_parse(l, strlen(l), &h));
                ASSERT_TRUE(h.kind == REGISTRY_HEADER_OTHER);
                l = "HTTP/2 301\r\n";
                ASSERT_OK(registry_header_parse(l, strlen(l), &h));
                ASSERT_TRUE(h.kind == REGISTRY_HEADER_STATUS);
        }
}

int main(void) {
        test_reference_parse();
        test_reference_invalid();
        test_reference_reasons();
        test_to_string();
        test_registries_conf();
        test_short_names();
        test_base64();
        test_auth_file();
        test_auth_file_update();
        test_www_authenticate();
        test_registry_answers();
        test_client();
        return 0;
}
