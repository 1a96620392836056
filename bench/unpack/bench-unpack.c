/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-unpack DESTDIR LAYER...: unpack each layer into DESTDIR/<n> with
 * layer_unpack() and print the wall time of all of them, in seconds. */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>

#include "unpack.h"

int main(int argc, char *argv[]) {
        struct timespec a, b;
        uint64_t entries = 0, bytes = 0;

        if (argc < 3) {
                fprintf(stderr, "usage: %s DESTDIR LAYER...\n", argv[0]);
                return 2;
        }
        clock_gettime(CLOCK_MONOTONIC, &a);
        for (int i = 2; i < argc; i++) {
                PeapodError err = {};
                UnpackStats stats = {};
                char dest[4096];
                int fd, r;

                snprintf(dest, sizeof(dest), "%s/%d", argv[1], i - 1);
                fd = open(argv[i], O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        perror(argv[i]);
                        return 1;
                }
                r = layer_unpack(fd, dest, NULL, &stats, &err);
                close(fd);
                if (r < 0) {
                        fprintf(stderr, "%s: %s (%s)\n", argv[i], err.message, strerror(-r));
                        return 1;
                }
                entries += stats.entries;
                bytes += stats.bytes;
        }
        clock_gettime(CLOCK_MONOTONIC, &b);
        printf("%.3f\n", (double) (b.tv_sec - a.tv_sec) + (double) (b.tv_nsec - a.tv_nsec) / 1e9);
        fprintf(stderr, "bench-unpack: %llu entries, %llu bytes\n", (unsigned long long) entries, (unsigned long long) bytes);
        return 0;
}
