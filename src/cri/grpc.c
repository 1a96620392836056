/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>

#include "grpc.h"
#include "macro.h"
#include "string-util.h"

static const char *const grpc_status_table[_GRPC_STATUS_MAX] = {
        [GRPC_STATUS_OK] = "OK",
        [GRPC_STATUS_CANCELLED] = "CANCELLED",
        [GRPC_STATUS_UNKNOWN] = "UNKNOWN",
        [GRPC_STATUS_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
        [GRPC_STATUS_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
        [GRPC_STATUS_NOT_FOUND] = "NOT_FOUND",
        [GRPC_STATUS_ALREADY_EXISTS] = "ALREADY_EXISTS",
        [GRPC_STATUS_PERMISSION_DENIED] = "PERMISSION_DENIED",
        [GRPC_STATUS_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
        [GRPC_STATUS_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
        [GRPC_STATUS_ABORTED] = "ABORTED",
        [GRPC_STATUS_OUT_OF_RANGE] = "OUT_OF_RANGE",
        [GRPC_STATUS_UNIMPLEMENTED] = "UNIMPLEMENTED",
        [GRPC_STATUS_INTERNAL] = "INTERNAL",
        [GRPC_STATUS_UNAVAILABLE] = "UNAVAILABLE",
        [GRPC_STATUS_DATA_LOSS] = "DATA_LOSS",
        [GRPC_STATUS_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *grpc_status_to_string(GrpcStatus s) {
        if (s < 0 || s >= _GRPC_STATUS_MAX)
                return NULL;
        return grpc_status_table[s];
}

void grpc_reader_done(GrpcReader *r) {
        r->buf = mfree(r->buf);
        r->len = r->allocated = 0;
}

static int reader_refuse(GrpcReader *r, int error, const char *why) {
        r->error = why;
        grpc_reader_done(r);
        return -error;
}

int grpc_reader_feed(GrpcReader *r, const uint8_t *data, size_t size) {
        if (r->error)
                return -EPROTO;
        while (size > 0) {
                size_t n;

                if (r->prefix_len < GRPC_PREFIX_SIZE) {
                        n = MIN(size, GRPC_PREFIX_SIZE - r->prefix_len);
                        memcpy(r->prefix + r->prefix_len, data, n);
                        r->prefix_len += n;
                        data += n;
                        size -= n;
                        if (r->prefix_len < GRPC_PREFIX_SIZE)
                                break;

                        /* A unary call carries exactly one message. */
                        if (r->n_messages > 0)
                                return reader_refuse(r, EPROTO, "more than one request message on a unary call");
                        /* We never announce grpc-accept-encoding and refuse a
                         * grpc-encoding other than identity before any DATA, so a
                         * set flag is a protocol violation (INTERNAL in the gRPC
                         * spec), as is any value but 0 and 1. */
                        if (r->prefix[0] != 0)
                                return reader_refuse(r, EPROTO, "compressed message without a grpc-encoding");
                        r->length = (size_t) r->prefix[1] << 24 | (size_t) r->prefix[2] << 16 |
                                    (size_t) r->prefix[3] << 8 | (size_t) r->prefix[4];
                        if (r->length > GRPC_MESSAGE_MAX)
                                return reader_refuse(r, EMSGSIZE, "request message larger than 16 MiB");
                        r->len = 0;
                        if (r->length == 0) {
                                r->n_messages++;
                                r->prefix_len = 0;
                        }
                        /* The body, if any, from the next byte on (there may
                         * be none in this piece: nothing to copy then). */
                        continue;
                }

                n = MIN(size, r->length - r->len);
                if (r->len + n > r->allocated) {
                        /* Grow with what arrives, doubling, never past the declared length. */
                        size_t a = MAX(r->allocated * 2, (size_t) 4096);
                        uint8_t *b;

                        a = MIN(MAX(a, r->len + n), r->length);
                        b = realloc(r->buf, a);
                        if (!b)
                                return reader_refuse(r, ENOMEM, "out of memory");
                        r->buf = b;
                        r->allocated = a;
                }
                memcpy(r->buf + r->len, data, n);
                r->len += n;
                data += n;
                size -= n;
                if (r->len == r->length) {
                        r->n_messages++;
                        r->prefix_len = 0;  /* the next byte starts a prefix */
                }
        }
        return 0;
}

int grpc_reader_finish(GrpcReader *r, const uint8_t **ret_msg, size_t *ret_len) {
        if (r->error)
                return -EPROTO;
        if (r->n_messages != 1 || r->prefix_len != 0) {
                r->error = r->n_messages == 0 && r->prefix_len == 0 ? "no request message" : "request message cut short";
                return -EPROTO;
        }
        *ret_msg = r->buf ?: (const uint8_t *) "";
        *ret_len = r->len;
        return 0;
}

GrpcStatus grpc_status_from_reader_error(int error) {
        switch (abs(error)) {
        case EMSGSIZE:
        case ENOMEM:
                return GRPC_STATUS_RESOURCE_EXHAUSTED;
        default:
                return GRPC_STATUS_INTERNAL;
        }
}

void grpc_prefix_write(uint8_t prefix[static GRPC_PREFIX_SIZE], size_t len) {
        prefix[0] = 0;
        prefix[1] = (uint8_t) (len >> 24);
        prefix[2] = (uint8_t) (len >> 16);
        prefix[3] = (uint8_t) (len >> 8);
        prefix[4] = (uint8_t) len;
}

char *grpc_percent_encode(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *e = malloc(n * 3 + 1), *p = e;

        if (!e)
                return NULL;
        for (const unsigned char *c = (const unsigned char *) s; *c; c++)
                if (*c < 0x20 || *c > 0x7e || *c == '%') {
                        *p++ = '%';
                        *p++ = hex[*c >> 4];
                        *p++ = hex[*c & 15];
                } else
                        *p++ = (char) *c;
        *p = 0;
        return e;
}

bool grpc_content_type_ok(const char *s) {
        const char *rest = startswith(s, "application/grpc");

        if (!rest)
                return false;
        if (*rest == '+') {
                /* We speak only the protobuf encoding. */
                rest = startswith(rest, "+proto");
                if (!rest)
                        return false;
        }
        return *rest == 0 || *rest == ';';
}

int grpc_timeout_parse(const char *s, uint64_t *ret_usec) {
        uint64_t v = 0, usec;
        size_t n = 0;

        for (; s[n] >= '0' && s[n] <= '9'; n++) {
                if (n == 8)
                        return -EINVAL;
                v = v * 10 + (uint64_t) (s[n] - '0');
        }
        if (n == 0 || s[n] == 0 || s[n + 1] != 0)
                return -EINVAL;
        /* At most 99999999 hours: no product below overflows 64 bits. */
        switch (s[n]) {
        case 'H':
                usec = v * 3600ULL * 1000000ULL;
                break;
        case 'M':
                usec = v * 60ULL * 1000000ULL;
                break;
        case 'S':
                usec = v * 1000000ULL;
                break;
        case 'm':
                usec = v * 1000ULL;
                break;
        case 'u':
                usec = v;
                break;
        case 'n':
                usec = (v + 999) / 1000;
                break;
        default:
                return -EINVAL;
        }
        *ret_usec = usec ?: 1;
        return 0;
}
