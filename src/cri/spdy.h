/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SPDY/3.1 framing for the streaming server (what kubelet's and older
 * kubectl's clients speak after "Upgrade: SPDY/3.1"), without I/O: frames
 * out of a byte buffer, header blocks through the session's two zlib
 * streams with the SPDY/3 dictionary. Bounded: a frame's payload is at
 * most SPDY_FRAME_MAX, a header block decompresses to at most
 * SPDY_HEADERS_MAX bytes and SPDY_HEADERS_PAIRS pairs. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <zlib.h>

#include "macro.h"

#define SPDY_VERSION 3
#define SPDY_HEADER_SIZE 8U
#define SPDY_FRAME_MAX (256U * 1024U)
#define SPDY_HEADERS_MAX (16U * 1024U)
#define SPDY_HEADERS_PAIRS 64U

enum {
        SPDY_SYN_STREAM = 1,
        SPDY_SYN_REPLY = 2,
        SPDY_RST_STREAM = 3,
        SPDY_SETTINGS = 4,
        SPDY_PING = 6,
        SPDY_GOAWAY = 7,
        SPDY_HEADERS = 8,
        SPDY_WINDOW_UPDATE = 9,
};

#define SPDY_FLAG_FIN 0x01
#define SPDY_FLAG_UNIDIRECTIONAL 0x02

/* RST_STREAM status codes. */
#define SPDY_PROTOCOL_ERROR 1
#define SPDY_REFUSED_STREAM 3
#define SPDY_CANCEL 5

typedef struct SpdyFrame {
        bool control;
        uint16_t type;                  /* control frames */
        uint8_t flags;
        uint32_t stream_id;             /* data frames */
        const uint8_t *data;            /* the payload, in the caller's buffer */
        size_t size;
} SpdyFrame;

/* One frame from [buf, buf+n): 1 with *ret and *ret_consumed, 0 when it is
 * not complete yet, -EBADMSG (a control frame of another version),
 * -EMSGSIZE (longer than SPDY_FRAME_MAX, known from the header alone). */
int spdy_frame_parse(const uint8_t *buf, size_t n, size_t *ret_consumed, SpdyFrame *ret);

size_t spdy_control_header(uint8_t buf[static SPDY_HEADER_SIZE], uint16_t type, uint8_t flags, size_t length);
size_t spdy_data_header(uint8_t buf[static SPDY_HEADER_SIZE], uint32_t stream_id, uint8_t flags, size_t length);

/* A session's header compression state: one zlib stream each way, for the
 * whole connection. */
typedef struct SpdyZ {
        z_stream in, out;
        bool in_ready, out_ready;
} SpdyZ;

void spdy_z_done(SpdyZ *z);

typedef struct SpdyHeader {
        char *name, *value;             /* NUL-terminated; a value's NULs separate its values */
        size_t value_size;
} SpdyHeader;

typedef struct SpdyHeaders {
        SpdyHeader pairs[SPDY_HEADERS_PAIRS];
        size_t n;
        uint8_t *buf;                   /* the decompressed block, which the pairs point into */
} SpdyHeaders;

void spdy_headers_done(SpdyHeaders *h);
/* Decompresses and parses a header block. -EBADMSG for anything malformed
 * (the session is then unusable: its zlib stream is out of step). */
int spdy_headers_decode(SpdyZ *z, const uint8_t *block, size_t size, SpdyHeaders *ret);
/* The value of name (names are lower case on the wire), or NULL. */
const char *spdy_headers_get(const SpdyHeaders *h, const char *name);
/* Compresses n name/value pairs (names[i], values[i]) into a new buffer. */
int spdy_headers_encode(SpdyZ *z, const char *const *names, const char *const *values, size_t n, uint8_t **ret,
                        size_t *ret_size);
