/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ExecSync: a command in a container, its output and exit code, through
 * peapodd's Pod.Exec. The command runs as peapod-stage1-exec makes it run
 * for `peapod enter`: with the app's namespaces, root, uid, gids,
 * capabilities, seccomp filter and no_new_privs, read from the app's own
 * main process, so never with more privilege than the container. It is
 * not our child: we hold the read ends of its stdout and stderr pipes and
 * wait on the event loop for both to end and for the pod's ExecFinished. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <inttypes.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "peapod-bus.h"
#include "cri.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

/* stdout and stderr together; what comes after is read and dropped, so a
 * chatty command is not blocked on a full pipe. The answer (with its
 * framing) stays below the 16 MiB message cap. */
#define EXEC_OUTPUT_MAX (GRPC_MESSAGE_MAX - 64 * 1024)
/* After the kill of a timed-out command, how long its end (ExecFinished)
 * is waited for before DEADLINE_EXCEEDED is answered anyway. */
#define EXEC_KILL_GRACE_USEC (10ULL * 1000000ULL)

static size_t size_min(size_t a, size_t b) {
        return a < b ? a : b;
}

typedef struct ExecOutput {
        int fd;
        sd_event_source *source;
        char *data;
        size_t size, allocated;
} ExecOutput;

typedef struct CriExec {
        CriQuery *q;            /* the query this is the userdata of */
        char *pod_path;
        char *id;               /* the exec unit, once Exec answered */
        ExecOutput out[2];      /* stdout, stderr */
        size_t total;
        uint64_t timeout_sec;
        sd_event_source *timer;
        bool timed_out, finished, answered;
        char *result;           /* ExecFinished's */
        int status;
        char **early_ids;       /* ExecFinished of this pod before Exec answered */
} CriExec;

/* Asks peapodd to SIGKILL the command and everything it started. No answer
 * is waited for: an exec that has just ended is BadState, which is fine. */
static void exec_kill(CriExec *x) {
        sd_bus *bus;
        int r;

        if (!x->id || x->finished)
                return;
        r = cri_bus(x->q->cri, &bus);
        if (r >= 0)
                r = sd_bus_call_method_async(bus, NULL, PEAPOD_BUS_NAME, x->pod_path, PEAPOD_POD_INTERFACE, "KillExec",
                                             NULL, NULL, "si", x->id, (int32_t) SIGKILL);
        if (r < 0)
                log_warning_errno(r, "Failed to ask peapodd to kill %s: %m", x->id);
}

static void exec_free(void *p) {
        CriExec *x = p;

        if (!x)
                return;
        /* The client went away (or the answer is out): a command still
         * running is nobody's any more. */
        if (!x->answered)
                exec_kill(x);
        for (size_t i = 0; i < ELEMENTSOF(x->out); i++) {
                sd_event_source_disable_unref(x->out[i].source);
                safe_close(x->out[i].fd);
                free(x->out[i].data);
        }
        sd_event_source_disable_unref(x->timer);
        free(x->pod_path);
        free(x->id);
        free(x->result);
        strv_free(x->early_ids);
        free(x);
}

/* Reads what is there now; 1 at the end of the stream. */
static int output_read(CriExec *x, ExecOutput *o) {
        for (;;) {
                char buf[65536];
                ssize_t n;

                n = read(o->fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return 1;
                size_t keep = size_min((size_t) n, EXEC_OUTPUT_MAX - x->total);
                if (keep > 0) {
                        if (o->size + keep > o->allocated) {
                                size_t a = o->allocated * 2 > o->size + keep ? o->allocated * 2 : o->size + keep;
                                char *d = realloc(o->data, a);

                                if (!d)
                                        return -ENOMEM;
                                o->data = d;
                                o->allocated = a;
                        }
                        memcpy(o->data + o->size, buf, keep);
                        o->size += keep;
                        x->total += keep;
                }
        }
}

static bool outputs_done(const CriExec *x) {
        return x->out[0].fd < 0 && x->out[1].fd < 0;
}

static int exec_answer(CriExec *x) {
        Runtime__V1__ExecSyncResponse resp = RUNTIME__V1__EXEC_SYNC_RESPONSE__INIT;
        CriQuery *q = x->q;
        int r;

        x->answered = true;
        if (x->timed_out)
                /* As containerd: kubelet reads DEADLINE_EXCEEDED as a probe
                 * that timed out. */
                r = grpc_call_fail(q->call, GRPC_STATUS_DEADLINE_EXCEEDED, "timeout %" PRIu64 "s exceeded",
                                   x->timeout_sec);
        else {
                resp.stdout.data = (uint8_t *) x->out[0].data;
                resp.stdout.len = x->out[0].size;
                resp.stderr.data = (uint8_t *) x->out[1].data;
                resp.stderr.len = x->out[1].size;
                /* Killed by signal N: 128+N, as a shell says it. */
                resp.exit_code = streq_ptr(x->result, "exited") ? x->status : 128 + x->status;
                r = cri_reply(q->call, &resp.base);
        }
        if (r < 0)
                log_debug_errno(r, "Failed to answer ExecSync: %m");
        cri_query_free(q);
        return 0;
}

/* Both streams at their end and the command's end known: answer. */
static int exec_maybe_answer(CriExec *x) {
        if (x->answered || !x->finished || !outputs_done(x))
                return 0;
        return exec_answer(x);
}

static void output_close(ExecOutput *o) {
        o->source = sd_event_source_disable_unref(o->source);
        o->fd = safe_close(o->fd);
}

static int on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CriExec *x = userdata;
        ExecOutput *o = fd == x->out[0].fd ? &x->out[0] : &x->out[1];
        int r;

        r = output_read(x, o);
        if (r < 0)
                log_debug_errno(r, "Failed to read the output of %s: %m", strna(x->id));
        if (r != 0)
                output_close(o);
        return exec_maybe_answer(x);
}

static void exec_finished(CriExec *x, const char *result, int status) {
        x->finished = true;
        free(x->result);
        x->result = strdup(result);
        x->status = status;
        x->timer = sd_event_source_disable_unref(x->timer);
        /* The command and all of its unit are gone, so everything it wrote
         * is in the pipes; but systemd may hold its copies of their write
         * ends a while longer, so no end of stream is waited for: what is
         * there is taken, and that is all. */
        for (size_t i = 0; i < ELEMENTSOF(x->out); i++) {
                if (x->out[i].fd >= 0)
                        (void) output_read(x, &x->out[i]);
                output_close(&x->out[i]);
        }
}

static int on_exec_finished(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriExec *x = userdata;
        const char *id, *result;
        int32_t status;

        if (sd_bus_message_read(m, "ssi", &id, &result, &status) < 0)
                return 0;
        if (!x->id) {
                /* Not ours: the reply to Exec precedes our exec's signal. */
                (void) strv_extend(&x->early_ids, id);
                return 0;
        }
        if (!streq(id, x->id) || x->finished)
                return 0;
        exec_finished(x, result, status);
        return exec_maybe_answer(x);
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        CriExec *x = userdata;

        if (x->timed_out)
                /* No ExecFinished after the kill (peapodd restarted?). */
                return exec_answer(x);
        x->timed_out = true;
        exec_kill(x);
        /* The answer follows the command's end (ExecFinished), so that
         * DEADLINE_EXCEEDED means it is gone. */
        (void) sd_event_source_set_time_relative(s, EXEC_KILL_GRACE_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        return 0;
}

static int exec_on_started(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        CriExec *x = q->data;
        const char *id;
        int r;

        if (e) {
                x->answered = true;     /* nothing runs: nothing to kill */
                q->match = sd_bus_slot_unref(q->match);
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_UNKNOWN_OBJECT, SD_BUS_ERROR_UNKNOWN_METHOD))
                        return grpc_call_fail(q->call, GRPC_STATUS_NOT_FOUND, "no such container");
                return grpc_call_fail(q->call, cri_status_from_bus_error(e), "peapodd: %s", e->message ?: e->name);
        }
        r = sd_bus_message_read(m, "s", &id);
        if (r < 0)
                return r;
        x->id = strdup(id);
        if (!x->id)
                return -ENOMEM;
        if (strv_contains(x->early_ids, id))
                /* Cannot happen (the reply comes first), but if it did the
                 * command has ended: ask no more. */
                exec_finished(x, "exited", 0);
        if (x->timed_out)
                exec_kill(x);
        return 0;       /* q->match keeps the query until the end */
}

/* The pipes of the command's stdout and stderr: our ends are read by
 * on_output(), the command's are returned. */
static int exec_open_outputs(Cri *cri, CriExec *x, int *ret_out_w, int *ret_err_w) {
        _cleanup_close_ int out_r = -EBADF, out_w = -EBADF, err_r = -EBADF, err_w = -EBADF;
        int fds[2], r;

        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        out_r = fds[0];
        out_w = fds[1];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return -errno;
        err_r = fds[0];
        err_w = fds[1];
        for (size_t i = 0; i < 2; i++) {
                int *fd = i == 0 ? &out_r : &err_r;

                if (fcntl(*fd, F_SETFL, O_NONBLOCK) < 0)
                        return -errno;
                r = sd_event_add_io(cri->event, &x->out[i].source, *fd, EPOLLIN, on_output, x);
                if (r < 0)
                        return r;
                x->out[i].fd = TAKE_FD(*fd);
        }
        *ret_out_w = TAKE_FD(out_w);
        *ret_err_w = TAKE_FD(err_w);
        return 0;
}

/* Pod.Exec of the command in the app, with stdin /dev/null and the
 * output pipes. */
static int exec_message_new(sd_bus *bus, const char *pod_path, const char *app, const Runtime__V1__ExecSyncRequest *req,
                            int devnull, int out_w, int err_w, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, pod_path, PEAPOD_POD_INTERFACE, "Exec");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", app);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "s");
        for (size_t i = 0; r >= 0 && i < req->n_cmd; i++)
                r = sd_bus_message_append(m, "s", req->cmd[i]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sv)hhht", 0, devnull, out_w, err_w, UINT64_C(0));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int cri_exec_sync(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        const Runtime__V1__ExecSyncRequest *req = (const Runtime__V1__ExecSyncRequest *) request;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        _cleanup_close_ int devnull = -EBADF, out_w = -EBADF, err_w = -EBADF;
        char pod[33], app[33];
        CriExec *x;
        sd_bus *bus;
        int r;

        if (cri_container_id_parse(req->container_id, pod, app) < 0)
                return grpc_call_fail(call, GRPC_STATUS_NOT_FOUND, "no such container: %s", strna(req->container_id));
        if (req->n_cmd == 0 || isempty(req->cmd[0]))
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "ExecSync needs a command");
        if (req->timeout < 0)
                return grpc_call_fail(call, GRPC_STATUS_INVALID_ARGUMENT, "ExecSync: a negative timeout");

        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        x = calloc(1, sizeof(CriExec));
        if (!x)
                return -ENOMEM;
        x->q = q;
        x->out[0].fd = x->out[1].fd = -EBADF;
        q->data = x;
        q->data_free = exec_free;
        x->answered = true;     /* until the command runs, there is nothing to kill */
        if (asprintf(&x->pod_path, PEAPOD_POD_PATH_PREFIX "/%s", pod) < 0)
                return -ENOMEM;

        /* The command's stdin is /dev/null (ExecSync has none). */
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (devnull < 0)
                return -errno;
        r = exec_open_outputs(cri, x, &out_w, &err_w);
        if (r < 0)
                return r;

        r = cri_bus(cri, &bus);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        /* Before the call, so that the end of a short command is not missed. */
        r = sd_bus_match_signal_async(bus, &q->match, PEAPOD_BUS_NAME, x->pod_path, PEAPOD_POD_INTERFACE,
                                      "ExecFinished", on_exec_finished, NULL, x);
        if (r < 0)
                return r;
        r = exec_message_new(bus, x->pod_path, app, req, devnull, out_w, err_w, &m);
        if (r < 0)
                return r;
        r = cri_query_send(q, m, exec_on_started);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        x->answered = false;
        /* The message holds its own copies; ours would keep the pipes open
         * after the command is gone. */
        devnull = safe_close(devnull);
        out_w = safe_close(out_w);
        err_w = safe_close(err_w);

        if (req->timeout > 0) {
                /* A year at most: no overflow of the microseconds. */
                x->timeout_sec = (uint64_t) req->timeout < UINT64_C(31536000) ? (uint64_t) req->timeout : UINT64_C(31536000);
                r = sd_event_add_time_relative(cri->event, &x->timer, CLOCK_MONOTONIC,
                                               x->timeout_sec * 1000000ULL, 0,
                                               on_timeout, x);
                if (r < 0)
                        return r;
        }
        TAKE_PTR(q);
        return 0;
}
