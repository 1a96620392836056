/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "websocket.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void ws_parser_done(WsParser *p) {
        p->message = mfree(p->message);
        p->message_size = 0;
        p->message_opcode = 0;
}

/* The payload length of the frame at data and the size of its header up
 * to the mask; false when not all of it has arrived yet. */
static bool ws_frame_length(const uint8_t *data, size_t size, uint64_t *ret_len, size_t *ret_hdr) {
        uint64_t len = data[1] & 0x7F;
        size_t hdr = 2;

        if (len == 126) {
                if (size < 4)
                        return false;
                len = (uint64_t) data[2] << 8 | data[3];
                hdr = 4;
        } else if (len == 127) {
                if (size < 10)
                        return false;
                len = 0;
                for (size_t i = 0; i < 8; i++)
                        len = len << 8 | data[2 + i];
                hdr = 10;
        }
        *ret_len = len;
        *ret_hdr = hdr;
        return true;
}

/* Whether a frame of this opcode and length may come now: control frames
 * whole and small, data frames in order and within the message bound. */
static int ws_frame_check(const WsParser *p, uint8_t opcode, bool fin, uint64_t len) {
        switch (opcode) {
        case WS_OP_CLOSE:
        case WS_OP_PING:
        case WS_OP_PONG:
                if (!fin || len > sizeof(p->control))
                        return -EBADMSG;
                return 0;
        case WS_OP_TEXT:
        case WS_OP_BINARY:
                if (p->message_opcode != 0)
                        return -EBADMSG;        /* a new message inside a fragmented one */
                __attribute__((fallthrough));
        case WS_OP_CONTINUATION:
                if (opcode == WS_OP_CONTINUATION && p->message_opcode == 0)
                        return -EBADMSG;
                /* Checked before the payload arrives, so that nobody makes
                 * us wait for (and buffer) more than the bound. */
                if (len > WS_MESSAGE_MAX || p->message_size + len > WS_MESSAGE_MAX)
                        return -EMSGSIZE;
                return 0;
        default:
                return -EBADMSG;
        }
}

int ws_parser_feed(WsParser *p, const uint8_t *data, size_t size, size_t *ret_consumed, WsMessage *ret) {
        uint64_t len;
        size_t hdr;
        uint8_t opcode, mask[4];
        bool fin;
        uint8_t *dst;
        int r;

        *ret_consumed = 0;
        if (size < 2)
                return 0;
        fin = data[0] & 0x80;
        opcode = data[0] & 0x0F;
        /* No extension was negotiated: reserved bits must be clear. A
         * client's frames are always masked (RFC 6455 5.1). */
        if (data[0] & 0x70)
                return -EBADMSG;
        if (!(data[1] & 0x80))
                return -EBADMSG;
        if (!ws_frame_length(data, size, &len, &hdr))
                return 0;
        r = ws_frame_check(p, opcode, fin, len);
        if (r < 0)
                return r;

        if (size - hdr < 4 || size - hdr - 4 < len)
                return 0;
        memcpy(mask, data + hdr, 4);
        hdr += 4;

        if (opcode >= WS_OP_CLOSE)
                dst = p->control;
        else {
                if (len > 0) {
                        uint8_t *m = realloc(p->message, p->message_size + len);

                        if (!m)
                                return -ENOMEM;
                        p->message = m;
                }
                dst = p->message ? p->message + p->message_size : NULL;
                if (opcode != WS_OP_CONTINUATION)
                        p->message_opcode = opcode;
        }
        for (size_t i = 0; i < len; i++)
                dst[i] = data[hdr + i] ^ mask[i & 3];
        *ret_consumed = hdr + len;

        if (opcode >= WS_OP_CLOSE) {
                *ret = (WsMessage) { .opcode = opcode, .data = p->control, .size = len };
                return 1;
        }
        p->message_size += len;
        if (!fin)
                return 0;
        *ret = (WsMessage) { .opcode = p->message_opcode, .data = p->message, .size = p->message_size };
        /* The buffer stays ours (and valid) until the next call. */
        p->message_size = 0;
        p->message_opcode = 0;
        return 1;
}

size_t ws_frame_header(uint8_t buf[static WS_HEADER_MAX], uint8_t opcode, size_t size) {
        buf[0] = 0x80 | opcode;
        if (size < 126) {
                buf[1] = size;
                return 2;
        }
        if (size <= 0xFFFF) {
                buf[1] = 126;
                buf[2] = size >> 8;
                buf[3] = size & 0xFF;
                return 4;
        }
        buf[1] = 127;
        for (size_t i = 0; i < 8; i++)
                buf[2 + i] = (uint64_t) size >> (56 - 8 * i);
        return 10;
}

int ws_accept_key(const char *key, char ret[static WS_ACCEPT_SIZE]) {
        uint8_t raw[18], digest[SHA_DIGEST_LENGTH];
        char buf[24 + sizeof(WS_GUID)];
        size_t n;

        /* The key is the base64 of 16 random bytes (RFC 6455 4.1). */
        if (strlen(key) != 24 || ws_base64_decode(key, 24, raw, &n) < 0 || n != 16)
                return -EINVAL;
        memcpy(buf, key, 24);
        memcpy(buf + 24, WS_GUID, sizeof(WS_GUID));
        if (!EVP_Digest(buf, 24 + strlen(WS_GUID), digest, NULL, EVP_sha1(), NULL))
                return -EIO;
        ret[ws_base64_encode(digest, sizeof(digest), ret)] = '\0';
        return 0;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t ws_base64_encode(const uint8_t *data, size_t size, char *ret) {
        size_t o = 0;

        for (size_t i = 0; i < size; i += 3) {
                uint32_t v = (uint32_t) data[i] << 16;

                if (i + 1 < size)
                        v |= (uint32_t) data[i + 1] << 8;
                if (i + 2 < size)
                        v |= data[i + 2];
                ret[o++] = b64[v >> 18 & 63];
                ret[o++] = b64[v >> 12 & 63];
                ret[o++] = i + 1 < size ? b64[v >> 6 & 63] : '=';
                ret[o++] = i + 2 < size ? b64[v & 63] : '=';
        }
        return o;
}

static int b64_value(char c) {
        const char *p = c ? strchr(b64, c) : NULL;

        return p ? (int) (p - b64) : -1;
}

int ws_base64_decode(const char *data, size_t size, uint8_t *ret, size_t *ret_size) {
        size_t o = 0;

        if (size % 4 != 0)
                return -EINVAL;
        for (size_t i = 0; i < size; i += 4) {
                int v[4];
                size_t pad = 0;

                for (size_t k = 0; k < 4; k++) {
                        if (data[i + k] == '=' && i + 4 == size && k >= 2) {
                                v[k] = 0;
                                pad++;
                                continue;
                        }
                        if (pad > 0)
                                return -EINVAL;         /* data after padding */
                        v[k] = b64_value(data[i + k]);
                        if (v[k] < 0)
                                return -EINVAL;
                }
                uint32_t x = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 | (uint32_t) v[3];
                ret[o++] = x >> 16;
                if (pad < 2)
                        ret[o++] = x >> 8 & 0xFF;
                if (pad < 1)
                        ret[o++] = x & 0xFF;
        }
        *ret_size = o;
        return 0;
}
