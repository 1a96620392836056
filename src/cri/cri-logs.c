/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Containers' CRI log files: the journal-to-CRI converter of liblogs
 * (crilog.c) on peapod-cri's loop. Every second the sandboxes' apps are
 * looked at, in the cache peapodd's signals keep (cri-cache.c), or, while
 * it is not filled, in one asynchronous GetManagedObjects: a running
 * container with a log path is converted; an exited one is finished (its
 * last lines written, its file closed). crilog keeps each container's
 * journal cursor in CRI_LOGS_STATE_DIR, so that a restart of peapod-cri
 * neither loses nor doubles a line: a container that exited while we were
 * down is converted from its cursor and finished at once. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crilog.h"
#include "cri-pod.h"
#include "fs-util.h"
#include "journal.h"
#include "log.h"
#include "peapod-bus.h"
#include "string-util.h"
#include "strv.h"

#define CRI_LOGS_SCAN_USEC (1000ULL * 1000ULL)

static void closedirp(DIR **d) {
        if (*d)
                (void) closedir(*d);
}

/* The containers finished in this run: not added again. */
static bool settled(Cri *cri, const char *app_id) {
        return strv_contains(cri->logs_settled, app_id);
}

static void on_log_done(CriLog *c, const char *app_id, int error, void *userdata) {
        if (error < 0)
                log_warning_errno(error, "Writing the CRI log of app %s failed: %m", app_id);
}

static void follow(Cri *cri, const CriApp *app) {
        const char *path = cri_pairs_get(app->annotations, CRI_KEY_LOG_PATH);
        bool exited = streq_ptr(app->state, "exited");
        int r;

        if (isempty(path) || !app->id || settled(cri, app->id))
                return;
        if (!streq_ptr(app->state, "running") && !exited)
                return;
        r = crilog_add(cri->crilog, app->id, path);
        if (r < 0 && r != -EEXIST) {
                /* Said once, and not tried again in this run. */
                if (strv_extend(&cri->logs_settled, app->id) >= 0)
                        log_warning_errno(r, "Cannot write the CRI log of app %s to %s: %m", app->id, path);
                return;
        }
        if (!exited)
                return;
        r = crilog_finish(cri->crilog, app->id);
        if (r < 0)
                log_warning_errno(r, "Failed to finish the CRI log of app %s: %m", app->id);
        (void) strv_extend(&cri->logs_settled, app->id);
}

/* State files of containers that are gone: removed with them. */
static void forget_removed(Cri *cri, const CriPod *pods, size_t n) {
        _cleanup_(closedirp) DIR *d = opendir(cri->logs_state_dir);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d))) {
                char id[CRI_POD_ID_LEN + 1];
                bool found = false;
                const char *dot = strchr(de->d_name, '.');

                if (!dot || !streq(dot, ".cursor") || (size_t) (dot - de->d_name) != CRI_POD_ID_LEN)
                        continue;
                memcpy(id, de->d_name, CRI_POD_ID_LEN);
                id[CRI_POD_ID_LEN] = 0;
                for (size_t i = 0; i < n && !found; i++)
                        for (size_t k = 0; k < pods[i].n_apps && !found; k++)
                                found = streq_ptr(pods[i].apps[k].id, id);
                if (!found) {
                        (void) crilog_finish(cri->crilog, id);
                        (void) crilog_forget(cri->logs_state_dir, id);
                }
        }
}

/* Only containers that still exist stay in the list, so that it does not
 * grow with every container ever run. */
static void prune_settled(Cri *cri, const CriPod *pods, size_t n) {
        size_t k = 0;

        for (size_t i = 0; cri->logs_settled && cri->logs_settled[i]; i++) {
                bool found = false;

                for (size_t p = 0; p < n && !found; p++)
                        for (size_t a = 0; a < pods[p].n_apps && !found; a++)
                                found = streq_ptr(pods[p].apps[a].id, cri->logs_settled[i]);
                if (found)
                        cri->logs_settled[k++] = cri->logs_settled[i];
                else
                        free(cri->logs_settled[i]);
        }
        if (cri->logs_settled)
                cri->logs_settled[k] = NULL;
}

static void logs_apply(Cri *cri, const CriPod *pods, size_t n) {
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < pods[i].n_apps; k++)
                        if (pods[i].apps[k].state)
                                follow(cri, &pods[i].apps[k]);
        forget_removed(cri, pods, n);
        prune_settled(cri, pods, n);
}

static int on_objects(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Cri *cri = userdata;
        CriPod *pods = NULL;
        size_t n = 0;
        int r;

        cri->logs_slot = sd_bus_slot_unref(cri->logs_slot);
        if (sd_bus_message_is_method_error(m, NULL))
                return 0;       /* peapodd is away: the next scan */
        r = cri_pods_read_managed(m, &pods, &n);
        if (r < 0) {
                log_debug_errno(r, "Cannot read peapodd's pods: %m");
                return 0;
        }
        logs_apply(cri, pods, n);
        cri_pods_free(pods, n);
        return 0;
}

static int on_scan(sd_event_source *s, uint64_t usec, void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        Cri *cri = userdata;
        const CriPod *pods;
        sd_bus *bus;
        size_t n;
        int r;

        (void) sd_event_source_set_time_relative(s, CRI_LOGS_SCAN_USEC);
        (void) sd_event_source_set_enabled(s, SD_EVENT_ON);
        if (cri_cache_pods(cri, &pods, &n) > 0) {
                logs_apply(cri, pods, n);
                return 0;
        }
        if (cri->logs_slot || cri_bus(cri, &bus) < 0)
                return 0;
        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, "org.freedesktop.DBus.ObjectManager",
                                           "GetManagedObjects");
        if (r >= 0)
                r = sd_bus_call_async(bus, &cri->logs_slot, m, on_objects, cri, CRI_BUS_TIMEOUT_USEC);
        if (r < 0)
                log_debug_errno(r, "Cannot ask peapodd for its pods: %m");
        return 0;
}

int cri_logs_start(Cri *cri) {
        int r;

        r = mkdir_p(cri->logs_state_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to make %s: %m", cri->logs_state_dir);
        r = crilog_new(cri->event, POD_JOURNAL_NAMESPACE, cri->logs_state_dir, &cri->crilog);
        if (r < 0)
                return log_error_errno(r, "Failed to start the CRI log converter: %m");
        crilog_set_done_callback(cri->crilog, on_log_done, cri);
        r = sd_event_add_time_relative(cri->event, &cri->logs_timer, CLOCK_MONOTONIC, 0, 0, on_scan, cri);
        if (r < 0)
                return log_error_errno(r, "Failed to add the log scan timer: %m");
        return 0;
}

void cri_logs_stop(Cri *cri) {
        cri->logs_slot = sd_bus_slot_unref(cri->logs_slot);
        cri->logs_timer = sd_event_source_disable_unref(cri->logs_timer);
        /* Commits every cursor: the next start resumes exactly there. */
        cri->crilog = crilog_free(cri->crilog);
        strv_free(cri->logs_settled);
        cri->logs_settled = NULL;
}

int cri_container_log_reopen(Cri *cri, const char *container_id) {
        int r;

        if (strlen(container_id) != CRI_CONTAINER_ID_LEN)
                return -EINVAL;
        if (!cri->crilog)
                return 0; /* no files written (yet): none to reopen */
        r = crilog_reopen(cri->crilog, container_id + CRI_POD_ID_LEN);
        /* Not converted (never started, or exited and its file closed):
         * nothing of ours holds the old file. */
        return r == -ENOENT ? 0 : r;
}
