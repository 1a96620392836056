/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state thread: pod.json's durable copies (pod_save()) are written
 * here, off the loop, one after another in the order they were asked for.
 * On a busy disk a write with fsync took 10-250 ms, and even a rename or
 * mkdir on the same journaled file system waited as long behind the
 * commits: on the loop, several times per pod start and stop, every read
 * waited for them.
 *
 * What the loop relies on:
 * - the current pod.json is renamed into place by the loop, on /run (a
 *   tmpfs: no journal to wait for), before the step that follows it, so a
 *   crash of peapodd (not of the machine) never finds a record older than
 *   what was done; pod_load() takes the newer of the two copies;
 * - a step that must survive a power loss waits for
 *   daemon_durable_barrier(): its callback runs when every copy asked for
 *   before it is on disk;
 * - a removed pod's files are deleted (daemon_remove_pod()) after such a
 *   barrier, so no copy lands in a directory being deleted; and a copy
 *   asked for meanwhile finds no directory (pod_write_durable() creates
 *   none) and is dropped;
 * - a copy still queued for a path is replaced by a newer one: the disk
 *   gets the newest, in the queue's order. */
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"

struct DurableItem {
        DurableItem *next;
        char *path, *text;  /* a durable copy, or (NULL) a barrier: */
        WorkDone done;
        void *userdata;
        bool cancelled;     /* the loop's own: done is not called */
        int r;
};

struct DurableQueue {
        pthread_t thread;
        pthread_mutex_t lock;
        /* Held around each write of a copy: the loop's own write (below,
         * when memory ran out) never lands before an older copy of the
         * same pod that the thread is writing. */
        pthread_mutex_t write_lock;
        pthread_cond_t wake;
        DurableItem *pending, *pending_tail; /* under lock */
        DurableItem *finished;               /* under lock, newest first */
        bool stopping;                       /* under lock */
        int event_fd;
        sd_event_source *event_source;
};

static DurableItem *durable_item_free(DurableItem *i) {
        if (i) {
                free(i->path);
                free(i->text);
                free(i);
        }
        return NULL;
}

static void *durable_thread(void *userdata) {
        DurableQueue *q = userdata;
        uint64_t one = 1;

        pthread_mutex_lock(&q->lock);
        for (;;) {
                DurableItem *i;

                while (!q->pending && !q->stopping)
                        pthread_cond_wait(&q->wake, &q->lock);
                if (!q->pending)
                        break;
                i = q->pending;
                q->pending = i->next;
                if (!q->pending)
                        q->pending_tail = NULL;
                pthread_mutex_unlock(&q->lock);

                if (i->path) {
                        pthread_mutex_lock(&q->write_lock);
                        i->r = pod_write_durable(i->path, i->text);
                        pthread_mutex_unlock(&q->write_lock);
                }

                pthread_mutex_lock(&q->lock);
                i->next = q->finished;
                q->finished = i;
                /* The eventfd write orders the item's result before the
                 * loop's read of it. */
                (void) write(q->event_fd, &one, sizeof(one));
        }
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

/* On the loop: the items the thread finished, oldest first. */
static void durable_finish(Daemon *d) {
        DurableQueue *q = d->durable;
        DurableItem *done = NULL, *i;
        uint64_t n;

        (void) read(q->event_fd, &n, sizeof(n));
        pthread_mutex_lock(&q->lock);
        i = q->finished;
        q->finished = NULL;
        pthread_mutex_unlock(&q->lock);
        while (i) {
                DurableItem *next = i->next;

                i->next = done;
                done = i;
                i = next;
        }
        while (done) {
                i = done;
                done = i->next;
                /* ENOENT: the pod was removed meanwhile, with its directory. */
                if (i->path && i->r < 0 && i->r != -ENOENT)
                        log_warning_errno(i->r, "Failed to write %s: %m", i->path);
                if (!i->path && i->done && !i->cancelled)
                        i->done(d, i->r, i->userdata);
                durable_item_free(i);
        }
}

static int on_durable_event(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        durable_finish(userdata);
        return 0;
}

static void durable_queue(DurableQueue *q, DurableItem *i) {
        pthread_mutex_lock(&q->lock);
        if (q->pending_tail)
                q->pending_tail->next = i;
        else
                q->pending = i;
        q->pending_tail = i;
        pthread_cond_signal(&q->wake);
        pthread_mutex_unlock(&q->lock);
}

/* PodDurableWriter.write: takes path and text. */
static void durable_write(void *userdata, char *path, char *text) {
        Daemon *d = userdata;
        DurableQueue *q = d->durable;
        DurableItem *i;

        pthread_mutex_lock(&q->lock);
        for (i = q->pending; i; i = i->next)
                if (i->path && streq(i->path, path)) {
                        free(i->text);
                        i->text = text;
                        pthread_mutex_unlock(&q->lock);
                        free(path);
                        return;
                }
        pthread_mutex_unlock(&q->lock);

        i = calloc(1, sizeof(DurableItem));
        if (!i) {
                /* Written here then: slower, never lost. No older copy of
                 * this path is queued (it would have been replaced above);
                 * one the thread is writing now is done first. */
                int r;

                pthread_mutex_lock(&q->write_lock);
                r = pod_write_durable(path, text);
                pthread_mutex_unlock(&q->write_lock);
                if (r < 0 && r != -ENOENT)
                        log_warning_errno(r, "Failed to write %s: %m", path);
                free(path);
                free(text);
                return;
        }
        *i = (DurableItem) { .path = path, .text = text };
        durable_queue(q, i);
}

int daemon_durable_barrier(Daemon *d, WorkDone done, void *userdata, DurableItem **ret) {
        DurableItem *i;

        i = calloc(1, sizeof(DurableItem));
        if (!i)
                return -ENOMEM;
        *i = (DurableItem) { .done = done, .userdata = userdata };
        durable_queue(d->durable, i);
        if (ret)
                *ret = i;
        return 0;
}

void daemon_durable_cancel(DurableItem *i) {
        if (i)
                i->cancelled = true;
}

int daemon_durable_start(Daemon *d) {
        _cleanup_free_ DurableQueue *q = NULL;
        sigset_t all, old;
        int r;

        q = calloc(1, sizeof(DurableQueue));
        if (!q)
                return -ENOMEM;
        q->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->event_fd < 0)
                return -errno;
        r = sd_event_add_io(d->event, &q->event_source, q->event_fd, EPOLLIN, on_durable_event, d);
        if (r < 0) {
                safe_close(q->event_fd);
                return r;
        }
        pthread_mutex_init(&q->lock, NULL);
        pthread_mutex_init(&q->write_lock, NULL);
        pthread_cond_init(&q->wake, NULL);
        /* Signals stay with the main thread's signalfd sources. */
        sigfillset(&all);
        pthread_sigmask(SIG_BLOCK, &all, &old);
        r = -pthread_create(&q->thread, NULL, durable_thread, q);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r < 0) {
                sd_event_source_disable_unref(q->event_source);
                safe_close(q->event_fd);
                return r;
        }
        d->durable = TAKE_PTR(q);
        d->runtime.durable = (PodDurableWriter) { .write = durable_write, .userdata = d };
        return 0;
}

void daemon_durable_stop(Daemon *d) {
        DurableQueue *q = d->durable;

        if (!q)
                return;
        /* Everything queued is written first: a copy dropped here would be
         * the one a power loss needs. Then the callers get their answers. */
        pthread_mutex_lock(&q->lock);
        q->stopping = true;
        pthread_cond_signal(&q->wake);
        pthread_mutex_unlock(&q->lock);
        (void) pthread_join(q->thread, NULL);
        d->runtime.durable = (PodDurableWriter) {};
        durable_finish(d);
        sd_event_source_disable_unref(q->event_source);
        safe_close(q->event_fd);
        pthread_mutex_destroy(&q->lock);
        pthread_mutex_destroy(&q->write_lock);
        pthread_cond_destroy(&q->wake);
        d->durable = mfree(q);
}
