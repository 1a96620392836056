/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-cri-unary: unary gRPC calls against a CRI socket as fast as N
 * clients can make them, each client its own HTTP/2 connection with one
 * call in flight (as N kubelets or tools would), all in one thread with
 * poll(). Prints one line: clients, calls, seconds, calls/s, and the
 * latency percentiles of a call.
 *
 *   bench-cri-unary --socket=PATH [--clients=N] [--seconds=S]
 *                   [--path=/runtime.v1.RuntimeService/Version]
 *
 * The request is an empty message (VersionRequest, StatusRequest, ... all
 * accept it); any answer but grpc-status 0 is counted as an error. Works
 * against any CRI runtime (containerd, peapod-cri), so figures compare. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

typedef struct Client {
        int fd;
        nghttp2_session *session;
        uint64_t started;       /* ns, of the call in flight */
        bool ok;                /* grpc-status 0 seen */
        bool in_flight;
        size_t body_off;
} Client;

static const char *arg_socket;
static const char *arg_path = "/runtime.v1.RuntimeService/Version";
static unsigned arg_clients = 1;
static double arg_seconds = 5;

static uint64_t *latencies;
static size_t n_latencies, allocated_latencies;
static uint64_t n_errors, deadline;

static uint64_t now_ns(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ULL + (uint64_t) ts.tv_nsec;
}

static const uint8_t empty_message[5] = { 0 };

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *userdata) {
        Client *c = userdata;
        size_t n = sizeof(empty_message) - c->body_off;

        if (n > length)
                n = length;
        memcpy(buf, empty_message + c->body_off, n);
        c->body_off += n;
        if (c->body_off == sizeof(empty_message))
                *data_flags |= NGHTTP2_DATA_FLAG_EOF;
        return (ssize_t) n;
}

#define NV(n, v) { (uint8_t *) (n), (uint8_t *) (v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE }

static int submit_call(Client *c) {
        nghttp2_nv nva[] = {
                NV(":method", "POST"),
                NV(":scheme", "http"),
                NV(":path", arg_path),
                NV(":authority", "localhost"),
                NV("content-type", "application/grpc"),
                NV("te", "trailers"),
        };
        nghttp2_data_provider provider = { .read_callback = read_body };

        c->body_off = 0;
        c->ok = false;
        c->started = now_ns();
        c->in_flight = true;
        return nghttp2_submit_request(c->session, NULL, nva, sizeof(nva) / sizeof(nva[0]), &provider, c) < 0 ? -EIO : 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                     const uint8_t *value, size_t valuelen, uint8_t flags, void *userdata) {
        Client *c = userdata;

        if (namelen == 11 && memcmp(name, "grpc-status", 11) == 0)
                c->ok = valuelen == 1 && value[0] == '0';
        return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *userdata) {
        Client *c = userdata;
        uint64_t t = now_ns();

        c->in_flight = false;
        if (!c->ok || error_code != 0)
                n_errors++;
        else {
                if (n_latencies == allocated_latencies) {
                        size_t a = allocated_latencies ? allocated_latencies * 2 : 65536;
                        uint64_t *l = realloc(latencies, a * sizeof(uint64_t));

                        if (!l)
                                abort();
                        latencies = l;
                        allocated_latencies = a;
                }
                latencies[n_latencies++] = t - c->started;
        }
        if (t < deadline)
                return submit_call(c) < 0 ? NGHTTP2_ERR_CALLBACK_FAILURE : 0;
        return 0;
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *userdata) {
        Client *c = userdata;
        ssize_t n = send(c->fd, data, length, MSG_NOSIGNAL | MSG_DONTWAIT);

        if (n < 0)
                return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
        return n;
}

static ssize_t on_recv(nghttp2_session *session, uint8_t *buf, size_t length, int flags, void *userdata) {
        Client *c = userdata;
        ssize_t n = recv(c->fd, buf, length, MSG_DONTWAIT);

        if (n < 0)
                return errno == EAGAIN ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
        if (n == 0)
                return NGHTTP2_ERR_EOF;
        return n;
}

static int connect_client(Client *c, nghttp2_session_callbacks *cb) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->fd < 0)
                return -errno;
        strncpy(sa.sun_path, arg_socket, sizeof(sa.sun_path) - 1);
        if (connect(c->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        if (nghttp2_session_client_new(&c->session, cb, c) < 0 ||
            nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, NULL, 0) < 0)
                return -ENOMEM;
        return submit_call(c);
}

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static double percentile_us(double p) {
        size_t i;

        if (n_latencies == 0)
                return 0;
        i = (size_t) (p * (double) (n_latencies - 1));
        return (double) latencies[i] / 1000.0;
}

static int parse_argv(int argc, char *argv[]) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "clients", required_argument, NULL, 'c' },
                { "seconds", required_argument, NULL, 't' },
                { "path", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int o;

        while ((o = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (o) {
                case 's':
                        arg_socket = optarg;
                        break;
                case 'c':
                        arg_clients = (unsigned) strtoul(optarg, NULL, 10);
                        break;
                case 't':
                        arg_seconds = strtod(optarg, NULL);
                        break;
                case 'p':
                        arg_path = optarg;
                        break;
                case 'h':
                        printf("Usage: bench-cri-unary --socket=PATH [--clients=N] [--seconds=S] [--path=PATH]\n");
                        return 0;
                default:
                        return -EINVAL;
                }
        if (!arg_socket || arg_clients < 1 || arg_clients > 4096 || arg_seconds <= 0) {
                fprintf(stderr, "bench-cri-unary: --socket= is required; 1-4096 clients; seconds > 0\n");
                return -EINVAL;
        }
        return 1;
}

int main(int argc, char *argv[]) {
        nghttp2_session_callbacks *cb;
        struct pollfd *pfd;
        Client *clients;
        uint64_t start, end;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? 2 : 0;
        clients = calloc(arg_clients, sizeof(Client));
        pfd = calloc(arg_clients, sizeof(struct pollfd));
        if (!clients || !pfd || nghttp2_session_callbacks_new(&cb) < 0)
                return 1;
        nghttp2_session_callbacks_set_send_callback(cb, on_send);
        nghttp2_session_callbacks_set_recv_callback(cb, on_recv);
        nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
        nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_stream_close);

        start = now_ns();
        deadline = start + (uint64_t) (arg_seconds * 1e9);
        for (unsigned i = 0; i < arg_clients; i++) {
                r = connect_client(&clients[i], cb);
                if (r < 0) {
                        fprintf(stderr, "bench-cri-unary: connecting to %s: %s\n", arg_socket, strerror(-r));
                        return 1;
                }
        }

        for (;;) {
                unsigned live = 0;

                for (unsigned i = 0; i < arg_clients; i++) {
                        Client *c = &clients[i];
                        bool rd = c->session && nghttp2_session_want_read(c->session),
                             wr = c->session && nghttp2_session_want_write(c->session);

                        /* A client is done when its last call ended after the deadline. */
                        if (c->session && now_ns() >= deadline && !c->in_flight)
                                rd = wr = false;
                        pfd[i].fd = rd || wr ? c->fd : -1;
                        pfd[i].events = (rd ? POLLIN : 0) | (wr ? POLLOUT : 0);
                        pfd[i].revents = 0;
                        live += rd || wr;
                }
                if (live == 0)
                        break;
                if (poll(pfd, arg_clients, 1000) < 0 && errno != EINTR)
                        return 1;
                for (unsigned i = 0; i < arg_clients; i++) {
                        Client *c = &clients[i];

                        if (pfd[i].fd < 0 || !pfd[i].revents)
                                continue;
                        if (nghttp2_session_recv(c->session) < 0 || nghttp2_session_send(c->session) < 0) {
                                fprintf(stderr, "bench-cri-unary: a connection failed\n");
                                return 1;
                        }
                }
        }
        end = now_ns();

        qsort(latencies, n_latencies, sizeof(uint64_t), cmp_u64);
        printf("clients=%u calls=%zu errors=%" PRIu64 " seconds=%.2f rate=%.0f p50_us=%.0f p99_us=%.0f max_us=%.0f\n",
               arg_clients, n_latencies, n_errors, (double) (end - start) / 1e9,
               (double) n_latencies / ((double) (end - start) / 1e9), percentile_us(0.5), percentile_us(0.99),
               percentile_us(1.0));
        for (unsigned i = 0; i < arg_clients; i++) {
                nghttp2_session_del(clients[i].session);
                close(clients[i].fd);
        }
        nghttp2_session_callbacks_del(cb);
        free(clients);
        free(pfd);
        free(latencies);
        return n_errors > 0;
}
