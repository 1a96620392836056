/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include <systemd/sd-id128.h>

#include "string-util.h"
#include "strv.h"
#include "systemd.h"
#include "time-util.h"

#define JOB_TIMEOUT_USEC (120ULL * 1000000ULL)

void unit_status_done(UnitStatus *s) {
        free(s->load_state);
        free(s->active_state);
        free(s->sub_state);
        free(s->result);
        memset(s, 0, sizeof(*s));
}

typedef struct JobWait {
        char **paths;   /* removed job paths, in the order seen */
        char **results; /* their results */
} JobWait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        JobWait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0;
        if (strv_extend(&w->paths, path) < 0 || strv_extend(&w->results, result) < 0)
                return -ENOMEM;
        return 0;
}

/* The match goes in before the call: a JobRemoved that arrives before the
 * reply is queued and seen below, so there is no race. */
int systemd_call_job_wait(sd_bus *bus, sd_bus_message *m, sd_bus_error *error, char **ret_result) {
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *job = NULL;
        JobWait w = {};
        const char *path;
        uint64_t deadline;
        int r;

        r = sd_bus_match_signal(bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &w);
        if (r < 0)
                goto finish;
        r = sd_bus_call(bus, m, 0, error, &reply);
        if (r < 0)
                goto finish;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                goto finish;
        job = strdup(path);
        if (!job) {
                r = -ENOMEM;
                goto finish;
        }

        deadline = now_usec(CLOCK_MONOTONIC) + JOB_TIMEOUT_USEC;
        for (;;) {
                for (size_t i = 0; w.paths && w.paths[i]; i++)
                        if (streq(w.paths[i], job)) {
                                if (ret_result) {
                                        *ret_result = strdup(w.results[i]);
                                        r = *ret_result ? 0 : -ENOMEM;
                                } else
                                        r = 0;
                                goto finish;
                        }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        goto finish;
                if (r > 0)
                        continue;
                if (now_usec(CLOCK_MONOTONIC) >= deadline) {
                        r = -ETIMEDOUT;
                        goto finish;
                }
                r = sd_bus_wait(bus, deadline - now_usec(CLOCK_MONOTONIC));
                if (r < 0)
                        goto finish;
        }
finish:
        strv_free(w.paths);
        strv_free(w.results);
        return r;
}

bool unit_status_ran(const UnitStatus *s) {
        return s->exec_main_code == CLD_KILLED || s->exec_main_code == CLD_DUMPED ||
               (s->exec_main_code == CLD_EXITED && (s->exec_main_status < 200 || s->exec_main_status > 243));
}

static bool unit_ran_within_start_job(sd_bus *bus, const char *unit) {
        UnitStatus s = {};
        bool ran = false;

        if (systemd_get_unit_status(bus, unit, &s) >= 0)
                ran = unit_status_ran(&s);
        unit_status_done(&s);
        return ran;
}

int systemd_start_transient_unit(sd_bus *bus, sd_bus_message *m, const char *unit, PeapodError *err) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *result = NULL;
        int r;

        r = systemd_call_job_wait(bus, m, &error, &result);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to start unit %s: %s", unit, error.message ?: strerror(-r));
        return systemd_start_job_result(bus, unit, result, err);
}

int systemd_start_job_check(const char *unit, const char *result, PeapodError *err) {
        if (streq(result, "done"))
                return 0;
        if (streq(result, "failed"))
                return 1;
        return peapod_error_set(err, -EIO, "Unit %s did not start: %s", unit, result);
}

int systemd_start_job_result(sd_bus *bus, const char *unit, const char *result, PeapodError *err) {
        int r;

        r = systemd_start_job_check(unit, result, err);
        if (r > 0 && !unit_ran_within_start_job(bus, unit))
                r = peapod_error_set(err, -EIO, "Unit %s did not start: %s", unit, result);
        return r < 0 ? r : 0;
}

static int unit_call_simple(sd_bus *bus, const char *method, const char *unit) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                               "org.freedesktop.systemd1.Manager", method, &error, NULL, "s", unit);
        if (r < 0 && (sd_bus_error_has_name(&error, "org.freedesktop.systemd1.NoSuchUnit") ||
                      sd_bus_error_has_name(&error, "org.freedesktop.systemd1.LoadFailed")))
                return 0;
        return r;
}

int systemd_kill_unit_message(sd_bus *bus, const char *unit, const char *whom, int signal, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "KillUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ssi", unit, whom, (int32_t) signal);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int systemd_stop_unit(sd_bus *bus, const char *unit, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *result = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StopUnit");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return r;
        r = systemd_call_job_wait(bus, m, &e, &result);
        if (r < 0) {
                /* Stopping what is not loaded is success: it is stopped. */
                if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                        r = 0;
                else if (error)
                        sd_bus_error_move(error, &e);
                sd_bus_error_free(&e);
                return r;
        }
        if (!streq(result, "done") && !streq(result, "skipped"))
                return -EIO;
        return 0;
}

int systemd_reset_failed_unit(sd_bus *bus, const char *unit) {
        return unit_call_simple(bus, "ResetFailedUnit", unit);
}

/* Reads an a{sv} of a unit's properties (GetAll's reply, PropertiesChanged's
 * dict) into s: what is not in it stays as it was. */
static int unit_status_read_dict(sd_bus_message *reply, UnitStatus *s) {
        int r;

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(reply, 'e', "sv")) > 0) {
                const char *name, *str;
                char **target = NULL;

                r = sd_bus_message_read(reply, "s", &name);
                if (r < 0)
                        return r;
                if (streq(name, "LoadState"))
                        target = &s->load_state;
                else if (streq(name, "ActiveState"))
                        target = &s->active_state;
                else if (streq(name, "SubState"))
                        target = &s->sub_state;
                else if (streq(name, "Result"))
                        target = &s->result;

                if (target) {
                        r = sd_bus_message_read(reply, "v", "s", &str);
                        if (r < 0)
                                return r;
                        free(*target);
                        *target = strdup(str);
                        if (!*target)
                                return -ENOMEM;
                } else if (streq(name, "ExecMainCode"))
                        r = sd_bus_message_read(reply, "v", "i", &s->exec_main_code);
                else if (streq(name, "ExecMainStatus"))
                        r = sd_bus_message_read(reply, "v", "i", &s->exec_main_status);
                else if (streq(name, "ExecMainPID"))
                        r = sd_bus_message_read(reply, "v", "u", &s->exec_main_pid);
                else if (streq(name, "ExecMainStartTimestamp"))
                        r = sd_bus_message_read(reply, "v", "t", &s->exec_main_start_usec);
                else if (streq(name, "ExecMainExitTimestamp"))
                        r = sd_bus_message_read(reply, "v", "t", &s->exec_main_exit_usec);
                else
                        r = sd_bus_message_skip(reply, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(reply);
}

static int read_props(sd_bus *bus, const char *path, const char *interface, UnitStatus *s) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        int r;

        r = sd_bus_call_method(bus, "org.freedesktop.systemd1", path, "org.freedesktop.DBus.Properties", "GetAll",
                               NULL, &reply, "s", interface);
        if (r < 0)
                return r;
        return unit_status_read_dict(reply, s);
}

int unit_status_from_message(sd_bus_message *m, const char **ret_interface, UnitStatus *ret) {
        UnitStatus s = {};
        const char *interface = NULL;
        int r;

        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        if (ret_interface) {
                r = sd_bus_message_read(m, "s", &interface);
                if (r < 0)
                        return r;
        }
        r = unit_status_read_dict(m, &s);
        if (r < 0) {
                unit_status_done(&s);
                return r;
        }
        if (ret_interface)
                *ret_interface = interface;
        *ret = s;
        return 0;
}

int unit_status_exit_from_signal(sd_bus_message *m, UnitStatus *ret) {
        UnitStatus s = {};
        const char *interface;
        int r;

        r = sd_bus_message_rewind(m, true);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "s", &interface);
        if (r < 0)
                return r;
        if (!streq(interface, "org.freedesktop.systemd1.Service"))
                return 0;
        r = unit_status_read_dict(m, &s);
        if (r < 0) {
                unit_status_done(&s);
                return r;
        }
        if (s.exec_main_code <= 0) {
                unit_status_done(&s);
                return 0;
        }
        *ret = s;
        return 1;
}

typedef struct StopWatch {
        sd_bus_message_handler_t on_changed;
        void *userdata;
} StopWatch;

int systemd_stop_unit_watching(sd_bus *bus, const char *unit, char * const *watch_units,
                               sd_bus_message_handler_t on_changed, void *userdata, sd_bus_error *error) {
        size_t n = strv_length((char **) watch_units);
        _cleanup_free_ sd_bus_slot **slots = NULL;
        int r = 0;

        slots = calloc(n + 1, sizeof(sd_bus_slot *));
        if (!slots)
                return -ENOMEM;
        /* One match per watched unit, for the length of the stop only:
         * nothing stays behind in dbus-daemon. */
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *path = NULL;

                r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", watch_units[i], &path);
                if (r >= 0)
                        r = sd_bus_match_signal(bus, &slots[i], "org.freedesktop.systemd1", path,
                                                "org.freedesktop.DBus.Properties", "PropertiesChanged", on_changed,
                                                userdata);
        }
        /* systemd sends a unit's pending PropertiesChanged before the
         * JobRemoved of its stop job, and the units of a slice are stopped
         * by jobs of their own that end before the slice's: the job wait
         * below has dispatched every signal that matters by its end. */
        if (r >= 0)
                r = systemd_stop_unit(bus, unit, error);
        for (size_t i = 0; i < n; i++)
                sd_bus_slot_unref(slots[i]);
        return r;
}

int systemd_get_unit_status(sd_bus *bus, const char *unit, UnitStatus *ret) {
        _cleanup_free_ char *path = NULL;
        UnitStatus s = {};
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        r = read_props(bus, path, "org.freedesktop.systemd1.Unit", &s);
        if (r >= 0 && s.load_state && !streq(s.load_state, "not-found") && endswith(unit, ".service"))
                r = read_props(bus, path, "org.freedesktop.systemd1.Service", &s);
        if (r < 0) {
                unit_status_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

int systemd_unit_read_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *unit, sd_bus_message_handler_t callback,
                            void *userdata) {
        _cleanup_free_ char *path = NULL;
        int r;

        r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", unit, &path);
        if (r < 0)
                return r;
        /* Every interface at once: a service's ExecMain* with its states. */
        return sd_bus_call_method_async(bus, ret_slot, "org.freedesktop.systemd1", path, "org.freedesktop.DBus.Properties",
                                        "GetAll", callback, userdata, "s", "");
}

/* Names per ListUnitsByNames: its reply is ~200 bytes a unit. */
#define UNIT_STATES_BATCH 1024

typedef struct StatusBatch {
        UnitStatus *statuses;
        int *errors;
        size_t in_flight;
} StatusBatch;

typedef struct StatusCall {
        StatusBatch *batch;
        size_t index;
} StatusCall;

static int on_status_read(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        StatusCall *c = userdata;
        StatusBatch *b = c->batch;

        b->in_flight--;
        if (sd_bus_message_is_method_error(reply, NULL))
                b->errors[c->index] = -sd_bus_error_get_errno(sd_bus_message_get_error(reply)) ?: -EIO;
        else
                b->errors[c->index] = unit_status_from_message(reply, NULL, &b->statuses[c->index]);
        return 0;
}

/* Whether a unit's states alone (ListUnitsByNames') say all that a status
 * is read for: one that runs (or is on its way up or down), or is not
 * there at all. One that has ended (failed, inactive, or active with
 * RemainAfterExit) is read whole, for how it ended. */
static bool unit_states_suffice(const char *load_state, const char *active_state, const char *sub_state) {
        if (streq(load_state, "not-found"))
                return true;
        if (streq(active_state, "active"))
                return !streq(sub_state, "exited");
        return streq(active_state, "activating") || streq(active_state, "deactivating") ||
               streq(active_state, "reloading");
}

/* ListUnitsByNames of units [from, to): ret_done[i] set for each whose
 * states suffice, ret_statuses[i] then holds them. */
static int list_unit_states(sd_bus *bus, char * const *units, size_t from, size_t to, uint64_t timeout_usec,
                            UnitStatus *ret_statuses, bool *ret_done) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        const char *name, *load, *active, *sub;
        size_t i = from;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "ListUnitsByNames");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "s");
        for (size_t k = from; r >= 0 && k < to; k++)
                r = sd_bus_message_append(m, "s", units[k]);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(bus, m, timeout_usec, NULL, &reply);
        if (r >= 0)
                r = sd_bus_message_enter_container(reply, 'a', "(ssssssouso)");
        /* In the order asked, one for each name; by name all the same. */
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssssssouso)", &name, NULL, &load, &active, &sub, NULL, NULL,
                                                  NULL, NULL, NULL)) > 0) {
                if (i >= to || !streq(name, units[i]))
                        return -EBADMSG;
                if (unit_states_suffice(load, active, sub)) {
                        UnitStatus *st = &ret_statuses[i];

                        /* Done, so that a failure frees what was copied. */
                        ret_done[i] = true;
                        st->load_state = strdup(load);
                        st->active_state = strdup(active);
                        st->sub_state = strdup(sub);
                        if (!st->load_state || !st->active_state || !st->sub_state)
                                return -ENOMEM;
                }
                i++;
        }
        return r < 0 ? r : 0;
}

int systemd_get_unit_statuses(sd_bus *bus, char * const *units, size_t n, size_t window, uint64_t timeout_usec,
                              UnitStatus *ret_statuses, int *ret_errors) {
        _cleanup_free_ StatusCall *calls = NULL;
        _cleanup_free_ sd_bus_slot **slots = NULL;
        _cleanup_free_ bool *done = NULL;
        StatusBatch b = { .statuses = ret_statuses, .errors = ret_errors };
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        size_t next = 0;
        int r = 0;

        for (size_t i = 0; i < n; i++) {
                ret_statuses[i] = (UnitStatus) {};
                ret_errors[i] = -ETIMEDOUT;
        }
        calls = calloc(n ?: 1, sizeof(StatusCall));
        slots = calloc(n ?: 1, sizeof(sd_bus_slot *));
        done = calloc(n ?: 1, sizeof(bool));
        if (!calls || !slots || !done)
                return -ENOMEM;
        /* The states of all first, a few calls for all of them: a GetAll
         * of every interface of a unit is hundreds of properties that PID 1
         * formats (a restart at 1000 pods spent seconds on them), and only
         * a unit that ended needs more than its states. */
        for (size_t from = 0; from < n; from += UNIT_STATES_BATCH) {
                size_t to = n - from > UNIT_STATES_BATCH ? from + UNIT_STATES_BATCH : n;

                r = list_unit_states(bus, units, from, to, timeout_usec, ret_statuses, done);
                if (r < 0) {
                        /* Each unit read whole below, as before. */
                        for (size_t i = 0; i < n; i++)
                                if (done[i]) {
                                        unit_status_done(&ret_statuses[i]);
                                        done[i] = false;
                                }
                        break;
                }
        }
        for (size_t i = 0; i < n; i++)
                if (done[i])
                        ret_errors[i] = 0;
        r = 0;
        while (next < n || b.in_flight > 0) {
                while (next < n && b.in_flight < window) {
                        if (done[next]) {
                                next++;
                                continue;
                        }
                        calls[next] = (StatusCall) { .batch = &b, .index = next };
                        r = systemd_unit_read_async(bus, &slots[next], units[next], on_status_read, &calls[next]);
                        if (r < 0)
                                ret_errors[next] = r;
                        else
                                b.in_flight++;
                        next++;
                }
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                if (now_usec(CLOCK_MONOTONIC) >= deadline) {
                        r = -ETIMEDOUT;
                        break;
                }
                r = sd_bus_wait(bus, deadline - now_usec(CLOCK_MONOTONIC));
                if (r < 0)
                        break;
        }
        /* Calls still in flight (a timeout) are dropped with their slots:
         * their units keep -ETIMEDOUT. */
        for (size_t i = 0; i < n; i++)
                sd_bus_slot_unref(slots[i]);
        return r < 0 ? r : 0;
}

int machine_register_message(sd_bus *bus, const char *name, const char *id_hex, pid_t leader, const char *root_directory,
                             const int *ifindices, size_t n_ifindices, sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_id128_t id;
        int r;

        r = sd_id128_from_string(id_hex, &id);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.machine1", "/org/freedesktop/machine1",
                                           "org.freedesktop.machine1.Manager", "RegisterMachineWithNetwork");
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_append_array(m, 'y', id.bytes, sizeof(id.bytes));
        if (r < 0)
                return r;
        r = sd_bus_message_append(m, "ssus", "peapod", "container", (uint32_t) leader, root_directory);
        if (r < 0)
                return r;
        /* The host side of the pod's links: machinectl status lists them. */
        r = sd_bus_message_append_array(m, 'i', ifindices, n_ifindices * sizeof(int));
        if (r < 0)
                return r;
        /* machined finds the unit from the leader's cgroup: our scope. */
        *ret = TAKE_PTR(m);
        return 0;
}

int systemd_scope_message(sd_bus *bus, const char *scope, const char *slice, pid_t pid, const char *description,
                          sd_bus_message **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                                           "org.freedesktop.systemd1.Manager", "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", scope, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = bus_append_property_s(m, "Description", description);
        if (r >= 0)
                r = bus_append_property_s(m, "Slice", slice);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t) pid);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}
