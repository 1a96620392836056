/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include <systemd/sd-bus.h>

#include "bus-util.h"
#include "error.h"
#include "macro.h"

/* Synchronous calls to systemd (org.freedesktop.systemd1) and machined
 * (org.freedesktop.machine1). The bus passed in must not be processed by
 * anyone else while these run: they wait for JobRemoved by processing it. */

typedef struct UnitStatus {
        char *load_state;
        char *active_state;
        char *sub_state;
        int exec_main_code; /* CLD_EXITED, CLD_KILLED, CLD_DUMPED, 0 = none yet */
        int exec_main_status;
        uint32_t exec_main_pid;
        uint64_t exec_main_start_usec, exec_main_exit_usec;
        char *result;       /* a service's Result ("success", "oom-kill", ...); NULL: not said */
} UnitStatus;

void unit_status_done(UnitStatus *s);

/* Send a method call that returns a job path, then wait until that job is
 * removed. ret_result gets the job result ("done", "failed", ...). */
int systemd_call_job_wait(sd_bus *bus, sd_bus_message *m, sd_bus_error *error, char **ret_result);

/* Sends m, a StartTransientUnit call for unit, and waits for its job.
 * With Type=exec the job ends when systemd has seen ExecStart exec'd; a
 * main process that fails before that (a fast `exit 7` on a busy machine)
 * fails the job although it ran. That counts as started: the exit is the
 * unit's to report, like any later one. systemd's own spawn failures (no
 * such program, a bad setting) exit with its reserved statuses 200-243 and
 * stay failures to start. */
int systemd_start_transient_unit(sd_bus *bus, sd_bus_message *m, const char *unit, PeapodError *err);
/* Whether a start job's result (JobRemoved's) means the unit started, as
 * systemd_start_transient_unit() judges it (asks bus on "failed"). */
int systemd_start_job_result(sd_bus *bus, const char *unit, const char *result, PeapodError *err);
/* The same rule for a caller that reads the unit itself, without waiting:
 * 0 started; 1 started if its main process ran (read the unit, then
 * unit_status_ran()); -EIO with err set: not started. */
int systemd_start_job_check(const char *unit, const char *result, PeapodError *err);
/* Whether the main process whose end s records ran (rather than systemd
 * failing to spawn it: its reserved exit statuses 200-243). */
bool unit_status_ran(const UnitStatus *s);

int systemd_stop_unit(sd_bus *bus, const char *unit, sd_bus_error *error);
/* KillUnit's call: signal to unit's "main" process or to "all" of its
 * processes (sent by the caller, who waits for the reply or not). */
int systemd_kill_unit_message(sd_bus *bus, const char *unit, const char *whom, int signal, sd_bus_message **ret);
int systemd_reset_failed_unit(sd_bus *bus, const char *unit);
int systemd_get_unit_status(sd_bus *bus, const char *unit, UnitStatus *ret);
/* Reads unit (GetAll of every interface) without waiting: callback gets
 * the reply, for unit_status_from_message(). */
int systemd_unit_read_async(sd_bus *bus, sd_bus_slot **ret_slot, const char *unit, sd_bus_message_handler_t callback,
                            void *userdata);
/* The statuses of n units read at once: their states with ListUnitsByNames,
 * then, for each unit that has ended (its outcome is not in its states),
 * up to window GetAll calls in flight on bus, whose replies this waits for
 * itself (for a start, before there is a loop). A unit that runs gets its
 * states only. ret_statuses[i] is unit i's (to unit_status_done()), or
 * ret_errors[i] < 0 says why not (-ETIMEDOUT: no answer within
 * timeout_usec). < 0 only when the bus itself failed. */
int systemd_get_unit_statuses(sd_bus *bus, char * const *units, size_t n, size_t window, uint64_t timeout_usec,
                              UnitStatus *ret_statuses, int *ret_errors);

/* A unit that systemd unloads (inactive, nobody holds it) tells how its
 * main process ended only in its last PropertiesChanged: 1 with ret set
 * (exec_main_* only) if m is a service's PropertiesChanged that carries an
 * ended main process, 0 if not, -errno on a malformed message. */
int unit_status_exit_from_signal(sd_bus_message *m, UnitStatus *ret);
/* Reads a unit's properties from m into ret: a PropertiesChanged (with
 * ret_interface, which gets the interface the signal is of) or a GetAll
 * reply (ret_interface NULL). What m does not carry stays unset: a unit's
 * PropertiesChanged has no LoadState. */
int unit_status_from_message(sd_bus_message *m, const char **ret_interface, UnitStatus *ret);

/* systemd_stop_unit(), passing every PropertiesChanged of watch_units to
 * on_changed meanwhile (on this connection, inside the wait). */
int systemd_stop_unit_watching(sd_bus *bus, const char *unit, char * const *watch_units,
                               sd_bus_message_handler_t on_changed, void *userdata, sd_bus_error *error);

/* StartTransientUnit of scope around pid in slice (the pod's own scope:
 * no AddRef, so nothing grows per pod in PID 1), for a caller that waits
 * for its job itself. */
int systemd_scope_message(sd_bus *bus, const char *scope, const char *slice, pid_t pid, const char *description,
                          sd_bus_message **ret);

/* RegisterMachineWithNetwork of the machine whose leader is already in its
 * scope (systemd_scope_message()): machined adds nothing that grows per
 * machine in PID 1, unlike CreateMachine, whose scope PID 1 ties to
 * machined's bus name (one match rule per pod). ifindices are the
 * host-side interfaces of the machine's network (NULL when n_ifindices is 0). */
int machine_register_message(sd_bus *bus, const char *name, const char *id_hex, pid_t leader, const char *root_directory,
                             const int *ifindices, size_t n_ifindices, sd_bus_message **ret);
