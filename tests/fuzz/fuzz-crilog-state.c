/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "crilog.h"
#include "fuzz.h"
#include "string-util.h"

/* peapod-crilog's per-container state file (journal cursor, size, device
 * and inode of the CRI log): ours, but read back after crashes and
 * restarts, so a torn or foreign one must be refused, never half-used.
 * What parses, written back, parses to the same state. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(crilog_state_done) CriLogState s = {}, again = {};
        _cleanup_free_ char *text = NULL;
        int n;

        if (crilog_state_parse((const char *) data, size, &s) < 0)
                return 0;
        if (isempty(s.cursor))
                abort();
        n = crilog_state_format(&s, &text);
        if (n < 0)
                return 0;
        if (crilog_state_parse(text, (size_t) n, &again) < 0 || !streq(s.cursor, again.cursor) || s.offset != again.offset ||
            s.dev != again.dev || s.ino != again.ino)
                abort();
        return 0;
}
