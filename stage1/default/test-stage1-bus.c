/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <systemd/sd-bus.h>

#include "macro.h"
#include "stage1-bus.h"
#include "tests.h"

#define ERROR_NAME "org.freedesktop.DBus.Error.NotSupported"
#define MESSAGE "use 'peapod enter POD'"

/* sd-bus as machined uses it on a container's bus: a bus client (Hello
 * first) that passes descriptors, calling systemd's StartTransientUnit and
 * StartUnit; both get our error, by name and message. */
TEST(sd_bus_client) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus *bus = NULL;
        const char *unique = NULL;
        int s[2], status, null_fd;
        pid_t pid;

        ASSERT_TRUE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                close(s[0]);
                int q = stage1_bus_serve(s[1], ERROR_NAME, MESSAGE, 10 * 1000000ULL);
                if (q < 0)
                        fprintf(stderr, "serve: %s\n", strerror(-q));
                _exit(q == 0 ? 0 : 1);
        }
        close(s[1]);

        ASSERT_OK(sd_bus_new(&bus));
        ASSERT_OK(sd_bus_set_fd(bus, s[0], s[0]));
        ASSERT_OK(sd_bus_set_bus_client(bus, 1));
        ASSERT_OK(sd_bus_negotiate_fds(bus, 1));
        ASSERT_OK(sd_bus_start(bus));

        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        ASSERT_TRUE(null_fd >= 0);
        ASSERT_TRUE(sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "StartTransientUnit", &error, NULL, "ssa(sv)a(sa(sv))",
                                       "container-shell@1.service", "fail", 1, "StandardInputFileDescriptor", "h", null_fd,
                                       0) < 0);
        ASSERT_STREQ(error.name, ERROR_NAME);
        ASSERT_STREQ(error.message, MESSAGE);
        sd_bus_error_free(&error);
        /* Hello was answered, descriptors were agreed to. */
        ASSERT_OK(sd_bus_get_unique_name(bus, &unique));
        ASSERT_STREQ(unique, ":1.1");
        ASSERT_TRUE(sd_bus_can_send(bus, 'h') > 0);
        ASSERT_TRUE(sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                       "org.freedesktop.systemd1.Manager", "StartUnit", &error, NULL, "ss",
                                       "container-getty@1.service", "replace") < 0);
        ASSERT_STREQ(error.name, ERROR_NAME);
        close(null_fd);

        sd_bus_flush_close_unref(bus);
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A peer that is not an sd-bus client gets nothing and is dropped. */
TEST(bad_peers) {
#define INPUT(s) { s, sizeof(s) - 1 }
        static const struct {
                const char *s;
                size_t n;
        } inputs[] = {
                INPUT("GET / HTTP/1.0\r\n\r\n"),
                INPUT("\0AUTH EXTERNAL 30\r\nBEGIN\r\nlong enough to hold a header but not one"),
        };

        for (size_t i = 0; i < ELEMENTSOF(inputs); i++) {
                int s[2];

                ASSERT_TRUE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);
                ASSERT_TRUE(write(s[0], inputs[i].s, inputs[i].n) == (ssize_t) inputs[i].n);
                ASSERT_TRUE(stage1_bus_serve(s[1], ERROR_NAME, MESSAGE, 2 * 1000000ULL) == -EBADMSG);
                close(s[0]);
                close(s[1]);
        }
}

static size_t hello_call(uint8_t *b) {
        /* A Hello as sd-bus writes it: header, PATH, MEMBER, no body. */
        static const uint8_t m[] = {
                'l', 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 30, 0, 0, 0,
                1, 1, 'o', 0, 1, 0, 0, 0, '/', 0, 0, 0, 0, 0, 0, 0,
                3, 1, 's', 0, 5, 0, 0, 0, 'H', 'e', 'l', 'l', 'o', 0,
        };
        memcpy(b, m, sizeof(m));
        return sizeof(m);
}

TEST(parse) {
        uint8_t b[256], out[512];
        Stage1BusMessage m;
        size_t n = hello_call(b);
        int len;

        /* The fields end at 46, the body (none) starts at 48. */
        ASSERT_TRUE(stage1_bus_message_parse(b, n, &m) == 0); /* padding to 8 missing */
        memset(b + n, 0, 2);
        ASSERT_TRUE(stage1_bus_message_parse(b, n + 2, &m) == 1);
        ASSERT_TRUE(m.type == 1 && m.serial == 1 && m.size == 48 && m.member_len == 5 && memcmp(m.member, "Hello", 5) == 0);
        for (size_t k = 0; k < 48; k++)
                ASSERT_TRUE(stage1_bus_message_parse(b, k, &m) <= 0);

        /* Big-endian, version 2, serial 0, a string running past the
         * fields, an unknown field type, lengths beyond the bound. */
        b[0] = 'B';
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == -EBADMSG);
        b[0] = 'l';
        b[3] = 2;
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == -EBADMSG);
        b[3] = 1;
        b[8] = 0;
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == -EBADMSG);
        b[8] = 1;
        b[36] = 200;
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == -EBADMSG);
        b[36] = 5;
        b[34] = 'x';
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == -EBADMSG);
        b[34] = 's';
        b[7] = 0x7f;
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == -EBADMSG);
        b[7] = 0;
        b[15] = 0x7f;
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == -EBADMSG);
        b[15] = 0;
        ASSERT_TRUE(stage1_bus_message_parse(b, 48, &m) == 1);

        /* What we write parses back. */
        len = stage1_bus_build_error(7, 1, ERROR_NAME, MESSAGE, out, sizeof(out));
        ASSERT_TRUE(len > 0);
        ASSERT_TRUE(stage1_bus_message_parse(out, (size_t) len, &m) == 1);
        ASSERT_TRUE(m.type == 3 && m.serial == 7 && m.size == (size_t) len && !m.member);
        ASSERT_TRUE(stage1_bus_build_error(7, 1, ERROR_NAME, MESSAGE, out, 40) == -ENOBUFS);
        len = stage1_bus_build_hello_reply(8, 1, out, sizeof(out));
        ASSERT_TRUE(len > 0);
        ASSERT_TRUE(stage1_bus_message_parse(out, (size_t) len, &m) == 1);
        ASSERT_TRUE(m.type == 2 && m.serial == 8);
}

int main(void) {
        (void) signal(SIGPIPE, SIG_IGN);
        test_parse();
        test_bad_peers();
        test_sd_bus_client();
        return 0;
}
