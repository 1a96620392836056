/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

/* Reading apps' log lines back from the journal. The stage1 app helper
 * writes an app's stdout and stderr as two journal streams whose
 * SYSLOG_IDENTIFIER is the app id (stdout at priority 6, stderr at 3), so
 * the id is the one match that survives the app's unit going away. */

typedef struct PodJournal PodJournal;

typedef struct PodJournalEntry {
        /* Both point into the journal's mapped data: valid until the next
         * pod_journal_*() call on the same PodJournal. The message is bytes,
         * not necessarily text, and not NUL-terminated. */
        const char *app_id;
        const void *message;
        size_t message_len;
        int priority;             /* syslog priority, LOG_INFO when absent */
        uint64_t realtime_usec;
} PodJournalEntry;

/* Open the local system journal (and, when namespace is non-NULL, that
 * journal namespace as well). */
int pod_journal_open(const char *namespace, PodJournal **ret);
PodJournal *pod_journal_free(PodJournal *j);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodJournal *, pod_journal_free);

/* Select entries of this app (32 hex digits); several apps are OR'ed. */
int pod_journal_add_app(PodJournal *j, const char *app_id);

/* Where reading starts: the oldest entry (the default), only the last n
 * entries, or the first entry at or after a CLOCK_REALTIME time. Call after
 * the apps have been added. */
int pod_journal_seek_head(PodJournal *j);
int pod_journal_seek_tail_lines(PodJournal *j, uint64_t n);
int pod_journal_seek_realtime(PodJournal *j, uint64_t usec);

/* Returns 1 and fills ret with the next entry in time order, 0 when there
 * is none (yet), or -errno. */
int pod_journal_next(PodJournal *j, PodJournalEntry *ret);

/* Block until the journal changes or timeout_usec passes (UINT64_MAX =
 * forever). Returns >= 0 or -errno. */
int pod_journal_wait(PodJournal *j, uint64_t timeout_usec);
