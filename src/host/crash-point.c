/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>

#include "crash-point.h"
#include "log.h"
#include "string-util.h"
#include "time-util.h"

void trace_point(const char *step) {
        static int enabled = -1;

        if (enabled < 0) {
                const char *e = getenv("PEAPOD_DEBUG_TIMING");

                enabled = e && !isempty(e) && !streq(e, "0");
        }
        if (enabled)
                log_info("timing %s %" PRIu64, step, now_usec(CLOCK_MONOTONIC));
}

void crash_point(const char *step) {
        const char *at = getenv("PEAPOD_DEBUG_CRASH_AT");

        trace_point(step);
        if (!at || !streq(at, step))
                return;
        log_warning("PEAPOD_DEBUG_CRASH_AT=%s: crashing on purpose.", step);
        (void) raise(SIGKILL);
}
