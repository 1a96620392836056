/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* gRPC over HTTP/2, the parts that need no socket: status codes, the
 * length-prefixed message framing of a request body, and the percent
 * encoding of grpc-message. Written from the gRPC protocol document
 * (PROTOCOL-HTTP2.md); peapod-cri's server (grpc-server.c) uses it, and
 * the unit test and the fuzz target drive it directly. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum GrpcStatus {
        GRPC_STATUS_OK = 0,
        GRPC_STATUS_CANCELLED = 1,
        GRPC_STATUS_UNKNOWN = 2,
        GRPC_STATUS_INVALID_ARGUMENT = 3,
        GRPC_STATUS_DEADLINE_EXCEEDED = 4,
        GRPC_STATUS_NOT_FOUND = 5,
        GRPC_STATUS_ALREADY_EXISTS = 6,
        GRPC_STATUS_PERMISSION_DENIED = 7,
        GRPC_STATUS_RESOURCE_EXHAUSTED = 8,
        GRPC_STATUS_FAILED_PRECONDITION = 9,
        GRPC_STATUS_ABORTED = 10,
        GRPC_STATUS_OUT_OF_RANGE = 11,
        GRPC_STATUS_UNIMPLEMENTED = 12,
        GRPC_STATUS_INTERNAL = 13,
        GRPC_STATUS_UNAVAILABLE = 14,
        GRPC_STATUS_DATA_LOSS = 15,
        GRPC_STATUS_UNAUTHENTICATED = 16,
        _GRPC_STATUS_MAX,
        _GRPC_STATUS_INVALID = -1,
} GrpcStatus;

const char *grpc_status_to_string(GrpcStatus s);

/* Every message is preceded by a compressed flag (1 byte) and its length
 * (4 bytes, big endian). */
#define GRPC_PREFIX_SIZE 5
/* The largest message accepted or sent (what kubelet's own clients allow). */
#define GRPC_MESSAGE_MAX (16U * 1024U * 1024U)

/* Collects the one request message of a unary call from the DATA of its
 * stream, in pieces of any size. The buffer grows with what arrived
 * (doubling, from 4 KiB, never past the declared length): a declared
 * length is not trusted until the bytes are there. */
typedef struct GrpcReader {
        uint8_t prefix[GRPC_PREFIX_SIZE];
        size_t prefix_len;      /* bytes of the current prefix; 0 between messages */
        size_t length;          /* the declared length, once the prefix is complete */
        uint8_t *buf;
        size_t len, allocated;  /* the body of the (first) message so far */
        unsigned n_messages;    /* complete messages seen */
        const char *error;      /* why the stream was refused; static text */
} GrpcReader;

void grpc_reader_done(GrpcReader *r);
/* 0, or a refusal that ends the call: -EMSGSIZE (a message over the cap),
 * -EPROTO (a compressed flag set, or a second message on a unary call),
 * -ENOMEM. r->error says why in words. */
int grpc_reader_feed(GrpcReader *r, const uint8_t *data, size_t size);
/* At the end of the stream: the one message (pointing into r, valid until
 * grpc_reader_done()), or -EPROTO (no message, or one cut short). */
int grpc_reader_finish(GrpcReader *r, const uint8_t **ret_msg, size_t *ret_len);
/* The status a refusal of grpc_reader_feed/finish is answered with. */
GrpcStatus grpc_status_from_reader_error(int error);

/* Writes the 5-byte prefix of an uncompressed message of len bytes. */
void grpc_prefix_write(uint8_t prefix[static GRPC_PREFIX_SIZE], size_t len);

/* grpc-message is percent-encoded: every byte outside 0x20-0x7E, and '%'
 * itself, becomes %XX. NULL on OOM. */
char *grpc_percent_encode(const char *s);

/* grpc-timeout: 1-8 digits and a unit (H, M, S, m, u, n), in
 * microseconds (n rounds up, so that a timeout is never 0). -EINVAL for
 * anything else. */
int grpc_timeout_parse(const char *s, uint64_t *ret_usec);

/* Whether a content-type names the gRPC protobuf format:
 * "application/grpc", optionally "+proto" or parameters after ';'. */
bool grpc_content_type_ok(const char *s);
