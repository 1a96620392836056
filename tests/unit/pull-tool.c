/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test driver for image_pull(): pull REF into the store at STORE and print
 * "id <image id>" and "fetched <bytes transferred>". --cancel makes the
 * progress callback cancel as soon as a layer's bytes arrive. On failure it
 * prints the library's message and "errno <name>" and exits 1. Not
 * installed. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "image.h"
#include "image-pull.h"
#include "string-util.h"
#include "trust.h"

typedef struct State {
        bool cancel;
        /* CLOCK_MONOTONIC usec when each phase was first reported, for
         * bench/pull (printed as "phase NAME SECONDS"). */
        uint64_t phase_start[_PULL_PHASE_MAX];
        uint64_t fetched;
        PullPhase last;
        unsigned reports;
} State;

static int progress_cb(const PullProgress *p, void *userdata) {
        State *st = userdata;

        if (p->phase < 0 || p->phase >= _PULL_PHASE_MAX || p->done > p->total)
                abort();
        if (p->phase < st->last)
                abort(); /* phases only move forward */
        if (!st->phase_start[p->phase]) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                st->phase_start[p->phase] = (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
        }
        st->last = p->phase;
        st->fetched = p->fetched;
        st->reports++;
        if (st->cancel && p->phase == PULL_PHASE_DOWNLOADING && p->fetched > 0)
                return 1;
        return 0;
}

/* --trust-policy/--trust-keys: verify as peapodd does (bench/trust). */
static TrustOptions trust;
static uint64_t verify_usec; /* of the last verification */

static uint64_t now_mono_usec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000ULL + (uint64_t) ts.tv_nsec / 1000ULL;
}

static int verify_cb(const char *reference, const Digest *manifest, void *userdata, PeapodError *e) {
        uint64_t t = now_mono_usec();
        int r = trust_verify_image(&trust, reference, manifest, NULL, e);
        verify_usec = now_mono_usec() - t;
        return r;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "trust-policy", required_argument, NULL, 'p' },
                { "trust-keys", required_argument, NULL, 'k' },
                { "config", required_argument, NULL, 'c' },
                { "cancel", no_argument, NULL, 'x' },
                { "insecure", no_argument, NULL, 'i' },
                { "find", no_argument, NULL, 'f' },
                { "storage-conf", required_argument, NULL, 's' },
                {},
        };
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *id = NULL;
        PullOptions o = {};
        PeapodError e = {};
        State st = {};
        const char *storage_conf = NULL;
        bool find = false;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        o.registries_conf = optarg;
                        trust.registries_conf = optarg;
                        break;
                case 'x':
                        st.cancel = true;
                        break;
                case 'i':
                        o.insecure = true;
                        break;
                case 'f':
                        find = true;
                        break;
                case 'p':
                        trust.policy = optarg;
                        o.verify = verify_cb;
                        break;
                case 'k':
                        trust.keys_dir = optarg;
                        break;
                case 's':
                        storage_conf = optarg;
                        break;
                default:
                        return 2;
                }
        if (argc - optind != 2) {
                fprintf(stderr, "usage: pull-tool [--config FILE] [--cancel] [--insecure] [--trust-policy FILE --trust-keys DIR] [--storage-conf FILE] STORE REF\n");
                return 2;
        }
        r = store_open(argv[optind], &s);
        if (r < 0) {
                fprintf(stderr, "pull-tool: store: %s\n", strerror(-r));
                return 1;
        }
        if (storage_conf) {
                StorageLimits l;

                r = storage_conf_load(storage_conf, &l, &e);
                if (r < 0) {
                        fprintf(stderr, "pull-tool: %s\n", e.message);
                        return 1;
                }
                store_set_limits(s, &l);
        }
        if (find) {
                _cleanup_(image_freep) Image *i = NULL;

                /* --find: look the image up instead of pulling it. */
                r = image_find_in_store(s, argv[optind + 1], o.registries_conf, &i, &e);
                if (r < 0) {
                        printf("errno %s\n", strerrorname_np(-r) ?: "?");
                        fprintf(stderr, "pull-tool: %s (%s)\n", e.message[0] ? e.message : "-", strerror(-r));
                        return 1;
                }
                printf("name %s\nid %s\n", i->name, strna(i->id));
                FOREACH_STRV(l, i->layers)
                        printf("layer %s\n", l);
                FOREACH_STRV(x, i->cmd)
                        printf("cmd %s\n", x);
                FOREACH_STRV(x, i->env)
                        printf("env %s\n", x);
                printf("workdir %s\nuser %s\n", strna(i->workdir), strna(i->user));
                return 0;
        }
        r = image_pull(s, argv[optind + 1], &o, progress_cb, &st, &id, &e);
        printf("fetched %" PRIu64 "\n", st.fetched);
        if (r < 0) {
                printf("errno %s\n", strerrorname_np(-r) ?: "?");
                fprintf(stderr, "pull-tool: %s (%s)\n", e.message[0] ? e.message : "-", strerror(-r));
                return 1;
        }
        if (st.last != PULL_PHASE_DONE)
                abort();
        printf("id %s\n", id);
        if (o.verify) {
                /* The first check in a process pays for gpgme finding its
                 * engines; peapodd pays that once. A second check of the
                 * same image shows what each one costs afterwards. */
                uint64_t first = verify_usec;
                Digest d;

                if (store_ref_get(s, argv[optind + 1], &d) >= 0 && verify_cb(argv[optind + 1], &d, NULL, &e) >= 0)
                        printf("verify_ms first %.1f again %.1f\n", first / 1e3, verify_usec / 1e3);
        }
        for (int k = 0; k + 1 < _PULL_PHASE_MAX; k++)
                if (st.phase_start[k] && st.phase_start[k + 1])
                        printf("phase %s %.3f\n", pull_phase_to_string(k),
                               (double) (st.phase_start[k + 1] - st.phase_start[k]) / 1e6);
        return 0;
}
