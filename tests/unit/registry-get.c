/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test driver for the registry client: pull REF's manifest (through an index
 * to the linux/amd64 one) and all its blobs into DIR, as DIR/manifest.json and
 * DIR/<hex of digest>. Prints what it fetched; on failure prints the
 * library's message and exits 1. Not installed. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fs-util.h"
#include "json-util.h"
#include "reference.h"
#include "manifest.h"
#include "registry.h"
#include "string-util.h"

#define BLOBS_MAX 256

static void *mfree_ptr(void *p) {
        free(p);
        return NULL;
}

typedef struct Progress {
        uint64_t done[BLOBS_MAX], total[BLOBS_MAX];
        size_t n;
        unsigned max_active;
} Progress;

static int progress_cb(size_t index, uint64_t done, uint64_t total, void *userdata) {
        Progress *p = userdata;
        unsigned active = 0;

        if (index >= p->n)
                abort();
        if (done > total)
                abort(); /* the client must never pass more than the expected size */
        p->done[index] = done;
        p->total[index] = total;
        for (size_t i = 0; i < p->n; i++)
                if (p->done[i] > 0 && p->done[i] < p->total[i])
                        active++;
        if (active > p->max_active)
                p->max_active = active;
        return 0;
}

static int fail(int r, const PeapodError *e, const char *what) {
        fprintf(stderr, "registry-get: %s: %s (%s, HTTP %d)\n", what, e->message[0] ? e->message : "-", strerror(-r),
                e->http_status);
        return 1;
}

/* The platform manifest to use from an index: linux/amd64, else the first. */
static int index_pick(const char *body, char **ret) {
        _cleanup_json_ json_object *root = json_tokener_parse(body);
        json_object *ms, *first = NULL;
        const char *d;

        if (!root || !json_object_object_get_ex(root, "manifests", &ms) || !json_object_is_type(ms, json_type_array))
                return -EBADMSG;
        for (size_t i = 0; i < json_object_array_length(ms); i++) {
                json_object *m = json_object_array_get_idx(ms, i), *plat;
                const char *os = NULL, *arch = NULL;

                first = first ?: m;
                if (json_object_object_get_ex(m, "platform", &plat) && json_object_is_type(plat, json_type_object)) {
                        (void) json_get_string_opt(plat, "os", &os);
                        (void) json_get_string_opt(plat, "architecture", &arch);
                }
                if (streq_ptr(os, "linux") && streq_ptr(arch, "amd64")) {
                        first = m;
                        break;
                }
        }
        if (!first || json_get_string(first, "digest", &d) < 0)
                return -EBADMSG;
        *ret = strdup(d);
        return *ret ? 0 : -ENOMEM;
}

static int add_descriptor(json_object *o, char **digests, uint64_t *sizes, size_t *n) {
        const char *d;
        int64_t size;

        if (*n >= BLOBS_MAX || !json_object_is_type(o, json_type_object) || json_get_string(o, "digest", &d) < 0 ||
            json_get_int64(o, "size", &size) < 0 || size < 0 || !image_digest_is_valid(d))
                return -EBADMSG;
        digests[*n] = strdup(d);
        if (!digests[*n])
                return -ENOMEM;
        sizes[(*n)++] = (uint64_t) size;
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "auth", required_argument, NULL, 'a' },
                { "ca", required_argument, NULL, 'C' },
                { "tries", required_argument, NULL, 't' },
                { "low-speed", required_argument, NULL, 'l' },
                { "connections", required_argument, NULL, 'n' },
                { "manifest-only", no_argument, NULL, 'm' },
                { "check-login", no_argument, NULL, 'L' },
                { "registry-token", required_argument, NULL, 'T' },
                { "identity-token", required_argument, NULL, 'I' },
                {}
        };
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        _cleanup_(auth_file_freep) AuthFile *auth = NULL;
        _cleanup_(registry_client_freep) RegistryClient *client = NULL;
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *body = NULL, *ctype = NULL, *digest = NULL, *path = NULL;
        _cleanup_json_ json_object *root = NULL;
        const char *config_path = NULL, *auth_path = NULL, *dir;
        RegistryClientOptions o = {};
        RegistryBlobRequest reqs[BLOBS_MAX] = {};
        char *digests[BLOBS_MAX] = {};
        uint64_t sizes[BLOBS_MAX];
        int fds[BLOBS_MAX];
        size_t n = 0, size;
        bool manifest_only = false, check_login = false;
        static Progress progress;
        PeapodError e = {};
        json_object *layers, *cfg;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        config_path = optarg;
                        break;
                case 'a':
                        auth_path = optarg;
                        break;
                case 'C':
                        o.ca_file = optarg;
                        break;
                case 't':
                        o.max_tries = (unsigned) atoi(optarg);
                        break;
                case 'l':
                        if (sscanf(optarg, "%u:%u", &o.low_speed_limit, &o.low_speed_time) != 2)
                                return 2;
                        break;
                case 'n':
                        o.max_connections = (unsigned) atoi(optarg);
                        break;
                case 'm':
                        manifest_only = true;
                        break;
                case 'L':
                        check_login = true;
                        break;
                case 'T':
                        o.bearer_token = optarg;
                        break;
                case 'I':
                        o.identity_token = optarg;
                        break;
                default:
                        return 2;
                }
        if (argc - optind != 2) {
                fprintf(stderr, "usage: registry-get [--config F] [--auth F] [--ca F] [--tries N] [--low-speed B:S] "
                                "[--connections N] [--manifest-only] [--check-login] [--registry-token T] [--identity-token T] REF DIR\n");
                return 2;
        }
        dir = argv[optind + 1];
        o.retry_delay_usec = 50000; /* tests need not wait long */

        /* Never /etc: tests pass their own configuration, or none. */
        if (config_path) {
                r = registries_conf_load(config_path, &conf, &e);
                if (r < 0)
                        return fail(r, &e, "config");
        } else if ((r = registries_conf_parse("{}", &conf, &e)) < 0)
                return fail(r, &e, "config");
        auth_path = auth_path ?: conf->auth_file;
        if (auth_path) {
                r = auth_file_load(auth_path, &auth, &e);
                if (r < 0)
                        return fail(r, &e, "auth file");
        }
        o.config = conf;
        o.auth = auth;

        r = image_reference_parse(argv[optind], &ref);
        if (r < 0) {
                fprintf(stderr, "registry-get: invalid reference '%s'\n", argv[optind]);
                return 1;
        }
        r = image_reference_resolve(ref, conf, &e);
        if (r < 0)
                return fail(r, &e, "resolve");
        if (o.bearer_token || o.identity_token)
                o.bearer_registry = ref->registry;
        r = registry_client_new(&o, &client);
        if (r < 0)
                return fail(r, &e, "client");

        if (check_login) {
                /* What 'peapod login' asks: GET /v2/ with REF's registry's credentials. */
                r = registry_check_login(client, ref->registry, &e);
                if (r < 0)
                        return fail(r, &e, "login");
                printf("login ok\n");
                return 0;
        }
        r = registry_get_manifest(client, ref, NULL, &body, &size, &ctype, &digest, &e);
        if (r < 0)
                return fail(r, &e, "manifest");
        printf("manifest %s %s %zu\n", digest, ctype, size);
        if (media_type_is_index(media_type_from_string(ctype))) {
                _cleanup_free_ char *pick = NULL;

                r = index_pick(body, &pick);
                if (r < 0)
                        return fail(r, &e, "index");
                free(ref->digest);
                ref->digest = TAKE_PTR(pick);
                body = mfree_ptr(body);
                ctype = mfree_ptr(ctype);
                digest = mfree_ptr(digest);
                if (check_login) {
                /* What 'peapod login' asks: GET /v2/ with REF's registry's credentials. */
                r = registry_check_login(client, ref->registry, &e);
                if (r < 0)
                        return fail(r, &e, "login");
                printf("login ok\n");
                return 0;
        }
        r = registry_get_manifest(client, ref, NULL, &body, &size, &ctype, &digest, &e);
                if (r < 0)
                        return fail(r, &e, "manifest");
                printf("manifest %s %s %zu\n", digest, ctype, size);
        }
        if (mkdir_p(dir, 0755) < 0 || asprintf(&path, "%s/manifest.json", dir) < 0 ||
            write_file_atomic(path, body, size, 0644) < 0) {
                fprintf(stderr, "registry-get: cannot write %s\n", dir);
                return 1;
        }
        if (manifest_only)
                return 0;

        root = json_tokener_parse(body);
        if (!root || !json_object_object_get_ex(root, "config", &cfg) || add_descriptor(cfg, digests, sizes, &n) < 0 ||
            !json_object_object_get_ex(root, "layers", &layers) || !json_object_is_type(layers, json_type_array)) {
                fprintf(stderr, "registry-get: manifest without config and layers\n");
                return 1;
        }
        for (size_t i = 0; i < json_object_array_length(layers); i++)
                if (add_descriptor(json_object_array_get_idx(layers, i), digests, sizes, &n) < 0) {
                        fprintf(stderr, "registry-get: bad layer descriptor\n");
                        return 1;
                }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = NULL;

                if (asprintf(&p, "%s/%s", dir, digests[i] + 7) < 0)
                        return 1;
                fds[i] = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fds[i] < 0) {
                        fprintf(stderr, "registry-get: %s: %m\n", p);
                        return 1;
                }
                reqs[i] = (RegistryBlobRequest) { .digest = digests[i], .size = sizes[i], .sink = REGISTRY_SINK_FD(fds[i]) };
        }
        progress.n = n;
        r = registry_get_blobs(client, ref, reqs, n, progress_cb, &progress, &e);
        for (size_t i = 0; i < n; i++) {
                if (reqs[i].result >= 0)
                        printf("blob %s %" PRIu64 "\n", digests[i], sizes[i]);
                else
                        printf("failed %s %s\n", digests[i], reqs[i].error.message);
                close(fds[i]);
                free(digests[i]);
        }
        printf("max-concurrent %u\n", progress.max_active);
        if (r < 0)
                return fail(r, &e, "blobs");
        return 0;
}
