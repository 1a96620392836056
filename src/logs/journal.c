/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-id128.h>
#include <systemd/sd-journal.h>

#include "journal.h"
#include "name.h"
#include "string-util.h"
#include "thread-util.h"
#include "time-util.h"

struct PodJournal {
        sd_journal *journal;
        /* Set when a seek already left the read position on an entry that
         * has not been returned yet, so the next read must not step over
         * it. */
        bool at_entry;
        /* Set once sd-journal stepped since the last seek (see
         * pod_journal_process()), and where that seek went, to go there
         * again while no entry was read. */
        bool moved;
        enum { ORIGIN_HEAD, ORIGIN_REALTIME, ORIGIN_CURSOR } origin;
        uint64_t origin_usec;
        char *origin_cursor;
        size_t n_matches;
        uint64_t until_usec;
        /* The current entry's message, copied out of sd-journal's buffers. */
        char *message;
        size_t message_cap;
        /* The current entry's names, NUL-terminated for the caller. */
        PodJournalNames names;
};

static const char *const log_stream_table[_POD_LOG_STREAM_MAX] = {
        [POD_LOG_STDOUT] = "stdout",
        [POD_LOG_STDERR] = "stderr",
};

const char *pod_log_stream_to_string(PodLogStream s) {
        return s >= 0 && s < _POD_LOG_STREAM_MAX ? log_stream_table[s] : NULL;
}

static bool field_is(const char *v, size_t n, const char *s) {
        return v && n == strlen(s) && memcmp(v, s, n) == 0;
}

/* Copies an id field into buf; false unless it is one. */
static bool copy_id(const char *v, size_t n, char buf[static POD_ID_LEN + 1]) {
        if (!v || n != POD_ID_LEN)
                return false;
        memcpy(buf, v, POD_ID_LEN);
        buf[POD_ID_LEN] = 0;
        return id_is_valid(buf);
}

/* "peapod-<machine>-<app>.service", app_unit_name()'s form, with a
 * machine of at least one character. */
static bool unit_is_apps(const char *unit, size_t n, const char *app) {
        char suffix[1 + APP_NAME_MAX + sizeof(".service")];
        int k = snprintf(suffix, sizeof(suffix), "-%s.service", app);

        return unit && k > 0 && n > strlen("peapod-") + (size_t) k && memcmp(unit, "peapod-", strlen("peapod-")) == 0 &&
               memcmp(unit + n - (size_t) k, suffix, (size_t) k) == 0;
}

int pod_journal_entry_parse(const PodJournalFields *f, PodJournalNames *names, PodJournalEntry *ret) {
        PodJournalEntry e = { .priority = LOG_INFO };

        if (!f->message || f->conflicting)
                return 0;
        /* Only lines with the fields journald adds from an app unit's
         * LogExtraFields are an app's lines. */
        if (!copy_id(f->pod_id, f->pod_id_len, names->pod_id) || !copy_id(f->app_id, f->app_id_len, names->app_id))
                return 0;
        if (!f->app_name || f->app_name_len == 0 || f->app_name_len > APP_NAME_MAX)
                return 0;
        memcpy(names->app_name, f->app_name, f->app_name_len);
        names->app_name[f->app_name_len] = 0;
        if (!app_name_is_valid(names->app_name))
                return 0;
        /* Those fields can be forged by anyone who reaches the namespace's
         * native socket; _SYSTEMD_UNIT cannot (journald drops fields with a
         * leading '_' from clients and sets it from the peer's cgroup, or
         * from a root peer's stream header), and only root makes system
         * units called peapod-*: the line must come from the unit
         * "peapod-<machine>-<app>.service" of the app it names. */
        if (!unit_is_apps(f->unit, f->unit_len, names->app_name))
                return 0;
        e.pod_id = names->pod_id;
        e.app_id = names->app_id;
        e.app_name = names->app_name;
        e.message = f->message;
        e.message_len = f->message_len;
        if (f->priority && f->priority_len == 1 && f->priority[0] >= '0' && f->priority[0] <= '7')
                e.priority = f->priority[0] - '0';
        e.stream = e.priority <= LOG_ERR ? POD_LOG_STDERR : POD_LOG_STDOUT;
        /* journald writes _LINE_BREAK= for lines it ended itself: at LineMax
         * the app's line goes on in the next entry; at nul, eof and
         * pid-change the line is over. */
        if (field_is(f->line_break, f->line_break_len, "line-max"))
                e.line_break = POD_LINE_BREAK_LINE_MAX;
        else
                e.line_break = POD_LINE_BREAK_NEWLINE;
        e.realtime_usec = f->realtime_usec;
        *ret = e;
        return 1;
}

PodJournal *pod_journal_free(PodJournal *j) {
        if (!j)
                return NULL;
        sd_journal_close(j->journal);
        free(j->origin_cursor);
        free(j->message);
        free(j);
        return NULL;
}

static void *journal_close_thread(void *userdata) {
        pod_journal_free(userdata);
        return NULL;
}

PodJournal *pod_journal_free_later(PodJournal *j) {
        /* The thread owns j from here: nothing else touches it. */
        if (j && thread_run_detached(journal_close_thread, j) < 0)
                pod_journal_free(j);
        return NULL;
}

/* sd-journal (systemd 252) looks for a namespace's directory
 * (<machine id>.<namespace> in /var/log/journal or /run/log/journal) only
 * when it opens: its inotify adds later directories only when they are
 * named a machine id. A reader opened before journald@NAMESPACE first ran
 * (the first 'peapod run' after a boot, peapod-cri's first container)
 * would never see a line. So when neither directory is there, the
 * namespace's journald is started first (its varlink socket activates it)
 * and asked to Synchronize, answered once it runs and has its files
 * (refused to a caller that is not root, but only then: the wait is the
 * same). Once per boot; a failure leaves the reader as it was before. */
static void namespace_journal_ensure(const char *namespace) {
        static const char * const roots[] = { "/run/log/journal", "/var/log/journal" };
        char id[SD_ID128_STRING_MAX], path[256];
        sd_id128_t machine;

        if (sd_id128_get_machine(&machine) < 0)
                return;
        sd_id128_to_string(machine, id);
        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                snprintf(path, sizeof(path), "%s/%s.%s", roots[i], id, namespace);
                if (access(path, F_OK) >= 0)
                        return;
        }
        (void) pod_journal_synchronize(namespace, 10 * USEC_PER_SEC);
}

int pod_journal_open(const char *namespace, PodJournal **ret) {
        _cleanup_(pod_journal_freep) PodJournal *j = NULL;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j)
                return -ENOMEM;
        j->until_usec = UINT64_MAX;
        if (namespace) {
                namespace_journal_ensure(namespace);
                r = sd_journal_open_namespace(&j->journal, namespace, SD_JOURNAL_LOCAL_ONLY);
        } else
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
        char match[sizeof("PEAPOD_APP_ID=") + POD_ID_LEN];
        int r;

        /* Only an exact id: sd-journal matches whole values, and an id is
         * all that tells two pods' apps of the same name apart. */
        if (!id_is_valid(app_id))
                return -EINVAL;
        snprintf(match, sizeof(match), "PEAPOD_APP_ID=%s", app_id);
        /* Matches on the same field are OR'ed by sd-journal. */
        r = sd_journal_add_match(j->journal, match, 0);
        if (r < 0)
                return r;
        j->n_matches++;
        return 0;
}

int pod_journal_add_pod(PodJournal *j, const char *pod_id, const char *app_name) {
        char match[sizeof("PEAPOD_APP=") + APP_NAME_MAX];
        int r;

        if (!id_is_valid(pod_id) || (app_name && !app_name_is_valid(app_name)))
                return -EINVAL;
        snprintf(match, sizeof(match), "PEAPOD_POD_ID=%s", pod_id);
        r = sd_journal_add_match(j->journal, match, 0);
        if (r < 0)
                return r;
        if (app_name) {
                /* Matches on different fields are AND'ed. */
                snprintf(match, sizeof(match), "PEAPOD_APP=%s", app_name);
                r = sd_journal_add_match(j->journal, match, 0);
                if (r < 0)
                        return r;
        }
        j->n_matches++;
        return 0;
}

int pod_journal_add_stream(PodJournal *j, PodLogStream s) {
        /* Matches on different fields are AND'ed with the app matches. The
         * helper opens stdout at 6 and stderr at 3. */
        switch (s) {
        case POD_LOG_STDOUT:
                return sd_journal_add_match(j->journal, "PRIORITY=6", 0);
        case POD_LOG_STDERR:
                return sd_journal_add_match(j->journal, "PRIORITY=3", 0);
        default:
                return -EINVAL;
        }
}

void pod_journal_set_until(PodJournal *j, uint64_t usec) {
        j->until_usec = usec;
}

static void seek_begin(PodJournal *j, int origin, uint64_t usec) {
        j->at_entry = false;
        j->moved = false;
        j->origin = origin;
        j->origin_usec = usec;
        j->origin_cursor = mfree(j->origin_cursor);
}

int pod_journal_seek_head(PodJournal *j) {
        seek_begin(j, ORIGIN_HEAD, 0);
        return sd_journal_seek_head(j->journal);
}

int pod_journal_seek_tail_lines(PodJournal *j, uint64_t n) {
        int r;

        if (j->until_usec != UINT64_MAX) {
                /* Count back from the end of the window, not of the log. */
                seek_begin(j, ORIGIN_REALTIME, j->until_usec + 1);
                r = sd_journal_seek_realtime_usec(j->journal, j->until_usec + 1);
        } else {
                seek_begin(j, ORIGIN_HEAD, 0);
                r = sd_journal_seek_tail(j->journal);
        }
        if (r < 0)
                return r;
        j->moved = true;
        r = n == 0 ? sd_journal_previous(j->journal) : sd_journal_previous_skip(j->journal, n);
        if (r < 0)
                return r;
        /* None yet: from the tail, sd-journal would skip the first one to
         * come; from the head, it is the first returned. */
        if (r == 0 && j->until_usec == UINT64_MAX)
                return pod_journal_seek_head(j);
        /* With n == 0, standing on the last entry, reading continues with
         * the first one written after now. Else standing on the n-th entry
         * from the end (or the oldest, when there are fewer): it is the
         * first one to return. */
        j->at_entry = n > 0 && r > 0;
        return 0;
}

int pod_journal_seek_realtime(PodJournal *j, uint64_t usec) {
        seek_begin(j, ORIGIN_REALTIME, usec);
        return sd_journal_seek_realtime_usec(j->journal, usec);
}

int pod_journal_seek_after_cursor(PodJournal *j, const char *cursor) {
        char *copy;
        int r;

        copy = strdup(cursor);
        if (!copy)
                return -ENOMEM;
        seek_begin(j, ORIGIN_CURSOR, 0);
        j->origin_cursor = copy;
        r = sd_journal_seek_cursor(j->journal, cursor);
        if (r < 0)
                return r;
        /* Step onto the cursor's entry; if it is still there it was already
         * written and is skipped. If it was vacuumed, the step lands on the
         * next one, which is the first not written yet. */
        j->moved = true;
        r = sd_journal_next(j->journal);
        if (r <= 0)
                return r;
        if (sd_journal_test_cursor(j->journal, cursor) <= 0)
                j->at_entry = true;
        return 0;
}

/* Where the reader stands, sought again: the entry it stands on (returned
 * already, or the next to return), or the last seek's place while none was
 * read since. */
static int journal_seek_again(PodJournal *j) {
        _cleanup_free_ char *cursor = NULL;
        bool unread = j->at_entry;
        int r;

        r = sd_journal_get_cursor(j->journal, &cursor);
        if (r == -EADDRNOTAVAIL)
                switch (j->origin) {
                case ORIGIN_HEAD:
                        return pod_journal_seek_head(j);
                case ORIGIN_REALTIME:
                        return pod_journal_seek_realtime(j, j->origin_usec);
                default:
                        if (!j->origin_cursor)
                                return -EINVAL;
                        cursor = TAKE_PTR(j->origin_cursor);
                        return pod_journal_seek_after_cursor(j, cursor);
                }
        if (r < 0)
                return r;
        r = pod_journal_seek_after_cursor(j, cursor);
        if (r == 0 && unread && !j->at_entry && sd_journal_test_cursor(j->journal, cursor) > 0)
                /* Back on the entry not returned yet. */
                j->at_entry = true;
        return r;
}

/* If d is "<prefix><value>": copies the value into buf (a value longer than
 * buf is no valid one: kept as absent, and marked conflicting so that the
 * entry is dropped), notes a second, different value as conflicting, and
 * returns true. */
static bool take_field(const char *d, size_t n, const char *prefix, char *buf, size_t size, const char **value,
                       size_t *value_len, bool *conflicting) {
        size_t k = strlen(prefix);

        if (n < k || memcmp(d, prefix, k) != 0)
                return false;
        d += k;
        n -= k;
        if (n > size) {
                *conflicting = true;
                return true;
        }
        if (*value) {
                if (*value_len != n || memcmp(*value, d, n) != 0)
                        *conflicting = true;
                return true;
        }
        memcpy(buf, d, n);
        *value = buf;
        *value_len = n;
        return true;
}

int pod_journal_next(PodJournal *j, PodJournalEntry *ret) {
        int r;

        if (j->n_matches == 0)
                /* Without a match sd-journal would return every entry. */
                return 0;

        for (;;) {
                PodJournalFields f = {};
                char pod_id[POD_ID_LEN], app_id[POD_ID_LEN], app_name[APP_NAME_MAX], unit[256], prio, brk[16];
                const void *v;
                size_t n;

                if (j->at_entry)
                        j->at_entry = false;
                else {
                        j->moved = true;
                        r = sd_journal_next(j->journal);
                        if (r <= 0)
                                return r;
                }

                r = sd_journal_get_realtime_usec(j->journal, &f.realtime_usec);
                if (r < 0)
                        return r;
                if (f.realtime_usec > j->until_usec) {
                        /* Stay before it, so that reading on stops here too. */
                        (void) sd_journal_previous(j->journal);
                        return 0;
                }

                /* One pass over the entry's fields (sd_journal_get_data()
                 * would walk them once per field). A value stays valid only
                 * until the next call (compressed fields share one buffer),
                 * so each one we need is copied. */
                sd_journal_restart_data(j->journal);
                for (;;) {
                        const char *d;

                        r = sd_journal_enumerate_data(j->journal, &v, &n);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                break;
                        d = v;
                        if (n >= 8 && memcmp(d, "MESSAGE=", 8) == 0) {
                                if (n - 8 > j->message_cap) {
                                        char *m = realloc(j->message, n - 8);
                                        if (!m)
                                                return -ENOMEM;
                                        j->message = m;
                                        j->message_cap = n - 8;
                                }
                                if (n > 8)
                                        memcpy(j->message, d + 8, n - 8);
                                f.message = j->message ?: "";
                                f.message_len = n - 8;
                        } else if (take_field(d, n, "PEAPOD_POD_ID=", pod_id, sizeof(pod_id), &f.pod_id, &f.pod_id_len,
                                              &f.conflicting) ||
                                   take_field(d, n, "PEAPOD_APP_ID=", app_id, sizeof(app_id), &f.app_id, &f.app_id_len,
                                              &f.conflicting) ||
                                   take_field(d, n, "PEAPOD_APP=", app_name, sizeof(app_name), &f.app_name, &f.app_name_len,
                                              &f.conflicting) ||
                                   take_field(d, n, "_SYSTEMD_UNIT=", unit, sizeof(unit), &f.unit, &f.unit_len,
                                              &f.conflicting)) {
                        } else if (n == 10 && memcmp(d, "PRIORITY=", 9) == 0) {
                                prio = d[9];
                                f.priority = &prio;
                                f.priority_len = 1;
                        } else if (n > 12 && n - 12 < sizeof(brk) && memcmp(d, "_LINE_BREAK=", 12) == 0) {
                                memcpy(brk, d + 12, n - 12);
                                f.line_break = brk;
                                f.line_break_len = n - 12;
                        }
                }
                r = pod_journal_entry_parse(&f, &j->names, ret);
                if (r > 0)
                        return 1;
        }
}

int pod_journal_get_cursor(PodJournal *j, char **ret) {
        return sd_journal_get_cursor(j->journal, ret);
}

int pod_journal_get_fd(PodJournal *j) {
        return sd_journal_get_fd(j->journal);
}

/* journald counts a new entry in the file's header before it links the
 * entry to its fields' entry arrays, and sd-journal (252) reads a file it
 * found nothing new in again only once that count changed. A read with a
 * match (ours always have one) that falls between the two steps finds
 * nothing, and from then on passes over the file until another entry is
 * appended to it: an app's last line stayed unread. journald tells readers
 * after an entry is whole, so seeking again here, where the reader
 * stands, makes sd-journal look at every file anew: the next read finds
 * it. A seek, not a step back: stepping would make the entry before the
 * current one current. */
int pod_journal_process(PodJournal *j) {
        int r = sd_journal_process(j->journal), k;

        if (r < 0)
                return r;
        if (j->moved) {
                k = journal_seek_again(j);
                if (k < 0)
                        return k;
        }
        return r == SD_JOURNAL_INVALIDATE;
}

int journal_cursor_seqnum(const char *cursor, char ret_id[static 33], uint64_t *ret_seqnum) {
        const char *s, *i;
        char *end;
        unsigned long long v;

        /* "s=<seqnum id, 32 hex>;i=<seqnum, hex>;b=...": the order
         * sd_journal_get_cursor() writes. */
        s = startswith(cursor, "s=");
        if (!s || strlen(s) < 32 + 3 || s[32] != ';')
                return -EINVAL;
        i = startswith(s + 33, "i=");
        if (!i)
                return -EINVAL;
        errno = 0;
        v = strtoull(i, &end, 16);
        if (errno != 0 || end == i || *end != ';')
                return -EINVAL;
        memcpy(ret_id, s, 32);
        ret_id[32] = 0;
        *ret_seqnum = v;
        return 0;
}

int pod_journal_wait(PodJournal *j, uint64_t timeout_usec) {
        int r = sd_journal_wait(j->journal, timeout_usec);
        return r < 0 ? r : 0;
}

int pod_journal_synchronize_start(const char *namespace) {
        static const char request[] = "{\"method\":\"io.systemd.Journal.Synchronize\",\"parameters\":{}}";
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;

        if (namespace)
                snprintf(sa.sun_path, sizeof(sa.sun_path), "/run/systemd/journal.%s/io.systemd.journal", namespace);
        else
                snprintf(sa.sun_path, sizeof(sa.sun_path), "/run/systemd/journal/io.systemd.journal");
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        /* varlink: one JSON object, NUL-terminated, each way. */
        if (send(fd, request, sizeof(request), MSG_NOSIGNAL) != (ssize_t) sizeof(request))
                return -EIO;
        return TAKE_FD(fd);
}

int pod_journal_synchronize_read(int fd) {
        /* The reply ({"parameters":{}} or an error) is short; nothing we
         * need is in it but whether it is an error. */
        char reply[4096];
        ssize_t k = recv(fd, reply, sizeof(reply), MSG_DONTWAIT | MSG_PEEK);

        if (k < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (k == 0)
                return -ECONNRESET;
        if (!memchr(reply, 0, (size_t) k))
                return k == (ssize_t) sizeof(reply) ? -EBADMSG : 0;
        return memmem(reply, (size_t) k, "\"error\"", 7) ? -EIO : 1;
}

int pod_journal_synchronize(const char *namespace, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        _cleanup_close_ int fd = pod_journal_synchronize_start(namespace);

        if (fd < 0)
                return fd;
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t n = now_usec(CLOCK_MONOTONIC);
                int r;

                if (n >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) ((deadline - n + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                r = pod_journal_synchronize_read(fd);
                if (r != 0)
                        return r < 0 ? r : 0;
        }
}

/* Relative times: "5m", "1h30m", "10 s", "250ms". */
static int parse_span(const char *s, uint64_t *ret) {
        static const struct {
                const char *suffix;
                uint64_t usec;
        } units[] = {
                /* Longer names first: "ms" before "m", "min" before "m". */
                { "usec", 1 },
                { "us", 1 },
                { "msec", 1000 },
                { "ms", 1000 },
                { "seconds", USEC_PER_SEC },
                { "second", USEC_PER_SEC },
                { "sec", USEC_PER_SEC },
                { "s", USEC_PER_SEC },
                { "minutes", 60 * USEC_PER_SEC },
                { "minute", 60 * USEC_PER_SEC },
                { "min", 60 * USEC_PER_SEC },
                { "m", 60 * USEC_PER_SEC },
                { "hours", 3600 * USEC_PER_SEC },
                { "hour", 3600 * USEC_PER_SEC },
                { "h", 3600 * USEC_PER_SEC },
                { "days", 86400 * USEC_PER_SEC },
                { "day", 86400 * USEC_PER_SEC },
                { "d", 86400 * USEC_PER_SEC },
                { "weeks", 7 * 86400 * USEC_PER_SEC },
                { "week", 7 * 86400 * USEC_PER_SEC },
                { "w", 7 * 86400 * USEC_PER_SEC },
        };
        uint64_t total = 0;
        bool any = false;

        for (;;) {
                unsigned long long v;
                char *end;
                size_t i;

                while (*s == ' ')
                        s++;
                if (!*s)
                        break;
                if (!isdigit((unsigned char) *s))
                        return -EINVAL;
                errno = 0;
                v = strtoull(s, &end, 10);
                if (errno != 0 || v > 1000000000ULL)
                        return -ERANGE;
                s = end;
                while (*s == ' ')
                        s++;
                for (i = 0; i < ELEMENTSOF(units); i++) {
                        const char *rest = startswith(s, units[i].suffix);

                        if (rest && !isalpha((unsigned char) *rest)) {
                                s = rest;
                                break;
                        }
                }
                if (i >= ELEMENTSOF(units))
                        return -EINVAL;
                /* "1000000000w" is 6e20 µs: refused rather than wrapped
                 * into a time that means something else. */
                if (v > (UINT64_MAX - total) / units[i].usec)
                        return -ERANGE;
                total += v * units[i].usec;
                any = true;
        }
        if (!any)
                return -EINVAL;
        *ret = total;
        return 0;
}

/* "HH:MM[:SS[.frac]]" into tm and usec. */
static const char *parse_clock(const char *s, struct tm *tm, uint64_t *frac_usec) {
        int n = 0;

        *frac_usec = 0;
        if (sscanf(s, "%2d:%2d%n", &tm->tm_hour, &tm->tm_min, &n) != 2 || n != 5)
                return NULL;
        s += n;
        if (*s == ':') {
                if (!isdigit((unsigned char) s[1]) || !isdigit((unsigned char) s[2]))
                        return NULL;
                tm->tm_sec = (s[1] - '0') * 10 + (s[2] - '0');
                s += 3;
                if (*s == '.') {
                        uint64_t scale = 100000;
                        s++;
                        if (!isdigit((unsigned char) *s))
                                return NULL;
                        for (; isdigit((unsigned char) *s); s++) {
                                *frac_usec += (uint64_t) (*s - '0') * scale;
                                scale /= 10;
                        }
                }
        }
        if (tm->tm_hour > 23 || tm->tm_min > 59 || tm->tm_sec > 60)
                return NULL;
        return s;
}

/* Local midnight of today, or of yesterday. */
static int log_time_parse_day(bool yesterday, uint64_t now, uint64_t *ret) {
        time_t sec = (time_t) (now / USEC_PER_SEC), t;
        struct tm tm = {};

        if (!localtime_r(&sec, &tm))
                return -EINVAL;
        tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
        if (yesterday)
                tm.tm_mday--;
        tm.tm_isdst = -1;
        t = mktime(&tm);
        if (t == (time_t) -1 || t < 0)
                return -EINVAL;
        *ret = (uint64_t) t * USEC_PER_SEC;
        return 0;
}

/* "@SECONDS", "-SPAN", "+SPAN" and "SPAN ago": 1 when s is one of them, 0
 * when it is not. */
static int log_time_parse_relative(const char *s, uint64_t now, uint64_t *ret) {
        uint64_t span;
        const char *e;
        int r;

        if (s[0] == '@') {
                char *end;
                unsigned long long v;

                errno = 0;
                v = strtoull(s + 1, &end, 10);
                if (errno != 0 || end == s + 1 || *end || !isdigit((unsigned char) s[1]) || v > UINT64_MAX / USEC_PER_SEC)
                        return -EINVAL;
                *ret = v * USEC_PER_SEC;
                return 1;
        }
        if (s[0] == '-' || s[0] == '+') {
                r = parse_span(s + 1, &span);
                if (r < 0)
                        return r;
                if (s[0] == '-')
                        *ret = span > now ? 0 : now - span;
                else if (span > UINT64_MAX - now)
                        return -ERANGE;
                else
                        *ret = now + span;
                return 1;
        }
        e = endswith(s, " ago");
        if (e) {
                char buf[65];

                memcpy(buf, s, (size_t) (e - s));
                buf[e - s] = 0;
                r = parse_span(buf, &span);
                if (r < 0)
                        return r;
                *ret = span > now ? 0 : now - span;
                return 1;
        }
        return 0;
}

/* Absolute: a date, then optionally ' ' or 'T' and a clock, then optionally
 * 'Z' or an offset (RFC 3339); without a zone it is local time, as
 * journalctl reads it. */
static int log_time_parse_absolute(const char *s, uint64_t *ret) {
        struct tm tm = {};
        uint64_t frac = 0;
        const char *rest;
        time_t t;
        int n = 0;

        if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
                return -EINVAL;
        if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_year < 1970)
                return -EINVAL;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        rest = s + n;
        if (*rest == ' ' || *rest == 'T' || *rest == 't') {
                rest = parse_clock(rest + 1, &tm, &frac);
                if (!rest)
                        return -EINVAL;
        }
        if (*rest == 0) {
                tm.tm_isdst = -1;
                t = mktime(&tm);
        } else {
                long off = 0;

                if ((rest[0] == 'Z' || rest[0] == 'z') && rest[1] == 0)
                        off = 0;
                else if ((rest[0] == '+' || rest[0] == '-') && isdigit((unsigned char) rest[1]) &&
                         isdigit((unsigned char) rest[2]) && rest[3] == ':' && isdigit((unsigned char) rest[4]) &&
                         isdigit((unsigned char) rest[5]) && rest[6] == 0) {
                        int hh = (rest[1] - '0') * 10 + (rest[2] - '0'), mm = (rest[4] - '0') * 10 + (rest[5] - '0');
                        if (hh > 23 || mm > 59)
                                return -EINVAL;
                        off = (hh * 60L + mm) * 60L * (rest[0] == '-' ? -1 : 1);
                } else
                        return -EINVAL;
                t = timegm(&tm);
                if (t != (time_t) -1)
                        t -= off;
        }
        if (t == (time_t) -1 || t < 0)
                return -EINVAL;
        *ret = (uint64_t) t * USEC_PER_SEC + frac;
        return 0;
}

int log_time_parse(const char *s, uint64_t now, uint64_t *ret) {
        int r;

        if (!s || !*s || strlen(s) > 64)
                return -EINVAL;

        if (streq(s, "now")) {
                *ret = now;
                return 0;
        }
        if (streq(s, "today") || streq(s, "yesterday"))
                return log_time_parse_day(streq(s, "yesterday"), now, ret);
        r = log_time_parse_relative(s, now, ret);
        if (r != 0)
                return r < 0 ? r : 0;
        return log_time_parse_absolute(s, ret);
}
