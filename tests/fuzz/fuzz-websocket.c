/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "websocket.h"

/* What a client of the streaming server sends after the upgrade, as it
 * arrives: the parser gets the bytes in pieces (the first byte picks their
 * size), and the caller's buffer keeps what was not consumed, as
 * streaming.c does. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        WsParser p = {};
        uint8_t *buf;
        size_t chunk, n = 0;

        if (size < 1)
                return 0;
        chunk = (size_t) data[0] * 16 + 1;
        data++;
        size--;
        buf = malloc(size + 1);
        if (!buf)
                return 0;
        for (size_t off = 0; off < size;) {
                size_t take = size - off < chunk ? size - off : chunk;
                WsMessage m;
                size_t used;
                int r;

                memcpy(buf + n, data + off, take);
                n += take;
                off += take;
                for (;;) {
                        r = ws_parser_feed(&p, buf, n, &used, &m);
                        if (r < 0)
                                goto done;
                        if (used > n)
                                abort();
                        memmove(buf, buf + used, n - used);
                        n -= used;
                        if (r > 0) {
                                /* A message is within the bounds, a control one small. */
                                if (m.size > WS_MESSAGE_MAX || (m.opcode >= WS_OP_CLOSE && m.size > 125))
                                        abort();
                                if (m.size > 0)
                                        (void) memchr(m.data, 0x42, m.size);    /* readable */
                        }
                        if (used == 0)
                                break;
                }
        }
done:
        ws_parser_done(&p);
        free(buf);
        return 0;
}
