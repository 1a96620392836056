/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>

#include "manifest.h"
#include "strv.h"
#include "tests.h"

/* sha256 of "a", "b", "c": real digests, so that chain ids can be checked
 * against sha256sum. */
#define HA "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb"
#define HB "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"
#define HC "2e7d2c03a9507ae265ecf5b5356885a53393a2029d241394997265a1a25aefc6"
#define HD "18ac3e7343f016890c510e93f935261169d9e3f565436429830faf0934f4f8e4"

#define OCI_MANIFEST \
        "{\n" \
        "  \"schemaVersion\": 2,\n" \
        "  \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\",\n" \
        "  \"config\": {\n" \
        "    \"mediaType\": \"application/vnd.oci.image.config.v1+json\",\n" \
        "    \"digest\": \"sha256:" HC "\",\n" \
        "    \"size\": 1470\n" \
        "  },\n" \
        "  \"layers\": [\n" \
        "    {\n" \
        "      \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+gzip\",\n" \
        "      \"digest\": \"sha256:" HA "\",\n" \
        "      \"size\": 2207025\n" \
        "    },\n" \
        "    {\n" \
        "      \"mediaType\": \"application/vnd.oci.image.layer.v1.tar+zstd\",\n" \
        "      \"digest\": \"sha256:" HB "\",\n" \
        "      \"size\": 32,\n" \
        "      \"annotations\": { \"org.opencontainers.image.title\": \"x\" }\n" \
        "    }\n" \
        "  ],\n" \
        "  \"annotations\": { \"org.opencontainers.image.created\": \"2024-05-01T00:00:00Z\" }\n" \
        "}\n"

#define DOCKER_MANIFEST \
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\"," \
        "\"config\":{\"mediaType\":\"application/vnd.docker.container.image.v1+json\",\"size\":1457," \
        "\"digest\":\"sha256:" HC "\"}," \
        "\"layers\":[{\"mediaType\":\"application/vnd.docker.image.rootfs.diff.tar.gzip\",\"size\":2591575," \
        "\"digest\":\"sha256:" HA "\"}]}"

#define OCI_INDEX \
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[" \
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HA "\",\"size\":1001," \
        " \"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}}," \
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HB "\",\"size\":1002," \
        " \"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}}," \
        "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:" HC "\",\"size\":839," \
        " \"annotations\":{\"vnd.docker.reference.digest\":\"sha256:" HA "\"," \
        "                  \"vnd.docker.reference.type\":\"attestation-manifest\"}," \
        " \"platform\":{\"architecture\":\"unknown\",\"os\":\"unknown\"}}," \
        "{\"mediaType\":\"application/vnd.example.signature+json\",\"digest\":\"sha256:" HD "\",\"size\":10}" \
        "]}"

#define DOCKER_LIST \
        "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.docker.distribution.manifest.list.v2+json\",\"manifests\":[" \
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" HA "\",\"size\":1," \
        " \"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v6\"}}," \
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" HB "\",\"size\":2," \
        " \"platform\":{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":\"v7\"}}," \
        "{\"mediaType\":\"application/vnd.docker.distribution.manifest.v2+json\",\"digest\":\"sha256:" HC "\",\"size\":3," \
        " \"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}" \
        "]}"

#define CONFIG \
        "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2024-05-01T12:00:00.123456789Z\"," \
        "\"config\":{\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]," \
        "  \"Entrypoint\":[\"/docker-entrypoint.sh\"],\"Cmd\":[\"nginx\",\"-g\",\"daemon off;\"]," \
        "  \"WorkingDir\":\"/srv\",\"User\":\"101:101\",\"Labels\":{\"maintainer\":\"someone\",\"a\":\"b\"}," \
        "  \"ExposedPorts\":{\"80/tcp\":{},\"443/tcp\":{}},\"StopSignal\":\"SIGQUIT\",\"Volumes\":null}," \
        "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" HA "\",\"sha256:" HB "\"]}," \
        "\"history\":[{\"created\":\"2024-05-01T12:00:00Z\",\"created_by\":\"/bin/sh\"}]}"

static int parse_manifest(const char *s, Manifest **ret, PeapodError *e) {
        return manifest_parse(s, strlen(s), NULL, ret, e);
}

TEST(media_types) {
        ASSERT_TRUE(media_type_from_string("application/vnd.oci.image.manifest.v1+json") == MEDIA_TYPE_OCI_MANIFEST);
        ASSERT_TRUE(media_type_from_string(" application/vnd.docker.distribution.manifest.v2+json ; charset=utf-8") ==
                    MEDIA_TYPE_DOCKER_MANIFEST);
        ASSERT_TRUE(media_type_from_string("application/json") < 0);
        ASSERT_TRUE(media_type_from_string("") < 0);
        ASSERT_TRUE(media_type_from_string(NULL) < 0);
        for (int i = 0; i < _MEDIA_TYPE_MAX; i++)
                ASSERT_TRUE(media_type_from_string(media_type_to_string(i)) == i);
        ASSERT_TRUE(media_type_layer_compression(MEDIA_TYPE_DOCKER_LAYER_TAR_GZIP) == LAYER_COMPRESSION_GZIP);
        ASSERT_TRUE(media_type_layer_compression(MEDIA_TYPE_OCI_LAYER_TAR) == LAYER_COMPRESSION_NONE);
        ASSERT_TRUE(media_type_layer_compression(MEDIA_TYPE_OCI_LAYER_TAR_ZSTD) == LAYER_COMPRESSION_ZSTD);
        ASSERT_FALSE(media_type_is_layer(MEDIA_TYPE_DOCKER_LAYER_FOREIGN_TAR_GZIP));
        ASSERT_FALSE(media_type_is_layer(MEDIA_TYPE_OCI_LAYER_NONDIST_TAR_GZIP));
        ASSERT_TRUE(media_type_is_index(MEDIA_TYPE_DOCKER_MANIFEST_LIST));
        ASSERT_TRUE(media_type_is_config(MEDIA_TYPE_DOCKER_CONFIG));
}

TEST(oci_manifest) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        PeapodError e = {};
        MediaType t;

        ASSERT_OK(manifest_detect(OCI_MANIFEST, strlen(OCI_MANIFEST), NULL, &t, &e));
        ASSERT_TRUE(t == MEDIA_TYPE_OCI_MANIFEST);
        ASSERT_OK(parse_manifest(OCI_MANIFEST, &m, &e));
        ASSERT_TRUE(m->media_type == MEDIA_TYPE_OCI_MANIFEST);
        ASSERT_TRUE(m->config.media_type == MEDIA_TYPE_OCI_CONFIG);
        ASSERT_STREQ(m->config.digest.hex, HC);
        ASSERT_TRUE(m->config.size == 1470);
        ASSERT_TRUE(m->n_layers == 2);
        ASSERT_TRUE(m->layers[0].media_type == MEDIA_TYPE_OCI_LAYER_TAR_GZIP);
        ASSERT_STREQ(m->layers[0].digest.hex, HA);
        ASSERT_TRUE(m->layers[0].size == 2207025);
        ASSERT_TRUE(m->layers[1].media_type == MEDIA_TYPE_OCI_LAYER_TAR_ZSTD);
        ASSERT_TRUE(!m->layers[0].os);
}

TEST(docker_manifest) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        PeapodError e = {};

        ASSERT_OK(parse_manifest(DOCKER_MANIFEST, &m, &e));
        ASSERT_TRUE(m->media_type == MEDIA_TYPE_DOCKER_MANIFEST);
        ASSERT_TRUE(m->config.media_type == MEDIA_TYPE_DOCKER_CONFIG);
        ASSERT_TRUE(m->n_layers == 1);
        ASSERT_TRUE(media_type_layer_compression(m->layers[0].media_type) == LAYER_COMPRESSION_GZIP);
}

/* Without a mediaType field: the caller's Content-Type decides, else the shape. */
TEST(detect) {
        static const char bare[] =
                "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
                "\"digest\":\"sha256:" HC "\",\"size\":7},\"layers\":[]}";
        static const char bare_index[] = "{\"schemaVersion\":2,\"manifests\":[]}";
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(manifest_index_freep) ManifestIndex *i = NULL;
        PeapodError e = {};
        MediaType t;

        ASSERT_OK(manifest_detect(bare, strlen(bare), "application/vnd.docker.distribution.manifest.v2+json", &t, &e));
        ASSERT_TRUE(t == MEDIA_TYPE_DOCKER_MANIFEST);
        ASSERT_OK(manifest_detect(bare, strlen(bare), NULL, &t, &e));
        ASSERT_TRUE(t == MEDIA_TYPE_OCI_MANIFEST);
        /* a meaningless Content-Type falls back to the shape */
        ASSERT_OK(manifest_detect(bare, strlen(bare), "application/json", &t, &e));
        ASSERT_TRUE(t == MEDIA_TYPE_OCI_MANIFEST);
        ASSERT_OK(manifest_parse(bare, strlen(bare), "application/vnd.docker.distribution.manifest.v2+json", &m, &e));
        ASSERT_TRUE(m->media_type == MEDIA_TYPE_DOCKER_MANIFEST);
        ASSERT_TRUE(m->n_layers == 0);
        ASSERT_OK(manifest_detect(bare_index, strlen(bare_index), NULL, &t, &e));
        ASSERT_TRUE(t == MEDIA_TYPE_OCI_INDEX);
        ASSERT_OK(manifest_index_parse(bare_index, strlen(bare_index), NULL, &i, &e));
        ASSERT_TRUE(i->n_manifests == 0);
        ASSERT_OK(manifest_detect(CONFIG, strlen(CONFIG), NULL, &t, &e));
        ASSERT_TRUE(t == MEDIA_TYPE_OCI_CONFIG);

        /* the document's own field beats the header */
        ASSERT_OK(manifest_detect(OCI_MANIFEST, strlen(OCI_MANIFEST), "application/vnd.oci.image.index.v1+json", &t, &e));
        ASSERT_TRUE(t == MEDIA_TYPE_OCI_MANIFEST);
        /* a manifest is not an index, and the other way round */
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_index_parse(OCI_MANIFEST, strlen(OCI_MANIFEST), NULL, &i, &e), EMEDIUMTYPE);
        ASSERT_TRUE(strstr(e.message, "not an image index"));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(parse_manifest(OCI_INDEX, &m, &e), EMEDIUMTYPE);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_detect("{\"foo\":1}", 9, NULL, &t, &e), EMEDIUMTYPE);
}

TEST(index) {
        _cleanup_(manifest_index_freep) ManifestIndex *i = NULL, *l = NULL;
        const Descriptor *d;
        PeapodError e = {};
        const char *os, *arch, *variant;

        ASSERT_OK(manifest_index_parse(OCI_INDEX, strlen(OCI_INDEX), NULL, &i, &e));
        ASSERT_TRUE(i->media_type == MEDIA_TYPE_OCI_INDEX);
        ASSERT_TRUE(i->n_manifests == 4);
        ASSERT_STREQ(i->manifests[1].variant, "v8");
        ASSERT_TRUE(i->manifests[3].media_type == _MEDIA_TYPE_INVALID);
        ASSERT_TRUE(!i->manifests[3].os);

        ASSERT_OK(manifest_index_select(i, "linux", "amd64", NULL, &d));
        ASSERT_STREQ(d->digest.hex, HA);
        ASSERT_OK(manifest_index_select(i, "linux", "arm64", "v8", &d));
        ASSERT_STREQ(d->digest.hex, HB);
        ASSERT_OK(manifest_index_select(i, "linux", "arm64", NULL, &d));
        ASSERT_STREQ(d->digest.hex, HB);
        d = NULL;
        ASSERT_ERR(manifest_index_select(i, "linux", "arm64", "v9", &d), ENOENT);
        ASSERT_ERR(manifest_index_select(i, "linux", "s390x", NULL, &d), ENOENT);
        ASSERT_ERR(manifest_index_select(i, "windows", "amd64", NULL, &d), ENOENT);

        ASSERT_OK(manifest_index_parse(DOCKER_LIST, strlen(DOCKER_LIST), NULL, &l, &e));
        ASSERT_TRUE(l->media_type == MEDIA_TYPE_DOCKER_MANIFEST_LIST);
        ASSERT_OK(manifest_index_select(l, "linux", "arm", "v7", &d));
        ASSERT_STREQ(d->digest.hex, HB);
        ASSERT_OK(manifest_index_select(l, "linux", "arm", NULL, &d));
        ASSERT_STREQ(d->digest.hex, HA);
        /* arm64 without a variant in the list still serves a v8 host */
        ASSERT_OK(manifest_index_select(l, "linux", "arm64", "v8", &d));
        ASSERT_STREQ(d->digest.hex, HC);

        manifest_host_platform(&os, &arch, &variant);
        ASSERT_STREQ(os, "linux");
#if defined(__x86_64__)
        ASSERT_STREQ(arch, "amd64");
        ASSERT_OK(manifest_index_select(i, os, arch, variant, &d));
        ASSERT_STREQ(d->digest.hex, HA);
#endif
}

TEST(config) {
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_(manifest_freep) Manifest *m = NULL, *d = NULL;
        PeapodError e = {};

        ASSERT_OK(image_config_parse(CONFIG, strlen(CONFIG), &c, &e));
        ASSERT_STREQ(c->architecture, "amd64");
        ASSERT_STREQ(c->os, "linux");
        ASSERT_STREQ(c->created, "2024-05-01T12:00:00.123456789Z");
        ASSERT_TRUE(strv_length(c->entrypoint) == 1);
        ASSERT_STREQ(c->entrypoint[0], "/docker-entrypoint.sh");
        ASSERT_TRUE(strv_length(c->cmd) == 3);
        ASSERT_STREQ(c->cmd[2], "daemon off;");
        ASSERT_TRUE(strv_length(c->env) == 1);
        ASSERT_STREQ(c->working_dir, "/srv");
        ASSERT_STREQ(c->user, "101:101");
        ASSERT_TRUE(strv_length(c->labels) == 4);
        ASSERT_TRUE(strv_contains(c->labels, "maintainer"));
        ASSERT_TRUE(strv_contains(c->labels, "someone"));
        ASSERT_TRUE(strv_length(c->exposed_ports) == 2);
        ASSERT_TRUE(strv_contains(c->exposed_ports, "443/tcp"));
        ASSERT_TRUE(c->n_diff_ids == 2);
        ASSERT_STREQ(c->diff_ids[1].hex, HB);

        ASSERT_OK(parse_manifest(OCI_MANIFEST, &m, &e));
        ASSERT_OK(manifest_check_config(m, c, &e));
        ASSERT_OK(parse_manifest(DOCKER_MANIFEST, &d, &e));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_check_config(d, c, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "Layer count mismatch"));

        /* a config with nothing but the required parts */
        image_config_free(c);
        c = NULL;
        static const char minimal[] = "{\"architecture\":\"arm64\",\"os\":\"linux\",\"config\":null,"
                                      "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
        ASSERT_OK(image_config_parse(minimal, strlen(minimal), &c, &e));
        ASSERT_TRUE(!c->cmd && !c->env && !c->working_dir && c->n_diff_ids == 0);
}

TEST(chain_ids) {
        _cleanup_free_ Digest *chain = NULL;
        Digest diff[3];

        ASSERT_OK(digest_parse("sha256:" HA, &diff[0]));
        ASSERT_OK(digest_parse("sha256:" HB, &diff[1]));
        ASSERT_OK(digest_parse("sha256:" HC, &diff[2]));
        ASSERT_OK(layer_chain_ids(diff, 3, &chain));
        ASSERT_STREQ(chain[0].hex, HA);
        /* printf '%s' 'sha256:<HA> sha256:<HB>' | sha256sum */
        ASSERT_STREQ(chain[1].hex, "51c0c8ace48498d6f5fee6b0592cc06f2da0f3cbe09c5a34a97dce85c3889676");
        /* printf '%s' 'sha256:<chain[1]> sha256:<HC>' | sha256sum */
        ASSERT_STREQ(chain[2].hex, "2fce7f8ce91bcf0a1428b36e1024639fdbd9469eea762dba98aa749631885106");
        free(chain);
        chain = NULL;
        ASSERT_OK(layer_chain_ids(diff, 0, &chain));
}

static void expect_manifest_error(const char *doc, int err, const char *needle) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        PeapodError e = {};
        int r = parse_manifest(doc, &m, &e);

        if (r != -err || !strstr(e.message, needle)) {
                fprintf(stderr, "unexpected: %d (%s), expected -%d with \"%s\" for %s\n", r, e.message, err, needle, doc);
                exit(EXIT_FAILURE);
        }
        ASSERT_TRUE(!m);
}

#define M_HEAD "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
#define M_CONFIG "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" HC "\",\"size\":7}"
#define M_LAYER(type, digest, size) "{\"mediaType\":\"" type "\",\"digest\":\"" digest "\",\"size\":" size "}"
#define GZ "application/vnd.oci.image.layer.v1.tar+gzip"

TEST(malformed) {
        expect_manifest_error(M_HEAD "\"layers\":[]}", EBADMSG, "no \"config\"");
        expect_manifest_error(M_HEAD M_CONFIG "}", EBADMSG, "no \"layers\"");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":{}}", EBADMSG, "not an array");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER(GZ, "sha256:" HA, "\"12\"") "]}", EBADMSG,
                              "\"size\" is not an integer");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER(GZ, "sha256:" HA, "-1") "]}", EBADMSG,
                              "out of range");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER(GZ, "sha256:" HA, "1.5") "]}", EBADMSG,
                              "not an integer");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER(GZ, "sha256:" HA, "99999999999999999999") "]}",
                              EBADMSG, "size");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[{\"mediaType\":\"" GZ "\",\"digest\":5,\"size\":1}]}",
                              EBADMSG, "\"digest\" is not a string");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[{\"mediaType\":\"" GZ "\",\"size\":1}]}", EBADMSG,
                              "\"digest\" is missing");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER(GZ, "sha256:" "CA978112CA1BBDCAFAC231B39A23DC4DA786EFF8147C4E72B9807785AFEE48BB", "1") "]}",
                              EBADMSG, "bad digest");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER(GZ, "sha512:" HA HA, "1") "]}", EBADMSG,
                              "bad digest");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER(GZ, "sha256:" HA "\\u0000", "1") "]}", EBADMSG,
                              "NUL");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER("application/x-tar", "sha256:" HA, "1") "]}",
                              EOPNOTSUPP, "unsupported layer media type \"application/x-tar\"");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                              "sha256:" HA, "1") "]}", EOPNOTSUPP, "foreign/non-distributable");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[" M_LAYER("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                              "sha256:" HA, "1") "]}", EOPNOTSUPP, "foreign/non-distributable");
        expect_manifest_error(M_HEAD "\"config\":{\"mediaType\":\"application/vnd.cncf.helm.config.v1+json\",\"digest\":\"sha256:" HC "\",\"size\":7},\"layers\":[]}",
                              EMEDIUMTYPE, "not a container image");
        expect_manifest_error(M_HEAD "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" HC "\",\"size\":4194305},\"layers\":[]}",
                              EFBIG, "config");
        expect_manifest_error("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.example+json\"}", EMEDIUMTYPE,
                              "Unsupported media type \"application/vnd.example+json\"");
        expect_manifest_error("{\"schemaVersion\":1,\"name\":\"x\",\"fsLayers\":[]}", EOPNOTSUPP, "schema 1");
        expect_manifest_error("{\"schemaVersion\":1,\"mediaType\":\"application/vnd.docker.distribution.manifest.v1+prettyjws\"}",
                              EOPNOTSUPP, "schema 1");
        expect_manifest_error("{\"schemaVersion\":3,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}",
                              EOPNOTSUPP, "schemaVersion");
        expect_manifest_error("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}", EBADMSG, "schemaVersion");
        expect_manifest_error("{\"schemaVersion\":2,\"mediaType\":5}", EBADMSG, "\"mediaType\" is not a string");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[]", EBADMSG, "truncated");
        expect_manifest_error(M_HEAD M_CONFIG ",\"layers\":[]} {}", EBADMSG, "trailing data");
}

TEST(malformed_other) {
        _cleanup_(manifest_freep) Manifest *m = NULL;
        _cleanup_(manifest_index_freep) ManifestIndex *i = NULL;
        _cleanup_(image_config_freep) ImageConfig *c = NULL;
        _cleanup_free_ char *big = NULL, *many = NULL, *deep = NULL;
        PeapodError e = {};
        size_t n;

        /* trailing white space is fine */
        ASSERT_OK(parse_manifest(M_HEAD M_CONFIG ",\"layers\":[]}\n \t", &m, &e));
        manifest_free(m);
        m = NULL;

        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_parse("", 0, NULL, &m, &e), EBADMSG);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_parse("[]", 2, NULL, &m, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "not a JSON object"));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_parse("{\"a\":1}\0{}", 10, NULL, &m, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "NUL"));

        /* oversized: 4 MiB + 1, even if it is only white space around a valid document */
        n = MANIFEST_SIZE_MAX + 1;
        big = malloc(n);
        ASSERT_TRUE(big);
        memset(big, ' ', n);
        memcpy(big, OCI_MANIFEST, strlen(OCI_MANIFEST));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_parse(big, n, NULL, &m, &e), EFBIG);
        ASSERT_TRUE(strstr(e.message, "limit"));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_index_parse(big, n, NULL, &i, &e), EFBIG);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(image_config_parse(big, n, &c, &e), EFBIG);
        ASSERT_OK(manifest_parse(big, n - 1, NULL, &m, &e));
        manifest_free(m);
        m = NULL;

        /* too many layers */
        {
                size_t len = 0, cap = 300 * 200 + 1024;
                many = malloc(cap);
                ASSERT_TRUE(many);
                len += snprintf(many + len, cap - len, M_HEAD M_CONFIG ",\"layers\":[");
                for (unsigned k = 0; k < MANIFEST_LAYERS_MAX + 1; k++)
                        len += snprintf(many + len, cap - len, "%s" M_LAYER(GZ, "sha256:" HA, "1"), k ? "," : "");
                len += snprintf(many + len, cap - len, "]}");
                e = PEAPOD_ERROR_NULL;
                ASSERT_ERR(parse_manifest(many, &m, &e), E2BIG);
                ASSERT_TRUE(strstr(e.message, "257 layers"));
        }

        /* nesting deeper than any manifest needs */
        deep = malloc(10000);
        ASSERT_TRUE(deep);
        strcpy(deep, "{\"a\":");
        for (int k = 0; k < 1000; k++)
                strcat(deep, "[");
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_parse(deep, strlen(deep), NULL, &m, &e), EBADMSG);

        /* index */
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_index_parse("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:" HA "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}",
                                        strlen("{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"x\",\"digest\":\"sha256:" HA "\",\"size\":1,\"platform\":{\"os\":\"linux\"}}]}"),
                                        NULL, &i, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "\"architecture\" is missing"));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_index_parse("{\"schemaVersion\":2,\"manifests\":{}}", 34, NULL, &i, &e), EBADMSG);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(manifest_index_parse("{\"schemaVersion\":2,\"manifests\":[7]}", 35, NULL, &i, &e), EBADMSG);
        ASSERT_TRUE(!i);

        /* config */
#define CFG_BAD(doc, err, needle)                                                \
        do {                                                                     \
                e = PEAPOD_ERROR_NULL; ASSERT_ERR(image_config_parse(doc, strlen(doc), &c, &e), err);   \
                ASSERT_TRUE(strstr(e.message, needle));                          \
                ASSERT_TRUE(!c);                                                 \
        } while (0)
        CFG_BAD("{\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", EBADMSG, "\"architecture\" is missing");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\"}", EBADMSG, "\"rootfs\" is missing");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\"}}", EBADMSG, "diff_ids");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"tarball\",\"diff_ids\":[]}}", EBADMSG, "not \"layers\"");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:abc\"]}}", EBADMSG, "bad digest");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Cmd\":\"sh\"},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", EBADMSG, "Cmd is not an array");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Env\":[1]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", EBADMSG, "not a string");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"Labels\":{\"a\":1}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", EBADMSG, "not a string");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":{\"WorkingDir\":[]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", EBADMSG, "WorkingDir");
        CFG_BAD("{\"os\":\"linux\",\"architecture\":\"amd64\",\"config\":[],\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", EBADMSG, "not an object");
        CFG_BAD("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"os\":\"linux\",\"architecture\":\"amd64\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}", EMEDIUMTYPE, "not an image config");
}

int main(void) {
        test_media_types();
        test_oci_manifest();
        test_docker_manifest();
        test_detect();
        test_index();
        test_config();
        test_chain_ids();
        test_malformed();
        test_malformed_other();
        return 0;
}
