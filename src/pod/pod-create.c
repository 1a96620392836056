/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules of CreatePod, without D-Bus (the handler in daemon-manager.c
 * parses, authorizes, calls pod_create() and maps its -errno). */
#include <string.h>

#include "cni.h"
#include "pod-create.h"
#include "string-util.h"
#include "strv.h"

static int pod_create_check_name(const char *name, Pod * const *pods, size_t n_pods, PeapodError *err) {
        if (isempty(name))
                return 0; /* pod_new() makes one of the id, which is unique */
        if (!pod_name_is_valid(name))
                return peapod_error_set(err, -EINVAL,
                                        "Invalid pod name '%s': use 1-64 letters, digits, '.' and '-', not starting "
                                        "with '-' or '.'",
                                        name);
        /* Also the machine name: machined would refuse the second at its
         * start, long after the client was told it exists. */
        for (size_t i = 0; i < n_pods; i++)
                if (streq(pods[i]->name, name))
                        return peapod_error_set(err, -EEXIST, "A pod named %s exists already", name);
        return 0;
}

static int pod_create_check_apps(const PodCreateSpec *spec, PeapodError *err) {
        for (size_t i = 0; i < spec->n_apps; i++)
                if (spec->apps[i].n_volumes > 0)
                        return peapod_error_set(err, -EINVAL,
                                                "App property Volumes is for AddApp; CreatePod takes the pod property "
                                                "Volumes");
        if (spec->n_apps == 0 && spec->stop_when_apps_exit)
                return peapod_error_set(err, -EINVAL, "A pod needs at least one app, unless StopWhenAppsExit is false");
        return 0;
}

/* The pod and its apps as asked, before the network. */
static int pod_create_build(const char *image_store, const PodCreateSpec *spec, Pod **ret, PeapodError *err) {
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        r = spec->n_apps == 0 ? pod_new_empty(spec->name, &p, err)
                              : pod_new(spec->name, spec->apps, spec->n_apps, image_store, &p, err);
        if (r < 0)
                return r;
        p->stop_when_apps_exit = spec->stop_when_apps_exit;
        p->cpu_accounting = spec->cpu_accounting;
        if (spec->stage1) {
                p->stage1 = strdup(spec->stage1);
                if (!p->stage1)
                        return -ENOMEM;
        }
        r = pod_set_volumes(p, spec->volumes, spec->n_volumes, err);
        if (r < 0)
                return r;
        r = pod_set_annotations(p, spec->annotations, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

/* Gives p its network as spec asks, within what its stage1 allows. */
static int pod_create_network(PodRuntime *rt, Pod *p, const PodNetworkSpec *spec, bool spec_has_sysctls,
                              PeapodError *err) {
        /* Static: ns outlives the block that picks it. */
        static char *host_only[] = { (char *) "host", NULL };
        PodNetworkSpec ns = *spec;
        PodNetwork net = {};
        int r;

        /* A flavour in the host's namespaces has no network of its own. */
        r = pod_stage1_shares_host(rt, p);
        if (r < 0)
                return r;
        if (r > 0) {
                if (strv_length(spec->networks) > 0 &&
                    !(strv_length(spec->networks) == 1 && streq(spec->networks[0], "host")))
                        return peapod_error_set(err, -EINVAL,
                                                "Stage1 %s uses the host's network: only network 'host' goes with it",
                                                pod_stage1(p));
                if (spec_has_sysctls)
                        return peapod_error_set(err, -EINVAL,
                                                "Stage1 %s uses the host's namespaces: a pod of it sets no sysctls",
                                                pod_stage1(p));
                ns.networks = host_only;
                for (size_t i = 0; i < p->n_apps; i++) {
                        r = app_check_stage1(rt, p, &p->apps[i], err);
                        if (r < 0)
                                return r;
                }
        }
        r = pod_network_from_spec(&ns, rt->cni_conf_dir ?: CNI_DEFAULT_CONF_DIR, &net, err);
        /* A network that does not exist is a bad argument, not a missing
         * image (the -ENOENT of this call's contract). */
        if (r < 0 && r != -ENOMEM)
                return peapod_error_set(err, -EINVAL, "%s", strerror(-r));
        if (r < 0)
                return r;
        pod_network_done(&p->net);
        p->net = net;
        return 0;
}

int pod_create(PodRuntime *rt, const char *image_store, Pod * const *pods, size_t n_pods, const PodCreateSpec *spec,
               Pod **ret, PeapodError *err) {
        _cleanup_(pod_freep) Pod *p = NULL;
        int r;

        r = pod_create_check_name(spec->name, pods, n_pods, err);
        if (r < 0)
                return r;
        r = pod_create_check_apps(spec, err);
        if (r < 0)
                return r;
        r = pod_create_build(image_store, spec, &p, err);
        if (r < 0)
                return r;
        r = pod_create_network(rt, p, &spec->network, spec->sysctls, err);
        if (r < 0)
                return r;
        /* After the network: net.* needs the pod's own. */
        r = pod_set_sysctls(p, spec->sysctls, err);
        if (r < 0)
                return r;
        /* A host port goes to one pod: a second DNAT rule for it would
         * silently lose to the first. */
        r = pod_ports_check(p, pods, n_pods, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}
