/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-bus.h>

#include "pod.h"

/* What the pod state machine needs from its environment: a bus connection
 * to systemd and machined that nobody else processes (see systemd.h), where
 * state lives, and where the stage1 helpers are. */
typedef struct PodRuntime {
        sd_bus *bus;
        const char *state_dir;
        const char *stage1_dir;
        const char *run_dir;         /* NULL = PEAPOD_RUNTIME_DIR; netns bind mounts below it */
        const char *cni_conf_dir;    /* NULL = CNI_DEFAULT_CONF_DIR */
        char **cni_plugin_dirs;      /* NULL = CNI_DEFAULT_PLUGIN_DIR */
} PodRuntime;

/* created -> preparing -> running. On failure, everything done so far is
 * undone and the pod is "created" again; err says what failed. */
int pod_start(PodRuntime *rt, Pod *p, PeapodError *err);

/* running -> exited: stops the pod slice (apps and infra), records how each
 * app ended, releases units and mounts. Idempotent. */
int pod_stop(PodRuntime *rt, Pod *p);

/* Refuses a running pod with -EBUSY. Deletes what is left of its networks
 * (forgetting what cannot be deleted: call pod_network_stop() first to
 * decide otherwise), then every trace on disk. */
int pod_remove(PodRuntime *rt, Pod *p);

/* Ask systemd how the pod's apps are doing and record it. Returns 1 if
 * anything changed (and was saved), 0 if not. */
int pod_refresh(PodRuntime *rt, Pod *p);

/* After a start of the manager: finish or undo what a crash interrupted,
 * take the references a running pod's units need again, and catch up on
 * exits that happened meanwhile. Returns 1 if the pod changed. */
int pod_reconcile(PodRuntime *rt, Pod *p);

/* Whether the pod's stage1 flavour runs apps in the host's namespaces (its
 * directory holds a file "host-namespaces"): such a pod is not registered
 * with machined. 1 yes, 0 no, -errno. */
int pod_stage1_shares_host(PodRuntime *rt, const Pod *p);

/* The steps of a start and a stop for one app, shared with pod-app.c (apps
 * added to, started in and removed from a running pod). */
int app_dir(PodRuntime *rt, const Pod *p, const App *a, const char *sub, char **ret);
int app_mount_rootfs(PodRuntime *rt, const Pod *p, const App *a);
void app_umount_rootfs(PodRuntime *rt, const Pod *p, const App *a);
int app_start_unit(PodRuntime *rt, const Pod *p, App *a, const char *slice, const char *scope, PeapodError *err);
/* Record what systemd says of an app's unit; true if anything changed. */
struct UnitStatus;
bool app_update_from_unit(App *a, const struct UnitStatus *s);

/* Appends the stage1 options that give a process the app's identity and
 * privileges (--user, --supplementary-groups, --capabilities,
 * --ambient-capabilities, --no-new-privileges, --seccomp; see
 * stage1/README.md): whatever runs as or inside the app passes exactly
 * these, never more. host_namespaces: the pod's flavour shares the host's
 * namespaces (see app_caps_for_flavour()). */
int app_security_argv(const App *a, bool host_namespaces, char ***argv);
