/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The gRPC framing of peapod-cri (src/cri/grpc.c): a unary request's
 * message reassembled from pieces of every size, and each refusal. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grpc.h"
#include "tests.h"

static size_t frame(uint8_t *out, uint8_t flag, const void *msg, size_t len) {
        grpc_prefix_write(out, len);
        out[0] = flag;
        memcpy(out + GRPC_PREFIX_SIZE, msg, len);
        return GRPC_PREFIX_SIZE + len;
}

TEST(pieces) {
        uint8_t buf[64];
        size_t n = frame(buf, 0, "hello, runtime", 14);

        /* Every split into chunks of k bytes gives back the same message. */
        for (size_t k = 1; k <= n; k++) {
                GrpcReader r = {};
                const uint8_t *msg;
                size_t len;

                for (size_t off = 0; off < n; off += k)
                        ASSERT_OK(grpc_reader_feed(&r, buf + off, off + k > n ? n - off : k));
                ASSERT_OK(grpc_reader_finish(&r, &msg, &len));
                ASSERT_TRUE(len == 14 && memcmp(msg, "hello, runtime", 14) == 0);
                /* Nothing beyond the message was allocated. */
                ASSERT_TRUE(r.allocated == 14);
                grpc_reader_done(&r);
        }
}

TEST(empty_message) {
        uint8_t buf[8];
        GrpcReader r = {};
        const uint8_t *msg;
        size_t len, n = frame(buf, 0, "", 0);

        ASSERT_OK(grpc_reader_feed(&r, buf, n));
        ASSERT_OK(grpc_reader_finish(&r, &msg, &len));
        ASSERT_TRUE(len == 0 && msg);
        grpc_reader_done(&r);
}

TEST(refusals) {
        uint8_t buf[64], big[5];
        GrpcReader r = {};
        const uint8_t *msg;
        size_t len, n;

        /* No message at all, and one cut short: INTERNAL. */
        ASSERT_ERR(grpc_reader_finish(&r, &msg, &len), EPROTO);
        ASSERT_STREQ(r.error, "no request message");
        r = (GrpcReader) {};
        n = frame(buf, 0, "abcdef", 6);
        ASSERT_OK(grpc_reader_feed(&r, buf, n - 1));
        ASSERT_ERR(grpc_reader_finish(&r, &msg, &len), EPROTO);
        grpc_reader_done(&r);
        r = (GrpcReader) {};
        ASSERT_OK(grpc_reader_feed(&r, buf, 3));
        ASSERT_ERR(grpc_reader_finish(&r, &msg, &len), EPROTO);
        grpc_reader_done(&r);

        /* The compressed flag (we never offer compression), and junk in it. */
        for (unsigned flag = 1; flag < 256; flag += 127) {
                r = (GrpcReader) {};
                n = frame(buf, (uint8_t) flag, "x", 1);
                ASSERT_ERR(grpc_reader_feed(&r, buf, n), EPROTO);
                ASSERT_TRUE(grpc_status_from_reader_error(-EPROTO) == GRPC_STATUS_INTERNAL);
                /* Once refused, always refused. */
                ASSERT_ERR(grpc_reader_feed(&r, buf, n), EPROTO);
                ASSERT_ERR(grpc_reader_finish(&r, &msg, &len), EPROTO);
                grpc_reader_done(&r);
        }

        /* Over the cap: refused at the prefix, before any body arrives. */
        r = (GrpcReader) {};
        grpc_prefix_write(big, GRPC_MESSAGE_MAX + 1);
        ASSERT_ERR(grpc_reader_feed(&r, big, sizeof(big)), EMSGSIZE);
        ASSERT_TRUE(grpc_status_from_reader_error(-EMSGSIZE) == GRPC_STATUS_RESOURCE_EXHAUSTED);
        ASSERT_TRUE(r.allocated == 0);
        grpc_reader_done(&r);
        /* Exactly the cap is fine (only the prefix is fed: nothing allocated). */
        r = (GrpcReader) {};
        grpc_prefix_write(big, GRPC_MESSAGE_MAX);
        ASSERT_OK(grpc_reader_feed(&r, big, sizeof(big)));
        ASSERT_TRUE(r.allocated == 0);
        grpc_reader_done(&r);

        /* Two messages on a unary call. */
        r = (GrpcReader) {};
        n = frame(buf, 0, "one", 3);
        n += frame(buf + n, 0, "two", 3);
        ASSERT_ERR(grpc_reader_feed(&r, buf, n), EPROTO);
        grpc_reader_done(&r);
}

TEST(percent_encode) {
        char *e = grpc_percent_encode("100% sure\n\xc3\xa9");

        ASSERT_STREQ(e, "100%25 sure%0A%C3%A9");
        free(e);
        e = grpc_percent_encode("");
        ASSERT_STREQ(e, "");
        free(e);
}

TEST(content_type) {
        ASSERT_TRUE(grpc_content_type_ok("application/grpc"));
        ASSERT_TRUE(grpc_content_type_ok("application/grpc+proto"));
        ASSERT_TRUE(grpc_content_type_ok("application/grpc;charset=utf-8"));
        ASSERT_FALSE(grpc_content_type_ok("application/grpc+json"));
        ASSERT_FALSE(grpc_content_type_ok("application/grpcx"));
        ASSERT_FALSE(grpc_content_type_ok("application/json"));
        ASSERT_FALSE(grpc_content_type_ok(""));
}

TEST(status_names) {
        ASSERT_STREQ(grpc_status_to_string(GRPC_STATUS_UNIMPLEMENTED), "UNIMPLEMENTED");
        ASSERT_STREQ(grpc_status_to_string(GRPC_STATUS_RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
        ASSERT_TRUE(grpc_status_to_string(_GRPC_STATUS_MAX) == NULL);
}

TEST(timeout) {
        uint64_t u;

        ASSERT_OK(grpc_timeout_parse("5S", &u));
        ASSERT_TRUE(u == 5000000);
        ASSERT_OK(grpc_timeout_parse("99999999H", &u));
        ASSERT_TRUE(u == 99999999ULL * 3600 * 1000000);
        ASSERT_OK(grpc_timeout_parse("250m", &u));
        ASSERT_TRUE(u == 250000);
        ASSERT_OK(grpc_timeout_parse("1n", &u));
        ASSERT_TRUE(u == 1);
        ASSERT_OK(grpc_timeout_parse("0u", &u));
        ASSERT_TRUE(u == 1);
        ASSERT_ERR(grpc_timeout_parse("123456789S", &u), EINVAL);
        ASSERT_ERR(grpc_timeout_parse("S", &u), EINVAL);
        ASSERT_ERR(grpc_timeout_parse("5", &u), EINVAL);
        ASSERT_ERR(grpc_timeout_parse("5s", &u), EINVAL);
        ASSERT_ERR(grpc_timeout_parse("5SS", &u), EINVAL);
        ASSERT_ERR(grpc_timeout_parse("-5S", &u), EINVAL);
        ASSERT_ERR(grpc_timeout_parse("", &u), EINVAL);
}

int main(void) {
        test_pieces();
        test_empty_message();
        test_refusals();
        test_percent_encode();
        test_content_type();
        test_status_names();
        test_timeout();
        return 0;
}
