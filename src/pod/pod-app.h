/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <sys/types.h>

#include "pod-runtime.h"
#include "pod.h"

/* Apps of a pod one at a time (rkt's app verbs, what the CRI needs): added
 * to a created or running pod, started and stopped while the pod keeps
 * running, removed. Every change is saved to pod.json before returning, so
 * apps added later survive a restart of the manager like the first ones. */

/* An app by name, or by its id. */
App *pod_find_app_by_key(Pod *p, const char *key);

/* The rules of an app's addition to p: a created or running pod, and a
 * running one if start, the app to be started at once (AddApp's start
 * flag). -EALREADY with err set when refused. */
int pod_app_add_check(const Pod *p, bool start, PeapodError *err);
/* Adds an app built from spec (validated and resolved exactly as pod_new()
 * does) in state "created". A derived name gets "-2", "-3"... when taken; a
 * given name that is taken is -EEXIST. -EALREADY: the pod is exited or
 * starting (pod_app_add_check()). ret (may be NULL) points into p->apps, valid until the next
 * change of the app list. */
int pod_app_add(PodRuntime *rt, Pod *p, const AppSpec *spec, const char *image_store, App **ret, PeapodError *err);

/* Starts a created or exited app of a running pod (mounts its root if
 * needed and creates its unit; a restart keeps the app's writes).
 * -EALREADY: the pod is not running, or the app is. */
int pod_app_start(PodRuntime *rt, Pod *p, App *a, PeapodError *err);
/* pod_app_start() in steps, for a caller that runs the units' jobs itself
 * without waiting (peapodd): prepare checks and makes the app's root;
 * the caller then stops and resets a unit of an earlier run of the app
 * (it stays "active (exited)" with RemainAfterExit, or "failed"), starts
 * the unit (app_unit_message(); -EEXIST, "UnitExists", for a moment after
 * the old one's reset: tried again shortly) and, once its job is done,
 * finish records the app running. Nothing is recorded before finish. */
int pod_app_start_prepare(PodRuntime *rt, Pod *p, App *a, PeapodError *err);
int pod_app_start_finish(PodRuntime *rt, Pod *p, App *a, PeapodError *err);

/* Stops a running app (its unit only: the pod and the other apps go on)
 * and records how it ended. -EALREADY: not running. */
int pod_app_stop(PodRuntime *rt, Pod *p, App *a);
/* pod_app_stop() in two halves around the stop job of the app's unit, for
 * a caller that runs that job itself without waiting (peapodd): prepare
 * gives the unit to stop (-EALREADY: the pod or the app is not running);
 * after the job, with the app's outcome noted from its unit's signals
 * (pod_note_unit_signal()), finish records it, asking systemd nothing. */
int pod_app_stop_prepare(const Pod *p, const App *a, char **ret_unit, PeapodError *err);
int pod_app_stop_finish(PodRuntime *rt, Pod *p, App *a);

/* A signal a caller may send (to an app or an exec): 1-64, else -EINVAL
 * with err set. */
int pod_signal_check(int signal, PeapodError *err);
/* Whether signal (1-64) may go to app a, or to every running app of p
 * when a is NULL: -EINVAL for another number, -EALREADY when p or a is
 * not running, with err set. */
int pod_app_kill_check(const Pod *p, const App *a, int signal, PeapodError *err);
/* systemd's KillUnit of running app a for signal: to the unit's main
 * process (the stage1 helper) for a signal it passes on to the app, else
 * to all of its processes. */
int pod_app_kill_message(sd_bus *bus, const Pod *p, const App *a, int signal, sd_bus_message **ret);

/* The rules of an attach to app a's stdin or terminal (Pod.AttachApp):
 * made with Stdin or Tty, and running. -EALREADY with err set. */
int pod_app_attach_check(const Pod *p, const App *a, PeapodError *err);

/* An app's resource limits, as in AppSpec: 0 = none. */
typedef struct AppLimits {
        uint64_t cpu_quota_usec, cpu_shares, memory_max, tasks_max;
} AppLimits;

/* Replacing an app's limits (SetAppResources), in three steps: the check
 * (validated as at creation; -EINVAL with err set for a value out of
 * range, -EALREADY when the pod has exited); the message that sets them on
 * its running unit at once (SetUnitProperties, runtime; 1, or 0 and NULL
 * when the app does not run); once systemd took them, the record in
 * pod.json, so that a restart of the app keeps them (nothing changes on
 * failure). A limit of 0 lifts it. */
int pod_app_limits_check(const Pod *p, const AppLimits *l, PeapodError *err);
int pod_app_limits_message(sd_bus *bus, const Pod *p, const App *a, const AppLimits *l, sd_bus_message **ret);
int pod_app_limits_record(PodRuntime *rt, Pod *p, App *a, const AppLimits *l, PeapodError *err);

/* Removes an app that is not running (or, with force, stops it first):
 * its unit, its root mount and its directory. a is invalid afterwards.
 * The unit of its last run (loaded "active (exited)" or "failed") is
 * stopped and reset here, waiting for systemd, or, with ret_unit, its name
 * returned for the caller to release as it likes (peapodd: without
 * waiting). The directory is renamed away at once and, with ret_gone,
 * left for the caller to delete there (NULL if there was none), else
 * deleted here. -EBUSY: the app runs and force is not given; -EALREADY:
 * the pod is starting. */
int pod_app_remove(PodRuntime *rt, Pod *p, App *a, bool force, char **ret_unit, char **ret_gone, PeapodError *err);

/* The host pid of the app's main process (the child of the stage1 app
 * helper, which runs inside the app's root and namespaces). -ESRCH: the
 * app is not running. */
int pod_app_main_pid(PodRuntime *rt, const Pod *p, const App *a, pid_t *ret);
/* The same from the unit's main process (its ExecMainPID), the helper,
 * as read by a caller that asks systemd itself. -ESRCH when the helper has
 * no child, -EAGAIN while its child still runs the helper's own binary
 * (the app's root and namespaces not yet all made): both are the moment
 * right after a start, until the app's command is executed. */
int app_main_pid_of_helper(pid_t helper, pid_t *ret);
