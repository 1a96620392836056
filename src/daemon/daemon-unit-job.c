/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd jobs without holding the loop: a call that returns a job
 * (StopUnit, StartTransientUnit) is sent on the main connection, and its
 * end comes with systemd's JobRemoved, which one match of the main
 * connection receives for every job of ours (daemon_job_removed()). Pod
 * stops, app stops and exec starts all wait for their jobs here. */
#include <stdio.h>

#include "daemon.h"
#include "log.h"
#include "string-util.h"
#include "systemd.h"

struct UnitJob {
        Daemon *daemon;
        char *unit;
        char *path; /* the job, once the call answered */
        sd_bus_slot *slot;
        sd_event_source *timeout;
        UnitJobDone done;
        void *userdata;
};

static UnitJob *unit_job_free(UnitJob *j) {
        if (!j)
                return NULL;
        sd_bus_slot_unref(j->slot);
        sd_event_source_disable_unref(j->timeout);
        free(j->unit);
        free(j->path);
        return mfree(j);
}

static void unit_job_unlink(UnitJob *j) {
        Daemon *d = j->daemon;

        for (size_t i = 0; i < d->n_unit_jobs; i++)
                if (d->unit_jobs[i] == j) {
                        memmove(d->unit_jobs + i, d->unit_jobs + i + 1, sizeof(UnitJob *) * (d->n_unit_jobs - i - 1));
                        d->n_unit_jobs--;
                        return;
                }
}

/* Out of the list before the callback, which may start jobs of its own. */
static void unit_job_end(UnitJob *j, const sd_bus_error *error, const char *result) {
        unit_job_unlink(j);
        j->done(error, result, j->userdata);
        unit_job_free(j);
}

void unit_job_cancel(UnitJob *j) {
        if (!j)
                return;
        unit_job_unlink(j);
        unit_job_free(j);
}

static int on_job_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        UnitJob *j = userdata;

        log_warning("The job of %s did not end in time, no longer waiting for it.", j->unit);
        unit_job_end(j, NULL, "timeout");
        return 0;
}

static int on_job_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        UnitJob *j = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        const char *path;

        j->slot = sd_bus_slot_unref(j->slot);
        if (e) {
                unit_job_end(j, e, NULL);
                return 0;
        }
        /* systemd answers before the job can run, so its JobRemoved comes
         * after this reply on this connection. */
        if (sd_bus_message_read(reply, "o", &path) < 0 || !(j->path = strdup(path))) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

                (void) sd_bus_error_set_errno(&error, -ENOMEM);
                unit_job_end(j, &error, NULL);
        }
        return 0;
}

int daemon_job_removed(Daemon *d, const char *job, const char *result) {
        for (size_t i = 0; i < d->n_unit_jobs; i++)
                if (streq_ptr(d->unit_jobs[i]->path, job)) {
                        unit_job_end(d->unit_jobs[i], NULL, result);
                        return 1;
                }
        /* Else maybe a step of a pod's start (daemon-start.c). */
        return daemon_job_removed_start(d, job, result);
}

int daemon_unit_job(Daemon *d, sd_bus_message *call, const char *unit, uint64_t timeout_usec, UnitJobDone done,
                    void *userdata, UnitJob **ret) {
        UnitJob *j, **l;
        int r;

        l = reallocarray(d->unit_jobs, d->n_unit_jobs + 1, sizeof(UnitJob *));
        if (!l)
                return -ENOMEM;
        d->unit_jobs = l;
        j = calloc(1, sizeof(UnitJob));
        if (!j)
                return -ENOMEM;
        *j = (UnitJob) { .daemon = d, .done = done, .userdata = userdata };
        j->unit = strdup(unit);
        if (!j->unit) {
                unit_job_free(j);
                return -ENOMEM;
        }
        r = sd_bus_call_async(d->bus, &j->slot, call, on_job_reply, j, 0);
        if (r >= 0)
                r = sd_event_add_time_relative(d->event, &j->timeout, CLOCK_MONOTONIC, timeout_usec, 0, on_job_timeout, j);
        if (r < 0) {
                unit_job_free(j);
                return r;
        }
        d->unit_jobs[d->n_unit_jobs++] = j;
        if (ret)
                *ret = j;
        return 0;
}

int daemon_stop_unit_job(Daemon *d, const char *unit, uint64_t timeout_usec, UnitJobDone done, void *userdata,
                         UnitJob **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(d->bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StopUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return r;
        return daemon_unit_job(d, m, unit, timeout_usec, done, userdata, ret);
}

static int on_reset_failed_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        /* Not loaded (nothing failed, or gone already) is the usual answer. */
        if (e && !sd_bus_error_has_name(e, "org.freedesktop.systemd1.NoSuchUnit") &&
            !sd_bus_error_has_name(e, "org.freedesktop.systemd1.LoadFailed"))
                log_debug("Failed to reset %s: %s", (const char *) userdata, e->message ?: e->name);
        return 0;
}

int daemon_reset_failed_units(Daemon *d, char * const *units) {
        FOREACH_STRV(u, units) {
                _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
                char *name;
                int r;

                name = strdup(u);
                if (!name)
                        return -ENOMEM;
                r = sd_bus_call_method_async(d->bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                             "org.freedesktop.systemd1.Manager", "ResetFailedUnit", on_reset_failed_reply,
                                             name, "s", u);
                if (r < 0) {
                        free(name);
                        return r;
                }
                /* The slot owns the name from here, and the bus the slot. */
                r = sd_bus_slot_set_destroy_callback(slot, free);
                if (r < 0) {
                        free(name);
                        return r;
                }
                r = sd_bus_slot_set_floating(slot, true);
                if (r < 0)
                        return r;
        }
        return 0;
}

bool daemon_start_job_ran(sd_bus_message *reply) {
        _cleanup_(unit_status_done) UnitStatus s = {};

        return !sd_bus_message_is_method_error(reply, NULL) && unit_status_from_message(reply, NULL, &s) >= 0 &&
               unit_status_ran(&s);
}

void daemon_unit_jobs_free(Daemon *d) {
        for (size_t i = 0; i < d->n_unit_jobs; i++)
                unit_job_free(d->unit_jobs[i]);
        d->unit_jobs = mfree(d->unit_jobs);
        d->n_unit_jobs = 0;
}
