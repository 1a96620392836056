/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* peapodd's app work (daemon-app-core.c), which the bus face
 * (daemon-app.c) calls: -errno with err set where there is more to say
 * (-EALREADY, BadState: a start or stop in flight or the app's state does
 * not allow it); no bus error is made here. A call passed along is
 * answered later, when the work has ended. */

#include "daemon.h"
#include "pod-app.h"

/* Starts app a of running pod p; call is answered when it has started (or
 * failed), with the app's name and id if add (AddApp's start flag).
 * Refused while a start or stop of a is in flight. */
int daemon_app_start(Daemon *d, Pod *p, App *a, sd_bus_message *call, bool add, PeapodError *err);
/* Stops running app a of p and answers call when it has stopped (with
 * remove, once removed); a stop of a in flight takes call as one more.
 * Refused while a starts, or when it does not run. */
int daemon_app_stop(Daemon *d, Pod *p, App *a, sd_bus_message *call, bool remove, PeapodError *err);
/* Removes app a of p: now (0, call not answered), or, a running one with
 * force, once stopped (1, call answered then). Refused while a starts or,
 * without force, stops (-EALREADY), or runs without force (-EBUSY,
 * AppRunning). */
int daemon_app_remove(Daemon *d, Pod *p, App *a, sd_bus_message *call, bool force, PeapodError *err);
/* Runs cmd (taken) with env (taken) in app a for call (Pod.Exec), with
 * stdio fds (the call's) and PEAPOD_EXEC_* flags; call is answered with
 * the exec's id once it runs in the app (pod_exec_check()'s errors at
 * once). */
int daemon_app_exec(Daemon *d, Pod *p, App *a, sd_bus_message *call, char ***cmd, char ***env, const int fds[3],
                    uint64_t flags, PeapodError *err);
/* Sends signal to exec id of p: -EINVAL (the signal) or -EALREADY (no such
 * exec running) with err set. */
int daemon_exec_kill(Daemon *d, const Pod *p, const char *id, int signal, PeapodError *err);
/* Pod.AttachApp's work for a of p (daemon-attach.c): 1 when call m is
 * answered with the app's stdin or terminal (or queued until its terminal
 * is there), -EALREADY with err set when the app's state or stdin does
 * not allow it. */
int daemon_app_attach(Daemon *d, Pod *p, App *a, sd_bus_message *m, PeapodError *err);
/* Kill: signal to running app a of p, or to every running app when a is
 * NULL (pod_app_kill_check()'s refusals with err set); call is answered
 * once systemd took every KillUnit. Returns 1. */
int daemon_app_kill(Daemon *d, Pod *p, App *a, int signal, sd_bus_message *call, PeapodError *err);
/* SetAppResources: l replaces a's limits (pod_app_limits_check()'s
 * refusals with err set); call is answered once systemd took them on a
 * running app's unit and they are recorded. Returns 1. */
int daemon_app_set_limits(Daemon *d, Pod *p, App *a, const AppLimits *l, sd_bus_message *call, PeapodError *err);
