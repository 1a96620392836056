/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "io-util.h"
#include "log.h"
#include "macro.h"
#include "stage1-journal.h"
#include "stage1-relay.h"

typedef struct RelaySource {
        int fd;
        int priority;
        size_t len;
        char buf[STAGE1_RELAY_PIECE_MAX];
} RelaySource;

struct Stage1Relay {
        int stream;
        bool prefixed;
        bool fell_back; /* to the system journal, once */
        bool failed;
        char *identifier;
        RelaySource *sources[STAGE1_RELAY_SOURCES_MAX];
        size_t n_sources;
        /* Lines on their way out, written in one go per read. */
        size_t out_len;
        char out[2 * STAGE1_RELAY_LINE_MAX];
};

Stage1Relay *stage1_relay_new(int stream, const char *identifier, bool prefixed) {
        Stage1Relay *r = calloc(1, sizeof(Stage1Relay));

        if (!r) {
                safe_close(stream);
                return NULL;
        }
        r->stream = stream;
        r->prefixed = prefixed;
        r->failed = stream < 0;
        r->identifier = strdup(identifier ?: "");
        if (!r->identifier)
                return stage1_relay_free(r);
        return r;
}

Stage1Relay *stage1_relay_free(Stage1Relay *r) {
        if (!r)
                return NULL;
        for (size_t i = 0; i < r->n_sources; i++) {
                safe_close(r->sources[i]->fd);
                free(r->sources[i]);
        }
        safe_close(r->stream);
        free(r->identifier);
        free(r);
        return NULL;
}

int stage1_relay_add(Stage1Relay *r, int fd, int priority) {
        RelaySource *s;
        int flags;

        if (r->n_sources >= STAGE1_RELAY_SOURCES_MAX || priority < 0 || priority > 7) {
                safe_close(fd);
                return -EINVAL;
        }
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
                int r_errno = -errno;

                safe_close(fd);
                return r_errno;
        }
        s = malloc(sizeof(RelaySource));
        if (!s) {
                safe_close(fd);
                return -ENOMEM;
        }
        s->fd = fd;
        s->priority = priority;
        s->len = 0;
        r->sources[r->n_sources] = s;
        return (int) r->n_sources++;
}

int stage1_relay_fd(const Stage1Relay *r, size_t index) {
        return index < r->n_sources ? r->sources[index]->fd : -EBADF;
}

size_t stage1_relay_n(const Stage1Relay *r) {
        return r->n_sources;
}

/* A stream that journald closed is an error here (-EPIPE, loop_send()),
 * never a SIGPIPE; our stdout without journald may be no socket. */
static int send_all(int fd, const char *p, size_t n) {
        int k = loop_send(fd, p, n);

        return k == -ENOTSOCK ? loop_write(fd, p, n) : k;
}

/* The stream is gone (journald@peapod refused it after all, or is gone
 * for good): the output goes on in the system journal, under the same
 * identifier and unit, after a line that says why; without one it is
 * dropped. What sat unread in the old stream is lost. */
static void relay_fail(Stage1Relay *r, int error) {
        char why[512];
        int n;

        r->stream = safe_close(r->stream);
        if (r->prefixed && !r->fell_back) {
                r->fell_back = true;
                r->stream = stage1_journal_system_stream(r->identifier);
        }
        if (r->stream >= 0) {
                n = snprintf(why, sizeof(why),
                             "<3>%s: journald@peapod took no more of the app's output (%s; it serves at most 4096 "
                             "streams, one per app): it goes on here\n",
                             program_invocation_short_name, strerror(-error));
                if (send_all(r->stream, why, (size_t) n) >= 0)
                        return;
                r->stream = safe_close(r->stream);
        }
        r->failed = true;
        r->out_len = 0;
}

static void relay_flush(Stage1Relay *r) {
        while (r->out_len > 0 && !r->failed) {
                /* Blocking: a journald that cannot keep up slows the app
                 * down (its pipe fills), as a stream of its own would. */
                int k = send_all(r->stream, r->out, r->out_len);

                if (k >= 0)
                        r->out_len = 0;
                else
                        relay_fail(r, k); /* and again, on the new stream */
        }
}

/* One line, or with whole false a piece of one, out as "<p>bytes\n". */
static void relay_emit(Stage1Relay *r, int priority, const char *bytes, size_t n, bool whole) {
        if (r->failed)
                return;
        if (r->out_len + 3 + n + 1 > sizeof(r->out))
                relay_flush(r);
        if (r->failed)
                return;
        if (r->prefixed) {
                r->out[r->out_len++] = '<';
                r->out[r->out_len++] = (char) ('0' + priority);
                r->out[r->out_len++] = '>';
        }
        memcpy(r->out + r->out_len, bytes, n);
        r->out_len += n;
        if (whole)
                r->out[r->out_len++] = '\n';
}

/* The whole lines in s's buffer, then a full buffer as a piece, then
 * (final) the rest as a line; what is left waits for more. Empty lines
 * go nowhere: journald would drop them. */
static void relay_scan(Stage1Relay *r, RelaySource *s, bool final) {
        size_t start = 0;

        for (;;) {
                const char *nl = memchr(s->buf + start, '\n', s->len - start);
                const char *nul = memchr(s->buf + start, 0, (nl ? (size_t) (nl - s->buf) : s->len) - start);
                const char *end = nul ?: nl;

                if (!end)
                        break;
                if (end > s->buf + start)
                        relay_emit(r, s->priority, s->buf + start, (size_t) (end - s->buf) - start, true);
                start = (size_t) (end - s->buf) + 1;
        }
        if (start == 0 && s->len == sizeof(s->buf)) {
                /* Exactly LineMax with the prefix: journald ends it there. */
                relay_emit(r, s->priority, s->buf, s->len, false);
                start = s->len;
        } else if (final && start < s->len) {
                relay_emit(r, s->priority, s->buf + start, s->len - start, true);
                start = s->len;
        }
        memmove(s->buf, s->buf + start, s->len - start);
        s->len -= start;
}

void stage1_relay_feed(Stage1Relay *r, size_t index, const char *bytes, size_t n, bool final) {
        RelaySource *s = r->sources[index];

        while (n > 0) {
                size_t k = n < sizeof(s->buf) - s->len ? n : sizeof(s->buf) - s->len;

                memcpy(s->buf + s->len, bytes, k);
                s->len += k;
                bytes += k;
                n -= k;
                relay_scan(r, s, false);
        }
        if (final)
                relay_scan(r, s, true);
        relay_flush(r);
}

bool stage1_relay_read(Stage1Relay *r, size_t index) {
        RelaySource *s = r->sources[index];
        bool open = true;

        if (s->fd < 0)
                return false;
        /* A bounded number of reads: a source that never runs dry must
         * not keep the others (and our signals) waiting. */
        for (int i = 0; i < 16; i++) {
                ssize_t n = read(s->fd, s->buf + s->len, sizeof(s->buf) - s->len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        break;
                if (n <= 0) {
                        /* EOF, or EIO from a pty master without slaves. */
                        open = false;
                        break;
                }
                s->len += (size_t) n;
                relay_scan(r, s, false);
        }
        if (!open) {
                relay_scan(r, s, true);
                s->fd = safe_close(s->fd);
        }
        relay_flush(r);
        return open;
}

void stage1_relay_finish(Stage1Relay *r) {
        for (size_t i = 0; i < r->n_sources; i++) {
                RelaySource *s = r->sources[i];

                /* Until it is dry (or ended): the app wrote all of it before
                 * it exited. A descendant that goes on writing is not
                 * followed far (64 rounds of reads). */
                for (int round = 0; round < 64 && s->fd >= 0; round++) {
                        int avail = 0;

                        if (!stage1_relay_read(r, i) || ioctl(s->fd, FIONREAD, &avail) < 0 || avail <= 0)
                                break;
                }
                relay_scan(r, s, true);
        }
        relay_flush(r);
}
