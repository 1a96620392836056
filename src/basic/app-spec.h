/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a client asks for when it creates an app: the one description of
 * an app that 'peapod run' parses (cli-run-args.c) and sends as an a(sv),
 * that peapodd reads back from CreatePod and Pod.AddApp (daemon-pod-spec.c)
 * and that libpod builds an App from (pod_new(), pod_app_add()). Plain
 * data, so it lives here, below everything: the CLI holds it without the
 * core's checks, which are libpod's (volume.h, app-device.h,
 * app-security.h, pod.h). Not the stage1 helper's command line
 * (stage1-util.h): that is what peapodd resolved from it. */

/* A pod's volumes and the apps' mounts of them, as rkt had them:
 *   --volume=NAME,kind=host,source=/path[,readOnly=true]
 *   --volume=NAME,kind=empty[,readOnly=true]     a directory of the pod, shared by its apps
 *   --volume=NAME,kind=tmpfs[,size=64M][,readOnly=true]
 *   --mount=volume=NAME,target=/path              per app
 * (parsed and checked by volume.h). */
typedef enum VolumeKind {
        VOLUME_HOST,
        VOLUME_EMPTY,
        VOLUME_TMPFS,
        _VOLUME_KIND_MAX,
        _VOLUME_KIND_INVALID = -EINVAL,
} VolumeKind;

/* How mounts below a host volume's source travel (mount_namespaces(7)):
 * private, the default, none either way; rslave (the CRI's
 * HOST_TO_CONTAINER) mounts the host makes below the source after the
 * pod started appear in the apps, nothing from an app reaches the host;
 * rshared (BIDIRECTIONAL) both ways, for privileged apps only
 * (app_slave_mount_check()). */
typedef enum VolumePropagation {
        VOLUME_PROPAGATION_PRIVATE,
        VOLUME_PROPAGATION_RSLAVE,
        VOLUME_PROPAGATION_RSHARED,
        _VOLUME_PROPAGATION_MAX,
        _VOLUME_PROPAGATION_INVALID = -EINVAL,
} VolumePropagation;

typedef struct Volume {
        char *name;
        VolumeKind kind;
        char *source;      /* host only: an absolute path on the host */
        bool read_only;
        uint64_t size;     /* tmpfs only: bytes, 0 = the kernel's default (half the RAM) */
        VolumePropagation propagation;  /* host only; private unless asked */
        /* The id of the app whose own volume this is (AddApp's Volumes: made
         * with the app, removed with it); NULL: the pod's. */
        char *owner;
} Volume;

typedef struct AppMount {
        char *volume;
        char *target;      /* absolute inside the app, no "." or ".." */
} AppMount;

#define POD_VOLUMES_MAX 64
#define APP_MOUNTS_MAX 64

/* Free what they hold (not the struct itself); NULL members are fine. */
void volume_done(Volume *v);
void app_mount_done(AppMount *m);

/* A host device given to one app (the CRI's devices, `peapod run
 * --device=`). Safe because of two things together (docs/DESIGN.md,
 * "Devices"): the app unit's device cgroup, DevicePolicy=closed plus
 * DeviceAllow= for exactly this node's type and major:minor with exactly
 * these permissions, and the helper binding this one node (checked to be a
 * device) into the app's nodev /dev as a mount of its own (app-device.h). */
typedef struct AppDevice {
        char *host;         /* the host's node */
        char *container;    /* below /dev inside the app */
        char *permissions;  /* some of "rwm": the device cgroup's access */
} AppDevice;

#define APP_DEVICES_MAX 64

void app_device_done(AppDevice *d);
void app_devices_free(AppDevice *d, size_t n);

typedef struct AppSpec {
        char *name;               /* NULL or "" = derived from the image */
        char *image;
        char **exec;              /* replaces entrypoint + cmd */
        char **args;              /* replaces cmd */
        char **env;               /* added to the image's */
        char *workdir;
        char *user;               /* NULL = the image's User */
        char *group;              /* NULL = the user's */
        char **supplementary_groups;
        char **caps_retain;       /* NULL = not given */
        char **caps_remove;       /* NULL = not given */
        bool allow_new_privs;     /* false (the default): no_new_privs is set */
        char *seccomp;            /* NULL = "default" */
        bool readonly_rootfs;
        char *pid_namespace;      /* NULL = "pod" */
        char *ipc_namespace;      /* NULL = "pod" */
        char *restart;            /* NULL = "no" */
        uint64_t cpu_quota_usec, cpu_shares, memory_max, tasks_max; /* 0 = none */
        AppMount *mounts;
        size_t n_mounts;
        AppDevice *devices;
        size_t n_devices;
        char **masked_paths;      /* NULL = none */
        char **readonly_paths;    /* NULL = none */
        char **annotations;       /* key, value, key, value...; NULL = none */
        /* Host volumes of the app's own (AddApp only): added to the pod
         * with the app, set up at once in a running pod, removed with the
         * app. */
        Volume *volumes;
        size_t n_volumes;
        /* The app reads a stdin that peapodd keeps open for attachers
         * (stdin_once: closed when the first leaves); tty: its stdio is a
         * terminal made inside the pod (see App in pod.h). */
        bool stdin_open, stdin_once, tty;
        /* Every capability, no seccomp, the host's /dev, a writable /sys
         * (see App in pod.h); the caller authorized it. */
        bool privileged;
} AppSpec;

/* Frees everything an AppSpec owns and zeroes it (not the struct itself). */
void app_spec_done(AppSpec *s);
