/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* What an app helper does first. When streams (not --tty, or --tty-log):
 * the app's stdout and stderr, two journald streams (priority 6 and 3)
 * under the identifier (SYSLOG_IDENTIFIER, what journalctl shows), to the
 * system journal or to journald namespace log_namespace, in *ret_out and
 * *ret_err; without journald (tests, a host without systemd) copies of
 * our own stdout and stderr instead. Then, with a namespace
 * (--log-namespace=), our own complaints go there too, at priority 3
 * under the identifier, onto our stderr: the app's stderr stream, or a
 * stream of their own without streams; without a namespace stderr stays
 * the unit's. The stream socket lives in the host's /run, so this must
 * run before a pivot away from it. -errno when the streams fail (logged);
 * the complaints' stream is best effort. */
int stage1_app_journal_open(const char *log_namespace, const char *identifier, bool streams, int *ret_out,
                            int *ret_err);
