/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The framing of peapod-cri's streaming server: WebSocket (src/cri/websocket.c):
 * the accept key of RFC 6455's example, masked frames in every length
 * encoding, fragments with a ping between them, every refusal, base64;
 * SPDY/3.1 (src/cri/spdy.c): frames, header blocks through one zlib stream
 * per direction and back, refusals. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "spdy.h"
#include "tests.h"
#include "websocket.h"

/* A client's frame: masked with a fixed key. */
static size_t client_frame(uint8_t *out, bool fin, uint8_t opcode, const void *payload, size_t len) {
        static const uint8_t mask[4] = { 0x37, 0xfa, 0x21, 0x3d };
        size_t h = ws_frame_header(out, opcode, len);

        if (!fin)
                out[0] &= 0x7F;
        out[1] |= 0x80;
        memcpy(out + h, mask, 4);
        for (size_t i = 0; i < len; i++)
                out[h + 4 + i] = ((const uint8_t *) payload)[i] ^ mask[i & 3];
        return h + 4 + len;
}

TEST(accept_key) {
        char accept[WS_ACCEPT_SIZE];

        /* RFC 6455 section 1.3. */
        ASSERT_OK(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", accept));
        ASSERT_STREQ(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        ASSERT_ERR(ws_accept_key("dGhlIHNhbXBsZSBub25jZQ=", accept), EINVAL);
        ASSERT_ERR(ws_accept_key("dGhlIHNhbXBsZSBub25j!Q==", accept), EINVAL);
        ASSERT_ERR(ws_accept_key("", accept), EINVAL);
}

TEST(lengths) {
        static const size_t sizes[] = { 0, 1, 125, 126, 65535, 65536, WS_MESSAGE_MAX };

        for (size_t k = 0; k < ELEMENTSOF(sizes); k++) {
                size_t len = sizes[k], n, used;
                uint8_t *payload = malloc(len + 1), *buf = malloc(len + WS_HEADER_MAX);
                WsParser p = {};
                WsMessage m;

                ASSERT_TRUE(payload && buf);
                for (size_t i = 0; i < len; i++)
                        payload[i] = i * 7;
                n = client_frame(buf, true, WS_OP_BINARY, payload, len);
                /* Any prefix is "not yet", and takes nothing. */
                for (size_t cut = 0; cut < n; cut += 1 + cut / 3) {
                        ASSERT_TRUE(ws_parser_feed(&p, buf, cut, &used, &m) == 0);
                        ASSERT_TRUE(used == 0);
                }
                ASSERT_TRUE(ws_parser_feed(&p, buf, n, &used, &m) == 1);
                ASSERT_TRUE(used == n && m.opcode == WS_OP_BINARY && m.size == len);
                ASSERT_TRUE(len == 0 || memcmp(m.data, payload, len) == 0);
                ws_parser_done(&p);
                free(payload);
                free(buf);
        }
}

TEST(fragments) {
        uint8_t buf[256];
        size_t n = 0, used, off = 0;
        WsParser p = {};
        WsMessage m;

        n += client_frame(buf + n, false, WS_OP_TEXT, "hel", 3);
        n += client_frame(buf + n, true, WS_OP_PING, "pi", 2);
        n += client_frame(buf + n, false, WS_OP_CONTINUATION, "lo ", 3);
        n += client_frame(buf + n, true, WS_OP_CONTINUATION, "you", 3);

        ASSERT_TRUE(ws_parser_feed(&p, buf + off, n - off, &used, &m) == 0);
        off += used;
        ASSERT_TRUE(ws_parser_feed(&p, buf + off, n - off, &used, &m) == 1);
        ASSERT_TRUE(m.opcode == WS_OP_PING && m.size == 2 && memcmp(m.data, "pi", 2) == 0);
        off += used;
        ASSERT_TRUE(ws_parser_feed(&p, buf + off, n - off, &used, &m) == 0);
        off += used;
        ASSERT_TRUE(ws_parser_feed(&p, buf + off, n - off, &used, &m) == 1);
        off += used;
        ASSERT_TRUE(off == n && m.opcode == WS_OP_TEXT && m.size == 9 && memcmp(m.data, "hello you", 9) == 0);
        ws_parser_done(&p);
}

TEST(refusals) {
        uint8_t buf[300], big[126] = {};
        size_t used;
        WsParser p = {};
        WsMessage m;

        /* Unmasked. */
        ASSERT_ERR(ws_parser_feed(&p, (const uint8_t *) "\x82\x01x", 3, &used, &m), EBADMSG);
        /* Reserved bits. */
        client_frame(buf, true, WS_OP_BINARY, "x", 1);
        buf[0] |= 0x40;
        ASSERT_ERR(ws_parser_feed(&p, buf, 7, &used, &m), EBADMSG);
        /* Unknown opcodes. */
        client_frame(buf, true, 0x3, "x", 1);
        ASSERT_ERR(ws_parser_feed(&p, buf, 7, &used, &m), EBADMSG);
        client_frame(buf, true, 0xB, "x", 1);
        ASSERT_ERR(ws_parser_feed(&p, buf, 7, &used, &m), EBADMSG);
        /* A continuation with nothing to continue. */
        client_frame(buf, true, WS_OP_CONTINUATION, "x", 1);
        ASSERT_ERR(ws_parser_feed(&p, buf, 7, &used, &m), EBADMSG);
        /* Control frames: fragmented, or above 125 bytes. */
        client_frame(buf, false, WS_OP_PING, "x", 1);
        ASSERT_ERR(ws_parser_feed(&p, buf, 7, &used, &m), EBADMSG);
        client_frame(buf, true, WS_OP_CLOSE, big, sizeof(big));
        ASSERT_ERR(ws_parser_feed(&p, buf, sizeof(buf), &used, &m), EBADMSG);
        /* A new message inside a fragmented one. */
        size_t n = client_frame(buf, false, WS_OP_TEXT, "a", 1);
        ASSERT_TRUE(ws_parser_feed(&p, buf, n, &used, &m) == 0 && used == n);
        client_frame(buf, true, WS_OP_BINARY, "b", 1);
        ASSERT_ERR(ws_parser_feed(&p, buf, 7, &used, &m), EBADMSG);
        ws_parser_done(&p);
        /* Too big, refused from the header alone (2^63 too). */
        memcpy(buf, "\x82\xff\x80\x00\x00\x00\x00\x00\x00\x00", 10);
        ASSERT_ERR(ws_parser_feed(&p, buf, 10, &used, &m), EMSGSIZE);
        memcpy(buf, "\x82\xff\x00\x00\x00\x00\x00\x04\x00\x01", 10);
        ASSERT_ERR(ws_parser_feed(&p, buf, 10, &used, &m), EMSGSIZE);
        /* ... and so are fragments that add up to too much. */
        uint8_t *frag = malloc(WS_MESSAGE_MAX + WS_HEADER_MAX);
        uint8_t *zero = calloc(1, WS_MESSAGE_MAX);
        ASSERT_TRUE(frag && zero);
        n = client_frame(frag, false, WS_OP_BINARY, zero, WS_MESSAGE_MAX);
        ASSERT_TRUE(ws_parser_feed(&p, frag, n, &used, &m) == 0 && used == n);
        n = client_frame(frag, true, WS_OP_CONTINUATION, zero, 1);
        ASSERT_ERR(ws_parser_feed(&p, frag, n, &used, &m), EMSGSIZE);
        ws_parser_done(&p);
        free(frag);
        free(zero);
}

TEST(base64) {
        char enc[16];
        uint8_t dec[16];
        size_t n;

        ASSERT_TRUE(ws_base64_encode((const uint8_t *) "ab", 2, enc) == 4 && memcmp(enc, "YWI=", 4) == 0);
        ASSERT_TRUE(ws_base64_encode((const uint8_t *) "abc", 3, enc) == 4 && memcmp(enc, "YWJj", 4) == 0);
        ASSERT_OK(ws_base64_decode("YWI=", 4, dec, &n));
        ASSERT_TRUE(n == 2 && memcmp(dec, "ab", 2) == 0);
        ASSERT_OK(ws_base64_decode("YQ==", 4, dec, &n));
        ASSERT_TRUE(n == 1 && dec[0] == 'a');
        ASSERT_OK(ws_base64_decode("", 0, dec, &n));
        ASSERT_TRUE(n == 0);
        ASSERT_ERR(ws_base64_decode("YWI", 3, dec, &n), EINVAL);
        ASSERT_ERR(ws_base64_decode("Y=I=", 4, dec, &n), EINVAL);
        ASSERT_ERR(ws_base64_decode("YQ==YWJj", 8, dec, &n), EINVAL);
        ASSERT_ERR(ws_base64_decode("Y\0Jj", 4, dec, &n), EINVAL);
        ASSERT_ERR(ws_base64_decode("=WJj", 4, dec, &n), EINVAL);
}

TEST(spdy) {
        static const char *const names[] = { "streamtype", "port" }, *const values[] = { "stdout", "8080" };
        SpdyZ client = {}, server = {};
        uint8_t buf[64], *block;
        size_t size, used;
        SpdyFrame f;

        /* Two blocks in a row: the second only decodes with the first's state. */
        for (int round = 0; round < 2; round++) {
                SpdyHeaders h = {};

                ASSERT_OK(spdy_headers_encode(&client, names, values, 2, &block, &size));
                /* The client's output stream is the server's input stream. */
                ASSERT_OK(spdy_headers_decode(&server, block, size, &h));
                ASSERT_TRUE(h.n == 2);
                ASSERT_STREQ(spdy_headers_get(&h, "streamType"), "stdout");
                ASSERT_STREQ(spdy_headers_get(&h, "port"), "8080");
                ASSERT_TRUE(spdy_headers_get(&h, "requestid") == NULL);
                spdy_headers_done(&h);
                free(block);
        }
        /* Garbage is refused, not crashed on. */
        SpdyHeaders h = {};
        SpdyZ fresh = {};
        ASSERT_ERR(spdy_headers_decode(&fresh, (const uint8_t *) "\x78\xbbnope", 6, &h), EBADMSG);
        spdy_z_done(&fresh);
        spdy_z_done(&client);
        spdy_z_done(&server);

        /* Frames: a data frame in pieces, a control frame, the refusals. */
        spdy_data_header(buf, 5, SPDY_FLAG_FIN, 3);
        memcpy(buf + 8, "abc", 3);
        for (size_t cut = 0; cut < 11; cut++)
                ASSERT_TRUE(spdy_frame_parse(buf, cut, &used, &f) == 0 && used == 0);
        ASSERT_TRUE(spdy_frame_parse(buf, 11, &used, &f) == 1);
        ASSERT_TRUE(used == 11 && !f.control && f.stream_id == 5 && f.flags == SPDY_FLAG_FIN && f.size == 3);
        spdy_control_header(buf, SPDY_PING, 0, 4);
        ASSERT_TRUE(spdy_frame_parse(buf, 12, &used, &f) == 1 && f.control && f.type == SPDY_PING && f.size == 4);
        buf[1] = 2;     /* SPDY/2 */
        ASSERT_ERR(spdy_frame_parse(buf, 12, &used, &f), EBADMSG);
        spdy_data_header(buf, 1, 0, SPDY_FRAME_MAX + 1);
        ASSERT_ERR(spdy_frame_parse(buf, 8, &used, &f), EMSGSIZE);
}

int main(void) {
        test_accept_key();
        test_lengths();
        test_fragments();
        test_refusals();
        test_base64();
        test_spdy();
        return 0;
}
