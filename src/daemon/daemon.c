/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <search.h>
#include <stdio.h>

#include "crash-point.h"
#include "daemon.h"
#include "log.h"
#include "name.h"
#include "string-util.h"
#include "strv.h"
#include "systemd.h"
#include "time-util.h"

static int pod_compare_id(const void *a, const void *b) {
        return strcmp(((const Pod *) a)->id, ((const Pod *) b)->id);
}

static int pod_compare_name(const void *a, const void *b) {
        return strcmp(((const Pod *) a)->name, ((const Pod *) b)->name);
}

int daemon_add_pod(Daemon *d, Pod *p) {
        Pod **n = realloc(d->pods, sizeof(Pod *) * (d->n_pods + 1)), **e;
        PodPublished *pub;

        if (!n)
                return -ENOMEM;
        d->pods = n;
        pub = realloc(d->published, sizeof(PodPublished) * (d->n_pods + 1));
        if (!pub)
                return -ENOMEM;
        d->published = pub;
        /* Ids and names are unique (pod_create() checks the name); a
         * second pod of one name can only come from files edited by hand,
         * and is refused. */
        e = tsearch(p, &d->pods_by_id, pod_compare_id);
        if (!e)
                return -ENOMEM;
        if (*e != p)
                return -EEXIST;
        e = tsearch(p, &d->pods_by_name, pod_compare_name);
        if (!e || *e != p) {
                tdelete(p, &d->pods_by_id, pod_compare_id);
                return e ? -EEXIST : -ENOMEM;
        }
        /* What PodNew's InterfacesAdded (or a later GetAll) shows. */
        pod_published_init(&d->published[d->n_pods], p);
        d->pods[d->n_pods++] = p;
        return 0;
}

void daemon_forget_pod(Daemon *d, Pod *p) {
        for (size_t i = 0; i < d->n_pods; i++)
                if (d->pods[i] == p) {
                        memmove(d->pods + i, d->pods + i + 1, sizeof(Pod *) * (d->n_pods - i - 1));
                        memmove(d->published + i, d->published + i + 1, sizeof(PodPublished) * (d->n_pods - i - 1));
                        d->n_pods--;
                        tdelete(p, &d->pods_by_id, pod_compare_id);
                        tdelete(p, &d->pods_by_name, pod_compare_name);
                        pod_free(p);
                        return;
                }
}

static void tree_entry_keep(void *entry) {
}

void daemon_pods_free(Daemon *d) {
        tdestroy(d->pods_by_id, tree_entry_keep);
        tdestroy(d->pods_by_name, tree_entry_keep);
        d->pods_by_id = d->pods_by_name = NULL;
        for (size_t i = 0; i < d->n_pods; i++)
                pod_free(d->pods[i]);
        d->pods = mfree(d->pods);
        d->published = mfree(d->published);
        d->n_pods = 0;
}

Pod *daemon_pod_by_id(Daemon *d, const char *id) {
        /* A key of the tree's kind; only the compared field is read. */
        Pod key = { .id = {} }, **found;

        if (strlen(id) != POD_ID_LEN)
                return NULL;
        memcpy(key.id, id, POD_ID_LEN + 1);
        found = tfind(&key, &d->pods_by_id, pod_compare_id);
        return found ? *found : NULL;
}

Pod *daemon_pod_by_name(Daemon *d, const char *name) {
        Pod key = { .name = (char *) name }, **found;

        found = tfind(&key, &d->pods_by_name, pod_compare_name);
        return found ? *found : NULL;
}

/* A pod is named by its id, a unique id prefix, or its name. A name that is
 * also a prefix of another pod's id is ambiguous and refused. */
Pod *daemon_find_pod(Daemon *d, const char *key, int *ret_error) {
        Pod *by_id, *by_name, *by_prefix = NULL;
        size_t n_prefix = 0;

        if (isempty(key)) {
                *ret_error = -EINVAL;
                return NULL;
        }
        by_id = daemon_pod_by_id(d, key);
        if (by_id) {
                *ret_error = 0;
                return by_id;
        }
        by_name = daemon_pod_by_name(d, key);
        /* Only a key that could be a prefix of an id costs a scan. */
        if (id_prefix_is_valid(key))
                for (size_t i = 0; i < d->n_pods; i++) {
                        Pod *p = d->pods[i];

                        if (p != by_name && startswith(p->id, key)) {
                                by_prefix = p;
                                n_prefix++;
                        }
                }
        if (by_name && n_prefix == 0) {
                *ret_error = 0;
                return by_name;
        }
        if (!by_name && n_prefix == 1) {
                *ret_error = 0;
                return by_prefix;
        }
        *ret_error = (by_name || n_prefix > 1) ? -ENOTUNIQ : -ENOENT;
        return NULL;
}

/* The statuses of the units pod_reconcile() is about to ask for, read at
 * once (systemd_get_unit_statuses()): one at a time, a start at 1000 pods
 * took 3.7 s of round trips to PID 1 before peapodd could take its name.
 * Each is used once (a look after a stop must ask again), by name,
 * sorted. */
typedef struct StatusCache {
        char **units;
        UnitStatus *statuses;
        int *errors;
        bool *used;
        size_t n;
} StatusCache;

static int unit_name_compare(const void *a, const void *b) {
        return strcmp(*(char * const *) a, *(char * const *) b);
}

static void status_cache_done(StatusCache *c) {
        for (size_t i = 0; i < c->n; i++)
                unit_status_done(&c->statuses[i]);
        strv_free(c->units);
        free(c->statuses);
        free(c->errors);
        free(c->used);
        *c = (StatusCache) {};
}

static int status_cache_lookup(void *userdata, const char *unit, UnitStatus *ret) {
        StatusCache *c = userdata;
        char * const *hit;
        size_t i;

        if (c->n == 0)
                return -ENOENT;
        hit = bsearch(&unit, c->units, c->n, sizeof(char *), unit_name_compare);
        if (!hit)
                return -ENOENT;
        i = (size_t) (hit - c->units);
        if (c->used[i] || c->errors[i] < 0)
                return -ENOENT; /* asked of systemd then */
        c->used[i] = true;
        *ret = c->statuses[i];
        c->statuses[i] = (UnitStatus) {};
        return 0;
}

/* The scope and running apps of every running pod of pods. */
static int status_cache_fill(Daemon *d, Pod * const *pods, size_t n_pods, StatusCache *c) {
        _cleanup_strv_free_ char **units = NULL;
        size_t n;
        int r;

        for (size_t i = 0; i < n_pods; i++) {
                _cleanup_free_ char *scope = NULL;
                Pod *p = pods[i];

                if (p->state != POD_RUNNING)
                        continue;
                r = pod_unit_names(p, NULL, &scope);
                if (r >= 0)
                        r = strv_consume(&units, TAKE_PTR(scope));
                for (size_t k = 0; r >= 0 && k < p->n_apps; k++) {
                        char *unit;

                        if (p->apps[k].state != APP_RUNNING)
                                continue;
                        r = app_unit_name(p->name, p->apps[k].name, &unit);
                        if (r >= 0)
                                r = strv_consume(&units, unit);
                }
                if (r < 0)
                        return r;
        }
        n = strv_length(units);
        if (n == 0)
                return 0;
        strv_sort(units);
        *c = (StatusCache) {
                .statuses = calloc(n, sizeof(UnitStatus)),
                .errors = calloc(n, sizeof(int)),
                .used = calloc(n, sizeof(bool)),
        };
        if (!c->statuses || !c->errors || !c->used) {
                status_cache_done(c);
                return -ENOMEM;
        }
        c->units = TAKE_PTR(units);
        c->n = n;
        /* Well below dbus-daemon's 128 replies pending per connection. */
        r = systemd_get_unit_statuses(d->runtime.bus, c->units, n, 64, 60 * USEC_PER_SEC, c->statuses, c->errors);
        if (r < 0)
                log_warning_errno(r, "Failed to read the units of the pods at once, reading them one by one: %m");
        return 0;
}

int daemon_load_pods(Daemon *d) {
        _cleanup_(status_cache_done) StatusCache cache = {};
        _cleanup_free_ char *dir = NULL;
        Pod **loaded = NULL;
        size_t n_loaded = 0;
        DIR *dp;
        struct dirent *de;
        int r = 0;

        if (asprintf(&dir, "%s/pods", d->runtime.state_dir) < 0)
                return log_oom();
        dp = opendir(dir);
        if (!dp)
                return errno == ENOENT ? 0 : log_error_errno(errno, "Failed to open %s: %m", dir);
        while ((de = readdir(dp))) {
                Pod *p = NULL, **l;

                if (!id_is_valid(de->d_name))
                        continue;
                r = pod_load(d->runtime.state_dir, pod_runtime_dir(&d->runtime), de->d_name, &p);
                if (r < 0) {
                        /* Leave it on disk for a human; never delete what we cannot read. */
                        log_warning_errno(r, "Ignoring pod %s, its state cannot be read: %m", de->d_name);
                        r = 0;
                        continue;
                }
                l = reallocarray(loaded, n_loaded + 1, sizeof(Pod *));
                if (!l) {
                        pod_free(p);
                        r = log_oom();
                        break;
                }
                loaded = l;
                loaded[n_loaded++] = p;
        }
        closedir(dp);

        if (r >= 0 && status_cache_fill(d, loaded, n_loaded, &cache) >= 0) {
                d->runtime.unit_status = status_cache_lookup;
                d->runtime.unit_status_userdata = &cache;
        }
        for (size_t i = 0; i < n_loaded; i++) {
                Pod *p = TAKE_PTR(loaded[i]);
                int k;

                if (r < 0) {
                        pod_free(p);
                        continue;
                }
                k = pod_reconcile(&d->runtime, p);
                if (k < 0)
                        log_warning_errno(k, "Failed to reconcile pod %s with systemd: %m", p->name);
                else if (k > 0)
                        log_info("Pod %s is now %s.", p->name, pod_state_to_string(p->state));
                k = daemon_add_pod(d, p);
                if (k == -EEXIST) {
                        /* Left on disk for a human, as an unreadable one. */
                        log_warning("Ignoring pod %s (%s): another pod has its name or id.", p->name, p->id);
                        pod_free(p);
                } else if (k < 0) {
                        pod_free(p);
                        r = log_oom();
                }
        }
        d->runtime.unit_status = NULL;
        d->runtime.unit_status_userdata = NULL;
        free(loaded);
        return r < 0 ? r : 0;
}

/* A pod made by 'run' ends with its last app. Not while an operation of
 * the pod is in flight (a stop, an app's start): its end checks again. */
static void daemon_pod_check_apps_exited(Daemon *d, Pod *p) {
        int r;

        if (p->state == POD_RUNNING && p->stop_when_apps_exit && pod_all_apps_exited(p) && !daemon_pod_busy(d, p)) {
                log_info("All apps of pod %s have exited, stopping it.", p->name);
                r = daemon_pod_stop(d, p, NULL, false, 0);
                if (r < 0)
                        log_warning_errno(r, "Failed to stop pod %s: %m", p->name);
        }
}

/* An app changed: saved as pod_refresh() does. The stop of a pod whose
 * last app it was is asked for first, so that systemd works on it while
 * we write; the stop's own end comes as an event, after this. */
static void daemon_pod_app_changed(Daemon *d, Pod *p) {
        int r;

        trace_point("app-changed");
        daemon_pod_check_apps_exited(d, p);
        r = pod_runtime_save(&d->runtime, p);
        if (r < 0)
                log_warning_errno(r, "Failed to save pod %s: %m", p->name);
}

/* An asynchronous read of an app's unit. The pod and the app are looked up
 * again when the answer comes: either may be gone or started anew by then. */
typedef struct AppUnitRead {
        Daemon *d;
        char pod_id[POD_ID_LEN + 1];
        char *app;
        uint64_t pod_started_usec, app_started_usec;
        AppUnitReadDone done;
        void *userdata;
        sd_bus_destroy_t free_userdata;
} AppUnitRead;

static void app_unit_read_free(void *userdata) {
        AppUnitRead *q = userdata;

        /* Not answered (peapodd exits): what done would have owned. */
        if (q->free_userdata)
                q->free_userdata(q->userdata);
        free(q->app);
        free(q);
}

static int on_app_unit_read(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(unit_status_done) UnitStatus s = {};
        AppUnitRead *q = userdata;
        bool read = false;
        Pod *p;
        App *a;
        int r;

        p = daemon_pod_by_id(q->d, q->pod_id);
        a = p ? pod_find_app(p, q->app) : NULL;
        if (sd_bus_message_is_method_error(reply, NULL))
                log_debug("Failed to read the unit of app %s: %s", q->app, sd_bus_message_get_error(reply)->message);
        else if (a && p->state == POD_RUNNING && p->started_usec == q->pod_started_usec && a->state == APP_RUNNING &&
                 a->started_usec == q->app_started_usec) {
                r = unit_status_from_message(reply, NULL, &s);
                if (r < 0)
                        log_debug_errno(r, "Failed to parse the unit of app %s of pod %s: %m", a->name, p->name);
                else {
                        read = true;
                        if (app_update_from_unit(a, &s))
                                daemon_pod_app_changed(q->d, p);
                }
        }
        if (q->done) {
                /* The pod may have been stopped (and even removed) above. */
                p = daemon_pod_by_id(q->d, q->pod_id);
                a = p ? pod_find_app(p, q->app) : NULL;
                q->free_userdata = NULL;
                q->done(q->d, p, a, read ? &s : NULL, q->userdata);
        }
        return 0;
}

int daemon_app_unit_read(Daemon *d, Pod *p, App *a, AppUnitReadDone done, void *userdata, sd_bus_destroy_t free_userdata) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_free_ char *unit = NULL;
        AppUnitRead *q;
        int r;

        r = app_unit_name(p->name, a->name, &unit);
        if (r < 0)
                return r;
        q = calloc(1, sizeof(AppUnitRead));
        if (!q)
                return -ENOMEM;
        *q = (AppUnitRead) { .d = d, .pod_started_usec = p->started_usec, .app_started_usec = a->started_usec,
                             .done = done, .userdata = userdata };
        strcpy(q->pod_id, p->id);
        q->app = strdup(a->name);
        if (!q->app) {
                app_unit_read_free(q);
                return -ENOMEM;
        }
        r = systemd_unit_read_async(d->bus, &slot, unit, on_app_unit_read, q);
        if (r < 0) {
                app_unit_read_free(q);
                return r;
        }
        /* The slot owns q from here, and the bus the slot; userdata is the
         * caller's until done runs (or the read is dropped). */
        q->free_userdata = free_userdata;
        r = sd_bus_slot_set_destroy_callback(slot, app_unit_read_free);
        if (r < 0) {
                q->free_userdata = NULL;
                app_unit_read_free(q);
                return r;
        }
        return sd_bus_slot_set_floating(slot, true);
}

void daemon_pod_changed(Daemon *d, Pod *p) {
        /* Exits not yet seen in a signal (while the pod was starting, say)
         * are read without waiting: the answers are applied when they come. */
        if (p->state == POD_RUNNING)
                for (size_t i = 0; i < p->n_apps; i++) {
                        int r;

                        if (p->apps[i].state != APP_RUNNING)
                                continue;
                        r = daemon_app_unit_read(d, p, &p->apps[i], NULL, NULL, NULL);
                        if (r < 0)
                                log_warning_errno(r, "Failed to read the unit of app %s of pod %s: %m",
                                                  p->apps[i].name, p->name);
                }
        daemon_pod_check_apps_exited(d, p);
}

/* The running pod whose scope or app service is at path. The unit's name
 * is parsed, not built for every pod and app: this runs for every change
 * signal of every peapod unit, and with many pods per-pod allocations here
 * made each signal cost milliseconds. */
static Pod *daemon_pod_by_unit_path(Daemon *d, const char *path) {
        _cleanup_free_ char *unit = NULL, *machine = NULL;
        const char *app;
        Pod *p;

        if (sd_bus_path_decode(path, "/org/freedesktop/systemd1/unit", &unit) <= 0 ||
            unit_name_parse(unit, &machine, &app) < 0)
                return NULL;
        p = daemon_pod_by_name(d, machine);
        if (!p || p->state != POD_RUNNING)
                return NULL;
        if (!app)
                return p;
        for (size_t k = 0; k < p->n_apps; k++) {
                size_t n = strlen(p->apps[k].name);

                if (strncmp(app, p->apps[k].name, n) == 0 && streq(app + n, ".service"))
                        return p;
        }
        return NULL;
}

static int on_unit_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *path = sd_bus_message_get_path(m);
        Pod *p;

        /* Cheap filter first: every unit of the host changes properties. */
        if (!path || !(startswith(path, "/org/freedesktop/systemd1/unit/peapod_2d") ||
                       startswith(path, "/org/freedesktop/systemd1/unit/machine_2d"))) {
                daemon_event_touched(d, NULL);
                return 0;
        }
        p = daemon_pod_by_unit_path(d, path);
        if (!p)
                daemon_event_touched(d, NULL);
        else {
                /* A stop we did not ask for (machinectl terminate, systemctl
                 * stop) unloads the app's unit: this is where its outcome is. */
                App *ask = NULL;
                int r;

                if (pod_note_unit_signal(p, m) > 0)
                        (void) pod_runtime_save(&d->runtime, p);
                /* The app's state from the signal itself: no call to PID 1
                 * on the loop for each of the many signals of a busy host. */
                r = pod_apply_unit_signal(p, m, &ask);
                if (r < 0)
                        log_debug_errno(r, "Failed to read a change signal of pod %s: %m", p->name);
                if (r <= 0)
                        daemon_event_touched(d, p);
                else
                        /* May stop the pod: not only p's properties, so
                         * not marked (the next publish compares all). */
                        daemon_pod_app_changed(d, p);
                if (ask) {
                        r = daemon_app_unit_read(d, p, ask, NULL, NULL, NULL);
                        if (r < 0)
                                log_warning_errno(r, "Failed to read the unit of app %s of pod %s: %m", ask->name,
                                                  p->name);
                }
        }
        return 0;
}

static int on_machine_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        const char *name, *path;
        Pod *p;

        if (sd_bus_message_read(m, "so", &name, &path) < 0)
                return 0;
        p = daemon_pod_by_name(d, name);
        if (p && p->state == POD_RUNNING && !daemon_pod_stopping(d, p)) {
                int r;

                log_info("Machine %s is gone, stopping pod.", name);
                r = daemon_pod_stop(d, p, NULL, false, 0);
                if (r < 0)
                        log_warning_errno(r, "Failed to stop pod %s: %m", p->name);
        }
        return 0;
}

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        /* Every job of the host ends here: one not ours touched no pod. */
        if (daemon_job_removed(userdata, path, result) == 0)
                daemon_event_touched(userdata, NULL);
        return 0;
}

int daemon_track_systemd(Daemon *d) {
        int r;

        /* One match for every job of ours (daemon-unit-job.c). */
        r = sd_bus_match_signal_async(d->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                      "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, NULL, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch systemd jobs: %m");

        r = sd_bus_match_signal_async(d->bus, NULL, "org.freedesktop.systemd1", NULL, "org.freedesktop.DBus.Properties",
                                      "PropertiesChanged", on_unit_properties_changed, NULL, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch systemd units: %m");
        r = sd_bus_match_signal_async(d->bus, NULL, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                                      "org.freedesktop.machine1.Manager", "MachineRemoved", on_machine_removed, NULL, d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch machines: %m");
        /* Without Subscribe() systemd sends no PropertiesChanged for units. */
        r = sd_bus_call_method_async(d->bus, NULL, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                     "org.freedesktop.systemd1.Manager", "Subscribe", NULL, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to subscribe to systemd: %m");
        return 0;
}
