/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Every stage1 helper crosses into a pod, and a pod's root process can
 * reach a helper's process through /proc/PID/exe the moment it is in the
 * pod's PID namespace (runc's CVE-2019-5736). So the first thing each
 * helper's main() does is stage1_seal_self(): from then on it runs from a
 * sealed in-memory copy of itself, is not dumpable, and holds no host
 * binary that a write through /proc could reach. See "Security argument"
 * in stage1/README.md. */

#include <fcntl.h>
#include <stdbool.h>

#include "memfd-util.h"

/* The seals a copy must carry: no write, no size change, no unsealing
 * (memfd-util.h, whose copies peapodd's are too). */
#define STAGE1_SEALS MEMFD_EXEC_SEALS

/* Whether the running program is a sealed copy: /proc/self/exe carries
 * STAGE1_SEALS. The kernel's word, not an environment variable or an
 * argument: nothing the caller passes can make a host file look sealed.
 * 1 yes, 0 no, -errno if /proc/self/exe cannot be opened. */
int stage1_running_sealed(void);

/* Unless already running from a sealed copy, copies /proc/self/exe into a
 * memfd, seals it with STAGE1_SEALS and fexecve()s it with the same argv
 * and environment (descriptors without CLOEXEC, such as init's ready fd,
 * pass through; the memfd itself is CLOEXEC and gone after the exec).
 * Then, in the copy: PR_SET_DUMPABLE 0, so that /proc/PID/{exe,fd,root,
 * mem,environ,...} refuse a pod's processes (they lack CAP_SYS_PTRACE)
 * until the helper execs the pod's command (the kernel makes the command
 * dumpable again, and its /proc/PID/exe is its own file), and the process
 * name set back from the fd number that fexecve() left to argv[0]'s.
 * Returns 0 in the sealed copy; -errno (logged) if it cannot get there:
 * a helper then refuses to run rather than run from the host's file. */
int stage1_seal_self(char *argv[]);

/* The main() of every helper: stage1_seal_self() (sealed_exit: the exit
 * code if it cannot), then run(argc, argv), whose result is the exit code.
 * Once run() called stage1_children_in_pod() (it joined or made a PID
 * namespace for its children), the helper ends with _exit(): nothing may
 * fork at exit then, and LeakSanitizer's tracer would, and hang waiting
 * on a process it cannot see. */
int stage1_helper_main(int argc, char *argv[], int (*run)(int argc, char *argv[]), int sealed_exit);
void stage1_children_in_pod(void);

/* Marks every descriptor above 2 close-on-exec, so that nothing a helper
 * inherited or opened reaches the pod's command. */
void stage1_cloexec_all(void);
