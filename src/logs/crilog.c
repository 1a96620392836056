/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Journal to CRI log files.
 *
 * Why a restart neither loses nor doubles a line. For each container we
 * keep, in <state dir>/<app id>.cursor, a committed triple (cursor C,
 * offset O, file identity D/I): "every entry up to and including C is in
 * file D/I, and the file's first O bytes are exactly those lines". A commit
 * is: fdatasync() the log file, then write the state to a temporary file,
 * fsync() it and rename() it over the old one. So the state on disk never
 * claims more than the file holds, even after a power cut; it can only lag
 * behind (lines written after the last commit).
 *
 * At (re)start we seek to the entry after C and, before writing anything,
 * compare the bytes the file holds beyond O with the lines those entries
 * format to (formatting is a pure function of the entry). Every line found
 * there whole is counted as written; the first difference, or a torn last
 * line (a crash inside write()), ends the comparison and the file is
 * truncated to the end of the last whole matching line. Conversion goes on
 * from there. So lines written but not committed are neither lost (they
 * were in the file, or are written again) nor doubled (they are skipped).
 * After a rename by kubelet (reopen) the new file is committed at once, so
 * the identity in the state always names the file we append to; if we were
 * down while the file was replaced, the new file is compared from byte 0.
 *
 * Waking: each container has its own sd_journal (one match: its app id)
 * whose inotify fd is an io source of the one sd-event loop; a wake-up
 * reads at most CRILOG_BATCH_ENTRIES entries, formats them into one buffer
 * and writes it with one write(), then yields to the other containers (a
 * defer source continues). Commits run from a timer, at most every
 * CRILOG_COMMIT_USEC, so that fdatasync() does not pace the conversion.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crilog.h"
#include "io-util.h"
#include "name.h"
#include "string-util.h"
#include "time-util.h"

#define CRILOG_BATCH_ENTRIES 4096
#define CRILOG_BATCH_BYTES (1024 * 1024)
#define CRILOG_COMMIT_USEC (200 * 1000)
#define CRILOG_POLL_USEC (10 * 1000)
#define CRILOG_POLL_LINGER_USEC (400 * 1000)
/* How long crilog_finish waits for journald to write out what it holds. */
#define CRILOG_SYNC_TIMEOUT_USEC (300 * USEC_PER_SEC)
/* How long no new line must come after that before a finish is final:
 * more than journald's 250 ms between notifications. */
#define CRILOG_QUIET_USEC (300 * 1000)
/* A state file is a cursor (a few hundred bytes) and three numbers. */

typedef struct CriContainer CriContainer;

struct CriContainer {
        CriLog *owner;
        CriContainer *next;
        char app_id[POD_ID_LEN + 1];
        char *path;
        int fd;
        dev_t dev;
        ino_t ino;
        uint64_t offset;        /* size of the file after our last write */
        PodJournal *journal;
        sd_event_source *io, *more;
        sd_event_source *sync_io, *sync_timer;  /* while finishing */
        int sync_fd;
        /* journald tells readers about new entries at most every 250 ms
         * (it coalesces its inotify-triggering ftruncate()s), so while
         * lines come in we also look every CRILOG_POLL_USEC, for up to
         * CRILOG_POLL_LINGER_USEC after the last one; idle, only inotify
         * wakes us. */
        sd_event_source *poll_timer;
        uint64_t last_activity;
        size_t n_pumped;
        /* Set when journal files were added or removed: until an entry
         * newer than the last one written shows up, entries are checked by
         * seqnum and skipped if already written (a reader that re-adds a
         * rotated file must never make us write a line twice). */
        bool verify_seqnum;
        char *cursor;           /* of the last entry written */
        bool dirty;             /* written since the last commit */
        bool finishing;
};

struct CriLog {
        sd_event *event;
        char *namespace;
        char *state_dir;
        CriContainer *containers;
        sd_event_source *commit_timer;
        char *buf;
        size_t len, cap;
        uint64_t batch_realtime[CRILOG_BATCH_ENTRIES];
        size_t n_batch;
        CriLogStats stats;
        bool keep_stats;
        CriLogDoneFn done;
        void *userdata;
};

void crilog_format_time(uint64_t realtime_usec, char buf[static CRILOG_TIME_LEN + 1]) {
        static __thread time_t cached_sec = -1;
        static __thread char cached[64];
        time_t sec = (time_t) (realtime_usec / USEC_PER_SEC);
        unsigned usec = (unsigned) (realtime_usec % USEC_PER_SEC);

        if (sec != cached_sec) {
                struct tm tm;

                if (!gmtime_r(&sec, &tm))
                        memset(&tm, 0, sizeof(tm));
                /* Years beyond 9999 cannot be written in RFC 3339. */
                snprintf(cached, sizeof(cached), "%04d-%02d-%02dT%02d:%02d:%02d",
                         tm.tm_year + 1900 > 9999 ? 9999 : tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                         tm.tm_min, tm.tm_sec);
                cached_sec = sec;
        }
        memcpy(buf, cached, 19);
        buf[19] = '.';
        for (int i = 25; i >= 20; i--) {
                buf[i] = (char) ('0' + usec % 10);
                usec /= 10;
        }
        memcpy(buf + 26, "000Z", 5);
}

static int buf_reserve(char **buf, size_t *cap, size_t need) {
        size_t n;
        char *p;

        if (need <= *cap)
                return 0;
        n = *cap ? *cap : 4096;
        while (n < need) {
                if (n > SIZE_MAX / 2)
                        return -ENOMEM;
                n *= 2;
        }
        p = realloc(*buf, n);
        if (!p)
                return -ENOMEM;
        *buf = p;
        *cap = n;
        return 0;
}

int crilog_format_entry(const PodJournalEntry *e, char **buf, size_t *len, size_t *cap) {
        char ts[CRILOG_TIME_LEN + 1];
        const char *stream = e->stream == POD_LOG_STDERR ? "stderr" : "stdout";
        const char *p = e->message, *end = p + e->message_len;

        crilog_format_time(e->realtime_usec, ts);
        for (;;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                const char *stop = nl ?: end;
                size_t n = (size_t) (stop - p);
                bool last = !nl;
                char tag = last && e->line_break != POD_LINE_BREAK_NEWLINE ? 'P' : 'F';
                size_t need = CRILOG_TIME_LEN + 1 + 6 + 3 + n + 1;
                char *o;
                int r;

                if (n > SIZE_MAX - need || *len > SIZE_MAX - need)
                        return -ENOMEM;
                r = buf_reserve(buf, cap, *len + need);
                if (r < 0)
                        return r;
                o = *buf + *len;
                memcpy(o, ts, CRILOG_TIME_LEN);
                o += CRILOG_TIME_LEN;
                *o++ = ' ';
                memcpy(o, stream, 6);
                o += 6;
                *o++ = ' ';
                *o++ = tag;
                *o++ = ' ';
                memcpy(o, p, n);
                o += n;
                *o++ = '\n';
                *len = (size_t) (o - *buf);
                if (last)
                        return 0;
                p = nl + 1;
        }
}

static int state_path(const char *state_dir, const char *app_id, bool tmp, char **ret) {
        return asprintf(ret, "%s/%s%s.cursor%s", state_dir, tmp ? "." : "", app_id, tmp ? ".tmp" : "") < 0 ? -ENOMEM : 0;
}

void crilog_state_done(CriLogState *s) {
        s->cursor = mfree(s->cursor);
}

/* A decimal uint64 of [s, s+n): digits only, overflow refused. */
static int parse_u64_n(const char *s, size_t n, uint64_t *ret) {
        uint64_t v = 0;

        if (n == 0 || n > 20)
                return -EBADMSG;
        for (size_t i = 0; i < n; i++) {
                unsigned d = (unsigned) (s[i] - '0');

                if (d > 9 || v > (UINT64_MAX - d) / 10)
                        return -EBADMSG;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int crilog_state_parse(const char *text, size_t size, CriLogState *ret) {
        const char *nl = memchr(text, '\n', size), *p, *end = text + size, *sp1, *sp2;
        uint64_t offset, dev, ino;
        char *cursor;

        if (size > CRILOG_STATE_MAX || !nl || nl == text)
                return -EBADMSG;
        /* A journal cursor is visible ASCII; anything else is not ours. */
        for (p = text; p < nl; p++)
                if (*p <= ' ' || *p >= 0x7f)
                        return -EBADMSG;
        p = nl + 1;
        if (end > p && end[-1] == '\n')
                end--;
        sp1 = memchr(p, ' ', (size_t) (end - p));
        sp2 = sp1 ? memchr(sp1 + 1, ' ', (size_t) (end - sp1 - 1)) : NULL;
        if (!sp2 || parse_u64_n(p, (size_t) (sp1 - p), &offset) < 0 ||
            parse_u64_n(sp1 + 1, (size_t) (sp2 - sp1 - 1), &dev) < 0 ||
            parse_u64_n(sp2 + 1, (size_t) (end - sp2 - 1), &ino) < 0)
                return -EBADMSG;
        cursor = strndup(text, (size_t) (nl - text));
        if (!cursor)
                return -ENOMEM;
        *ret = (CriLogState) { .cursor = cursor, .offset = offset, .dev = dev, .ino = ino };
        return 0;
}

int crilog_state_format(const CriLogState *s, char **ret) {
        int n = asprintf(ret, "%s\n%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", s->cursor, s->offset, s->dev, s->ino);

        return n < 0 ? -ENOMEM : n;
}

/* Returns 1 with a state, 0 when there is none. The file is ours, but a
 * broken one is refused rather than trusted. */
static int state_load(const char *state_dir, const char *app_id, CriLogState *ret) {
        _cleanup_free_ char *path = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        int r;

        r = state_path(state_dir, app_id, false, &path);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        data = malloc(CRILOG_STATE_MAX + 1);
        if (!data)
                return -ENOMEM;
        n = read(fd, data, CRILOG_STATE_MAX);
        if (n < 0)
                return -errno;
        r = crilog_state_parse(data, (size_t) n, ret);
        return r < 0 ? r : 1;
}

static int container_commit(CriContainer *ct) {
        CriLog *c = ct->owner;
        _cleanup_free_ char *path = NULL, *tmp = NULL, *data = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r, n;

        if (!ct->dirty)
                return 0;
        if (!ct->cursor) {
                /* Nothing converted yet: the state is "nothing", as before. */
                ct->dirty = false;
                return 0;
        }
        /* The file first: the state must never claim lines the disk lacks. */
        if (ct->fd >= 0 && fdatasync(ct->fd) < 0)
                return -errno;
        n = crilog_state_format(&(CriLogState) { .cursor = ct->cursor, .offset = ct->offset, .dev = (uint64_t) ct->dev,
                                                 .ino = (uint64_t) ct->ino },
                                &data);
        if (n < 0)
                return n;
        if ((r = state_path(c->state_dir, ct->app_id, false, &path)) < 0 ||
            (r = state_path(c->state_dir, ct->app_id, true, &tmp)) < 0)
                return r;
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, data, (size_t) n) != n || fsync(fd) < 0) {
                r = errno ? -errno : -EIO;
                (void) unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        ct->dirty = false;
        c->stats.commits++;
        return 0;
}

static CriContainer *container_free(CriContainer *ct) {
        if (!ct)
                return NULL;
        sd_event_source_disable_unref(ct->io);
        sd_event_source_disable_unref(ct->more);
        sd_event_source_disable_unref(ct->sync_io);
        sd_event_source_disable_unref(ct->sync_timer);
        sd_event_source_disable_unref(ct->poll_timer);
        if (ct->sync_fd >= 0)
                close(ct->sync_fd);
        /* The loop goes on meanwhile (its close may wait ~10 ms). */
        pod_journal_free_later(ct->journal);
        if (ct->fd >= 0)
                close(ct->fd);
        free(ct->path);
        free(ct->cursor);
        free(ct);
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CriContainer *, container_free);

static CriContainer *container_find(CriLog *c, const char *app_id) {
        for (CriContainer *ct = c->containers; ct; ct = ct->next)
                if (streq(ct->app_id, app_id))
                        return ct;
        return NULL;
}

static void container_drop(CriContainer *ct, int error) {
        CriLog *c = ct->owner;
        char id[POD_ID_LEN + 1];

        for (CriContainer **p = &c->containers; *p; p = &(*p)->next)
                if (*p == ct) {
                        *p = ct->next;
                        break;
                }
        memcpy(id, ct->app_id, sizeof(id));
        container_free(ct);
        if (c->done)
                c->done(c, id, error, c->userdata);
}

static int commit_timer_arm(CriLog *c) {
        int enabled = SD_EVENT_OFF, r;

        r = sd_event_source_get_enabled(c->commit_timer, &enabled);
        if (r < 0 || enabled != SD_EVENT_OFF)
                return r;
        r = sd_event_source_set_time_relative(c->commit_timer, CRILOG_COMMIT_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(c->commit_timer, SD_EVENT_ONESHOT);
}

/* Write the formatted batch; the entries' cursor becomes the container's. */
static int container_flush(CriContainer *ct) {
        CriLog *c = ct->owner;
        char *cursor = NULL;
        int r;

        if (c->n_batch == 0)
                return 0;
        r = loop_write(ct->fd, c->buf, c->len);
        if (r < 0)
                return r;
        if (c->keep_stats) {
                uint64_t now = now_usec(CLOCK_REALTIME), mono = now_usec(CLOCK_MONOTONIC);

                if (c->stats.first_write_usec == 0)
                        c->stats.first_write_usec = mono;
                c->stats.last_write_usec = mono;

                for (size_t i = 0; i < c->n_batch; i++) {
                        uint64_t lag = now > c->batch_realtime[i] ? (now - c->batch_realtime[i]) / 1000 : 0;
                        c->stats.lag_ms[lag < CRILOG_LAG_BUCKETS - 1 ? lag : CRILOG_LAG_BUCKETS - 1]++;
                }
        }
        ct->offset += c->len;
        c->stats.bytes += c->len;
        c->stats.entries += c->n_batch;
        c->len = 0;
        c->n_batch = 0;
        /* Standing on the last entry read: its cursor says "done up to here". */
        r = pod_journal_get_cursor(ct->journal, &cursor);
        if (r < 0)
                return r;
        free(ct->cursor);
        ct->cursor = cursor;
        ct->dirty = true;
        if (c->cap > 4 * CRILOG_BATCH_BYTES) {
                /* One huge line grew the buffer: give the memory back. */
                c->buf = mfree(c->buf);
                c->cap = 0;
        }
        return commit_timer_arm(c);
}

static uint64_t count_lines(const char *p, size_t n) {
        uint64_t k = 0;

        for (const char *q = p; (q = memchr(q, '\n', (size_t) (p + n - q))); q++)
                k++;
        return k;
}

/* Whether the current entry is at or before the last one written, by
 * seqnum (valid within one seqnum id, which rotation keeps). */
static int container_already_written(CriContainer *ct) {
        _cleanup_free_ char *cur = NULL;
        char id_last[33], id_cur[33];
        uint64_t s_last, s_cur;
        int r;

        /* Entries in the batch being formatted were read after the files
         * changed: the reader is past the last one written already. */
        if (ct->owner->n_batch > 0 || !ct->cursor || journal_cursor_seqnum(ct->cursor, id_last, &s_last) < 0)
                return 0;
        r = pod_journal_get_cursor(ct->journal, &cur);
        if (r < 0)
                return r;
        if (journal_cursor_seqnum(cur, id_cur, &s_cur) < 0 || !streq(id_cur, id_last))
                return 0;
        return s_cur <= s_last;
}

/* Convert up to limit entries. Returns 1 when the journal's end was
 * reached, 0 when there is more. */
static int container_pump(CriContainer *ct, size_t limit) {
        CriLog *c = ct->owner;
        size_t done = 0;
        int r;

        ct->n_pumped = 0;

        for (;;) {
                PodJournalEntry e;
                size_t before;

                if (done >= limit)
                        break;
                if (c->n_batch >= CRILOG_BATCH_ENTRIES || c->len >= CRILOG_BATCH_BYTES) {
                        r = container_flush(ct);
                        if (r < 0)
                                return r;
                }
                r = pod_journal_next(ct->journal, &e);
                if (r < 0)
                        return r;
                if (r == 0) {
                        r = container_flush(ct);
                        return r < 0 ? r : 1;
                }
                if (ct->verify_seqnum) {
                        r = container_already_written(ct);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                c->stats.skipped++;
                                continue;
                        }
                        ct->verify_seqnum = false;
                }
                before = c->len;
                r = crilog_format_entry(&e, &c->buf, &c->len, &c->cap);
                if (r < 0)
                        return r;
                c->stats.lines += count_lines(c->buf + before, c->len - before);
                c->batch_realtime[c->n_batch++] = e.realtime_usec;
                done++;
                ct->n_pumped++;
        }
        r = container_flush(ct);
        return r < 0 ? r : 0;
}

static int container_finish_now(CriContainer *ct) {
        int r;

        /* Everything journald received is in its files now (or the sync
         * failed or timed out and we write what is there). */
        r = pod_journal_process(ct->journal);
        if (r < 0)
                return r;
        if (r > 0)
                ct->verify_seqnum = true;
        do
                r = container_pump(ct, SIZE_MAX);
        while (r == 0);
        if (r < 0)
                return r;
        return container_commit(ct);
}

static int container_poll_arm(CriContainer *ct) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int r;

        if (ct->n_pumped > 0)
                ct->last_activity = now;
        if (now - ct->last_activity > CRILOG_POLL_LINGER_USEC)
                return sd_event_source_set_enabled(ct->poll_timer, SD_EVENT_OFF);
        r = sd_event_source_set_time(ct->poll_timer, now + CRILOG_POLL_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(ct->poll_timer, SD_EVENT_ONESHOT);
}

static void container_run(CriContainer *ct) {
        int r = container_pump(ct, CRILOG_BATCH_ENTRIES);

        if (r == 0)
                /* More to read: continue after the other containers had
                 * their turn. */
                r = sd_event_source_set_enabled(ct->more, SD_EVENT_ONESHOT);
        else if (r > 0)
                r = container_poll_arm(ct);
        if (r < 0) {
                (void) container_commit(ct);
                container_drop(ct, r);
        }
}

static int on_poll(sd_event_source *s, uint64_t usec, void *userdata) {
        container_run(userdata);
        return 0;
}

static int on_journal(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CriContainer *ct = userdata;
        int r = pod_journal_process(ct->journal);

        if (r < 0) {
                container_drop(ct, r);
                return 0;
        }
        if (r > 0)
                ct->verify_seqnum = true;
        container_run(ct);
        return 0;
}

static int on_more(sd_event_source *s, void *userdata) {
        container_run(userdata);
        return 0;
}

static int on_commit(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) crilog_commit_all(userdata);
        return 0;
}

static int open_log(const char *path, int *ret_fd, struct stat *ret_st) {
        _cleanup_close_ int fd = -EBADF;

        /* O_APPEND: kubelet never writes it, but a file another writer
         * appended to must not be overwritten. */
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW, 0640);
        if (fd < 0)
                return -errno;
        if (fstat(fd, ret_st) < 0)
                return -errno;
        if (!S_ISREG(ret_st->st_mode))
                return -EBADFD;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* Skip the entries after the saved cursor whose lines the file already
 * holds beyond from (see the top of this file), truncate what does not
 * match, and leave the first unmatched entry's lines in the buffer. */
static int container_resume(CriContainer *ct, uint64_t from, uint64_t size) {
        CriLog *c = ct->owner;
        _cleanup_close_ int rfd = -EBADF;
        _cleanup_free_ char *line = NULL, *have = NULL;
        size_t line_len = 0, line_cap = 0, have_cap = 0;
        uint64_t pos = from;
        bool matched = false;
        int r;

        if (pos < size) {
                rfd = open(ct->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
                if (rfd < 0)
                        return -errno;
        }
        while (pos < size) {
                PodJournalEntry e;
                ssize_t n;

                r = pod_journal_next(ct->journal, &e);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                line_len = 0;
                r = crilog_format_entry(&e, &line, &line_len, &line_cap);
                if (r < 0)
                        return r;
                if (line_len <= size - pos) {
                        r = buf_reserve(&have, &have_cap, line_len);
                        if (r < 0)
                                return r;
                        n = pread(rfd, have, line_len, (off_t) pos);
                        if (n < 0)
                                return -errno;
                        if ((size_t) n == line_len && memcmp(have, line, line_len) == 0) {
                                pos += line_len;
                                c->stats.skipped++;
                                matched = true;
                                continue;
                        }
                }
                /* Not in the file (or torn there): it is the first to write. */
                r = buf_reserve(&c->buf, &c->cap, c->len + line_len);
                if (r < 0)
                        return r;
                memcpy(c->buf + c->len, line, line_len);
                c->len += line_len;
                c->stats.lines += count_lines(line, line_len);
                c->batch_realtime[c->n_batch++] = e.realtime_usec;
                break;
        }
        if (pos < size && ftruncate(ct->fd, (off_t) pos) < 0)
                return -errno;
        ct->offset = pos;
        if (c->n_batch > 0)
                return container_flush(ct);
        if (matched) {
                char *cursor;

                r = pod_journal_get_cursor(ct->journal, &cursor);
                if (r < 0)
                        return r;
                free(ct->cursor);
                ct->cursor = cursor;
        }
        ct->dirty = true;
        return 0;
}

int crilog_add(CriLog *c, const char *app_id, const char *path) {
        _cleanup_(container_freep) CriContainer *ct = NULL;
        _cleanup_(crilog_state_done) CriLogState st = {};
        struct stat sb;
        uint64_t from;
        int r, have_state;

        if (!id_is_valid(app_id) || !path || path[0] != '/')
                return -EINVAL;
        if (container_find(c, app_id))
                return -EEXIST;

        ct = calloc(1, sizeof(*ct));
        if (!ct)
                return -ENOMEM;
        ct->owner = c;
        ct->fd = -EBADF;
        ct->sync_fd = -EBADF;
        memcpy(ct->app_id, app_id, sizeof(ct->app_id));
        ct->path = strdup(path);
        if (!ct->path)
                return -ENOMEM;

        have_state = state_load(c->state_dir, app_id, &st);
        if (have_state < 0)
                return have_state;
        r = open_log(path, &ct->fd, &sb);
        if (r < 0)
                return r;
        ct->dev = sb.st_dev;
        ct->ino = sb.st_ino;

        if (have_state && st.dev == (uint64_t) sb.st_dev && st.ino == (uint64_t) sb.st_ino)
                /* Our file: shorter than committed means someone cut it;
                 * then only what is left is compared. */
                from = (uint64_t) sb.st_size >= st.offset ? st.offset : (uint64_t) sb.st_size;
        else
                /* No state, or a file we never committed to: all of it may
                 * be lines written after the cursor. */
                from = 0;

        if ((r = pod_journal_open(c->namespace, &ct->journal)) < 0 ||
            (r = pod_journal_add_app(ct->journal, app_id)) < 0)
                return r;
        if (have_state) {
                ct->cursor = TAKE_PTR(st.cursor);
                r = pod_journal_seek_after_cursor(ct->journal, ct->cursor);
        } else
                r = pod_journal_seek_head(ct->journal);
        if (r < 0)
                return r;

        r = container_resume(ct, from, (uint64_t) sb.st_size);
        if (r < 0)
                return r;
        r = container_commit(ct);
        if (r < 0)
                return r;

        r = sd_event_add_io(c->event, &ct->io, pod_journal_get_fd(ct->journal), EPOLLIN, on_journal, ct);
        if (r < 0)
                return r;
        r = sd_event_add_defer(c->event, &ct->more, on_more, ct);
        if (r < 0)
                return r;
        r = sd_event_add_time(c->event, &ct->poll_timer, CLOCK_MONOTONIC, 0, 1000, on_poll, ct);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(ct->poll_timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        /* Read what is there already. */
        r = sd_event_source_set_enabled(ct->more, SD_EVENT_ONESHOT);
        if (r < 0)
                return r;

        ct->next = c->containers;
        c->containers = TAKE_PTR(ct);
        return 0;
}

int crilog_reopen(CriLog *c, const char *app_id) {
        CriContainer *ct = container_find(c, app_id);
        struct stat sb;
        int fd = -EBADF, r;

        if (!ct)
                return -ENOENT;
        /* Whatever went into the old file is committed against it... */
        r = container_commit(ct);
        if (r < 0)
                return r;
        r = open_log(ct->path, &fd, &sb);
        if (r < 0)
                return r;
        close(ct->fd);
        ct->fd = fd;
        ct->dev = sb.st_dev;
        ct->ino = sb.st_ino;
        ct->offset = (uint64_t) sb.st_size;
        /* ...and the new file is named in the state before a line goes in. */
        ct->dirty = true;
        return container_commit(ct);
}

static void container_finish_and_drop(CriContainer *ct) {
        int r = container_finish_now(ct);
        container_drop(ct, r < 0 ? r : 0);
}

/* After journald's answer: write what there is, then wait until no new
 * line came for CRILOG_QUIET_USEC before finishing. journald 252's
 * Synchronize can answer while a stream's last lines are still on their
 * way (seen under load: the last line of an app missing), and it tells
 * readers about new entries only every 250 ms. */
static void container_settle(CriContainer *ct, bool force_wait) {
        size_t n = 0;
        int r;

        r = pod_journal_process(ct->journal);
        if (r > 0)
                ct->verify_seqnum = true;
        if (r >= 0)
                do {
                        r = container_pump(ct, SIZE_MAX);
                        n += ct->n_pumped;
                } while (r == 0);
        if (r >= 0 && (n > 0 || force_wait)) {
                r = sd_event_source_set_time_relative(ct->sync_timer, CRILOG_QUIET_USEC);
                if (r >= 0)
                        r = sd_event_source_set_enabled(ct->sync_timer, SD_EVENT_ONESHOT);
                if (r >= 0)
                        return;
        }
        if (r < 0) {
                (void) container_commit(ct);
                container_drop(ct, r);
                return;
        }
        container_finish_and_drop(ct);
}

static int on_sync(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CriContainer *ct = userdata;

        if (pod_journal_synchronize_read(fd) == 0)
                return 0;
        ct->sync_io = sd_event_source_disable_unref(ct->sync_io);
        ct->sync_fd = safe_close(ct->sync_fd);
        container_settle(ct, true);
        return 0;
}

static int on_sync_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        CriContainer *ct = userdata;

        if (ct->sync_io) {
                /* journald did not answer in CRILOG_SYNC_TIMEOUT_USEC. */
                ct->sync_io = sd_event_source_disable_unref(ct->sync_io);
                ct->sync_fd = safe_close(ct->sync_fd);
        }
        container_settle(ct, false);
        return 0;
}

int crilog_finish(CriLog *c, const char *app_id) {
        CriContainer *ct = container_find(c, app_id);
        int r;

        if (!ct)
                return -ENOENT;
        if (ct->finishing)
                return 0;
        ct->finishing = true;
        /* The app's last lines may still wait in its stream sockets (journald
         * can be seconds behind a burst): ask journald to write out what it
         * has, keep converting meanwhile, and finish when it answered and
         * no new line came for a while. Without journald to ask (not root,
         * no such namespace) only the quiet period is waited for. */
        r = sd_event_add_time_relative(c->event, &ct->sync_timer, CLOCK_MONOTONIC, CRILOG_SYNC_TIMEOUT_USEC, 1000,
                                       on_sync_timer, ct);
        if (r < 0)
                return r;
        ct->sync_fd = pod_journal_synchronize_start(c->namespace);
        if (ct->sync_fd >= 0 && sd_event_add_io(c->event, &ct->sync_io, ct->sync_fd, EPOLLIN, on_sync, ct) >= 0)
                return 0;
        ct->sync_fd = safe_close(ct->sync_fd);
        container_settle(ct, true);
        return 0;
}

int crilog_forget(const char *state_dir, const char *app_id) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!id_is_valid(app_id))
                return -EINVAL;
        r = state_path(state_dir, app_id, false, &path);
        if (r < 0)
                return r;
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int crilog_commit_all(CriLog *c) {
        int ret = 0;

        for (CriContainer *ct = c->containers; ct; ct = ct->next) {
                int r = container_commit(ct);
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

size_t crilog_n_containers(CriLog *c) {
        size_t n = 0;

        for (CriContainer *ct = c->containers; ct; ct = ct->next)
                n++;
        return n;
}

void crilog_set_done_callback(CriLog *c, CriLogDoneFn fn, void *userdata) {
        c->done = fn;
        c->userdata = userdata;
}

int crilog_enable_stats(CriLog *c) {
        if (!c->stats.lag_ms) {
                c->stats.lag_ms = calloc(CRILOG_LAG_BUCKETS, sizeof(uint64_t));
                if (!c->stats.lag_ms)
                        return -ENOMEM;
        }
        c->keep_stats = true;
        return 0;
}

const CriLogStats *crilog_get_stats(CriLog *c) {
        return &c->stats;
}

int crilog_new(sd_event *event, const char *namespace, const char *state_dir, CriLog **ret) {
        _cleanup_(crilog_freep) CriLog *c = NULL;
        int r;

        if (!state_dir)
                return -EINVAL;
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->event = sd_event_ref(event);
        c->state_dir = strdup(state_dir);
        if (!c->state_dir)
                return -ENOMEM;
        if (namespace) {
                c->namespace = strdup(namespace);
                if (!c->namespace)
                        return -ENOMEM;
        }
        r = sd_event_add_time_relative(event, &c->commit_timer, CLOCK_MONOTONIC, CRILOG_COMMIT_USEC, 0, on_commit, c);
        if (r < 0)
                return r;
        r = sd_event_source_set_enabled(c->commit_timer, SD_EVENT_OFF);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

CriLog *crilog_free(CriLog *c) {
        if (!c)
                return NULL;
        (void) crilog_commit_all(c);
        while (c->containers) {
                CriContainer *ct = c->containers;
                c->containers = ct->next;
                container_free(ct);
        }
        sd_event_source_disable_unref(c->commit_timer);
        sd_event_unref(c->event);
        free(c->namespace);
        free(c->state_dir);
        free(c->buf);
        free(c->stats.lag_ms);
        free(c);
        return NULL;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0. */
static size_t utf8_sequence(const unsigned char *p, size_t n) {
        size_t k;
        uint32_t cp;

        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                k = 2, cp = p[0] & 0x1f;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                k = 3, cp = p[0] & 0x0f;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                k = 4, cp = p[0] & 0x07;
        else
                return 0;
        if (n < k)
                return 0;
        for (size_t i = 1; i < k; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* Overlong forms, surrogates, beyond U+10FFFF. */
        if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return k;
}

static int json_append_string(const void *data, size_t n, char **buf, size_t *len, size_t *cap) {
        const unsigned char *p = data, *end = p + n;
        char *o;
        int r;

        /* At most 6 bytes out per byte in ("\u00XX"; U+FFFD is 3). */
        if (n > (SIZE_MAX - *len - 2) / 6)
                return -ENOMEM;
        r = buf_reserve(buf, cap, *len + n * 6 + 2);
        if (r < 0)
                return r;
        o = *buf + *len;
        *o++ = '"';
        while (p < end) {
                size_t k = utf8_sequence(p, (size_t) (end - p));

                if (k == 0) {
                        memcpy(o, "\xef\xbf\xbd", 3);
                        o += 3;
                        p++;
                } else if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0) {
                        /* U+0080..U+009F, the C1 controls (CSI is U+009B):
                         * valid JSON as they are, but escaped so that the
                         * output is safe on a terminal too. */
                        o += sprintf(o, "\\u%04x", p[1]);
                        p += 2;
                } else if (k > 1) {
                        memcpy(o, p, k);
                        o += k;
                        p += k;
                } else if (*p == '"' || *p == '\\') {
                        *o++ = '\\';
                        *o++ = (char) *p++;
                } else if (*p < 0x20 || *p == 0x7f) {
                        o += sprintf(o, "\\u%04x", *p++);
                } else
                        *o++ = (char) *p++;
        }
        *o++ = '"';
        *len = (size_t) (o - *buf);
        return 0;
}

static int buf_append(const char *s, char **buf, size_t *len, size_t *cap) {
        size_t n = strlen(s);
        int r = buf_reserve(buf, cap, *len + n);

        if (r < 0)
                return r;
        memcpy(*buf + *len, s, n);
        *len += n;
        return 0;
}

int log_format_json(const PodJournalEntry *e, const char *app_name, char **buf, size_t *len, size_t *cap) {
        char ts[CRILOG_TIME_LEN + 1];
        int r;

        crilog_format_time(e->realtime_usec, ts);
        if ((r = buf_append("{\"time\":\"", buf, len, cap)) < 0 || (r = buf_append(ts, buf, len, cap)) < 0 ||
            (r = buf_append("\",\"stream\":\"", buf, len, cap)) < 0 ||
            (r = buf_append(pod_log_stream_to_string(e->stream), buf, len, cap)) < 0 ||
            (r = buf_append("\",\"app\":", buf, len, cap)) < 0 ||
            (r = json_append_string(app_name, strlen(app_name), buf, len, cap)) < 0 ||
            (r = buf_append(",\"app_id\":\"", buf, len, cap)) < 0 || (r = buf_append(e->app_id, buf, len, cap)) < 0 ||
            (r = buf_append("\",\"message\":", buf, len, cap)) < 0 ||
            (r = json_append_string(e->message, e->message_len, buf, len, cap)) < 0)
                return r;
        return buf_append(e->line_break != POD_LINE_BREAK_NEWLINE ? ",\"partial\":true}\n" : ",\"partial\":false}\n", buf,
                          len, cap);
}

int log_escape_append(const void *data, size_t n, bool keep_newlines, char **buf, size_t *len, size_t *cap) {
        static const char named[] = { ['\a'] = 'a', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\v'] = 'v' };
        const unsigned char *p = data, *end = p + n;
        char *o;
        int r;

        /* At most 4 bytes out per byte in ("\xNN"). */
        if (n > (SIZE_MAX - *len) / 4)
                return -ENOMEM;
        r = buf_reserve(buf, cap, *len + n * 4);
        if (r < 0)
                return r;
        o = *buf + *len;
        while (p < end) {
                size_t k = utf8_sequence(p, (size_t) (end - p));

                if (k == 0 || (k == 2 && p[0] == 0xc2 && p[1] < 0xa0)) {
                        /* Not UTF-8 (a terminal in another encoding may
                         * read it as an 8-bit C1 control), or a C1 control
                         * itself (U+009B is CSI): each byte as \xNN. */
                        for (size_t i = 0; i < (k ?: 1); i++)
                                o += sprintf(o, "\\x%02x", *p++);
                } else if (k > 1) {
                        memcpy(o, p, k);
                        o += k;
                        p += k;
                } else if (*p == '\t' || (*p == '\n' && keep_newlines) || (*p >= 0x20 && *p != 0x7f))
                        *o++ = (char) *p++;
                else if (*p < sizeof(named) && named[*p]) {
                        *o++ = '\\';
                        *o++ = named[*p++];
                } else
                        o += sprintf(o, "\\x%02x", *p++);
        }
        *len = (size_t) (o - *buf);
        return 0;
}

int log_format_text(const PodJournalEntry *e, const char *app_name, int prefix_width, bool timestamps, bool escape,
                    char **buf, size_t *len, size_t *cap) {
        int r;

        if (timestamps) {
                char ts[CRILOG_TIME_LEN + 2];

                crilog_format_time(e->realtime_usec, ts);
                ts[CRILOG_TIME_LEN] = ' ';
                ts[CRILOG_TIME_LEN + 1] = 0;
                r = buf_append(ts, buf, len, cap);
                if (r < 0)
                        return r;
        }
        if (prefix_width > 0) {
                _cleanup_free_ char *prefix = NULL;

                if (asprintf(&prefix, "%-*s | ", prefix_width, app_name) < 0)
                        return -ENOMEM;
                /* Names are ours (app names), but the escape costs nothing. */
                r = escape ? log_escape_append(prefix, strlen(prefix), false, buf, len, cap)
                           : buf_append(prefix, buf, len, cap);
                if (r < 0)
                        return r;
        }
        if (escape)
                r = log_escape_append(e->message, e->message_len, false, buf, len, cap);
        else {
                r = buf_reserve(buf, cap, *len + e->message_len);
                if (r >= 0) {
                        memcpy(*buf + *len, e->message, e->message_len);
                        *len += e->message_len;
                }
        }
        if (r < 0)
                return r;
        /* A piece of a longer line goes on in the next entry. */
        return e->line_break == POD_LINE_BREAK_NEWLINE ? buf_append("\n", buf, len, cap) : 0;
}
