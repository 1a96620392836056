/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cri.h"
#include "journal.h"
#include "json-util.h"
#include "log.h"
#include "peapod-bus.h"
#include "spdy.h"
#include "streaming.h"
#include "string-util.h"
#include "strv.h"
#include "websocket.h"

/* The channel protocols a client may ask for (Sec-WebSocket-Protocol). */
typedef enum ChannelProtocol {
        PROTO_CHANNEL,          /* channel.k8s.io: binary, errors as text */
        PROTO_BASE64,           /* base64.channel.k8s.io: text frames, digit + base64 */
        PROTO_V4,               /* v4.channel.k8s.io: errors as a JSON Status */
        PROTO_V4_BASE64,        /* v4.base64.channel.k8s.io */
        PROTO_V5,               /* v5.channel.k8s.io: v4 plus the close signal (channel 255) */
        PROTO_PORT_FORWARD,     /* portforward.k8s.io over WebSocket: binary */
} ChannelProtocol;

static const struct {
        const char *name;
        ChannelProtocol proto;
        bool exec, port_forward;
} channel_protocols[] = {
        { "v5.channel.k8s.io", PROTO_V5, true, false },
        { "v4.channel.k8s.io", PROTO_V4, true, true },
        { "v4.base64.channel.k8s.io", PROTO_V4_BASE64, true, true },
        { "base64.channel.k8s.io", PROTO_BASE64, true, true },
        { "channel.k8s.io", PROTO_CHANNEL, true, true },
        { "portforward.k8s.io", PROTO_PORT_FORWARD, false, true },
};

enum {
        CH_STDIN = 0,
        CH_STDOUT = 1,
        CH_STDERR = 2,
        CH_ERROR = 3,
        CH_RESIZE = 4,
        CH_CLOSE = 255,         /* v5: [255, channel] closes the channel's input */
};

typedef struct StreamToken {
        char token[33];
        uint64_t expire_usec;
        StreamRequest *request;
} StreamToken;

/* One of our ends towards the command or the forwarded port. */
typedef struct StreamFd {
        int fd;
        sd_event_source *source;
        int out_channel;        /* what we read goes out on it; -1: we never read */
        bool read_eof;
        bool writable;          /* the client's input goes to it */
        bool close_after_pending;
        bool connecting;        /* port-forward: connect() in progress */
        uint8_t *pending;       /* the client's input not written yet */
        size_t n_pending;
        uint16_t port;          /* port-forward */
        int error_channel;      /* port-forward */
        /* Port-forward over SPDY: a slot per requestID, its two streams. */
        bool in_use;
        uint32_t request_id;
        uint32_t spdy_data, spdy_error;
} StreamFd;

/* WebSocket port-forward has at most STREAM_MAX_PORTS; a SPDY session
 * carries a connection per requestID, at most this many at once. */
#define STREAM_MAX_FDS 128U

typedef enum ConnState {
        CONN_HTTP,              /* reading the request head */
        CONN_WS,                /* upgraded */
        CONN_CLOSING,           /* sending what is queued, then closing */
} ConnState;

typedef struct StreamConn StreamConn;
struct StreamConn {
        StreamServer *server;
        StreamConn *prev, *next;
        int fd;                         /* -EBADF once the client is gone */
        sd_event_source *source, *timer;
        ConnState state;
        uint8_t *in;
        size_t n_in;
        uint8_t *out;
        size_t n_out, out_alloc;
        WsParser ws;
        ChannelProtocol proto;
        StreamRequest *request;
        StreamFd fds[STREAM_MAX_FDS];
        int netns;                      /* port-forward: the pod's network namespace, once known */
        size_t n_fds;
        bool tty;
        int tty_master;                 /* borrowed: fds[1].fd, for TIOCSWINSZ */
        /* exec */
        char *pod_path;
        sd_bus_slot *exec_slot, *finished_slot, *leader_slot;
        char *unit;
        bool finished, status_sent;
        char *result;
        int status;
        char **early;                   /* ExecFinished before Exec answered: "id result status" */
        bool zombie;                    /* client gone, the Exec answer still to come (to kill it) */
        bool lingering;                 /* all said and our side shut: reading the rest to EOF */
        /* SPDY/3.1 instead of a WebSocket: one stream per channel. */
        bool spdy;
        SpdyZ z;
        uint32_t spdy_streams[CH_RESIZE + 1];   /* 0: not opened */
        uint32_t spdy_last_stream;
        unsigned spdy_expected;                 /* channels (bits) to wait for before the exec starts */
        bool started;
        /* attach: the app's output from the journal, its end from its pod's
         * PropertiesChanged and GetApp. */
        PodJournal *journal;
        sd_event_source *journal_source, *journal_kick, *drain_source, *drain_timer;
        sd_bus_slot *attach_slot, *changed_slot;
        int drain_fd;
        bool attach_running, attach_drained, attach_requery, journal_behind;
        struct winsize attach_ws;               /* a resize before the master came */
        int attach_master;                      /* our own copy, for TIOCSWINSZ (tty_master) */
        uint64_t drain_deadline;
};

struct StreamServer {
        Cri *cri;
        sd_event *event;
        int fd;
        sd_event_source *source;
        char address[INET6_ADDRSTRLEN + 2];
        uint16_t port;
        uint64_t token_usec;
        StreamToken tokens[STREAM_MAX_TOKENS];
        size_t n_tokens;
        StreamConn *conns;
        unsigned n_conns;
};

static int conn_update(StreamConn *c);
static void conn_free(StreamConn *c);
static int conn_parse(StreamConn *c);
static bool conn_spdy_pf(StreamConn *c);
static int conn_fd_out(StreamConn *c, StreamFd *f, const void *data, size_t size);
static int conn_query_leader(StreamConn *c);
static void pf_connect(StreamConn *c, StreamFd *f);

#define MAX(a, b) ((a) > (b) ? (a) : (b))
#define MIN(a, b) ((a) < (b) ? (a) : (b))

static bool proto_base64(ChannelProtocol p) {
        return p == PROTO_BASE64 || p == PROTO_V4_BASE64;
}

void stream_request_free(StreamRequest *req) {
        if (!req)
                return;
        strv_free(req->cmd);
        free(req);
}

static uint64_t now_usec(StreamServer *s) {
        uint64_t t = 0;

        (void) sd_event_now(s->event, CLOCK_MONOTONIC, &t);
        return t;
}

static void tokens_expire(StreamServer *s) {
        uint64_t now = now_usec(s);

        for (size_t i = 0; i < s->n_tokens;)
                if (s->tokens[i].expire_usec <= now) {
                        stream_request_free(s->tokens[i].request);
                        s->tokens[i] = s->tokens[--s->n_tokens];
                } else
                        i++;
}

int stream_server_add(StreamServer *s, StreamRequest *req, char **ret_url) {
        uint8_t raw[16];
        StreamToken *t;

        tokens_expire(s);
        if (s->n_tokens >= STREAM_MAX_TOKENS) {
                stream_request_free(req);
                return -EBUSY;
        }
        /* 128 random bits: the token is the only thing that authorizes a
         * connection to the streaming server. */
        if (getrandom(raw, sizeof(raw), 0) != sizeof(raw)) {
                stream_request_free(req);
                return -EIO;
        }
        t = &s->tokens[s->n_tokens];
        for (size_t i = 0; i < sizeof(raw); i++)
                sprintf(t->token + 2 * i, "%02x", raw[i]);
        if (asprintf(ret_url, "http://%s:%u/%s/%s", s->address, s->port,
                     req->kind == STREAM_EXEC ? "exec" : req->kind == STREAM_ATTACH ? "attach" : "portforward", t->token) < 0) {
                stream_request_free(req);
                return -ENOMEM;
        }
        t->expire_usec = now_usec(s) + s->token_usec;
        t->request = req;
        s->n_tokens++;
        return 0;
}

/* Takes the token's request out of the table: a token is good once. */
static StreamRequest *token_take(StreamServer *s, const char *token, size_t len, StreamKind kind) {
        tokens_expire(s);
        if (len != 32)
                return NULL;
        for (size_t i = 0; i < s->n_tokens; i++) {
                unsigned diff = 0;

                /* Compared in constant time: no timing tells how much of a guess was right. */
                for (size_t k = 0; k < 32; k++)
                        diff |= (unsigned char) s->tokens[i].token[k] ^ (unsigned char) token[k];
                if (diff != 0)
                        continue;
                StreamRequest *r = s->tokens[i].request;
                if (r->kind != kind)
                        return NULL;
                s->tokens[i] = s->tokens[--s->n_tokens];
                return r;
        }
        return NULL;
}

/* ---- output ---- */

static int conn_queue(StreamConn *c, const void *data, size_t size) {
        if (c->fd < 0)
                return 0;
        if (c->n_out + size > c->out_alloc) {
                size_t n = MAX(c->n_out + size, 2 * c->out_alloc);
                uint8_t *p = realloc(c->out, n);

                if (!p)
                        return -ENOMEM;
                c->out = p;
                c->out_alloc = n;
        }
        memcpy(c->out + c->n_out, data, size);
        c->n_out += size;
        return 0;
}

static int conn_frame(StreamConn *c, uint8_t opcode, const void *data, size_t size) {
        uint8_t hdr[WS_HEADER_MAX];
        int r;

        r = conn_queue(c, hdr, ws_frame_header(hdr, opcode, size));
        if (r >= 0 && size > 0)
                r = conn_queue(c, data, size);
        return r;
}

/* One message on a channel, in the negotiated protocol's encoding. */
static int conn_spdy_data(StreamConn *c, uint32_t stream, uint8_t flags, const void *data, size_t size) {
        uint8_t hdr[SPDY_HEADER_SIZE];
        int r;

        r = conn_queue(c, hdr, spdy_data_header(hdr, stream, flags, size));
        if (r >= 0 && size > 0)
                r = conn_queue(c, data, size);
        return r;
}

static int conn_channel(StreamConn *c, uint8_t channel, const void *data, size_t size) {
        if (c->spdy) {
                /* A channel the client opened no stream for is dropped. */
                if (channel > CH_RESIZE || c->spdy_streams[channel] == 0)
                        return 0;
                return conn_spdy_data(c, c->spdy_streams[channel], 0, data, size);
        }
        if (proto_base64(c->proto)) {
                _cleanup_free_ char *buf = malloc(1 + 4 * ((size + 2) / 3));

                if (!buf)
                        return -ENOMEM;
                buf[0] = '0' + channel;
                return conn_frame(c, WS_OP_TEXT, buf, 1 + ws_base64_encode(data, size, buf + 1));
        }
        _cleanup_free_ uint8_t *buf = malloc(1 + size);
        if (!buf)
                return -ENOMEM;
        buf[0] = channel;
        if (size > 0)
                memcpy(buf + 1, data, size);
        return conn_frame(c, WS_OP_BINARY, buf, 1 + size);
}

static int conn_close_ws(StreamConn *c, uint16_t code) {
        uint8_t b[2] = { code >> 8, code & 0xFF };
        int r;

        if (c->state != CONN_WS)
                return 0;
        c->state = CONN_CLOSING;
        if (c->spdy) {
                uint8_t g[SPDY_HEADER_SIZE + 8];

                /* Our half of every stream ends (FIN), then the session (GOAWAY). */
                for (uint8_t ch = 0; ch <= CH_RESIZE; ch++)
                        if (c->spdy_streams[ch] != 0 && ch != CH_STDIN && ch != CH_RESIZE) {
                                r = conn_spdy_data(c, c->spdy_streams[ch], SPDY_FLAG_FIN, NULL, 0);
                                if (r < 0)
                                        return r;
                        }
                spdy_control_header(g, SPDY_GOAWAY, 0, 8);
                memset(g + SPDY_HEADER_SIZE, 0, 8);
                g[SPDY_HEADER_SIZE + 0] = c->spdy_last_stream >> 24 & 0x7F;
                g[SPDY_HEADER_SIZE + 1] = c->spdy_last_stream >> 16;
                g[SPDY_HEADER_SIZE + 2] = c->spdy_last_stream >> 8;
                g[SPDY_HEADER_SIZE + 3] = c->spdy_last_stream;
                g[SPDY_HEADER_SIZE + 7] = code == WS_CLOSE_NORMAL ? 0 : SPDY_PROTOCOL_ERROR;
                return conn_queue(c, g, sizeof(g));
        }
        r = conn_frame(c, WS_OP_CLOSE, b, sizeof(b));
        return r;
}

static int conn_http_error(StreamConn *c, int code, const char *reason, const char *text) {
        char buf[512];
        int n;

        n = snprintf(buf, sizeof(buf),
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n%s\n",
                     code, reason, strlen(text) + 1, text);
        c->state = CONN_CLOSING;
        return conn_queue(c, buf, MIN((size_t) n, sizeof(buf) - 1));
}

/* ---- the exit status on the error channel ---- */

static bool proto_status_json(ChannelProtocol p) {
        return p == PROTO_V4 || p == PROTO_V4_BASE64 || p == PROTO_V5;
}

/* exit_code < 0: the command could not be run (message says why). */
static int conn_send_status(StreamConn *c, int exit_code, const char *message) {
        _cleanup_(json_object_putp) json_object *o = NULL;
        char msg[256];
        const char *s;

        if (c->status_sent)
                return 0;
        c->status_sent = true;
        if (!proto_status_json(c->proto)) {
                /* The old protocols carry a failure as plain text, success as nothing. */
                if (exit_code == 0)
                        return 0;
                if (exit_code > 0)
                        snprintf(msg, sizeof(msg), "command terminated with non-zero exit code: exit status %d", exit_code);
                else
                        snprintf(msg, sizeof(msg), "%s", message);
                return conn_channel(c, CH_ERROR, msg, strlen(msg));
        }
        /* Kubernetes' metav1.Status, as kubelet writes it and client-go's
         * remotecommand reads it (errorDecoderV4): the exit code is the
         * message of the cause of type "ExitCode". */
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "metadata", json_object_new_object());
        if (exit_code == 0)
                json_object_object_add(o, "status", json_object_new_string("Success"));
        else if (exit_code > 0) {
                json_object *details = json_object_new_object(), *causes = json_object_new_array(),
                            *cause = json_object_new_object();
                char code[16];

                if (!details || !causes || !cause) {
                        json_object_put(details);
                        json_object_put(causes);
                        json_object_put(cause);
                        return -ENOMEM;
                }
                snprintf(code, sizeof(code), "%d", exit_code);
                snprintf(msg, sizeof(msg), "command terminated with non-zero exit code: exit status %d", exit_code);
                json_object_object_add(o, "status", json_object_new_string("Failure"));
                json_object_object_add(o, "message", json_object_new_string(msg));
                json_object_object_add(o, "reason", json_object_new_string("NonZeroExitCode"));
                json_object_object_add(cause, "reason", json_object_new_string("ExitCode"));
                json_object_object_add(cause, "message", json_object_new_string(code));
                json_object_array_add(causes, cause);
                json_object_object_add(details, "causes", causes);
                json_object_object_add(o, "details", details);
        } else {
                json_object_object_add(o, "status", json_object_new_string("Failure"));
                json_object_object_add(o, "message", json_object_new_string(message));
                json_object_object_add(o, "reason", json_object_new_string("InternalError"));
                json_object_object_add(o, "code", json_object_new_int(500));
        }
        s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        return conn_channel(c, CH_ERROR, s, strlen(s));
}

/* ---- the end of a connection ---- */

static void kill_unit(StreamConn *c) {
        sd_bus *bus;

        if (!c->unit || c->finished)
                return;
        if (cri_bus(c->server->cri, &bus) < 0)
                return;
        /* The client went away: the command goes too (kubelet's rule), and
         * what it started (Pod.KillExec). The answer does not matter, the
         * call outlives us (floating). */
        (void) sd_bus_call_method_async(bus, NULL, PEAPOD_BUS_NAME, c->pod_path, PEAPOD_POD_INTERFACE, "KillExec", NULL,
                                        NULL, "si", c->unit, (int32_t) SIGKILL);
}

static void stream_fd_done(StreamFd *f) {
        f->source = sd_event_source_disable_unref(f->source);
        f->fd = safe_close(f->fd);
        f->pending = mfree(f->pending);
        f->n_pending = 0;
}

static void conn_free(StreamConn *c) {
        StreamServer *s;

        if (!c)
                return;
        s = c->server;
        if (c->prev)
                c->prev->next = c->next;
        else if (s->conns == c)
                s->conns = c->next;
        if (c->next)
                c->next->prev = c->prev;
        s->n_conns--;
        kill_unit(c);
        for (size_t i = 0; i < c->n_fds; i++)
                stream_fd_done(&c->fds[i]);
        sd_bus_slot_unref(c->exec_slot);
        sd_bus_slot_unref(c->finished_slot);
        sd_bus_slot_unref(c->leader_slot);
        sd_bus_slot_unref(c->attach_slot);
        sd_bus_slot_unref(c->changed_slot);
        sd_event_source_disable_unref(c->journal_source);
        sd_event_source_disable_unref(c->journal_kick);
        sd_event_source_disable_unref(c->drain_source);
        sd_event_source_disable_unref(c->drain_timer);
        pod_journal_free_later(c->journal);
        safe_close(c->drain_fd);
        safe_close(c->attach_master);
        sd_event_source_disable_unref(c->source);
        sd_event_source_disable_unref(c->timer);
        safe_close(c->fd);
        ws_parser_done(&c->ws);
        spdy_z_done(&c->z);
        safe_close(c->netns);
        stream_request_free(c->request);
        free(c->in);
        free(c->out);
        free(c->pod_path);
        free(c->unit);
        free(c->result);
        strv_free(c->early);
        free(c);
}

/* The client is gone (or we are done with it). An Exec still waiting for
 * peapodd's answer keeps the rest alive until then, to kill the command. */
static void conn_end(StreamConn *c) {
        if (c->exec_slot) {
                c->zombie = true;
                c->source = sd_event_source_disable_unref(c->source);
                c->timer = sd_event_source_disable_unref(c->timer);
                c->fd = safe_close(c->fd);
                for (size_t i = 0; i < c->n_fds; i++)
                        stream_fd_done(&c->fds[i]);
                return;
        }
        conn_free(c);
}

/* An exec is over when the command ended and its output was read to the
 * end; a port-forward when every port's connection is closed. */
static int conn_check_done(StreamConn *c) {
        if (c->state != CONN_WS || conn_spdy_pf(c))
                return 0;       /* a SPDY port-forward session lasts until the client ends it */
        if (c->request->kind == STREAM_EXEC && c->finished && c->tty && c->n_fds > 1 && !c->fds[1].read_eof) {
                StreamFd *f = &c->fds[1];

                /* The slave may stay open after the command (systemd keeps
                 * the unit's descriptors a while): what the command wrote is
                 * in the master already, so take it and end here. */
                for (;;) {
                        uint8_t buf[32 * 1024];
                        ssize_t n = read(f->fd, buf, sizeof(buf));

                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        if (conn_fd_out(c, f, buf, n) < 0)
                                return -ENOMEM;
                }
                f->read_eof = true;
        }
        for (size_t i = 0; i < c->n_fds; i++)
                if (c->fds[i].out_channel >= 0 && !c->fds[i].read_eof)
                        return 0;
        if (c->request->kind == STREAM_ATTACH) {
                /* The app ended and its last lines were read: kubelet's
                 * attach reports no exit code, only that it ended well. */
                if (!c->attach_drained)
                        return 0;
                int r = conn_send_status(c, 0, NULL);
                if (r < 0)
                        return r;
        }
        if (c->request->kind == STREAM_EXEC) {
                if (!c->finished)
                        return 0;
                int code = streq_ptr(c->result, "exited") ? c->status : 128 + c->status;
                int r = conn_send_status(c, code, NULL);
                if (r < 0)
                        return r;
        }
        return conn_close_ws(c, WS_CLOSE_NORMAL);
}

/* ---- reading the command's output (or the port's data) ---- */

static int on_fd_io(sd_event_source *src, int fd, uint32_t revents, void *userdata);

static int stream_fd_add(StreamConn *c, int fd, int out_channel, bool writable, StreamFd **ret) {
        StreamFd *f = &c->fds[c->n_fds];
        int r;

        *f = (StreamFd) { .fd = fd, .out_channel = out_channel, .writable = writable, .error_channel = -1 };
        f->read_eof = out_channel < 0;
        c->n_fds++;
        if (fd < 0)
                return 0;
        r = sd_event_add_io(c->server->event, &f->source, fd, 0, on_fd_io, c);
        if (r < 0)
                return r;
        if (ret)
                *ret = f;
        return 0;
}

/* Writes what is pending for f; returns -errno when f is broken. */
static int stream_fd_flush(StreamFd *f) {
        while (f->n_pending > 0) {
                ssize_t n = write(f->fd, f->pending, f->n_pending);

                if (n < 0) {
                        if (errno == EAGAIN || errno == EINTR)
                                return 0;
                        return -errno;
                }
                memmove(f->pending, f->pending + n, f->n_pending - n);
                f->n_pending -= n;
        }
        if (f->close_after_pending && f->out_channel < 0) {
                /* stdin closed by the client: the command sees EOF. */
                f->source = sd_event_source_disable_unref(f->source);
                f->fd = safe_close(f->fd);
                f->writable = false;
        } else if (f->close_after_pending)
                (void) shutdown(f->fd, SHUT_WR);
        return 0;
}

static bool conn_spdy_pf(StreamConn *c) {
        return c->spdy && c->request && c->request->kind == STREAM_PORT_FORWARD;
}

/* What we read from f, to the client. */
static int conn_fd_out(StreamConn *c, StreamFd *f, const void *data, size_t size) {
        if (conn_spdy_pf(c))
                return conn_spdy_data(c, f->spdy_data, 0, data, size);
        return conn_channel(c, f->out_channel, data, size);
}

/* A SPDY port-forward connection is over: both streams end, the slot is free. */
static void spdy_pf_end(StreamConn *c, StreamFd *f) {
        if (c->state == CONN_WS) {
                if (f->spdy_data)
                        (void) conn_spdy_data(c, f->spdy_data, SPDY_FLAG_FIN, NULL, 0);
                if (f->spdy_error)
                        (void) conn_spdy_data(c, f->spdy_error, SPDY_FLAG_FIN, NULL, 0);
        }
        stream_fd_done(f);
        *f = (StreamFd) { .fd = -EBADF, .read_eof = true };
}

static void stream_fd_failed(StreamConn *c, StreamFd *f, int error) {
        if (f->error_channel >= 0 && c->state == CONN_WS) {
                char msg[256];

                snprintf(msg, sizeof(msg), "error forwarding port %u to pod %s: %s", f->port, c->request->pod_id,
                         strerror(error));
                if (conn_spdy_pf(c)) {
                        if (f->spdy_error)
                                (void) conn_spdy_data(c, f->spdy_error, 0, msg, strlen(msg));
                        spdy_pf_end(c, f);
                        return;
                }
                (void) conn_channel(c, f->error_channel, msg, strlen(msg));
        }
        f->source = sd_event_source_disable_unref(f->source);
        f->fd = safe_close(f->fd);
        f->read_eof = true;
        f->writable = false;
        f->pending = mfree(f->pending);
        f->n_pending = 0;
}

static int on_fd_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        StreamConn *c = userdata;
        StreamFd *f = NULL;
        int r;

        for (size_t i = 0; i < c->n_fds; i++)
                if (c->fds[i].source == src)
                        f = &c->fds[i];
        if (!f)
                return 0;

        if (f->connecting && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t len = sizeof(err);

                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                        err = errno;
                f->connecting = false;
                if (err != 0) {
                        stream_fd_failed(c, f, err);
                        goto done;
                }
        }
        if (f->n_pending > 0 && (revents & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                r = stream_fd_flush(f);
                if (r < 0) {
                        if (f->error_channel >= 0)
                                stream_fd_failed(c, f, -r);
                        else {
                                /* A command that closed its stdin: the rest is dropped. */
                                stream_fd_done(f);
                                f->writable = false;
                        }
                        goto done;
                }
                /* Input held back while this was pending may be waiting. */
                if (f->n_pending == 0 && conn_parse(c) < 0)
                        return conn_end(c), 0;
        }
        if (!f->read_eof && f->fd >= 0 && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
                uint8_t buf[32 * 1024];
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        goto done;
                if (n <= 0) {
                        /* EOF, or EIO on a pty master whose slave everybody closed. */
                        f->read_eof = true;
                        if (f->error_channel >= 0 && n < 0)
                                stream_fd_failed(c, f, errno);
                        else if (conn_spdy_pf(c))
                                spdy_pf_end(c, f);
                        else if (f->error_channel < 0 && f->out_channel >= 0 && !f->writable) {
                                f->source = sd_event_source_disable_unref(f->source);
                                f->fd = safe_close(f->fd);
                        }
                } else {
                        r = conn_fd_out(c, f, buf, n);
                        if (r < 0)
                                return log_oom(), conn_end(c), 0;
                }
        }
done:
        r = conn_check_done(c);
        if (r < 0)
                return conn_end(c), 0;
        if (conn_update(c) < 0)
                conn_end(c);
        return 0;
}

/* ---- the client's messages ---- */

static int stream_fd_write(StreamConn *c, StreamFd *f, const uint8_t *data, size_t size);

static int conn_input(StreamConn *c, uint8_t channel, const uint8_t *data, size_t size) {
        StreamFd *f = NULL;

        if (c->request->kind != STREAM_PORT_FORWARD) {
                if (channel == CH_RESIZE && c->tty) {
                        _cleanup_(json_object_putp) json_object *o = NULL;
                        struct winsize ws = {};
                        int64_t w, h;

                        /* {"Width":80,"Height":24}: a bad one is ignored, as kubelet does. */
                        if (json_parse_untrusted(data, size, 4096, 4, &o, NULL) < 0 ||
                            !json_object_is_type(o, json_type_object) || json_get_int64(o, "Width", &w) < 0 ||
                            json_get_int64(o, "Height", &h) < 0 || w < 0 || h < 0 || w > UINT16_MAX ||
                            h > UINT16_MAX)
                                return 0;
                        ws.ws_col = w;
                        ws.ws_row = h;
                        if (c->tty_master < 0)
                                c->attach_ws = ws;      /* attach: the master is on its way */
                        else
                                (void) ioctl(c->tty_master, TIOCSWINSZ, &ws);
                        return 0;
                }
                if (channel == CH_STDIN && c->n_fds > 0 && c->fds[0].writable)
                        f = &c->fds[0];
        } else if (channel % 2 == 0 && channel / 2 < c->n_fds && c->fds[channel / 2].writable)
                f = &c->fds[channel / 2];
        if (!f || size == 0)
                return 0;
        return stream_fd_write(c, f, data, size);
}

static int stream_fd_write(StreamConn *c, StreamFd *f, const uint8_t *data, size_t size) {
        if (f->n_pending == 0 && !f->connecting) {
                ssize_t n = write(f->fd, data, size);

                if (n < 0 && errno != EAGAIN && errno != EINTR) {
                        if (f->error_channel >= 0)
                                stream_fd_failed(c, f, errno);
                        else
                                f->writable = false;
                        return 0;
                }
                if (n > 0) {
                        data += n;
                        size -= n;
                }
        }
        if (size > 0) {
                /* Bounded: while anything is pending the client is not read
                 * (conn_update), so this is at most one message. */
                uint8_t *p = realloc(f->pending, f->n_pending + size);

                if (!p)
                        return -ENOMEM;
                memcpy(p + f->n_pending, data, size);
                f->pending = p;
                f->n_pending += size;
        }
        return 0;
}

/* The end of an exec's input on a terminal: closing our copy of the
 * master tells the command nothing, so the terminal's EOF character
 * (^D) is typed after what is pending, once, as a user would end it: a
 * reading command at the start of a line sees EOF, a shell exits. Not in
 * raw mode, where it would be a byte like any other. Not for attach: the
 * app is not one attacher's to end. */
static void conn_tty_eof(StreamConn *c, StreamFd *f) {
        struct termios t;
        uint8_t eof;

        if (c->tty_master < 0 || tcgetattr(c->tty_master, &t) < 0 || !(t.c_lflag & ICANON) ||
            t.c_cc[VEOF] == _POSIX_VDISABLE)
                return;
        eof = t.c_cc[VEOF];
        (void) stream_fd_write(c, f, &eof, 1);
}

static void conn_close_input(StreamConn *c, uint8_t channel) {
        StreamFd *f = NULL;

        if (c->request->kind != STREAM_PORT_FORWARD && channel == CH_STDIN && c->n_fds > 0)
                f = &c->fds[0];
        else if (c->request->kind == STREAM_PORT_FORWARD && channel % 2 == 0 && channel / 2 < c->n_fds)
                f = &c->fds[channel / 2];
        if (!f || !f->writable)
                return;
        if (c->request->kind == STREAM_EXEC && c->tty && f->fd >= 0 && !f->close_after_pending)
                conn_tty_eof(c, f);
        f->close_after_pending = true;
        if (f->fd < 0)
                return;         /* attach: done once the stdin arrives */
        if (f->n_pending == 0)
                (void) stream_fd_flush(f);
}

static int conn_message(StreamConn *c, const WsMessage *m) {
        _cleanup_free_ uint8_t *decoded = NULL;
        const uint8_t *data = m->data;
        size_t size = m->size;

        switch (m->opcode) {
        case WS_OP_PING:
                return conn_frame(c, WS_OP_PONG, m->data, m->size);
        case WS_OP_PONG:
                return 0;
        case WS_OP_CLOSE:
                /* Answered, then the connection ends; the command with it. */
                if (c->state == CONN_WS)
                        (void) conn_close_ws(c, WS_CLOSE_NORMAL);
                return 0;
        }
        if (size == 0)
                return 0;
        if (proto_base64(c->proto)) {
                size_t n;

                if (m->opcode != WS_OP_TEXT || data[0] < '0' || data[0] > '9')
                        return -EBADMSG;
                decoded = malloc(1 + 3 * (size / 4));
                if (!decoded)
                        return -ENOMEM;
                if (ws_base64_decode((const char *) data + 1, size - 1, decoded + 1, &n) < 0)
                        return -EBADMSG;
                decoded[0] = data[0] - '0';
                data = decoded;
                size = n + 1;
        }
        if (c->proto == PROTO_V5 && data[0] == CH_CLOSE) {
                if (size >= 2)
                        conn_close_input(c, data[1]);
                return 0;
        }
        return conn_input(c, data[0], data + 1, size - 1);
}

/* ---- the HTTP request ---- */

static const char *header_value(const char *head, const char *name, char *buf, size_t size) {
        size_t nl = strlen(name);

        for (const char *l = strstr(head, "\r\n"); l && l[2]; l = strstr(l + 2, "\r\n")) {
                const char *p = l + 2, *e;

                if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
                        continue;
                p += nl + 1;
                p += strspn(p, " \t");
                e = strstr(p, "\r\n");
                if (!e || (size_t) (e - p) >= size)
                        return NULL;
                memcpy(buf, p, e - p);
                buf[e - p] = '\0';
                while (e > p && (buf[e - p - 1] == ' ' || buf[e - p - 1] == '\t'))
                        buf[--e - p] = '\0';
                return buf;
        }
        return NULL;
}

/* Whether the comma separated list has the token (case-insensitively). */
static bool list_has(const char *list, const char *token) {
        size_t n = strlen(token);

        for (const char *p = list; p && *p;) {
                p += strspn(p, " \t,");
                size_t k = strcspn(p, ",");
                size_t t = k;

                while (t > 0 && (p[t - 1] == ' ' || p[t - 1] == '\t'))
                        t--;
                if (t == n && strncasecmp(p, token, n) == 0)
                        return true;
                p += k;
        }
        return false;
}

static int conn_start_exec(StreamConn *c);
static int conn_start_port_forward(StreamConn *c, const char *query);

/* SPDY/3.1: the protocol is the first X-Stream-Protocol-Version (the
 * header may come several times) that we speak; the exec starts once the
 * client opened the streams it asked for (conn_spdy_frame). */
static const struct {
        const char *name;
        ChannelProtocol proto;
        int version;
} spdy_protocols[] = {
        { "v4.channel.k8s.io", PROTO_V4, 4 },
        { "v3.channel.k8s.io", PROTO_CHANNEL, 3 },
        { "v2.channel.k8s.io", PROTO_CHANNEL, 2 },
        { "channel.k8s.io", PROTO_CHANNEL, 1 },
        { "portforward.k8s.io", PROTO_PORT_FORWARD, 0 },
};

static int conn_request_spdy(StreamConn *c, const char *head, StreamKind kind, const char *token, size_t n) {
        char connection[256], resp[256];
        const char *chosen = NULL;
        int version = 1, r;

        if (!header_value(head, "Connection", connection, sizeof(connection)) || !list_has(connection, "upgrade"))
                return conn_http_error(c, 400, "Bad Request", "an upgrade is required");
        for (const char *l = strstr(head, "\r\n"); l && l[2] && !chosen; l = strstr(l + 2, "\r\n")) {
                const char *v = l + 2;

                if (strncasecmp(v, "X-Stream-Protocol-Version:", 26) != 0)
                        continue;
                v += 26;
                v += strspn(v, " \t");
                size_t k = strcspn(v, " \t\r");
                for (size_t i = 0; i < ELEMENTSOF(spdy_protocols); i++)
                        if (strlen(spdy_protocols[i].name) == k && strncmp(v, spdy_protocols[i].name, k) == 0 &&
                            (kind == STREAM_PORT_FORWARD) == (spdy_protocols[i].version == 0)) {
                                chosen = spdy_protocols[i].name;
                                c->proto = spdy_protocols[i].proto;
                                version = spdy_protocols[i].version;
                                break;
                        }
        }
        if (!chosen && strcasestr(head, "\r\nX-Stream-Protocol-Version:"))
                return conn_http_error(c, 403, "Forbidden", "none of the offered stream protocols is supported");
        if (!chosen && kind == STREAM_PORT_FORWARD)
                return conn_http_error(c, 403, "Forbidden", "port-forward needs X-Stream-Protocol-Version: portforward.k8s.io");
        if (!chosen)
                c->proto = PROTO_CHANNEL;

        c->request = token_take(c->server, token, n, kind);
        if (!c->request)
                return conn_http_error(c, 404, "Not Found", "unknown or expired token");
        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n%s%s%s\r\n",
                 chosen ? "X-Stream-Protocol-Version: " : "", strempty(chosen), chosen ? "\r\n" : "");
        r = conn_queue(c, resp, strlen(resp));
        if (r < 0)
                return r;
        c->spdy = true;
        c->state = CONN_WS;
        if (kind == STREAM_PORT_FORWARD) {
                /* A session of connections that the client opens as it
                 * likes, for as long as it likes. */
                c->timer = sd_event_source_disable_unref(c->timer);
                return conn_query_leader(c);
        }
        c->spdy_expected = 1u << CH_ERROR;
        if (c->request->in)
                c->spdy_expected |= 1u << CH_STDIN;
        if (c->request->out)
                c->spdy_expected |= 1u << CH_STDOUT;
        if (c->request->err)
                c->spdy_expected |= 1u << CH_STDERR;
        if (c->request->tty && version >= 3)
                c->spdy_expected |= 1u << CH_RESIZE;
        /* The request timer now bounds how long the streams take to come. */
        return 0;
}

/* The client's first WebSocket subprotocol that we speak for this kind,
 * into c->proto; false when it offers some but none of ours. */
static bool ws_choose_subprotocol(StreamConn *c, const char *head, StreamKind kind, const char **ret_chosen) {
        char protocols[1024];
        const char *chosen = NULL;

        if (!header_value(head, "Sec-WebSocket-Protocol", protocols, sizeof(protocols))) {
                c->proto = PROTO_CHANNEL;
                *ret_chosen = NULL;
                return true;
        }
        for (const char *x = protocols; *x && !chosen;) {
                x += strspn(x, " \t,");
                size_t k = strcspn(x, ", \t");

                for (size_t i = 0; i < ELEMENTSOF(channel_protocols); i++)
                        if (strlen(channel_protocols[i].name) == k &&
                            strncmp(x, channel_protocols[i].name, k) == 0 &&
                            (kind != STREAM_PORT_FORWARD ? channel_protocols[i].exec : channel_protocols[i].port_forward)) {
                                chosen = channel_protocols[i].name;
                                c->proto = channel_protocols[i].proto;
                                break;
                        }
                x += k;
        }
        *ret_chosen = chosen;
        return chosen != NULL;
}

/* Switches the connection to WebSocket and starts the stream the token
 * names; a stream that fails to start is reported on it and closed. */
static int conn_ws_accept(StreamConn *c, StreamKind kind, const char *query, const char *accept, const char *chosen) {
        char resp[512];
        int r;

        snprintf(resp, sizeof(resp),
                 "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Accept: %s\r\n%s%s%s\r\n",
                 accept, chosen ? "Sec-WebSocket-Protocol: " : "", strempty(chosen), chosen ? "\r\n" : "");
        r = conn_queue(c, resp, strlen(resp));
        if (r < 0)
                return r;
        c->state = CONN_WS;
        c->timer = sd_event_source_disable_unref(c->timer);
        if (kind != STREAM_PORT_FORWARD)
                r = conn_start_exec(c);
        else
                r = conn_start_port_forward(c, query);
        if (r < 0) {
                char msg[256];

                snprintf(msg, sizeof(msg), "%s failed: %s",
                         kind == STREAM_EXEC ? "exec" : kind == STREAM_ATTACH ? "attach" : "port-forward", strerror(-r));
                if (kind != STREAM_PORT_FORWARD)
                        (void) conn_send_status(c, -1, msg);
                for (size_t i = 0; i < c->n_fds; i++)
                        stream_fd_failed(c, &c->fds[i], -r);
                return conn_close_ws(c, WS_CLOSE_NORMAL);
        }
        return 0;
}

static int conn_request(StreamConn *c, const char *head) {
        char upgrade[128], connection[256], key[64], version[16], accept[WS_ACCEPT_SIZE];
        const char *path, *p, *q, *token, *chosen;
        char target[1024];
        StreamKind kind;
        size_t n;

        if (!startswith(head, "GET "))
                return conn_http_error(c, 405, "Method Not Allowed", "only GET upgrades to a stream");
        path = head + 4;
        n = strcspn(path, " \r\n");
        if (n >= sizeof(target) || !startswith(path + n, " HTTP/1.1\r\n"))
                return conn_http_error(c, 400, "Bad Request", "bad request line");
        memcpy(target, path, n);
        target[n] = '\0';
        q = strchr(target, '?');
        if ((p = startswith(target, "/exec/")))
                kind = STREAM_EXEC;
        else if ((p = startswith(target, "/portforward/")))
                kind = STREAM_PORT_FORWARD;
        else if ((p = startswith(target, "/attach/")))
                kind = STREAM_ATTACH;
        else
                return conn_http_error(c, 404, "Not Found", "no such stream");
        token = p;
        n = q ? (size_t) (q - token) : strlen(token);

        if (header_value(head, "Upgrade", upgrade, sizeof(upgrade)) && list_has(upgrade, "SPDY/3.1") &&
            !list_has(upgrade, "websocket"))
                return conn_request_spdy(c, head, kind, token, n);
        if (!header_value(head, "Upgrade", upgrade, sizeof(upgrade)) || !list_has(upgrade, "websocket") ||
            !header_value(head, "Connection", connection, sizeof(connection)) || !list_has(connection, "upgrade"))
                return conn_http_error(c, 400, "Bad Request", "a WebSocket upgrade is required");
        if (!header_value(head, "Sec-WebSocket-Version", version, sizeof(version)) || !streq(version, "13"))
                return conn_http_error(c, 400, "Bad Request", "Sec-WebSocket-Version 13 is required");
        if (!header_value(head, "Sec-WebSocket-Key", key, sizeof(key)) || ws_accept_key(key, accept) < 0)
                return conn_http_error(c, 400, "Bad Request", "bad Sec-WebSocket-Key");
        if (!ws_choose_subprotocol(c, head, kind, &chosen))
                return conn_http_error(c, 400, "Bad Request", "none of the offered subprotocols is supported");

        /* Last, so that a malformed request does not use up a good token. */
        c->request = token_take(c->server, token, n, kind);
        if (!c->request)
                return conn_http_error(c, 404, "Not Found", "unknown or expired token");
        return conn_ws_accept(c, kind, q ? q + 1 : "", accept, chosen);
}

/* ---- the client's socket ---- */

static int on_conn_timer(sd_event_source *src, uint64_t usec, void *userdata);

static int conn_read(StreamConn *c) {
        size_t cap = c->state == CONN_HTTP ? STREAM_REQUEST_MAX : WS_HEADER_MAX + WS_MESSAGE_MAX;
        ssize_t n;
        int r;

        if (c->state == CONN_CLOSING) {
                uint8_t buf[4096];

                n = read(c->fd, buf, sizeof(buf));
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                return n == 0 ? -ECONNRESET : 0;
        }
        if (!c->in) {
                c->in = malloc(cap + 1);
                if (!c->in)
                        return -ENOMEM;
        }
        /* A full buffer is a whole frame held back by pending input. */
        if (c->n_in >= cap)
                return conn_parse(c);
        n = read(c->fd, c->in + c->n_in, cap - c->n_in);
        if (n < 0)
                return errno == EAGAIN || errno == EINTR ? 0 : -errno;
        if (n == 0)
                return -ECONNRESET;
        c->n_in += n;

        if (c->state == CONN_HTTP) {
                char *end;

                c->in[c->n_in] = '\0';
                /* Bytes after the head may be WebSocket frames already. */
                end = memmem(c->in, c->n_in, "\r\n\r\n", 4);
                if (memchr(c->in, '\0', end ? (size_t) ((uint8_t *) end - c->in) : c->n_in))
                        return conn_http_error(c, 400, "Bad Request", "NUL in the request");
                if (!end) {
                        if (c->n_in >= STREAM_REQUEST_MAX)
                                return conn_http_error(c, 431, "Request Header Fields Too Large",
                                                       "the request head is larger than 8 KiB");
                        return 0;
                }
                end[2] = '\0';
                size_t used = (uint8_t *) end + 4 - c->in;
                r = conn_request(c, (char *) c->in);
                if (r < 0)
                        return r;
                /* What followed the head is the first WebSocket bytes. The
                 * buffer grows to its WebSocket size. */
                memmove(c->in, c->in + used, c->n_in - used);
                c->n_in -= used;
                uint8_t *b = realloc(c->in, WS_HEADER_MAX + WS_MESSAGE_MAX + 1);
                if (!b)
                        return -ENOMEM;
                c->in = b;
                if (c->state != CONN_WS)
                        c->n_in = 0;
        }
        return conn_parse(c);
}

static int conn_spdy_frame(StreamConn *c, const SpdyFrame *f);

static int conn_parse(StreamConn *c) {
        int r;

        while (c->spdy && c->state == CONN_WS && c->n_in > 0) {
                SpdyFrame f;
                size_t used;
                bool pending = false;

                for (size_t i = 0; i < c->n_fds; i++)
                        pending = pending || c->fds[i].n_pending > 0;
                if (pending)
                        break;
                r = spdy_frame_parse(c->in, c->n_in, &used, &f);
                if (r == 0)
                        break;
                if (r < 0) {
                        c->n_in = 0;
                        return conn_close_ws(c, WS_CLOSE_PROTOCOL_ERROR);
                }
                r = conn_spdy_frame(c, &f);
                memmove(c->in, c->in + used, c->n_in - used);
                c->n_in -= used;
                if (r == -EBADMSG) {
                        c->n_in = 0;
                        return conn_close_ws(c, WS_CLOSE_PROTOCOL_ERROR);
                }
                if (r < 0)
                        return r;
        }
        while (!c->spdy && c->state == CONN_WS && c->n_in > 0) {
                WsMessage m;
                size_t used;

                /* Stop parsing while our input for the command is pending. */
                bool pending = false;
                for (size_t i = 0; i < c->n_fds; i++)
                        pending = pending || c->fds[i].n_pending > 0;
                if (pending)
                        break;
                r = ws_parser_feed(&c->ws, c->in, c->n_in, &used, &m);
                if (r == -EBADMSG || r == -EMSGSIZE) {
                        c->n_in = 0;
                        return conn_close_ws(c, r == -EMSGSIZE ? WS_CLOSE_TOO_BIG : WS_CLOSE_PROTOCOL_ERROR);
                }
                if (r < 0)
                        return r;
                memmove(c->in, c->in + used, c->n_in - used);
                c->n_in -= used;
                if (r > 0) {
                        r = conn_message(c, &m);
                        if (r == -EBADMSG) {
                                c->n_in = 0;
                                return conn_close_ws(c, WS_CLOSE_PROTOCOL_ERROR);
                        }
                        if (r < 0)
                                return r;
                }
                if (used == 0)
                        break;
        }
        if (c->state == CONN_CLOSING)
                c->n_in = 0;
        return 0;
}

static int conn_spdy_reply(StreamConn *c, uint32_t stream) {
        _cleanup_free_ uint8_t *block = NULL;
        uint8_t hdr[SPDY_HEADER_SIZE + 4];
        size_t size;
        int r;

        r = spdy_headers_encode(&c->z, NULL, NULL, 0, &block, &size);
        if (r < 0)
                return r;
        spdy_control_header(hdr, SPDY_SYN_REPLY, 0, 4 + size);
        hdr[8] = stream >> 24 & 0x7F;
        hdr[9] = stream >> 16;
        hdr[10] = stream >> 8;
        hdr[11] = stream;
        r = conn_queue(c, hdr, sizeof(hdr));
        if (r >= 0)
                r = conn_queue(c, block, size);
        return r;
}

static int conn_spdy_rst(StreamConn *c, uint32_t stream, uint32_t status) {
        uint8_t b[SPDY_HEADER_SIZE + 8];

        spdy_control_header(b, SPDY_RST_STREAM, 0, 8);
        for (int i = 0; i < 4; i++) {
                b[8 + i] = (i == 0 ? stream >> 24 & 0x7F : stream >> (24 - 8 * i)) & 0xFF;
                b[12 + i] = status >> (24 - 8 * i) & 0xFF;
        }
        return conn_queue(c, b, sizeof(b));
}

static int channel_of_stream(StreamConn *c, uint32_t stream) {
        for (int ch = 0; ch <= CH_RESIZE; ch++)
                if (c->spdy_streams[ch] == stream && stream != 0)
                        return ch;
        return -1;
}

static uint32_t spdy_stream_id(const uint8_t *p) {
        return (uint32_t) (p[0] & 0x7F) << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static StreamFd *pf_slot_of_stream(StreamConn *c, uint32_t stream) {
        for (size_t i = 0; i < c->n_fds; i++)
                if (c->fds[i].in_use && (c->fds[i].spdy_data == stream || c->fds[i].spdy_error == stream))
                        return &c->fds[i];
        return NULL;
}

/* Port-forward's SYN_STREAM: streamType data or error, port, requestID; a
 * connection starts when both of a requestID are open. */
static int conn_spdy_pf_stream(StreamConn *c, uint32_t stream, const SpdyHeaders *h) {
        const char *type = spdy_headers_get(h, "streamtype"), *port_s = spdy_headers_get(h, "port"),
                   *id_s = spdy_headers_get(h, "requestid");
        unsigned long port, id = 0;
        StreamFd *f = NULL;
        char *end;
        bool data;
        int r;

        if (!type || !port_s || (!streq(type, "data") && !streq(type, "error")))
                return conn_spdy_rst(c, stream, SPDY_REFUSED_STREAM);
        data = streq(type, "data");
        errno = 0;
        port = strtoul(port_s, &end, 10);
        if (errno != 0 || *end || port == 0 || port > 65535)
                return conn_spdy_rst(c, stream, SPDY_REFUSED_STREAM);
        if (c->request->n_ports > 0) {
                bool ok = false;

                for (size_t i = 0; i < c->request->n_ports; i++)
                        ok = ok || c->request->ports[i] == port;
                if (!ok)
                        return conn_spdy_rst(c, stream, SPDY_REFUSED_STREAM);
        }
        /* Old clients send no requestID: one connection per port then. */
        if (id_s) {
                id = strtoul(id_s, &end, 10);
                if (*end || id > UINT32_MAX)
                        return conn_spdy_rst(c, stream, SPDY_REFUSED_STREAM);
        }
        for (size_t i = 0; i < c->n_fds && !f; i++)
                if (c->fds[i].in_use && c->fds[i].request_id == id && c->fds[i].port == port &&
                    (data ? c->fds[i].spdy_data : c->fds[i].spdy_error) == 0)
                        f = &c->fds[i];
        for (size_t i = 0; i < c->n_fds && !f; i++)
                if (!c->fds[i].in_use && !c->fds[i].source && c->fds[i].fd < 0)
                        f = &c->fds[i];
        if (!f && c->n_fds < STREAM_MAX_FDS)
                f = &c->fds[c->n_fds++];
        if (!f)
                return conn_spdy_rst(c, stream, SPDY_REFUSED_STREAM);
        if (!f->in_use)
                *f = (StreamFd) { .fd = -EBADF, .in_use = true, .request_id = id, .port = port, .out_channel = 0,
                                  .error_channel = 1, .writable = true, .connecting = true };
        if (data)
                f->spdy_data = stream;
        else
                f->spdy_error = stream;
        r = conn_spdy_reply(c, stream);
        if (r < 0)
                return r;
        if (f->spdy_data && f->spdy_error && c->netns >= 0)
                pf_connect(c, f);
        return 0;
}

/* A data frame: bytes for a port-forward connection, or for the command's
 * stdin or terminal size. */
static int conn_spdy_data_frame(StreamConn *c, const SpdyFrame *f) {
        int r;

        if (conn_spdy_pf(c)) {
                StreamFd *p = pf_slot_of_stream(c, f->stream_id);

                if (!p || p->spdy_data != f->stream_id || !p->writable)
                        return 0;
                if (f->size > 0) {
                        r = stream_fd_write(c, p, f->data, f->size);
                        if (r < 0)
                                return r;
                }
                if (f->flags & SPDY_FLAG_FIN) {
                        /* The client is done sending: the port sees EOF after what is pending. */
                        p->close_after_pending = true;
                        if (p->n_pending == 0 && !p->connecting && p->fd >= 0)
                                (void) stream_fd_flush(p);
                }
                return 0;
        }
        int ch = channel_of_stream(c, f->stream_id);

        if (ch < 0)
                return 0;       /* a stream we refused or never saw */
        if (ch == CH_STDIN || ch == CH_RESIZE) {
                r = conn_input(c, ch, f->data, f->size);
                if (r < 0)
                        return r;
        }
        if ((f->flags & SPDY_FLAG_FIN) && ch == CH_STDIN)
                conn_close_input(c, CH_STDIN);
        return 0;
}

/* SYN_STREAM: the client opens a stream; once every stream the request
 * expects is there, the command starts. */
static int conn_spdy_syn_stream(StreamConn *c, const SpdyFrame *f) {
        _cleanup_(spdy_headers_done) SpdyHeaders h = {};
        static const char *const types[] = {
                [CH_STDIN] = "stdin", [CH_STDOUT] = "stdout", [CH_STDERR] = "stderr",
                [CH_ERROR] = "error", [CH_RESIZE] = "resize",
        };
        const char *type;
        uint32_t stream;
        int ch = -1, r;

        if (f->size < 10)
                return -EBADMSG;
        stream = spdy_stream_id(f->data);
        /* Every header block goes through the session's zlib stream,
         * even of a stream we then refuse: else it falls out of step. */
        r = spdy_headers_decode(&c->z, f->data + 10, f->size - 10, &h);
        if (r < 0)
                return r == -ENOMEM ? r : -EBADMSG;
        if (stream == 0 || stream <= c->spdy_last_stream)
                return -EBADMSG;
        c->spdy_last_stream = stream;
        if (conn_spdy_pf(c))
                return conn_spdy_pf_stream(c, stream, &h);
        type = spdy_headers_get(&h, "streamtype");
        for (int i = 0; type && i <= CH_RESIZE; i++)
                if (streq(type, types[i]))
                        ch = i;
        if (ch < 0 || c->spdy_streams[ch] != 0 || !(c->spdy_expected & (1u << ch)))
                return conn_spdy_rst(c, stream, SPDY_REFUSED_STREAM);
        c->spdy_streams[ch] = stream;
        r = conn_spdy_reply(c, stream);
        if (r < 0)
                return r;
        for (int i = 0; i <= CH_RESIZE; i++)
                if ((c->spdy_expected & (1u << i)) && c->spdy_streams[i] == 0)
                        return 0;
        if (c->started)
                return 0;
        /* All there: the command runs now. */
        c->started = true;
        c->timer = sd_event_source_disable_unref(c->timer);
        r = conn_start_exec(c);
        if (r < 0) {
                char msg[256];

                snprintf(msg, sizeof(msg), "exec failed: %s", strerror(-r));
                (void) conn_send_status(c, -1, msg);
                for (size_t i = 0; i < c->n_fds; i++)
                        stream_fd_failed(c, &c->fds[i], -r);
                return conn_close_ws(c, WS_CLOSE_NORMAL);
        }
        return 0;
}

/* RST_STREAM: the client gives up on a port-forward connection or on
 * stdin. */
static int conn_spdy_rst_stream(StreamConn *c, const SpdyFrame *f) {
        if (f->size >= 4) {
                uint32_t stream = spdy_stream_id(f->data);
                StreamFd *p;

                if (conn_spdy_pf(c) && (p = pf_slot_of_stream(c, stream))) {
                        /* The client gave up on this connection. */
                        stream_fd_done(p);
                        *p = (StreamFd) { .fd = -EBADF, .read_eof = true };
                } else if (!conn_spdy_pf(c) && channel_of_stream(c, stream) == CH_STDIN)
                        conn_close_input(c, CH_STDIN);
        }
        return 0;
}

static int conn_spdy_frame(StreamConn *c, const SpdyFrame *f) {
        int r;

        if (!f->control)
                return conn_spdy_data_frame(c, f);
        switch (f->type) {
        case SPDY_SYN_STREAM:
                return conn_spdy_syn_stream(c, f);
        case SPDY_RST_STREAM:
                return conn_spdy_rst_stream(c, f);
        case SPDY_PING: {
                uint8_t b[SPDY_HEADER_SIZE];

                if (f->size != 4)
                        return -EBADMSG;
                r = conn_queue(c, b, spdy_control_header(b, SPDY_PING, 0, 4));
                return r < 0 ? r : conn_queue(c, f->data, 4);
        }
        case SPDY_GOAWAY:
                /* The client leaves: so does its command (conn_free kills it). */
                c->n_in = 0;
                return conn_close_ws(c, WS_CLOSE_NORMAL);
        default:
                /* SETTINGS, WINDOW_UPDATE, HEADERS, SYN_REPLY: nothing to do.
                 * Our output is bounded by STREAM_OUTPUT_MAX, not by SPDY
                 * windows, as kubelet's spdystream does. */
                return 0;
        }
}

static int conn_write(StreamConn *c) {
        while (c->n_out > 0) {
                ssize_t n = send(c->fd, c->out, c->n_out, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0)
                        return errno == EAGAIN || errno == EINTR ? 0 : -errno;
                memmove(c->out, c->out + n, c->n_out - n);
                c->n_out -= n;
        }
        return 0;
}

/* Which events each of the connection's fds waits for: the client is read
 * unless our input for the command is still pending (then the command's
 * pace is the client's), the command's output unless too much waits for
 * the client (then the client's pace is the command's). Nothing waits on
 * anything else. */
static int conn_update(StreamConn *c) {
        bool pending = false;
        uint32_t ev = 0;
        int r;

        if (c->fd < 0)
                return 0;
        /* attach: the journal waited for the client to take what is queued. */
        if (c->journal_kick && c->journal_behind && c->n_out < STREAM_OUTPUT_MAX && c->state == CONN_WS) {
                r = sd_event_source_set_enabled(c->journal_kick, SD_EVENT_ONESHOT);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < c->n_fds; i++) {
                StreamFd *f = &c->fds[i];
                uint32_t fev = 0;

                pending = pending || f->n_pending > 0;
                if (!f->source)
                        continue;
                if (f->out_channel >= 0 && !f->read_eof && c->n_out < STREAM_OUTPUT_MAX && c->state == CONN_WS)
                        fev |= EPOLLIN;
                if (f->n_pending > 0 || f->connecting)
                        fev |= EPOLLOUT;
                r = sd_event_source_set_io_events(f->source, fev);
                if (r >= 0)
                        r = sd_event_source_set_enabled(f->source, fev ? SD_EVENT_ON : SD_EVENT_OFF);
                if (r < 0)
                        return r;
        }
        if (c->state == CONN_CLOSING && c->n_out == 0 && !c->lingering) {
                /* All said. What the client still sends is read and dropped
                 * until it closes too (a close with unread input would be a
                 * reset, which may destroy our answer before it is read), for
                 * at most STREAM_LINGER_USEC. */
                c->lingering = true;
                (void) shutdown(c->fd, SHUT_WR);
                c->timer = sd_event_source_disable_unref(c->timer);
                r = sd_event_add_time_relative(c->server->event, &c->timer, CLOCK_MONOTONIC, STREAM_LINGER_USEC, 0,
                                               on_conn_timer, c);
                if (r < 0)
                        return r;
        }
        if ((c->state != CONN_CLOSING || c->lingering) && !pending && !c->zombie)
                ev |= EPOLLIN;
        if (c->n_out > 0)
                ev |= EPOLLOUT;
        r = sd_event_source_set_io_events(c->source, ev);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->source, ev ? SD_EVENT_ON : SD_EVENT_OFF);
        return r;
}

static int on_conn_io(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        StreamConn *c = userdata;
        int r = 0;

        if (revents & EPOLLOUT)
                r = conn_write(c);
        if (r >= 0 && (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                r = conn_read(c);
        if (r >= 0)
                r = conn_write(c);
        if (r >= 0)
                r = conn_update(c);
        if (r < 0)
                conn_end(c);
        return 0;
}

static int on_conn_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        /* The request head did not come in time: slowloris. */
        conn_end(userdata);
        return 0;
}

int stream_server_add_connection(StreamServer *s, int fd) {
        StreamConn *c;
        int r;

        if (s->n_conns >= STREAM_MAX_CONNECTIONS) {
                safe_close(fd);
                return -EBUSY;
        }
        c = calloc(1, sizeof(StreamConn));
        if (!c) {
                safe_close(fd);
                return -ENOMEM;
        }
        c->server = s;
        c->fd = fd;
        c->tty_master = -EBADF;
        c->netns = -EBADF;
        c->drain_fd = -EBADF;
        c->attach_master = -EBADF;
        c->next = s->conns;
        if (s->conns)
                s->conns->prev = c;
        s->conns = c;
        s->n_conns++;
        r = sd_event_add_io(s->event, &c->source, fd, EPOLLIN, on_conn_io, c);
        if (r >= 0)
                r = sd_event_add_time_relative(s->event, &c->timer, CLOCK_MONOTONIC, STREAM_REQUEST_USEC, 0,
                                               on_conn_timer, c);
        if (r < 0) {
                conn_free(c);
                return r;
        }
        return 0;
}

/* Half-open connections: see STREAM_KEEPALIVE_IDLE_SEC. */
static void stream_socket_keepalive(int fd) {
        int on = 1, idle = STREAM_KEEPALIVE_IDLE_SEC, intvl = STREAM_KEEPALIVE_INTERVAL_SEC,
            cnt = STREAM_KEEPALIVE_COUNT;
        unsigned timeout = STREAM_USER_TIMEOUT_MSEC;

        (void) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
        (void) setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));
}

static int on_accept(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        StreamServer *s = userdata;

        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

                if (cfd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                log_debug_errno(errno, "accept() on the streaming socket failed: %m");
                        return 0;
                }
                stream_socket_keepalive(cfd);
                (void) stream_server_add_connection(s, cfd);
        }
}

/* ---- exec ---- */

static bool exec_early_take(StreamConn *c) {
        size_t n = strlen(c->unit);

        for (char **e = c->early; e && *e; e++)
                if (strneq(*e, c->unit, n) && (*e)[n] == ' ') {
                        char result[16];
                        int status;

                        if (sscanf(*e + n + 1, "%15s %d", result, &status) != 2)
                                return false;
                        c->result = strdup(result);
                        c->status = status;
                        c->finished = true;
                        return true;
                }
        return false;
}

static int on_exec_finished(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StreamConn *c = userdata;
        const char *id, *result;
        int32_t status;

        if (sd_bus_message_read(m, "ssi", &id, &result, &status) < 0)
                return 0;
        if (!c->unit) {
                char *e;

                /* Before Exec's answer we cannot tell ours: keep the last
                 * 64 (ours is among them: the answer follows its end soon). */
                if (asprintf(&e, "%s %s %d", id, result, status) < 0)
                        return 0;
                size_t n = strv_length(c->early);
                if (n >= 64) {
                        free(c->early[0]);
                        memmove(c->early, c->early + 1, n * sizeof(char *));    /* with the NULL */
                }
                (void) strv_consume(&c->early, e);
                return 0;
        }
        if (!streq(id, c->unit) || c->finished)
                return 0;
        free(c->result);
        c->result = strdup(result);
        c->status = status;
        c->finished = true;
        c->finished_slot = sd_bus_slot_unref(c->finished_slot);
        if (conn_check_done(c) < 0 || conn_update(c) < 0)
                conn_end(c);
        return 0;
}

static int on_exec_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StreamConn *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *id;

        c->exec_slot = sd_bus_slot_unref(c->exec_slot);
        if (e) {
                char msg[512];

                if (c->zombie)
                        return conn_free(c), 0;
                snprintf(msg, sizeof(msg), "peapodd refused the exec: %s", e->message ?: e->name);
                (void) conn_send_status(c, -1, msg);
                (void) conn_close_ws(c, WS_CLOSE_NORMAL);
                for (size_t i = 0; i < c->n_fds; i++)
                        stream_fd_done(&c->fds[i]), c->fds[i].read_eof = true;
                if (conn_update(c) < 0)
                        conn_end(c);
                return 0;
        }
        if (sd_bus_message_read(m, "s", &id) < 0 || !(c->unit = strdup(id))) {
                if (c->zombie)
                        return conn_free(c), 0;
                (void) conn_send_status(c, -1, "cannot read peapodd's answer");
                (void) conn_close_ws(c, WS_CLOSE_NORMAL);
                if (conn_update(c) < 0)
                        conn_end(c);
                return 0;
        }
        (void) exec_early_take(c);
        strv_free(c->early);
        c->early = NULL;
        if (c->zombie)
                return conn_free(c), 0;        /* kills the command */
        if (conn_check_done(c) < 0 || conn_update(c) < 0)
                conn_end(c);
        return 0;
}

static int conn_start_attach(StreamConn *c);

/* The command's terminal: a pty made here, of which only the slave is
 * passed (as the command's stdin, stdout and stderr). */
static int conn_exec_tty(StreamConn *c, int *in_theirs, int *out_theirs, int *err_theirs) {
        StreamRequest *req = c->request;
        _cleanup_close_ int master = -EBADF, slave = -EBADF, master2 = -EBADF;
        int unlock = 0, r;

        /* The pty is made here, on the host, and only its slave is
         * passed; peapodd makes it the command's controlling
         * terminal. The master never leaves peapod-cri. */
        master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (master < 0)
                return -errno;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return -errno;
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return -errno;
        master2 = fcntl(master, F_DUPFD_CLOEXEC, 3);
        if (master2 < 0)
                return -errno;
        c->tty = true;
        c->tty_master = master;
        *in_theirs = TAKE_FD(slave);
        *out_theirs = fcntl(*in_theirs, F_DUPFD_CLOEXEC, 3);
        *err_theirs = fcntl(*in_theirs, F_DUPFD_CLOEXEC, 3);
        if (*out_theirs < 0 || *err_theirs < 0)
                return -errno;
        /* fds[0] writes the client's stdin, fds[1] reads the terminal. */
        r = stream_fd_add(c, TAKE_FD(master2), -1, req->in, NULL);
        if (r < 0)
                return r;
        r = stream_fd_add(c, TAKE_FD(master), req->out ? CH_STDOUT : -1, false, NULL);
        if (r < 0)
                return r;
        return 0;
}

/* The command's pipes: one per stream the client asked for (the caller
 * passes /dev/null for the others). */
static int conn_exec_pipes(StreamConn *c, int *in_theirs, int *out_theirs, int *err_theirs) {
        StreamRequest *req = c->request;
        int r, p[2];

        if (req->in) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        return -errno;
                *in_theirs = p[0];
                (void) fcntl(p[1], F_SETFL, O_NONBLOCK);
                r = stream_fd_add(c, p[1], -1, true, NULL);
        } else
                r = stream_fd_add(c, -EBADF, -1, false, NULL);
        if (r < 0)
                return r;
        for (int ch = CH_STDOUT; ch <= CH_STDERR; ch++) {
                bool want = ch == CH_STDOUT ? req->out : req->err;

                if (!want) {
                        r = stream_fd_add(c, -EBADF, -1, false, NULL);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
                        return -errno;
                if (ch == CH_STDOUT)
                        *out_theirs = p[1];
                else
                        *err_theirs = p[1];
                /* The command's end blocks as a command expects. */
                (void) fcntl(p[1], F_SETFL, 0);
                r = stream_fd_add(c, p[0], ch, false, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int conn_start_exec(StreamConn *c) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_close_ int in_theirs = -EBADF, out_theirs = -EBADF, err_theirs = -EBADF, null_fd = -EBADF;
        StreamRequest *req = c->request;
        sd_bus *bus;
        int r;

        if (req->kind == STREAM_ATTACH)
                return conn_start_attach(c);

        r = cri_bus(c->server->cri, &bus);
        if (r < 0)
                return r;
        if (asprintf(&c->pod_path, "%s/%s", PEAPOD_POD_PATH_PREFIX, req->pod_id) < 0)
                return -ENOMEM;
        null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null_fd < 0)
                return -errno;

        r = req->tty ? conn_exec_tty(c, &in_theirs, &out_theirs, &err_theirs) :
                       conn_exec_pipes(c, &in_theirs, &out_theirs, &err_theirs);
        if (r < 0)
                return r;

        /* Before the call, so that a short command's end is not missed. */
        r = sd_bus_match_signal_async(bus, &c->finished_slot, PEAPOD_BUS_NAME, c->pod_path, PEAPOD_POD_INTERFACE,
                                      "ExecFinished", on_exec_finished, NULL, c);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, c->pod_path, PEAPOD_POD_INTERFACE, "Exec");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", req->app_id);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, req->cmd);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0 && req->tty)
                r = sd_bus_message_append(m, "(sv)", "Environment", "as", 1, "TERM=xterm");
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "hhht", in_theirs >= 0 ? in_theirs : null_fd,
                                          out_theirs >= 0 ? out_theirs : null_fd,
                                          err_theirs >= 0 ? err_theirs : null_fd,
                                          req->tty ? PEAPOD_EXEC_TTY : UINT64_C(0));
        if (r < 0)
                return r;
        /* The message holds its own copies of the fds; ours close at return,
         * so that the command's end is the end of our pipes. */
        return sd_bus_call_async(bus, &c->exec_slot, m, on_exec_reply, c, CRI_BUS_TIMEOUT_USEC);
}

/* ---- attach ---- */

/* Attach reads nothing from the app itself: its stdout and stderr are
 * journal lines (as for every app, so the log file and the app are the
 * same with or without attachers), read from now on and sent as lines
 * (journald's rules: a NUL ends a line, trailing blanks and empty lines
 * are not kept); its stdin, for an app created with Stdin, is a write end
 * that peapodd's Pod.AttachApp hands out. A slow client only lets the
 * journal wait: lines are read while less than STREAM_OUTPUT_MAX is
 * queued for it. */

#define ATTACH_DRAIN_USEC (300ULL * 1000ULL)            /* quiet after the app's end before we end */
#define ATTACH_DRAIN_MAX_USEC (5ULL * 1000000ULL)

static void attach_fail(StreamConn *c, const char *fmt, ...) _printf_(2, 3);
static void attach_fail(StreamConn *c, const char *fmt, ...) {
        char msg[512];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (c->state == CONN_WS) {
                (void) conn_send_status(c, -1, msg);
                (void) conn_close_ws(c, WS_CLOSE_NORMAL);
        }
        for (size_t i = 0; i < c->n_fds; i++)
                stream_fd_done(&c->fds[i]), c->fds[i].read_eof = true, c->fds[i].writable = false;
}

/* Reads lines while the client takes them; 1 if any was read. */
static int attach_read_journal(StreamConn *c) {
        bool any = false;
        int r;

        c->journal_behind = false;
        while (c->state == CONN_WS) {
                PodJournalEntry e;
                int ch;

                if (c->n_out >= STREAM_OUTPUT_MAX) {
                        c->journal_behind = true;
                        break;
                }
                r = pod_journal_next(c->journal, &e);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                any = true;
                ch = e.stream == POD_LOG_STDERR ? CH_STDERR : CH_STDOUT;
                if (!(ch == CH_STDOUT ? c->request->out : c->request->err))
                        continue;
                {
                        _cleanup_free_ uint8_t *buf = malloc(e.message_len + 1);

                        if (!buf)
                                return -ENOMEM;
                        memcpy(buf, e.message, e.message_len);
                        /* A line journald split at LineMax goes on in the next entry. */
                        size_t n = e.message_len;
                        if (e.line_break != POD_LINE_BREAK_LINE_MAX)
                                buf[n++] = '\n';
                        r = conn_channel(c, ch, buf, n);
                        if (r < 0)
                                return r;
                }
        }
        return any;
}

static void attach_after(StreamConn *c) {
        if (conn_check_done(c) < 0 || conn_update(c) < 0)
                conn_end(c);
}

static int on_journal(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        StreamConn *c = userdata;

        (void) pod_journal_process(c->journal);
        if (attach_read_journal(c) < 0)
                return conn_end(c), 0;
        attach_after(c);
        return 0;
}

static int on_journal_kick(sd_event_source *src, void *userdata) {
        return on_journal(src, -1, 0, userdata);
}

/* After the app's end: read until ATTACH_DRAIN_USEC pass without a new
 * line (journald may still be writing its last ones), at most
 * ATTACH_DRAIN_MAX_USEC. */
static int on_drain_timer(sd_event_source *src, uint64_t usec, void *userdata) {
        StreamConn *c = userdata;
        int r;

        (void) pod_journal_process(c->journal);
        r = attach_read_journal(c);
        if (r < 0)
                return conn_end(c), 0;
        if ((r > 0 || c->journal_behind) && usec < c->drain_deadline) {
                if (sd_event_source_set_time_relative(src, ATTACH_DRAIN_USEC) < 0 ||
                    sd_event_source_set_enabled(src, SD_EVENT_ONESHOT) < 0)
                        return conn_end(c), 0;
                return 0;
        }
        c->attach_drained = true;
        attach_after(c);
        return 0;
}

static int attach_drain_start(StreamConn *c) {
        int r;

        c->drain_source = sd_event_source_disable_unref(c->drain_source);
        c->drain_fd = safe_close(c->drain_fd);
        if (!c->drain_timer)
                return sd_event_add_time_relative(c->server->event, &c->drain_timer, CLOCK_MONOTONIC,
                                                  ATTACH_DRAIN_USEC, 0, on_drain_timer, c);
        r = sd_event_source_set_time_relative(c->drain_timer, ATTACH_DRAIN_USEC);
        return r < 0 ? r : sd_event_source_set_enabled(c->drain_timer, SD_EVENT_ONESHOT);
}

static int on_drain_sync(sd_event_source *src, int fd, uint32_t revents, void *userdata) {
        StreamConn *c = userdata;

        /* journald wrote out what it had (or cannot say): the rest, then
         * the quiet period. */
        if (pod_journal_synchronize_read(fd) == 0)
                return 0;
        if (attach_drain_start(c) < 0)
                conn_end(c);
        return 0;
}

/* The app is no longer running: what it wrote before is read, then the end. */
static int attach_finish(StreamConn *c) {
        uint64_t now;
        int fd, r;

        if (c->finished)
                return 0;
        c->finished = true;
        if (sd_event_now(c->server->event, CLOCK_MONOTONIC, &now) < 0)
                now = 0;
        c->drain_deadline = now + ATTACH_DRAIN_MAX_USEC;
        c->changed_slot = sd_bus_slot_unref(c->changed_slot);
        /* Its stdin goes: nobody reads it any more. */
        if (c->n_fds > 0 && c->fds[0].writable) {
                stream_fd_done(&c->fds[0]);
                c->fds[0].writable = false;
        }
        fd = pod_journal_synchronize_start(POD_JOURNAL_NAMESPACE);
        if (fd < 0)
                return attach_drain_start(c);
        c->drain_fd = fd;
        r = sd_event_add_io(c->server->event, &c->drain_source, fd, EPOLLIN, on_drain_sync, c);
        if (r < 0)
                return attach_drain_start(c);
        /* journald not answering is no reason to wait longer. */
        return sd_event_add_time_relative(c->server->event, &c->drain_timer, CLOCK_MONOTONIC, ATTACH_DRAIN_MAX_USEC, 0,
                                          on_drain_timer, c);
}

static int attach_query_state(StreamConn *c);

static int on_attach_stdin(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StreamConn *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        StreamFd *f = &c->fds[0];
        int fd, r;

        c->attach_slot = sd_bus_slot_unref(c->attach_slot);
        f->connecting = false;
        if (!c->request->in) {
                /* A terminal for its size only: nothing typed goes to it. */
                f->writable = false;
        }
        if (e || sd_bus_message_read(m, "h", &fd) < 0 ||
            (fd = fcntl(fd, F_DUPFD_CLOEXEC, 3)) < 0) {
                /* Output only (a StdinOnce app attached to before, say):
                 * what the client types is dropped. */
                log_debug("No stdin for the attach to %s: %s", c->request->app_id,
                          e ? (e->message ?: e->name) : "bad answer");
                f->writable = false;
                f->pending = mfree(f->pending);
                f->n_pending = 0;
                if (c->attach_requery)
                        (void) attach_query_state(c);
                attach_after(c);
                return 0;
        }
        (void) fcntl(fd, F_SETFL, O_NONBLOCK);
        f->fd = fd;
        if (c->tty) {
                /* The app's terminal: written to and resized, never read
                 * (its output is the journal's; a read would take it from
                 * the helper that copies it there). */
                c->attach_master = fcntl(fd, F_DUPFD_CLOEXEC, 3);
                c->tty_master = c->attach_master;
                if (c->tty_master >= 0 && (c->attach_ws.ws_col > 0 || c->attach_ws.ws_row > 0))
                        (void) ioctl(c->tty_master, TIOCSWINSZ, &c->attach_ws);
        }
        r = sd_event_add_io(c->server->event, &f->source, fd, 0, on_fd_io, c);
        if (r < 0)
                return conn_end(c), 0;
        /* What the client sent meanwhile, and its close. */
        if (f->n_pending > 0 || f->close_after_pending) {
                r = stream_fd_flush(f);
                if (r < 0) {
                        stream_fd_done(f);
                        f->writable = false;
                }
        }
        if (c->attach_requery)
                (void) attach_query_state(c);
        attach_after(c);
        return 0;
}

static bool app_state_running(sd_bus_message *m) {
        const char *key, *state = NULL;

        if (sd_bus_message_enter_container(m, 'a', "{sv}") < 0)
                return false;
        while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
                if (sd_bus_message_read(m, "s", &key) < 0)
                        return false;
                if (streq(key, "State")) {
                        if (sd_bus_message_read(m, "v", "s", &state) < 0)
                                return false;
                } else if (sd_bus_message_skip(m, "v") < 0)
                        return false;
                if (sd_bus_message_exit_container(m) < 0)
                        return false;
        }
        return streq_ptr(state, "running");
}

static int on_attach_state(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        StreamConn *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        bool running;
        sd_bus *bus;
        int r;

        c->attach_slot = sd_bus_slot_unref(c->attach_slot);
        running = !e && app_state_running(m);
        if (!c->attach_running) {
                /* The first answer: is there anything to attach to? */
                if (e && sd_bus_error_has_names(e, BUS_ERROR_NO_SUCH_POD, BUS_ERROR_NO_SUCH_APP, SD_BUS_ERROR_UNKNOWN_OBJECT))
                        attach_fail(c, "container %s%s not found", c->request->pod_id, c->request->app_id);
                else if (e)
                        attach_fail(c, "peapodd: %s", e->message ?: e->name);
                else if (!running)
                        attach_fail(c, "container %s%s is not running", c->request->pod_id, c->request->app_id);
                if (!running)
                        return attach_after(c), 0;
                c->attach_running = true;
                if (c->request->in || c->request->tty) {
                        r = cri_bus(c->server->cri, &bus);
                        if (r >= 0)
                                r = sd_bus_call_method_async(bus, &c->attach_slot, PEAPOD_BUS_NAME, c->pod_path,
                                                             PEAPOD_POD_INTERFACE, "AttachApp", on_attach_stdin, c, "st",
                                                             c->request->app_id, UINT64_C(0));
                        if (r < 0)
                                return conn_end(c), 0;
                }
        } else if (!running && attach_finish(c) < 0)
                return conn_end(c), 0;
        if (c->attach_requery && !c->attach_slot)
                (void) attach_query_state(c);
        attach_after(c);
        return 0;
}

static int attach_query_state(StreamConn *c) {
        sd_bus *bus;
        int r;

        c->attach_requery = false;
        r = cri_bus(c->server->cri, &bus);
        if (r < 0)
                return r;
        return sd_bus_call_method_async(bus, &c->attach_slot, PEAPOD_BUS_NAME, c->pod_path, PEAPOD_POD_INTERFACE,
                                        "GetApp", on_attach_state, c, "s", c->request->app_id);
}

/* Any change of the pod (its Apps, its State): is the app still running? */
static int on_attach_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        StreamConn *c = userdata;

        if (c->finished)
                return 0;
        if (c->attach_slot) {
                c->attach_requery = true;       /* one call at a time */
                return 0;
        }
        if (attach_query_state(c) < 0)
                conn_end(c);
        return 0;
}

static int conn_start_attach(StreamConn *c) {
        StreamRequest *req = c->request;
        sd_bus *bus;
        int r;

        c->tty = req->tty;
        r = cri_bus(c->server->cri, &bus);
        if (r < 0)
                return r;
        if (asprintf(&c->pod_path, "%s/%s", PEAPOD_POD_PATH_PREFIX, req->pod_id) < 0)
                return -ENOMEM;
        /* fds[0] is the stdin once AttachApp answers; until then what the
         * client types waits there (and the client is not read on). */
        r = stream_fd_add(c, -EBADF, -1, req->in || req->tty, NULL);
        if (r < 0)
                return r;
        c->fds[0].connecting = req->in || req->tty;
        r = stream_fd_add(c, -EBADF, -1, false, NULL);
        if (r >= 0)
                r = stream_fd_add(c, -EBADF, -1, false, NULL);
        if (r < 0)
                return r;

        /* The journal first: lines written while we ask are not lost. */
        r = pod_journal_open(POD_JOURNAL_NAMESPACE, &c->journal);
        if (r >= 0)
                r = pod_journal_add_app(c->journal, req->app_id);
        if (r >= 0)
                r = pod_journal_seek_tail_lines(c->journal, 0);
        if (r < 0)
                return r;
        r = pod_journal_get_fd(c->journal);
        if (r < 0)
                return r;
        r = sd_event_add_io(c->server->event, &c->journal_source, r, EPOLLIN, on_journal, c);
        if (r >= 0)
                r = sd_event_add_defer(c->server->event, &c->journal_kick, on_journal_kick, c);
        if (r >= 0)
                r = sd_event_source_set_enabled(c->journal_kick, SD_EVENT_OFF);
        if (r < 0)
                return r;

        /* Before the state is read, so that an end right after is seen. */
        r = sd_bus_match_signal_async(bus, &c->changed_slot, PEAPOD_BUS_NAME, c->pod_path,
                                      "org.freedesktop.DBus.Properties", "PropertiesChanged", on_attach_changed, NULL, c);
        if (r < 0)
                return r;
        return attach_query_state(c);
}

/* ---- port-forward ---- */

typedef struct NetnsSockets {
        int netns;
        size_t n;
        int fds[STREAM_MAX_PORTS];
        int error;
} NetnsSockets;

/* Runs in a thread of its own, which enters the pod's network namespace
 * and ends: the sockets it makes stay in that namespace, while the rest of
 * peapod-cri never leaves the host's. Nothing of ours is visible to the
 * pod: a socket is not an fd the pod's processes can reach. */
static void *netns_thread(void *userdata) {
        NetnsSockets *ns = userdata;

        if (setns(ns->netns, CLONE_NEWNET) < 0) {
                ns->error = errno;
                return NULL;
        }
        for (size_t i = 0; i < ns->n; i++) {
                ns->fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (ns->fds[i] < 0) {
                        ns->error = errno;
                        return NULL;
                }
        }
        return NULL;
}

static int sockets_in_netns(int netns, size_t n, int *ret) {
        assert(n <= STREAM_MAX_PORTS);
        NetnsSockets ns = { .netns = netns, .n = n };
        pthread_t t;
        int r;

        for (size_t i = 0; i < n; i++)
                ns.fds[i] = -EBADF;
        r = pthread_create(&t, NULL, netns_thread, &ns);
        if (r != 0)
                return -r;
        (void) pthread_join(t, NULL);
        if (ns.error != 0) {
                for (size_t i = 0; i < n; i++)
                        safe_close(ns.fds[i]);
                return -ns.error;
        }
        memcpy(ret, ns.fds, n * sizeof(int));
        return 0;
}

/* One connection of a SPDY port-forward, once its two streams are open
 * and the pod's namespace is known. */
static void pf_connect(StreamConn *c, StreamFd *f) {
        struct sockaddr_in sa = {
                .sin_family = AF_INET,
                .sin_port = htons(f->port),
                .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
        };
        int fd = -EBADF, r;

        r = sockets_in_netns(c->netns, 1, &fd);
        if (r < 0)
                return stream_fd_failed(c, f, -r);
        f->fd = fd;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS)
                return stream_fd_failed(c, f, errno);
        f->connecting = true;
        if (sd_event_add_io(c->server->event, &f->source, fd, EPOLLOUT, on_fd_io, c) < 0)
                stream_fd_failed(c, f, ENOMEM);
}

static int on_leader(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_close_ int pidfd = -EBADF, netns = -EBADF;
        StreamConn *c = userdata;
        int fds[STREAM_MAX_PORTS];
        char path[64];
        uint32_t leader = 0;
        int r;

        c->leader_slot = sd_bus_slot_unref(c->leader_slot);
        if (sd_bus_message_is_method_error(m, NULL))
                r = -ESRCH;
        else
                r = sd_bus_message_read(m, "v", "u", &leader);
        if (r >= 0 && leader == 0)
                r = -ESRCH;             /* not running */
        if (r >= 0) {
                /* The pidfd pins the leader: if it is still alive after we
                 * opened its namespace, the namespace is the pod's (the pid
                 * was not reused in between). */
                pidfd = (int) syscall(SYS_pidfd_open, (pid_t) leader, 0);
                if (pidfd < 0)
                        r = -errno;
        }
        if (r >= 0) {
                snprintf(path, sizeof(path), "/proc/%" PRIu32 "/ns/net", leader);
                netns = open(path, O_RDONLY | O_CLOEXEC);
                if (netns < 0)
                        r = -errno;
                else if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)
                        r = -ESRCH;
        }
        if (r >= 0 && c->spdy) {
                c->netns = TAKE_FD(netns);
                for (size_t i = 0; i < c->n_fds; i++)
                        if (c->fds[i].in_use && c->fds[i].spdy_data && c->fds[i].spdy_error && c->fds[i].fd < 0)
                                pf_connect(c, &c->fds[i]);
        } else if (c->spdy) {
                /* No pod network to forward into: the session ends. */
                for (size_t i = 0; i < c->n_fds; i++)
                        if (c->fds[i].in_use)
                                stream_fd_failed(c, &c->fds[i], -r);
                (void) conn_close_ws(c, WS_CLOSE_NORMAL);
        }
        if (c->spdy) {
                if (conn_update(c) < 0)
                        conn_end(c);
                return 0;
        }
        if (r >= 0)
                r = sockets_in_netns(netns, c->n_fds, fds);
        for (size_t i = 0; i < c->n_fds; i++) {
                StreamFd *f = &c->fds[i];

                if (r < 0) {
                        stream_fd_failed(c, f, -r);
                        continue;
                }
                struct sockaddr_in sa = {
                        .sin_family = AF_INET,
                        .sin_port = htons(f->port),
                        .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                };
                f->fd = fds[i];
                if (connect(f->fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
                        stream_fd_failed(c, f, errno);
                        continue;
                }
                f->connecting = true;
                if (sd_event_add_io(c->server->event, &f->source, f->fd, EPOLLOUT, on_fd_io, c) < 0)
                        stream_fd_failed(c, f, ENOMEM);
        }
        if (conn_check_done(c) < 0 || conn_update(c) < 0)
                conn_end(c);
        return 0;
}

/* The pod's Leader (on_leader opens its network namespace). */
static int conn_query_leader(StreamConn *c) {
        _cleanup_free_ char *pod_path = NULL;
        sd_bus *bus;
        int r;

        r = cri_bus(c->server->cri, &bus);
        if (r < 0)
                return r;
        if (asprintf(&pod_path, "%s/%s", PEAPOD_POD_PATH_PREFIX, c->request->pod_id) < 0)
                return -ENOMEM;
        return sd_bus_call_method_async(bus, &c->leader_slot, PEAPOD_BUS_NAME, pod_path,
                                        "org.freedesktop.DBus.Properties", "Get", on_leader, c, "ss",
                                        PEAPOD_POD_INTERFACE, "Leader");
}

static int conn_start_port_forward(StreamConn *c, const char *query) {
        StreamRequest *req = c->request;
        int r;

        /* ?port=80&port=8080: each a data channel (2i) and an error channel
         * (2i+1); ports the CRI request named, when it named any. */
        for (const char *p = query; *p;) {
                size_t k = strcspn(p, "&");
                const char *v = startswith(p, "port=");

                if (v && v < p + k) {
                        char num[8];
                        size_t vl = p + k - v;
                        char *end;
                        unsigned long port;

                        if (vl == 0 || vl >= sizeof(num))
                                return -EINVAL;
                        memcpy(num, v, vl);
                        num[vl] = '\0';
                        port = strtoul(num, &end, 10);
                        if (*end || port == 0 || port > 65535)
                                return -EINVAL;
                        if (req->n_ports > 0) {
                                bool ok = false;

                                for (size_t i = 0; i < req->n_ports; i++)
                                        ok = ok || req->ports[i] == port;
                                if (!ok)
                                        return -EPERM;
                        }
                        if (c->n_fds >= STREAM_MAX_PORTS)
                                return -E2BIG;
                        StreamFd *f = &c->fds[c->n_fds++];
                        *f = (StreamFd) { .fd = -EBADF, .out_channel = 2 * (c->n_fds - 1), .writable = true,
                                          .port = port, .error_channel = 2 * (c->n_fds - 1) + 1,
                                          .connecting = true };
                }
                p += k;
                p += *p == '&';
        }
        if (c->n_fds == 0) {
                /* No port in the URL: the CRI request's. */
                for (size_t i = 0; i < req->n_ports; i++) {
                        StreamFd *f = &c->fds[c->n_fds++];
                        *f = (StreamFd) { .fd = -EBADF, .out_channel = 2 * i, .writable = true,
                                          .port = req->ports[i], .error_channel = 2 * i + 1,
                                          .connecting = true };
                }
                if (c->n_fds == 0)
                        return -EINVAL;
        }
        /* Each channel's first message is its port, little endian. */
        for (size_t i = 0; i < c->n_fds; i++) {
                uint8_t port[2] = { c->fds[i].port & 0xFF, c->fds[i].port >> 8 };

                r = conn_channel(c, c->fds[i].out_channel, port, 2);
                if (r >= 0)
                        r = conn_channel(c, c->fds[i].error_channel, port, 2);
                if (r < 0)
                        return r;
        }

        return conn_query_leader(c);
}

/* ---- the server ---- */

int stream_server_new(Cri *cri, const char *address, uint16_t port, uint64_t token_usec, StreamServer **ret) {
        _cleanup_(stream_server_freep) StreamServer *s = NULL;
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = {};
        socklen_t len;
        int r, one = 1;

        s = calloc(1, sizeof(StreamServer));
        if (!s)
                return -ENOMEM;
        s->cri = cri;
        s->token_usec = token_usec ?: STREAM_TOKEN_USEC;
        s->event = sd_event_ref(cri->event);
        s->fd = -EBADF;
        if (inet_pton(AF_INET, address, &sa.in.sin_addr) == 1) {
                sa.in.sin_family = AF_INET;
                sa.in.sin_port = htons(port);
                len = sizeof(sa.in);
                snprintf(s->address, sizeof(s->address), "%s", address);
        } else if (inet_pton(AF_INET6, address, &sa.in6.sin6_addr) == 1) {
                sa.in6.sin6_family = AF_INET6;
                sa.in6.sin6_port = htons(port);
                len = sizeof(sa.in6);
                snprintf(s->address, sizeof(s->address), "[%s]", address);
        } else
                return -EINVAL;
        s->fd = socket(sa.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (s->fd < 0)
                return -errno;
        (void) setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(s->fd, &sa.sa, len) < 0 || listen(s->fd, SOMAXCONN) < 0)
                return -errno;
        if (getsockname(s->fd, &sa.sa, &len) < 0)
                return -errno;
        s->port = ntohs(sa.sa.sa_family == AF_INET ? sa.in.sin_port : sa.in6.sin6_port);
        r = sd_event_add_io(s->event, &s->source, s->fd, EPOLLIN, on_accept, s);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

StreamServer *stream_server_free(StreamServer *s) {
        if (!s)
                return NULL;
        while (s->conns)
                conn_free(s->conns);
        for (size_t i = 0; i < s->n_tokens; i++)
                stream_request_free(s->tokens[i].request);
        sd_event_source_disable_unref(s->source);
        safe_close(s->fd);
        sd_event_unref(s->event);
        return mfree(s);
}

unsigned stream_server_n_connections(StreamServer *s) {
        return s->n_conns;
}

uint16_t stream_server_port(StreamServer *s) {
        return s->port;
}
