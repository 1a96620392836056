/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "macro.h"
#include "peapod-bus.h"

#define JOB_ITEMS_MAX 256

typedef struct Daemon Daemon;
typedef struct Job Job;

/* One unit of progress a job reports, e.g. a layer being downloaded. */
typedef struct JobItem {
        char name[80];
        uint64_t done, total;
} JobItem;

/* What the worker thread publishes; the main thread copies it out under the
 * lock and turns it into PropertiesChanged. */
typedef struct JobProgress {
        char phase[32];
        uint64_t done, total;
        JobItem items[JOB_ITEMS_MAX];
        size_t n_items;
} JobProgress;

/* Runs in the worker thread. It must not touch the bus or the daemon's
 * state; it reports through job_report_progress() and returns 0 or
 * -errno with a message in ret_message (a static or malloc'd string is
 * copied). ret_result may be set to a string the job hands back (e.g. an
 * image id). */
typedef int (*JobWork)(Job *j, void *userdata, char **ret_result, char *message, size_t message_size);
/* Runs in the main thread after the work returned, before JobRemoved. */
typedef void (*JobDone)(Daemon *d, Job *j, int r, const char *result, void *userdata);

struct Job {
        Daemon *daemon;
        uint32_t id;
        char *type, *target;
        char *path;

        pthread_t thread;
        bool thread_started;
        int event_fd;
        sd_event_source *event_source;
        sd_event_source *emit_timer;
        atomic_bool cancel;

        pthread_mutex_t lock;
        JobProgress progress;      /* guarded by lock */
        bool finished;             /* guarded by lock */
        int result_r;              /* guarded by lock */
        char *result;              /* guarded by lock */
        char message[512];         /* guarded by lock */

        JobProgress shown;         /* main thread's copy, what the properties say */
        const char *state;         /* "running", "done", "failed", "canceled" */

        JobWork work;
        JobDone done;
        void *userdata;
        void (*free_userdata)(void *);
};

int job_start(Daemon *d, const char *type, const char *target, JobWork work, JobDone done, void *userdata,
              void (*free_userdata)(void *), Job **ret);
/* From the worker thread. Returns -ECANCELED once Cancel() was called, so
 * the work can stop. */
int job_report_progress(Job *j, const JobProgress *p);
bool job_is_canceled(Job *j);
void job_free(Job *j);

extern const sd_bus_vtable job_vtable[];
int job_object_find(sd_bus *bus, const char *path, const char *interface, void *userdata, void **found,
                    sd_bus_error *error);
int job_node_enumerator(sd_bus *bus, const char *path, void *userdata, char ***nodes, sd_bus_error *error);
