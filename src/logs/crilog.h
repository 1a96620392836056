/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "journal.h"
#include "macro.h"

/* Journal to CRI log files. kubelet reads a container's log as lines of
 *   <RFC3339Nano time> <stdout|stderr> <P|F> <bytes>\n
 * where P lines are pieces of one long line and the next F line ends it.
 * We write UTC times with nine fractional digits (the journal has
 * microseconds), which Go's time.Parse(RFC3339Nano) reads. */

#define CRILOG_TIME_LEN 30 /* "2026-11-23T12:00:00.123456000Z" */

/* Append the CRI line(s) of one entry to *buf (grown with realloc). A
 * line journald split at LineMax becomes a P line (kubelet joins P pieces
 * up to the next F line, so the app's line comes back whole); a newline
 * inside a message (possible only in entries not written by our streams)
 * ends a line, so one entry can never fake a second line's time or stream.
 * The message's bytes are written as they are (CRI files are bytes). */
int crilog_format_entry(const PodJournalEntry *e, char **buf, size_t *len, size_t *cap);
/* The time part alone (buf of CRILOG_TIME_LEN + 1). */
void crilog_format_time(uint64_t realtime_usec, char buf[static CRILOG_TIME_LEN + 1]);

/* The converter: one sd-event loop serves every container. Each container
 * (an app id) has its log file and a state file in state_dir
 * (<app id>.cursor: the journal cursor of the last line written, and the
 * file's size, device and inode at that point). See crilog.c for the
 * ordering that makes restarts neither lose nor double lines. */
typedef struct CriLog CriLog;

/* A container's state file: "<cursor>\n<offset> <dev> <ino>\n". */
#define CRILOG_STATE_MAX 4096
typedef struct CriLogState {
        char *cursor;
        uint64_t offset;
        uint64_t dev, ino;
} CriLogState;

void crilog_state_done(CriLogState *s);
/* -EBADMSG unless text is exactly that: a cursor of visible ASCII, three
 * decimal numbers that fit in 64 bits, single spaces, the final newline
 * optional. */
int crilog_state_parse(const char *text, size_t size, CriLogState *ret);
/* Returns the length written. */
int crilog_state_format(const CriLogState *s, char **ret);

typedef struct CriLogStats {
        uint64_t lines;          /* CRI lines written */
        uint64_t entries;        /* journal entries converted */
        uint64_t bytes;
        uint64_t skipped;        /* entries found already written at (re)start */
        uint64_t commits;
        uint64_t first_write_usec, last_write_usec; /* CLOCK_MONOTONIC */
        /* Lag from the entry's journal time to its write(), in ms: buckets
         * 0..CRILOG_LAG_BUCKETS-2, the last one for all larger lags. */
#define CRILOG_LAG_BUCKETS 10001
        uint64_t *lag_ms;
} CriLogStats;

/* Called when a container has finished (crilog_finish: every line written,
 * file closed) or failed; error is 0 or -errno. */
typedef void (*CriLogDoneFn)(CriLog *c, const char *app_id, int error, void *userdata);

int crilog_new(sd_event *event, const char *namespace, const char *state_dir, CriLog **ret);
CriLog *crilog_free(CriLog *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(CriLog *, crilog_free);

void crilog_set_done_callback(CriLog *c, CriLogDoneFn fn, void *userdata);
/* Keep a lag histogram (for the benchmark). */
int crilog_enable_stats(CriLog *c);
const CriLogStats *crilog_get_stats(CriLog *c);

/* Start converting app_id's lines into path, resuming after its saved
 * cursor. -EEXIST if it is converted already. */
int crilog_add(CriLog *c, const char *app_id, const char *path);
/* kubelet renamed the file: close it and open (create) path again. */
int crilog_reopen(CriLog *c, const char *app_id);
/* The container exited: ask journald to write out what it holds, keep
 * converting, and when journald answered write every line up to the
 * journal's end, commit, close, drop the container and call the done
 * callback. Returns at once. The state file stays (crilog_forget removes
 * it). */
int crilog_finish(CriLog *c, const char *app_id);
/* Remove a container's state file (when the container itself is removed). */
int crilog_forget(const char *state_dir, const char *app_id);
/* Write every container's cursor now (before exiting). */
int crilog_commit_all(CriLog *c);
size_t crilog_n_containers(CriLog *c);

/* `peapod logs --format=json`: one object per entry and line,
 *   {"time":"<RFC3339Nano>","stream":"stdout","app":"<name>","message":"...","partial":false}
 * JSON strings are Unicode: bytes that are not UTF-8 become U+FFFD, control
 * characters \uXXXX escapes. partial is true for a piece of a longer line
 * (the next entries continue it). */
int log_format_json(const PodJournalEntry *e, const char *app_name, char **buf, size_t *len, size_t *cap);

/* Appends data with everything a terminal would act on escaped, as text a
 * terminal only shows: C0 controls (\a \b \f \n \r \v by name, the others
 * and ESC as \xNN; a tab stays, a newline too when keep_newlines), DEL,
 * the C1 controls U+0080..U+009F and bytes that are not UTF-8 (each byte
 * as \xNN). Valid UTF-8 otherwise passes as it is, and so does a
 * backslash: the result is for eyes, --raw or JSON are for exact bytes. So
 * an app cannot move the cursor over the "app | " prefix of its line, set
 * the window title or clear the screen of whoever reads its logs. */
int log_escape_append(const void *data, size_t n, bool keep_newlines, char **buf, size_t *len, size_t *cap);

/* `peapod logs` text: "[TIME ][NAME | ]MESSAGE\n" (no newline after a
 * piece of a longer line; NAME padded to prefix_width, none when it is 0),
 * the message escaped as above unless !escape (--raw). */
int log_format_text(const PodJournalEntry *e, const char *app_name, int prefix_width, bool timestamps, bool escape,
                    char **buf, size_t *len, size_t *cap);
