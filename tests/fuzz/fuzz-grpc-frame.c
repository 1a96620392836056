/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "grpc.h"

/* The body of a gRPC request comes from any process that can reach
 * peapod-cri's socket, in DATA frames of any size. The first byte picks
 * the size of the pieces; the rest is the body. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        GrpcReader r = {};
        const uint8_t *msg;
        size_t chunk, len;
        int k;

        if (size < 1)
                return 0;
        chunk = (size_t) data[0] + 1;
        data++;
        size--;
        for (size_t off = 0; off < size; off += chunk) {
                k = grpc_reader_feed(&r, data + off, size - off < chunk ? size - off : chunk);
                if (k < 0) {
                        /* A refusal names its reason and maps to a status. */
                        if (!r.error || grpc_status_from_reader_error(k) == GRPC_STATUS_OK)
                                abort();
                        break;
                }
                /* Never much more held than what arrived (the buffer doubles,
                 * from 4 KiB), never more than the cap. */
                if (r.allocated > 2 * (off + chunk) + 4096 || r.allocated > GRPC_MESSAGE_MAX)
                        abort();
        }
        if (grpc_reader_finish(&r, &msg, &len) >= 0) {
                /* The one message is the bytes after the prefix. */
                if (size < GRPC_PREFIX_SIZE || len != size - GRPC_PREFIX_SIZE ||
                    memcmp(msg, data + GRPC_PREFIX_SIZE, len) != 0)
                        abort();
        }
        grpc_reader_done(&r);
        return 0;
}
