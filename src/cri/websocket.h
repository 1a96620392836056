/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* RFC 6455 framing for the streaming server, without I/O: the parser takes
 * what a client sent (frames must be masked), reassembles fragmented
 * messages and hands out whole messages; control frames may come between
 * fragments. Everything is bounded: a message (after reassembly) is at most
 * WS_MESSAGE_MAX bytes, a control frame at most 125. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define WS_MESSAGE_MAX (256U * 1024U)
#define WS_HEADER_MAX 14U                       /* 2 + 8 (length) + 4 (mask) */
#define WS_ACCEPT_SIZE 29U                      /* base64 of a SHA-1, with NUL */

enum {
        WS_OP_CONTINUATION = 0x0,
        WS_OP_TEXT = 0x1,
        WS_OP_BINARY = 0x2,
        WS_OP_CLOSE = 0x8,
        WS_OP_PING = 0x9,
        WS_OP_PONG = 0xA,
};

/* Close codes we send. */
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_PROTOCOL_ERROR 1002
#define WS_CLOSE_TOO_BIG 1009

typedef struct WsParser {
        uint8_t *message;               /* the data message being reassembled */
        size_t message_size;
        uint8_t message_opcode;         /* 0: none in progress */
        uint8_t control[125];
} WsParser;

typedef struct WsMessage {
        uint8_t opcode;                 /* TEXT, BINARY, CLOSE, PING or PONG */
        const uint8_t *data;            /* valid until the next ws_parser_feed() */
        size_t size;
} WsMessage;

void ws_parser_done(WsParser *p);

/* Consumes at most one frame from [data, data+size): *ret_consumed is how
 * many bytes it took (0: the frame is not complete yet). Returns 1 with
 * *ret a whole message, 0 when none is complete yet, -EBADMSG for a
 * protocol error (unmasked or reserved bits, bad opcode, bad control frame,
 * continuation without start), -EMSGSIZE above the bounds, -ENOMEM. */
int ws_parser_feed(WsParser *p, const uint8_t *data, size_t size, size_t *ret_consumed, WsMessage *ret);

/* The header of an unmasked, final server frame with size bytes of
 * payload, in buf; returns its length. */
size_t ws_frame_header(uint8_t buf[static WS_HEADER_MAX], uint8_t opcode, size_t size);

/* Sec-WebSocket-Accept for a client's Sec-WebSocket-Key. -EINVAL for a key
 * that is not the base64 of 16 bytes. */
int ws_accept_key(const char *key, char ret[static WS_ACCEPT_SIZE]);

/* Standard base64 (for base64.channel.k8s.io). Encode: ret must hold
 * 4 * ((size + 2) / 3) bytes, returns the length. Decode: -EINVAL for bad
 * input, else the decoded length (ret holds 3 * (size / 4) bytes). */
size_t ws_base64_encode(const uint8_t *data, size_t size, char *ret);
int ws_base64_decode(const char *data, size_t size, uint8_t *ret, size_t *ret_size);
