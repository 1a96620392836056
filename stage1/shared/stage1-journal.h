/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The app's stdout and stderr: two journald streams (priority 6 and 3)
 * under the identifier (SYSLOG_IDENTIFIER, what journalctl shows). The stream
 * socket lives in the host's /run, so this must run before a pivot away
 * from it. Without journald (tests, a host without systemd) the app gets
 * our own stdout and stderr instead. */
int stage1_open_journal_streams(const char *identifier, int *ret_out, int *ret_err);
