/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What peapodd does at start, before loading pods, to finish what a crash
 * of its predecessor interrupted (see docs/DESIGN.md, "On disk"). The
 * per-pod part (undoing a start cut short, catching up on exits) is
 * pod_reconcile(). */
#include <signal.h>
#include <stdio.h>

#include <systemd/sd-login.h>

#include "daemon.h"
#include "firewall.h"
#include "log.h"
#include "pod-gc.h"
#include "pod-network.h"
#include "string-util.h"
#include "strv.h"

/* Processes a crashed peapodd started and never handed to systemd (a pod
 * init between its fork and its scope, a helper) stay in peapodd.service's
 * cgroup: KillMode=process kills only the main process, so that pods
 * survive us. A new peapodd owns that cgroup alone; whatever else is in it
 * is such a leftover. Only done when we are that service, or the cgroup
 * could be a login shell's. */
static void kill_leftover_processes(void) {
        _cleanup_free_ char *unit = NULL, *cgroup = NULL;
        static const char * const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd" };

        if (sd_pid_get_unit(0, &unit) < 0 || !streq(unit, "peapodd.service"))
                return;
        if (sd_pid_get_cgroup(0, &cgroup) < 0)
                return;
        for (size_t i = 0; i < ELEMENTSOF(roots); i++) {
                _cleanup_free_ char *procs = NULL;
                FILE *f;
                int pid;

                if (asprintf(&procs, "%s%s/cgroup.procs", roots[i], cgroup) < 0)
                        return;
                f = fopen(procs, "re");
                if (!f)
                        continue;
                while (fscanf(f, "%d", &pid) == 1)
                        if (pid > 1 && pid != getpid()) {
                                log_info("Killing process %d left over by a crashed peapodd.", pid);
                                (void) kill(pid, SIGKILL);
                        }
                fclose(f);
                return;
        }
}

void daemon_recover(Daemon *d) {
        int r;

        kill_leftover_processes();
        r = pods_remove_leftovers(d->runtime.state_dir, pod_runtime_dir(&d->runtime));
        if (r < 0)
                log_warning_errno(r, "Failed to remove leftovers of interrupted pod creations and removals: %m");
        else if (r > 0)
                log_info("Removed %d leftover(s) of interrupted pod creations and removals.", r);
}

/* A pod whose binding may be in place: its network is up or coming up. */
static bool port_binding_live(const Daemon *d, const char *id_prefix) {
        for (size_t i = 0; i < d->n_pods; i++) {
                const Pod *p = d->pods[i];

                if (strneq(p->id, id_prefix, strlen(id_prefix)) &&
                    (p->state == POD_RUNNING || p->state == POD_PREPARING))
                        return true;
        }
        return false;
}

static void on_port_chains_listed(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        Daemon *d = userdata;
        size_t n = 0;

        if (r < 0)
                log_warning_errno(r, "Failed to look for bridge bindings of pods that are gone: %s",
                                  peapod_error_is_set(err) ? err->message : strerror(-r));
        else
                FOREACH_STRV(id, firewall_op_pod_ids(op))
                        /* A pod that stops later removes its own. */
                        if (!port_binding_live(d, id)) {
                                r = pod_network_unbind_ports_later(&d->runtime, id);
                                if (r < 0)
                                        log_warning_errno(r, "Failed to remove the bridge binding of pod %s: %m", id);
                                else
                                        n++;
                        }
        if (n > 0)
                log_info("Removing %zu bridge binding(s) of pods that no longer run.", n);
        d->port_sweep = firewall_op_free(d->port_sweep);
}

void daemon_port_sweep_start(Daemon *d) {
        int r;

        r = firewall_pod_port_chains_async(d->event, on_port_chains_listed, d, &d->port_sweep);
        if (r < 0)
                log_warning_errno(r, "Failed to look for bridge bindings of pods that are gone: %m");
}

void daemon_port_sweep_free(Daemon *d) {
        d->port_sweep = firewall_op_free(d->port_sweep);
}
