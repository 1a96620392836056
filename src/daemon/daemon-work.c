/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Slow filesystem work off the loop: the store's gc and the deletion of a
 * removed pod's or app's files (daemon_delete_tree(): an rm -rf of app
 * roots can take seconds) run in a
 * thread of their own, and the loop hears of their end through an eventfd.
 * The work touches nothing the loop owns: what it needs is copied in, what
 * it did is handed back to its done callback, which runs on the loop.
 * Unlike an image job (daemon-job.c) it is no bus object: the method that
 * started it answers when it is done. */
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

struct Work {
        Daemon *daemon;
        pthread_t thread;
        int event_fd;
        sd_event_source *event_source;
        WorkFn fn;
        WorkDone done;
        void *userdata;
        int r; /* written by the thread before it signals event_fd */
};

static void work_free(Work *w) {
        sd_event_source_disable_unref(w->event_source);
        safe_close(w->event_fd);
        free(w);
}

static void *work_thread(void *userdata) {
        Work *w = userdata;
        uint64_t one = 1;

        w->r = w->fn(w->userdata);
        /* The eventfd write orders w->r before the loop's read of it. */
        (void) write(w->event_fd, &one, sizeof(one));
        return NULL;
}

static void work_end(Work *w) {
        Daemon *d = w->daemon;

        (void) pthread_join(w->thread, NULL);
        for (size_t i = 0; i < d->n_works; i++)
                if (d->works[i] == w) {
                        memmove(d->works + i, d->works + i + 1, sizeof(Work *) * (d->n_works - i - 1));
                        d->n_works--;
                        break;
                }
        w->done(d, w->r, w->userdata);
        work_free(w);
}

static int on_work_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        work_end(userdata);
        return 0;
}

int daemon_work(Daemon *d, WorkFn fn, WorkDone done, void *userdata) {
        sigset_t all, old;
        Work *w, **l;
        int r;

        l = reallocarray(d->works, d->n_works + 1, sizeof(Work *));
        if (!l)
                return -ENOMEM;
        d->works = l;
        w = calloc(1, sizeof(Work));
        if (!w)
                return -ENOMEM;
        *w = (Work) { .daemon = d, .fn = fn, .done = done, .userdata = userdata };
        w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->event_fd < 0) {
                r = -errno;
                work_free(w);
                return r;
        }
        r = sd_event_add_io(d->event, &w->event_source, w->event_fd, EPOLLIN, on_work_event, w);
        if (r < 0) {
                work_free(w);
                return r;
        }
        /* Signals stay with the main thread's signalfd sources. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&w->thread, NULL, work_thread, w);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
                work_free(w);
                return r;
        }
        d->works[d->n_works++] = w;
        return 0;
}

typedef struct TreeDeletion {
        char *path;
        WorkDone done;
        void *userdata;
} TreeDeletion;

static int tree_deletion_run(void *userdata) {
        TreeDeletion *t = userdata;

        return rm_rf(t->path);
}

static void tree_deletion_done(Daemon *d, int r, void *userdata) {
        TreeDeletion *t = userdata;

        if (r < 0)
                log_warning_errno(r, "Failed to delete %s (the next start of peapodd tries again): %m", t->path);
        else
                log_debug("Deleted %s.", t->path);
        if (t->done)
                t->done(d, r, t->userdata);
        free(t->path);
        free(t);
}

void daemon_delete_tree(Daemon *d, char *path, WorkDone done, void *userdata) {
        TreeDeletion *t;

        t = calloc(1, sizeof(TreeDeletion));
        if (!t) {
                /* No memory for the thread's part: here and now. */
                int r = rm_rf(path);

                if (r < 0)
                        log_warning_errno(r, "Failed to delete %s (the next start of peapodd tries again): %m", path);
                free(path);
                if (done)
                        done(d, r, userdata);
                return;
        }
        *t = (TreeDeletion) { .path = path, .done = done, .userdata = userdata };
        if (daemon_work(d, tree_deletion_run, tree_deletion_done, t) < 0)
                /* No thread: here and now, as the last resort. */
                tree_deletion_done(d, tree_deletion_run(t), t);
}

void daemon_works_free(Daemon *d) {
        /* Each is waited for and finished: what it deletes is half deleted
         * otherwise (harmless: the next start deletes the rest), and its
         * callers are owed an answer. */
        while (d->n_works > 0)
                work_end(d->works[0]);
        d->works = mfree(d->works);
}
