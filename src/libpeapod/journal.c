/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "journal.h"
#include "name.h"

struct PodJournal {
        sd_journal *journal;
        /* Set when a seek already left the read position on an entry that
         * has not been returned yet, so the next read must not step over
         * it. */
        bool at_entry;
        size_t n_apps;
        /* The current entry's app id, NUL-terminated for the caller. */
        char app_id[POD_ID_LEN + 1];
};

PodJournal *pod_journal_free(PodJournal *j) {
        if (!j)
                return NULL;
        sd_journal_close(j->journal);
        free(j);
        return NULL;
}

int pod_journal_open(const char *namespace, PodJournal **ret) {
        _cleanup_(pod_journal_freep) PodJournal *j = NULL;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        if (namespace)
                r = sd_journal_open_namespace(&j->journal, namespace,
                                              SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_INCLUDE_DEFAULT_NAMESPACE);
        else
                r = sd_journal_open(&j->journal, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        /* The default threshold (64K) would cut lines that journald kept
         * whole (it splits only at LineMax, 48K by default, but that is
         * configurable). */
        r = sd_journal_set_data_threshold(j->journal, 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(j);
        return 0;
}

int pod_journal_add_app(PodJournal *j, const char *app_id) {
        char match[sizeof("SYSLOG_IDENTIFIER=") + POD_ID_LEN];
        int r;

        /* Only an exact id: a prefix or a pattern would make
         * SYSLOG_IDENTIFIER match other programs' lines. */
        if (!id_is_valid(app_id))
                return -EINVAL;
        snprintf(match, sizeof(match), "SYSLOG_IDENTIFIER=%s", app_id);
        /* Matches on the same field are OR'ed by sd-journal. */
        r = sd_journal_add_match(j->journal, match, 0);
        if (r < 0)
                return r;
        j->n_apps++;
        return 0;
}

int pod_journal_seek_head(PodJournal *j) {
        j->at_entry = false;
        return sd_journal_seek_head(j->journal);
}

int pod_journal_seek_tail_lines(PodJournal *j, uint64_t n) {
        int r;

        j->at_entry = false;
        r = sd_journal_seek_tail(j->journal);
        if (r < 0)
                return r;
        if (n == 0) {
                /* Stand on the last entry so that reading continues with the
                 * first one written after now. */
                r = sd_journal_previous(j->journal);
                return r < 0 ? r : 0;
        }
        r = sd_journal_previous_skip(j->journal, n);
        if (r < 0)
                return r;
        /* Standing on the n-th entry from the end (or the oldest, when
         * there are fewer): it is the first one to return. */
        j->at_entry = r > 0;
        return 0;
}

int pod_journal_seek_realtime(PodJournal *j, uint64_t usec) {
        j->at_entry = false;
        return sd_journal_seek_realtime_usec(j->journal, usec);
}

static int get_field(sd_journal *journal, const char *field, const void **ret, size_t *ret_len) {
        const void *data;
        size_t len, n = strlen(field);
        int r;

        r = sd_journal_get_data(journal, field, &data, &len);
        if (r < 0)
                return r;
        /* sd-journal hands back "FIELD=value". */
        if (len <= n || memcmp(data, field, n) != 0 || ((const char *) data)[n] != '=')
                return -EBADMSG;
        *ret = (const char *) data + n + 1;
        *ret_len = len - n - 1;
        return 0;
}

int pod_journal_next(PodJournal *j, PodJournalEntry *ret) {
        const void *data;
        size_t len;
        int r;

        if (j->n_apps == 0)
                /* Without a match sd-journal would return every entry. */
                return 0;

        for (;;) {
                PodJournalEntry e = { .priority = LOG_INFO };

                if (j->at_entry)
                        j->at_entry = false;
                else {
                        r = sd_journal_next(j->journal);
                        if (r <= 0)
                                return r;
                }

                r = get_field(j->journal, "MESSAGE", &e.message, &e.message_len);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;

                r = get_field(j->journal, "SYSLOG_IDENTIFIER", &data, &len);
                if (r < 0 || len != POD_ID_LEN)
                        continue;
                memcpy(j->app_id, data, len);
                j->app_id[len] = 0;
                e.app_id = j->app_id;

                if (get_field(j->journal, "PRIORITY", &data, &len) >= 0 && len == 1 &&
                    *(const char *) data >= '0' && *(const char *) data <= '7')
                        e.priority = *(const char *) data - '0';

                r = sd_journal_get_realtime_usec(j->journal, &e.realtime_usec);
                if (r < 0)
                        return r;

                *ret = e;
                return 1;
        }
}

int pod_journal_wait(PodJournal *j, uint64_t timeout_usec) {
        int r = sd_journal_wait(j->journal, timeout_usec);
        return r < 0 ? r : 0;
}
