/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Manager.GarbageCollect: removes exited pods older than a grace period. */
#include "daemon.h"
#include "log.h"
#include "pod-gc.h"
#include "time-util.h"

int bus_method_garbage_collect(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        uint64_t grace, flags, now = now_usec(CLOCK_REALTIME);
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
        /* Backwards: removing a pod shifts the ones after it. */
        for (size_t i = d->n_pods; i > 0; i--) {
                Pod *p = d->pods[i - 1];
                char id[POD_ID_LEN + 1];
                _cleanup_free_ char *name = NULL;

                if (!pod_gc_is_due(p, now, grace) || daemon_pod_busy(d, p))
                        continue;
                memcpy(id, p->id, sizeof(id));
                name = strdup(p->name);
                if (!name)
                        return -ENOMEM;
                r = daemon_remove_pod(d, p);
                if (r < 0) {
                        /* Left for the next run; the others still go. */
                        log_warning_errno(r, "gc: failed to remove pod %s: %m", name);
                        continue;
                }
                r = sd_bus_message_append(reply, "(ss)", id, name);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}
