/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>
#include <systemd/sd-bus.h>

#include "app-device.h"
#include "log.h"
#include "macro.h"
#include "peapod-bus.h"
#include "volume.h"

/* Start, stop and remove wait for systemd jobs inside peapodd, and an app
 * may take its whole stop timeout (90 s by default) to die. */
#define CLI_SLOW_CALL_USEC (120ULL * 1000000ULL)

/* ---- usage errors: exit code 2 instead of 1 ---- */

extern bool cli_usage_failed;
#define log_usage_error(...)                                        \
        ({                                                          \
                cli_usage_failed = true;                            \
                log_error_errno(EINVAL, __VA_ARGS__);               \
        })

/* ---- peapod run: argv -> apps (cli-run-args.c) ---- */

typedef struct RunApp {
        char *image;
        char *name;       /* NULL: peapodd derives it from the image */
        char **exec;      /* --exec plus ARGS: the whole command, or NULL */
        char **args;      /* ARGS without --exec (replace the image's cmd), or NULL */
        char **env;       /* KEY=VALUE, or NULL */
        char *workdir;
        /* isolation and limits: NULL, -1 or 0 = not given */
        char *user, *group, *seccomp, *pid_namespace, *restart, *ipc_namespace;
        char **supplementary_groups, **caps_retain, **caps_remove;
        int no_new_privs;
        bool readonly_rootfs;
        bool privileged;
        uint64_t cpu_quota_usec, cpu_shares, memory_max, tasks_max;
        AppMount *mounts;
        size_t n_mounts;
        AppDevice *devices;
        size_t n_devices;
        char **masked_paths, **readonly_paths;
} RunApp;

/* When 'peapod run' pulls its images. */
typedef enum PullPolicy {
        PULL_MISSING,     /* the default: only images the store lacks */
        PULL_ALWAYS,      /* every image but local (localhost/) ones, first */
        PULL_NEVER,
        _PULL_POLICY_MAX,
        _PULL_POLICY_INVALID = -EINVAL,
} PullPolicy;

const char *pull_policy_to_string(PullPolicy p);
PullPolicy pull_policy_from_string(const char *s);

typedef struct RunArgs {
        char *name;       /* NULL: peapodd names the pod */
        PullPolicy pull;
        bool insecure_image; /* --insecure-options=image */
        char *stage1;     /* NULL: peapodd's default flavour */
        char **networks;  /* --net=, split at ','; NULL: the default network */
        char **ports;     /* --port= as given; peapodd parses nothing, the CLI does */
        char **dns, **dns_search;
        char *hostname;
        bool quiet;
        bool detach;      /* -d: return once started (print the id) */
        bool remove;      /* --rm: remove the pod once it has ended (foreground only) */
        bool replace;     /* --replace: remove a pod of the same name first, running or not */
        bool interactive; /* -i: our stdin, through a pipe, is the first app's */
        bool tty;         /* -t: the first app gets a pty whose master we relay */
        bool help;
        RunApp *apps;
        size_t n_apps;
        Volume *volumes;
        size_t n_volumes;
        /* -e and -v before the first image: for every app */
        char **env_all;
        AppMount *mounts_all;
        size_t n_mounts_all;
        unsigned n_binds;  /* -v volumes so far: the next is bind-N */
} RunArgs;

/* --insecure-options=LIST: "image" (skip the trust policy for this one
 * command) or "none"; logs a usage error otherwise. */
int insecure_options_parse(const char *v, bool *ret_image);
/* The warning every use of --insecure-options=image prints. */
void warn_insecure_image(const char *what);

/* argv[0] is the verb. Logs a usage error and returns -EINVAL on bad input;
 * with --help sets ret->help and may leave apps empty. --spec=FILE (a pod
 * option) stands for the words of the pod spec FILE (run_spec_load()):
 * its pod options where it is, its apps after the command line's options,
 * which may not name images of their own. */
int run_args_parse(int argc, char *argv[], RunArgs *ret);
/* A pod spec (peapod-pod.json(5), cli-run-spec.c) as the words of 'peapod
 * run' it stands for: pod options (--key=value) and apps (IMAGE
 * [--key=value]... [-- ARGS] [--- IMAGE ...]). Logs what is wrong, with
 * the file's path. */
int run_spec_parse(const char *text, size_t size, const char *path, char ***ret_pod, char ***ret_apps);
int run_spec_load(const char *path, char ***ret_pod, char ***ret_apps);
void run_args_done(RunArgs *a);
/* One of the pod's network options (--net, --port, --dns, --dns-search,
 * --hostname) with its value, checked as 'run' checks it; a usage error is
 * logged. */
int run_args_network_option(RunArgs *a, const char *option, const char *value);
/* For 'run': every --mount= names a --volume= of the pod (a usage error
 * otherwise, before anything is created). */
int run_args_check_mounts(const RunArgs *a);
/* Parses one --volume= value into a->volumes (a usage error if bad). */
int run_args_add_volume(RunArgs *a, const char *v);
/* Appends CreatePod's pod property Volumes a(sssbt), if there are any. */
int cli_append_volumes_property(sd_bus_message *m, const Volume *volumes, size_t n_volumes);
/* CreatePod's a(sv) for a's pod options; keep_running: the pod outlives its
 * apps (StopWhenAppsExit=false, for 'pod create'). */
int cli_append_pod_properties(sd_bus_message *m, const RunArgs *a, bool keep_running);
/* One app's a(sv) properties, as CreatePod and Pod.AddApp take them (cli-run.c). */
int cli_append_app_properties(sd_bus_message *m, const RunApp *app);

/* ---- what peapodd tells about pods (cli-format.c) ---- */

typedef struct AppInfo {
        char *name, *id, *image, *unit, *state, *result;
        char **exec;
        int32_t status;
} AppInfo;

/* One address of a pod: (network, interface, address/prefix). */
typedef struct PodAddressInfo {
        char *network, *ifname, *address;
} PodAddressInfo;

/* One published port: (protocol, host address or "" for every one, host
 * port, pod port). */
typedef struct PodPortInfo {
        char *protocol, *host_ip;
        uint16_t host_port, pod_port;
} PodPortInfo;

typedef struct PodInfo {
        char *id, *name, *state, *machine, *slice, *unit, *path;
        char *stage1;     /* NULL from a peapodd without flavours */
        char *network_mode, *hostname;
        PodAddressInfo *addresses;
        size_t n_addresses;
        PodPortInfo *ports;
        size_t n_ports;
        uint32_t leader;
        uint64_t created_usec, started_usec, exited_usec;
        AppInfo *apps;
        size_t n_apps;
} PodInfo;

void pod_info_done(PodInfo *p);
void pod_info_array_free(PodInfo *p, size_t n);

typedef struct PodList {
        PodInfo *pods;
        size_t n;
} PodList;
static inline void pod_list_done(PodList *l) {
        pod_info_array_free(l->pods, l->n);
}

/* ---- formatting, all without a bus (cli-format.c) ---- */

/* "exited, status=7", "killed, signal=KILL", "dumped, signal=SEGV", or "-"
 * when the app has not ended. */
int format_app_result(const char *result, int32_t status, char **ret);
/* "0.0.0.0:8080->80/tcp", "[::1]:8443->443/tcp", as podman shows ports. */
int format_pod_port(const PodPortInfo *port, char **ret);

/* For a verb peapod does not know: its name in peapod for a verb of podman
 * or docker ("ps" -> "list", with *ret_alias true), or else the one verb
 * of verbs within two edits of it ("stp" -> "stop"); NULL if none. */
const char *verb_suggestion(const char *typed, const char * const *verbs, size_t n_verbs, bool *ret_alias);
/* The one word of words within two edits of typed (and not all of it
 * changed), NULL if none or two are as near. */
const char *closest_word(const char *typed, const char * const *words, size_t n_words);
/* "Sat 2024-11-23 09:55:01 UTC", or "n/a" for 0. */
const char *format_timestamp(char *buf, size_t size, uint64_t usec);
/* "5min 3s ago", "2h 10min ago", "3 days ago", "in the future" ... */
const char *format_timestamp_relative(char *buf, size_t size, uint64_t usec, uint64_t now_usec);
/* Join a command for display, quoting words the shell would split. */
char *command_to_string(char * const *argv);

json_object *pod_list_to_json(const PodInfo *pods, size_t n);
json_object *pod_info_to_json(const PodInfo *p);

/* One line for the user from a failed call. */
int bus_error_to_string(const sd_bus_error *error, int r, char **ret);

/* A simple left-aligned text table. */
typedef struct Table Table;
Table *table_new(size_t n_columns, ...);
Table *table_free(Table *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(Table *, table_free);
/* Exactly n_columns strings; NULL prints as "-". */
int table_add_row(Table *t, ...);
size_t table_rows(const Table *t);
int table_print(const Table *t, FILE *f, bool header);

/* ---- talking to peapodd (cli-bus.c) ---- */

int cli_bus_open(sd_bus **ret);
/* Log a failed call as one line; returns -errno. */
int cli_log_bus_error(const sd_bus_error *error, int r);
/* Call a method of org.peapod1; on failure logs and returns -errno. */
int cli_call(sd_bus *bus, const char *path, const char *interface, const char *member, uint64_t timeout_usec,
             sd_bus_message **ret_reply, const char *types, ...);
int cli_get_pod_path(sd_bus *bus, const char *key, char **ret);

/* Waiting for peapodd's signals (a job's end, an exec's end, a pod's
 * state). A peapodd that is killed sends nothing more, so every such wait
 * also watches peapodd's name and ends when the peapodd serving it leaves.
 * Begin before the call whose outcome comes as a signal; then name the
 * peer that answered the call. */
typedef struct CliWatch {
        sd_bus_slot *slot;
        char *peer;  /* unique name of the peapodd we wait on; NULL until known */
        char **lost; /* unique names that gave up org.peapod1 meanwhile (bounded) */
        bool gone;   /* the peer is among them */
} CliWatch;

/* Watch NameOwnerChanged of org.peapod1 and take the current owner as the
 * peer (none if peapodd is not running yet: a call will start it). */
int cli_watch_begin(sd_bus *bus, CliWatch *w);
/* The peapodd that sent reply is the one to watch. */
int cli_watch_set_peer(CliWatch *w, sd_bus_message *reply);
/* True once the watched peapodd has left the bus. */
bool cli_watch_gone(const CliWatch *w);
void cli_watch_done(CliWatch *w);
/* Process bus messages and wait until check(userdata) returns > 0 (done) or
 * < 0 (failed, the callee logged). If the watched peapodd leaves first,
 * logs "peapodd exited while DOING; UNFINISHED." and returns -ECONNRESET. */
int cli_wait(sd_bus *bus, CliWatch *w, int (*check)(void *userdata), void *userdata, const char *doing,
             const char *unfinished);

/* One property of an a{sv} that cli_read_properties() fills in: a field at
 * offset of the caller's struct, of D-Bus type "s" (strdup'd), "as" or a
 * basic type; other types need read, which gets the variant's contents and
 * the struct. */
typedef struct CliBusProperty {
        const char *name, *type;
        size_t offset;
        int (*read)(sd_bus_message *m, void *base);
} CliBusProperty;

/* Reads an a{sv} of properties into base. Properties this client does not
 * know (or of another type) are skipped, so that a newer peapodd that grows
 * its API keeps working with this CLI. */
int cli_read_properties(sd_bus_message *m, const CliBusProperty *props, size_t n_props, void *base);
int cli_get_pod_info(sd_bus *bus, const char *key, PodInfo *ret);
/* What a pod's end says, as 'run' and 'wait' report it: the status of the
 * first app (in the pod's order) that did not exit 0, 128+N for one killed
 * by signal N (as a shell reports it), 0 when every app exited 0. */
int cli_pod_exit_status(sd_bus *bus, const char *key);
int cli_list_pods(sd_bus *bus, PodInfo **ret, size_t *ret_n);

/* One image as ListImages tells it. */
typedef struct ImageRow {
        char *id, *created, *path;
        char **names;
        uint64_t size;
} ImageRow;
/* ListImages; free the rows with image_rows_free(). */
int cli_list_images(sd_bus *bus, ImageRow **ret, size_t *ret_n);
void image_rows_free(ImageRow *rows, size_t n);
/* Reads each listed pod's published ports (its Ports property) into its
 * ports, asked all at once; a pod removed since it was listed has none. */
int cli_get_pods_ports(sd_bus *bus, PodInfo *pods, size_t n);
/* Pull ref through peapodd, drawing progress on stderr unless quiet;
 * ret_id (may be NULL) is the image id. Logs failures. (cli-image.c) */
int cli_pull_image(sd_bus *bus, const char *ref, bool quiet, bool insecure_image, char **ret_id);

/* ---- verbs ---- */

typedef enum OutputFormat {
        OUTPUT_TABLE,
        OUTPUT_TEXT = OUTPUT_TABLE,
        OUTPUT_JSON,
} OutputFormat;

int verb_run(int argc, char *argv[]);
int verb_list(int argc, char *argv[]);
int verb_status(int argc, char *argv[]);
int verb_start(int argc, char *argv[]);
int verb_stop(int argc, char *argv[]);
int verb_rm(int argc, char *argv[]);
int verb_logs(int argc, char *argv[]);
int verb_wait(int argc, char *argv[]);
int verb_kill(int argc, char *argv[]);
/* A signal's name ("TERM", "SIGTERM", any case) or number (1-64); -EINVAL. */
int signal_from_string(const char *s);
/* A foreground 'run': prints the pod's apps' output as it comes (stdout to
 * stdout, stderr to stderr, "app | " before each line when there are
 * several apps) until the pod has ended; SIGINT or SIGTERM stop the pod
 * first (cli-logs.c). */
/* ---- terminals and relays of enter and run -i/-t (cli-tty.c) ---- */

/* One direction between our fds and the command's. from and to point to
 * the variables holding the fds, so that a direction whose fd was closed
 * by another (the pty master) stops instead of using a stale number. */
typedef struct CliRelay {
        int *from, *to;
        bool output;        /* from the command: drained at its end */
        int *close_at_end;  /* closed when this direction ends: the command's stdin pipe sees EOF */
        bool ended;
} CliRelay;

bool cli_relay_live(const CliRelay *r);
void cli_relay_step(CliRelay *r, bool drain);
/* One pollfd per relay (fd -1 for those that ended), in order. */
struct pollfd;
size_t cli_relays_pollfds(const CliRelay *relays, size_t n, struct pollfd *pfd);
void cli_relays_dispatch(CliRelay *relays, size_t n, const struct pollfd *pfd);
/* What the command wrote last, still in the pty or the pipes. */
void cli_relays_drain_output(CliRelay *relays, size_t n);

/* A pty for a command, its size our terminal's. */
int cli_pty_open(int *ret_master, int *ret_slave);
/* SIGWINCH noted; cli_pty_resize_if_needed() then copies our size. */
void cli_pty_watch_resize(void);
void cli_pty_resize_if_needed(int master);
/* Our stdin raw, when it is a terminal (1; 0 if not): restored by
 * cli_terminal_restore() and at exit. */
int cli_terminal_make_raw(void);
void cli_terminal_restore(void);

/* What a foreground run relays besides the journal (-i, -t). */
typedef struct CliRunIo {
        int std_in, std_out; /* ours: what the relays read and write */
        int sock;            /* -t: our end of the socket the app's pty master comes over; -EBADF without */
        int master;          /* -t: that master once it came; -EBADF before */
        int in_pipe;         /* -i without -t: the end of the app's stdin we write; -EBADF without */
        CliRelay relays[2];
        size_t n_relays;
} CliRunIo;

#define CLI_RUN_IO_POLLFDS 3 /* two relays and the socket */
/* The run's fds to poll (at most CLI_RUN_IO_POLLFDS; a pending resize is
 * applied first), what they became ready for, and at the end what the
 * app wrote last. */
size_t cli_run_io_pollfds(CliRunIo *io, struct pollfd *pfd);
void cli_run_io_dispatch(CliRunIo *io, const struct pollfd *pfd);
void cli_run_io_drain(CliRunIo *io);

/* Follows the pod's apps' output until the pod has ended; io (NULL: none)
 * is relayed meanwhile. */
int cli_run_follow(sd_bus *bus, const char *pod_id, CliRunIo *io);
int verb_image(int argc, char *argv[]);
int verb_pod(int argc, char *argv[]);
int verb_app(int argc, char *argv[]);
/* trust, image sign, login and logout are peapod-full's (cli-full.c);
 * these are its, peapod's are stand-ins that exec it. */
int verb_trust(int argc, char *argv[]);
/* peapod image sign (cli-trust.c) */
int verb_image_sign(int argc, char *argv[]);
int verb_enter(int argc, char *argv[]);
int verb_gc(int argc, char *argv[]);
int verb_login(int argc, char *argv[]);
int verb_logout(int argc, char *argv[]);

/* main()'s argv, for the stand-ins that exec peapod-full with it. */
extern char **cli_argv;

/* A verb that exits with another program's status (enter) sets it here;
 * -1 = the usual 0/1/2. */
extern int cli_exit_status;

/* The usage text of a verb (peapod.c), printed by "peapod VERB --help". */
void verb_help(const char *verb);

/* Report getopt's '?' (unknown option) and ':' (missing value); optstrings
 * start with ':' so that the two can be told apart. */
int cli_getopt_error(int c, char *argv[]);
int cli_parse_format(const char *s, const char *table_name, OutputFormat *ret);
int cli_parse_output_options(int argc, char *argv[], const char *verb, const char *table_name, OutputFormat *format,
                             bool *legend);
/* Pretty-print o (NULL means it could not be built: out of memory). */
int cli_print_json(json_object *o);
