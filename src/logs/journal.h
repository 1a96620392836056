/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"
#include "name.h"

/* Reading apps' log lines back from the journal. The stage1 app helper
 * writes to the journal namespace "peapod" (--log-namespace=peapod;
 * journalctl --namespace=peapod), whose journald keeps every line
 * (units/journald-peapod.conf): an app's stdout and stderr as two journal
 * streams, and its own complaints on the second, whose SYSLOG_IDENTIFIER is the
 * app's name (what journalctl shows; stdout at priority 6, stderr at 3).
 * journald adds the unit's LogExtraFields PEAPOD_POD_ID, PEAPOD_APP and
 * PEAPOD_APP_ID, and _SYSTEMD_UNIT: the ids are what lines are selected
 * by, and they outlive the app's unit (an app removed from a running pod
 * keeps its lines under the pod's id). */

#define POD_JOURNAL_NAMESPACE "peapod"
/* The namespace's journald is socket-activated by these two. */
#define POD_JOURNAL_SOCKET "systemd-journald@" POD_JOURNAL_NAMESPACE ".socket"
#define POD_JOURNAL_VARLINK_SOCKET "systemd-journald-varlink@" POD_JOURNAL_NAMESPACE ".socket"

typedef enum PodLogStream {
        POD_LOG_STDOUT,
        POD_LOG_STDERR,
        _POD_LOG_STREAM_MAX,
} PodLogStream;

const char *pod_log_stream_to_string(PodLogStream s);

/* How journald ended the line an entry holds (its _LINE_BREAK= field). */
typedef enum PodLineBreak {
        /* A whole line: no _LINE_BREAK=, or nul, eof, pid-change. journald
         * ends a line at a NUL byte as at a newline, and keeps neither; so
         * do we (a NUL-separated remainder that is empty is dropped like an
         * empty line, so the NUL cannot be told back reliably). */
        POD_LINE_BREAK_NEWLINE,
        POD_LINE_BREAK_LINE_MAX, /* longer than LineMax: the line goes on in the next entry */
} PodLineBreak;

typedef struct PodJournalEntry {
        /* Pointers into the journal's mapped data (or the caller's fields):
         * valid until the next pod_journal_*() call on the same PodJournal.
         * The message is bytes, not necessarily text, not NUL-terminated. */
        const char *pod_id;
        const char *app_id;
        const char *app_name;
        const void *message;
        size_t message_len;
        int priority;             /* syslog priority, LOG_INFO when absent */
        PodLogStream stream;      /* stderr for priorities up to LOG_ERR */
        PodLineBreak line_break;
        uint64_t realtime_usec;   /* when journald received it */
} PodJournalEntry;

/* The raw fields of one entry (values only, without "FIELD="), NULL when
 * absent. Journal fields are untrusted: anyone who can reach journald's
 * native socket may log with any fields not starting with '_'. */
typedef struct PodJournalFields {
        const void *message;
        size_t message_len;
        const char *pod_id;       /* PEAPOD_POD_ID */
        size_t pod_id_len;
        const char *app_id;       /* PEAPOD_APP_ID */
        size_t app_id_len;
        const char *app_name;     /* PEAPOD_APP */
        size_t app_name_len;
        const char *unit;         /* _SYSTEMD_UNIT, set by journald alone */
        size_t unit_len;
        /* One of the four above came twice with different values: a
         * process of some app unit that logged another pod's fields
         * natively, next to the ones journald added for its own unit. */
        bool conflicting;
        const char *priority;
        size_t priority_len;
        const char *line_break;
        size_t line_break_len;
        uint64_t realtime_usec;
} PodJournalFields;

/* NUL-terminated copies of an entry's names, for PodJournalEntry. */
typedef struct PodJournalNames {
        char pod_id[POD_ID_LEN + 1];
        char app_id[POD_ID_LEN + 1];
        char app_name[APP_NAME_MAX + 1];
} PodJournalNames;

/* Fills ret from fields: 1 when it is an app's line, 0 when it is not (no
 * message, pod or app fields missing, malformed or conflicting, or a unit
 * that is not this app's unit of some pod). The names point into names. */
int pod_journal_entry_parse(const PodJournalFields *f, PodJournalNames *names, PodJournalEntry *ret);

typedef struct PodJournal PodJournal;

/* Open the local journal namespace (NULL: the system journal). A namespace
 * whose journald never ran since the boot is started first, and waited
 * for: sd-journal would not see its files appear later. */
int pod_journal_open(const char *namespace, PodJournal **ret);
PodJournal *pod_journal_free(PodJournal *j);
/* The same, in a thread of its own, for an event loop that must not wait:
 * the last close of a reader's inotify instance waits in the kernel for an
 * SRCU grace period (fsnotify's marks), 10-16 ms here, often. */
PodJournal *pod_journal_free_later(PodJournal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodJournal *, pod_journal_free);

/* Select entries of this app (its id, 32 hex digits); several apps are
 * OR'ed. Do not mix with pod_journal_add_pod(). */
int pod_journal_add_app(PodJournal *j, const char *app_id);
/* Select every entry of a pod (its id), or of its apps named app_name
 * (NULL: all), also of apps no longer in the pod. Call once. */
int pod_journal_add_pod(PodJournal *j, const char *pod_id, const char *app_name);
/* Only this stream's lines (call once; default both). */
int pod_journal_add_stream(PodJournal *j, PodLogStream s);
/* pod_journal_next() stops (returns 0) at entries after this
 * CLOCK_REALTIME time; UINT64_MAX (the default) = no end. */
void pod_journal_set_until(PodJournal *j, uint64_t usec);

/* Where reading starts: the oldest entry (the default), only the last n
 * entries (before the until time, when one is set), the first entry at or
 * after a CLOCK_REALTIME time, or the entry after a cursor. Call after the
 * matches have been added. */
int pod_journal_seek_head(PodJournal *j);
int pod_journal_seek_tail_lines(PodJournal *j, uint64_t n);
int pod_journal_seek_realtime(PodJournal *j, uint64_t usec);
int pod_journal_seek_after_cursor(PodJournal *j, const char *cursor);

/* Returns 1 and fills ret with the next entry in time order, 0 when there
 * is none (yet), or -errno. */
int pod_journal_next(PodJournal *j, PodJournalEntry *ret);
/* The cursor of the entry last returned by pod_journal_next(). */
int pod_journal_get_cursor(PodJournal *j, char **ret);

/* For an event loop: the fd to watch (POLLIN), and what to call when it is
 * readable, before reading on (and before a last read, after journald
 * synchronized). _process() also seeks again where the reader stands, so
 * that the next read finds every entry journald finished before it told
 * us (see journal.c). Returns 1 when journal files were added or removed
 * (rotation), else 0, or -errno. */
int pod_journal_get_fd(PodJournal *j);
int pod_journal_process(PodJournal *j);
/* The seqnum id and seqnum in a cursor of sd_journal_get_cursor(). */
int journal_cursor_seqnum(const char *cursor, char ret_id[static 33], uint64_t *ret_seqnum);

/* Block until the journal changes or timeout_usec passes (UINT64_MAX =
 * forever). Returns >= 0 or -errno. */
int pod_journal_wait(PodJournal *j, uint64_t timeout_usec);

/* Ask the namespace's journald to write out everything it has received so
 * far (its varlink Synchronize, as journalctl --sync): after it answers,
 * every line an app wrote before the call is in the journal files. That
 * can take seconds: a burst of lines waits in the stream sockets for
 * journald. Needs root (the socket is 0600). Blocks up to timeout_usec. */
int pod_journal_synchronize(const char *namespace, uint64_t timeout_usec);
/* The same for an event loop: _start() sends the request and returns the
 * fd to watch (POLLIN); _read() returns 1 when journald answered, 0 when
 * not yet, or -errno. */
int pod_journal_synchronize_start(const char *namespace);
int pod_journal_synchronize_read(int fd);

/* "--since"/"--until" times: "YYYY-MM-DD[ HH:MM[:SS[.frac]]]" (local time),
 * RFC 3339 ("2026-11-23T12:00:00.5Z", "...+01:00"), "now", "today",
 * "yesterday", "@UNIXSECONDS", and relative "-5m", "+1h", "10s ago",
 * "1h30m ago" (units us, ms, s, m, min, h, d, w). now_usec is the present;
 * ret is CLOCK_REALTIME microseconds. -EINVAL when s is none of these,
 * -ERANGE when a span or the time it gives does not fit in 64 bits. */
int log_time_parse(const char *s, uint64_t now_usec, uint64_t *ret);
