/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "app-device.h"
#include "app-security.h"
#include "app-spec.h"
#include "error.h"
#include "fs-util.h"
#include "macro.h"
#include "name.h"
#include "pod-network.h"
#include "volume.h"

typedef enum PodState {
        POD_CREATED,
        POD_PREPARING,
        POD_RUNNING,
        POD_EXITED,
        _POD_STATE_MAX,
        _POD_STATE_INVALID = -EINVAL,
} PodState;

typedef enum AppState {
        APP_CREATED,
        APP_RUNNING,
        APP_EXITED,
        _APP_STATE_MAX,
        _APP_STATE_INVALID = -EINVAL,
} AppState;

/* How an app's main process ended, as systemd's ExecMainCode reports it. */
typedef enum AppResult {
        APP_RESULT_NONE,
        APP_RESULT_EXITED,
        APP_RESULT_KILLED,
        APP_RESULT_DUMPED,
        _APP_RESULT_MAX,
        _APP_RESULT_INVALID = -EINVAL,
} AppResult;

const char *pod_state_to_string(PodState s);
PodState pod_state_from_string(const char *s);
const char *app_state_to_string(AppState s);
AppState app_state_from_string(const char *s);
const char *app_result_to_string(AppResult r);
AppResult app_result_from_string(const char *s);

/* When systemd starts an app again after it exited: its unit's Restart=. */
typedef enum AppRestart {
        APP_RESTART_NO,
        APP_RESTART_ON_FAILURE,
        APP_RESTART_ALWAYS,
        _APP_RESTART_MAX,
        _APP_RESTART_INVALID = -EINVAL,
} AppRestart;

const char *app_restart_to_string(AppRestart r);
AppRestart app_restart_from_string(const char *s);

typedef struct App {
        char *name;
        char id[POD_ID_LEN + 1];
        char *image;
        char *image_id;        /* "sha256:<config hex>"; NULL for a directory image */
        char **lowerdirs;      /* the image's layer trees, top-most first, resolved at creation */
        char **exec;           /* the full command */
        char **env;            /* the full environment */
        char *workdir;
        char *user;            /* "USER[:GROUP]": the client's, else the image config's; NULL = root */
        /* Isolation and limits (see app-security.h); a pod.json without
         * them gets the defaults of pod_new(). */
        char **supplementary_groups;  /* names or ids in the app's /etc/group, added to the user's */
        uint64_t caps;                /* capability set (bounding, effective, permitted, inheritable) */
        bool ambient_caps;            /* a non-root user keeps caps (--caps-retain) */
        bool no_new_privs;
        char *seccomp;                /* a seccomp-spec.h setting, "default" unless asked */
        bool readonly_rootfs;
        PidNamespace pid_namespace;
        IpcNamespace ipc_namespace;
        AppRestart restart;
        uint64_t cpu_quota_usec;      /* CPUQuotaPerSecUSec; 0 = none, as for the other limits */
        uint64_t cpu_shares;
        uint64_t memory_max;
        uint64_t tasks_max;
        AppMount *mounts;
        size_t n_mounts;
        AppDevice *devices;           /* host devices bound into the app's /dev */
        size_t n_devices;
        char **masked_paths;          /* beyond stage1's own set; NULL = none */
        char **readonly_paths;
        /* The host's root with a view of its own (app_set_privileged()):
         * every capability, no seccomp filter, no_new_privs off, the
         * host's /dev and devices, /proc unmasked and /sys writable. Set
         * only by a creation that polkit's org.peapod1.run-privileged
         * allowed (peapodd) or read back from pod.json. */
        bool privileged;
        AppState state;
        AppResult result;
        int status;            /* exit code or signal number */
        bool oom_killed;       /* its unit's Result was oom-kill (the kernel's OOM killer, in its cgroup) */
        uint64_t started_usec, exited_usec;
        char **annotations;    /* the clients' string map (pairs); NULL = none */
        /* The app reads a stdin that peapodd keeps open for attachers
         * (Pod.AttachApp); with stdin_once it is closed when the first
         * attacher leaves. */
        bool stdin_open;
        bool stdin_once;
        /* The app's stdio is a terminal made inside the pod, whose master
         * peapodd keeps for attachers; its output goes to the journal as
         * stdout (peapod-stage1-app --tty-log). */
        bool tty;
        /* Not saved: how the main process of its unit ended according to
         * the unit's last Service PropertiesChanged, which systemd sends
         * just before the Unit one that says the unit's state
         * (pod_apply_unit_signal()). */
        bool signal_exec_seen;
        int signal_exec_code, signal_exec_status;
        uint64_t signal_exit_usec;
} App;

typedef struct Pod {
        char id[POD_ID_LEN + 1];
        char *name;            /* also the machine name */
        PodState state;
        bool stop_when_apps_exit;
        /* Its apps' units account CPU time even where that costs the cpu
         * controller (cgroup-util.h): peapod-cri asks for it, as its
         * container stats are the kubelet's. Otherwise they do where it
         * costs nothing, and elsewhere as the host's DefaultCPUAccounting=
         * says. */
        bool cpu_accounting;
        /* Its slice is in the shard of its id's first digit
         * (pod_slice_name()). false for a pod an older peapod made, whose
         * units keep their names for its whole life. */
        bool slice_in_shard;
        char *stage1;          /* the stage1 flavour; NULL = "default" */
        pid_t leader;
        uint64_t created_usec, started_usec, exited_usec;
        /* Counts the saves of pod.json (pod_save()): which of its two
         * copies is newer. */
        uint64_t generation;
        App *apps;
        size_t n_apps;
        PodNetwork net;
        Volume *volumes;
        size_t n_volumes;
        char **annotations;    /* the clients' string map (pairs); NULL = none */
        char **sysctls;        /* KEY=VALUE, of the pod's own namespaces (valid-util.h); NULL = none */
} Pod;

#define POD_FILE_MAX (4 * 1024 * 1024)
#define POD_APPS_MAX 64

Pod *pod_free(Pod *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Pod *, pod_free);

/* What a caller asks for when creating an app: AppSpec (app-spec.h). */

/* Validate everything and build a pod in state "created" (nothing touches
 * the disk). -EINVAL: bad name or argument; -ENOENT: image not found.
 * err->message says which. */
/* A pod without apps (pod create): name and id only; stop_when_apps_exit
 * is set as for pod_new(), the caller changes it. */
int pod_new_empty(const char *name, Pod **ret, PeapodError *err);
int pod_new(const char *name, const AppSpec *specs, size_t n_specs, const char *image_store, Pod **ret,
            PeapodError *err);

/* Gives the pod its volumes (copies) and checks that they and every app's
 * mounts agree: each mount names a volume of the pod, no two mounts of an
 * app share a target. Call it after pod_new(), also with none. */
int pod_set_volumes(Pod *p, const Volume *volumes, size_t n_volumes, PeapodError *err);
/* Whether every mount of app a names one of volumes; -EINVAL with err set
 * if not. */
int app_check_mounts(const App *a, const Volume *volumes, size_t n_volumes, PeapodError *err);

/* Whether any of the specs asks for a privileged app: the caller must
 * then hold org.peapod1.run-privileged as well. */
bool app_specs_privileged(const AppSpec *specs, size_t n_specs);

/* Annotations: a string map that peapodd keeps in the pod's record for
 * its clients (peapod-cri keeps the CRI's labels, annotations and
 * metadata there, so that they survive restarts of both daemons). Kept as
 * pairs (key, value, key, value...), in the order given. Bounded, as
 * everything in pod.json: keys 1-ANNOTATION_KEY_MAX bytes and unique, at
 * most ANNOTATIONS_MAX pairs per map, ANNOTATIONS_SIZE_MAX bytes of keys
 * and values in a pod and all its apps together. */
#define ANNOTATIONS_MAX 256
#define ANNOTATION_KEY_MAX 512
#define ANNOTATIONS_SIZE_MAX (256 * 1024)
int annotations_check(char * const *pairs, PeapodError *err);
/* Whether the pod's and its apps' maps are valid and within the bound
 * together with extra (an app about to be added; NULL for none). */
int pod_check_annotations(const Pod *p, char * const *extra, PeapodError *err);
/* Gives the pod a copy of pairs, checked; the former map stays on failure. */
int pod_set_annotations(Pod *p, char * const *pairs, PeapodError *err);
/* Pairs (key, value, ...) of sysctls the pod's init sets in the pod's
 * namespaces: each checked by sysctl_key_is_pod_settable() with the pod's
 * network as it is now set (so, after it), at most POD_SYSCTLS_MAX. */
int pod_set_sysctls(Pod *p, char * const *pairs, PeapodError *err);

int pod_to_json_string(const Pod *p, char **ret);
int pod_from_json_string(const char *s, Pod **ret);

/* Who writes the durable copy of pod.json: write() takes path and text
 * (owned) and writes them with pod_write_durable(), later, in the order of
 * its calls (peapodd's state thread, daemon-durable.c). */
typedef struct PodDurableWriter {
        void (*write)(void *userdata, char *path, char *text);
        void *userdata;
} PodDurableWriter;

/* State files. <state_dir>/pods/<id>/pod.json is the durable copy (data
 * and directory synced: what a power loss keeps); with a volatile_dir (a
 * tmpfs: peapodd's /run/peapod) <volatile_dir>/pods/<id>/pod.json is the
 * current one. pod_save() renames a new current copy into place at once,
 * on a file system without a journal to wait for: a peapodd that crashes
 * finds it up to date at every step, as its steps were ordered against
 * it. The durable copy of the same text goes through w (peapodd's state
 * thread), so that the caller's loop never waits for the disk; without w
 * or volatile_dir it is written here and now. Each save counts up the
 * pod's generation, and pod_load() takes the copy that validates with the
 * higher one: after a reboot (no /run) or a crash of peapodd, the newest
 * that exists. A caller whose next step must survive a power loss (a CNI
 * ADD writes leases that do) waits for its writer to get there. */
int pod_dir(const char *state_dir, const char *id, char **ret);
int pod_save(Pod *p, const char *state_dir, const char *volatile_dir, const PodDurableWriter *w);
int pod_write_durable(const char *path, const char *text);
int pod_load(const char *state_dir, const char *volatile_dir, const char *id, Pod **ret);

/* The pod's stage1 flavour: a directory below the stage1 dir. */
const char *pod_stage1(const Pod *p);
bool stage1_name_is_valid(const char *s);
#define STAGE1_NAME_MAX 32

App *pod_find_app(Pod *p, const char *name);
/* Frees what an App holds (not the App itself). */
void app_done(App *a);
bool pod_all_apps_exited(const Pod *p);

/* Names of the systemd units of a pod. */
int pod_unit_names(const Pod *p, char **ret_slice, char **ret_scope);
