/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "json-util.h"
#include "store.h"
#include "string-util.h"
#include "tests.h"

#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static char root[] = "/tmp/test-store-XXXXXX";

/* Entries of blobs/sha256 (temp files included). */
static unsigned count_blob_entries(void) {
        char p[512];
        struct dirent *de;
        unsigned n = 0;
        DIR *d;

        snprintf(p, sizeof(p), "%s/blobs/sha256", root);
        d = opendir(p);
        ASSERT_TRUE(d);
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' || startswith(de->d_name, ".tmp-"))
                        n++;
        closedir(d);
        return n;
}

static bool path_exists(const char *rel) {
        char p[512];

        snprintf(p, sizeof(p), "%s/%s", root, rel);
        return access(p, F_OK) == 0;
}

TEST(layout) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *text = NULL;
        char p[512];

        ASSERT_OK(store_open(root, &s));
        ASSERT_STREQ(store_root(s), root);
        snprintf(p, sizeof(p), "%s/oci-layout", root);
        ASSERT_OK(read_file(p, 4096, &text, NULL));
        ASSERT_STREQ(text, "{\"imageLayoutVersion\":\"1.0.0\"}");
        ASSERT_TRUE(path_exists("index.json"));
        ASSERT_TRUE(path_exists("blobs/sha256"));
        ASSERT_TRUE(path_exists("layers"));
        store_free(TAKE_PTR(s));
        /* opening again keeps what is there */
        ASSERT_OK(store_open(root, &s));
}

TEST(blobs) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL;
        PeapodError e = {};
        Digest abc, got, wrong;
        struct stat st;
        int fd, pipefd[2];
        char buf[8] = {};

        ASSERT_OK(store_open(root, &s));
        ASSERT_OK(digest_parse("sha256:" ABC_SHA256, &abc));
        ASSERT_OK(digest_parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", &wrong));
        ASSERT_TRUE(store_blob_exists(s, &abc) == 0);
        ASSERT_ERR(store_blob_open(s, &abc, &fd), ENOENT);

        /* wrong digest: refused, nothing visible, temp gone */
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_blob_write_buffer(s, &wrong, "abc", 3, NULL, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "Digest mismatch"));
        ASSERT_TRUE(store_blob_exists(s, &wrong) == 0);
        ASSERT_TRUE(store_blob_exists(s, &abc) == 0);
        ASSERT_TRUE(count_blob_entries() == 0);

        /* size mismatch, short and long */
        ASSERT_OK(store_blob_begin(s, &abc, 4, &w));
        ASSERT_OK(blob_writer_write(w, "abc", 3, &e));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_blob_commit(TAKE_PTR(w), NULL, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "expected 4"));
        ASSERT_OK(store_blob_begin(s, &abc, 2, &w));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(blob_writer_write(w, "abc", 3, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "larger"));
        /* a writer that failed once never commits */
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(blob_writer_write(w, "ab", 2, &e), EBADF);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_blob_commit(TAKE_PTR(w), NULL, &e), EBADF);
        ASSERT_TRUE(count_blob_entries() == 0);

        /* right digest, streamed in pieces */
        ASSERT_OK(store_blob_begin(s, &abc, 3, &w));
        ASSERT_OK(blob_writer_write(w, "a", 1, &e));
        ASSERT_OK(blob_writer_write(w, "bc", 2, &e));
        ASSERT_TRUE(store_blob_exists(s, &abc) == 0); /* not before commit */
        ASSERT_TRUE(store_blob_commit(TAKE_PTR(w), &got, &e) == 1);
        ASSERT_TRUE(digest_equal(&got, &abc));
        ASSERT_TRUE(store_blob_exists(s, &abc) == 1);
        ASSERT_TRUE(count_blob_entries() == 1);
        ASSERT_OK(store_blob_path(s, &abc, &path));
        ASSERT_TRUE(endswith(path, "/blobs/sha256/" ABC_SHA256));
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE((st.st_mode & 0777) == 0444);
        ASSERT_OK(store_blob_open(s, &abc, &fd));
        ASSERT_TRUE(read(fd, buf, sizeof(buf)) == 3);
        ASSERT_STREQ(buf, "abc");
        ASSERT_TRUE(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        close(fd);
        ASSERT_OK(store_blob_read(s, &abc, 100, &text, NULL, &e));
        ASSERT_STREQ(text, "abc");
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_blob_read(s, &abc, 2, &text, NULL, &e), EFBIG);

        /* again: fine, already there */
        ASSERT_TRUE(store_blob_write_buffer(s, &abc, "abc", 3, NULL, &e) == 0);
        ASSERT_TRUE(count_blob_entries() == 1);

        /* unknown digest and size: whatever it hashes to, from a pipe */
        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        ASSERT_TRUE(write(pipefd[1], "hello\n", 6) == 6);
        close(pipefd[1]);
        ASSERT_TRUE(store_blob_write_fd(s, NULL, UINT64_MAX, pipefd[0], &got, &e) == 1);
        close(pipefd[0]);
        /* printf 'hello\n' | sha256sum */
        ASSERT_STREQ(got.hex, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        ASSERT_TRUE(count_blob_entries() == 2);
}

/* Two processes pull the same blob at once. */
static void concurrent(bool with_lock) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *data = NULL, *back = NULL;
        const size_t size = 4 * 1024 * 1024 + 17;
        int added = 0, present = 0;
        PeapodError e = {};
        size_t n;
        Digest d;

        data = malloc(size);
        ASSERT_TRUE(data);
        for (size_t i = 0; i < size; i++)
                data[i] = (char) (i * 7 + (with_lock ? 1 : 3));
        ASSERT_OK(digest_buffer(DIGEST_SHA256, data, size, &d));
        ASSERT_OK(store_open(root, &s));

        for (int k = 0; k < 2; k++) {
                pid_t pid = fork();
                ASSERT_TRUE(pid >= 0);
                if (pid == 0) {
                        _cleanup_(store_freep) Store *cs = NULL;
                        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
                        _cleanup_close_ int lock_fd = -EBADF;
                        int r;

                        if (store_open(root, &cs) < 0)
                                _exit(1);
                        if (with_lock) {
                                if (store_blob_lock(cs, &d, &lock_fd) < 0)
                                        _exit(2);
                                if (store_blob_exists(cs, &d) > 0)
                                        _exit(11);
                        }
                        if (store_blob_begin(cs, &d, size, &w) < 0)
                                _exit(3);
                        for (size_t off = 0; off < size; off += 65536) {
                                if (blob_writer_write(w, data + off, size - off < 65536 ? size - off : 65536, NULL) < 0)
                                        _exit(4);
                                if (off % (1024 * 1024) == 0)
                                        usleep(1000); /* let the other one interleave */
                        }
                        r = store_blob_commit(TAKE_PTR(w), NULL, NULL);
                        _exit(r == 1 ? 10 : r == 0 ? 11 : 5);
                }
        }
        for (int k = 0; k < 2; k++) {
                int status;
                ASSERT_TRUE(wait(&status) > 0);
                ASSERT_TRUE(WIFEXITED(status));
                if (WEXITSTATUS(status) == 10)
                        added++;
                else if (WEXITSTATUS(status) == 11)
                        present++;
                else {
                        fprintf(stderr, "child failed with %d\n", WEXITSTATUS(status));
                        exit(EXIT_FAILURE);
                }
        }
        ASSERT_TRUE(added == 1 && present == 1);
        ASSERT_OK(store_blob_read(s, &d, size, &back, &n, &e));
        ASSERT_TRUE(n == size && memcmp(back, data, size) == 0);
}

TEST(concurrent) {
        unsigned before = count_blob_entries();

        concurrent(false);
        ASSERT_TRUE(count_blob_entries() == before + 1);
        concurrent(true);
        ASSERT_TRUE(count_blob_entries() == before + 2);
}

static void put_manifest(Store *s, const char *layer_data, Digest *ret_manifest, Digest *ret_config, Digest *ret_layer) {
        char config[512], manifest[1024], c[DIGEST_STRING_MAX], l[DIGEST_STRING_MAX];
        Digest cd, ld;

        ASSERT_TRUE(store_blob_write_buffer(s, NULL, layer_data, strlen(layer_data), &ld, NULL) >= 0);
        /* the diff_id is the layer's own digest: an uncompressed layer */
        snprintf(config, sizeof(config),
                 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                 digest_to_string(&ld, l));
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, config, strlen(config), &cd, NULL) >= 0);
        snprintf(manifest, sizeof(manifest),
                 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%zu},"
                 "\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\"%s\",\"size\":%zu}]}",
                 digest_to_string(&cd, c), strlen(config), l, strlen(layer_data));
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, manifest, strlen(manifest), ret_manifest, NULL) >= 0);
        *ret_config = cd;
        *ret_layer = ld;
}

TEST(refs) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *text = NULL;
        StoreRef *l = NULL;
        PeapodError e = {};
        Digest m1, m2, c, layer, got, abc;
        size_t n;
        char p[512];

        ASSERT_OK(store_open(root, &s));
        put_manifest(s, "layer one", &m1, &c, &layer);
        put_manifest(s, "layer two", &m2, &c, &layer);

        ASSERT_ERR(store_ref_get(s, "registry.example/library/busybox:latest", &got), ENOENT);
        ASSERT_OK(store_ref_set(s, "registry.example/library/busybox:latest", &m1, &e));
        ASSERT_OK(store_ref_set(s, "registry.example:5000/x/y@sha256:" ABC_SHA256, &m2, &e));
        ASSERT_OK(store_ref_get(s, "registry.example/library/busybox:latest", &got));
        ASSERT_TRUE(digest_equal(&got, &m1));
        /* re-pointing replaces, never duplicates */
        ASSERT_OK(store_ref_set(s, "registry.example/library/busybox:latest", &m2, &e));
        ASSERT_OK(store_ref_get(s, "registry.example/library/busybox:latest", &got));
        ASSERT_TRUE(digest_equal(&got, &m2));
        ASSERT_OK(store_ref_list(s, &l, &n));
        ASSERT_TRUE(n == 2);
        ASSERT_TRUE(l[0].descriptor.media_type == MEDIA_TYPE_OCI_MANIFEST);
        ASSERT_TRUE(l[0].descriptor.size > 0);
        store_ref_list_free(l, n);

        /* refused: a missing blob, a blob that is no manifest, bad names */
        ASSERT_OK(digest_parse("sha256:" ABC_SHA256, &abc));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_ref_set(s, "a:b", &c, &e), EMEDIUMTYPE);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_ref_set(s, "a:b", &layer, &e), EBADMSG);
        ASSERT_OK(digest_parse("sha256:1111111111111111111111111111111111111111111111111111111111111111", &got));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_ref_set(s, "a:b", &got, &e), ENOENT);
        ASSERT_TRUE(strstr(e.message, "not in the store"));
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_ref_set(s, "", &m1, &e), EINVAL);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_ref_set(s, "a b", &m1, &e), EINVAL);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(store_ref_set(s, "a\nb", &m1, &e), EINVAL);

        /* persisted, in OCI layout form */
        store_free(TAKE_PTR(s));
        ASSERT_OK(store_open(root, &s));
        ASSERT_OK(store_ref_get(s, "registry.example:5000/x/y@sha256:" ABC_SHA256, &got));
        ASSERT_TRUE(digest_equal(&got, &m2));
        snprintf(p, sizeof(p), "%s/index.json", root);
        ASSERT_OK(read_file(p, 1 << 20, &text, NULL));
        ASSERT_TRUE(strstr(text, "\"org.opencontainers.image.ref.name\":\"registry.example\\/library\\/busybox:latest\"") ||
                    strstr(text, "\"org.opencontainers.image.ref.name\":\"registry.example/library/busybox:latest\""));
        ASSERT_TRUE(strstr(text, "\"schemaVersion\":2"));

        ASSERT_OK(store_ref_remove(s, "registry.example/library/busybox:latest"));
        ASSERT_ERR(store_ref_remove(s, "registry.example/library/busybox:latest"), ENOENT);
        ASSERT_ERR(store_ref_get(s, "registry.example/library/busybox:latest", &got), ENOENT);
        ASSERT_OK(store_ref_remove(s, "registry.example:5000/x/y@sha256:" ABC_SHA256));
        ASSERT_OK(store_ref_list(s, &l, &n));
        ASSERT_TRUE(n == 0);
        store_ref_list_free(l, n);
}

TEST(gc) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ Digest *chain = NULL;
        StoreGcStats st;
        Digest m1, c1, l1, m2, c2, l2, junk;
        char p[512];
        int fd;

        ASSERT_OK(rm_rf(root));
        ASSERT_OK(store_open(root, &s));
        put_manifest(s, "kept layer", &m1, &c1, &l1);
        put_manifest(s, "dropped layer", &m2, &c2, &l2);
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, "junk", 4, &junk, NULL) == 1);
        ASSERT_OK(store_ref_set(s, "example/kept:1", &m1, NULL));

        /* a crashed writer's temp file, layer trees used and unused, a stale lock */
        snprintf(p, sizeof(p), "%s/blobs/sha256/.tmp-0123456789abcdef", root);
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(write(fd, "partial", 7) == 7);
        close(fd);
        ASSERT_OK(layer_chain_ids(&l1, 1, &chain));
        snprintf(p, sizeof(p), "%s/layers/%s/usr/bin", root, chain[0].hex);
        ASSERT_OK(mkdir_p(p, 0755));
        snprintf(p, sizeof(p), "%s/layers/%s/etc", root, l2.hex);
        ASSERT_OK(mkdir_p(p, 0755));
        snprintf(p, sizeof(p), "%s/layers/%s/etc/passwd", root, l2.hex);
        ASSERT_OK(write_file_atomic(p, "root:x:0:0::/:/bin/sh\n", 22, 0644));
        fd = -EBADF;
        ASSERT_OK(store_blob_lock(s, &junk, &fd));
        close(fd);
        snprintf(p, sizeof(p), "%s/index.json.tmp.4242", root);
        ASSERT_OK(write_file_atomic(p, "{", 1, 0644));

        ASSERT_OK(store_gc(s, NULL, 0, &st));
        ASSERT_TRUE(store_blob_exists(s, &m1) == 1);
        ASSERT_TRUE(store_blob_exists(s, &c1) == 1);
        ASSERT_TRUE(store_blob_exists(s, &l1) == 1);
        ASSERT_TRUE(store_blob_exists(s, &m2) == 0);
        ASSERT_TRUE(store_blob_exists(s, &c2) == 0);
        ASSERT_TRUE(store_blob_exists(s, &l2) == 0);
        ASSERT_TRUE(store_blob_exists(s, &junk) == 0);
        ASSERT_TRUE(st.blobs_removed == 4);
        ASSERT_TRUE(st.temp_removed == 2);
        ASSERT_TRUE(st.layers_removed == 1);
        ASSERT_TRUE(st.bytes_freed >= 4 + 7 + 22 + strlen("dropped layer"));
        ASSERT_TRUE(count_blob_entries() == 3);
        snprintf(p, sizeof(p), "layers/%s/usr/bin", chain[0].hex);
        ASSERT_TRUE(path_exists(p));
        snprintf(p, sizeof(p), "layers/%s", l2.hex);
        ASSERT_FALSE(path_exists(p));
        snprintf(p, sizeof(p), "locks/sha256-%s.lock", junk.hex);
        ASSERT_FALSE(path_exists(p));
        ASSERT_FALSE(path_exists("index.json.tmp.4242"));

        /* nothing left to do */
        ASSERT_OK(store_gc(s, NULL, 0, &st));
        ASSERT_TRUE(st.blobs_removed == 0 && st.layers_removed == 0 && st.bytes_freed == 0);

        /* without the ref, a pod's image stays if the caller says so */
        ASSERT_OK(store_ref_remove(s, "example/kept:1"));
        ASSERT_OK(store_gc(s, &m1, 1, &st));
        ASSERT_TRUE(st.blobs_removed == 0);
        ASSERT_TRUE(store_blob_exists(s, &l1) == 1);
        /* kept by its config (what pods record): the config and the layer
         * tree stay, the manifest and the layer blob go */
        ASSERT_OK(store_gc(s, &c1, 1, &st));
        ASSERT_TRUE(st.blobs_removed == 2 && st.layers_removed == 0);
        ASSERT_TRUE(store_blob_exists(s, &c1) == 1);
        ASSERT_TRUE(store_blob_exists(s, &m1) == 0);
        snprintf(p, sizeof(p), "layers/%s/usr/bin", chain[0].hex);
        ASSERT_TRUE(path_exists(p));
        ASSERT_OK(store_gc(s, NULL, 0, &st));
        ASSERT_TRUE(st.blobs_removed == 1 && st.layers_removed == 1);
        ASSERT_TRUE(count_blob_entries() == 0);
}

/* gc waits for a pin (a pull in progress) to be released. */
TEST(gc_waits_for_pin) {
        _cleanup_(store_freep) Store *s = NULL;
        int pfd[2], status;
        char c;
        Digest d;
        pid_t pid;

        ASSERT_OK(store_open(root, &s));
        ASSERT_OK(pipe2(pfd, O_CLOEXEC));
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                _cleanup_(store_freep) Store *cs = NULL;
                _cleanup_close_ int pin = -EBADF;

                close(pfd[0]);
                if (store_open(root, &cs) < 0 || store_pin(cs, &pin) < 0)
                        _exit(1);
                /* an unreferenced blob, added while pinned */
                if (store_blob_write_buffer(cs, NULL, "in flight", 9, NULL, NULL) < 0)
                        _exit(2);
                if (write(pfd[1], "x", 1) != 1)
                        _exit(3);
                usleep(200 * 1000);
                /* still there: gc is waiting for us */
                if (digest_buffer(DIGEST_SHA256, "in flight", 9, &d) < 0 || store_blob_exists(cs, &d) != 1)
                        _exit(4);
                _exit(0);
        }
        close(pfd[1]);
        ASSERT_TRUE(read(pfd[0], &c, 1) == 1);
        close(pfd[0]);
        ASSERT_OK(store_gc(s, NULL, 0, NULL));
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ASSERT_OK(digest_buffer(DIGEST_SHA256, "in flight", 9, &d));
        ASSERT_TRUE(store_blob_exists(s, &d) == 0);
}

/* What a killed writer leaves (its cleanup never ran) goes at start;
 * blobs, trees and refs stay; a live writer keeps its temp files. */
TEST(remove_temp) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_(blob_writer_freep) BlobWriter *w = NULL;
        StoreGcStats st;
        Digest m1, c1, l1, got;
        char p[512];
        int fd;

        ASSERT_OK(rm_rf(root));
        ASSERT_OK(store_open(root, &s));
        put_manifest(s, "a layer", &m1, &c1, &l1);
        snprintf(p, sizeof(p), "%s/blobs/sha256/.tmp-00000000000000aa", root);
        fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0444);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(write(fd, "partial", 7) == 7);
        close(fd);
        snprintf(p, sizeof(p), "%s/layers/.tmp-00000000000000bb/usr/bin", root);
        ASSERT_OK(mkdir_p(p, 0755));
        snprintf(p, sizeof(p), "%s/layers/%s/etc", root, l1.hex);
        ASSERT_OK(mkdir_p(p, 0755));

        /* a writer in progress (it holds a pin): nothing is touched */
        ASSERT_OK(store_blob_begin(s, NULL, UINT64_MAX, &w));
        ASSERT_OK(blob_writer_write(w, "live", 4, NULL));
        ASSERT_ERR(store_remove_temp(s, &st), EBUSY);
        ASSERT_TRUE(count_blob_entries() == 5);
        ASSERT_TRUE(store_blob_commit(TAKE_PTR(w), &got, NULL) == 1);

        ASSERT_OK(store_remove_temp(s, &st));
        ASSERT_TRUE(st.temp_removed == 1 && st.layers_removed == 1 && st.blobs_removed == 0);
        ASSERT_TRUE(count_blob_entries() == 4);
        ASSERT_FALSE(path_exists("layers/.tmp-00000000000000bb"));
        snprintf(p, sizeof(p), "layers/%s/etc", l1.hex);
        ASSERT_TRUE(path_exists(p));
        ASSERT_TRUE(store_blob_exists(s, &got) == 1 && store_blob_exists(s, &m1) == 1);

        /* A blob that would eat into the free space to keep is refused,
         * and its temp file goes with the writer. */
        {
                StorageLimits l = STORAGE_LIMITS_DEFAULT;
                PeapodError e = {};

                l.min_free_percent = 100;
                store_set_limits(s, &l);
                ASSERT_ERR(store_blob_write_buffer(s, NULL, "no room", 7, NULL, &e), ENOSPC);
                ASSERT_TRUE(strstr(e.message, "storage.conf min-free-space"));
                ASSERT_TRUE(count_blob_entries() == 4);
                store_set_limits(s, &STORAGE_LIMITS_DEFAULT);
                ASSERT_TRUE(store_blob_write_buffer(s, NULL, "room", 4, NULL, &e) == 1);
        }
}

/* storage.conf: defaults, sizes as bytes or with suffixes, a percentage,
 * and every malformed value refused with a message naming the key. */
TEST(storage_conf) {
        static const char * const bad[] = {
                "[]", "{", "{\"max-layer-size\": 0}", "{\"max-layer-size\": -1}", "{\"max-layer-size\": \"1X\"}",
                "{\"max-layer-size\": true}", "{\"max-image-size\": \"99999999T\"}", "{\"max-layer-inodes\": \"1M\"}",
                "{\"max-layer-inodes\": 0}", "{\"max-layer-inodes\": 8589934592}", "{\"min-free-space\": \"95%\"}",
                "{\"min-free-space\": \"5 %\"}", "{\"min-free-space\": \"%\"}", "{\"max-layer-siz\": 1}",
                "{} {}", "{\"max-layer-size\": [[[[[[[[[1]]]]]]]]]}",
        };
        StorageLimits l;
        PeapodError e = {};
        char p[512], b[32];

        ASSERT_OK(storage_conf_parse("{}", &l, &e));
        ASSERT_TRUE(l.max_layer_size == STORAGE_MAX_LAYER_SIZE_DEFAULT && l.max_image_size == STORAGE_MAX_IMAGE_SIZE_DEFAULT &&
                    l.max_layer_inodes == STORAGE_MAX_LAYER_INODES_DEFAULT && l.min_free_percent == 5 && l.min_free_bytes == 0);
        ASSERT_OK(storage_conf_parse("{\"max-layer-size\": \"1G\", \"max-image-size\": 1048576, \"max-layer-inodes\": 500,"
                                     " \"min-free-space\": \"2Gi\"}", &l, &e));
        ASSERT_TRUE(l.max_layer_size == UINT64_C(1) << 30 && l.max_image_size == 1 << 20 && l.max_layer_inodes == 500 &&
                    l.min_free_bytes == UINT64_C(2) << 30 && l.min_free_percent == 0);
        ASSERT_OK(storage_conf_parse("{\"min-free-space\": \"10%\"}", &l, &e));
        ASSERT_TRUE(l.min_free_percent == 10 && l.min_free_bytes == 0);
        ASSERT_OK(storage_conf_parse("{\"min-free-space\": 0}", &l, &e));
        ASSERT_TRUE(l.min_free_percent == 0 && l.min_free_bytes == 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                e = PEAPOD_ERROR_NULL;
                ASSERT_ERR(storage_conf_parse(bad[i], &l, &e), EBADMSG);
                ASSERT_TRUE(startswith(e.message, "storage.conf: "));
        }

        snprintf(p, sizeof(p), "%s/storage.conf", root);
        ASSERT_OK(storage_conf_load(p, &l, &e)); /* missing: the defaults */
        ASSERT_TRUE(l.max_layer_size == STORAGE_MAX_LAYER_SIZE_DEFAULT);
        ASSERT_OK(write_file_atomic(p, "{\"max-layer-size\": \"3M\"}", 25, 0644));
        ASSERT_OK(storage_conf_load(p, &l, &e));
        ASSERT_TRUE(l.max_layer_size == 3 << 20);
        ASSERT_OK(unlink(p));

        ASSERT_STREQ(storage_format_size(16ULL << 30, b), "16 GiB");
        ASSERT_STREQ(storage_format_size(1536, b), "1.5 KiB");
        ASSERT_STREQ(storage_format_size(100, b), "100 B");
}

/* A failed import is undone: what this store object added and no ref
 * reaches goes; what was there before, or a ref reaches, stays. */
TEST(remove_added) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ Digest *chain = NULL;
        _cleanup_close_ int pin = -EBADF;
        StoreGcStats st;
        Digest old, fresh, m1, c1, l1, m2, c2, l2, orphan;
        char p[512];

        ASSERT_OK(rm_rf(root));
        ASSERT_OK(store_open(root, &s));
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, "was there", 9, &old, NULL) == 1);
        store_track_added(s);
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, "was there", 9, NULL, NULL) == 0);
        ASSERT_TRUE(store_blob_write_buffer(s, NULL, "fresh", 5, &fresh, NULL) == 1);
        put_manifest(s, "named layer", &m1, &c1, &l1);
        put_manifest(s, "unnamed layer", &m2, &c2, &l2);
        ASSERT_OK(store_ref_set(s, "example/named:1", &m1, NULL));
        ASSERT_OK(layer_chain_ids(&l1, 1, &chain));
        ASSERT_OK(digest_buffer(DIGEST_SHA256, "orphan", 6, &orphan));
        snprintf(p, sizeof(p), "%s/layers/%s/etc", root, chain[0].hex);
        ASSERT_OK(mkdir_p(p, 0755));
        store_note_added_tree(s, &chain[0]);
        snprintf(p, sizeof(p), "%s/layers/%s/etc", root, orphan.hex);
        ASSERT_OK(mkdir_p(p, 0755));
        store_note_added_tree(s, &orphan);

        /* not while a writer is at work */
        ASSERT_OK(store_pin(s, &pin));
        ASSERT_ERR(store_remove_added(s, &st), EBUSY);
        pin = safe_close(pin);

        ASSERT_OK(store_remove_added(s, &st));
        ASSERT_TRUE(st.blobs_removed == 4 && st.layers_removed == 1);
        ASSERT_TRUE(store_blob_exists(s, &old) == 1);
        ASSERT_TRUE(store_blob_exists(s, &fresh) == 0);
        ASSERT_TRUE(store_blob_exists(s, &m1) == 1 && store_blob_exists(s, &c1) == 1 && store_blob_exists(s, &l1) == 1);
        ASSERT_TRUE(store_blob_exists(s, &m2) == 0 && store_blob_exists(s, &c2) == 0 && store_blob_exists(s, &l2) == 0);
        snprintf(p, sizeof(p), "layers/%s/etc", chain[0].hex);
        ASSERT_TRUE(path_exists(p));
        snprintf(p, sizeof(p), "layers/%s", orphan.hex);
        ASSERT_FALSE(path_exists(p));
}

int main(void) {
        ASSERT_TRUE(mkdtemp(root));
        test_layout();
        test_blobs();
        test_concurrent();
        test_refs();
        test_gc();
        test_gc_waits_for_pin();
        test_remove_temp();
        test_storage_conf();
        test_remove_added();
        ASSERT_OK(rm_rf(root));
        return 0;
}
