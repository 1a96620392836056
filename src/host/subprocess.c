/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <linux/close_range.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "subprocess.h"

#define SPAWN_READ_CHUNK 16384

struct Spawn {
        pid_t pid;
        sd_event_source *child, *timer, *in_source, *out_source, *err_source;
        int in_fd, out_fd, err_fd;
        int exec_err_fd; /* the child's errno if its exec failed, else EOF */
        char *input;
        size_t input_size, input_off;
        size_t out_max, out_alloc, err_max;
        bool err_keep_tail;
        SpawnResult result;
        spawn_callback_t callback;
        void *userdata;
};

void spawn_result_done(SpawnResult *r) {
        r->out = mfree(r->out);
        r->err = mfree(r->err);
        r->out_size = r->err_size = 0;
}

/* The io source goes before its fd: epoll must not see a closed fd. */
static void pipe_close(sd_event_source **source, int *fd) {
        *source = sd_event_source_disable_unref(*source);
        *fd = safe_close(*fd);
}

Spawn *spawn_free(Spawn *s) {
        if (!s)
                return NULL;
        pipe_close(&s->in_source, &s->in_fd);
        pipe_close(&s->out_source, &s->out_fd);
        pipe_close(&s->err_source, &s->err_fd);
        safe_close(s->exec_err_fd);
        sd_event_source_disable_unref(s->timer);
        /* The child source owns the process: a program still running is
         * killed and reaped when it goes. */
        sd_event_source_disable_unref(s->child);
        free(s->input);
        spawn_result_done(&s->result);
        return mfree(s);
}

/* The end, whichever way it came: the sources go (killing a program that
 * still runs), then the caller hears of it, last. */
static void spawn_finish(Spawn *s, int error) {
        pipe_close(&s->in_source, &s->in_fd);
        pipe_close(&s->out_source, &s->out_fd);
        pipe_close(&s->err_source, &s->err_fd);
        s->timer = sd_event_source_disable_unref(s->timer);
        s->child = sd_event_source_disable_unref(s->child);
        s->callback(s, error, &s->result, s->userdata);
}

static int out_append(Spawn *s, const char *buf, size_t n) {
        if (s->result.out_size + n > s->out_max)
                return -EFBIG;
        if (s->result.out_size + n + 1 > s->out_alloc) {
                size_t a = MIN(MAX(s->out_alloc * 2, s->result.out_size + n + 1), s->out_max + 1);
                char *t = realloc(s->result.out, a);

                if (!t)
                        return -ENOMEM;
                s->result.out = t;
                s->out_alloc = a;
        }
        memcpy(s->result.out + s->result.out_size, buf, n);
        s->result.out_size += n;
        s->result.out[s->result.out_size] = 0;
        return 0;
}

static void err_append(Spawn *s, const char *buf, size_t n) {
        SpawnResult *r = &s->result;

        if (!s->err_keep_tail) {
                size_t k = MIN(n, s->err_max - r->err_size);

                memcpy(r->err + r->err_size, buf, k);
                r->err_size += k;
        } else if (n >= s->err_max) {
                memcpy(r->err, buf + n - s->err_max, s->err_max);
                r->err_size = s->err_max;
        } else {
                /* Keep the end: that is where a failing program says why. */
                if (r->err_size + n > s->err_max) {
                        size_t drop = r->err_size + n - s->err_max;

                        memmove(r->err, r->err + drop, r->err_size - drop);
                        r->err_size -= drop;
                }
                memcpy(r->err + r->err_size, buf, n);
                r->err_size += n;
        }
        r->err[r->err_size] = 0;
}

/* Reads what is there: 1 at EOF (or a read error, which ends the pipe
 * too), 0 when it would block, -EFBIG/-ENOMEM. */
static int pipe_drain(Spawn *s, int fd, bool is_out) {
        char buf[SPAWN_READ_CHUNK];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n <= 0)
                        return 1;
                if (is_out) {
                        int r = out_append(s, buf, (size_t) n);
                        if (r < 0)
                                return r;
                } else
                        err_append(s, buf, (size_t) n);
        }
}

static int on_output(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Spawn *s = userdata;
        bool is_out = fd == s->out_fd;
        int r;

        r = pipe_drain(s, fd, is_out);
        if (r < 0) {
                spawn_finish(s, r);
                return 0;
        }
        if (r > 0) {
                if (is_out)
                        pipe_close(&s->out_source, &s->out_fd);
                else
                        pipe_close(&s->err_source, &s->err_fd);
        }
        return 0;
}

static int on_input(sd_event_source *es, int fd, uint32_t revents, void *userdata) {
        Spawn *s = userdata;

        while (s->input_off < s->input_size) {
                ssize_t n = send(fd, s->input + s->input_off, s->input_size - s->input_off, MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return 0;
                if (n < 0)
                        break; /* it stopped reading: its exit status says why */
                s->input_off += (size_t) n;
        }
        (void) shutdown(fd, SHUT_WR);
        pipe_close(&s->in_source, &s->in_fd);
        return 0;
}

static int on_child(sd_event_source *es, const siginfo_t *si, void *userdata) {
        Spawn *s = userdata;
        int r = 0;

        s->result.code = si->si_code;
        s->result.status = si->si_status;
        /* A child whose exec failed said why before it ended: the caller
         * hears that, as from a spawn that failed at once. */
        if (s->exec_err_fd >= 0) {
                int e = 0;

                if (read(s->exec_err_fd, &e, sizeof(e)) == (ssize_t) sizeof(e) && e > 0) {
                        spawn_finish(s, -e);
                        return 0;
                }
        }
        /* What it wrote before it ended is in the pipes: read it all now.
         * Whatever it left running (a daemonized grandchild holding the
         * pipes) is not waited for. */
        if (s->out_fd >= 0)
                r = pipe_drain(s, s->out_fd, true);
        if (r >= 0 && s->err_fd >= 0)
                (void) pipe_drain(s, s->err_fd, false);
        spawn_finish(s, MIN(r, 0));
        return 0;
}

static int on_timeout(sd_event_source *es, uint64_t usec, void *userdata) {
        spawn_finish(userdata, -ETIMEDOUT);
        return 0;
}

static int fd_nonblock(int fd) {
        int flags = fcntl(fd, F_GETFL);

        if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
                return -errno;
        return 0;
}

typedef struct SpawnFds {
        int in[2], out[2], err[2];
} SpawnFds;

static void spawn_fds_close(SpawnFds *f) {
        for (size_t i = 0; i < 2; i++) {
                f->in[i] = safe_close(f->in[i]);
                f->out[i] = safe_close(f->out[i]);
                f->err[i] = safe_close(f->err[i]);
        }
}

/* In the child, before its exec: async-signal-safe calls only (peapodd
 * has threads; what they held is not ours). fds at or above 4 are the
 * sources (spawn_exec() made them so), so no dup2() below overwrites one. */
static _noreturn_ void spawn_child(const SpawnOptions *o, const SpawnFds *f, const int stdio[3], int pass_fd,
                                   int exec_fd, int exec_err_fd) {
        struct sigaction dfl = { .sa_handler = SIG_DFL };
        sigset_t none;
        int e;

        for (int sig = 1; sig < _NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        (void) sigaction(sig, &dfl, NULL);
        sigemptyset(&none);
        if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
                goto fail;
        if (o->new_session && setsid() < 0)
                goto fail;
        if (stdio) {
                for (int i = 0; i < 3; i++)
                        if (dup2(stdio[i], i) < 0)
                                goto fail;
        } else {
                int null_fd;

                if (dup2(f->in[1], STDIN_FILENO) < 0)
                        goto fail;
                if (f->out[1] >= 0 && dup2(f->out[1], STDOUT_FILENO) < 0)
                        goto fail;
                if (f->err[1] >= 0 && dup2(f->err[1], STDERR_FILENO) < 0)
                        goto fail;
                if (f->out[1] < 0 || f->err[1] < 0) {
                        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
                        if (null_fd < 0 || (f->out[1] < 0 && dup2(null_fd, STDOUT_FILENO) < 0) ||
                            (f->err[1] < 0 && dup2(null_fd, STDERR_FILENO) < 0))
                                goto fail;
                }
        }
        if (pass_fd >= 0 && dup2(pass_fd, 3) < 0)
                goto fail;
        /* Nothing of ours beyond these: whatever a daemon holds (bus
         * connections, store locks, pod fds) is not the program's. Marked,
         * not closed: the error pipe must stay until the exec. */
        if (close_range(pass_fd >= 0 ? 4 : 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                goto fail;
        if (exec_fd >= 0)
                execveat(exec_fd, "", o->argv, o->env ?: (char *[]) { NULL }, AT_EMPTY_PATH);
        else
                execve(o->path, o->argv, o->env ?: (char *[]) { NULL });
fail:
        e = errno;
        (void) write(exec_err_fd, &e, sizeof(e));
        _exit(127);
}

/* A fork, not posix_spawn(): posix_spawn's vfork holds the caller until
 * the child has exec'd, and on a busy machine the child waits for a CPU
 * first: peapodd's loop stood still 10-50 ms for each pod's init while 50
 * pods started (bench/scale). A fork copies the page tables (well under a
 * millisecond for peapodd) and the loop goes on. An exec that fails is
 * reported through a pipe, read when the child has ended (on_child()).
 * ret_exec_err gets our end of it. */
static int spawn_process(const SpawnOptions *o, const SpawnFds *f, const int stdio[3], int pass_fd, int exec_fd,
                         pid_t *ret, int *ret_exec_err) {
        _cleanup_close_pair_ int err_pipe[2] = { -EBADF, -EBADF };
        pid_t pid;

        if (pipe2(err_pipe, O_CLOEXEC) < 0)
                return -errno;
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0)
                spawn_child(o, f, stdio, pass_fd, exec_fd, err_pipe[1]);
        err_pipe[1] = safe_close(err_pipe[1]);
        *ret = pid;
        *ret_exec_err = TAKE_FD(err_pipe[0]);
        return 0;
}

/* A Spawn for o, with its copy of the input and its output buffers. */
static int spawn_new(const SpawnOptions *o, spawn_callback_t callback, void *userdata, Spawn **ret) {
        _cleanup_(spawn_freep) Spawn *s = NULL;

        s = calloc(1, sizeof(Spawn));
        if (!s)
                return -ENOMEM;
        s->in_fd = s->out_fd = s->err_fd = s->exec_err_fd = -EBADF;
        s->out_max = o->out_max;
        s->err_max = o->err_max;
        s->err_keep_tail = o->err_keep_tail;
        s->callback = callback;
        s->userdata = userdata;
        if (o->input && o->input_size > 0) {
                s->input = malloc(o->input_size);
                if (!s->input)
                        return -ENOMEM;
                memcpy(s->input, o->input, o->input_size);
                s->input_size = o->input_size;
        }
        if (o->out_max > 0) {
                s->result.out = calloc(1, 1);
                if (!s->result.out)
                        return -ENOMEM;
                s->out_alloc = 1;
        }
        if (o->err_max > 0) {
                s->result.err = calloc(1, o->err_max + 1);
                if (!s->result.err)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/* Starts the process with its stdin socket and output pipes; s keeps our
 * ends (also on failure, for spawn_free() to close). */
static int spawn_exec(Spawn *s, const SpawnOptions *o) {
        _cleanup_close_ int pass_fd = -EBADF, exec_fd = -EBADF;
        _cleanup_close_ int stdin_fd = -EBADF, stdout_fd = -EBADF, stderr_fd = -EBADF;
        SpawnFds f = { { -EBADF, -EBADF }, { -EBADF, -EBADF }, { -EBADF, -EBADF } };
        int r;

        /* The fd to pass on must not be 3 itself: a dup2() onto itself
         * would keep its O_CLOEXEC. A copy above 3 does not. */
        if (o->pass_fd > 0) {
                pass_fd = fcntl(o->pass_fd, F_DUPFD_CLOEXEC, 4);
                if (pass_fd < 0)
                        return -errno;
        }
        /* Above 3 as well, where no dup2() below lands. */
        if (o->exec_fd > 0) {
                exec_fd = fcntl(o->exec_fd, F_DUPFD_CLOEXEC, 4);
                if (exec_fd < 0)
                        return -errno;
        }
        if (o->stdio) {
                /* Copies above 3 too, for the same reason (and so that no
                 * dup2() overwrites the source of another). */
                stdin_fd = fcntl(o->stdio[0], F_DUPFD_CLOEXEC, 4);
                if (stdin_fd < 0)
                        return -errno;
                stdout_fd = fcntl(o->stdio[1], F_DUPFD_CLOEXEC, 4);
                if (stdout_fd < 0)
                        return -errno;
                stderr_fd = fcntl(o->stdio[2], F_DUPFD_CLOEXEC, 4);
                if (stderr_fd < 0)
                        return -errno;
                return spawn_process(o, &f, (const int[3]) { stdin_fd, stdout_fd, stderr_fd }, pass_fd, exec_fd,
                                     &s->pid, &s->exec_err_fd);
        }

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f.in) < 0)
                return -errno;
        if ((o->out_max > 0 && pipe2(f.out, O_CLOEXEC) < 0) || (o->err_max > 0 && pipe2(f.err, O_CLOEXEC) < 0)) {
                r = -errno;
                spawn_fds_close(&f);
                return r;
        }
        r = spawn_process(o, &f, NULL, pass_fd, exec_fd, &s->pid, &s->exec_err_fd);
        /* The child's ends are the child's now (or nobody's). */
        f.in[1] = safe_close(f.in[1]);
        f.out[1] = safe_close(f.out[1]);
        f.err[1] = safe_close(f.err[1]);
        s->in_fd = TAKE_FD(f.in[0]);
        s->out_fd = TAKE_FD(f.out[0]);
        s->err_fd = TAKE_FD(f.err[0]);
        return r;
}

/* The loop watches the process (reaping it when the source goes) and our
 * ends of its stdin and output. */
static int spawn_watch(Spawn *s, sd_event *e, const SpawnOptions *o) {
        _cleanup_close_ int pidfd = -EBADF;
        int r;

        /* Nobody else reaps it (SIGCHLD is blocked, no one waits for any
         * child), so the pid is still this process's for pidfd_open(). */
        pidfd = pidfd_open(s->pid, 0);
        if (pidfd >= 0) {
                r = sd_event_add_child_pidfd(e, &s->child, pidfd, WEXITED, on_child, s);
                if (r >= 0) {
                        TAKE_FD(pidfd);
                        (void) sd_event_source_set_child_pidfd_own(s->child, true);
                }
        } else
                r = sd_event_add_child(e, &s->child, s->pid, WEXITED, on_child, s);
        if (r < 0) {
                (void) kill(s->pid, SIGKILL);
                (void) waitpid(s->pid, NULL, 0);
                return r;
        }
        /* From here on, freeing the source kills and reaps the process. */
        (void) sd_event_source_set_child_process_own(s->child, true);

        if (s->in_fd >= 0 && ((r = fd_nonblock(s->in_fd)) < 0 ||
                              (r = sd_event_add_io(e, &s->in_source, s->in_fd, EPOLLOUT, on_input, s)) < 0))
                return r;
        if (s->out_fd >= 0 && ((r = fd_nonblock(s->out_fd)) < 0 ||
                               (r = sd_event_add_io(e, &s->out_source, s->out_fd, EPOLLIN, on_output, s)) < 0))
                return r;
        if (s->err_fd >= 0 && ((r = fd_nonblock(s->err_fd)) < 0 ||
                               (r = sd_event_add_io(e, &s->err_source, s->err_fd, EPOLLIN, on_output, s)) < 0))
                return r;
        if (o->timeout_usec > 0)
                return sd_event_add_time_relative(e, &s->timer, CLOCK_MONOTONIC, o->timeout_usec, 10 * 1000, on_timeout, s);
        return 0;
}

int spawn_start(sd_event *e, const SpawnOptions *o, spawn_callback_t callback, void *userdata, Spawn **ret) {
        _cleanup_(spawn_freep) Spawn *s = NULL;
        int r;

        if (!e || !o || !o->path || !o->argv || !o->argv[0] || !callback || !ret)
                return -EINVAL;
        r = spawn_new(o, callback, userdata, &s);
        if (r >= 0)
                r = spawn_exec(s, o);
        if (r >= 0)
                r = spawn_watch(s, e, o);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

pid_t spawn_pid(const Spawn *s) {
        return s->pid;
}

int spawn_kill(Spawn *s, int sig) {
        if (!s->child)
                return -ESRCH;
        return sd_event_source_send_child_signal(s->child, sig, NULL, 0);
}

typedef struct SpawnWait {
        bool done;
        int error;
        SpawnResult *result;
} SpawnWait;

static void on_sync_done(Spawn *s, int error, SpawnResult *res, void *userdata) {
        SpawnWait *w = userdata;

        w->done = true;
        w->error = error;
        if (error >= 0) {
                *w->result = *res;
                *res = (SpawnResult) {};
        }
}

int spawn_loop_open(SpawnLoop *l) {
        sigset_t chld;
        int r;

        *l = (SpawnLoop) {};
        r = sd_event_new(&l->event);
        if (r < 0)
                return r;
        /* The pidfd wakes the loop; the signal is never needed. */
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        r = -pthread_sigmask(SIG_BLOCK, &chld, &l->old_mask);
        if (r < 0) {
                l->event = sd_event_unref(l->event);
                return r;
        }
        l->blocked = true;
        return 0;
}

int spawn_loop_run(SpawnLoop *l, const bool *done) {
        int r = 0;

        while (r >= 0 && !*done)
                r = sd_event_run(l->event, UINT64_MAX);
        return r < 0 ? r : 0;
}

void spawn_loop_close(SpawnLoop *l) {
        l->event = sd_event_unref(l->event);
        if (l->blocked)
                (void) pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
        l->blocked = false;
}

int spawn_run(const SpawnOptions *o, SpawnResult *ret) {
        _cleanup_(spawn_freep) Spawn *s = NULL;
        SpawnResult result = {};
        SpawnWait w = { .result = &result };
        SpawnLoop l;
        int r;

        r = spawn_loop_open(&l);
        if (r < 0)
                return r;
        r = spawn_start(l.event, o, on_sync_done, &w, &s);
        if (r >= 0)
                r = spawn_loop_run(&l, &w.done);
        /* Before the loop goes: a program still running is killed. */
        s = spawn_free(s);
        spawn_loop_close(&l);
        if (r < 0)
                return r;
        if (w.error < 0)
                return w.error;
        *ret = result;
        return 0;
}

int spawn_find_program(const char *path_list, const char *name, char **ret) {
        for (const char *p = path_list; p && *p;) {
                size_t n = strcspn(p, ":");
                struct stat st;
                char *path;

                if (n > 0) {
                        if (asprintf(&path, "%.*s/%s", (int) n, p, name) < 0)
                                return -ENOMEM;
                        if (stat(path, &st) >= 0 && S_ISREG(st.st_mode) && access(path, X_OK) >= 0) {
                                *ret = path;
                                return 0;
                        }
                        free(path);
                }
                p += n;
                p += *p == ':';
        }
        return -ENOENT;
}
