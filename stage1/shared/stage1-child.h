/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"
#include "stage1-relay.h"

/* A stage1 helper that runs its command in a child mirrors the child's
 * fate, so that systemd's ExecMainCode/ExecMainStatus of the unit say what
 * the command did. */

/* Blocks SIGCHLD and the n signals of forwarded, with SIGCHLD back at its
 * default, and stores them in ret_mask: called before fork(), so that
 * nothing sent in between is lost (SIGCHLD's default is "ignore", but a
 * blocked one still queues). The mask for the waits below. */
void stage1_block_signals(const int *forwarded, size_t n, sigset_t *ret_mask);

/* Waits for child with mask (SIGCHLD and the forwarded signals, all
 * blocked by the caller before fork(): stage1_block_signals()), forwarding every other signal in
 * mask to it. Returns the child's exit code; dies by the child's signal
 * (without a core) when one killed it; -errno on failure. */
int stage1_wait_child(pid_t child, const sigset_t *mask);

/* The same in two steps, for a caller with something to do between the
 * child's end and its own: waits (forwarding as above) and stores the
 * child's wait status; then mirrors that status (the exit code, or death
 * by the same signal). */
int stage1_wait_child_status(pid_t child, const sigset_t *mask, int *ret_status);
int stage1_mirror_status(int status);

/* Dies by sig, core dumps off; 128+sig if the signal does not kill. */
_noreturn_ void stage1_die_by_signal(int sig);

/* --tty of peapod-stage1-exec, in the child: stdin is a pty the caller
 * made for the command. A new session whose controlling terminal it is,
 * taken over from the session of our helper, which systemd made its
 * leader with that terminal (TIOCSCTTY with 1, which needs CAP_SYS_ADMIN:
 * we are still root). The pty becomes the command's foreground, so ^C,
 * SIGWINCH and the hangup at the caller's end reach it. Never for a
 * terminal that was not made for the command (stage1/README.md,
 * "Terminals"). */
int stage1_take_tty(void);

/* --tty of peapod-stage1-app, in the child, after it entered the app's
 * root: a new pty of the app's own /dev/pts (so its name resolves there),
 * its master sent (SCM_RIGHTS) over the socket on stdin to the caller
 * that relays it, then, once the caller answered one byte (it has set the
 * size) or closed its end, the slave as stdin, stdout, stderr and the
 * controlling terminal of a new session. Nothing of the caller's but that
 * socket is ever in the pod, and the socket is gone at the exec. */
int stage1_pty_for_app(int keep_fd);

/* peapod-stage1-app, in the parent: stage1_wait_child_status() while the
 * relay copies the app's output to the journal (stage1-relay.h); with
 * --tty-log the terminal's master comes from the child over keep_sock
 * (stage1_pty_for_app()'s keep_fd; -EBADF: none) and joins the relay. When
 * the child is gone, what the sources still hold goes out first. The
 * caller of the unit holds the master too, only to write to and resize
 * it; it is taken only if it is a pty master, and only read. relay NULL:
 * stage1_wait_child_status() alone. */
int stage1_wait_child_output(pid_t child, const sigset_t *mask, Stage1Relay *relay, int keep_sock, int *ret_status);
