/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image layers are untrusted input. Every input is unpacked into a fresh
 * directory three levels below a sentinel tree; whatever happens, the
 * process must not crash or leak, a refused layer must leave no directory
 * behind, and nothing may appear next to the destination or above it ("../x"
 * and "../../x" would land there). Needs root to get past the first chown;
 * as another user it still exercises parsing up to there. */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "fuzz.h"
#include "io-util.h"
#include "unpack.h"

static char base[] = "/tmp/fuzz-unpack-XXXXXX";
static char level1[64], level2[96], dest[128], sentinel[96];

static void cleanup(void) {
        (void) rm_rf(base);
}

static void setup(void) {
        if (!mkdtemp(base))
                abort();
        atexit(cleanup);
        snprintf(level1, sizeof(level1), "%s/a", base);
        snprintf(level2, sizeof(level2), "%s/b", level1);
        snprintf(dest, sizeof(dest), "%s/dest", level2);
        snprintf(sentinel, sizeof(sentinel), "%s/outside", base);
        if (mkdir(level1, 0755) < 0 || mkdir(level2, 0755) < 0 ||
            write_file_atomic(sentinel, "sentinel\n", 9, 0644) < 0)
                abort();
}

/* The number of entries in dir, or abort. */
static unsigned count_entries(const char *dir) {
        DIR *d = opendir(dir);
        struct dirent *de;
        unsigned n = 0;

        if (!d)
                abort();
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
                        n++;
        closedir(d);
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        UnpackOptions opts = {
                .max_entry_size = 16 << 20,
                .max_total_size = 64 << 20,
                .max_entries = 10000,
        };
        PeapodError err;
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        int r;

        static bool initialized = false;

        if (!initialized) {
                setup();
                initialized = true;
        }

        fd = memfd_create("layer", MFD_CLOEXEC);
        if (fd < 0)
                abort();
        if (loop_write(fd, data, size) < 0)
                abort();
        if (lseek(fd, 0, SEEK_SET) != 0)
                abort();

        r = layer_unpack(fd, dest, &opts, NULL, &err);
        if (r < 0) {
                /* A refusal says why and leaves nothing. */
                if (!err.message[0] || lstat(dest, &st) >= 0)
                        abort();
        } else if (rm_rf(dest) < 0)
                abort();

        if (count_entries(level2) != 0 || count_entries(level1) != 1 || count_entries(base) != 2)
                abort();
        if (read_file(sentinel, 64, &text, NULL) < 0 || strcmp(text, "sentinel\n") != 0)
                abort();
        return 0;
}
