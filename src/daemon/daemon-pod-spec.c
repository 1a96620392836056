/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The readers of the a(sv) property arrays clients send to peapodd:
 * CreatePod's pod properties and the app properties of CreatePod and
 * AddApp. Every name, type, list length and value is checked here; the
 * handlers get plain structs (fuzz-bus-properties, test-daemon-pod-spec). */
#include <stdio.h>
#include <unistd.h>

#include "daemon.h"
#include "log.h"
#include "string-util.h"
#include "strv.h"

#define APP_LIST_MAX 64
#define POD_LIST_MAX 64

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

static int read_property_strv(sd_bus_message *m, const char *name, const char *contents, size_t max, char ***ret,
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
        if (strv_length(*ret) > max)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s is too long (at most %zu)", name,
                                         max);
        return sd_bus_message_exit_container(m);
}

static int read_property_simple(sd_bus_message *m, const char *name, const char *contents, char type, void *ret,
                                sd_bus_error *error) {
        char sig[2] = { type, 0 };

        if (!streq(contents, sig))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s must be %s", name, sig);
        return sd_bus_message_read(m, "v", sig, ret);
}

static int read_volumes_property(sd_bus_message *m, const char *contents, Volume **volumes, size_t *n_volumes,
                                 sd_bus_error *error);

int bus_read_properties(sd_bus_message *m, BusPropertyReader read_one, void *userdata, sd_bus_error *error) {
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
                r = read_one(m, name, contents, userdata, error);
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

/* App property Devices a(sss): (host node, path in the app's /dev,
 * permissions); checked by pod_new() (app_devices_copy()). */
static int read_devices_property(sd_bus_message *m, const char *contents, AppSpec *spec, sd_bus_error *error) {
        const char *host, *container, *perms;
        int r;

        if (!streq(contents, "a(sss)"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property Devices must be a(sss)");
        r = sd_bus_message_enter_container(m, 'v', "a(sss)");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(sss)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(sss)", &host, &container, &perms)) > 0) {
                AppDevice *n;

                if (spec->n_devices >= APP_DEVICES_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many devices (at most %d)",
                                                 APP_DEVICES_MAX);
                n = reallocarray(spec->devices, spec->n_devices + 1, sizeof(AppDevice));
                if (!n)
                        return -ENOMEM;
                spec->devices = n;
                n[spec->n_devices++] = (AppDevice) { .host = strdup(host), .container = strdup(container),
                                                     .permissions = strdup(perms) };
                if (!n[spec->n_devices - 1].host || !n[spec->n_devices - 1].container ||
                    !n[spec->n_devices - 1].permissions)
                        return -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

/* App property Mounts a(ss): (volume, target); checked by pod_new() and
 * pod_set_volumes(). */
static int read_mounts_property(sd_bus_message *m, const char *contents, AppSpec *spec, sd_bus_error *error) {
        const char *volume, *target;
        int r;

        if (!streq(contents, "a(ss)"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property Mounts must be a(ss)");
        r = sd_bus_message_enter_container(m, 'v', "a(ss)");
        if (r >= 0)
                r = sd_bus_message_enter_container(m, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(m, "(ss)", &volume, &target)) > 0) {
                AppMount *n;

                if (spec->n_mounts >= APP_MOUNTS_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many mounts (at most %d)",
                                                 APP_MOUNTS_MAX);
                n = reallocarray(spec->mounts, spec->n_mounts + 1, sizeof(AppMount));
                if (!n)
                        return -ENOMEM;
                spec->mounts = n;
                n[spec->n_mounts] = (AppMount) { .volume = strdup(volume), .target = strdup(target) };
                spec->n_mounts++;
                if (!n[spec->n_mounts - 1].volume || !n[spec->n_mounts - 1].target)
                        return -ENOMEM;
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        if (r >= 0)
                r = sd_bus_message_exit_container(m);
        return r;
}

/* The isolation properties of an app (see org.peapod1(5)); 1 when name was
 * one of them. Values are checked by pod_new(), not here.
 * Long because it is one flat dispatch on the property names, one short
 * branch each, read best as the list org.peapod1(5) documents. */
static int read_app_isolation_property(sd_bus_message *m, const char *name, const char *contents, AppSpec *spec,
                                       sd_bus_error *error) {
        int b = 0, r;

        if (streq(name, "User"))
                r = read_property_string(m, name, contents, &spec->user, error);
        else if (streq(name, "Group"))
                r = read_property_string(m, name, contents, &spec->group, error);
        else if (streq(name, "Seccomp"))
                r = read_property_string(m, name, contents, &spec->seccomp, error);
        else if (streq(name, "PIDNamespace"))
                r = read_property_string(m, name, contents, &spec->pid_namespace, error);
        else if (streq(name, "IPCNamespace"))
                r = read_property_string(m, name, contents, &spec->ipc_namespace, error);
        else if (streq(name, "Restart"))
                r = read_property_string(m, name, contents, &spec->restart, error);
        else if (streq(name, "SupplementaryGroups"))
                r = read_property_strv(m, name, contents, APP_LIST_MAX, &spec->supplementary_groups, error);
        else if (streq(name, "CapabilitiesRetain"))
                r = read_property_strv(m, name, contents, APP_LIST_MAX, &spec->caps_retain, error);
        else if (streq(name, "CapabilitiesRemove"))
                r = read_property_strv(m, name, contents, APP_LIST_MAX, &spec->caps_remove, error);
        else if (streq(name, "MaskedPaths"))
                r = read_property_strv(m, name, contents, APP_LIST_MAX, &spec->masked_paths, error);
        else if (streq(name, "ReadOnlyPaths"))
                r = read_property_strv(m, name, contents, APP_LIST_MAX, &spec->readonly_paths, error);
        else if (streq(name, "NoNewPrivileges")) {
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->allow_new_privs = !b;
        } else if (streq(name, "ReadOnlyRootfs")) {
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->readonly_rootfs = b;
        } else if (streq(name, "Stdin")) {
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->stdin_open = b;
        } else if (streq(name, "StdinOnce")) {
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->stdin_once = b;
        } else if (streq(name, "Tty")) {
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->tty = b;
        } else if (streq(name, "Privileged")) {
                /* The handler asks polkit for org.peapod1.run-privileged. */
                r = read_property_simple(m, name, contents, 'b', &b, error);
                spec->privileged = b;
        } else if (streq(name, "CPUQuotaPerSecUSec"))
                r = read_property_simple(m, name, contents, 't', &spec->cpu_quota_usec, error);
        else if (streq(name, "CPUShares"))
                r = read_property_simple(m, name, contents, 't', &spec->cpu_shares, error);
        else if (streq(name, "MemoryMax"))
                r = read_property_simple(m, name, contents, 't', &spec->memory_max, error);
        else if (streq(name, "TasksMax"))
                r = read_property_simple(m, name, contents, 't', &spec->tasks_max, error);
        else if (streq(name, "Mounts"))
                r = read_mounts_property(m, contents, spec, error);
        else if (streq(name, "Devices"))
                r = read_devices_property(m, contents, spec, error);
        else if (streq(name, "Annotations"))
                r = bus_read_annotations(m, contents, &spec->annotations, error);
        else if (streq(name, "Volumes"))
                r = read_volumes_property(m, contents, &spec->volumes, &spec->n_volumes, error);
        else
                return 0;
        return r < 0 ? r : 1;
}

/* Pod property Volumes a(sssbt): (name, kind, source, read-only, size);
 * checked by pod_set_volumes(). Replaces what an earlier one gave. */
static int read_volumes_property(sd_bus_message *m, const char *contents, Volume **volumes, size_t *n_volumes,
                                 sd_bus_error *error) {
        const char *vname, *kind, *source;
        uint64_t size;
        int ro, r;

        if (!streq(contents, "a(sssbt)"))
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property Volumes must be a(sssbt)");
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

/* VolumePropagation a{ss}: (volume, private, rslave or rshared) of the
 * volumes given in the same property array; volume_validate() judges the
 * result. */
static int bus_apply_volume_propagation(Volume *volumes, size_t n_volumes, char * const *pairs, sd_bus_error *error) {
        PeapodError perr = PEAPOD_ERROR_NULL;
        int r;

        r = volumes_set_propagation(volumes, n_volumes, pairs, &perr);
        if (r < 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "%s", perr.message);
        return 0;
}

/* What the app reader fills: the spec, and VolumePropagation until all
 * is read (it names volumes of the same array, in any order). */
typedef struct AppSpecReader {
        AppSpec *spec;
        char **volume_propagation;
} AppSpecReader;

/* One app property (a BusPropertyReader): the command and its environment
 * here, the rest in read_app_isolation_property(). */
static int read_app_property(sd_bus_message *m, const char *name, const char *contents, void *userdata,
                             sd_bus_error *error) {
        AppSpecReader *reader = userdata;
        AppSpec *spec = reader->spec;
        int r;

        if (streq(name, "Exec"))
                r = read_property_strv(m, name, contents, APP_ARGV_MAX, &spec->exec, error);
        else if (streq(name, "Args"))
                r = read_property_strv(m, name, contents, APP_ARGV_MAX, &spec->args, error);
        else if (streq(name, "Environment"))
                r = read_property_strv(m, name, contents, APP_ENV_MAX, &spec->env, error);
        else if (streq(name, "WorkingDirectory"))
                r = read_property_string(m, name, contents, &spec->workdir, error);
        else if (streq(name, "VolumePropagation"))
                r = bus_read_annotations(m, contents, &reader->volume_propagation, error);
        else {
                r = read_app_isolation_property(m, name, contents, spec, error);
                if (r == 0)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown app property %s", name);
        }
        return r;
}

int bus_read_app_spec(sd_bus_message *m, AppSpec *spec, sd_bus_error *error) {
        _cleanup_strv_free_ char **volume_propagation = NULL;
        AppSpecReader reader = { .spec = spec };
        int r;

        r = bus_read_properties(m, read_app_property, &reader, error);
        volume_propagation = reader.volume_propagation;
        if (r < 0)
                return r;
        r = bus_apply_volume_propagation(spec->volumes, spec->n_volumes, reader.volume_propagation, error);
        if (r < 0)
                return r;
        if (spec->exec && strv_length(spec->exec) == 0)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "App has an empty command");
        return 0;
}

int bus_read_named_app_spec(sd_bus_message *m, AppSpec *spec, sd_bus_error *error) {
        const char *name, *image;
        int r;

        r = sd_bus_message_read(m, "ss", &name, &image);
        if (r < 0)
                return r;
        spec->name = strdup(name);
        spec->image = strdup(image);
        if (!spec->name || !spec->image)
                return -ENOMEM;
        return bus_read_app_spec(m, spec, error);
}

void pod_properties_done(PodProperties *p) {
        free(p->stage1);
        strv_free(p->networks);
        strv_free(p->dns);
        strv_free(p->dns_search);
        strv_free(p->dns_options);
        strv_free(p->sysctls);
        free(p->hostname);
        for (size_t i = 0; i < p->n_ports; i++)
                pod_port_done(&p->ports[i]);
        free(p->ports);
        for (size_t i = 0; i < p->n_volumes; i++)
                volume_done(&p->volumes[i]);
        p->volumes = mfree(p->volumes);
        p->n_volumes = 0;
        strv_free(p->annotations);
        p->annotations = NULL;
        strv_free(p->volume_propagation);
        p->volume_propagation = NULL;
}

int bus_read_annotations(sd_bus_message *m, const char *contents, char ***ret, sd_bus_error *error) {
        _cleanup_strv_free_ char **l = NULL;
        const char *k, *v;
        size_t n = 0;
        int r;

        if (!streq(contents, "a{ss}"))
                return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "Property Annotations must be a{ss}");
        r = sd_bus_message_enter_container(m, 'v', "a{ss}");
        if (r < 0)
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_read(m, "{ss}", &k, &v)) > 0) {
                /* Bounded here already, so that a huge message costs no copies. */
                if (++n > ANNOTATIONS_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many annotations (at most %d)",
                                                 ANNOTATIONS_MAX);
                r = strv_extend(&l, k);
                if (r < 0)
                        return r;
                r = strv_extend(&l, v);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        strv_free(*ret);
        *ret = l ? TAKE_PTR(l) : calloc(1, sizeof(char *));
        return *ret ? 0 : -ENOMEM;
}

int bus_append_annotations(sd_bus_message *m, char * const *pairs) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "{ss}");
        if (r < 0)
                return r;
        for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2) {
                r = sd_bus_message_append(m, "{ss}", pairs[i], pairs[i + 1]);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
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

/* The reader of CreatePod's pod properties, with the daemon for the
 * stage1 check. */
typedef struct PodPropertiesReader {
        Daemon *daemon;
        PodProperties *props;
} PodPropertiesReader;

/* One pod property (a BusPropertyReader): one flat dispatch on the names,
 * one short branch each, as org.peapod1(5) lists them. */
static int read_pod_property(sd_bus_message *m, const char *name, const char *contents, void *userdata,
                             sd_bus_error *error) {
        PodPropertiesReader *reader = userdata;
        PodProperties *props = reader->props;
        int r;

        if (streq(name, "StopWhenAppsExit")) {
                int b = 0;

                r = read_property_simple(m, name, contents, 'b', &b, error);
                props->stop_when_apps_exit = b;
        } else if (streq(name, "CPUAccounting")) {
                int b = 0;

                r = read_property_simple(m, name, contents, 'b', &b, error);
                props->cpu_accounting = b;
        } else if (streq(name, "Networks"))
                r = read_property_strv(m, name, contents, POD_LIST_MAX, &props->networks, error);
        else if (streq(name, "DNS"))
                r = read_property_strv(m, name, contents, POD_LIST_MAX, &props->dns, error);
        else if (streq(name, "DNSSearch"))
                r = read_property_strv(m, name, contents, POD_LIST_MAX, &props->dns_search, error);
        else if (streq(name, "DNSOptions"))
                r = read_property_strv(m, name, contents, POD_LIST_MAX, &props->dns_options, error);
        else if (streq(name, "Ports")) {
                if (!streq(contents, "a(ssqq)"))
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Property %s must be a(ssqq)", name);
                r = read_pod_ports(m, props, error);
        } else if (streq(name, "Hostname"))
                r = read_property_string(m, name, contents, &props->hostname, error);
        else if (streq(name, "Stage1")) {
                r = read_property_string(m, name, contents, &props->stage1, error);
                if (r >= 0)
                        r = stage1_check(reader->daemon, props->stage1, error);
                /* "default" is the flavour a pod without one gets */
                if (r >= 0 && streq(props->stage1, "default"))
                        props->stage1 = mfree(props->stage1);
        } else if (streq(name, "Volumes"))
                r = read_volumes_property(m, contents, &props->volumes, &props->n_volumes, error);
        else if (streq(name, "Annotations"))
                r = bus_read_annotations(m, contents, &props->annotations, error);
        else if (streq(name, "Sysctls"))
                /* a{ss} like Annotations; pod_set_sysctls() checks each. */
                r = bus_read_annotations(m, contents, &props->sysctls, error);
        else if (streq(name, "VolumePropagation"))
                r = bus_read_annotations(m, contents, &props->volume_propagation, error);
        else
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown pod property %s", name);
        return r;
}

int bus_read_pod_properties(Daemon *d, sd_bus_message *m, PodProperties *props, sd_bus_error *error) {
        PodPropertiesReader reader = { .daemon = d, .props = props };
        int r;

        r = bus_read_properties(m, read_pod_property, &reader, error);
        if (r < 0)
                return r;
        return bus_apply_volume_propagation(props->volumes, props->n_volumes, props->volume_propagation, error);
}
