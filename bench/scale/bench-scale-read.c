/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bench-scale-read: a reader of peapodd as a monitoring client would be, on
 * one kept system bus connection, printing the latency of each call in
 * microseconds, one line per call: "<kind> <usec>" (kind list or getall), or
 * "<kind>-error <usec> <error name>".
 *
 *   bench-scale-read list COUNT     COUNT ListPods calls
 *   bench-scale-read loop           ListPods, then GetAll of one pod of its
 *                                   answer (the next one each round), until
 *                                   SIGTERM or SIGINT
 *
 * A pod that goes away between ListPods and GetAll answers UnknownObject:
 * printed as an error line, not counted as a latency by bench/scale. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>

static unsigned long long now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (unsigned long long) ts.tv_sec * 1000000ULL + (unsigned long long) ts.tv_nsec / 1000;
}

/* One ListPods; with ret_path, the path of the pod at index *k (modulo the
 * number of pods), which *k then moves past. */
static int list_pods(sd_bus *bus, size_t *k, char **ret_path) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        unsigned long long t0 = now_usec(), t1;
        size_t n = 0;
        char *path = NULL;
        int r;

        r = sd_bus_call_method(bus, "org.peapod1", "/org/peapod1", "org.peapod1.Manager", "ListPods", &error, &reply,
                               NULL);
        t1 = now_usec();
        if (r < 0) {
                printf("list-error %llu %s\n", t1 - t0, error.name ?: strerror(-r));
                sd_bus_error_free(&error);
                return r;
        }
        printf("list %llu\n", t1 - t0);
        if (ret_path) {
                r = sd_bus_message_enter_container(reply, 'a', "(ssssto)");
                while (r >= 0) {
                        const char *id, *name, *state, *machine, *p;
                        uint64_t created;

                        r = sd_bus_message_read(reply, "(ssssto)", &id, &name, &state, &machine, &created, &p);
                        if (r <= 0)
                                break;
                        if (n == *k || !path) {
                                free(path);
                                path = strdup(p);
                        }
                        n++;
                }
                *k = n > 0 ? (*k + 1) % n : 0;
                *ret_path = path;
        }
        sd_bus_message_unref(reply);
        return 0;
}

static void get_all(sd_bus *bus, const char *path) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        unsigned long long t0 = now_usec(), t1;
        int r;

        r = sd_bus_call_method(bus, "org.peapod1", path, "org.freedesktop.DBus.Properties", "GetAll", &error, &reply,
                               "s", "org.peapod1.Pod");
        t1 = now_usec();
        if (r < 0)
                printf("getall-error %llu %s\n", t1 - t0, error.name ?: strerror(-r));
        else
                printf("getall %llu\n", t1 - t0);
        sd_bus_error_free(&error);
        sd_bus_message_unref(reply);
}

int main(int argc, char *argv[]) {
        sd_bus *bus = NULL;
        int r;

        if (argc < 2 || (strcmp(argv[1], "list") == 0 && argc != 3) ||
            (strcmp(argv[1], "list") != 0 && strcmp(argv[1], "loop") != 0)) {
                fprintf(stderr, "usage: %s list COUNT | loop\n", argv[0]);
                return 2;
        }
        r = sd_bus_open_system(&bus);
        if (r < 0) {
                fprintf(stderr, "Failed to connect to the system bus: %s\n", strerror(-r));
                return 1;
        }
        if (strcmp(argv[1], "list") == 0) {
                long count = strtol(argv[2], NULL, 10);

                for (long i = 0; i < count; i++)
                        (void) list_pods(bus, NULL, NULL);
        } else {
                sigset_t ss, pending;
                size_t k = 0;

                /* Blocked and looked at between calls: a call is never cut
                 * short by the signal that ends the loop. */
                sigemptyset(&ss);
                sigaddset(&ss, SIGTERM);
                sigaddset(&ss, SIGINT);
                sigprocmask(SIG_BLOCK, &ss, NULL);
                for (;;) {
                        char *path = NULL;

                        sigpending(&pending);
                        if (sigismember(&pending, SIGTERM) || sigismember(&pending, SIGINT))
                                break;

                        if (list_pods(bus, &k, &path) >= 0 && path)
                                get_all(bus, path);
                        free(path);
                }
        }
        fflush(stdout);
        sd_bus_flush_close_unref(bus);
        return 0;
}
