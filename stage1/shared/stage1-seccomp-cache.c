/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libseccomp builds the default profile's filter in ~3 ms in a fresh
 * helper (0.4 ms of it finding the syscalls newer than its tables, the
 * rest rules and export, most of it cold pages): every app start and every
 * `peapod enter` paid it, and the program is the same each time for the
 * same options. So a helper keeps the program it built in
 * STAGE1_SECCOMP_CACHE_DIR, and the next one with the same key reads it
 * (a 3 KiB file) instead.
 *
 * Why a cached program is the one the helper would build:
 * - The key is everything the program is made from
 *   (stage1_seccomp_cache_key()): a hash of the sources of the code that
 *   builds it (taken at build time, seccomp-build-id.sh), libseccomp's
 *   version as loaded, the architectures, the capabilities its rules look
 *   at, and the spec. The file holds the whole key, compared byte for
 *   byte; its name is only a hash of it.
 * - Only root writes there: the directory is made 0700 by root, and a
 *   directory or file that is not root's alone is not used. The helper
 *   reads it before it joins the pod, in its copy of the host's mount
 *   namespace, which no pod reaches.
 * - A file is written whole under another name and renamed into place: a
 *   reader sees the old file or the new one. One of the wrong size, or of
 *   another key, is built again and replaced.
 * - At most CACHE_FILES_MAX programs are kept; /run is memory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io-util.h"
#include "log.h"
#include "stage1-seccomp-build-id.h"
#include "stage1-seccomp-cache.h"
#include "strv.h"

#define CACHE_MAGIC "PPSCMP01"
#define CACHE_KEY_MAX (64 * 1024)
/* Programs kept at most (~3 KiB each): a new key past that is built each
 * time, so that apps of ever new options cannot fill /run. */
#define CACHE_FILES_MAX 256

typedef struct CacheHeader {
        char magic[8];
        uint32_t key_len;
        uint32_t n_insns;
} CacheHeader;

int stage1_seccomp_cache_key(const SeccompSpec *spec, uint64_t caps, char **ret) {
        const struct scmp_version *v = seccomp_version();
        _cleanup_free_ char *names = NULL;
        uint32_t arches[3];
        size_t n = stage1_seccomp_arches(arches);
        char *key;

        names = strv_join(spec->names, ",");
        if (!names)
                return -ENOMEM;
        if (asprintf(&key, "build=%s libseccomp=%u.%u.%u arches=%" PRIx32 ",%" PRIx32 ",%" PRIx32 " caps=%" PRIx64 " mode=%d names=%s",
                     STAGE1_SECCOMP_BUILD_ID, v ? v->major : 0, v ? v->minor : 0, v ? v->micro : 0, n > 0 ? arches[0] : 0,
                     n > 1 ? arches[1] : 0, n > 2 ? arches[2] : 0, caps, (int) spec->mode, names) < 0)
                return -ENOMEM;
        if (strlen(key) > CACHE_KEY_MAX) {
                free(key);
                return -E2BIG;
        }
        *ret = key;
        return 0;
}

/* FNV-1a: a file name for the key, which the file holds whole anyway. */
static uint64_t key_hash(const char *key) {
        uint64_t h = UINT64_C(0xcbf29ce484222325);

        for (const char *p = key; *p; p++)
                h = (h ^ (uint8_t) *p) * UINT64_C(0x100000001b3);
        return h;
}

/* root's alone: no one else could have put something there. */
static bool owned_alone(const struct stat *st) {
        return st->st_uid == geteuid() && (st->st_mode & 022) == 0;
}

static int cache_read(int dir_fd, const char *name, const char *key, Stage1SeccompProgram *ret) {
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *data = NULL;
        size_t key_len = strlen(key), size;
        CacheHeader h;
        struct stat st;

        fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) || !owned_alone(&st) || (size_t) st.st_size < sizeof(h) + key_len ||
            (size_t) st.st_size > sizeof(h) + key_len + BPF_MAXINSNS * sizeof(struct sock_filter))
                return -EBADMSG;
        size = (size_t) st.st_size;
        data = malloc(size);
        if (!data)
                return -ENOMEM;
        if (loop_read_exact(fd, data, size) < 0)
                return -EBADMSG;
        memcpy(&h, data, sizeof(h));
        if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0 || h.key_len != key_len ||
            memcmp(data + sizeof(h), key, key_len) != 0 || h.n_insns == 0 || h.n_insns > BPF_MAXINSNS ||
            size != sizeof(h) + key_len + h.n_insns * sizeof(struct sock_filter))
                return -EBADMSG;
        ret->insns = malloc(h.n_insns * sizeof(struct sock_filter));
        if (!ret->insns)
                return -ENOMEM;
        memcpy(ret->insns, data + sizeof(h) + key_len, h.n_insns * sizeof(struct sock_filter));
        ret->len = h.n_insns;
        return 0;
}

static bool cache_full(int dir_fd) {
        struct dirent *de;
        size_t n = 0;
        DIR *d;
        int fd;

        fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return true;
        d = fdopendir(fd);
        if (!d) {
                close(fd);
                return true;
        }
        while ((de = readdir(d)) && n < CACHE_FILES_MAX)
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n >= CACHE_FILES_MAX;
}

static int cache_write(int dir_fd, const char *name, const char *key, const Stage1SeccompProgram *prog) {
        _cleanup_close_ int fd = -EBADF;
        CacheHeader h = { .key_len = (uint32_t) strlen(key), .n_insns = (uint32_t) prog->len };
        char tmp[64];
        int r;

        memcpy(h.magic, CACHE_MAGIC, sizeof(h.magic));
        snprintf(tmp, sizeof(tmp), ".%s.%d", name, (int) getpid());
        fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if ((r = loop_write(fd, &h, sizeof(h))) < 0 || (r = loop_write(fd, key, h.key_len)) < 0 ||
            (r = loop_write(fd, prog->insns, prog->len * sizeof(struct sock_filter))) < 0 ||
            (renameat(dir_fd, tmp, dir_fd, name) < 0 && (r = -errno) < 0)) {
                (void) unlinkat(dir_fd, tmp, 0);
                return r;
        }
        return 0;
}

/* The cache directory, made if missing; only when it is root's alone. */
static int cache_open_dir(const char *dir) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!owned_alone(&st) || (st.st_mode & 0077) != 0)
                return -EPERM;
        return TAKE_FD(fd);
}

int stage1_seccomp_program_cached(const char *dir, const SeccompSpec *spec, uint64_t caps, Stage1SeccompProgram *ret) {
        _cleanup_free_ char *key = NULL;
        _cleanup_close_ int dir_fd = -EBADF;
        char name[32];
        int r;

        *ret = (Stage1SeccompProgram) {};
        if (spec->mode == SECCOMP_MODE_UNCONFINED)
                return 0;
        r = stage1_seccomp_cache_key(spec, caps, &key);
        if (r >= 0)
                dir_fd = cache_open_dir(dir);
        if (r < 0 || dir_fd < 0)
                /* No cache: built as before. */
                return stage1_seccomp_program(spec, caps, ret);
        snprintf(name, sizeof(name), "%016" PRIx64 ".bpf", key_hash(key));
        if (cache_read(dir_fd, name, key, ret) >= 0)
                return 0;
        r = stage1_seccomp_program(spec, caps, ret);
        if (r < 0)
                return r;
        if (ret->len > 0 && !cache_full(dir_fd))
                (void) cache_write(dir_fd, name, key, ret);
        return 0;
}
