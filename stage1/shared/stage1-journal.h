/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

/* The app's stdout and stderr: two journald streams (priority 6 and 3)
 * under the identifier (SYSLOG_IDENTIFIER, what journalctl shows), to the
 * system journal or to journald namespace log_namespace. The stream
 * socket lives in the host's /run, so this must run before a pivot away
 * from it. Without journald (tests, a host without systemd) the app gets
 * our own stdout and stderr instead. */
int stage1_open_journal_streams(const char *log_namespace, const char *identifier, int *ret_out, int *ret_err);

/* With a namespace (--log-namespace=), our own complaints go there too, as
 * they did on the unit's own stream when stage0 set LogNamespace=: at
 * priority 3 under the identifier, onto our stderr. err_fd, the app's
 * stderr stream (or -EBADF), is reused: it says the same. Without one,
 * stderr stays the unit's. Best effort: a failure leaves stderr as it is. */
int stage1_complaints_to_journal(const char *log_namespace, const char *identifier, int err_fd);

/* What an app helper does first: the app's streams when it has them
 * (streams: not --tty, or --tty-log), then its own complaints after them
 * (stage1_complaints_to_journal()). -errno when the streams fail (logged). */
int stage1_app_journal_open(const char *log_namespace, const char *identifier, bool streams, int *ret_out,
                            int *ret_err);
