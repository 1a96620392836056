/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>

#include <systemd/sd-daemon.h>

#include "cni.h"
#include "daemon-job.h"
#include "daemon-trust.h"
#include "daemon.h"
#include "fs-util.h"
#include "image-archive.h"
#include "log.h"
#include "strv.h"

static const char *arg_state_dir = PEAPOD_STATE_DIR;
static const char *arg_stage1_dir = PEAPOD_STAGE1_DIR;
static const char *arg_cni_config_dir = CNI_DEFAULT_CONF_DIR;
static char **arg_cni_plugin_dirs = NULL;

static void help(void) {
        printf("Usage: peapodd [OPTIONS]\n\n"
               "The peapod daemon: owns org.peapod1 on the system bus and runs pods as\n"
               "systemd machines with one transient service per app.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version\n"
               "     --bus-introspect[=INTERFACE]\n"
               "                         Print the D-Bus introspection XML of INTERFACE, or of\n"
               "                         every interface of %s, and exit\n"
               "     --state-dir=DIR     Where pods and images live (default: %s)\n"
               "     --stage1-dir=DIR    Where the stage1 flavours are (default: %s)\n"
               "     --cni-config-dir=DIR\n"
               "                         Where CNI network configs are (default: %s)\n"
               "     --cni-plugin-dir=DIR\n"
               "                         Where CNI plugins are; repeatable, searched in order\n"
               "                         (default: %s)\n"
               "     --log-level=LEVEL   debug, info, notice, warning or err (default: info)\n",
               PEAPOD_BUS_NAME, PEAPOD_STATE_DIR, PEAPOD_STAGE1_DIR, CNI_DEFAULT_CONF_DIR, CNI_DEFAULT_PLUGIN_DIR);
}

static int parse_argv(int argc, char *argv[]) {
        enum { ARG_VERSION = 0x100, ARG_BUS_INTROSPECT, ARG_STATE_DIR, ARG_STAGE1_DIR, ARG_LOG_LEVEL, ARG_CNI_CONFIG_DIR, ARG_CNI_PLUGIN_DIR };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "bus-introspect", optional_argument, NULL, ARG_BUS_INTROSPECT },
                { "state-dir", required_argument, NULL, ARG_STATE_DIR },
                { "stage1-dir", required_argument, NULL, ARG_STAGE1_DIR },
                { "log-level", required_argument, NULL, ARG_LOG_LEVEL },
                { "cni-config-dir", required_argument, NULL, ARG_CNI_CONFIG_DIR },
                { "cni-plugin-dir", required_argument, NULL, ARG_CNI_PLUGIN_DIR },
                {},
        };
        static const char * const levels[] = { "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug" };
        int c;

        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("peapodd %s\n", PACKAGE_VERSION);
                        return 0;
                case ARG_BUS_INTROSPECT: {
                        int r = daemon_bus_introspect(stdout, optarg);
                        if (r == -ENXIO) {
                                log_error("Unknown interface '%s'; peapodd serves:", optarg);
                                daemon_bus_interfaces(stderr);
                                fputc('\n', stderr);
                                return -EINVAL;
                        }
                        if (r < 0)
                                return log_error_errno(r, "Failed to introspect: %m");
                        return 0;
                }
                case ARG_STATE_DIR:
                        if (optarg[0] != '/')
                                return log_error_errno(EINVAL, "--state-dir= must be an absolute path");
                        arg_state_dir = optarg;
                        break;
                case ARG_STAGE1_DIR:
                        if (optarg[0] != '/')
                                return log_error_errno(EINVAL, "--stage1-dir= must be an absolute path");
                        arg_stage1_dir = optarg;
                        break;
                case ARG_CNI_CONFIG_DIR:
                        if (optarg[0] != '/')
                                return log_error_errno(EINVAL, "--cni-config-dir= must be an absolute path");
                        arg_cni_config_dir = optarg;
                        break;
                case ARG_CNI_PLUGIN_DIR:
                        /* CNI_PATH is ':'-separated: a ':' in a directory cannot be passed on. */
                        if (optarg[0] != '/' || strchr(optarg, ':'))
                                return log_error_errno(EINVAL, "--cni-plugin-dir= must be an absolute path without ':'");
                        if (strv_extend(&arg_cni_plugin_dirs, optarg) < 0)
                                return log_oom();
                        break;
                case ARG_LOG_LEVEL: {
                        int level = -1;
                        for (size_t i = 0; i < ELEMENTSOF(levels); i++)
                                if (streq(optarg, levels[i]))
                                        level = (int) i;
                        if (level < 0)
                                return log_error_errno(EINVAL, "Unknown log level: %s", optarg);
                        log_set_max_level(level);
                        break;
                }
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(EINVAL, "This program takes no arguments.");
        return 1;
}

static int daemon_open_store(Daemon *d) {
        StoreGcStats st = {};
        StorageLimits limits;
        PeapodError e = {};
        int r;

        r = store_open(d->images_dir, &d->store);
        if (r < 0)
                return log_error_errno(r, "Failed to open the image store %s: %m", d->images_dir);
        /* For the built-in images; each job reads storage.conf again. A
         * broken file fails those jobs; the start goes on with defaults. */
        r = storage_conf_load(NULL, &limits, &e);
        if (r < 0)
                log_warning_errno(r, "%s", e.message[0] ? e.message : "Failed to read storage.conf: %m");
        else
                store_set_limits(d->store, &limits);
        /* A peapodd killed during a pull or an import never ran its
         * writers' cleanup: their partial blobs and layer trees (as large
         * as the image) stay until removed. Nothing of ours writes yet. */
        r = store_remove_temp(d->store, &st);
        if (r < 0)
                log_warning_errno(r, "Failed to remove leftovers of interrupted image writes: %m");
        else if (st.temp_removed + st.layers_removed > 0)
                log_info("Removed %" PRIu64 " partial blob(s) and %" PRIu64 " partial layer tree(s) of interrupted "
                         "image writes, %" PRIu64 " bytes.", st.temp_removed, st.layers_removed, st.bytes_freed);
        return 0;
}

/* The embedded images ship as OCI archives: put them into the store, once,
 * so that they are ordinary images (listed, inspected, removable). */
static int daemon_import_builtin_images(Daemon *d) {
        static const struct {
                const char *ref, *file;
        } builtin[] = {
                { "localhost/busybox:latest", PEAPOD_IMAGES_BUILTIN_DIR "/busybox.oci.tar" },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(builtin); i++) {
                _cleanup_close_ int fd = -EBADF;
                PeapodError e = {};
                Digest digest;

                if (store_ref_get(d->store, builtin[i].ref, &digest) >= 0)
                        continue;
                fd = open(builtin[i].file, O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                        log_warning_errno(errno, "Built-in image %s is not installed (%s): %m", builtin[i].ref, builtin[i].file);
                        continue;
                }
                /* Through the trust policy like any import: the shipped
                 * policy names this image as accepted unsigned. */
                r = image_import_archive_verified(d->store, fd, builtin[i].ref, daemon_image_verify, NULL, NULL, NULL, &e);
                if (r < 0)
                        log_warning_errno(r, "Failed to import built-in image %s: %s", builtin[i].ref,
                                          e.message[0] ? e.message : strerror(-r));
                else
                        log_info("Imported built-in image %s.", builtin[i].ref);
        }
        return 0;
}

static void daemon_done(Daemon *d) {
        /* Ask running jobs to stop and wait for their threads. */
        for (size_t i = 0; i < d->n_jobs; i++)
                atomic_store(&d->jobs[i]->cancel, true);
        for (size_t i = 0; i < d->n_jobs; i++)
                job_free(d->jobs[i]);
        free(d->jobs);
        /* The starts first, which then no longer wait for the state
         * thread; its last answers may start works (deletions). */
        daemon_starts_free(d);
        daemon_durable_stop(d);
        daemon_works_free(d);
        daemon_image_waiting_free(d);
        daemon_stops_free(d);
        daemon_app_stops_free(d);
        daemon_app_starts_free(d);
        daemon_execs_free(d);
        daemon_unit_jobs_free(d);
        daemon_polkit_queries_free(d);
        daemon_teardowns_free(d);
        daemon_port_sweep_free(d);
        pod_runtime_port_unbinds_free(&d->runtime);
        pod_runtime_copies_free(&d->runtime);
        daemon_queue_free(d);
        daemon_app_stdins_free(d);
        image_info_done(&d->image_cache);
        strv_free(d->image_refs);
        store_free(d->store);
        free(d->images_dir);
        daemon_pods_free(d);
        strv_free(d->runtime.network_rules);
        sd_bus_flush_close_unref(d->bus);
        sd_bus_flush_close_unref(d->worker);
        sd_event_unref(d->event);
}

/* The runtime's paths from the options, and the state directories. */
static int daemon_setup_state(Daemon *d) {
        _cleanup_free_ char *pods_dir = NULL;
        int r;

        d->runtime.state_dir = arg_state_dir;
        d->runtime.stage1_dir = arg_stage1_dir;
        d->runtime.cni_conf_dir = arg_cni_config_dir;
        d->runtime.cni_plugin_dirs = arg_cni_plugin_dirs;
        d->runtime.app_stdin_open = daemon_app_stdin_open;
        d->runtime.app_stdin_userdata = d;
        if (asprintf(&d->images_dir, "%s/images", arg_state_dir) < 0)
                return log_oom();
        if (asprintf(&pods_dir, "%s/pods", arg_state_dir) < 0)
                return log_oom();
        r = mkdir_p(pods_dir, 0700);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", pods_dir);
        return 0;
}

/* The event loop (SIGTERM and SIGINT end it) and both bus connections. */
static int daemon_connect(Daemon *d) {
        sigset_t ss;
        int r;

        sigemptyset(&ss);
        sigaddset(&ss, SIGTERM);
        sigaddset(&ss, SIGINT);
        /* Helper programs are watched through pidfds by the loop
         * (subprocess.h); sd-event wants SIGCHLD blocked for that. */
        sigaddset(&ss, SIGCHLD);
        sigprocmask(SIG_BLOCK, &ss, NULL);

        r = sd_event_default(&d->event);
        if (r < 0)
                return log_error_errno(r, "Failed to allocate event loop: %m");
        (void) sd_event_add_signal(d->event, NULL, SIGTERM, NULL, NULL);
        (void) sd_event_add_signal(d->event, NULL, SIGINT, NULL, NULL);
        d->runtime.background_event = d->event;

        r = sd_bus_open_system_with_description(&d->worker, "peapodd-worker");
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        d->runtime.bus = d->worker;
        /* sd-bus authenticates (and says Hello) only when the connection is
         * first used, and nothing but our own calls process this one:
         * dbus-daemon closes a connection still unauthenticated after its
         * auth_timeout (30 s), which an idle worker of a peapodd started
         * for image calls reached. A round trip now completes it. */
        r = sd_bus_call_method(d->worker, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "GetId",
                               NULL, NULL, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");

        r = sd_bus_open_system_with_description(&d->bus, "peapodd");
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the system bus: %m");
        return 0;
}

/* Our objects on the bus, the name, and the event loop attached. */
static int daemon_serve(Daemon *d) {
        int r;

        r = daemon_add_objects(d->bus, d);
        if (r < 0)
                return log_error_errno(r, "Failed to register D-Bus objects: %m");

        r = sd_bus_request_name(d->bus, PEAPOD_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire bus name %s: %m", PEAPOD_BUS_NAME);
        /* Changes are announced after each event, from one place. */
        r = daemon_watch_pod_changes(d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch pod changes: %m");
        r = daemon_watch_reads(d);
        if (r < 0)
                return log_error_errno(r, "Failed to watch reads: %m");
        daemon_images_changed(d);
        r = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach bus to event loop: %m");
        /* A restarted dbus-daemon leaves us on a dead connection that still
         * holds nobody's name: end the loop with a failure, so that systemd
         * restarts us (Restart=on-failure) onto the new bus, where bus
         * activation finds us again. The worker connection dies with it. */
        r = sd_bus_set_exit_on_disconnect(d->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to watch the bus connection: %m");
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(daemon_done) Daemon d = {};
        int r;

        log_set_program("peapodd");
        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        if (geteuid() != 0) {
                log_error("peapodd must run as root.");
                return EXIT_FAILURE;
        }

        umask(0022);
        (void) peapod_bus_error_map_add();
        if (daemon_setup_state(&d) < 0)
                return EXIT_FAILURE;
        if (daemon_connect(&d) < 0)
                return EXIT_FAILURE;
        r = daemon_durable_start(&d);
        if (r < 0)
                return log_error_errno(r, "Failed to start the state thread: %m"), EXIT_FAILURE;
        daemon_app_stdins_restore(&d);

        /* Learn what happens to our units before looking at them, so that no
         * change between the look and the subscription is missed. */
        r = daemon_track_systemd(&d);
        if (r < 0)
                return EXIT_FAILURE;
        daemon_recover(&d);
        r = daemon_load_pods(&d);
        if (r < 0)
                return EXIT_FAILURE;
        daemon_port_sweep_start(&d);
        r = daemon_open_store(&d);
        if (r < 0)
                return EXIT_FAILURE;
        r = daemon_import_builtin_images(&d);
        if (r < 0)
                return EXIT_FAILURE;

        if (daemon_serve(&d) < 0)
                return EXIT_FAILURE;

        (void) sd_notify(false, "READY=1\nSTATUS=Serving org.peapod1");
        log_info("peapodd %s serving %s with %zu pod(s).", PACKAGE_VERSION, PEAPOD_BUS_NAME, d.n_pods);

        r = sd_event_loop(d.event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m"), EXIT_FAILURE;
        if (r > 0)
                return log_error_errno(ENOTCONN, "Disconnected from the system bus, exiting."), EXIT_FAILURE;
        (void) sd_notify(false, "STOPPING=1");
        /* Pods keep running: systemd owns them, not us. */
        return EXIT_SUCCESS;
}
