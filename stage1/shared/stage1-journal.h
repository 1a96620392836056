/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include "stage1-relay.h"

/* What an app helper does first: the app's output.
 *
 * With streams (not --tty, or --tty-log): one journald stream under the
 * identifier (SYSLOG_IDENTIFIER, what journalctl shows), to journald
 * namespace log_namespace or the system journal, with a priority prefix
 * per line, fed by a relay (stage1-relay.h): the app's stdout and stderr
 * are two pipes (*app_out, *app_err, for the child) whose other ends the
 * relay reads; with --tty-log the terminal's master joins it later. Our
 * own complaints go onto the stream too, at priority 3 (with a namespace;
 * without one stderr stays the unit's), and our stdout lets go of the
 * unit's stream. Without journald (tests, a host without systemd): no
 * relay for the pipes, the app gets copies of our own stdout and stderr,
 * and --tty-log's terminal is relayed to our stdout without prefixes. A
 * namespace's journald that refuses the stream (at its limit of 4096)
 * makes the stream the system journal's instead, with a warning.
 *
 * Without streams (--tty alone): only our complaints, onto a stream of
 * their own at priority 3 (with a namespace).
 *
 * The stream socket lives in the host's /run, so this must run before a
 * pivot away from it. -errno (logged) when the pipes or copies fail;
 * journald's absence is no error. SIGPIPE is ignored from here on (a
 * refused stream is an error to see, not a signal); the app's child
 * resets it. */
typedef struct Stage1AppOutput {
        int app_out, app_err; /* -EBADF with --tty */
        Stage1Relay *relay;   /* NULL without streams, or without journald and --tty-log */
} Stage1AppOutput;

#define STAGE1_APP_OUTPUT_NULL ((Stage1AppOutput) { .app_out = -EBADF, .app_err = -EBADF })

int stage1_app_output_open(const char *log_namespace, const char *identifier, bool streams, bool tty_log,
                           Stage1AppOutput *ret);
void stage1_app_output_done(Stage1AppOutput *o);

/* A stream to the system journal like the app's (priority 6, a prefix per
 * line, our unit's), where the app's output goes when journald@peapod
 * refuses it (at its limit of streams) or is gone for good. -errno. */
int stage1_journal_system_stream(const char *identifier);
