/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.GarbageCollect: removes exited pods older than a grace period.
 * daemon_gc_pods() does it; the handler only reads, authorizes and answers. */
#include "daemon.h"
#include "log.h"
#include "pod-gc.h"
#include "strv.h"
#include "time-util.h"

/* One run of daemon_gc_pods(): done is called once the files of every
 * removed pod are deleted (off the loop: daemon_remove_pod()). */
typedef struct GcRun {
        unsigned pending;
        int error;
        char **removed; /* id, name, id, name, ... */
        PodsCollected done;
        void *userdata;
} GcRun;

static void gc_run_unref(Daemon *d, int r, void *userdata) {
        GcRun *g = userdata;

        if (--g->pending > 0)
                return;
        g->done(d, g->error, g->removed, g->userdata);
        strv_free(g->removed);
        free(g);
}

static int gc_run_add(GcRun *g, const char *id, const char *name) {
        int r;

        r = strv_extend(&g->removed, id);
        return r < 0 ? r : strv_extend(&g->removed, name);
}

/* A pod of the run: named in the answer when it is gone, at once or,
 * when its owed DELs run first, once they ended and it went. */
typedef struct GcPod {
        GcRun *run;
        char id[POD_ID_LEN + 1];
        char *name;
        bool named; /* removed at once, named then */
} GcPod;

static void gc_pod_done(Daemon *d, int r, void *userdata) {
        GcPod *lp = userdata;
        GcRun *g = lp->run;

        if (!lp->named && !daemon_pod_by_id(d, lp->id) && gc_run_add(g, lp->id, lp->name) < 0 && g->error >= 0)
                g->error = -ENOMEM;
        free(lp->name);
        free(lp);
        gc_run_unref(d, r, g);
}

/* Removes pod p for run g; a pod that fails to go is left for the next run. */
static int gc_remove_pod(Daemon *d, GcRun *g, Pod *p) {
        GcPod *lp;
        int r;

        lp = calloc(1, sizeof(GcPod));
        if (!lp)
                return -ENOMEM;
        lp->run = g;
        memcpy(lp->id, p->id, sizeof(lp->id));
        lp->name = strdup(p->name);
        if (!lp->name) {
                free(lp);
                return -ENOMEM;
        }
        g->pending++;
        r = daemon_remove_pod(d, p, gc_pod_done, lp);
        if (r < 0) {
                g->pending--;
                /* Left for the next run; the others still go. */
                log_warning_errno(r, "gc: failed to remove pod %s: %m", lp->name);
                free(lp->name);
                free(lp);
                return 0;
        }
        if (r > 0)
                return 0; /* after its DELs: named then (gc_pod_done()) */
        lp->named = true;
        return gc_run_add(g, lp->id, lp->name);
}

int daemon_gc_pods(Daemon *d, uint64_t grace_usec, PodsCollected done, void *userdata) {
        uint64_t now = now_usec(CLOCK_REALTIME);
        GcRun *g;
        int r = 0;

        g = calloc(1, sizeof(GcRun));
        if (!g)
                return -ENOMEM;
        /* One count for this function, dropped at the end: done is called
         * by whoever drops the last. */
        *g = (GcRun) { .pending = 1, .done = done, .userdata = userdata };
        /* Backwards: removing a pod shifts the ones after it. */
        for (size_t i = d->n_pods; i > 0 && r >= 0; i--) {
                Pod *p = d->pods[i - 1];

                if (!pod_gc_is_due(p, now, grace_usec) || daemon_pod_busy(d, p))
                        continue;
                /* What was removed stays removed; the run fails. */
                r = gc_remove_pod(d, g, p);
        }
        g->error = r;
        gc_run_unref(d, 0, g);
        return 0;
}

static void reply_collected(Daemon *d, int error, char **removed, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = userdata, *reply = NULL;
        int r = error;

        if (r >= 0)
                r = sd_bus_message_new_method_return(call, &reply);
        if (r >= 0)
                r = sd_bus_message_open_container(reply, 'a', "(ss)");
        for (char **i = removed; r >= 0 && i && i[0] && i[1]; i += 2)
                r = sd_bus_message_append(reply, "(ss)", i[0], i[1]);
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0) {
                (void) sd_bus_reply_method_errnof(call, r, "Failed to collect pods: %m");
                return;
        }
        (void) sd_bus_send(NULL, reply, NULL);
}

int bus_method_garbage_collect(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        uint64_t grace, flags;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "tt", &grace, &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        /* Answered once the files of every removed pod are deleted. */
        r = daemon_gc_pods(d, grace, reply_collected, sd_bus_message_ref(m));
        if (r < 0) {
                sd_bus_message_unref(m);
                return r;
        }
        return 1;
}
