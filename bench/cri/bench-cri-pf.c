/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-cri-pf: pulls one file through a CRI port-forward URL over
 * WebSocket (`v4.channel.k8s.io`, the protocol kubelet's streaming server,
 * vendored by containerd, and peapod-cri both speak) and prints how fast
 * the body came:
 *
 *   bench-cri-pf --url=http://ADDR:PORT/portforward/TOKEN --port=N [--path=/big]
 *   bench-cri-pf --direct=ADDR:PORT [--path=/big]     the same request over plain TCP
 *
 * The request is HTTP/1.0 GET PATH on the port's data channel (0); the
 * clock runs from the request to the body's last byte (its Content-Length),
 * not to the close: containerd lingers up to 1 s after the pod's side ends,
 * waiting for a client half-close that WebSocket cannot express. Prints
 * one line: bytes=, seconds=, mib_s=. A compiled client, so that at GiB/s
 * the figures are the server's, not a Python loop's. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (1024 * 1024)
#define HEAD_MAX 16384

static const char *arg_url;
static const char *arg_direct;
static const char *arg_path = "/big";
static unsigned arg_port;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static int dial(const char *host, const char *port) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai;
        int fd, r;

        r = getaddrinfo(host, port, &hints, &ai);
        if (r != 0) {
                fprintf(stderr, "bench-cri-pf: %s:%s: %s\n", host, port, gai_strerror(r));
                return -EHOSTUNREACH;
        }
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                r = -errno;
                fprintf(stderr, "bench-cri-pf: connecting to %s:%s: %s\n", host, port, strerror(errno));
                if (fd >= 0)
                        close(fd);
                freeaddrinfo(ai);
                return r;
        }
        freeaddrinfo(ai);
        return fd;
}

static int write_all(int fd, const void *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p = (const char *) p + k;
                n -= (size_t) k;
        }
        return 0;
}

/* The HTTP response arriving on the data stream: its head is gathered
 * until the blank line, then only counted. */
typedef struct Body {
        char head[HEAD_MAX];
        size_t head_len;
        bool head_done;
        uint64_t length;        /* Content-Length */
        uint64_t got;
        uint64_t done_at;       /* ns, when got reached length */
} Body;

static int body_feed(Body *b, const uint8_t *p, size_t n) {
        if (!b->head_done) {
                size_t k = n < sizeof(b->head) - 1 - b->head_len ? n : sizeof(b->head) - 1 - b->head_len;
                char *end, *cl;

                memcpy(b->head + b->head_len, p, k);
                b->head_len += k;
                b->head[b->head_len] = 0;
                end = strstr(b->head, "\r\n\r\n");
                if (!end) {
                        if (b->head_len == sizeof(b->head) - 1)
                                return -EBADMSG;
                        return 0;
                }
                b->head_done = true;
                if (strncmp(b->head, "HTTP/1.", 7) != 0 || strncmp(b->head + 8, " 200", 4) != 0) {
                        fprintf(stderr, "bench-cri-pf: the server answered: %.*s\n", (int) (end - b->head), b->head);
                        return -EBADMSG;
                }
                cl = strcasestr(b->head, "\r\nContent-Length:");
                if (!cl || cl > end) {
                        fprintf(stderr, "bench-cri-pf: no Content-Length in the answer\n");
                        return -EBADMSG;
                }
                b->length = strtoull(cl + 17, NULL, 10);
                /* What came after the blank line in this piece is body. */
                k = (size_t) (end + 4 - b->head) - (b->head_len - k);
                p += k;
                n -= k;
        }
        b->got += n;
        if (b->got >= b->length && b->done_at == 0)
                b->done_at = now_ns();
        return 0;
}

/* A WebSocket frame from the client: masked, as RFC 6455 requires. */
static int ws_send(int fd, uint8_t channel, const char *data) {
        size_t n = strlen(data) + 1;
        uint8_t frame[14 + 1024], mask[4] = { 0x12, 0x34, 0x56, 0x78 };
        size_t h = 0;

        if (n > 1024)
                return -E2BIG;
        frame[h++] = 0x82;      /* FIN, binary */
        if (n < 126)
                frame[h++] = 0x80 | (uint8_t) n;
        else {
                frame[h++] = 0x80 | 126;
                frame[h++] = (uint8_t) (n >> 8);
                frame[h++] = (uint8_t) n;
        }
        memcpy(frame + h, mask, 4);
        h += 4;
        for (size_t i = 0; i < n; i++)
                frame[h + i] = (uint8_t) ((i == 0 ? channel : (uint8_t) data[i - 1]) ^ mask[i % 4]);
        return write_all(fd, frame, h + n);
}

/* Frames from the server, parsed as they stream by (a frame may be larger
 * than what one read brings). Channel 0 is the data, 1 the error; each
 * channel's first 2 bytes are the port. */
typedef struct Ws {
        uint8_t hdr[14];
        size_t hdr_len;
        uint64_t remaining;     /* payload bytes of the current frame */
        uint8_t opcode;
        bool need_channel;
        int channel;
        unsigned prefix_left[2];
        char error[1024];
        size_t error_len;
        bool closed;
} Ws;

static size_t ws_header_size(const uint8_t *h, size_t n) {
        size_t need = 2;

        if (n < 2)
                return 0;
        if ((h[1] & 0x7f) == 126)
                need += 2;
        else if ((h[1] & 0x7f) == 127)
                need += 8;
        if (h[1] & 0x80)
                need += 4;
        return need;
}

static int ws_feed(Ws *w, Body *b, const uint8_t *p, size_t n) {
        while (n > 0) {
                if (w->remaining == 0) {
                        size_t need;

                        w->hdr[w->hdr_len++] = *p++;
                        n--;
                        need = ws_header_size(w->hdr, w->hdr_len);
                        if (need == 0 || w->hdr_len < need)
                                continue;
                        if (w->hdr[1] & 0x80) {
                                fprintf(stderr, "bench-cri-pf: a masked frame from the server\n");
                                return -EBADMSG;
                        }
                        uint64_t len = w->hdr[1] & 0x7f;
                        if (len == 126)
                                len = (uint64_t) w->hdr[2] << 8 | w->hdr[3];
                        else if (len == 127) {
                                len = 0;
                                for (int i = 0; i < 8; i++)
                                        len = len << 8 | w->hdr[2 + i];
                        }
                        uint8_t op = w->hdr[0] & 0x0f;
                        if (op == 8) {
                                w->closed = true;
                                return 0;
                        }
                        if (op == 1 || op == 2) {
                                w->opcode = op;
                                w->need_channel = true;
                        } else if (op != 0)
                                w->opcode = op;         /* ping, pong: skipped */
                        w->remaining = len;
                        w->hdr_len = 0;
                        continue;
                }

                size_t k = n < w->remaining ? n : (size_t) w->remaining;
                const uint8_t *q = p;
                size_t m = k;
                p += k;
                n -= k;
                w->remaining -= k;
                if (w->opcode != 1 && w->opcode != 2)
                        continue;
                if (w->need_channel) {
                        w->channel = *q++;
                        m--;
                        w->need_channel = false;
                }
                if (w->channel > 1)
                        continue;
                while (m > 0 && w->prefix_left[w->channel] > 0) {
                        q++;
                        m--;
                        w->prefix_left[w->channel]--;
                }
                if (w->channel == 0) {
                        int r = body_feed(b, q, m);
                        if (r < 0)
                                return r;
                } else {
                        size_t c = m < sizeof(w->error) - 1 - w->error_len ? m : sizeof(w->error) - 1 - w->error_len;
                        memcpy(w->error + w->error_len, q, c);
                        w->error_len += c;
                }
        }
        return 0;
}

static int upgrade(int fd, const char *path, uint8_t *rest, size_t *ret_rest) {
        char req[2048], head[HEAD_MAX];
        size_t len = 0;
        char *end;
        int r;

        r = snprintf(req, sizeof(req),
                     "GET %s?port=%u HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: YmVuY2gtY3JpLXBmLWtleQ==\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Protocol: v4.channel.k8s.io\r\n\r\n", path, arg_port);
        if (r < 0 || (size_t) r >= sizeof(req))
                return -E2BIG;
        r = write_all(fd, req, (size_t) r);
        if (r < 0)
                return r;
        for (;;) {
                ssize_t k = read(fd, head + len, sizeof(head) - 1 - len);
                if (k <= 0) {
                        fprintf(stderr, "bench-cri-pf: the connection ended during the upgrade\n");
                        return -ECONNRESET;
                }
                len += (size_t) k;
                head[len] = 0;
                end = strstr(head, "\r\n\r\n");
                if (end)
                        break;
                if (len == sizeof(head) - 1)
                        return -EBADMSG;
        }
        if (strncmp(head, "HTTP/1.1 101", 12) != 0 || !strcasestr(head, "\r\nSec-WebSocket-Protocol: v4.channel.k8s.io")) {
                fprintf(stderr, "bench-cri-pf: the upgrade was answered: %.*s\n", (int) (end - head), head);
                return -EPROTO;
        }
        *ret_rest = len - (size_t) (end + 4 - head);
        memcpy(rest, end + 4, *ret_rest);
        return 0;
}

static int pull(void) {
        static uint8_t buf[BUF_SIZE];
        char request[512];
        Body body = {};
        Ws ws = { .prefix_left = { 2, 2 } };
        uint64_t start;
        size_t rest = 0;
        int fd, r;

        r = snprintf(request, sizeof(request), "GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n", arg_path);
        if (r < 0 || (size_t) r >= sizeof(request))
                return -E2BIG;

        if (arg_direct) {
                char host[256];
                const char *colon = strrchr(arg_direct, ':');

                if (!colon || (size_t) (colon - arg_direct) >= sizeof(host))
                        return -EINVAL;
                memcpy(host, arg_direct, (size_t) (colon - arg_direct));
                host[colon - arg_direct] = 0;
                fd = dial(host, colon + 1);
                if (fd < 0)
                        return fd;
                start = now_ns();
                r = write_all(fd, request, strlen(request));
        } else {
                char host[256], port[16];
                const char *p = arg_url + strlen("http://"), *colon, *slash;

                if (strncmp(arg_url, "http://", 7) != 0 || !(slash = strchr(p, '/')) ||
                    !(colon = memchr(p, ':', (size_t) (slash - p))) || (size_t) (colon - p) >= sizeof(host) ||
                    (size_t) (slash - colon - 1) >= sizeof(port)) {
                        fprintf(stderr, "bench-cri-pf: not an http://ADDR:PORT/PATH URL: %s\n", arg_url);
                        return -EINVAL;
                }
                memcpy(host, p, (size_t) (colon - p));
                host[colon - p] = 0;
                memcpy(port, colon + 1, (size_t) (slash - colon - 1));
                port[slash - colon - 1] = 0;
                fd = dial(host, port);
                if (fd < 0)
                        return fd;
                r = upgrade(fd, slash, buf, &rest);
                if (r < 0) {
                        close(fd);
                        return r;
                }
                start = now_ns();
                r = ws_send(fd, 0, request);
                if (r >= 0 && rest > 0)
                        r = ws_feed(&ws, &body, buf, rest);
        }
        if (r < 0) {
                close(fd);
                return r;
        }

        while (!body.done_at && !ws.closed) {
                ssize_t k = read(fd, buf, sizeof(buf));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                r = arg_direct ? body_feed(&body, buf, (size_t) k) : ws_feed(&ws, &body, buf, (size_t) k);
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        close(fd);
        if (!body.done_at) {
                fprintf(stderr, "bench-cri-pf: the stream ended after %" PRIu64 " of %" PRIu64 " body bytes%s%.*s\n",
                        body.got, body.length, ws.error_len ? "; error channel: " : "", (int) ws.error_len, ws.error);
                return -EPIPE;
        }
        double seconds = (double) (body.done_at - start) / 1e9;
        printf("bytes=%" PRIu64 " seconds=%.3f mib_s=%.1f\n", body.got, seconds, (double) body.got / seconds / 1048576.0);
        return 0;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "url",    required_argument, NULL, 'u' },
                { "port",   required_argument, NULL, 'p' },
                { "path",   required_argument, NULL, 'P' },
                { "direct", required_argument, NULL, 'd' },
                { "help",   no_argument,       NULL, 'h' },
                {}
        };
        int o;

        while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (o) {
                case 'u':
                        arg_url = optarg;
                        break;
                case 'p':
                        arg_port = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 'P':
                        arg_path = optarg;
                        break;
                case 'd':
                        arg_direct = optarg;
                        break;
                case 'h':
                        printf("usage: %s --url=URL --port=N [--path=/big] | --direct=ADDR:PORT [--path=/big]\n",
                               program_invocation_short_name);
                        exit(EXIT_SUCCESS);
                default:
                        return -EINVAL;
                }
        if (!!arg_url == !!arg_direct || (arg_url && (arg_port == 0 || arg_port > 65535)) || optind != argc) {
                fprintf(stderr, "%s: --url= and --port=, or --direct=\n", program_invocation_short_name);
                return -EINVAL;
        }
        return 0;
}

int main(int argc, char *argv[]) {
        if (parse_argv(argc, argv) < 0 || pull() < 0)
                return EXIT_FAILURE;
        return EXIT_SUCCESS;
}
