/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal-follow NAMESPACE APP_ID FIFO N
 *
 * Follows one app's lines in a journal namespace as peapod's followers do
 * (peapod-cri's converter, `peapod logs -f`, attach), while it makes the app
 * print them: FIFO is read by the app (a unit whose stdout goes to the
 * namespace), and each of N lines "line K" is written into it alone.
 *
 * After each line, the journal is read to its end in a tight loop for a
 * while, so that reads land while journald appends the entry (it counts the
 * entry in the file's header before it links it to its fields, which a
 * reader with a match walks); then only after the journal fd's wake-ups,
 * with pod_journal_process() first. Every line must be read after the
 * wake-up that follows it: a line still missing WAIT_USEC after it was
 * written (well beyond journald's 250 ms between notifications) is a lost
 * line for a follower, whose app may print nothing more. Exits 1 then.
 *
 * A line the tight loop did not find (it read between journald's two
 * steps, or journald was slow) is read only after a wake-up: once
 * ENOUGH_AFTER_WAKEUP lines were, the reads after wake-ups were tested
 * enough, and the rest of the N lines are not printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal.h"
#include "time-util.h"

#define SPIN_USEC (30 * 1000)
#define WAIT_USEC (20 * USEC_PER_SEC)
#define ENOUGH_AFTER_WAKEUP 5

/* Reads what there is; 1 once "line want" was read, < 0 on an error or a
 * line out of order. */
static int read_available(PodJournal *j, unsigned want) {
        PodJournalEntry e;
        int r, found = 0;

        while ((r = pod_journal_next(j, &e)) > 0) {
                char expect[32];
                int n = snprintf(expect, sizeof(expect), "line %u", want);

                if (e.message_len != (size_t) n || memcmp(e.message, expect, (size_t) n) != 0) {
                        fprintf(stderr, "journal-follow: read \"%.*s\", expected \"%s\"\n", (int) e.message_len,
                                (const char *) e.message, expect);
                        return -EBADMSG;
                }
                found = 1;
        }
        return r < 0 ? r : found;
}

int main(int argc, char **argv) {
        PodJournal *j = NULL;
        unsigned n, k, after_wakeup = 0;
        int fifo, fd, r;

        if (argc != 5 || (n = (unsigned) atoi(argv[4])) == 0) {
                fprintf(stderr, "usage: journal-follow NAMESPACE APP_ID FIFO N\n");
                return 2;
        }
        if ((r = pod_journal_open(argv[1], &j)) < 0 || (r = pod_journal_add_app(j, argv[2])) < 0 ||
            (r = pod_journal_seek_head(j)) < 0 || (fd = r = pod_journal_get_fd(j)) < 0) {
                fprintf(stderr, "journal-follow: cannot open the journal: %s\n", strerror(-r));
                return 1;
        }
        fifo = open(argv[3], O_WRONLY | O_CLOEXEC);
        if (fifo < 0) {
                fprintf(stderr, "journal-follow: %s: %m\n", argv[3]);
                return 1;
        }
        /* The app printed nothing yet: nothing to read. */
        if ((r = read_available(j, 0)) != 0) {
                fprintf(stderr, "journal-follow: lines before the first\n");
                return 1;
        }
        for (k = 1; k <= n && after_wakeup < ENOUGH_AFTER_WAKEUP; k++) {
                char line[32];
                int len = snprintf(line, sizeof(line), "line %u\n", k);
                uint64_t sent, now;

                if (write(fifo, line, (size_t) len) != len) {
                        fprintf(stderr, "journal-follow: writing to the app: %m\n");
                        return 1;
                }
                sent = now_usec(CLOCK_MONOTONIC);
                r = 0;
                while (r == 0 && now_usec(CLOCK_MONOTONIC) - sent < SPIN_USEC)
                        r = read_available(j, k);
                if (r == 0)
                        after_wakeup++;
                while (r == 0 && (now = now_usec(CLOCK_MONOTONIC)) - sent < WAIT_USEC) {
                        struct pollfd p = { .fd = fd, .events = POLLIN };
                        int ms = (int) ((WAIT_USEC - (now - sent)) / 1000) + 1;

                        if (poll(&p, 1, ms) < 0 && errno != EINTR)
                                return 1;
                        r = pod_journal_process(j);
                        if (r >= 0)
                                r = read_available(j, k);
                }
                if (r < 0)
                        return 1;
                if (r == 0) {
                        fprintf(stderr, "journal-follow: line %u of %u not read %llu s after it was printed\n", k, n,
                                (unsigned long long) (WAIT_USEC / USEC_PER_SEC));
                        return 1;
                }
        }
        printf("journal-follow: %u lines read, %u of them after a wake-up\n", k - 1, after_wakeup);
        pod_journal_free(j);
        return 0;
}
