/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.GarbageCollect: removes exited pods older than a grace period. */
#include "daemon.h"
#include "log.h"
#include "pod-gc.h"
#include "time-util.h"

/* The answer waits until the files of every removed pod are deleted
 * (off the loop: daemon_remove_pod()). */
typedef struct GcRun {
        sd_bus_message *reply;
        unsigned pending;
} GcRun;

static void gc_run_unref(Daemon *d, int r, void *userdata) {
        GcRun *g = userdata;

        if (--g->pending > 0)
                return;
        if (g->reply)
                (void) sd_bus_send(NULL, g->reply, NULL);
        sd_bus_message_unref(g->reply);
        free(g);
}

int bus_method_garbage_collect(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        uint64_t grace, flags, now = now_usec(CLOCK_REALTIME);
        GcRun *g;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "tt", &grace, &flags);
        if (r < 0)
                return r;
        if (flags != 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ss)");
        if (r < 0)
                return r;
        g = calloc(1, sizeof(GcRun));
        if (!g)
                return -ENOMEM;
        /* One count for this handler, dropped at the end: the reply is
         * sent by whoever drops the last. */
        g->pending = 1;
        /* Backwards: removing a pod shifts the ones after it. */
        for (size_t i = d->n_pods; i > 0; i--) {
                Pod *p = d->pods[i - 1];
                char id[POD_ID_LEN + 1];
                _cleanup_free_ char *name = NULL;

                if (!pod_gc_is_due(p, now, grace) || daemon_pod_busy(d, p))
                        continue;
                memcpy(id, p->id, sizeof(id));
                name = strdup(p->name);
                if (!name) {
                        r = -ENOMEM;
                        break;
                }
                g->pending++;
                r = daemon_remove_pod(d, p, gc_run_unref, g);
                if (r < 0) {
                        g->pending--;
                        /* Left for the next run; the others still go. */
                        log_warning_errno(r, "gc: failed to remove pod %s: %m", name);
                        r = 0;
                        continue;
                }
                r = sd_bus_message_append(reply, "(ss)", id, name);
                if (r < 0)
                        break;
        }
        if (r >= 0)
                r = sd_bus_message_close_container(reply);
        if (r < 0) {
                /* What was removed stays removed; this call fails, now. */
                (void) sd_bus_reply_method_errnof(m, r, "Failed to collect pods: %m");
                reply = sd_bus_message_unref(reply);
        }
        g->reply = TAKE_PTR(reply);
        gc_run_unref(d, 0, g);
        return 1;
}
