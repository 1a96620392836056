/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The app's output, relayed by its helper into one journald stream.
 *
 * The app writes its stdout and stderr into two pipes (with --tty-log, its
 * terminal into the pty master); the helper, the app's parent for the
 * app's whole life, copies them into one stream of journald@peapod whose
 * header asks for a priority prefix per line (level prefix 1): each line
 * goes out as "<6>line\n" (stdout, the terminal) or "<3>line\n" (stderr).
 * journald takes the priority from the prefix, so `peapod logs` and the
 * CRI's files tell stdout from stderr as before, with one stream per app
 * instead of two. journald keeps every stream in its fd store at PID 1,
 * which checks each new one against all stored (kcmp()), and serves at
 * most 4096 streams: two per app stopped the apps' logs at 2048 apps (an
 * app past them was killed by SIGPIPE at its first line); one per app
 * halves the store and doubles what fits, and an app past the limit runs
 * on: its output goes to the system journal instead (stage1-journal.h),
 * after a line that says why.
 *
 * Lines are what journald would make of the bytes: a newline or a NUL ends
 * one; a line longer than journald@peapod's LineMax= (PEAPOD_JOURNAL_LINE_MAX,
 * set in units/journald-peapod.conf from the same value) goes out in pieces
 * of exactly LineMax bytes, prefix included and without a newline, which
 * journald ends itself (_LINE_BREAK=line-max) so that each piece keeps its
 * prefix and the consumers still see a long line as one; what the app left
 * unended when its pipe closes goes out as a line. A partial line waits in
 * its pipe's buffer while the other pipe's lines go out, as it would in
 * journald. The app's bytes are never read as anything but text: a "<N>"
 * the app prints is behind our prefix and stays text. */

#define STAGE1_RELAY_LINE_MAX PEAPOD_JOURNAL_LINE_MAX
/* What one piece holds besides the prefix. */
#define STAGE1_RELAY_PIECE_MAX (STAGE1_RELAY_LINE_MAX - 3)
#define STAGE1_RELAY_SOURCES_MAX 3

typedef struct Stage1Relay Stage1Relay;

/* A relay into stream (taken; -EBADF: everything is read and dropped).
 * identifier names the app in the one complaint made if the stream fails.
 * prefixed: each line with its priority prefix (a journald stream); else
 * bare lines (our own stdout, without journald). NULL on ENOMEM. */
Stage1Relay *stage1_relay_new(int stream, const char *identifier, bool prefixed);
Stage1Relay *stage1_relay_free(Stage1Relay *r);

/* Relays fd (taken, made non-blocking) at priority (LOG_INFO, LOG_ERR).
 * Returns its index, or -errno. */
int stage1_relay_add(Stage1Relay *r, int fd, int priority);

/* The source's fd (-EBADF once it ended), for poll(). */
int stage1_relay_fd(const Stage1Relay *r, size_t index);
size_t stage1_relay_n(const Stage1Relay *r);

/* Reads what the source holds now and sends its whole lines (and pieces);
 * false once it has ended (EOF, or EIO of a pty whose slaves are all
 * closed): what it left unended went out, and its fd is closed. */
bool stage1_relay_read(Stage1Relay *r, size_t index);

/* The app is gone: everything its sources still hold, then what each left
 * unended. Descendants that still hold a pipe are not waited for. */
void stage1_relay_finish(Stage1Relay *r);

/* bytes as if read from the source (the unit tests' way in); final: the
 * source ended after them. */
void stage1_relay_feed(Stage1Relay *r, size_t index, const char *bytes, size_t n, bool final);

