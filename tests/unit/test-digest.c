/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "tests.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ABC_SHA256 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

TEST(parse) {
        char buf[DIGEST_STRING_MAX];
        Digest d, untouched = { .algorithm = DIGEST_SHA256, .hex = "keep" };

        ASSERT_OK(digest_parse("sha256:" ABC_SHA256, &d));
        ASSERT_TRUE(d.algorithm == DIGEST_SHA256);
        ASSERT_STREQ(d.hex, ABC_SHA256);
        ASSERT_STREQ(digest_to_string(&d, buf), "sha256:" ABC_SHA256);
        ASSERT_TRUE(digest_is_valid_string("sha256:" EMPTY_SHA256));

        d = untouched;
        ASSERT_ERR(digest_parse(NULL, &d), EINVAL);
        ASSERT_ERR(digest_parse("", &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256:", &d), EINVAL);
        ASSERT_ERR(digest_parse(":" ABC_SHA256, &d), EINVAL);
        ASSERT_ERR(digest_parse(ABC_SHA256, &d), EINVAL);
        ASSERT_ERR(digest_parse("sha512:" ABC_SHA256 ABC_SHA256, &d), EINVAL);
        ASSERT_ERR(digest_parse("sha384:" ABC_SHA256, &d), EINVAL);
        ASSERT_ERR(digest_parse("SHA256:" ABC_SHA256, &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256:" ABC_SHA256 "0", &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256:" ABC_SHA256 "\n", &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag", &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256:../../../../etc/passwd/../../../../../../../../../../../../..", &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256 :" ABC_SHA256, &d), EINVAL);
        ASSERT_ERR(digest_parse("sha256::" ABC_SHA256, &d), EINVAL);
        ASSERT_ERR(digest_parse("averyveryverylongalgorithmname:" ABC_SHA256, &d), EINVAL);
        /* ret untouched on failure */
        ASSERT_STREQ(d.hex, "keep");

        ASSERT_OK(digest_from_hex(DIGEST_SHA256, EMPTY_SHA256, &d));
        ASSERT_ERR(digest_from_hex(DIGEST_SHA256, "abc", &d), EINVAL);
        ASSERT_ERR(digest_from_hex(_DIGEST_ALGORITHM_INVALID, EMPTY_SHA256, &d), EINVAL);
        ASSERT_TRUE(digest_algorithm_from_string("sha256") == DIGEST_SHA256);
        ASSERT_TRUE(digest_algorithm_from_string("md5") < 0);
}

TEST(vectors) {
        _cleanup_(digest_context_done) DigestContext c = DIGEST_CONTEXT_NULL;
        _cleanup_free_ char *s = NULL;
        Digest d, e;

        ASSERT_OK(digest_buffer(DIGEST_SHA256, "", 0, &d));
        ASSERT_STREQ(d.hex, EMPTY_SHA256);
        ASSERT_OK(digest_buffer(DIGEST_SHA256, "abc", 3, &d));
        ASSERT_STREQ(d.hex, ABC_SHA256);
        s = digest_to_string_alloc(&d);
        ASSERT_STREQ(s, "sha256:" ABC_SHA256);

        /* streaming in pieces equals one shot */
        ASSERT_OK(digest_context_init(&c, DIGEST_SHA256));
        ASSERT_OK(digest_context_update(&c, "a", 1));
        ASSERT_OK(digest_context_update(&c, "", 0));
        ASSERT_OK(digest_context_update(&c, "bc", 2));
        ASSERT_TRUE(c.size == 3);
        ASSERT_OK(digest_context_final(&c, &e));
        ASSERT_TRUE(digest_equal(&d, &e));
        /* final resets: using it again needs init */
        ASSERT_ERR(digest_context_update(&c, "x", 1), EINVAL);
        ASSERT_ERR(digest_context_final(&c, &e), EINVAL);
        ASSERT_ERR(digest_context_init(&c, _DIGEST_ALGORITHM_INVALID), EINVAL);
        /* re-init of a live context releases the old one (ASan checks) */
        ASSERT_OK(digest_context_init(&c, DIGEST_SHA256));
        ASSERT_OK(digest_context_init(&c, DIGEST_SHA256));
        ASSERT_OK(digest_context_final(&c, &e));
        ASSERT_STREQ(e.hex, EMPTY_SHA256);

        /* the chain-id input form, checked against
         * printf '%s' 'sha256:aaa sha256:bbb' | sha256sum */
        ASSERT_OK(digest_buffer(DIGEST_SHA256, "sha256:aaa sha256:bbb", 21, &d));
        ASSERT_STREQ(d.hex, "56efb1d4f6c79b745d37d6eff87e3ed8dd2be28104e124ba73fd6e6c4892c792");
}

TEST(fd) {
        char path[] = "/tmp/test-digest-XXXXXX";
        PeapodError e = {};
        Digest d, abc;
        uint64_t size;
        int fd;

        fd = mkostemp(path, O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(unlink(path));
        ASSERT_TRUE(write(fd, "abc", 3) == 3);

        ASSERT_TRUE(lseek(fd, 0, SEEK_SET) == 0);
        ASSERT_OK(digest_fd(fd, DIGEST_SHA256, &d, &size));
        ASSERT_STREQ(d.hex, ABC_SHA256);
        ASSERT_TRUE(size == 3);

        ASSERT_OK(digest_parse("sha256:" ABC_SHA256, &abc));
        ASSERT_TRUE(lseek(fd, 0, SEEK_SET) == 0);
        ASSERT_OK(digest_verify_fd(fd, &abc, 3, &e));
        ASSERT_TRUE(lseek(fd, 0, SEEK_SET) == 0);
        ASSERT_OK(digest_verify_fd(fd, &abc, UINT64_MAX, NULL));
        ASSERT_TRUE(lseek(fd, 0, SEEK_SET) == 0);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(digest_verify_fd(fd, &abc, 4, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "3 bytes"));
        ASSERT_TRUE(lseek(fd, 1, SEEK_SET) == 1);
        e = PEAPOD_ERROR_NULL;
        ASSERT_ERR(digest_verify_fd(fd, &abc, UINT64_MAX, &e), EBADMSG);
        ASSERT_TRUE(strstr(e.message, "mismatch"));
        ASSERT_TRUE(strstr(e.message, ABC_SHA256));
        close(fd);
}

int main(void) {
        test_parse();
        test_vectors();
        test_fd();
        return 0;
}
