/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "spdy.h"

/* What a client of the streaming server sends after "Upgrade: SPDY/3.1":
 * frames, and the header blocks of SYN_STREAM frames through one zlib
 * stream for the whole session, as streaming.c reads them. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        SpdyZ z = {};

        while (size > 0) {
                SpdyFrame f;
                size_t used;
                int r;

                r = spdy_frame_parse(data, size, &used, &f);
                if (r <= 0)
                        break;
                if (used < SPDY_HEADER_SIZE || used > size || f.size != used - SPDY_HEADER_SIZE)
                        abort();
                if (f.control && f.type == SPDY_SYN_STREAM && f.size >= 10) {
                        SpdyHeaders h = {};

                        r = spdy_headers_decode(&z, f.data + 10, f.size - 10, &h);
                        if (r >= 0) {
                                if (h.n > SPDY_HEADERS_PAIRS)
                                        abort();
                                for (size_t i = 0; i < h.n; i++)
                                        if (strlen(h.pairs[i].name) == 0)
                                                abort();
                                (void) spdy_headers_get(&h, "streamtype");
                        }
                        spdy_headers_done(&h);
                        if (r < 0)
                                break;  /* the session would end here */
                }
                data += used;
                size -= used;
        }
        spdy_z_done(&z);
        return 0;
}
