/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Starting pods without holding the loop, and one queue of lifecycle calls
 * per pod.
 *
 * A start is a chain of steps driven by events: the pod's mounts
 * (pod_start_prepare(), quick), its init (a child the loop watches until
 * it reports the pod's PID 1), then at once StartTransientUnit of its
 * scope while its networks come up (CNI plugins as children the loop
 * watches), then every app's unit (the replies, then the jobs'
 * JobRemoved), and once the scope's job is done and the networks' ADDs
 * are (beside the binding of the pod's bridge ports, which the apps wait
 * for) RegisterMachineWithNetwork (the reply). The
 * caller's StartPod is answered at the end, so the CLI keeps its
 * semantics; the loop answers everyone else meanwhile, and pods start in
 * parallel. Each step records the pod as pod_start() does (pod-runtime.h),
 * so a crash at any point is undone at the next start of peapodd.
 *
 * One lifecycle operation per pod is in flight at a time: a start, a stop
 * (daemon-stop.c) or the CNI teardown after a pod exited. StartPod,
 * StopPod and RemovePod of a pod that is busy wait in its queue and are
 * dispatched, in order, as though they had just arrived, once it is not.
 * (A Stop, or a forced Remove, of a pod that is stopping joins the stop in
 * flight instead.) */
#include <stdio.h>

#include "cgroup-prime.h"
#include "crash-point.h"
#include "daemon.h"
#include "log.h"
#include "pod-network.h"
#include "pod-runtime.h"
#include "string-util.h"
#include "systemd.h"

/* Past this, a start is failed and undone: systemd owes us an answer. */
#define POD_START_TIMEOUT_USEC (120ULL * 1000000ULL)

typedef struct AppStart {
        struct PodStart *start;
        size_t index;
        char *unit;
        sd_bus_slot *slot;
        char *job;
} AppStart;

struct PodStart {
        Daemon *daemon;
        char pod_id[POD_ID_LEN + 1];
        sd_bus_message *call;
        int shares_host;
        char *slice, *scope;
        PodInitSpawn *init;
        PodNetworkStart *net;
        DurableItem *durable; /* waiting for "preparing" on disk */
        int *ifindices;
        size_t n_ifindices;
        sd_bus_slot *slot; /* the scope's or the machine's call in flight */
        char *scope_job;
        bool scope_done; /* its start job done */
        bool network_added; /* the networks' ADDs done, ifindices known */
        bool network_done; /* the networks up, bridge ports bound */
        bool register_sent;
        AppStart *apps;
        size_t n_apps, n_pending;
        bool machine_done; /* the scope's job done, the machine registered (or none) */
        sd_event_source *timeout;
        /* The first app's stdin (StartPodWithStdin); its fd is call's. */
        AppStdin in;
        bool has_in;
        bool primed; /* holds cgroup_prime_hold() until freed */
        PeapodError err;
};

struct QueuedCall {
        char pod_id[POD_ID_LEN + 1];
        sd_bus_message *call;
        QueuedOp op;
        uint64_t flags;
};

static PodStart *pod_start_free(PodStart *st) {
        if (!st)
                return NULL;
        if (st->primed)
                cgroup_prime_release();
        pod_init_spawn_free(st->init);
        daemon_durable_cancel(st->durable);
        pod_network_start_free(st->net);
        sd_bus_slot_unref(st->slot);
        sd_event_source_disable_unref(st->timeout);
        sd_bus_message_unref(st->call);
        for (size_t i = 0; i < st->n_apps; i++) {
                sd_bus_slot_unref(st->apps[i].slot);
                free(st->apps[i].unit);
                free(st->apps[i].job);
        }
        free(st->apps);
        free(st->ifindices);
        free(st->scope_job);
        free(st->slice);
        free(st->scope);
        return mfree(st);
}

static PodStart *daemon_find_start(Daemon *d, const char *pod_id) {
        for (size_t i = 0; i < d->n_starts; i++)
                if (streq(d->starts[i]->pod_id, pod_id))
                        return d->starts[i];
        return NULL;
}

bool daemon_pod_starting(Daemon *d, const Pod *p) {
        return daemon_find_start(d, p->id);
}

bool daemon_pod_busy(Daemon *d, const Pod *p) {
        return daemon_pod_starting(d, p) || daemon_pod_stopping(d, p) || daemon_pod_tearing_down(d, p) ||
               daemon_pod_app_starting(d, p);
}

static void start_unlink(PodStart *st) {
        Daemon *d = st->daemon;

        for (size_t i = 0; i < d->n_starts; i++)
                if (d->starts[i] == st) {
                        memmove(d->starts + i, d->starts + i + 1, sizeof(PodStart *) * (d->n_starts - i - 1));
                        d->n_starts--;
                        return;
                }
}

/* The end, either way: the call answered, the pod's queue goes on. */
static void start_end(PodStart *st, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Daemon *d = st->daemon;
        Pod *p = daemon_pod_by_id(d, st->pod_id);
        char pod_id[POD_ID_LEN + 1];

        trace_point("start-end");
        start_unlink(st);
        memcpy(pod_id, st->pod_id, sizeof(pod_id));
        if (p && r < 0) {
                log_warning_errno(r, "Failed to start pod %s: %s", p->name,
                                  st->err.message[0] ? st->err.message : strerror(-r));
                /* Undone without holding the loop (daemon-stop.c), which
                 * answers the call at its end; unless a step that undoes
                 * itself did already. */
                if (p->state == POD_PREPARING) {
                        (void) bus_pod_start_error(&error, p, r, &st->err);
                        if (daemon_pod_start_undo(d, p, st->call, &error) >= 0) {
                                st->call = sd_bus_message_unref(st->call);
                                pod_start_free(st);
                                return;
                        }
                        pod_start_fail(&d->runtime, p);
                        sd_bus_error_free(&error);
                }
        }
        if (st->call) {
                if (r < 0) {
                        (void) bus_pod_start_error(&error, p, r, &st->err);
                        (void) sd_bus_reply_method_error(st->call, &error);
                } else
                        (void) sd_bus_reply_method_return(st->call, NULL);
        }
        pod_start_free(st);
        if (p && r >= 0) {
                log_info("Started pod %s.", p->name);
                /* An app may have exited while we were starting the others. */
                daemon_pod_changed(d, p);
        }
        daemon_pod_queue_run(d, pod_id);
}

static void start_finish(PodStart *st) {
        Pod *p = daemon_pod_by_id(st->daemon, st->pod_id);
        int r;

        if (!p)
                return start_end(st, -ESRCH);
        r = pod_start_finish(&st->daemon->runtime, p, &st->err);
        start_end(st, r);
}

static int on_app_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AppStart *as = userdata;
        PodStart *st = as->start;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *job;
        int r;

        as->slot = sd_bus_slot_unref(as->slot);
        trace_point("app-unit-reply");
        if (e) {
                r = peapod_error_set(&st->err, -sd_bus_error_get_errno(e) ?: -EIO, "Failed to start unit %s: %s",
                                     as->unit, e->message ?: e->name);
                start_end(st, r);
                return 0;
        }
        /* The job's JobRemoved comes after this reply on this connection. */
        r = sd_bus_message_read(reply, "o", &job);
        if (r >= 0 && !(as->job = strdup(job)))
                r = -ENOMEM;
        if (r < 0)
                start_end(st, r);
        return 0;
}

/* Running once the scope stands (and the machine is registered) and every
 * app unit's start job is done, in whichever order these come. */
static void start_maybe_finish(PodStart *st) {
        if (st->machine_done && st->network_done && st->n_pending == 0)
                start_finish(st);
}

/* Sent right after the scope's StartTransientUnit, without waiting for
 * it: systemd reads them in order, and each app unit (After= and BindsTo=
 * the scope) is queued behind the scope's job. So the round trips of the
 * scope's job and of the machine's registration overlap the app units'. */
static int start_apps(PodStart *st, Pod *p) {
        Daemon *d = st->daemon;
        int r;

        if (p->n_apps == 0)
                return 0;
        st->apps = calloc(p->n_apps, sizeof(AppStart));
        if (!st->apps)
                return -ENOMEM;
        st->n_apps = st->n_pending = p->n_apps;
        for (size_t i = 0; i < p->n_apps; i++) {
                _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
                AppStart *as = &st->apps[i];

                as->start = st;
                as->index = i;
                /* Only the first app gets the caller's stdin: the others keep
                 * /dev/null and the journal. */
                r = app_unit_name(p->name, p->apps[i].name, &as->unit);
                if (r >= 0)
                        r = app_unit_message(&d->runtime, d->bus, p, &p->apps[i], st->slice, st->scope,
                                             i == 0 && st->has_in ? &st->in : NULL, &m, &st->err);
                if (r >= 0)
                        r = sd_bus_call_async(d->bus, &as->slot, m, on_app_reply, as, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void start_machine_done(PodStart *st) {
        crash_point("start-machine");
        st->machine_done = true;
        start_maybe_finish(st);
}

static int on_register_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PodStart *st = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Pod *p = daemon_pod_by_id(st->daemon, st->pod_id);

        st->slot = sd_bus_slot_unref(st->slot);
        if (!p) {
                start_end(st, -ESRCH);
                return 0;
        }
        if (e) {
                start_end(st, pod_start_machine_error(p, -sd_bus_error_get_errno(e) ?: -EIO, e, &st->err));
                return 0;
        }
        start_machine_done(st);
        return 0;
}

/* The machine, once both its scope stands and its networks' ADDs are done
 * (the host side of its links goes into the registration), beside the
 * binding of its bridge ports: machined runs nothing in the pod, and the
 * apps still wait for the binding. */
static void start_register(PodStart *st) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Daemon *d = st->daemon;
        Pod *p = daemon_pod_by_id(d, st->pod_id);
        int r;

        if (!st->scope_done || !st->network_added || st->register_sent)
                return;
        st->register_sent = true;
        if (!p)
                return start_end(st, -ESRCH);
        /* Never a machine when it shares the host's namespaces: machined's
         * shell, login and copy act in the leader's namespaces, and a
         * leader in the host's namespaces would hand them the host. */
        if (st->shares_host)
                return start_machine_done(st);
        r = pod_register_message(&d->runtime, d->bus, p, st->ifindices, st->n_ifindices, &m);
        if (r >= 0)
                r = sd_bus_call_async(d->bus, &st->slot, m, on_register_reply, st, 0);
        if (r < 0)
                start_end(st, pod_start_machine_error(p, r, NULL, &st->err));
}

/* The scope's start job ended. */
static void on_scope_done(PodStart *st, const char *result) {
        Pod *p = daemon_pod_by_id(st->daemon, st->pod_id);

        trace_point("scope-job-done");
        if (!p)
                return start_end(st, -ESRCH);
        if (!streq(result, "done"))
                return start_end(st, pod_start_machine_error(p, -EIO, NULL, &st->err));
        st->scope_done = true;
        start_register(st);
}

static int on_scope_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PodStart *st = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Pod *p = daemon_pod_by_id(st->daemon, st->pod_id);
        const char *job;
        int r;

        st->slot = sd_bus_slot_unref(st->slot);
        trace_point("scope-unit-reply");
        if (!p) {
                start_end(st, -ESRCH);
                return 0;
        }
        if (e) {
                start_end(st, pod_start_machine_error(p, -sd_bus_error_get_errno(e) ?: -EIO, e, &st->err));
                return 0;
        }
        r = sd_bus_message_read(reply, "o", &job);
        if (r >= 0 && !(st->scope_job = strdup(job)))
                r = -ENOMEM;
        if (r < 0)
                start_end(st, r);
        return 0;
}

/* The host side of the pod's links, once: from the added hook, or from
 * the start's end when that came first. */
static void start_network_added(PodStart *st, PodNetworkStart *ns) {
        if (st->network_added)
                return;
        (void) pod_network_start_ifindices(ns, &st->ifindices, &st->n_ifindices);
        st->network_added = true;
}

static void on_network_added(PodNetworkStart *ns, void *userdata) {
        PodStart *st = userdata;

        trace_point("network-added");
        start_network_added(st, ns);
        start_register(st);
}

static void on_network_started(PodNetworkStart *ns, int r, const PeapodError *err, void *userdata) {
        PodStart *st = userdata;
        Daemon *d = st->daemon;
        Pod *p = daemon_pod_by_id(d, st->pod_id);

        if (r < 0) {
                if (!peapod_error_is_set(&st->err))
                        st->err = *err;
                return start_end(st, r);
        }
        if (!p)
                return start_end(st, -ESRCH);
        start_network_added(st, ns);
        st->net = pod_network_start_free(st->net);
        r = pod_start_network_saved(&d->runtime, p);
        if (r < 0)
                return start_end(st, peapod_error_set(&st->err, r, "Failed to save pod state: %s", strerror(-r)));
        /* The apps only now: they find their networks up. */
        r = start_apps(st, p);
        if (r < 0)
                return start_end(st, r);
        trace_point("units-sent");
        st->network_done = true;
        /* The machine may be registered already (beside the binding). */
        if (st->register_sent)
                start_maybe_finish(st);
        else
                start_register(st);
}

/* The scope takes the init as soon as it is ready, while the networks come
 * up: its job (the slice made, the init moved into a new cgroup) overlaps
 * the plugins' ADDs instead of following them. Our own scope, not
 * machined's CreateMachine: PID 1 would track machined's name for that
 * scope, one bus match per pod in PID 1 (dbus-daemon allows 512 per
 * connection). */
static int start_scope(PodStart *st, Pod *p) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Daemon *d = st->daemon;
        int r;

        r = pod_scope_message(&d->runtime, d->bus, p, &m);
        if (r >= 0)
                r = sd_bus_call_async(d->bus, &st->slot, m, on_scope_reply, st, 0);
        if (r < 0)
                return pod_start_machine_error(p, r, NULL, &st->err);
        trace_point("scope-sent");
        return 0;
}

static void start_network(PodStart *st) {
        Daemon *d = st->daemon;
        Pod *p = daemon_pod_by_id(d, st->pod_id);
        int r;

        if (!p)
                return start_end(st, -ESRCH);
        r = pod_network_start_async(&d->runtime, d->event, p, on_network_started, st, &st->net, &st->err);
        if (r < 0)
                return start_end(st, r);
        pod_network_start_on_added(st->net, on_network_added);
}

static void on_preparing_durable(Daemon *d, int r, void *userdata) {
        PodStart *st = userdata;

        st->durable = NULL;
        trace_point("preparing-durable");
        start_network(st);
}

static void on_init_ready(PodInitSpawn *is, int r, pid_t leader, const PeapodError *err, void *userdata) {
        PodStart *st = userdata;
        Daemon *d = st->daemon;
        Pod *p = daemon_pod_by_id(d, st->pod_id);

        st->init = pod_init_spawn_free(st->init);
        trace_point("init-ready");
        if (r < 0) {
                if (!peapod_error_is_set(&st->err))
                        st->err = *err;
                return start_end(st, r);
        }
        if (!p)
                return start_end(st, -ESRCH);
        /* Undone by itself on failure. */
        r = pod_start_init_done(&d->runtime, p, leader, &st->err);
        if (r < 0)
                return start_end(st, r);
        st->shares_host = r;
        r = start_scope(st, p);
        if (r < 0)
                return start_end(st, r);
        /* The CNI plugins write leases that outlive a power loss, which
         * only a pod found "preparing" gets DELs for at the next start:
         * that record goes to disk first (pod_save()). Without plugins
         * nothing waits. */
        if (p->net.mode != POD_NETWORK_CNI)
                return start_network(st);
        r = daemon_durable_barrier(d, on_preparing_durable, st, &st->durable);
        if (r < 0)
                start_end(st, r);
}

static int on_start_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        PodStart *st = userdata;

        start_end(st, peapod_error_set(&st->err, -ETIMEDOUT, "systemd did not start the pod's units within %llu s",
                                       POD_START_TIMEOUT_USEC / 1000000ULL));
        return 0;
}

/* App unit as's start job is done: the app runs. */
static void app_started(AppStart *as) {
        PodStart *st = as->start;
        Pod *p = daemon_pod_by_id(st->daemon, st->pod_id);

        if (!p)
                return start_end(st, -ESRCH);
        app_mark_started(&p->apps[as->index]);
        st->n_pending--;
        start_maybe_finish(st);
}

/* Its start job "failed": started all the same if the helper ran (a quick
 * exit within the job). */
static int on_app_unit_read(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AppStart *as = userdata;
        PodStart *st = as->start;

        as->slot = sd_bus_slot_unref(as->slot);
        if (daemon_start_job_ran(reply))
                app_started(as);
        else
                start_end(st, peapod_error_set(&st->err, -EIO, "Unit %s did not start: failed", as->unit));
        return 0;
}

int daemon_job_removed_start(Daemon *d, const char *job, const char *result) {
        for (size_t i = 0; i < d->n_starts; i++) {
                PodStart *st = d->starts[i];

                if (streq_ptr(st->scope_job, job)) {
                        st->scope_job = mfree(st->scope_job);
                        on_scope_done(st, result);
                        return 1;
                }
                for (size_t k = 0; k < st->n_apps; k++) {
                        AppStart *as = &st->apps[k];
                        int r;

                        if (!streq_ptr(as->job, job))
                                continue;
                        as->job = mfree(as->job);
                        trace_point("app-job-done");
                        r = systemd_start_job_check(as->unit, result, &st->err);
                        if (r == 0)
                                app_started(as);
                        else if (r > 0) {
                                /* Read without waiting; the start goes on from the answer. */
                                r = systemd_unit_read_async(d->bus, &as->slot, as->unit, on_app_unit_read, as);
                                if (r < 0)
                                        start_end(st, r);
                        } else
                                start_end(st, r);
                        return 1;
                }
        }
        return 0;
}

int daemon_pod_start(Daemon *d, Pod *p, sd_bus_message *call, const AppStdin *in, PeapodError *err) {
        PodStart *st, **l;
        int r;

        st = calloc(1, sizeof(PodStart));
        if (!st)
                return -ENOMEM;
        trace_point("start-begin");
        /* PID 1 moves the init into its scope and the apps into their units
         * at the end of this, on the critical path unless the CNI plugins'
         * ADDs hide it: priming beside them made a default network start
         * 4-7 ms slower (bench/start/trace, two alternated pairs), not
         * faster. */
        st->primed = p->net.mode != POD_NETWORK_CNI && cgroup_prime_hold();
        st->daemon = d;
        memcpy(st->pod_id, p->id, sizeof(st->pod_id));
        st->call = sd_bus_message_ref(call);
        if (in) {
                st->in = *in;
                st->has_in = true;
        }
        r = pod_unit_names(p, &st->slice, &st->scope);
        l = r >= 0 ? reallocarray(d->starts, d->n_starts + 1, sizeof(PodStart *)) : NULL;
        if (!l) {
                pod_start_free(st);
                return r < 0 ? r : -ENOMEM;
        }
        d->starts = l;

        /* The init first: it gets ready in a process of its own while the
         * loop records the start and makes the mounts, instead of after
         * them. A crash before "preparing" is recorded leaves it in
         * peapodd's cgroup, whose leftovers the next peapodd kills at
         * start, as after any crash before its pid is recorded. */
        r = pod_init_spawn_async(&d->runtime, d->event, p, on_init_ready, st, &st->init, err);
        trace_point("init-spawned");
        if (r < 0) {
                pod_start_free(st);
                return r;
        }
        /* Mounts: quick, and undone by itself on failure (the init goes
         * with st: it dies with its launcher until it is ready). */
        r = pod_start_prepare(&d->runtime, p, err);
        if (r < 0) {
                pod_start_free(st);
                return r;
        }
        d->starts[d->n_starts++] = st;

        r = sd_event_add_time_relative(d->event, &st->timeout, CLOCK_MONOTONIC, POD_START_TIMEOUT_USEC, 0,
                                       on_start_timeout, st);
        if (r < 0)
                /* Answered here, as every other failure of the start. */
                start_end(st, r);
        return 0;
}

void daemon_starts_free(Daemon *d) {
        for (size_t i = 0; i < d->n_starts; i++)
                pod_start_free(d->starts[i]);
        d->starts = mfree(d->starts);
        d->n_starts = 0;
}

/* ---- the queue ---- */

static QueuedCall *queued_call_free(QueuedCall *q) {
        if (!q)
                return NULL;
        sd_bus_message_unref(q->call);
        return mfree(q);
}

int daemon_pod_enqueue(Daemon *d, Pod *p, sd_bus_message *call, QueuedOp op, uint64_t flags) {
        QueuedCall *q, **l;

        q = calloc(1, sizeof(QueuedCall));
        if (!q)
                return -ENOMEM;
        memcpy(q->pod_id, p->id, sizeof(q->pod_id));
        q->call = sd_bus_message_ref(call);
        q->op = op;
        q->flags = flags;
        l = reallocarray(d->queued, d->n_queued + 1, sizeof(QueuedCall *));
        if (!l) {
                queued_call_free(q);
                return -ENOMEM;
        }
        d->queued = l;
        d->queued[d->n_queued++] = q;
        return 1;
}

void daemon_pod_queue_run(Daemon *d, const char *pod_id) {
        for (;;) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
                QueuedCall *q = NULL;
                Pod *p = daemon_pod_by_id(d, pod_id);
                int r;

                if (p && daemon_pod_busy(d, p))
                        return;
                for (size_t i = 0; i < d->n_queued; i++)
                        if (streq(d->queued[i]->pod_id, pod_id)) {
                                q = d->queued[i];
                                memmove(d->queued + i, d->queued + i + 1, sizeof(QueuedCall *) * (d->n_queued - i - 1));
                                d->n_queued--;
                                break;
                        }
                if (!q)
                        return;
                /* As though it had just arrived, against the pod as it is now. */
                if (!p)
                        r = sd_bus_error_setf(&error, BUS_ERROR_NO_SUCH_POD, "Pod %s was removed meanwhile",
                                              pod_id);
                else if (q->op == QUEUE_START)
                        r = bus_pod_start_call(d, p, q->call, &error);
                else if (q->op == QUEUE_STOP)
                        r = bus_pod_stop(d, p, q->call, &error);
                else
                        r = bus_pod_remove(d, p, q->flags, q->call, &error);
                if (r < 0) {
                        if (!sd_bus_error_is_set(&error))
                                (void) sd_bus_error_set_errnof(&error, r, "%s", strerror(-r));
                        (void) sd_bus_reply_method_error(q->call, &error);
                }
                queued_call_free(q);
        }
}

void daemon_queue_free(Daemon *d) {
        for (size_t i = 0; i < d->n_queued; i++)
                queued_call_free(d->queued[i]);
        d->queued = mfree(d->queued);
        d->n_queued = 0;
}
