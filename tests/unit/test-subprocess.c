/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one way peapod runs helper programs (subprocess.h): synchronously and
 * on an sd-event loop, with /bin/sh standing in for plugins and iptables. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "macro.h"
#include "string-util.h"
#include "strv.h"
#include "subprocess.h"
#include "tests.h"
#include "time-util.h"

static int sh(const char *script, const char *input, size_t out_max, size_t err_max, bool tail, uint64_t timeout,
              SpawnResult *ret) {
        return spawn_run(&(SpawnOptions) {
                                 .path = "/bin/sh",
                                 .argv = STRV_MAKE("sh", "-c", script),
                                 .env = STRV_MAKE("PATH=/usr/bin:/bin", "ONLY=this"),
                                 .input = input,
                                 .input_size = input ? strlen(input) : 0,
                                 .out_max = out_max,
                                 .err_max = err_max,
                                 .err_keep_tail = tail,
                                 .timeout_usec = timeout,
                         },
                         ret);
}

TEST(sync) {
        SpawnResult res = {};
        int fd;

        /* stdin in, stdout out, the exit status. */
        ASSERT_OK(sh("tr a-z A-Z; exit 3", "hello", 100, 100, false, 0, &res));
        ASSERT_TRUE(res.code == CLD_EXITED && res.status == 3);
        ASSERT_STREQ(res.out, "HELLO");
        ASSERT_STREQ(res.err, "");
        spawn_result_done(&res);

        /* Only the environment given; no fd of ours beyond 0-2 (this one
         * is not O_CLOEXEC on purpose). */
        fd = open("/dev/null", O_RDONLY);
        ASSERT_TRUE(fd >= 3);
        ASSERT_OK(sh("env | sort; ls /proc/self/fd | sort -n | tr '\\n' ' '", NULL, 1000, 0, false, 0, &res));
        close(fd);
        ASSERT_TRUE(strstr(res.out, "ONLY=this\n"));
        ASSERT_FALSE(strstr(res.out, "HOME="));
        /* 0 1 2, and 3, the fd ls opens for the directory */
        ASSERT_TRUE(endswith(res.out, "\n0 1 2 3 "));
        spawn_result_done(&res);

        /* stderr: the head or the tail. */
        ASSERT_OK(sh("printf 0123456789 >&2", NULL, 0, 4, false, 0, &res));
        ASSERT_STREQ(res.err, "0123");
        ASSERT_TRUE(res.out == NULL);
        spawn_result_done(&res);
        ASSERT_OK(sh("printf 01234 >&2; printf 56789 >&2", NULL, 0, 4, true, 0, &res));
        ASSERT_STREQ(res.err, "6789");
        spawn_result_done(&res);

        /* A program that does not read its input is no harm (no SIGPIPE). */
        {
                _cleanup_free_ char *big = malloc(1 << 20);
                ASSERT_TRUE(big);
                memset(big, 'x', (1 << 20) - 1);
                big[(1 << 20) - 1] = 0;
                ASSERT_OK(sh("exit 0", big, 10, 10, false, 0, &res));
                ASSERT_TRUE(res.code == CLD_EXITED && res.status == 0);
                spawn_result_done(&res);
                /* and one that reads it all gets it all */
                ASSERT_OK(sh("wc -c", big, 100, 10, false, 0, &res));
                ASSERT_TRUE(atoi(res.out) == (1 << 20) - 1);
                spawn_result_done(&res);
        }

        /* One fd passed on as 3 (a readiness pipe), nothing else. */
        {
                int p[2];
                char buf[16] = {};

                ASSERT_TRUE(pipe2(p, O_CLOEXEC) == 0);
                ASSERT_OK(spawn_run(&(SpawnOptions) { .path = "/bin/sh",
                                                       .argv = STRV_MAKE("sh", "-c", "echo ready >&3; ls /proc/self/fd | tr '\\n' ' '"),
                                                       .out_max = 100, .pass_fd = p[1] },
                                    &res));
                close(p[1]);
                ASSERT_TRUE(read(p[0], buf, sizeof(buf) - 1) == 6);
                ASSERT_STREQ(buf, "ready\n");
                close(p[0]);
                ASSERT_STREQ(res.out, "0 1 2 3 4 ");
                spawn_result_done(&res);
        }

        /* Signals, too much output, the deadline, a missing program. */
        ASSERT_OK(sh("kill -SEGV $$", NULL, 10, 10, false, 0, &res));
        ASSERT_TRUE((res.code == CLD_KILLED || res.code == CLD_DUMPED) && res.status == SIGSEGV);
        spawn_result_done(&res);
        ASSERT_ERR(sh("head -c 5000 /dev/zero", NULL, 4096, 10, false, 0, &res), EFBIG);
        {
                uint64_t t = now_usec(CLOCK_MONOTONIC);
                ASSERT_ERR(sh("exec sleep 30", NULL, 10, 10, false, 200 * 1000, &res), ETIMEDOUT);
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) - t < 5 * USEC_PER_SEC);
        }
        ASSERT_ERR(spawn_run(&(SpawnOptions) { .path = "/nonexistent/x", .argv = STRV_MAKE("x") }, &res), ENOENT);
}

typedef struct Done {
        int n, error[2];
        char *out[2];
        uint64_t at[2];
        int ticks;
} Done;

static void on_done(Spawn *s, int error, SpawnResult *res, void *userdata) {
        Done *d = userdata;
        int i = d->n++;

        d->error[i] = error;
        d->at[i] = now_usec(CLOCK_MONOTONIC);
        if (error >= 0)
                d->out[i] = TAKE_PTR(res->out);
        spawn_free(s);
}

static int on_tick(sd_event_source *es, uint64_t usec, void *userdata) {
        Done *d = userdata;

        d->ticks++;
        if (d->n < 2) {
                (void) sd_event_source_set_time_relative(es, 20 * 1000);
                (void) sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        }
        return 0;
}

/* Two programs at once on one loop: both end, in the order they finish,
 * and the loop keeps serving a timer meanwhile. */
TEST(async) {
        SpawnLoop l;
        Spawn *a = NULL, *b = NULL, *c = NULL;
        sd_event_source *tick = NULL;
        Done d = {};
        bool done = false;

        ASSERT_OK(spawn_loop_open(&l));
        ASSERT_OK(spawn_start(l.event,
                              &(SpawnOptions) { .path = "/bin/sh", .argv = STRV_MAKE("sh", "-c", "sleep 0.4; echo slow"),
                                                .env = STRV_MAKE("PATH=/usr/bin:/bin"), .out_max = 100 },
                              on_done, &d, &a));
        ASSERT_OK(spawn_start(l.event,
                              &(SpawnOptions) { .path = "/bin/sh", .argv = STRV_MAKE("sh", "-c", "cat"),
                                                .input = "fast", .input_size = 4, .out_max = 100 },
                              on_done, &d, &b));
        /* A third, cancelled: freed while it runs, killed, never called back. */
        ASSERT_OK(spawn_start(l.event, &(SpawnOptions) { .path = "/bin/sleep", .argv = STRV_MAKE("sleep", "30") },
                              on_done, &d, &c));
        spawn_free(c);
        ASSERT_OK(sd_event_add_time_relative(l.event, &tick, CLOCK_MONOTONIC, 20 * 1000, 1000, on_tick, &d));
        while (d.n < 2)
                ASSERT_OK(sd_event_run(l.event, UINT64_MAX));
        ASSERT_TRUE(d.error[0] == 0 && d.error[1] == 0);
        ASSERT_STREQ(d.out[0], "fast");
        ASSERT_STREQ(d.out[1], "slow\n");
        ASSERT_TRUE(d.ticks >= 5);
        done = true;
        ASSERT_OK(spawn_loop_run(&l, &done));
        sd_event_source_unref(tick);
        spawn_loop_close(&l);
        free(d.out[0]);
        free(d.out[1]);
}

/* The form Pod.Exec uses: the caller's fds as stdio, one fd passed on as
 * 3, a session of its own, nothing else. */
TEST(stdio) {
        _cleanup_close_pair_ int out[2] = { -EBADF, -EBADF }, gate[2] = { -EBADF, -EBADF };
        _cleanup_close_ int null = -EBADF, stray = -EBADF;
        SpawnResult res = {};
        char buf[512] = {};
        ssize_t n;

        ASSERT_TRUE(pipe2(out, O_CLOEXEC) >= 0);
        ASSERT_TRUE(pipe2(gate, O_CLOEXEC) >= 0);
        null = open("/dev/null", O_RDWR | O_CLOEXEC);
        stray = open("/dev/null", O_RDONLY); /* not O_CLOEXEC: must not reach it */
        ASSERT_TRUE(null >= 0 && stray >= 0);
        ASSERT_TRUE(write(gate[1], "g", 1) == 1);
        ASSERT_OK(spawn_run(&(SpawnOptions) {
                                    .path = "/bin/sh",
                                    .argv = STRV_MAKE("sh", "-c",
                                                      "read -r -n 1 g <&3 2>/dev/null || head -c 1 <&3; echo; "
                                                      "ls /proc/self/fd | sort -n | tr '\\n' ' '; echo; "
                                                      "[ \"$(cut -d' ' -f6 /proc/self/stat)\" = $$ ] && echo leader"),
                                    .env = STRV_MAKE("PATH=/usr/bin:/bin"),
                                    .stdio = (const int[3]) { null, out[1], null },
                                    .pass_fd = gate[0],
                                    .new_session = true,
                            },
                            &res));
        ASSERT_TRUE(res.code == CLD_EXITED && res.status == 0);
        ASSERT_TRUE(res.out == NULL && res.err == NULL);
        out[1] = safe_close(out[1]);
        n = read(out[0], buf, sizeof(buf) - 1);
        ASSERT_TRUE(n > 0);
        /* 0 1 2, the gate, and the fd ls opens for the directory */
        ASSERT_TRUE(strstr(buf, "\n0 1 2 3 4 \n"));
        ASSERT_TRUE(strstr(buf, "leader\n"));
}

int main(void) {
        test_sync();
        test_async();
        test_stdio();
        return 0;
}
