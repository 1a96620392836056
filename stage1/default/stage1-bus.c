/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io-util.h"
#include "macro.h"
#include "stage1-bus.h"
#include "time-util.h"

/* The D-Bus wire format, little-endian, as far as we need it: a 16-byte
 * fixed header (endianness, type, flags, version 1, body length, serial,
 * length of the header field array), the fields (each a byte code and a
 * variant, 8-aligned), padding to 8, the body. */
enum {
        FIELD_MEMBER = 3,
        FIELD_ERROR_NAME = 4,
        FIELD_REPLY_SERIAL = 5,
        FIELD_SENDER = 7,
        FIELD_SIGNATURE = 8,
};

#define TYPE_METHOD_CALL 1
#define TYPE_METHOD_RETURN 2
#define TYPE_ERROR 3
#define FLAG_NO_REPLY_EXPECTED 0x1

/* Any 32 hex digits: sd-bus only checks the form of the server's id. */
#define SERVER_GUID "7065617064737461676531627573696e"

static size_t align_to(size_t x, size_t a) {
        return (x + a - 1) & ~(a - 1);
}

static uint32_t read_le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void write_le32(uint8_t *p, uint32_t v) {
        for (size_t i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

/* A string of the wire at buf[*o] (a 32-bit length, the bytes, a NUL) that
 * ends before end; moves *o past it. */
static int take_string(const uint8_t *buf, size_t end, size_t *o, const char **ret, size_t *ret_len) {
        uint32_t len;

        *o = align_to(*o, 4);
        if (*o > end || end - *o < 4)
                return -EBADMSG;
        len = read_le32(buf + *o);
        *o += 4;
        if (len >= end - *o || buf[*o + len] != 0)
                return -EBADMSG;
        *ret = (const char *) buf + *o;
        *ret_len = len;
        *o += (size_t) len + 1;
        return 0;
}

int stage1_bus_message_parse(const uint8_t *buf, size_t n, Stage1BusMessage *ret) {
        Stage1BusMessage m = {};
        uint32_t body_len, fields_len;
        size_t fields_end, o;

        if (n < 16)
                return 0;
        if (buf[0] != 'l' || buf[3] != 1 || buf[1] < 1 || buf[1] > 4)
                return -EBADMSG;
        m.type = buf[1];
        m.flags = buf[2];
        body_len = read_le32(buf + 4);
        m.serial = read_le32(buf + 8);
        fields_len = read_le32(buf + 12);
        if (m.serial == 0 || fields_len > STAGE1_BUS_MESSAGE_MAX || body_len > STAGE1_BUS_MESSAGE_MAX)
                return -EBADMSG;
        fields_end = 16 + (size_t) fields_len;
        m.size = align_to(fields_end, 8) + body_len;
        if (m.size > STAGE1_BUS_MESSAGE_MAX)
                return -EBADMSG;
        if (n < m.size)
                return 0;

        for (o = 16; o < fields_end;) {
                const char *s;
                size_t len;
                uint8_t code;
                int r;

                o = align_to(o, 8);
                /* code, signature length 1, the type, its NUL */
                if (o > fields_end || fields_end - o < 4 || buf[o + 1] != 1 || buf[o + 3] != 0)
                        return -EBADMSG;
                code = buf[o];
                switch (buf[o + 2]) {
                case 's':
                case 'o':
                        o += 4;
                        r = take_string(buf, fields_end, &o, &s, &len);
                        if (r < 0)
                                return r;
                        if (code == FIELD_MEMBER) {
                                m.member = s;
                                m.member_len = len;
                        }
                        break;
                case 'g':
                        o += 4;
                        if (o >= fields_end)
                                return -EBADMSG;
                        len = buf[o++];
                        if (len >= fields_end - o || buf[o + len] != 0)
                                return -EBADMSG;
                        o += len + 1;
                        break;
                case 'u':
                        o = align_to(o + 4, 4);
                        if (o > fields_end || fields_end - o < 4)
                                return -EBADMSG;
                        o += 4;
                        break;
                default:
                        return -EBADMSG;
                }
        }
        *ret = m;
        return 1;
}

typedef struct Writer {
        uint8_t *buf;
        size_t size, n;
} Writer;

static void put_byte(Writer *w, uint8_t b) {
        if (w->n < w->size)
                w->buf[w->n] = b;
        /* Counted on past the end: the caller compares with size. */
        w->n++;
}

static void put_pad(Writer *w, size_t a) {
        while (w->n % a != 0)
                put_byte(w, 0);
}

static void put_u32(Writer *w, uint32_t v) {
        put_pad(w, 4);
        for (size_t i = 0; i < 4; i++)
                put_byte(w, (uint8_t) (v >> (8 * i)));
}

static void put_bytes(Writer *w, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                put_byte(w, (uint8_t) s[i]);
        put_byte(w, 0);
}

static void put_field_string(Writer *w, uint8_t code, char type, const char *s) {
        size_t n = strlen(s);

        put_pad(w, 8);
        put_byte(w, code);
        put_byte(w, 1);
        put_byte(w, (uint8_t) type);
        put_byte(w, 0);
        if (type == 'g')
                put_byte(w, (uint8_t) n);
        else
                put_u32(w, (uint32_t) n);
        put_bytes(w, s, n);
}

static void put_field_u32(Writer *w, uint8_t code, uint32_t v) {
        put_pad(w, 8);
        put_byte(w, code);
        put_byte(w, 1);
        put_byte(w, 'u');
        put_byte(w, 0);
        put_u32(w, v);
}

/* A reply of type with one string as its body. */
static int build_reply(uint8_t type, uint32_t serial, uint32_t reply_serial, const char *error_name, const char *sender,
                       const char *body, uint8_t *buf, size_t size) {
        Writer w = { .buf = buf, .size = size };
        size_t fields_end, body_start;

        if (strlen(body) > 4096 || (error_name && strlen(error_name) > 255))
                return -EINVAL;
        put_byte(&w, 'l');
        put_byte(&w, type);
        put_byte(&w, FLAG_NO_REPLY_EXPECTED);
        put_byte(&w, 1);
        put_u32(&w, 0); /* body length, filled in below */
        put_u32(&w, serial);
        put_u32(&w, 0); /* header field array length, below */
        put_field_u32(&w, FIELD_REPLY_SERIAL, reply_serial);
        if (error_name)
                put_field_string(&w, FIELD_ERROR_NAME, 's', error_name);
        put_field_string(&w, FIELD_SENDER, 's', sender);
        put_field_string(&w, FIELD_SIGNATURE, 'g', "s");
        fields_end = w.n;
        put_pad(&w, 8);
        body_start = w.n;
        put_u32(&w, (uint32_t) strlen(body));
        put_bytes(&w, body, strlen(body));
        if (w.n > size)
                return -ENOBUFS;
        write_le32(buf + 4, (uint32_t) (w.n - body_start));
        write_le32(buf + 12, (uint32_t) (fields_end - 16));
        return (int) w.n;
}

int stage1_bus_build_hello_reply(uint32_t serial, uint32_t reply_serial, uint8_t *buf, size_t size) {
        return build_reply(TYPE_METHOD_RETURN, serial, reply_serial, NULL, "org.freedesktop.DBus", ":1.1", buf, size);
}

int stage1_bus_build_error(uint32_t serial, uint32_t reply_serial, const char *error_name, const char *message,
                           uint8_t *buf, size_t size) {
        return build_reply(TYPE_ERROR, serial, reply_serial, error_name, "org.freedesktop.systemd1", message, buf, size);
}

/* Reads what is there into buf; descriptors that came along are closed at
 * once (machined passes the shell's terminal). 0 at EOF. */
static ssize_t receive(int fd, uint8_t *buf, size_t size) {
        union {
                struct cmsghdr h;
                uint8_t buf[CMSG_SPACE(sizeof(int) * 16)];
        } control;
        struct iovec iov = { .iov_base = buf, .iov_len = size };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof(control) };
        ssize_t k = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);

        if (k < 0)
                return -errno;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
                if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
                                int passed;

                                memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                                (void) close(passed);
                        }
        return k;
}

/* The SASL part: everything up to "BEGIN\r\n" (sd-bus sends its lines at
 * once); returns how many bytes it took, 0 when it needs more. */
static int auth(int fd, const uint8_t *buf, size_t n) {
        const uint8_t *begin = memmem(buf, n, "BEGIN\r\n", 7);
        char ok[64];
        size_t used;
        int r;

        if (n >= 1 && buf[0] != 0)
                return -EBADMSG;
        if (!begin)
                return n >= 4096 ? -EBADMSG : 0;
        used = (size_t) (begin - buf) + 7;
        if (used < 6 || memcmp(buf + 1, "AUTH ", 5) != 0)
                return -EBADMSG;
        /* "AUTH EXTERNAL" without an initial response (sd-bus since 240,
         * followed by an empty "DATA") asks for a challenge first: an
         * empty "DATA". sd-bus refuses to send a message with descriptors
         * unless we agree to them; machined's StartTransientUnit carries
         * the terminal. */
        snprintf(ok, sizeof(ok), "%sOK " SERVER_GUID "\r\n%s",
                 used >= 16 && memcmp(buf + 1, "AUTH EXTERNAL\r\n", 15) == 0 ? "DATA\r\n" : "",
                 memmem(buf, used, "NEGOTIATE_UNIX_FD\r\n", 19) ? "AGREE_UNIX_FD\r\n" : "");
        r = loop_send(fd, ok, strlen(ok));
        return r < 0 ? r : (int) used;
}

/* A method call that expects a reply gets one: Hello its name, anything
 * else the error. */
static int answer(int fd, const Stage1BusMessage *m, uint32_t *serial, const char *error_name, const char *message) {
        uint8_t out[8192];
        int len;

        if (m->type != TYPE_METHOD_CALL || (m->flags & FLAG_NO_REPLY_EXPECTED))
                return 0;
        if (m->member && m->member_len == 5 && memcmp(m->member, "Hello", 5) == 0)
                len = stage1_bus_build_hello_reply(++*serial, m->serial, out, sizeof(out));
        else
                len = stage1_bus_build_error(++*serial, m->serial, error_name, message, out, sizeof(out));
        if (len < 0)
                return len;
        return loop_send(fd, out, (size_t) len);
}

int stage1_bus_serve(int fd, const char *error_name, const char *message, uint64_t timeout_usec) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        _cleanup_free_ uint8_t *buf = NULL;
        struct ucred cred;
        socklen_t cred_len = sizeof(cred);
        uint32_t serial = 0;
        bool authed = false;
        size_t n = 0;
        int r;

        /* Only root reaches the socket anyway (see stage1-bus.h); we are
         * root: nobody else is answered. */
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) < 0)
                return -errno;
        if (cred.uid != geteuid())
                return -EPERM;
        buf = malloc(STAGE1_BUS_MESSAGE_MAX);
        if (!buf)
                return -ENOMEM;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now;
                ssize_t k;

                if (!authed) {
                        r = auth(fd, buf, n);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                memmove(buf, buf + r, n - (size_t) r);
                                n -= (size_t) r;
                                authed = true;
                                continue;
                        }
                } else {
                        Stage1BusMessage m;

                        r = stage1_bus_message_parse(buf, n, &m);
                        if (r < 0)
                                return r;
                        if (r > 0) {
                                r = answer(fd, &m, &serial, error_name, message);
                                if (r < 0)
                                        return r;
                                memmove(buf, buf + m.size, n - m.size);
                                n -= m.size;
                                continue;
                        }
                }

                now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        return -ETIMEDOUT;
                r = poll(&p, 1, (int) ((deadline - now + 999) / 1000));
                if (r < 0 && errno != EINTR)
                        return -errno;
                if (r <= 0)
                        continue;
                /* A message is at most STAGE1_BUS_MESSAGE_MAX, so with a
                 * whole one not yet there, there is room. */
                k = receive(fd, buf + n, STAGE1_BUS_MESSAGE_MAX - n);
                if (k == -EAGAIN || k == -EINTR)
                        continue;
                if (k < 0)
                        return (int) k;
                if (k == 0)
                        return 0;
                n += (size_t) k;
        }
}
