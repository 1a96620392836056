/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "digest.h"
#include "fs-util.h"
#include "gpg.h"
#include "json-util.h"
#include "reference.h"
#include "signature.h"
#include "string-util.h"
#include "strv.h"
#include "trust.h"


/* Ask on the terminal; anything but y/yes is no. */
static bool ask_yes_no(const char *question) {
        char line[16] = {};

        fprintf(stderr, "%s [y/N] ", question);
        fflush(stderr);
        if (!fgets(line, sizeof(line), stdin))
                return false;
        line[strcspn(line, "\n")] = 0;
        return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

/* The key's fingerprint and user id shown, and the operator's yes (or
 * --yes). */
static int trust_add_confirm(const char *path, const char *key, size_t size, const char *prefix, bool root, bool yes,
                             GpgKeyInfo *info) {
        PeapodError e = {};
        int r;

        r = gpg_key_inspect(key, size, info, &e);
        if (r < 0)
                return log_error_errno(r, "%s: %s", path, e.message[0] ? e.message : strerror(-r));
        fprintf(stderr, "Key fingerprint: %s\nUser id: %s\nTrusted for: %s\n", info->fingerprint, strna(info->uid),
                root ? "every image (root key)" : prefix);
        if (info->revoked)
                fprintf(stderr, "Warning: this key is revoked; images it signed will be refused.\n");
        else if (info->expired)
                fprintf(stderr, "Warning: this key has expired; images it signed will be refused.\n");
        if (!yes) {
                if (!isatty(STDIN_FILENO))
                        return log_usage_error("Not asking on a non-terminal: check the fingerprint and pass --yes.");
                if (!ask_yes_no("Trust this key?"))
                        return log_error_errno(ECANCELED, "Key not added.");
        }
        return 0;
}

/* Manager.AddTrustedKey; the fingerprint peapodd added in ret_fpr. */
static int trust_add_call(const char *key, size_t size, const char *prefix, bool root, char **ret_fpr) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *fpr;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &call, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                           "AddTrustedKey");
        if (r >= 0)
                r = sd_bus_message_append_array(call, 'y', key, size);
        if (r >= 0)
                r = sd_bus_message_append(call, "st", strempty(prefix), root ? PEAPOD_TRUST_KEY_ROOT : UINT64_C(0));
        if (r < 0)
                return log_error_errno(r, "Failed to build AddTrustedKey call: %m");
        r = sd_bus_call(bus, call, 0, &error, &reply);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "s", &fpr);
        if (r < 0)
                return log_error_errno(r, "Failed to parse AddTrustedKey reply: %m");
        *ret_fpr = strdup(fpr);
        return *ret_fpr ? 0 : log_oom();
}

static int verb_trust_add(int argc, char *argv[]) {
        enum { ARG_PREFIX = 0x100, ARG_ROOT };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "prefix", required_argument, NULL, ARG_PREFIX },
                { "root", no_argument, NULL, ARG_ROOT },
                { "yes", no_argument, NULL, 'y' },
                {}
        };
        _cleanup_free_ char *key = NULL, *fpr = NULL;
        _cleanup_(gpg_key_info_done) GpgKeyInfo info = {};
        const char *prefix = NULL;
        bool root = false, yes = false;
        size_t size;
        int c, r;

        while ((c = getopt_long(argc, argv, ":hy", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("trust");
                        return 0;
                case ARG_PREFIX:
                        if (!registry_prefix_is_valid(optarg))
                                return log_usage_error("Invalid --prefix='%s': registry[:port][/repository path].", optarg);
                        prefix = optarg;
                        break;
                case ARG_ROOT:
                        root = true;
                        break;
                case 'y':
                        yes = true;
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind + 1 != argc)
                return log_usage_error("'peapod trust add' takes one key file.");
        if (!prefix == !root)
                return log_usage_error("Give either --prefix=PREFIX or --root (a key trusted for every image).");
        r = read_file(argv[optind], GPG_KEY_SIZE_MAX, &key, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", argv[optind]);
        /* The fingerprint is computed here, from the file the operator
         * named, before anything is sent: what is asked is what is added. */
        r = trust_add_confirm(argv[optind], key, size, prefix, root, yes, &info);
        if (r < 0)
                return r;
        r = trust_add_call(key, size, prefix, root, &fpr);
        if (r < 0)
                return r;
        if (!streq(fpr, info.fingerprint))
                return log_error_errno(EIO, "peapodd added key %s, not %s", fpr, info.fingerprint);
        printf("%s\n", fpr);
        return 0;
}

static int verb_trust_list(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        _cleanup_json_ json_object *a = NULL;
        OutputFormat format = OUTPUT_TABLE;
        const char *fpr, *prefix, *uid, *path;
        bool legend = true;
        size_t n = 0;
        int r;

        r = cli_parse_output_options(argc, argv, "trust", "table", &format, &legend);
        if (r <= 0)
                return r;
        if (optind != argc)
                return log_usage_error("'peapod trust list' takes no arguments.");
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "ListTrustedKeys", 0, &reply, NULL);
        if (r < 0)
                return r;
        a = json_object_new_array();
        t = table_new(3, "FINGERPRINT", "TRUSTED FOR", "USER ID");
        if (!a || !t)
                return log_oom();
        r = sd_bus_message_enter_container(reply, 'a', "(ssss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssss)", &fpr, &prefix, &uid, &path)) > 0) {
                json_object *o = json_object_new_object();

                if (!o)
                        return log_oom();
                json_object_object_add(o, "fingerprint", json_object_new_string(fpr));
                json_object_object_add(o, "root", json_object_new_boolean(isempty(prefix)));
                json_object_object_add(o, "prefix", isempty(prefix) ? NULL : json_object_new_string(prefix));
                json_object_object_add(o, "uid", json_object_new_string(uid));
                json_object_object_add(o, "path", json_object_new_string(path));
                json_object_array_add(a, o);
                if (table_add_row(t, fpr, isempty(prefix) ? "(every image)" : prefix, isempty(uid) ? NULL : uid) < 0)
                        return log_oom();
                n++;
        }
        if (r < 0)
                return log_error_errno(r, "Failed to parse ListTrustedKeys reply: %m");
        if (format == OUTPUT_JSON)
                return cli_print_json(json_object_get(a));
        r = table_print(t, stdout, legend);
        if (r >= 0 && legend)
                printf("\n%zu key%s listed.\n", n, n == 1 ? "" : "s");
        return r;
}

static int verb_trust_rm(int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {}
        };
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        int c, r, ret = 0;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("trust");
                        return 0;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind >= argc)
                return log_usage_error("'peapod trust rm' takes one or more key fingerprints.");
        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        for (int i = optind; i < argc; i++) {
                r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemoveTrustedKey", 0, NULL, "st", argv[i],
                             UINT64_C(0));
                if (r < 0 && ret == 0)
                        ret = r;
        }
        return ret;
}

int verb_trust(int argc, char *argv[]) {
        static const struct {
                const char *name;
                int (*run)(int argc, char *argv[]);
        } subverbs[] = {
                { "add", verb_trust_add },
                { "list", verb_trust_list },
                { "rm", verb_trust_rm },
        };

        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                verb_help("trust");
                return argc < 2 ? log_usage_error("Missing trust verb; see 'peapod trust --help'.") : 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(subverbs); i++)
                if (streq(argv[1], subverbs[i].name)) {
                        optind = 0;
                        return subverbs[i].run(argc - 1, argv + 1);
                }
        return log_usage_error("Unknown trust verb '%s'; see 'peapod trust --help'.", argv[1]);
}

/* The digest of the manifest the store has under name, from peapodd. */
static int image_manifest_digest(const char *name, char **ret) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path;
        char *digest = NULL;
        int r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "GetImage", 0, &reply, "s", name);
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse GetImage reply: %m");
        r = sd_bus_get_property_string(bus, PEAPOD_BUS_NAME, path, PEAPOD_IMAGE_INTERFACE, "Digest", &error, &digest);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        *ret = digest;
        return 0;
}

/* Write data to dir/signature-N for the first N that does not exist. */
static int write_next_signature(const char *dir, const void *data, size_t size, char **ret_path) {
        int r;

        r = mkdir_p(dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to make %s: %m", dir);
        for (unsigned n = 1; n <= TRUST_SIGNATURES_MAX; n++) {
                _cleanup_free_ char *path = NULL;
                _cleanup_close_ int fd = -EBADF;

                if (asprintf(&path, "%s/signature-%u", dir, n) < 0)
                        return log_oom();
                fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0)
                        return log_error_errno(errno, "Failed to create %s: %m", path);
                if (write(fd, data, size) != (ssize_t) size || fsync(fd) < 0) {
                        r = log_error_errno(errno ?: EIO, "Failed to write %s: %m", path);
                        (void) unlink(path);
                        return r;
                }
                *ret_path = TAKE_PTR(path);
                return 0;
        }
        return log_error_errno(E2BIG, "%s already holds %d signatures", dir, TRUST_SIGNATURES_MAX);
}

/* The local directory signatures of ref go to: --lookaside=, or the one
 * registries.conf gives for it. */
static int image_sign_lookaside_dir(const ImageReference *ref, const char *name, const char *lookaside,
                                    char **ret_dir) {
        _cleanup_(registries_conf_freep) RegistriesConf *conf = NULL;
        PeapodError e = {};
        const char *dir;
        int r;

        if (!lookaside) {
                r = registries_conf_load(NULL, &conf, &e);
                if (r < 0)
                        return log_error_errno(r, "%s", e.message);
                lookaside = registries_conf_lookaside(conf, ref->registry, ref->repository);
                if (!lookaside)
                        return log_usage_error("No lookaside for %s in registries.conf; give --lookaside=DIR.", name);
        }
        dir = startswith(lookaside, "file://") ?: lookaside;
        if (dir[0] != '/')
                return log_usage_error("The lookaside must be a local directory (an absolute path or file:///...), not '%s'.",
                                       lookaside);
        *ret_dir = strdup(dir);
        return *ret_dir ? 0 : log_oom();
}

/* Sign name's simple signing payload with sign_by and write it as the next
 * signature-N of its lookaside directory; prints the file's path. */
static int image_sign_write(const char *sign_by, const char *name, const char *digest_text, const Digest *digest,
                            const char *repository, const char *dir) {
        _cleanup_free_ char *payload = NULL, *sig = NULL, *url = NULL, *path = NULL;
        PeapodError e = {};
        size_t sig_size;
        int r;

        r = simple_signature_format(name, digest_text, &payload);
        if (r < 0)
                return log_oom();
        r = gpg_sign_opaque(sign_by, payload, strlen(payload), &sig, &sig_size, &e);
        if (r < 0)
                return log_error_errno(r, "%s", e.message);
        /* The directory of signature-N, as lookaside_signature_url() names it. */
        r = lookaside_signature_url(dir, repository, digest, 1, &url);
        if (r < 0)
                return log_oom();
        *strrchr(url, '/') = 0;
        r = write_next_signature(url, sig, sig_size, &path);
        if (r < 0)
                return r;
        printf("%s\n", path);
        return 0;
}

int verb_image_sign(int argc, char *argv[]) {
        enum { ARG_SIGN_BY = 0x100, ARG_LOOKASIDE, ARG_MANIFEST_DIGEST };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "sign-by", required_argument, NULL, ARG_SIGN_BY },
                { "lookaside", required_argument, NULL, ARG_LOOKASIDE },
                { "manifest-digest", required_argument, NULL, ARG_MANIFEST_DIGEST },
                {}
        };
        _cleanup_(image_reference_freep) ImageReference *ref = NULL;
        _cleanup_free_ char *name = NULL, *digest_text = NULL, *dir = NULL;
        const char *sign_by = NULL, *lookaside = NULL;
        Digest digest;
        int c, r;

        while ((c = getopt_long(argc, argv, ":h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        verb_help("image");
                        return 0;
                case ARG_SIGN_BY:
                        sign_by = optarg;
                        break;
                case ARG_LOOKASIDE:
                        lookaside = optarg;
                        break;
                case ARG_MANIFEST_DIGEST:
                        if (!digest_is_valid_string(optarg))
                                return log_usage_error("Invalid --manifest-digest='%s': sha256:<64 hex digits>.", optarg);
                        digest_text = strdup(optarg);
                        if (!digest_text)
                                return log_oom();
                        break;
                default:
                        return cli_getopt_error(c, argv);
                }
        if (optind + 1 != argc)
                return log_usage_error("'peapod image sign' takes one image reference.");
        if (isempty(sign_by))
                return log_usage_error("'peapod image sign' needs --sign-by=FINGERPRINT.");
        if (image_reference_parse(argv[optind], &ref) < 0 || !ref->registry || ref->digest)
                return log_usage_error("'%s' is not a fully qualified reference registry/repository[:tag].", argv[optind]);
        r = image_reference_to_string(ref, &name);
        if (r < 0)
                return log_oom();

        if (!digest_text) {
                r = image_manifest_digest(name, &digest_text);
                if (r < 0)
                        return r;
        }
        r = digest_parse(digest_text, &digest);
        if (r < 0)
                return log_error_errno(r, "Invalid manifest digest '%s'.", digest_text);

        r = image_sign_lookaside_dir(ref, name, lookaside, &dir);
        if (r < 0)
                return r;
        return image_sign_write(sign_by, name, digest_text, &digest, ref->repository, dir);
}
