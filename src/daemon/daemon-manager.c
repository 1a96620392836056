/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <sys/stat.h>

#include "cni.h"
#include "daemon-trust.h"
#include "crash-point.h"
#include "daemon.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

static int bus_find_pod(Daemon *d, const char *key, Pod **ret, sd_bus_error *error) {
        Pod *p;
        int r;

        p = daemon_find_pod(d, key, &r);
        if (p) {
                *ret = p;
                return 0;
        }
        if (r == -ENOTUNIQ)
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_POD, "Pod name or id prefix '%s' is ambiguous", key);
        if (id_prefix_is_too_short(key))
                return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_POD, "No such pod: %s (a prefix of an id needs at least %d digits)",
                                         key, POD_ID_PREFIX_MIN);
        return sd_bus_error_setf(error, BUS_ERROR_NO_SUCH_POD, "No such pod: %s", key);
}

/* Read the pod argument (id, id prefix or name) of a Manager method. */
static int bus_read_pod(sd_bus_message *m, Daemon *d, Pod **ret, sd_bus_error *error) {
        const char *key;
        int r;

        r = sd_bus_message_read(m, "s", &key);
        if (r < 0)
                return r;
        return bus_find_pod(d, key, ret, error);
}

#define APP_LIST_MAX 64

static int read_property_string(sd_bus_message *m, const char *name, const char *contents, char **ret,
                                sd_bus_error *error) {
        const char *v;
        int r;

        if (!streq(contents, "s"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s must be s", name);
        r = sd_bus_message_read(m, "v", "s", &v);
        if (r < 0)
                return r;
        free(*ret);
        *ret = strdup(v);
        return *ret ? 0 : -ENOMEM;
}

static int read_property_strv(sd_bus_message *m, const char *name, const char *contents, char ***ret,
                              sd_bus_error *error) {
        int r;

        if (!streq(contents, "as"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s must be as", name);
        r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = NULL;
        r = sd_bus_message_read_strv(m, ret);
        if (r < 0)
                return r;
        if (!*ret && !(*ret = calloc(1, sizeof(char *))))
                return -ENOMEM;
        if (strv_length(*ret) > APP_LIST_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s is too long (at most %d)", name,
                                         APP_LIST_MAX);
        return sd_bus_message_exit_container(m);
}

static int read_property_simple(sd_bus_message *m, const char *name, const char *contents, char type, void *ret,
                                sd_bus_error *error) {
        char sig[2] = { type, 0 };

        if (!streq(contents, sig))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s must be %s", name, sig);
        return sd_bus_message_read(m, "v", sig, ret);
}

/* The isolation properties of an app (see org.peapod1(5)); 1 when name was
 * one of them. Values are checked by pod_new(), not here. */
static int read_app_isolation_property(sd_bus_message *m, const char *name, const char *contents, AppSpec *spec,
                                       AppArgs *aa, sd_bus_error *error) {
        int b, r;

        if (streq(name, "User"))
                r = read_property_string(m, name, contents, &aa->user, error);
        else if (streq(name, "Group"))
                r = read_property_string(m, name, contents, &aa->group, error);
        else if (streq(name, "Seccomp"))
                r = read_property_string(m, name, contents, &aa->seccomp, error);
        else if (streq(name, "PIDNamespace"))
                r = read_property_string(m, name, contents, &aa->pid_namespace, error);
        else if (streq(name, "Restart"))
                r = read_property_string(m, name, contents, &aa->restart, error);
        else if (streq(name, "SupplementaryGroups"))
                r = read_property_strv(m, name, contents, &aa->supplementary_groups, error);
        else if (streq(name, "CapabilitiesRetain"))
                r = read_property_strv(m, name, contents, &aa->caps_retain, error);
        else if (streq(name, "CapabilitiesRemove"))
                r = read_property_strv(m, name, contents, &aa->caps_remove, error);
        else if (streq(name, "NoNewPrivileges")) {
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->allow_new_privs = !b;
        } else if (streq(name, "ReadOnlyRootfs")) {
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->readonly_rootfs = b;
        } else if (streq(name, "CPUQuotaPerSecUSec"))
                r = read_property_simple(m, name, contents, 't', &spec->cpu_quota_usec, error);
        else if (streq(name, "CPUShares"))
                r = read_property_simple(m, name, contents, 't', &spec->cpu_shares, error);
        else if (streq(name, "MemoryMax"))
                r = read_property_simple(m, name, contents, 't', &spec->memory_max, error);
        else if (streq(name, "TasksMax"))
                r = read_property_simple(m, name, contents, 't', &spec->tasks_max, error);
        else if (streq(name, "Mounts")) {
                const char *volume, *target;

                if (!streq(contents, "a(ss)"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s must be a(ss)", name);
                r = sd_bus_message_enter_container(m, 'v', "a(ss)");
                if (r >= 0)
                        r = sd_bus_message_enter_container(m, 'a', "(ss)");
                while (r >= 0 && (r = sd_bus_message_read(m, "(ss)", &volume, &target)) > 0) {
                        AppMount *n;

                        if (aa->n_mounts >= APP_MOUNTS_MAX)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many mounts (at most %d)",
                                                         APP_MOUNTS_MAX);
                        n = reallocarray(aa->mounts, aa->n_mounts + 1, sizeof(AppMount));
                        if (!n)
                                return -ENOMEM;
                        aa->mounts = n;
                        n[aa->n_mounts] = (AppMount) { .volume = strdup(volume), .target = strdup(target) };
                        aa->n_mounts++;
                        if (!n[aa->n_mounts - 1].volume || !n[aa->n_mounts - 1].target)
                                return -ENOMEM;
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        } else
                return 0;
        if (r < 0)
                return r;

        spec->user = aa->user;
        spec->group = aa->group;
        spec->seccomp = aa->seccomp;
        spec->pid_namespace = aa->pid_namespace;
        spec->restart = aa->restart;
        spec->supplementary_groups = aa->supplementary_groups;
        spec->caps_retain = aa->caps_retain;
        spec->caps_remove = aa->caps_remove;
        spec->mounts = aa->mounts;
        spec->n_mounts = aa->n_mounts;
        return 1;
}

/* Pod property Volumes a(sssbt): (name, kind, source, read-only, size);
 * checked by pod_set_volumes(). Replaces what an earlier one gave. */
static int read_volumes_property(sd_bus_message *m, const char *contents, Volume **volumes, size_t *n_volumes,
                                 sd_bus_error *error) {
        const char *vname, *kind, *source;
        uint64_t size;
        int ro, r;

        if (!streq(contents, "a(sssbt)"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod property Volumes must be a(sssbt)");
        for (size_t i = 0; i < *n_volumes; i++)
                volume_done(&(*volumes)[i]);
        *n_volumes = 0;
        r = sd_bus_message_enter_container(m, 'v', "a(sssbt)");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(sssbt)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(sssbt)", &vname, &kind, &source, &ro, &size)) > 0) {
                Volume *nv;

                if (*n_volumes >= POD_VOLUMES_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many volumes (at most %d)",
                                                 POD_VOLUMES_MAX);
                nv = reallocarray(*volumes, *n_volumes + 1, sizeof(Volume));
                if (!nv)
                        return -ENOMEM;
                *volumes = nv;
                nv[*n_volumes] = (Volume) { .kind = volume_kind_from_string(kind), .read_only = ro, .size = size };
                nv[*n_volumes].name = strdup(vname);
                nv[*n_volumes].source = isempty(source) ? NULL : strdup(source);
                (*n_volumes)++;
                if (!nv[*n_volumes - 1].name || (!isempty(source) && !nv[*n_volumes - 1].source))
                        return -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

/* Read one app's a(sv) properties into spec; strvs are owned by the caller
 * through the arrays passed in. */
static int read_app_properties(sd_bus_message *m, AppSpec *spec, AppArgs *aa, char ***exec, char ***args, char ***env,
                               char **workdir, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                const char *name, *contents;
                char ***target = NULL;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                if (streq(name, "Exec"))
                        target = exec;
                else if (streq(name, "Args"))
                        target = args;
                else if (streq(name, "Environment"))
                        target = env;

                if (target) {
                        if (!streq(contents, "as"))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "App property %s must be as", name);
                        strv_free(*target);
                        *target = NULL;
                        r = sd_bus_message_enter_container(m, 'v', "as");
                        if (r < 0)
                                return r;
                        r = sd_bus_message_read_strv(m, target);
                        if (r < 0)
                                return r;
                        if (!*target) {
                                *target = calloc(1, sizeof(char *));
                                if (!*target)
                                        return -ENOMEM;
                        }
                        if (strv_length(*target) > (target == env ? APP_ENV_MAX : APP_ARGV_MAX))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "App property %s is too long", name);
                        r = sd_bus_message_exit_container(m);
                        if (r < 0)
                                return r;
                } else if (streq(name, "WorkingDirectory")) {
                        const char *s;

                        if (!streq(contents, "s"))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "App property %s must be s", name);
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r < 0)
                                return r;
                        free(*workdir);
                        *workdir = strdup(s);
                        if (!*workdir)
                                return -ENOMEM;
                } else {
                        r = read_app_isolation_property(m, name, contents, spec, aa, error);
                        if (r < 0)
                                return r;
                        if (r == 0)
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown app property %s", name);
                }
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        spec->exec = *exec;
        spec->args = *args;
        spec->env = *env;
        spec->workdir = *workdir;
        if (spec->exec && strv_length(spec->exec) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "App has an empty command");
        return 0;
}

void bus_app_args_done(AppArgs *a) {
        strv_free(a->exec);
        strv_free(a->args);
        strv_free(a->env);
        free(a->workdir);
        free(a->user);
        free(a->group);
        free(a->seccomp);
        free(a->pid_namespace);
        free(a->restart);
        strv_free(a->supplementary_groups);
        strv_free(a->caps_retain);
        strv_free(a->caps_remove);
        for (size_t k = 0; k < a->n_mounts; k++)
                app_mount_done(&a->mounts[k]);
        free(a->mounts);
        *a = (AppArgs) {};
}

static void app_args_free_all(AppArgs *a, size_t n) {
        for (size_t i = 0; a && i < n; i++)
                bus_app_args_done(&a[i]);
        free(a);
}

int bus_read_app_spec(sd_bus_message *m, AppSpec *spec, AppArgs *storage, sd_bus_error *error) {
        return read_app_properties(m, spec, storage, &storage->exec, &storage->args, &storage->env, &storage->workdir, error);
}

void pod_properties_done(PodProperties *p) {
        free(p->stage1);
        strv_free(p->networks);
        strv_free(p->dns);
        strv_free(p->dns_search);
        free(p->hostname);
        for (size_t i = 0; i < p->n_ports; i++)
                pod_port_done(&p->ports[i]);
        free(p->ports);
        for (size_t i = 0; i < p->n_volumes; i++)
                volume_done(&p->volumes[i]);
        p->volumes = mfree(p->volumes);
        p->n_volumes = 0;
}

static int read_pod_ports(sd_bus_message *m, PodProperties *a, sd_bus_error *error) {
        const char *proto, *ip;
        uint16_t hp, pp;
        int r;

        r = sd_bus_message_enter_container(m, 'v', "a(ssqq)");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "(ssqq)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "(ssqq)", &proto, &ip, &hp, &pp)) > 0) {
                PodPort *n, port = {};

                if (a->n_ports >= POD_PORTS_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many ports (at most %d)", POD_PORTS_MAX);
                if (strlen(proto) != 3)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid port protocol '%s': tcp or udp", proto);
                memcpy(port.protocol, proto, 4);
                port.host_port = hp;
                port.pod_port = pp;
                port.host_ip = (char *) ip;
                if (!pod_port_is_valid(&port))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                 "Invalid port mapping (%s, '%s', %u, %u): protocol tcp or udp, "
                                                 "host IP empty or an address, ports 1-65535",
                                                 proto, ip, hp, pp);
                port.host_ip = strdup(ip);
                if (!port.host_ip)
                        return -ENOMEM;
                n = reallocarray(a->ports, a->n_ports + 1, sizeof(PodPort));
                if (!n) {
                        free(port.host_ip);
                        return -ENOMEM;
                }
                a->ports = n;
                a->ports[a->n_ports++] = port;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int read_pod_strv(sd_bus_message *m, const char *name, char ***target, sd_bus_error *error) {
        int r;

        strv_free(*target);
        *target = NULL;
        r = sd_bus_message_enter_container(m, 'v', "as");
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, target);
        if (r < 0)
                return r;
        if (strv_length(*target) > 64)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod property %s is too long", name);
        return sd_bus_message_exit_container(m);
}

/* A flavour is a directory of the stage1 dir with an init in it. */
static int stage1_check(Daemon *d, const char *name, sd_bus_error *error) {
        _cleanup_free_ char *init = NULL;

        if (!stage1_name_is_valid(name))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Invalid stage1 flavour name '%s'", name);
        if (asprintf(&init, "%s/%s/peapod-stage1-init", d->runtime.stage1_dir, name) < 0)
                return -ENOMEM;
        if (access(init, X_OK) < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "No stage1 flavour '%s' (%s: %s)", name, init,
                                         strerror(errno));
        return 0;
}

int bus_read_pod_properties(Daemon *d, sd_bus_message *m, PodProperties *props, sd_bus_error *error) {
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "sv")) > 0) {
                const char *name, *contents;

                r = sd_bus_message_read(m, "s", &name);
                if (r < 0)
                        return r;
                r = sd_bus_message_peek_type(m, NULL, &contents);
                if (r < 0)
                        return r;
                if (streq(name, "StopWhenAppsExit")) {
                        int b;

                        if (!streq(contents, "b"))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod property %s must be b", name);
                        r = sd_bus_message_read(m, "v", "b", &b);
                        if (r < 0)
                                return r;
                        props->stop_when_apps_exit = b;
                } else if (streq(name, "Networks") || streq(name, "DNS") || streq(name, "DNSSearch")) {
                        if (!streq(contents, "as"))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod property %s must be as", name);
                        r = read_pod_strv(m, name,
                                          streq(name, "Networks") ? &props->networks :
                                          streq(name, "DNS") ? &props->dns : &props->dns_search, error);
                        if (r < 0)
                                return r;
                } else if (streq(name, "Ports")) {
                        if (!streq(contents, "a(ssqq)"))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod property %s must be a(ssqq)", name);
                        r = read_pod_ports(m, props, error);
                        if (r < 0)
                                return r;
                } else if (streq(name, "Hostname")) {
                        const char *s;

                        if (!streq(contents, "s"))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod property %s must be s", name);
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r < 0)
                                return r;
                        free(props->hostname);
                        props->hostname = strdup(s);
                        if (!props->hostname)
                                return -ENOMEM;
                } else if (streq(name, "Stage1")) {
                        const char *s;

                        if (!streq(contents, "s"))
                                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod property %s must be s", name);
                        r = sd_bus_message_read(m, "v", "s", &s);
                        if (r < 0)
                                return r;
                        r = stage1_check(d, s, error);
                        if (r < 0)
                                return r;
                        free(props->stage1);
                        props->stage1 = streq(s, "default") ? NULL : strdup(s);
                        if (!streq(s, "default") && !props->stage1)
                                return -ENOMEM;
                } else if (streq(name, "Volumes")) {
                        r = read_volumes_property(m, contents, &props->volumes, &props->n_volumes, error);
                        if (r < 0)
                                return r;
                } else
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown pod property %s", name);
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int method_create_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Daemon *d = userdata;
        _cleanup_(pod_properties_done) PodProperties props = { .stop_when_apps_exit = true };
        AppSpec specs[POD_APPS_MAX] = {};
        AppArgs *aa = NULL;
        size_t n = 0;
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_free_ char *path = NULL;
        PeapodError perr = {};
        const char *name;
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = bus_read_pod_properties(d, m, &props, error);
        if (r < 0)
                return r;

        aa = calloc(POD_APPS_MAX, sizeof(AppArgs));
        if (!aa) {
                r = -ENOMEM;
                goto finish;
        }
        r = sd_bus_message_enter_container(m, 'a', "(ssa(sv))");
        if (r < 0)
                goto finish;
        while ((r = sd_bus_message_enter_container(m, 'r', "ssa(sv)")) > 0) {
                if (n >= POD_APPS_MAX) {
                        r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many apps (at most %d)", POD_APPS_MAX);
                        goto finish;
                }
                r = sd_bus_message_read(m, "ss", &specs[n].name, &specs[n].image);
                if (r < 0)
                        goto finish;
                r = read_app_properties(m, &specs[n], &aa[n], &aa[n].exec, &aa[n].args, &aa[n].env, &aa[n].workdir, error);
                n++;
                if (r < 0)
                        goto finish;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        goto finish;
        }
        if (r < 0)
                goto finish;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                goto finish;

        if (!isempty(name) && !pod_name_is_valid(name)) {
                r = sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME,
                                      "Invalid pod name '%s': use 1-64 letters, digits, '.' and '-', not starting with '-' or '.'",
                                      name);
                goto finish;
        }
        if (!isempty(name))
                for (size_t i = 0; i < d->n_pods; i++)
                        if (streq(d->pods[i]->name, name)) {
                                r = sd_bus_error_setf(error, BUS_ERROR_POD_EXISTS, "A pod named %s exists already", name);
                                goto finish;
                        }

        if (n == 0 && props.stop_when_apps_exit) {
                r = sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                     "A pod needs at least one app, unless StopWhenAppsExit is false");
                goto finish;
        }
        r = n == 0 ? pod_new_empty(name, &p, &perr) : pod_new(name, specs, n, d->images_dir, &p, &perr);
        if (r >= 0) {
                p->stop_when_apps_exit = props.stop_when_apps_exit;
                p->stage1 = TAKE_PTR(props.stage1);
        }
        if (r >= 0)
                r = pod_set_volumes(p, props.volumes, props.n_volumes, &perr);
        if (r < 0) {
                r = bus_error_from_errno(error, BUS_ERROR_SCOPE_POD, r, perr.message, "Failed to create pod");
                goto finish;
        }
        {
                PodNetworkSpec ns = {
                        .networks = props.networks,
                        .ports = props.ports,
                        .n_ports = props.n_ports,
                        .dns = props.dns,
                        .dns_search = props.dns_search,
                        .hostname = props.hostname,
                };
                PodNetwork net = {};

                /* A flavour in the host's namespaces has no network of its own. */
                r = pod_stage1_shares_host(&d->runtime, p);
                if (r < 0)
                        goto finish;
                if (r > 0) {
                        if (props.networks && !(strv_length(props.networks) == 1 && streq(props.networks[0], "host"))) {
                                r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS,
                                                      "Stage1 %s uses the host's network: only network 'host' goes with it",
                                                      pod_stage1(p));
                                goto finish;
                        }
                        ns.networks = STRV_MAKE("host");
                        for (size_t i = 0; i < p->n_apps; i++)
                                if (app_check_stage1(&d->runtime, p, &p->apps[i], &perr) < 0) {
                                        r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s", perr.message);
                                        goto finish;
                                }
                }
                r = pod_network_from_spec(&ns, d->runtime.cni_conf_dir ?: CNI_DEFAULT_CONF_DIR, &net, &perr);
                if (r == -ENOMEM)
                        goto finish;
                if (r < 0) {
                        r = sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s",
                                              perr.message[0] ? perr.message : strerror(-r));
                        goto finish;
                }
                pod_network_done(&p->net);
                p->net = net;
        }
        /* A host port goes to one pod: a second DNAT rule for it would
         * silently lose to the first. */
        r = pod_ports_check(p, d->pods, d->n_pods, &perr);
        if (r < 0) {
                r = bus_error_from_errno(error, BUS_ERROR_SCOPE_POD, r, perr.message, "Failed to create pod");
                goto finish;
        }
        r = pod_save(p, d->runtime.state_dir);
        if (r < 0) {
                r = sd_bus_error_set_errnof(error, r, "Failed to save pod %s: %m", p->name);
                goto finish;
        }
        crash_point("create-saved");
        r = pod_object_path(p, &path);
        if (r < 0)
                goto finish;
        r = daemon_add_pod(d, p);
        if (r < 0)
                goto finish;
        log_info("Created pod %s (%s).", p->name, p->id);
        (void) sd_bus_emit_signal(d->bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PodNew", "so", p->id, path);
        (void) sd_bus_emit_object_added(d->bus, path);
        TAKE_PTR(p);
        r = sd_bus_reply_method_return(m, "o", path);
finish:
        app_args_free_all(aa, POD_APPS_MAX);
        return r;
}

int bus_pod_start(Daemon *d, Pod *p, const AppStdin *in, sd_bus_message *m, sd_bus_error *error) {
        PeapodError perr = {};
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        if (p->state != POD_CREATED && p->state != POD_EXITED)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "Pod %s is %s; only a created or exited pod can be started",
                                         p->name, pod_state_to_string(p->state));
        /* Again: the host may have bound the port since the pod was made. */
        r = pod_ports_check(p, d->pods, d->n_pods, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_POD, r, perr.message, "Failed to start pod");
        if (in && p->n_apps == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Pod %s has no app to take stdin", p->name);
        if (in) {
                struct stat st;

                /* Never a terminal: any fd of one lets the app type into it
                 * (TIOCSTI) or take it as its controlling terminal, and it
                 * would be the caller's. A terminal of the app's own is
                 * made inside the pod; the tty flag's socket carries its
                 * master back to the caller. */
                if (isatty(in->fd))
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS,
                                                "stdin is a terminal: pass a pipe, or a socket with the tty flag");
                if (in->tty && (fstat(in->fd, &st) < 0 || !S_ISSOCK(st.st_mode)))
                        return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "The tty flag wants a socket");
        }
        r = pod_start_with_stdin(&d->runtime, p, in, &perr);
        if (r < 0) {
                log_warning_errno(r, "Failed to start pod %s: %s", p->name, perr.message[0] ? perr.message : strerror(-r));
                if (r == -EEXIST)
                        return sd_bus_error_setf(error, BUS_ERROR_POD_EXISTS, "%s", perr.message);
                return sd_bus_error_set_errnof(error, r, "Failed to start pod %s: %s", p->name,
                                               perr.message[0] ? perr.message : strerror(-r));
        }
        log_info("Started pod %s.", p->name);
        /* An app may have exited while we were starting the others. */
        daemon_pod_changed(d, p);
        return sd_bus_reply_method_return(m, NULL);
}

int bus_pod_stop(Daemon *d, Pod *p, sd_bus_message *m, sd_bus_error *error) {
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        if (p->state != POD_RUNNING && p->state != POD_PREPARING)
                return sd_bus_error_setf(error, BUS_ERROR_BAD_STATE, "Pod %s is not running", p->name);
        /* Answered when the stop has ended; the loop serves others meanwhile. */
        r = daemon_pod_stop(d, p, m, false, 0);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to stop pod %s: %m", p->name);
        return 1;
}

int bus_pod_remove(Daemon *d, Pod *p, uint64_t flags, sd_bus_message *m, sd_bus_error *error) {
        int r;

        r = bus_verify_polkit(m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        if (flags & ~PEAPOD_REMOVE_POD_FORCE)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        if (p->state == POD_RUNNING || p->state == POD_PREPARING) {
                if (!(flags & PEAPOD_REMOVE_POD_FORCE))
                        return sd_bus_error_setf(error, BUS_ERROR_POD_RUNNING,
                                                 "Pod %s is running; stop it first or force the removal", p->name);
                /* Removed and answered once the stop has ended. */
                r = daemon_pod_stop(d, p, m, true, flags);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to stop pod %s: %m", p->name);
                return 1;
        }
        r = bus_pod_remove_stopped(d, p, flags, error);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, NULL);
}

int bus_pod_remove_stopped(Daemon *d, Pod *p, uint64_t flags, sd_bus_error *error) {
        PeapodError perr = {};
        int r;

        /* A DEL that fails keeps the pod, so that nothing leaks silently;
         * force removes it all the same (and says what may be left). */
        r = pod_network_stop(&d->runtime, p, false, &perr);
        if (r < 0 && !(flags & PEAPOD_REMOVE_POD_FORCE))
                return sd_bus_error_set_errnof(error, r, "Failed to remove the networks of pod %s (force removes it anyway): %s",
                                               p->name, perr.message[0] ? perr.message : strerror(-r));
        if (r < 0)
                log_warning_errno(r, "Removing pod %s although its networks could not be deleted: %s", p->name,
                                  perr.message[0] ? perr.message : strerror(-r));
        r = daemon_remove_pod(d, p);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to remove pod %s: %m", p->name);
        return 0;
}

int daemon_remove_pod(Daemon *d, Pod *p) {
        _cleanup_free_ char *path = NULL, *name = NULL;
        char id[POD_ID_LEN + 1];
        int r;

        r = pod_object_path(p, &path);
        if (r < 0)
                return r;
        name = strdup(p->name);
        if (!name)
                return -ENOMEM;
        memcpy(id, p->id, sizeof(id));
        r = pod_remove(&d->runtime, p);
        if (r < 0)
                return r;
        (void) sd_bus_emit_object_removed(d->bus, path);
        daemon_forget_pod(d, p);
        (void) sd_bus_emit_signal(d->bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PodRemoved", "so", id, path);
        log_info("Removed pod %s.", name);
        return 0;
}

static int method_start_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        return bus_pod_start(userdata, p, NULL, m, error);
}

static int method_start_pod_with_stdin(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        AppStdin in = {};
        uint64_t flags;
        Pod *p;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "ht", &in.fd, &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_START_POD_TTY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        in.tty = flags & PEAPOD_START_POD_TTY;
        return bus_pod_start(userdata, p, &in, m, error);
}

static int method_stop_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        return bus_pod_stop(userdata, p, m, error);
}

static int method_remove_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint64_t flags;
        Pod *p;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        r = sd_bus_message_read(m, "t", &flags);
        if (r < 0)
                return r;
        return bus_pod_remove(userdata, p, flags, m, error);
}

static int method_get_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_free_ char *path = NULL;
        Pod *p;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        r = pod_object_path(p, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "o", path);
}

static int method_list_pods(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        int r;

        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssto)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_pods; i++) {
                Pod *p = d->pods[i];
                _cleanup_free_ char *path = NULL;

                r = pod_object_path(p, &path);
                if (r < 0)
                        return r;
                r = sd_bus_message_append(reply, "(ssssto)", p->id, p->name, pod_state_to_string(p->state), p->name,
                                          p->created_usec, path);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_close_container(reply);
        if (r < 0)
                return r;
        return sd_bus_send(NULL, reply, NULL);
}

static int property_get_version(sd_bus *bus, const char *path, const char *interface, const char *property,
                                sd_bus_message *reply, void *userdata, sd_bus_error *error) {
        return sd_bus_message_append(reply, "s", PACKAGE_VERSION);
}

const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Version", "s", property_get_version, 0, SD_BUS_VTABLE_PROPERTY_CONST),
        SD_BUS_METHOD_WITH_ARGS("CreatePod",
                                SD_BUS_ARGS("s", name, "a(sv)", properties, "a(ssa(sv))", apps),
                                SD_BUS_RESULT("o", pod),
                                method_create_pod,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartPod", SD_BUS_ARGS("s", pod), SD_BUS_NO_RESULT, method_start_pod,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StartPodWithStdin", SD_BUS_ARGS("s", pod, "h", stdin_fd, "t", flags), SD_BUS_NO_RESULT,
                                method_start_pod_with_stdin, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("StopPod", SD_BUS_ARGS("s", pod), SD_BUS_NO_RESULT, method_stop_pod,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemovePod", SD_BUS_ARGS("s", pod, "t", flags), SD_BUS_NO_RESULT, method_remove_pod,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetPod", SD_BUS_ARGS("s", pod), SD_BUS_RESULT("o", path), method_get_pod,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListPods", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssssto)", pods), method_list_pods,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PullImage", SD_BUS_ARGS("s", reference, "t", flags), SD_BUS_RESULT("o", job),
                                bus_method_pull_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListImages", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(sastso)", images),
                                bus_method_list_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GetImage", SD_BUS_ARGS("s", image), SD_BUS_RESULT("o", path), bus_method_get_image,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveImage", SD_BUS_ARGS("s", image, "t", flags), SD_BUS_NO_RESULT,
                                bus_method_remove_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("TagImage", SD_BUS_ARGS("s", image, "s", reference), SD_BUS_NO_RESULT,
                                bus_method_tag_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportImage", SD_BUS_ARGS("h", fd, "s", reference, "t", flags), SD_BUS_RESULT("o", job),
                                bus_method_import_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ExportImage", SD_BUS_ARGS("s", image, "h", fd, "s", format, "t", flags),
                                SD_BUS_RESULT("o", job), bus_method_export_image, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PruneImages", SD_BUS_ARGS("t", flags), SD_BUS_RESULT("t", bytes_freed),
                                bus_method_prune_images, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ImportImageWithSignature",
                                SD_BUS_ARGS("h", fd, "ay", signature, "s", reference, "t", flags),
                                SD_BUS_RESULT("o", job), bus_method_import_image_with_signature, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("AddTrustedKey", SD_BUS_ARGS("ay", key, "s", prefix, "t", flags),
                                SD_BUS_RESULT("s", fingerprint), bus_method_add_trusted_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("ListTrustedKeys", SD_BUS_NO_ARGS, SD_BUS_RESULT("a(ssss)", keys),
                                bus_method_list_trusted_keys, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RemoveTrustedKey", SD_BUS_ARGS("s", fingerprint, "t", flags), SD_BUS_NO_RESULT,
                                bus_method_remove_trusted_key, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("GarbageCollect", SD_BUS_ARGS("t", grace_usec, "t", flags),
                                SD_BUS_RESULT("a(ss)", removed), bus_method_garbage_collect, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("PullImageWithAuth", SD_BUS_ARGS("s", reference, "a(sv)", credentials, "t", flags),
                                SD_BUS_RESULT("o", job), bus_method_pull_image_with_auth,
                                SD_BUS_VTABLE_UNPRIVILEGED | SD_BUS_VTABLE_SENSITIVE),
        SD_BUS_SIGNAL_WITH_ARGS("PodNew", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("PodRemoved", SD_BUS_ARGS("s", id, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobNew", SD_BUS_ARGS("u", id, "o", path), 0),
        SD_BUS_SIGNAL_WITH_ARGS("JobRemoved",
                                SD_BUS_ARGS("u", id, "o", path, "s", state, "s", result, "s", message), 0),
        SD_BUS_SIGNAL_WITH_ARGS("ImagesChanged",
                                SD_BUS_ARGS("a(ss)", names_added, "a(ss)", names_removed, "as", images_added, "as",
                                            images_removed),
                                0),
        SD_BUS_VTABLE_END,
};
