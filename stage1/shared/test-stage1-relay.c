/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The app helpers' relay (stage1-relay.h): what goes into the one journald
 * stream for what an app writes, byte for byte, as journald reads it. */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "macro.h"
#include "stage1-relay.h"
#include "tests.h"

static int sock[2];
static Stage1Relay *relay;

static void relay_open(void) {
        ASSERT_TRUE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock) >= 0);
        /* Room for the long lines below without a reader. */
        (void) setsockopt(sock[0], SOL_SOCKET, SO_SNDBUF, &(int) { 4 * 1024 * 1024 }, sizeof(int));
        (void) setsockopt(sock[1], SOL_SOCKET, SO_RCVBUF, &(int) { 4 * 1024 * 1024 }, sizeof(int));
        relay = stage1_relay_new(sock[0], "app", true);
        ASSERT_TRUE(relay);
}

static void relay_close(void) {
        relay = stage1_relay_free(relay);
        safe_close(sock[1]);
}

/* Everything the stream holds now, NUL-terminated (static). */
static const char *stream_text(size_t *ret_len) {
        static char buf[4 * 1024 * 1024];
        size_t len = 0;

        for (;;) {
                ssize_t n = recv(sock[1], buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);

                if (n <= 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        if (ret_len)
                *ret_len = len;
        return buf;
}

static void feed(size_t index, const char *s, bool final) {
        stage1_relay_feed(relay, index, s, strlen(s), final);
}

TEST(lines) {
        int p[2][2];

        relay_open();
        for (int i = 0; i < 2; i++)
                ASSERT_TRUE(pipe2(p[i], O_CLOEXEC) >= 0);
        ASSERT_TRUE(stage1_relay_add(relay, p[0][0], LOG_INFO) == 0);
        ASSERT_TRUE(stage1_relay_add(relay, p[1][0], LOG_ERR) == 1);

        /* Whole lines, each with its source's prefix. */
        feed(0, "a\nb\n", false);
        feed(1, "e\n", false);
        ASSERT_STREQ(stream_text(NULL), "<6>a\n<6>b\n<3>e\n");

        /* A NUL ends a line as a newline does; empty lines go nowhere. */
        stage1_relay_feed(relay, 0, "x\0y\n\n\n", 6, false);
        ASSERT_STREQ(stream_text(NULL), "<6>x\n<6>y\n");

        /* A partial line waits while the other source's lines go out. */
        feed(0, "par", false);
        feed(1, "err\n", false);
        ASSERT_STREQ(stream_text(NULL), "<3>err\n");
        feed(0, "tial\n", false);
        ASSERT_STREQ(stream_text(NULL), "<6>partial\n");

        /* The app's own "<N>" is text behind ours. */
        feed(1, "<6>not stdout\n", false);
        ASSERT_STREQ(stream_text(NULL), "<3><6>not stdout\n");

        /* What is left unended when the source ends is a line. */
        feed(0, "tail", true);
        ASSERT_STREQ(stream_text(NULL), "<6>tail\n");

        /* From a pipe: read, and its end. */
        ASSERT_TRUE(write(p[1][1], "one\ntw", 6) == 6);
        ASSERT_TRUE(stage1_relay_read(relay, 1));
        ASSERT_STREQ(stream_text(NULL), "<3>one\n");
        ASSERT_TRUE(write(p[1][1], "o", 1) == 1);
        safe_close(p[1][1]);
        ASSERT_FALSE(stage1_relay_read(relay, 1));
        ASSERT_TRUE(stage1_relay_fd(relay, 1) < 0);
        ASSERT_STREQ(stream_text(NULL), "<3>two\n");

        /* finish: what the other pipe still holds. */
        ASSERT_TRUE(write(p[0][1], "last\nunended", 12) == 12);
        stage1_relay_finish(relay);
        ASSERT_STREQ(stream_text(NULL), "<6>last\n<6>unended\n");
        safe_close(p[0][1]);
        relay_close();
}

TEST(long_line) {
        size_t n = 2 * STAGE1_RELAY_PIECE_MAX + 5, len;
        char *line = malloc(n + 1), *want;
        const char *got;
        int p[2];

        relay_open();
        ASSERT_TRUE(pipe2(p, O_CLOEXEC) >= 0);
        ASSERT_TRUE(stage1_relay_add(relay, p[0], LOG_ERR) == 0);
        memset(line, 'x', n);
        line[n] = '\n';
        stage1_relay_feed(relay, 0, line, n + 1, false);
        /* Two pieces of exactly LineMax bytes, prefix included and no
         * newline (journald ends them: line-max), then the rest. */
        got = stream_text(&len);
        ASSERT_TRUE(len == 2 * STAGE1_RELAY_LINE_MAX + 3 + 5 + 1);
        want = malloc(len + 1);
        ASSERT_TRUE(want);
        for (size_t piece = 0; piece < 2; piece++) {
                memcpy(want + piece * STAGE1_RELAY_LINE_MAX, "<3>", 3);
                memset(want + piece * STAGE1_RELAY_LINE_MAX + 3, 'x', STAGE1_RELAY_PIECE_MAX);
        }
        memcpy(want + 2 * STAGE1_RELAY_LINE_MAX, "<3>xxxxx\n", 9);
        ASSERT_TRUE(memcmp(got, want, len) == 0);
        free(want);
        free(line);
        safe_close(p[1]);
        relay_close();
}

TEST(stream_gone) {
        int p[2];

        /* journald refused the stream or went away: the app's output is
         * still read (it goes to the system journal's stream, or nowhere
         * without one), no signal, nothing the app would notice. */
        relay_open();
        ASSERT_TRUE(pipe2(p, O_CLOEXEC) >= 0);
        ASSERT_TRUE(stage1_relay_add(relay, p[0], LOG_INFO) == 0);
        sock[1] = safe_close(sock[1]);
        for (int i = 0; i < 100; i++) {
                ASSERT_TRUE(write(p[1], "more of the app's output\n", 25) == 25);
                ASSERT_TRUE(stage1_relay_read(relay, 0));
        }
        safe_close(p[1]);
        ASSERT_FALSE(stage1_relay_read(relay, 0));
        relay = stage1_relay_free(relay);
}

int main(void) {
        /* The default disposition, as in a helper's child: the relay itself
         * must not raise SIGPIPE. */
        (void) signal(SIGPIPE, SIG_DFL);
        test_lines();
        test_long_line();
        test_stream_gone();
        return 0;
}
