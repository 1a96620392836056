/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "pod-network.h"
#include "pod-runtime.h"
#include "pod.h"
#include "volume.h"

/* Everything a client asks of a new pod (Manager.CreatePod): borrowed, the
 * caller keeps it. */
typedef struct PodCreateSpec {
        const char *name;          /* NULL or "" = "pod-<id prefix>" */
        bool stop_when_apps_exit;
        bool cpu_accounting;       /* Pod.cpu_accounting */
        const char *stage1;        /* NULL = "default" */
        const AppSpec *apps;
        size_t n_apps;
        const Volume *volumes;     /* the pod's; an app's own are AddApp's */
        size_t n_volumes;
        char **annotations;        /* pairs; NULL = none */
        char **sysctls;            /* pairs; NULL = none */
        PodNetworkSpec network;
} PodCreateSpec;

/* The rules of a new pod, in one place for every client: the name is valid
 * and no pod of pods has it; a pod without apps does not stop when its apps
 * exit; apps bring no volumes of their own; a stage1 in the host's
 * namespaces takes only the network "host" and none of the app options it
 * cannot honour, nor sysctls; the sysctls are of the pod's own namespaces
 * (pod_set_sysctls()); the networks exist; no host port is published twice or
 * bound on the host. Builds the pod in state "created" (nothing touches
 * the disk: the caller saves it). -EINVAL with err for a bad name (then
 * !pod_name_is_valid(spec->name)) or argument, -ENOENT for an image that is
 * not there, -EEXIST for a name in use, -EADDRINUSE for a port in use,
 * other -errno (-ENOMEM, I/O) with err said where known. */
int pod_create(PodRuntime *rt, const char *image_store, Pod * const *pods, size_t n_pods, const PodCreateSpec *spec,
               Pod **ret, PeapodError *err);
