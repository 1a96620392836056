/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fs-util.h"
#include "image-catalog.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static char root[] = "/tmp/test-image-catalog-XXXXXX";

typedef struct TestImage {
        Digest manifest, config, layer, chain;
        char id[DIGEST_STRING_MAX];
} TestImage;

/* An image of one uncompressed layer (its diff_id is its digest, and so
 * its chain id), with an "unpacked" tree; extra makes a second manifest of
 * the same config. */
static void make_image(Store *s, const char *layer_data, const char *extra, TestImage *ret) {
        char config[512], manifest[1024], c[DIGEST_STRING_MAX], l[DIGEST_STRING_MAX], p[512];

        ASSERT_TRUE(store_blob_write_buffer(s, NULL, layer_data, strlen(layer_data), &ret->layer, NULL) >= 0);
        snprintf(config, sizeof(config),
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                 digest_to_string(&ret->layer, l));
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, config, strlen(config), &ret->config, NULL) >= 0);
        snprintf(manifest, sizeof(manifest),
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]%s}",
                 digest_to_string(&ret->config, c), strlen(config), l, strlen(layer_data), extra);
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, manifest, strlen(manifest), &ret->manifest, NULL) >= 0);
        ret->chain = ret->layer;
        digest_to_string(&ret->config, ret->id);
        snprintf(p, sizeof(p), "%s/layers/%s/bin", root, ret->chain.hex);
        ASSERT_OK(mkdir_p(p, 0755));
}

static bool exists(const char *dir, const Digest *d) {
        char p[512];

        snprintf(p, sizeof(p), "%s/%s/%s", root, dir, d->hex);
        return access(p, F_OK) == 0;
}

static void assert_names(Store *s, const char *key, const char *id, const char *names) {
        _cleanup_free_ char *joined = NULL;
        ImageInfo info = {};
        char buf[DIGEST_STRING_MAX];

        ASSERT_OK(image_catalog_find(s, key, &info, NULL));
        ASSERT_STREQ(digest_to_string(&info.id, buf), id);
        joined = strv_join(info.names, " ");
        ASSERT_STREQ(joined, names);
        image_info_done(&info);
}

TEST(catalog) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *name = NULL;
        _cleanup_strv_free_ char **removed = NULL;
        ImageInfo *l = NULL, info = {};
        StoreGcStats st = {};
        PeapodError e = {};
        TestImage a, a2, b;
        size_t n;

        ASSERT_OK(store_open(root, &s));
        make_image(s, "layer a", "", &a);
        make_image(s, "layer a", ",\"annotations\":{\"x\":\"y\"}", &a2);
        make_image(s, "layer b", "", &b);
        ASSERT_FALSE(digest_equal(&a.manifest, &a2.manifest));
        ASSERT_OK(store_ref_set(s, "example.com/a:1", &a.manifest, NULL));
        ASSERT_OK(store_ref_set(s, "example.com/a:2", &a2.manifest, NULL));
        ASSERT_OK(store_ref_set(s, "example.com/b:1", &b.manifest, NULL));

        /* Two manifests of one config are one image. */
        ASSERT_OK(image_catalog_list(s, &l, &n, NULL));
        ASSERT_TRUE(n == 2);
        image_info_free_many(l, n);
        assert_names(s, "example.com/a:2", a.id, "example.com/a:1 example.com/a:2");
        assert_names(s, a.id + strlen("sha256:"), a.id, "example.com/a:1 example.com/a:2");
        ASSERT_ERR(image_catalog_find(s, "example.com/nope:1", &info, NULL), ENOENT);

        /* REPOSITORY@DIGEST of a manifest held by tag: found; the digest of
         * another repository's manifest, or of a config, is not. */
        {
                char ref[256], m[DIGEST_STRING_MAX];

                snprintf(ref, sizeof(ref), "example.com/a@%s", digest_to_string(&a2.manifest, m));
                assert_names(s, ref, a.id, "example.com/a:1 example.com/a:2");
                snprintf(ref, sizeof(ref), "example.com/b@%s", digest_to_string(&a.manifest, m));
                ASSERT_ERR(image_catalog_find(s, ref, &info, NULL), ENOENT);
                snprintf(ref, sizeof(ref), "example.com/a@%s", a.id);
                ASSERT_ERR(image_catalog_find(s, ref, &info, NULL), ENOENT);
                snprintf(ref, sizeof(ref), "example.com/a:1@%s", digest_to_string(&b.manifest, m));
                ASSERT_ERR(image_catalog_find(s, ref, &info, NULL), ENOENT);
        }

        /* tag: short names are local; digests and bad names refused */
        ASSERT_OK(image_catalog_tag(s, "example.com/b:1", "mine", &name, &e));
        ASSERT_STREQ(name, "localhost/mine:latest");
        assert_names(s, "mine", b.id, "example.com/b:1 localhost/mine:latest");
        ASSERT_OK(image_catalog_tag(s, a.id, "example.com/other/a:v2", NULL, &e));
        assert_names(s, "example.com/other/a:v2", a.id, "example.com/a:1 example.com/a:2 example.com/other/a:v2");
        ASSERT_ERR(image_catalog_tag(s, "example.com/b:1", "x@sha256:" "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", NULL, NULL), EINVAL);
        ASSERT_ERR(image_catalog_tag(s, "example.com/b:1", "UPPER/case", NULL, NULL), EINVAL);
        ASSERT_ERR(image_catalog_tag(s, "example.com/nope:1", "x", NULL, NULL), ENOENT);
        free(name);
        name = NULL;
        ASSERT_OK(image_name_normalize("a/b:2", &name, NULL));
        ASSERT_STREQ(name, "localhost/a/b:2");
        free(name);
        name = NULL;
        ASSERT_OK(image_name_normalize("example.com:5000/x", &name, NULL));
        ASSERT_STREQ(name, "example.com:5000/x:latest");

        /* rm of one name keeps the image while it has others */
        ImageUser users[] = { { .image_id = a.id, .pod = "pod-1" }, { .image_id = a.id, .pod = "web" },
                              { .image_id = a.id, .pod = "web" } };
        ASSERT_OK(image_catalog_remove(s, "example.com/a:2", users, 3, false, &removed, &st, NULL));
        ASSERT_TRUE(strv_length(removed) == 1 && streq(removed[0], "example.com/a:2"));
        ASSERT_TRUE(st.blobs_removed == 0);
        assert_names(s, a.id, a.id, "example.com/a:1 example.com/other/a:v2");

        /* by id: all names, refused while pods use it, naming them once each */
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(image_catalog_remove(s, a.id, users, 3, false, NULL, NULL, &e), EBUSY);
        ASSERT_TRUE(strstr(e.message, "used by pods pod-1, web"));
        assert_names(s, a.id, a.id, "example.com/a:1 example.com/other/a:v2");

        /* forced: names gone, the pod's config and layer tree stay */
        strv_free(removed);
        removed = NULL;
        ASSERT_OK(image_catalog_remove(s, a.id, users, 3, true, &removed, &st, NULL));
        ASSERT_TRUE(strv_length(removed) == 2);
        ASSERT_ERR(image_catalog_find(s, a.id, &info, NULL), ENOENT);
        ASSERT_TRUE(exists("blobs/sha256", &a.config));
        ASSERT_TRUE(exists("layers", &a.chain));
        ASSERT_FALSE(exists("blobs/sha256", &a.manifest));
        ASSERT_FALSE(exists("blobs/sha256", &a2.manifest));
        ASSERT_TRUE(st.blobs_removed >= 2);

        /* once no pod uses it, gc takes the rest; b is untouched */
        ASSERT_OK(image_catalog_gc(s, NULL, 0, &st, NULL));
        ASSERT_FALSE(exists("blobs/sha256", &a.config));
        ASSERT_FALSE(exists("layers", &a.chain));
        ASSERT_TRUE(st.layers_removed == 1 && st.bytes_freed > 0);
        ASSERT_TRUE(exists("layers", &b.chain));

        /* the last name of an unused image: the image goes at once */
        ASSERT_OK(image_catalog_remove(s, "mine", users, 3, false, NULL, NULL, NULL));
        ASSERT_OK(image_catalog_remove(s, "example.com/b:1", users, 3, false, NULL, &st, NULL));
        ASSERT_TRUE(st.layers_removed == 1);
        ASSERT_FALSE(exists("layers", &b.chain));
        ASSERT_ERR(image_catalog_remove(s, "example.com/b:1", NULL, 0, false, NULL, NULL, NULL), ENOENT);
}

int main(void) {
        ASSERT_TRUE(mkdtemp(root));
        test_catalog();
        ASSERT_OK(rm_rf(root));
        return 0;
}
