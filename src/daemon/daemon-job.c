/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <sys/eventfd.h>

#include "daemon-job.h"
#include "daemon.h"
#include "log.h"
#include "string-util.h"

/* Progress arrives far more often than anyone wants to read it: properties
 * change at most this often. */
#define JOB_EMIT_INTERVAL_USEC (200ULL * 1000ULL)

static void job_unlink(Daemon *d, Job *j) {
        for (size_t i = 0; i < d->n_jobs; i++)
                if (d->jobs[i] == j) {
                        memmove(d->jobs + i, d->jobs + i + 1, sizeof(Job *) * (d->n_jobs - i - 1));
                        d->n_jobs--;
                        return;
                }
}

void job_free(Job *j) {
        if (!j)
                return;
        if (j->thread_started)
                (void) pthread_join(j->thread, NULL);
        sd_event_source_disable_unref(j->event_source);
        sd_event_source_disable_unref(j->emit_timer);
        safe_close(j->event_fd);
        pthread_mutex_destroy(&j->lock);
        if (j->free_userdata)
                j->free_userdata(j->userdata);
        free(j->result);
        free(j->type);
        free(j->target);
        free(j->path);
        free(j);
}

static void job_wake(Job *j) {
        uint64_t one = 1;
        (void) write(j->event_fd, &one, sizeof(one));
}

int job_report_progress(Job *j, const JobProgress *p) {
        pthread_mutex_lock(&j->lock);
        j->progress = *p;
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
        return job_is_canceled(j) ? -ECANCELED : 0;
}

bool job_is_canceled(Job *j) {
        return atomic_load(&j->cancel);
}

static void *job_thread(void *userdata) {
        Job *j = userdata;
        char message[512] = "";
        char *result = NULL;
        int r;

        r = j->work(j, j->userdata, &result, message, sizeof(message));
        if (r < 0 && job_is_canceled(j))
                r = -ECANCELED;
        pthread_mutex_lock(&j->lock);
        j->finished = true;
        j->result_r = r;
        j->result = result;
        snprintf(j->message, sizeof(j->message), "%s", message[0] ? message : (r < 0 ? strerror(-r) : ""));
        pthread_mutex_unlock(&j->lock);
        job_wake(j);
        return NULL;
}

static void job_emit_progress(Job *j) {
        pthread_mutex_lock(&j->lock);
        j->shown = j->progress;
        pthread_mutex_unlock(&j->lock);
        (void) sd_bus_emit_properties_changed(j->daemon->bus, j->path, PEAPOD_JOB_INTERFACE, "Phase", "BytesDone",
                                              "BytesTotal", "Items", NULL);
}

static int on_emit_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        job_emit_progress(userdata);
        return 0;
}

static int on_job_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Job *j = userdata;
        Daemon *d = j->daemon;
        uint64_t v;
        bool finished;
        int r;

        (void) read(fd, &v, sizeof(v));
        pthread_mutex_lock(&j->lock);
        finished = j->finished;
        pthread_mutex_unlock(&j->lock);

        if (!finished) {
                /* Coalesce: one emission per interval at most. */
                int enabled = 0;
                if (sd_event_source_get_enabled(j->emit_timer, &enabled) >= 0 && enabled == SD_EVENT_ONESHOT)
                        return 0;
                uint64_t now;
                (void) sd_event_now(d->event, CLOCK_MONOTONIC, &now);
                (void) sd_event_source_set_time(j->emit_timer, now + JOB_EMIT_INTERVAL_USEC);
                (void) sd_event_source_set_enabled(j->emit_timer, SD_EVENT_ONESHOT);
                return 0;
        }

        (void) pthread_join(j->thread, NULL);
        j->thread_started = false;
        job_emit_progress(j);
        r = j->result_r;
        j->state = r >= 0 ? "done" : r == -ECANCELED ? "canceled" : "failed";
        if (r < 0)
                log_warning("Job %" PRIu32 " (%s %s) %s: %s", j->id, j->type, j->target, j->state, j->message);
        else
                log_info("Job %" PRIu32 " (%s %s) done.", j->id, j->type, j->target);
        if (j->done)
                j->done(d, j, r, j->result, j->userdata);
        (void) sd_bus_emit_properties_changed(d->bus, j->path, PEAPOD_JOB_INTERFACE, "State", NULL);
        (void) sd_bus_emit_signal(d->bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "JobRemoved", "uosss", j->id, j->path,
                                  j->state, strempty(j->result), r < 0 ? j->message : "");
        (void) sd_bus_emit_object_removed(d->bus, j->path);
        job_unlink(d, j);
        job_free(j);
        return 0;
}

int job_start(Daemon *d, const char *type, const char *target, JobWork work, JobDone done, void *userdata,
              void (*free_userdata)(void *), Job **ret) {
        Job *j, **n;
        int r;

        j = calloc(1, sizeof(*j));
        if (!j) {
                if (free_userdata)
                        free_userdata(userdata);
                return -ENOMEM;
        }
        j->daemon = d;
        j->id = ++d->last_job_id;
        j->work = work;
        j->done = done;
        j->userdata = userdata;
        j->free_userdata = free_userdata;
        j->state = "running";
        j->event_fd = -EBADF;
        pthread_mutex_init(&j->lock, NULL);
        j->type = strdup(type);
        j->target = strdup(target);
        if (!j->type || !j->target || asprintf(&j->path, PEAPOD_JOB_PATH_PREFIX "/%" PRIu32, j->id) < 0) {
                j->path = NULL;
                job_free(j);
                return -ENOMEM;
        }
        j->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (j->event_fd < 0) {
                r = -errno;
                job_free(j);
                return r;
        }
        r = sd_event_add_io(d->event, &j->event_source, j->event_fd, EPOLLIN, on_job_event, j);
        if (r >= 0)
                r = sd_event_add_time(d->event, &j->emit_timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_emit_timer, j);
        if (r >= 0)
                r = sd_event_source_set_enabled(j->emit_timer, SD_EVENT_OFF);
        if (r < 0) {
                job_free(j);
                return r;
        }
        n = realloc(d->jobs, sizeof(Job *) * (d->n_jobs + 1));
        if (!n) {
                job_free(j);
                return -ENOMEM;
        }
        d->jobs = n;
        d->jobs[d->n_jobs++] = j;

        /* The worker gets its own signal mask: all blocked, so that signals
         * keep going to the main thread's signalfd sources. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&j->thread, NULL, job_thread, j);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
                job_unlink(d, j);
                job_free(j);
                return r;
        }
        j->thread_started = true;
        (void) sd_bus_emit_object_added(d->bus, j->path);
        (void) sd_bus_emit_signal(d->bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "JobNew", "uo", j->id, j->path);
        if (ret)
                *ret = j;
        return 0;
}

int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error) {
        Daemon *d = userdata;
        const char *id = startswith(path, PEAPOD_JOB_PATH_PREFIX "/");

        if (!id)
                return 0;
        for (size_t i = 0; i < d->n_jobs; i++)
                if (streq(d->jobs[i]->path, path)) {
                        *found = d->jobs[i];
                        return 1;
                }
        return 0;
}

int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error) {
        Daemon *d = userdata;
        char **l = calloc(d->n_jobs + 1, sizeof(char *));

        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < d->n_jobs; i++) {
                l[i] = strdup(d->jobs[i]->path);
                if (!l[i]) {
                        for (size_t k = 0; k < i; k++)
                                free(l[k]);
                        free(l);
                        return -ENOMEM;
                }
        }
        *nodes = l;
        return 0;
}

static int property_get_job_string(sd_bus *bus, const char *path, const char *interface, const char *property,
                                   sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        const char *v = streq(property, "Type") ? j->type
                      : streq(property, "Target") ? j->target
                      : streq(property, "State") ? j->state
                      : j->shown.phase;
        return sd_bus_message_append(reply, "s", v);
}

static int property_get_items(sd_bus *bus, const char *path, const char *interface, const char *property,
                              sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        int r;

        r = sd_bus_message_open_container(reply, 'a', "(stt)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < j->shown.n_items; i++) {
                r = sd_bus_message_append(reply, "(stt)", j->shown.items[i].name, j->shown.items[i].done,
                                          j->shown.items[i].total);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(reply);
}

static int method_cancel(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Job *j = userdata;
        int r;

        r = bus_verify_polkit(j->daemon, m, PEAPOD_ACTION_MANAGE_IMAGES, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        atomic_store(&j->cancel, true);
        return sd_bus_reply_method_return(m, NULL);
}

const sd_bus_vtable job_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Id", "u", NULL, offsetof(Job, id), SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Type", "s", property_get_job_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("Target", "s", property_get_job_string, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_PROPERTY("State", "s", property_get_job_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Phase", "s", property_get_job_string, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesDone", "t", NULL, offsetof(Job, shown.done), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("BytesTotal", "t", NULL, offsetof(Job, shown.total), SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_PROPERTY("Items", "a(stt)", property_get_items, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_NO_ARGS, SD_BUS_NO_RESULT, method_cancel, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};
