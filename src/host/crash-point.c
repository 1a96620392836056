/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>
#include <stdlib.h>

#include "crash-point.h"
#include "log.h"
#include "string-util.h"

void crash_point(const char *step) {
        const char *at = getenv("PEAPOD_DEBUG_CRASH_AT");

        if (!at || !streq(at, step))
                return;
        log_warning("PEAPOD_DEBUG_CRASH_AT=%s: crashing on purpose.", step);
        (void) raise(SIGKILL);
}
