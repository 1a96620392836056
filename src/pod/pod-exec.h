/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "pod-runtime.h"
#include "pod.h"

/* A command run inside a running app (peapod enter, Pod.Exec):
 * peapod-stage1-exec, spawned by peapodd itself with the caller's
 * descriptors as its stdin, stdout and stderr, held on a gate (an fd it
 * reads one byte from) until peapodd has moved it into the app's unit
 * (AttachProcessesToUnit), then joining the app. The command gets the
 * app's namespaces, root, privileges (read by the helper from the app's
 * main process) and cgroup, never more. See stage1/README.md, "Exec". */

#define POD_EXEC_ARGV_MAX 4096
#define POD_EXEC_ENV_MAX 256
/* Where the helper finds the read end of its gate. */
#define POD_EXEC_GATE_FD 3

typedef struct PodExec {
        char *id;       /* the exec's id: "peapod-<machine>-<app>_exec-<hex>" */
        char *app_unit; /* the app's unit, whose cgroup the helper goes to */
        char *helper;   /* the path of peapod-stage1-exec */
        char **argv;    /* its command line (--gate-fd=POD_EXEC_GATE_FD) */
} PodExec;
void pod_exec_done(PodExec *x);

/* The rules of a command to run in app a: a command (-EINVAL), stdin a
 * terminal when tty asks for one (-EINVAL; stdin_fd < 0: not known yet),
 * the pod and the app running (-EALREADY). err says which. */
int pod_exec_check(const Pod *p, const App *a, char * const *cmd, bool tty, int stdin_fd, PeapodError *err);

/* What to spawn for cmd in app a, whose main process is pid
 * (app_main_pid_of_helper()). extra_env (K=V, may be NULL) is added to the
 * app's environment. tty: stdin will be a pty the caller made for this
 * command, to become its controlling terminal (peapod-stage1-exec --tty);
 * without it the command never gets one. pod_exec_check()'s errors, and
 * -EALREADY when pid is no app's; err says so. */
int pod_exec_prepare(PodRuntime *rt, const Pod *p, const App *a, pid_t pid, char * const *cmd, char * const *extra_env,
                     bool tty, PodExec *ret, PeapodError *err);

/* systemd's AttachProcessesToUnit of the spawned helper into x's app unit. */
int pod_exec_attach_message(sd_bus *bus, const PodExec *x, pid_t helper_pid, sd_bus_message **ret);
