/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "stage1-bus.h"

/* What the pod's PID 1 parses on its stub bus socket (stage1-bus.c): a
 * stream of D-Bus messages after the SASL lines. Input: the stream. Every
 * message found lies within the input, and what we write parses back. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t out[8192];
        size_t o = 0;

        if (size > STAGE1_BUS_MESSAGE_MAX)
                return 0;
        for (;;) {
                Stage1BusMessage m;
                int r = stage1_bus_message_parse(data + o, size - o, &m);

                if (r <= 0)
                        break;
                if (m.size < 16 || m.size > size - o)
                        abort();
                if (m.member && ((const uint8_t *) m.member < data + o || (const uint8_t *) m.member + m.member_len >= data + o + m.size))
                        abort();
                for (int k = 0; k < 2; k++) {
                        Stage1BusMessage back;
                        int len = k == 0 ? stage1_bus_build_hello_reply(1, m.serial, out, sizeof(out))
                                         : stage1_bus_build_error(2, m.serial, "org.example.Error", "no", out, sizeof(out));

                        if (len <= 0 || stage1_bus_message_parse(out, (size_t) len, &back) != 1 || back.size != (size_t) len)
                                abort();
                }
                o += m.size;
        }
        return 0;
}
