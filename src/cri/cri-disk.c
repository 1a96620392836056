/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The containers' writable layers (the app's overlay upper dir) as the
 * stats calls report them. Walking a tree can take long (an app that
 * writes a million files), and kubelet asks every few seconds: the walk is
 * never on the loop. A stats answer gives what the last walk found (the
 * first one nothing yet) and asks for a new one when that is older than
 * CRI_DISK_FRESH_USEC; one child process at a time walks every tree asked
 * for and writes "ID BYTES INODES" lines into a pipe, read on the loop.
 * A fork, not a thread: peapod-cri is single-threaded, the child only
 * walks and _exit()s, and a walk stuck on a bad file system is killed
 * after CRI_DISK_WALK_MAX_USEC without the loop ever waiting. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cri.h"
#include "cri-pod.h"
#include "log.h"
#include "string-util.h"

#define CRI_DISK_FRESH_USEC (10ULL * 1000000ULL)
#define CRI_DISK_FORGET_USEC (5ULL * 60ULL * 1000000ULL)
#define CRI_DISK_WALK_MAX_USEC (60ULL * 1000000ULL)
/* More containers than a node runs; a request beyond it gets no figure. */
#define CRI_DISK_ENTRIES_MAX 4096
#define CRI_DISK_OUTPUT_MAX (CRI_DISK_ENTRIES_MAX * 128)

typedef struct DiskEntry {
        char id[CRI_CONTAINER_ID_LEN + 1];
        char *upper;
        bool have, walking;
        uint64_t bytes, inodes;
        uint64_t measured_usec, asked_usec;
} DiskEntry;

struct CriDisk {
        Cri *cri;
        DiskEntry *entries;
        size_t n_entries;
        sd_event_source *defer;         /* a walk to start after this dispatch */
        sd_event_source *io, *timer;    /* the walk under way */
        pid_t pid;
        int fd;
        char *out;
        size_t n_out;
};

static void disk_walk_end(CriDisk *d) {
        d->io = sd_event_source_disable_unref(d->io);
        d->timer = sd_event_source_disable_unref(d->timer);
        if (d->fd >= 0)
                close(d->fd);
        d->fd = -1;
        if (d->pid > 0) {
                /* Its last act was closing the pipe by exiting, or it is
                 * killed now: either way the wait is immediate. */
                (void) kill(d->pid, SIGKILL);
                (void) waitpid(d->pid, NULL, 0);
        }
        d->pid = 0;
        d->out = mfree(d->out);
        d->n_out = 0;
        for (size_t i = 0; i < d->n_entries; i++)
                d->entries[i].walking = false;
}

CriDisk *cri_disk_free(CriDisk *d) {
        if (!d)
                return NULL;
        disk_walk_end(d);
        sd_event_source_disable_unref(d->defer);
        for (size_t i = 0; i < d->n_entries; i++)
                free(d->entries[i].upper);
        free(d->entries);
        return mfree(d);
}

static DiskEntry *disk_find(CriDisk *d, const char *id) {
        for (size_t i = 0; i < d->n_entries; i++)
                if (streq(d->entries[i].id, id))
                        return &d->entries[i];
        return NULL;
}

static void disk_apply(CriDisk *d, uint64_t now) {
        char *line = d->out;

        for (char *next; line && *line; line = next) {
                char id[CRI_CONTAINER_ID_LEN + 1];
                unsigned long long bytes, inodes;
                DiskEntry *e;

                next = strchr(line, '\n');
                if (!next)
                        break;
                *next++ = 0;
                if (sscanf(line, "%64s %llu %llu", id, &bytes, &inodes) != 3)
                        continue;
                e = disk_find(d, id);
                if (!e)
                        continue;
                e->have = true;
                e->bytes = bytes;
                e->inodes = inodes;
                e->measured_usec = now;
        }
}

static int disk_on_output(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        CriDisk *d = userdata;
        char buf[4096];
        uint64_t now = 0;
        ssize_t n;

        n = read(fd, buf, sizeof(buf));
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return 0;
        if (n > 0 && d->n_out + (size_t) n <= CRI_DISK_OUTPUT_MAX) {
                char *o = realloc(d->out, d->n_out + n + 1);

                if (o) {
                        memcpy(o + d->n_out, buf, n);
                        d->n_out += n;
                        o[d->n_out] = 0;
                        d->out = o;
                        return 0;
                }
        }
        /* EOF (the walk is done), an error, or more than any answer. */
        if (n == 0) {
                (void) sd_event_now(d->cri->event, CLOCK_MONOTONIC, &now);
                disk_apply(d, now);
        } else
                log_debug("Failed to read the writable layers' sizes, dropped.");
        disk_walk_end(d);
        return 0;
}

static int disk_on_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        log_warning("Measuring the containers' writable layers took over %llu s, stopped.",
                    (unsigned long long) (CRI_DISK_WALK_MAX_USEC / 1000000ULL));
        disk_walk_end(userdata);
        return 0;
}

/* In the child. */
static uint64_t walk_bytes, walk_inodes;

static int walk_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        /* What the file takes on disk (as du counts), not its apparent size. */
        walk_bytes += (uint64_t) st->st_blocks * 512;
        walk_inodes++;
        return 0;
}

_noreturn_ static void disk_walk_child(CriDisk *d, int fd) {
        /* Nothing of the server's stays open here (its clients' sockets
         * would not close while a long walk runs): the pipe becomes fd 3. */
        if (fd != 3 && dup2(fd, 3) < 0)
                _exit(EXIT_FAILURE);
        fd = 3;
        (void) close_range(4, ~0U, 0);
        for (size_t i = 0; i < d->n_entries; i++) {
                const DiskEntry *e = &d->entries[i];

                if (!e->walking)
                        continue;
                walk_bytes = walk_inodes = 0;
                /* FTW_PHYS: symlinks are not followed (the app wrote them);
                 * FTW_MOUNT: nothing mounted below counts. */
                if (nftw(e->upper, walk_one, 16, FTW_PHYS | FTW_MOUNT) < 0)
                        continue;
                if (dprintf(fd, "%s %" PRIu64 " %" PRIu64 "\n", e->id, walk_bytes, walk_inodes) < 0)
                        _exit(EXIT_FAILURE);
        }
        _exit(EXIT_SUCCESS);
}

static int disk_walk_start(sd_event_source *s, void *userdata) {
        CriDisk *d = userdata;
        uint64_t now;
        size_t n = 0, k = 0;
        int pipefd[2], r;
        pid_t pid;

        (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        if (d->pid > 0 || sd_event_now(d->cri->event, CLOCK_MONOTONIC, &now) < 0)
                return 0;
        /* Forget what nobody asked for a while (removed containers). */
        for (size_t i = 0; i < d->n_entries; i++) {
                if (d->entries[i].asked_usec + CRI_DISK_FORGET_USEC < now) {
                        free(d->entries[i].upper);
                        continue;
                }
                d->entries[k++] = d->entries[i];
        }
        d->n_entries = k;
        for (size_t i = 0; i < d->n_entries; i++) {
                DiskEntry *e = &d->entries[i];

                e->walking = !e->have || e->measured_usec + CRI_DISK_FRESH_USEC <= now;
                n += e->walking;
        }
        if (n == 0)
                return 0;
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return log_debug_errno(errno, "Failed to make a pipe for the writable layers: %m"), 0;
        pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return log_debug_errno(errno, "Failed to fork the writable layers' walk: %m"), 0;
        }
        if (pid == 0) {
                close(pipefd[0]);
                disk_walk_child(d, pipefd[1]);
        }
        close(pipefd[1]);
        d->pid = pid;
        d->fd = pipefd[0];
        (void) fcntl(d->fd, F_SETFL, O_NONBLOCK);
        r = sd_event_add_io(d->cri->event, &d->io, d->fd, EPOLLIN, disk_on_output, d);
        if (r >= 0)
                r = sd_event_add_time_relative(d->cri->event, &d->timer, CLOCK_MONOTONIC, CRI_DISK_WALK_MAX_USEC, 0,
                                               disk_on_timeout, d);
        if (r < 0) {
                log_debug_errno(r, "Failed to follow the writable layers' walk: %m");
                disk_walk_end(d);
        }
        return 0;
}

int cri_disk_usage(Cri *cri, const char *container_id, const char *app_name, uint64_t *ret_bytes,
                   uint64_t *ret_inodes) {
        CriDisk *d = cri->disk;
        DiskEntry *e;
        uint64_t now;
        int r;

        /* The id is checked hex, the name is peapodd's (an app name has no
         * '/'); both are checked again here as they build a path we walk. */
        if (!cri_hex_id_is_valid(container_id, CRI_CONTAINER_ID_LEN) || isempty(app_name) || strchr(app_name, '/') ||
            streq(app_name, ".") || streq(app_name, ".."))
                return -EINVAL;
        r = sd_event_now(cri->event, CLOCK_MONOTONIC, &now);
        if (r < 0)
                return r;
        if (!d) {
                d = cri->disk = calloc(1, sizeof(CriDisk));
                if (!d)
                        return -ENOMEM;
                d->cri = cri;
                d->fd = -1;
        }
        e = disk_find(d, container_id);
        if (!e) {
                DiskEntry *n;

                if (d->n_entries >= CRI_DISK_ENTRIES_MAX)
                        return -E2BIG;
                n = reallocarray(d->entries, d->n_entries + 1, sizeof(DiskEntry));
                if (!n)
                        return -ENOMEM;
                d->entries = n;
                e = &d->entries[d->n_entries];
                *e = (DiskEntry) {};
                if (asprintf(&e->upper, PEAPOD_STATE_DIR "/pods/%.32s/apps/%s/upper", container_id, app_name) < 0)
                        return -ENOMEM;
                memcpy(e->id, container_id, sizeof(e->id));
                d->n_entries++;
        }
        e->asked_usec = now;
        if (!e->have || e->measured_usec + CRI_DISK_FRESH_USEC <= now) {
                if (!d->defer)
                        r = sd_event_add_defer(cri->event, &d->defer, disk_walk_start, d);
                else
                        r = sd_event_source_set_enabled(d->defer, SD_EVENT_ONESHOT);
                if (r < 0)
                        return r;
        }
        if (!e->have)
                return 0;
        *ret_bytes = e->bytes;
        *ret_inodes = e->inodes;
        return 1;
}
