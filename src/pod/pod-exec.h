/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pod-runtime.h"
#include "pod.h"

/* A command run inside a running app (peapod enter, Pod.Exec): a transient
 * service in the pod's slice whose ExecStart is peapod-stage1-exec, with
 * the caller's descriptors as its stdin, stdout and stderr. The command
 * gets the app's namespaces, root and privileges (read by the helper from
 * the app's main process), never more. */

#define POD_EXEC_ARGV_MAX 4096
#define POD_EXEC_ENV_MAX 256

/* The StartTransientUnit call of the exec unit, built for bus, for a
 * caller that waits for its job without holding its loop; ret_unit is its
 * name (the exec's id) and ret_args_file the file the helper reads its
 * arguments from (removed by the helper once read; by
 * pod_exec_start_result() if the unit did not start). extra_env (K=V,
 * may be NULL) is added to the app's environment. tty: fds[0] is a pty
 * the caller made for this command, to become its controlling terminal
 * (peapod-stage1-exec --tty); without it the command never gets one.
 * pid is the app's main process (app_main_pid_of_helper()), whose
 * namespaces the command joins. -ESRCH: the app is not running; err says
 * so. */
int pod_exec_message(PodRuntime *rt, sd_bus *bus, const Pod *p, const App *a, pid_t pid, char * const *cmd,
                     char * const *extra_env, const int fds[3], bool tty, sd_bus_message **ret_call, char **ret_unit,
                     char **ret_args_file, PeapodError *err);
/* Whether the exec unit started, from its start job's result (JobRemoved's,
 * or "timeout") and its end if one was signalled before (ended, may be
 * NULL): 0, or -errno with err set, the unit reset and args_file removed. */
struct UnitStatus;
int pod_exec_start_result(PodRuntime *rt, const char *unit, const char *result, const struct UnitStatus *ended,
                          const char *args_file, PeapodError *err);

/* Sends signal (1-64) to every process of a running exec unit: the command
 * and whatever it started (a timed-out probe, a cancelled ExecSync). */
int pod_exec_kill(PodRuntime *rt, const char *unit, int signal);
