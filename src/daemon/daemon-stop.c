/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stopping pods without holding the loop: the stop job of a pod's slice
 * can take as long as its slowest app takes to exit (TimeoutStopSec, then
 * SIGKILL), and peapodd answers everyone else meanwhile. One stop per pod
 * is in flight at a time; a second Stop (or a forced Remove) of the same
 * pod waits for it and is answered when it ends. */
#include <signal.h>
#include <stdio.h>

#include "cgroup-prime.h"
#include "crash-point.h"
#include "daemon.h"
#include "log.h"
#include "pod-network.h"
#include "pod-runtime.h"
#include "string-util.h"
#include "strv.h"
#include "systemd.h"

/* systemd ends a slice's stop job once every app is gone, at the latest
 * after their TimeoutStopSec and SIGKILL; past this, we stop waiting for
 * its JobRemoved and finish with the last resort below. */
#define POD_STOP_JOB_TIMEOUT_USEC (120ULL * 1000000ULL)
/* The last resort's stop job, after SIGKILL to everything of the pod:
 * only a process stuck in the kernel outlasts that. */
#define POD_STOP_KILL_TIMEOUT_USEC (15ULL * 1000000ULL)

static bool slice_job_stopped(const sd_bus_error *error, const char *result) {
        /* Nothing loaded is nothing to stop. */
        return streq_ptr(result, "done") || (error && sd_bus_error_has_name(error, "org.freedesktop.systemd1.NoSuchUnit"));
}

/* The stop job of p's slice did not end "done" (error or result): SIGKILL
 * to every unit of the pod and one more stop job of the slice, bounded by
 * POD_STOP_KILL_TIMEOUT_USEC, whose end comes to done as the first's did;
 * all without waiting, on the main connection (systemd handles the kills
 * before the stop). Once only (*killed): 1 if sent, 0 when the caller
 * goes on without the slice stopped (said here, where it is known). */
static int slice_stop_last_resort(Daemon *d, const Pod *p, const char *slice, bool *killed, const sd_bus_error *error,
                                  const char *result, UnitJobDone done, void *userdata, UnitJob **ret_job) {
        _cleanup_strv_free_ char **units = NULL;
        const char *why = error ? (error->message ?: error->name) : result;
        int r;

        if (*killed) {
                log_warning("The slice %s of pod %s did not stop after SIGKILL either (%s); going on without it.", slice,
                            p->name, why);
                return 0;
        }
        *killed = true;
        log_warning("The stop of pod %s did not end well (%s); killing what is left of it.", p->name, why);
        r = pod_unit_list(p, &units);
        FOREACH_STRV(u, units) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

                /* Fire and forget: a unit already gone answers NoSuchUnit. */
                r = systemd_kill_unit_message(d->bus, u, "all", SIGKILL, &m);
                if (r >= 0)
                        r = sd_bus_call_async(d->bus, NULL, m, NULL, NULL, 0);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = daemon_stop_unit_job(d, slice, POD_STOP_KILL_TIMEOUT_USEC, done, userdata, ret_job);
        if (r < 0) {
                log_warning_errno(r, "Failed to kill what is left of pod %s; going on without its slice %s stopped: %m",
                                  p->name, slice);
                return 0;
        }
        return 1;
}

/* Every unit of p reset without waiting (one that failed stays loaded
 * until then, and its name could not be started again). */
static void pod_units_reset(Daemon *d, const Pod *p) {
        _cleanup_strv_free_ char **units = NULL;
        int r;

        r = pod_unit_list(p, &units);
        if (r >= 0)
                r = daemon_reset_failed_units(d, units);
        if (r < 0)
                log_warning_errno(r, "Failed to reset the units of pod %s: %m", p->name);
}

typedef struct PodTeardown PodTeardown;
static int daemon_pod_teardown_add_waiter(Daemon *d, const Pod *p, sd_bus_message *call);

typedef struct StopWaiter {
        sd_bus_message *call; /* to answer at the end */
        bool remove;          /* RemovePod(force): remove once stopped */
        uint64_t flags;
} StopWaiter;

struct PodStop {
        Daemon *daemon;
        char pod_id[POD_ID_LEN + 1];
        char *slice;
        UnitJob *job; /* the slice's stop job */
        bool killed; /* the last resort was sent (slice_stop_last_resort()) */
        bool teardown_started; /* its networks' teardown runs beside the stop */
        bool primed; /* holds cgroup_prime_hold() until freed */
        StopWaiter *waiters;
        size_t n_waiters;
};

static PodStop *pod_stop_free(PodStop *s) {
        if (!s)
                return NULL;
        if (s->primed)
                cgroup_prime_release();
        unit_job_cancel(s->job);
        for (size_t i = 0; i < s->n_waiters; i++)
                sd_bus_message_unref(s->waiters[i].call);
        free(s->waiters);
        free(s->slice);
        return mfree(s);
}

static PodStop *daemon_find_stop(Daemon *d, const char *pod_id) {
        for (size_t i = 0; i < d->n_stops; i++)
                if (streq(d->stops[i]->pod_id, pod_id))
                        return d->stops[i];
        return NULL;
}

bool daemon_pod_stopping(Daemon *d, const Pod *p) {
        return daemon_find_stop(d, p->id);
}

int daemon_pod_check_idle(Daemon *d, const Pod *p, PeapodError *err) {
        if (daemon_pod_stopping(d, p))
                return peapod_error_set(err, -EALREADY, "Pod %s is stopping", p->name);
        if (daemon_pod_starting(d, p))
                return peapod_error_set(err, -EALREADY, "Pod %s is starting", p->name);
        return 0;
}

static int stop_add_waiter(PodStop *s, sd_bus_message *call, bool remove, uint64_t flags) {
        StopWaiter *w;

        if (!call)
                return 0;
        w = reallocarray(s->waiters, s->n_waiters + 1, sizeof(StopWaiter));
        if (!w)
                return -ENOMEM;
        s->waiters = w;
        s->waiters[s->n_waiters++] = (StopWaiter) { .call = sd_bus_message_ref(call), .remove = remove, .flags = flags };
        return 0;
}

static void stop_answer(Daemon *d, Pod *p, const StopWaiter *w, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

        if (r < 0)
                (void) sd_bus_error_set_errnof(&error, r, "Failed to stop pod %s: %s", p ? p->name : "?", strerror(-r));
        else if (!w->remove && p && daemon_pod_tearing_down(d, p)) {
                /* Answered once its networks are deleted too: a stop leaves
                 * nothing behind when it answers, as it always did; the
                 * exit itself was announced already. */
                r = daemon_pod_teardown_add_waiter(d, p, w->call);
                if (r >= 0)
                        return;
                (void) sd_bus_error_set_errnof(&error, r, "Failed to stop pod %s: %s", p->name, strerror(-r));
        } else if (w->remove && p && daemon_pod_busy(d, p)) {
                /* Its networks are being deleted: the removal waits in the
                 * pod's queue. */
                r = daemon_pod_enqueue(d, p, w->call, QUEUE_REMOVE, w->flags);
                if (r >= 0)
                        return;
                (void) sd_bus_error_set_errnof(&error, r, "Failed to remove pod %s: %s", p->name, strerror(-r));
        } else if (w->remove && p) {
                /* Answered once the pod's files are deleted. */
                r = bus_pod_remove_stopped(d, p, w->flags, w->call, &error);
                if (r >= 0)
                        return;
        }
        if (r < 0)
                (void) sd_bus_reply_method_error(w->call, &error);
        else
                (void) sd_bus_reply_method_return(w->call, NULL);
}

/* ---- the CNI teardown after a pod exited ---- */

struct PodTeardown {
        Daemon *daemon;
        char pod_id[POD_ID_LEN + 1];
        PodNetworkStop *net;
        sd_bus_message **calls; /* Stops to answer at the end */
        size_t n_calls;
        /* The DELs owed by an exited pod (daemon_pod_owed_teardown()):
         * the StartPod or RemovePod that goes on after them. */
        sd_bus_message *then;
        QueuedOp then_op;
        uint64_t then_flags;
        /* Or the caller in peapodd that goes on after them
         * (daemon_pod_owed_dels()). */
        OwedDelsDone then_done;
        void *then_userdata;
        /* The undo of a failed start (daemon_pod_start_undo()): the slice's
         * stop job, then the DELs, then the start is answered with its
         * error (undo_call, may be NULL). */
        bool undo;
        UnitJob *job;
        bool killed;
        PodStopFlags undo_flags;
        sd_bus_message *undo_call;
        sd_bus_error undo_error;
};

static PodTeardown *pod_teardown_free(PodTeardown *t) {
        if (!t)
                return NULL;
        pod_network_stop_free(t->net);
        sd_bus_message_unref(t->then);
        unit_job_cancel(t->job);
        sd_bus_message_unref(t->undo_call);
        sd_bus_error_free(&t->undo_error);
        for (size_t i = 0; i < t->n_calls; i++)
                sd_bus_message_unref(t->calls[i]);
        free(t->calls);
        return mfree(t);
}

static PodTeardown *daemon_find_teardown(Daemon *d, const Pod *p) {
        for (size_t i = 0; i < d->n_teardowns; i++)
                if (streq(d->teardowns[i]->pod_id, p->id))
                        return d->teardowns[i];
        return NULL;
}

bool daemon_pod_tearing_down(Daemon *d, const Pod *p) {
        return daemon_find_teardown(d, p);
}

static int daemon_pod_teardown_add_waiter(Daemon *d, const Pod *p, sd_bus_message *call) {
        PodTeardown *t = daemon_find_teardown(d, p);
        sd_bus_message **l;

        if (!t)
                return -ESRCH;
        l = reallocarray(t->calls, t->n_calls + 1, sizeof(sd_bus_message *));
        if (!l)
                return -ENOMEM;
        t->calls = l;
        t->calls[t->n_calls++] = sd_bus_message_ref(call);
        return 0;
}

/* The call that waited for the DELs an exited pod owed: dispatched again,
 * first of the pod's calls (the others wait in its queue), or answered
 * with what failed. */
static void owed_teardown_then(Daemon *d, Pod *p, PodTeardown *t, int r, const PeapodError *err) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        bool force = t->then_op == QUEUE_REMOVE && (t->then_flags & PEAPOD_REMOVE_POD_FORCE);

        if (!p)
                r = sd_bus_error_setf(&error, BUS_ERROR_NO_SUCH_POD, "Pod %s was removed meanwhile", t->pod_id);
        else if (r < 0 && !force)
                r = sd_bus_error_set_errnof(&error, r, "Failed to delete the networks of pod %s%s: %s", p->name,
                                            t->then_op == QUEUE_REMOVE ? " (force removes it anyway)" : "",
                                            err->message[0] ? err->message : strerror(-r));
        else {
                if (r < 0)
                        log_warning_errno(r, "Removing pod %s although its networks could not be deleted: %s", p->name,
                                          err->message[0] ? err->message : strerror(-r));
                if (t->then_op == QUEUE_START)
                        r = bus_pod_start_call(d, p, t->then, &error);
                else
                        r = bus_pod_remove(d, p, t->then_flags, t->then, &error);
        }
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        (void) sd_bus_error_set_errnof(&error, r, "%s", strerror(-r));
                (void) sd_bus_reply_method_error(t->then, &error);
        }
}

static void teardown_unlink(Daemon *d, PodTeardown *t) {
        for (size_t i = 0; i < d->n_teardowns; i++)
                if (d->teardowns[i] == t) {
                        memmove(d->teardowns + i, d->teardowns + i + 1, sizeof(PodTeardown *) * (d->n_teardowns - i - 1));
                        d->n_teardowns--;
                        return;
                }
}

/* The end of a failed start's undo: what is quick (mounts, the record:
 * created again) on the loop, then the start's answer. */
static void undo_end(PodTeardown *t, int r, const PeapodError *err) {
        Daemon *d = t->daemon;
        Pod *p = daemon_pod_by_id(d, t->pod_id);
        char pod_id[POD_ID_LEN + 1];

        teardown_unlink(d, t);
        /* As the synchronous undo: a DEL that fails keeps its record. */
        if (r < 0)
                log_warning_errno(r, "Failed to delete the networks of pod %s: %s", p ? p->name : t->pod_id,
                                  err && err->message[0] ? err->message : strerror(-r));
        if (p)
                pod_start_fail_full(&d->runtime, p, t->undo_flags | POD_STOP_KEEP_NETWORK);
        if (t->undo_call)
                (void) sd_bus_reply_method_error(t->undo_call, &t->undo_error);
        memcpy(pod_id, t->pod_id, sizeof(pod_id));
        pod_teardown_free(t);
        daemon_pod_queue_run(d, pod_id);
}

static void on_teardown_done(PodNetworkStop *ns, int r, const PeapodError *err, void *userdata) {
        PodTeardown *t = userdata;
        Daemon *d = t->daemon;
        Pod *p = daemon_pod_by_id(d, t->pod_id);
        char pod_id[POD_ID_LEN + 1];

        if (t->undo)
                return undo_end(t, r, err);
        teardown_unlink(d, t);
        /* A DEL that failed keeps its record: RemovePod tries again (and
         * fails unless forced), as does the next start. */
        if (r < 0)
                log_warning_errno(r, "Failed to delete the networks of pod %s: %s", p ? p->name : t->pod_id,
                                  err->message[0] ? err->message : strerror(-r));
        /* Its addresses are gone with its networks. */
        if (p && r >= 0) {
                (void) pod_runtime_save(&d->runtime, p);
        }
        /* The stop itself succeeded; a DEL that failed is the removal's
         * business (its record stays). */
        for (size_t i = 0; i < t->n_calls; i++)
                (void) sd_bus_reply_method_return(t->calls[i], NULL);
        if (t->then)
                owed_teardown_then(d, p, t, r, err);
        else if (t->then_done) {
                OwedDelsDone done = TAKE_PTR(t->then_done);

                done(d, p, r, err, t->then_userdata);
        }
        memcpy(pod_id, t->pod_id, sizeof(pod_id));
        pod_teardown_free(t);
        daemon_pod_queue_run(d, pod_id);
}

/* A teardown of p's networks as init says (its then, a call, is
 * referenced here): the DELs run as the loop's children, then on_teardown_done(). */
static int teardown_start(Daemon *d, Pod *p, const PodTeardown *init, bool force) {
        PodTeardown *t, **l;
        int r;

        l = reallocarray(d->teardowns, d->n_teardowns + 1, sizeof(PodTeardown *));
        if (!l)
                return -ENOMEM;
        d->teardowns = l;
        t = malloc(sizeof(PodTeardown));
        if (!t)
                return -ENOMEM;
        *t = *init;
        t->daemon = d;
        memcpy(t->pod_id, p->id, sizeof(t->pod_id));
        sd_bus_message_ref(t->then);
        r = pod_network_stop_async(&d->runtime, d->event, p, force, on_teardown_done, t, &t->net);
        if (r < 0) {
                pod_teardown_free(t);
                return r;
        }
        d->teardowns[d->n_teardowns++] = t;
        return 0;
}

/* The pod is recorded exited and announced before its DELs run: the plugin
 * chains (iptables among them) never delay the moment a pod is reported
 * exited, and the records make the DELs safe across a crash. */
static int daemon_pod_teardown(Daemon *d, Pod *p) {
        /* No CNI network (--net=none, host): nothing to wait for. */
        if (!pod_network_needs_stop(&d->runtime, p))
                return 0;
        return teardown_start(d, p, &(PodTeardown) {}, false);
}

/* The stop's own teardown, warned about here when it cannot begin:
 * whether it began. */
static bool stop_teardown(Daemon *d, Pod *p) {
        int r = daemon_pod_teardown(d, p);

        if (r < 0)
                log_warning_errno(r, "Failed to delete the networks of pod %s: %m", p->name);
        return r >= 0;
}

/* A teardown of the DELs p owes, then what init says. */
static int owed_teardown_start(Daemon *d, Pod *p, const PodTeardown *init, bool force) {
        if (daemon_pod_busy(d, p))
                return -EBUSY;
        return teardown_start(d, p, init, force);
}

int daemon_pod_owed_teardown(Daemon *d, Pod *p, sd_bus_message *call, QueuedOp op, uint64_t flags) {
        /* With force a DEL that fails drops its record: the removal goes on. */
        return owed_teardown_start(d, p, &(PodTeardown) { .then = call, .then_op = op, .then_flags = flags },
                                   op == QUEUE_REMOVE && (flags & PEAPOD_REMOVE_POD_FORCE));
}

int daemon_pod_owed_dels(Daemon *d, Pod *p, bool force, OwedDelsDone done, void *userdata) {
        return owed_teardown_start(d, p, &(PodTeardown) { .then_done = done, .then_userdata = userdata }, force);
}

/* The slice is stopped (or was never there): reset, end the init, then
 * the DELs of whatever networks the start left. */
static void on_undo_slice_stopped(const sd_bus_error *error, const char *result, void *userdata) {
        _cleanup_free_ char *slice = NULL;
        PodTeardown *t = userdata;
        Daemon *d = t->daemon;
        Pod *p = daemon_pod_by_id(d, t->pod_id);
        int r;

        t->job = NULL; /* freed by its caller */
        if (!p)
                return undo_end(t, 0, NULL);
        if (!slice_job_stopped(error, result) && pod_unit_names(p, &slice, NULL) >= 0 &&
            slice_stop_last_resort(d, p, slice, &t->killed, error, result, on_undo_slice_stopped, t, &t->job) > 0)
                return;
        /* Stopped as far as it goes (else said above): nothing here waits
         * for systemd. */
        t->undo_flags |= POD_STOP_SLICE_STOPPED | POD_STOP_UNITS_RESET;
        pod_units_reset(d, p);
        /* An init that never made it into its scope is not stopped above. */
        if (p->leader > 1)
                (void) kill(p->leader, SIGKILL);
        p->leader = 0;
        if (!pod_network_owed(&d->runtime, p))
                return undo_end(t, 0, NULL);
        r = pod_network_stop_async(&d->runtime, d->event, p, false, on_teardown_done, t, &t->net);
        if (r < 0)
                /* The records stay: the next start or the removal runs them. */
                undo_end(t, r, NULL);
}

int daemon_pod_start_undo(Daemon *d, Pod *p, sd_bus_message *call, const sd_bus_error *error) {
        _cleanup_free_ char *slice = NULL;
        PodTeardown *t, **l;
        int r;

        r = pod_unit_names(p, &slice, NULL);
        if (r < 0)
                return r;
        t = calloc(1, sizeof(PodTeardown));
        if (!t)
                return -ENOMEM;
        *t = (PodTeardown) { .daemon = d, .undo = true, .undo_call = sd_bus_message_ref(call),
                             .undo_error = SD_BUS_ERROR_NULL };
        memcpy(t->pod_id, p->id, sizeof(t->pod_id));
        /* (Returns the error's errno; an ENOMEM leaves that error set.) */
        (void) sd_bus_error_copy(&t->undo_error, error);
        l = reallocarray(d->teardowns, d->n_teardowns + 1, sizeof(PodTeardown *));
        if (!l) {
                pod_teardown_free(t);
                return -ENOMEM;
        }
        d->teardowns = l;
        r = daemon_stop_unit_job(d, slice, POD_STOP_JOB_TIMEOUT_USEC, on_undo_slice_stopped, t, &t->job);
        if (r < 0) {
                pod_teardown_free(t);
                return r;
        }
        d->teardowns[d->n_teardowns++] = t;
        return 0;
}

void daemon_teardowns_free(Daemon *d) {
        for (size_t i = 0; i < d->n_teardowns; i++) {
                PodTeardown *t = d->teardowns[i];

                /* peapodd is exiting: who waits for the DELs (a gc's
                 * removal) is told they did not end, and frees what it
                 * holds. */
                if (t->then_done)
                        t->then_done(d, NULL, -ECANCELED, NULL, t->then_userdata);
                pod_teardown_free(t);
        }
        d->teardowns = mfree(d->teardowns);
        d->n_teardowns = 0;
}

/* The end of a stop, whichever way it came: record, tear down, answer. */
static void stop_finish(PodStop *s) {
        Daemon *d = s->daemon;
        Pod *p = daemon_pod_by_id(d, s->pod_id);
        int r = 0;

        /* Out of the list first: answering may remove the pod. */
        for (size_t i = 0; i < d->n_stops; i++)
                if (d->stops[i] == s) {
                        memmove(d->stops + i, d->stops + i + 1, sizeof(PodStop *) * (d->n_stops - i - 1));
                        d->n_stops--;
                        break;
                }

        if (p) {
                /* The slice stopped as far as it goes (else it was said
                 * where that was known): nothing here waits for systemd. */
                PodStopFlags flags = POD_STOP_KEEP_NETWORK | POD_STOP_SLICE_STOPPED | POD_STOP_UNITS_RESET;

                /* The resets go out before the exit is recorded, as they
                 * did when they were waited for: a crash after the record
                 * leaves no failed unit loaded under the pod's names. */
                pod_units_reset(d, p);
                r = pod_stop_finish(&d->runtime, p, flags);
                if (r < 0)
                        log_warning_errno(r, "Failed to stop pod %s: %m", p->name);
                else
                        log_info("Stopped pod %s.", p->name);
                if (r >= 0 && !s->teardown_started)
                        (void) stop_teardown(d, p);
        }
        /* A removal answered first would leave a pod that others still
         * name: answer in arrival order, each against the pod as it is. */
        for (size_t i = 0; i < s->n_waiters; i++) {
                stop_answer(d, p, &s->waiters[i], r);
                p = daemon_pod_by_id(d, s->pod_id);
        }
        {
                char pod_id[POD_ID_LEN + 1];

                memcpy(pod_id, s->pod_id, sizeof(pod_id));
                trace_point("stop-end");
                pod_stop_free(s);
                daemon_pod_queue_run(d, pod_id);
        }
}

static void on_stop_job_done(const sd_bus_error *error, const char *result, void *userdata) {
        PodStop *s = userdata;
        Pod *p = daemon_pod_by_id(s->daemon, s->pod_id);

        s->job = NULL; /* freed by its caller */
        trace_point("stop-job-done");
        if (!slice_job_stopped(error, result) && p &&
            slice_stop_last_resort(s->daemon, p, s->slice, &s->killed, error, result, on_stop_job_done, s, &s->job) > 0)
                return;
        stop_finish(s);
}

int daemon_pod_stop(Daemon *d, Pod *p, sd_bus_message *call, bool remove, uint64_t flags) {
        PodStop *s, **l;
        int r;

        s = daemon_find_stop(d, p->id);
        if (s)
                return stop_add_waiter(s, call, remove, flags);

        s = calloc(1, sizeof(PodStop));
        if (!s)
                return -ENOMEM;
        s->daemon = d;
        memcpy(s->pod_id, p->id, sizeof(s->pod_id));
        r = pod_stop_prepare(&d->runtime, p, &s->slice);
        if (r <= 0) {
                pod_stop_free(s);
                if (r < 0)
                        return r;
                /* Not running: as stopped as it gets. */
                if (call) {
                        StopWaiter w = { .call = call, .remove = remove, .flags = flags };

                        stop_answer(d, p, &w, 0);
                }
                return 0;
        }
        trace_point("stop-begin");
        /* When the scope stops, PID 1 moves what is left of it into the
         * slice in each cgroup v1 hierarchy: with 1000 pods running that
         * write paid a grace period (7-41 ms, perf trace) in every stop.
         * Not beside a CNI network's DELs, as at the start. */
        s->primed = p->net.mode != POD_NETWORK_CNI && cgroup_prime_hold();
        r = stop_add_waiter(s, call, remove, flags);
        if (r >= 0)
                r = daemon_stop_unit_job(d, s->slice, POD_STOP_JOB_TIMEOUT_USEC, on_stop_job_done, s, &s->job);
        if (r >= 0) {
                l = reallocarray(d->stops, d->n_stops + 1, sizeof(PodStop *));
                if (!l)
                        r = -ENOMEM;
                else {
                        d->stops = l;
                        d->stops[d->n_stops++] = s;
                }
        }
        if (r < 0) {
                pod_stop_free(s);
                return r;
        }
        /* When every app has exited, only the pod's init is left, which
         * holds its namespaces and sends nothing: its networks' DELs begin
         * now, beside the slice's stop, rather than after it. Not while an
         * app runs: its SIGTERM handler may still need the network. The
         * exit is still recorded and announced at the stop's end, without
         * waiting for them; a stop's caller is answered once both ended. */
        if (pod_all_apps_exited(p))
                s->teardown_started = stop_teardown(d, p);
        return 0;
}

void daemon_stops_free(Daemon *d) {
        for (size_t i = 0; i < d->n_stops; i++)
                pod_stop_free(d->stops[i]);
        d->stops = mfree(d->stops);
        d->n_stops = 0;
}
