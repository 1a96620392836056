/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "macro.h"

/* Running a helper program (a CNI plugin, iptables) the one way peapod
 * does: fork and exec (the caller never waits for the child's exec; a
 * failed exec is the callback's error), an explicit
 * environment and nothing else inherited (every fd above 2 closed, signal
 * mask empty, dispositions default; one fd may be passed on as fd 3),
 * stdin fed from a buffer through a
 * socket (a program that exits without reading cannot kill us with
 * SIGPIPE), stdout collected up to a bound, the head or the tail of stderr
 * kept, and a deadline after which it is killed.
 *
 * Asynchronously on an sd-event loop (spawn_start(): the process is watched
 * through its pidfd, its pipes are read by the loop, the caller is called
 * back once it has exited), or synchronously (spawn_run(), the same code
 * on a private loop) for tools, the CLI and tests. The asynchronous form
 * needs SIGCHLD blocked in every thread of the process (sd-event's rule for
 * child sources). */

typedef struct SpawnOptions {
        const char *path;    /* absolute path of the program */
        int exec_fd;         /* > 0: the program executed instead, a copy of path's
                              * (execveat(AT_EMPTY_PATH); sealed-copy.h); 0 = path */
        char * const *argv;  /* argv[0] included */
        char * const *env;   /* the whole environment; NULL = empty */
        const char *input;   /* stdin; NULL = empty */
        size_t input_size;
        size_t out_max;      /* stdout kept up to this, more is -EFBIG; 0 = stdout to /dev/null */
        size_t err_max;      /* bytes of stderr kept; 0 = stderr to /dev/null */
        bool err_keep_tail;  /* keep the last err_max bytes instead of the first */
        uint64_t timeout_usec; /* 0 = none */
        int pass_fd;         /* > 0: given to the program as fd 3 (a readiness pipe); 0 = none */
        const int *stdio;    /* non-NULL: these 3 fds are its stdin, stdout and stderr (input,
                              * out_max and err_max unused then); NULL = as above */
        bool new_session;    /* setsid(): the leader of its own session, as a service is */
} SpawnOptions;

typedef struct SpawnResult {
        int code;   /* CLD_EXITED, CLD_KILLED or CLD_DUMPED */
        int status; /* exit status or signal number */
        char *out;  /* NUL-terminated (never NULL when out_max > 0) */
        size_t out_size;
        char *err;  /* NUL-terminated (never NULL when err_max > 0) */
        size_t err_size;
} SpawnResult;

void spawn_result_done(SpawnResult *r);

typedef struct Spawn Spawn;

/* Called once the program has exited (error 0: res says how), could not be
 * waited for to its end (-ETIMEDOUT past the deadline, -EFBIG for too much
 * output: it was killed), or the watch failed (other -errno). res stays
 * the callee's to take from (TAKE_PTR(res->out)) until it returns. The
 * callback may spawn_free() s; nothing touches s after it returns. */
typedef void (*spawn_callback_t)(Spawn *s, int error, SpawnResult *res, void *userdata);

/* Starts o->path. -errno (-ENOENT, -EACCES, ...) when it cannot run at
 * all; the callback is not called then. *ret belongs to the caller. */
int spawn_start(sd_event *e, const SpawnOptions *o, spawn_callback_t callback, void *userdata, Spawn **ret);

/* The program's pid, and a signal sent to it through its pidfd (never to
 * a pid reused after it was reaped): -ESRCH once it has exited. */
pid_t spawn_pid(const Spawn *s);
int spawn_kill(Spawn *s, int sig);

/* Frees s; a program still running is killed (SIGKILL) and reaped, and the
 * callback is not called. */
Spawn *spawn_free(Spawn *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Spawn *, spawn_free);

/* A private loop for the synchronous forms (spawn_run(), and chains of
 * programs such as cni_conflist_add()): SIGCHLD is blocked in the calling
 * thread while it is open, as sd-event's child sources need. */
typedef struct SpawnLoop {
        sd_event *event;
        sigset_t old_mask;
        bool blocked;
} SpawnLoop;
int spawn_loop_open(SpawnLoop *l);
/* Runs l's loop until *done. */
int spawn_loop_run(SpawnLoop *l, const bool *done);
void spawn_loop_close(SpawnLoop *l);

/* Runs o->path to its end: 0 with *ret filled (how it ended: ret->code,
 * ret->status), or -errno as spawn_start() and the callback say. */
int spawn_run(const SpawnOptions *o, SpawnResult *ret);

/* The first of the ':'-separated directories of path_list that holds an
 * executable regular file name. -ENOENT if none does. */
int spawn_find_program(const char *path_list, const char *name, char **ret);
