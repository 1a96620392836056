/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The work behind the app methods of org.peapod1.Pod (daemon-app.c is
 * their face, as daemon-image.c is daemon-image-core.c's): app starts and
 * stops that run their systemd jobs without holding the loop, removals,
 * execs (peapod-stage1-exec spawned, moved into the app's unit, watched),
 * and the rules that depend on those in flight. What needs no daemon is
 * in pod-app.c and pod-exec.c. */
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>

#include "daemon-app.h"
#include "daemon.h"
#include "log.h"
#include "pod-app.h"
#include "pod-exec.h"
#include "string-util.h"
#include "strv.h"
#include "subprocess.h"
#include "systemd.h"
#include "time-util.h"

static int daemon_app_check_idle(Daemon *d, const Pod *p, const App *a, PeapodError *err);

/* App starts without holding the loop: StartApp and AddApp with its start
 * flag stop a unit left by the app's last run (StopUnit: its leftover
 * processes may take the stop timeout; an app that has not run in this
 * life of the pod only when its start meets one), reset it, start the app's unit
 * (StartTransientUnit) and answer once that job has ended. One start per
 * app is in flight, during which the app's other calls are BadState
 * ("is starting") and the pod's StartPod, StopPod and RemovePod wait in
 * its queue. Nothing is recorded before the unit has started, as with
 * the synchronous start: a crash meanwhile leaves at most a unit in the
 * pod's slice, which the app's next start stops first. */

/* As long as an app's stop may take; and a start job of Type=exec ends
 * once the helper is exec'd. */
#define APP_START_JOB_TIMEOUT_USEC (120ULL * 1000000ULL)
/* systemd collects a reset unit on its next turn: a new one of the same
 * name may meet the old one for a moment (UnitExists). */
#define APP_START_EXISTS_RETRIES 20
#define APP_START_EXISTS_WAIT_USEC (50ULL * 1000ULL)

struct AppStartOp {
        Daemon *daemon;
        char pod_id[POD_ID_LEN + 1];
        uint64_t pod_started_usec;
        char *app, *unit;
        sd_bus_message *call;
        bool add; /* AddApp: answered with the app's name and id */
        bool old_unit_stopped; /* the stop of a last run's unit was asked for */
        UnitJob *job;
        sd_event_source *retry;
        sd_bus_slot *slot; /* the unit's read after a "failed" start job */
        unsigned tries;
        PeapodError err;
};

static AppStartOp *app_start_op_free(AppStartOp *o) {
        if (!o)
                return NULL;
        unit_job_cancel(o->job);
        sd_event_source_disable_unref(o->retry);
        sd_bus_slot_unref(o->slot);
        sd_bus_message_unref(o->call);
        free(o->app);
        free(o->unit);
        return mfree(o);
}

static AppStartOp *daemon_find_app_start(Daemon *d, const char *pod_id, const char *app) {
        for (size_t i = 0; i < d->n_app_starts; i++)
                if (streq(d->app_starts[i]->pod_id, pod_id) && (!app || streq(d->app_starts[i]->app, app)))
                        return d->app_starts[i];
        return NULL;
}

bool daemon_pod_app_starting(Daemon *d, const Pod *p) {
        return daemon_find_app_start(d, p->id, NULL);
}

/* The pod and app the start is for, if the pod still runs the life it
 * ran when the start began. */
static App *app_start_op_app(AppStartOp *o, Pod **ret_pod) {
        Pod *p = daemon_pod_by_id(o->daemon, o->pod_id);

        if (!p || p->state != POD_RUNNING || p->started_usec != o->pod_started_usec)
                return NULL;
        *ret_pod = p;
        return pod_find_app(p, o->app);
}

/* Stops and resets unit without waiting: what is left of a start that
 * failed, or of the last run of an app being removed (its unit may be
 * loaded, "active (exited)" or "failed"). */
static void daemon_release_unit(Daemon *d, const char *unit) {
        (void) sd_bus_call_method_async(d->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                        "org.freedesktop.systemd1.Manager", "StopUnit", NULL, NULL, "ss", unit,
                                        "replace");
        (void) daemon_reset_failed_units(d, STRV_MAKE(unit));
}

static void app_start_end(AppStartOp *o, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Daemon *d = o->daemon;
        char pod_id[POD_ID_LEN + 1];
        Pod *p = NULL;
        App *a;

        for (size_t i = 0; i < d->n_app_starts; i++)
                if (d->app_starts[i] == o) {
                        memmove(d->app_starts + i, d->app_starts + i + 1, sizeof(AppStartOp *) * (d->n_app_starts - i - 1));
                        d->n_app_starts--;
                        break;
                }
        a = app_start_op_app(o, &p);
        if (r >= 0 && !a)
                r = peapod_error_set(&o->err, -ESRCH, "Pod %s stopped while app %s was starting", o->pod_id, o->app);
        if (r >= 0)
                r = pod_app_start_finish(&d->runtime, p, a, &o->err);
        if (r < 0) {
                log_warning_errno(r, "Failed to start app %s of pod %s: %s", o->app, p ? p->name : o->pod_id,
                                  o->err.message[0] ? o->err.message : strerror(-r));
                if (o->unit)
                        daemon_release_unit(d, o->unit);
                (void) bus_error_from_errno(&error, BUS_ERROR_SCOPE_APP, r, o->err.message, "Failed to start app");
                (void) sd_bus_reply_method_error(o->call, &error);
        } else {
                log_info("Started app %s of pod %s.", a->name, p->name);
                if (o->add)
                        (void) sd_bus_reply_method_return(o->call, "ss", a->name, a->id);
                else
                        (void) sd_bus_reply_method_return(o->call, NULL);
        }
        memcpy(pod_id, o->pod_id, sizeof(pod_id));
        app_start_op_free(o);
        p = daemon_pod_by_id(d, pod_id);
        /* A quick exit before the start was recorded is read here; and a
         * pod made by 'run' ends with its last app. */
        if (p)
                daemon_pod_changed(d, p);
        daemon_pod_queue_run(d, pod_id);
}

static int app_start_send(AppStartOp *o);
static void on_app_old_unit_stopped(const sd_bus_error *error, const char *result, void *userdata);

static int app_start_stop_old_unit(AppStartOp *o) {
        o->old_unit_stopped = true;
        return daemon_stop_unit_job(o->daemon, o->unit, APP_START_JOB_TIMEOUT_USEC, on_app_old_unit_stopped, o, &o->job);
}

static int on_app_start_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        AppStartOp *o = userdata;
        int r;

        o->retry = sd_event_source_disable_unref(o->retry);
        r = app_start_send(o);
        if (r < 0)
                app_start_end(o, r);
        return 0;
}

/* A start job that failed may have run the helper all the same (a quick
 * exit within the job, systemd_start_job_check()): the unit says. */
static int on_app_start_unit_read(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        AppStartOp *o = userdata;

        o->slot = sd_bus_slot_unref(o->slot);
        if (daemon_start_job_ran(reply))
                app_start_end(o, 0);
        else
                app_start_end(o, peapod_error_set(&o->err, -EIO, "Unit %s did not start: failed", o->unit));
        return 0;
}

static void on_app_start_job_done(const sd_bus_error *error, const char *result, void *userdata) {
        AppStartOp *o = userdata;
        int r;

        o->job = NULL; /* freed by its caller */
        /* A unit under the app's name after all (a crash before its start
         * was recorded, a removed app's of the same name not yet
         * collected): stopped first, as for an app that ran before. */
        if (error && sd_bus_error_has_name(error, "org.freedesktop.systemd1.UnitExists") && !o->old_unit_stopped) {
                r = app_start_stop_old_unit(o);
                if (r < 0)
                        app_start_end(o, r);
                return;
        }
        if (error && sd_bus_error_has_name(error, "org.freedesktop.systemd1.UnitExists") &&
            o->tries < APP_START_EXISTS_RETRIES) {
                r = sd_event_add_time_relative(o->daemon->event, &o->retry, CLOCK_MONOTONIC, APP_START_EXISTS_WAIT_USEC, 0,
                                               on_app_start_retry, o);
                if (r < 0)
                        app_start_end(o, r);
                return;
        }
        if (error)
                return app_start_end(o, peapod_error_set(&o->err, -sd_bus_error_get_errno(error) ?: -EIO,
                                                         "Failed to start unit %s: %s", o->unit,
                                                         error->message ?: error->name));
        r = systemd_start_job_check(o->unit, result, &o->err);
        if (r <= 0)
                return app_start_end(o, r);
        r = systemd_unit_read_async(o->daemon->bus, &o->slot, o->unit, on_app_start_unit_read, o);
        if (r < 0)
                app_start_end(o, r);
}

static int app_start_send(AppStartOp *o) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *slice = NULL, *scope = NULL;
        Daemon *d = o->daemon;
        Pod *p = NULL;
        App *a;
        int r;

        a = app_start_op_app(o, &p);
        if (!a)
                return peapod_error_set(&o->err, -ESRCH, "Pod %s stopped while app %s was starting", o->pod_id, o->app);
        o->tries++;
        r = pod_unit_names(p, &slice, &scope);
        if (r >= 0)
                r = app_unit_message(&d->runtime, d->bus, p, a, slice, scope, NULL, &m, &o->err);
        if (r >= 0)
                r = daemon_unit_job(d, m, o->unit, APP_START_JOB_TIMEOUT_USEC, on_app_start_job_done, o, &o->job);
        return r;
}

/* The unit of the app's last run is stopped: reset it, then start anew
 * (systemd handles the two in order). */
static void on_app_old_unit_stopped(const sd_bus_error *error, const char *result, void *userdata) {
        AppStartOp *o = userdata;
        int r;

        o->job = NULL; /* freed by its caller */
        if (error && !sd_bus_error_has_name(error, "org.freedesktop.systemd1.NoSuchUnit"))
                log_debug("Failed to stop %s before its start: %s", o->unit, error->message ?: error->name);
        r = daemon_reset_failed_units(o->daemon, STRV_MAKE(o->unit));
        if (r >= 0)
                r = app_start_send(o);
        if (r < 0)
                app_start_end(o, r);
}

/* Starts app a of running pod p; call is answered when it has started (or
 * failed). -errno with err set when it failed at once (call not answered). */
int daemon_app_start(Daemon *d, Pod *p, App *a, sd_bus_message *call, bool add, PeapodError *err) {
        AppStartOp *o, **l;
        int r;

        r = daemon_app_check_idle(d, p, a, err);
        if (r >= 0)
                r = pod_app_start_prepare(&d->runtime, p, a, err);
        if (r < 0)
                return r;
        l = reallocarray(d->app_starts, d->n_app_starts + 1, sizeof(AppStartOp *));
        if (!l)
                return -ENOMEM;
        d->app_starts = l;
        o = calloc(1, sizeof(AppStartOp));
        if (!o)
                return -ENOMEM;
        *o = (AppStartOp) { .daemon = d, .pod_started_usec = p->started_usec, .add = add,
                            .call = sd_bus_message_ref(call) };
        memcpy(o->pod_id, p->id, sizeof(o->pod_id));
        o->app = strdup(a->name);
        r = o->app ? app_unit_name(p->name, a->name, &o->unit) : -ENOMEM;
        /* An app that has not run in this life of the pod (added since it
         * started: the CRI's CreateContainer) has no unit of a last run
         * to stop: its start goes out at once, ~4 ms sooner. */
        if (r >= 0)
                r = a->state == APP_CREATED ? app_start_send(o) : app_start_stop_old_unit(o);
        if (r < 0) {
                if (peapod_error_is_set(&o->err))
                        *err = o->err;
                app_start_op_free(o);
                return r;
        }
        d->app_starts[d->n_app_starts++] = o;
        return 0;
}

void daemon_app_starts_free(Daemon *d) {
        for (size_t i = 0; i < d->n_app_starts; i++)
                app_start_op_free(d->app_starts[i]);
        d->app_starts = mfree(d->app_starts);
        d->n_app_starts = 0;
}

/* App stops without holding the loop: StopApp (and a forced RemoveApp of
 * a running app) send StopUnit for the app's unit and are answered when
 * its job has ended, which an app that ignores SIGTERM makes last its stop
 * timeout. One stop per app is in flight; a second StopApp or a forced
 * RemoveApp of the same app joins it. How the app ended comes meanwhile
 * with its unit's last PropertiesChanged (on_unit_properties_changed()). */

/* systemd ends the job at the latest after the app's TimeoutStopSec and
 * SIGKILL; past this we stop waiting and record the app exited. */
#define APP_STOP_JOB_TIMEOUT_USEC (120ULL * 1000000ULL)

typedef struct AppStopWaiter {
        sd_bus_message *call;
        bool remove; /* RemoveApp(force): remove once stopped */
} AppStopWaiter;

struct AppStop {
        Daemon *daemon;
        char pod_id[POD_ID_LEN + 1];
        char *app;
        UnitJob *job;
        AppStopWaiter *waiters;
        size_t n_waiters;
};

static AppStop *app_stop_free(AppStop *s) {
        if (!s)
                return NULL;
        unit_job_cancel(s->job);
        for (size_t i = 0; i < s->n_waiters; i++)
                sd_bus_message_unref(s->waiters[i].call);
        free(s->waiters);
        free(s->app);
        return mfree(s);
}

static AppStop *daemon_find_app_stop(Daemon *d, const Pod *p, const App *a) {
        for (size_t i = 0; i < d->n_app_stops; i++)
                if (streq(d->app_stops[i]->pod_id, p->id) && streq(d->app_stops[i]->app, a->name))
                        return d->app_stops[i];
        return NULL;
}

/* The rules of a change of app a while a start or stop of it is in
 * flight: none but a stop joining a stop (daemon_app_stop()). -EALREADY
 * (BadState) with err set. */
static int daemon_app_check_not_starting(Daemon *d, const Pod *p, const App *a, PeapodError *err) {
        if (daemon_find_app_start(d, p->id, a->name))
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is starting", a->name, p->name);
        return 0;
}

static int daemon_app_check_idle(Daemon *d, const Pod *p, const App *a, PeapodError *err) {
        if (daemon_find_app_stop(d, p, a))
                return peapod_error_set(err, -EALREADY, "App %s of pod %s is stopping", a->name, p->name);
        return daemon_app_check_not_starting(d, p, a, err);
}

static int app_stop_add_waiter(AppStop *s, sd_bus_message *call, bool remove) {
        AppStopWaiter *w;

        w = reallocarray(s->waiters, s->n_waiters + 1, sizeof(AppStopWaiter));
        if (!w)
                return -ENOMEM;
        s->waiters = w;
        s->waiters[s->n_waiters++] = (AppStopWaiter) { .call = sd_bus_message_ref(call), .remove = remove };
        return 0;
}

/* RemoveApp of an app that is not running (pod_app_remove() refuses a
 * running one). The unit of its last run is released without waiting,
 * on the main connection: a later start of an app of the same name sends
 * its own StopUnit there first and waits for that job (daemon_app_start()),
 * which systemd handles after these. */
static int app_remove(Daemon *d, Pod *p, App *a, PeapodError *err) {
        _cleanup_free_ char *name = strdup(a->name), *unit = NULL, *gone = NULL;
        int r;

        if (!name)
                return -ENOMEM;
        r = pod_app_remove(&d->runtime, p, a, false, &unit, &gone, err);
        if (r < 0)
                return r;
        daemon_release_unit(d, unit);
        log_info("Removed app %s from pod %s.", name, p->name);
        /* Its files, renamed away already, are deleted off the loop. */
        if (gone)
                daemon_delete_tree(d, TAKE_PTR(gone), NULL, NULL);
        return 0;
}

static void app_stop_answer(Daemon *d, const AppStop *s, const AppStopWaiter *w, int r) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        Pod *p = daemon_pod_by_id(d, s->pod_id);
        App *a = p ? pod_find_app(p, s->app) : NULL;
        PeapodError perr = {};

        if (r < 0)
                (void) sd_bus_error_set_errnof(&error, r, "Failed to stop app %s: %s", s->app, strerror(-r));
        /* An app already removed by a removal that joined first is as
         * removed as this one asked. */
        else if (w->remove && a) {
                r = app_remove(d, p, a, &perr);
                if (r < 0)
                        (void) bus_error_from_errno(&error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to remove app");
        }
        if (r < 0)
                (void) sd_bus_reply_method_error(w->call, &error);
        else
                (void) sd_bus_reply_method_return(w->call, NULL);
}

static void on_app_stop_job_done(const sd_bus_error *error, const char *result, void *userdata) {
        AppStop *s = userdata;
        Daemon *d = s->daemon;
        Pod *p = daemon_pod_by_id(d, s->pod_id);
        App *a = p ? pod_find_app(p, s->app) : NULL;
        int r = 0;

        s->job = NULL; /* freed by its caller */
        for (size_t i = 0; i < d->n_app_stops; i++)
                if (d->app_stops[i] == s) {
                        memmove(d->app_stops + i, d->app_stops + i + 1, sizeof(AppStop *) * (d->n_app_stops - i - 1));
                        d->n_app_stops--;
                        break;
                }
        /* Nothing loaded is nothing to stop. */
        if (error && !sd_bus_error_has_name(error, "org.freedesktop.systemd1.NoSuchUnit"))
                r = -sd_bus_error_get_errno(error) ?: -EIO;
        else if (a) {
                r = pod_app_stop_finish(&d->runtime, p, a);
                if (r >= 0)
                        log_info("Stopped app %s of pod %s.", a->name, p->name);
        }
        if (r < 0)
                log_warning_errno(r, "Failed to stop app %s of pod %s: %s", s->app, p ? p->name : s->pod_id,
                                  error && error->message ? error->message : strerror(-r));
        for (size_t i = 0; i < s->n_waiters; i++)
                app_stop_answer(d, s, &s->waiters[i], r);
        /* A pod made by 'run' ends with its last app. */
        p = daemon_pod_by_id(d, s->pod_id);
        if (p)
                daemon_pod_changed(d, p);
        app_stop_free(s);
}

/* Stops running app a of p and answers call when it has stopped (with
 * remove, once removed); a stop of a in flight takes call as one more.
 * -EALREADY with err set: a is starting, or not running. */
int daemon_app_stop(Daemon *d, Pod *p, App *a, sd_bus_message *call, bool remove, PeapodError *err) {
        _cleanup_free_ char *unit = NULL;
        AppStop *s, **l;
        int r;

        r = daemon_app_check_not_starting(d, p, a, err);
        if (r < 0)
                return r;
        s = daemon_find_app_stop(d, p, a);
        if (s)
                return app_stop_add_waiter(s, call, remove);

        r = pod_app_stop_prepare(p, a, &unit, err);
        if (r < 0)
                return r;
        l = reallocarray(d->app_stops, d->n_app_stops + 1, sizeof(AppStop *));
        if (!l)
                return -ENOMEM;
        d->app_stops = l;
        s = calloc(1, sizeof(AppStop));
        if (!s)
                return -ENOMEM;
        s->daemon = d;
        memcpy(s->pod_id, p->id, sizeof(s->pod_id));
        s->app = strdup(a->name);
        r = s->app ? app_stop_add_waiter(s, call, remove) : -ENOMEM;
        if (r >= 0)
                r = daemon_stop_unit_job(d, unit, APP_STOP_JOB_TIMEOUT_USEC, on_app_stop_job_done, s, &s->job);
        if (r < 0) {
                app_stop_free(s);
                return r;
        }
        d->app_stops[d->n_app_stops++] = s;
        return 0;
}

void daemon_app_stops_free(Daemon *d) {
        for (size_t i = 0; i < d->n_app_stops; i++)
                app_stop_free(d->app_stops[i]);
        d->app_stops = mfree(d->app_stops);
        d->n_app_stops = 0;
}

/* Removes app a of p for call: now (0), or, a running one with force,
 * once stopped (1, the call answered then). -EALREADY (a start or, without
 * force, a stop in flight) or -EBUSY (running, without force) with err
 * set. */
int daemon_app_remove(Daemon *d, Pod *p, App *a, sd_bus_message *call, bool force, PeapodError *err) {
        int r;

        r = daemon_app_check_not_starting(d, p, a, err);
        if (r < 0)
                return r;
        if (force && (a->state == APP_RUNNING || daemon_find_app_stop(d, p, a))) {
                /* Stopped first, without holding the loop. */
                r = daemon_app_stop(d, p, a, call, true, err);
                return r < 0 ? r : 1;
        }
        if (!force) {
                r = daemon_app_check_idle(d, p, a, err);
                if (r < 0)
                        return r;
        }
        r = app_remove(d, p, a, err);
        if (r < 0)
                return r;
        daemon_pod_changed(d, p);
        return 0;
}

/* Pod.Exec: peapodd spawns peapod-stage1-exec itself (no transient unit:
 * StartTransientUnit, its job and the reset of a failed unit were most of
 * an exec's time), held on its gate until systemd has moved it into the
 * app's unit (AttachProcessesToUnit, asynchronously); then let through,
 * the call is answered with the exec's id, and the helper's end, read
 * through its pidfd, is announced with ExecFinished. The security of this
 * is argued in stage1/README.md, "Exec". */

/* As long as the start job of an exec unit was given. */
#define EXEC_ATTACH_TIMEOUT_USEC (90ULL * 1000000ULL)

struct ExecProcess {
        Daemon *daemon;
        char pod_id[POD_ID_LEN + 1];
        PodExec x;
        Spawn *spawn;
        int gate_fd;          /* our end of the helper's gate, until it is let through */
        sd_bus_slot *attach;  /* AttachProcessesToUnit in flight */
        sd_bus_message *call; /* Pod.Exec, until answered */
};

/* A helper still running is killed (and, by its parent-death signal, the
 * command it forked): an exec does not outlive its peapodd. */
static ExecProcess *exec_process_free(ExecProcess *e) {
        if (!e)
                return NULL;
        sd_bus_slot_unref(e->attach);
        safe_close(e->gate_fd);
        spawn_free(e->spawn);
        sd_bus_message_unref(e->call);
        pod_exec_done(&e->x);
        return mfree(e);
}

static void exec_process_remove(Daemon *d, ExecProcess *e) {
        for (size_t i = 0; i < d->n_execs; i++)
                if (d->execs[i] == e) {
                        memmove(d->execs + i, d->execs + i + 1, sizeof(ExecProcess *) * (d->n_execs - i - 1));
                        d->n_execs--;
                        break;
                }
        exec_process_free(e);
}

void daemon_execs_free(Daemon *d) {
        for (size_t i = 0; i < d->n_execs; i++)
                exec_process_free(d->execs[i]);
        d->execs = mfree(d->execs);
        d->n_execs = 0;
}

static void exec_finished(Daemon *d, const char *pod_id, const char *id, AppResult result, int status) {
        _cleanup_free_ char *path = NULL;
        Pod *p = daemon_pod_by_id(d, pod_id);

        if (p && pod_object_path(p, &path) >= 0)
                (void) sd_bus_emit_signal(d->bus, path, PEAPOD_POD_INTERFACE, "ExecFinished", "ssi", id,
                                          app_result_to_string(result), (int32_t) status);
        log_debug("%s ended: %s %d.", id, app_result_to_string(result), status);
}

static void exec_fail(ExecProcess *e, int r, const char *message) {
        _cleanup_(sd_bus_error_free) sd_bus_error berr = SD_BUS_ERROR_NULL;

        log_warning_errno(r, "Failed to run a command as %s: %s", e->x.id, message);
        (void) bus_error_from_errno(&berr, BUS_ERROR_SCOPE_APP, r, message, "Failed to run the command");
        (void) sd_bus_reply_method_error(e->call, &berr);
        exec_process_remove(e->daemon, e);
}

static int on_exec_attached(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        ExecProcess *e = userdata;
        const sd_bus_error *error = sd_bus_message_get_error(reply);
        char byte = 1;

        e->attach = sd_bus_slot_unref(e->attach);
        if (error) {
                _cleanup_free_ char *message = NULL;

                /* Mostly: the app's unit has just stopped. */
                if (asprintf(&message, "Failed to move the command into %s: %s", e->x.app_unit,
                             error->message ?: error->name) < 0)
                        message = NULL;
                exec_fail(e, -sd_bus_error_get_errno(error) ?: -EIO, message ?: "Failed to move the command into the app");
                return 0;
        }
        /* The one byte that lets the helper go on (it checks its cgroup
         * itself, too); a helper already gone shows as its exit. */
        if (send(e->gate_fd, &byte, 1, MSG_NOSIGNAL) != 1) {
                exec_fail(e, -errno ?: -EIO, "Failed to release the command's helper");
                return 0;
        }
        e->gate_fd = safe_close(e->gate_fd);
        (void) sd_bus_reply_method_return(e->call, "s", e->x.id);
        e->call = sd_bus_message_unref(e->call);
        return 0;
}

static void on_exec_exited(Spawn *s, int error, SpawnResult *res, void *userdata) {
        ExecProcess *e = userdata;
        Daemon *d = e->daemon;

        if (e->call) {
                /* Before it was let through: it ran nothing. */
                exec_fail(e, error < 0 ? error : -ECHILD, "The command's helper ended before it was moved into the app");
                return;
        }
        if (error < 0) {
                log_warning_errno(error, "Lost the watch of %s, announcing it killed: %m", e->x.id);
                exec_finished(d, e->pod_id, e->x.id, APP_RESULT_KILLED, SIGKILL);
        } else
                exec_finished(d, e->pod_id, e->x.id, app_result_from_exec_main_code(res->code), res->status);
        exec_process_remove(d, e);
}

/* The helper for cmd, once the app's main process is known. */
static int exec_begin(Daemon *d, Pod *p, App *a, pid_t pid, sd_bus_message *m, char * const *cmd, char * const *env,
                      const int fds[3], uint64_t flags, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *attach = NULL;
        _cleanup_close_pair_ int gate[2] = { -EBADF, -EBADF };
        PeapodError perr = {};
        ExecProcess *e, **l;
        int r;

        l = reallocarray(d->execs, d->n_execs + 1, sizeof(ExecProcess *));
        if (!l)
                return -ENOMEM;
        d->execs = l;
        e = calloc(1, sizeof(ExecProcess));
        if (!e)
                return -ENOMEM;
        e->daemon = d;
        e->gate_fd = -EBADF;
        memcpy(e->pod_id, p->id, sizeof(e->pod_id));
        r = pod_exec_prepare(&d->runtime, p, a, pid, cmd, env, flags & PEAPOD_EXEC_TTY, &e->x, &perr);
        if (r < 0) {
                exec_process_free(e);
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to run the command");
        }
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, gate) < 0) {
                r = -errno;
                exec_process_free(e);
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, NULL, "Failed to run the command");
        }
        /* Nothing of ours but the caller's fds and the gate, an empty
         * environment, default signals, a session of its own (as a
         * service's): see stage1/README.md, "Exec". */
        r = spawn_start(d->event,
                        &(SpawnOptions) { .path = e->x.helper, .argv = e->x.argv, .stdio = fds, .pass_fd = gate[1],
                                          .new_session = true },
                        on_exec_exited, e, &e->spawn);
        if (r >= 0)
                r = pod_exec_attach_message(d->bus, &e->x, spawn_pid(e->spawn), &attach);
        if (r >= 0)
                r = sd_bus_call_async(d->bus, &e->attach, attach, on_exec_attached, e, EXEC_ATTACH_TIMEOUT_USEC);
        if (r < 0) {
                exec_process_free(e);
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_APP, r, NULL, "Failed to run the command");
        }
        e->gate_fd = TAKE_FD(gate[0]);
        e->call = sd_bus_message_ref(m);
        d->execs[d->n_execs++] = e;
        log_info("Running %s in app %s of pod %s as %s.", cmd[0], a->name, p->name, e->x.id);
        return 0;
}

/* An Exec waiting for the read of its app's unit. The fds are the call's. */
typedef struct ExecRequest {
        Daemon *d;
        sd_bus_message *call;
        char **cmd, **env;
        int fds[3];
        uint64_t flags;
        char pod_id[POD_ID_LEN + 1];
        char *app;
        uint64_t ready_deadline;/* CLOCK_MONOTONIC: until when an app just started may become ready */
} ExecRequest;

/* Right after a start the app's unit runs its helper, which has still to
 * fork and make the app: the exec waits for that, polling every 5 ms (no
 * event says so), for a few seconds at most. */
#define EXEC_READY_WAIT_USEC (5 * USEC_PER_SEC)
#define EXEC_READY_POLL_USEC (5 * USEC_PER_MSEC)

static void exec_request_free(void *userdata) {
        ExecRequest *q = userdata;

        sd_bus_message_unref(q->call);
        strv_free(q->cmd);
        strv_free(q->env);
        free(q->app);
        free(q);
}

static void on_exec_app_read(Daemon *d, Pod *p, App *a, const UnitStatus *s, void *userdata);

static int on_exec_ready_retry(sd_event_source *es, uint64_t usec, void *userdata) {
        ExecRequest *q = userdata;
        Pod *p = daemon_pod_by_id(q->d, q->pod_id);
        App *a = p ? pod_find_app(p, q->app) : NULL;
        int r;

        if (!a) {
                (void) sd_bus_reply_method_errorf(q->call, BUS_ERROR_NO_SUCH_APP, "The app was removed meanwhile");
                exec_request_free(q);
                return 0;
        }
        r = daemon_app_unit_read(q->d, p, a, on_exec_app_read, q, exec_request_free);
        if (r < 0) {
                (void) sd_bus_reply_method_errnof(q->call, r, "Failed to run the command: %m");
                exec_request_free(q);
        }
        return 0;
}

/* 1 when the read is tried again shortly (q is the timer's then). */
static int exec_retry_until_ready(Daemon *d, ExecRequest *q, int r) {
        if ((r != -EAGAIN && r != -ESRCH) || now_usec(CLOCK_MONOTONIC) >= q->ready_deadline)
                return 0;
        if (sd_event_add_time_relative(d->event, NULL, CLOCK_MONOTONIC, EXEC_READY_POLL_USEC, 0, on_exec_ready_retry,
                                       q) < 0)
                return 0;
        return 1;
}

static void on_exec_app_read(Daemon *d, Pod *p, App *a, const UnitStatus *s, void *userdata) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        ExecRequest *q = userdata;
        PeapodError perr = {};
        pid_t pid = 0;
        int r, k = -ESRCH;

        /* The read applied what the unit says: an exit not yet signalled
         * shows here. */
        if (a && p->state == POD_RUNNING && a->state == APP_RUNNING && s) {
                k = app_main_pid_of_helper((pid_t) s->exec_main_pid, &pid);
                if (k < 0 && s->exec_main_pid > 0 && exec_retry_until_ready(d, q, k) > 0)
                        return;
        }
        if (!a)
                r = sd_bus_error_setf(&error, BUS_ERROR_NO_SUCH_APP, "The app was removed meanwhile");
        else {
                r = pod_exec_check(p, a, q->cmd, false, -EBADF, &perr);
                if (r >= 0 && (!s || k < 0))
                        /* Running as peapodd knew it, but its unit has no app process. */
                        r = peapod_error_set(&perr, -EALREADY, "App %s of pod %s is not running (%s)", a->name, p->name,
                                             app_state_to_string(a->state));
                if (r < 0)
                        r = bus_error_from_errno(&error, BUS_ERROR_SCOPE_APP, r, perr.message, "Failed to run the command");
                else
                        r = exec_begin(d, p, a, pid, q->call, q->cmd, q->env, q->fds, q->flags, &error);
        }
        if (r < 0) {
                if (!sd_bus_error_is_set(&error))
                        (void) sd_bus_error_set_errnof(&error, r, "Failed to run the command: %m");
                (void) sd_bus_reply_method_error(q->call, &error);
        }
        exec_request_free(q);
}

/* Runs cmd (taken) with env (taken) in app a for call, with the call's
 * fds: the app's main process (whose namespaces the command joins) is
 * read from its unit without waiting, the exec goes on then and answers
 * call. -errno with err set when refused at once. */
int daemon_app_exec(Daemon *d, Pod *p, App *a, sd_bus_message *call, char ***cmd, char ***env, const int fds[3],
                    uint64_t flags, PeapodError *err) {
        ExecRequest *q;
        int r;

        r = pod_exec_check(p, a, *cmd, flags & PEAPOD_EXEC_TTY, fds[0], err);
        if (r < 0)
                return r;
        q = calloc(1, sizeof(ExecRequest));
        if (!q)
                return -ENOMEM;
        *q = (ExecRequest) { .d = d, .call = sd_bus_message_ref(call), .cmd = TAKE_PTR(*cmd), .env = TAKE_PTR(*env),
                             .fds = { fds[0], fds[1], fds[2] }, .flags = flags,
                             .ready_deadline = now_usec(CLOCK_MONOTONIC) + EXEC_READY_WAIT_USEC };
        strcpy(q->pod_id, p->id);
        q->app = strdup(a->name);
        if (!q->app) {
                exec_request_free(q);
                return -ENOMEM;
        }
        r = daemon_app_unit_read(d, p, a, on_exec_app_read, q, exec_request_free);
        if (r < 0)
                exec_request_free(q);
        return r;
}

/* Sends signal to exec id of p: -EINVAL (the signal) or -EALREADY (no
 * such exec running) with err set. */
int daemon_exec_kill(Daemon *d, const Pod *p, const char *id, int signal, PeapodError *err) {
        size_t i;
        int r;

        r = pod_signal_check(signal, err);
        if (r < 0)
                return r;
        for (i = 0; i < d->n_execs; i++)
                if (streq(d->execs[i]->x.id, id) && streq(d->execs[i]->pod_id, p->id) && !d->execs[i]->call)
                        break;
        if (i >= d->n_execs)
                return peapod_error_set(err, -EALREADY, "No exec %s is running in pod %s", id, p->name);
        /* The helper is ours and not reaped: its pid, the id of the group
         * it leads (new_session), cannot be anyone else's. */
        if (signal == SIGKILL && kill(-spawn_pid(d->execs[i]->spawn), SIGKILL) < 0)
                return -errno;
        return spawn_kill(d->execs[i]->spawn, signal);
}

/* Kill: one KillUnit per app, sent without waiting; the call is answered
 * when systemd answered them all (the first failure, if any). Each call in
 * flight holds a reference, dropped by its reply (a floating slot: one
 * still in flight when peapodd exits is freed with the bus, its reference
 * with the process). */
typedef struct KillCall {
        sd_bus_message *call;
        unsigned refs;
        int signal;
        char *pod, *app;
        sd_bus_error error;
} KillCall;

static void kill_call_unref(KillCall *k) {
        _cleanup_(sd_bus_error_free) sd_bus_error berr = SD_BUS_ERROR_NULL;

        if (--k->refs > 0)
                return;
        if (sd_bus_error_is_set(&k->error)) {
                (void) bus_error_from_errno(&berr, BUS_ERROR_SCOPE_STATE, -sd_bus_error_get_errno(&k->error) ?: -EIO,
                                            k->error.message, "Failed to send signal %d to pod %s", k->signal, k->pod);
                (void) sd_bus_reply_method_error(k->call, &berr);
        } else {
                log_info("Sent signal %d to %s%s of pod %s.", k->signal, k->app ? "app " : "the apps", strempty(k->app),
                         k->pod);
                (void) sd_bus_reply_method_return(k->call, NULL);
        }
        sd_bus_message_unref(k->call);
        sd_bus_error_free(&k->error);
        free(k->pod);
        free(k->app);
        free(k);
}

static int on_kill_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        KillCall *k = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e && !sd_bus_error_is_set(&k->error))
                (void) sd_bus_error_copy(&k->error, e);
        kill_call_unref(k);
        return 0;
}

static int kill_call_send(Daemon *d, KillCall *k, const Pod *p, const App *a) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = pod_app_kill_message(d->bus, p, a, k->signal, &m);
        if (r < 0)
                return r;
        r = sd_bus_call_async(d->bus, NULL, m, on_kill_reply, k, 0);
        if (r < 0)
                return r;
        k->refs++;
        return 0;
}

int daemon_app_kill(Daemon *d, Pod *p, App *a, int signal, sd_bus_message *call, PeapodError *err) {
        KillCall *k;
        int r;

        r = pod_app_kill_check(p, a, signal, err);
        if (r < 0)
                return r;
        k = calloc(1, sizeof(KillCall));
        if (!k)
                return -ENOMEM;
        /* Our own reference until every message is sent. */
        *k = (KillCall) { .call = sd_bus_message_ref(call), .refs = 1, .signal = signal, .pod = strdup(p->name),
                          .app = a ? strdup(a->name) : NULL };
        if (!k->pod || (a && !k->app))
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < p->n_apps; i++)
                if ((!a || &p->apps[i] == a) && p->apps[i].state == APP_RUNNING)
                        r = kill_call_send(d, k, p, &p->apps[i]);
        if (r < 0 && !sd_bus_error_is_set(&k->error))
                (void) sd_bus_error_set_errnof(&k->error, r, "%s", strerror(-r));
        kill_call_unref(k);
        return 1;
}

/* SetAppResources on a running app: SetUnitProperties sent without
 * waiting (a floating slot, as Kill's); once systemd took the limits they
 * are recorded and the call is answered. The pod and the app are looked
 * up again then. */
typedef struct LimitsCall {
        Daemon *d;
        sd_bus_message *call;
        char pod_id[POD_ID_LEN + 1];
        char *app;
        AppLimits limits;
} LimitsCall;

static void limits_call_free(LimitsCall *c) {
        sd_bus_message_unref(c->call);
        free(c->app);
        free(c);
}

static int limits_answer(Daemon *d, Pod *p, App *a, const AppLimits *l, sd_bus_message *call) {
        _cleanup_(sd_bus_error_free) sd_bus_error berr = SD_BUS_ERROR_NULL;
        PeapodError perr = {};
        int r;

        r = pod_app_limits_record(&d->runtime, p, a, l, &perr);
        if (r < 0) {
                (void) bus_error_from_errno(&berr, BUS_ERROR_SCOPE_STATE, r, perr.message,
                                            "Failed to set the resources of app %s", a->name);
                return sd_bus_reply_method_error(call, &berr);
        }
        log_info("Set the resources of app %s of pod %s.", a->name, p->name);
        return sd_bus_reply_method_return(call, NULL);
}

static int on_limits_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(sd_bus_error_free) sd_bus_error berr = SD_BUS_ERROR_NULL;
        LimitsCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        Pod *p = daemon_pod_by_id(c->d, c->pod_id);
        App *a = p ? pod_find_app(p, c->app) : NULL;

        if (e) {
                (void) bus_error_from_errno(&berr, BUS_ERROR_SCOPE_STATE, -sd_bus_error_get_errno(e) ?: -EIO, NULL,
                                            "Failed to set the resources of app %s: systemd refused them: %s", c->app,
                                            e->message ?: e->name);
                (void) sd_bus_reply_method_error(c->call, &berr);
        } else if (!a)
                (void) sd_bus_reply_method_errorf(c->call, BUS_ERROR_NO_SUCH_APP, "App %s was removed meanwhile", c->app);
        else
                (void) limits_answer(c->d, p, a, &c->limits, c->call);
        limits_call_free(c);
        return 0;
}

int daemon_app_set_limits(Daemon *d, Pod *p, App *a, const AppLimits *l, sd_bus_message *call, PeapodError *err) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        LimitsCall *c;
        int r;

        r = pod_app_limits_check(p, l, err);
        if (r < 0)
                return r;
        r = pod_app_limits_message(d->bus, p, a, l, &m);
        if (r < 0)
                return r;
        if (r == 0) {
                /* Not running: only the record, now, answered here. */
                (void) limits_answer(d, p, a, l, call);
                return 1;
        }
        c = calloc(1, sizeof(LimitsCall));
        if (!c)
                return -ENOMEM;
        *c = (LimitsCall) { .d = d, .call = sd_bus_message_ref(call), .app = strdup(a->name), .limits = *l };
        memcpy(c->pod_id, p->id, sizeof(c->pod_id));
        if (!c->app) {
                limits_call_free(c);
                return -ENOMEM;
        }
        r = sd_bus_call_async(d->bus, NULL, m, on_limits_reply, c, 0);
        if (r < 0) {
                limits_call_free(c);
                return r;
        }
        return 1;
}
