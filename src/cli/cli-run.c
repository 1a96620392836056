/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "bus-util.h"
#include "cli.h"
#include "name.h"
#include "pod-network.h"
#include "string-util.h"
#include "strv.h"

static int append_app_isolation(sd_bus_message *m, const AppSpec *app) {
        const struct {
                const char *name, *value;
        } strings[] = {
                { "User", app->user },
                { "Group", app->group },
                { "Seccomp", app->seccomp },
                { "PIDNamespace", app->pid_namespace },
                { "IPCNamespace", app->ipc_namespace },
                { "Restart", app->restart },
        };
        const struct {
                const char *name;
                char **value;
        } lists[] = {
                { "SupplementaryGroups", app->supplementary_groups },
                { "CapabilitiesRetain", app->caps_retain },
                { "CapabilitiesRemove", app->caps_remove },
                { "MaskedPaths", app->masked_paths },
                { "ReadOnlyPaths", app->readonly_paths },
        };
        const struct {
                const char *name;
                uint64_t value;
        } limits[] = {
                { "CPUQuotaPerSecUSec", app->cpu_quota_usec },
                { "CPUShares", app->cpu_shares },
                { "MemoryMax", app->memory_max },
                { "TasksMax", app->tasks_max },
        };
        int r;

        for (size_t i = 0; i < ELEMENTSOF(strings); i++)
                if (strings[i].value && (r = bus_append_property_s(m, strings[i].name, strings[i].value)) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                if (lists[i].value && (r = bus_append_property_as(m, lists[i].name, lists[i].value)) < 0)
                        return r;
        for (size_t i = 0; i < ELEMENTSOF(limits); i++)
                if (limits[i].value > 0 && (r = bus_append_property_t(m, limits[i].name, limits[i].value)) < 0)
                        return r;
        /* Only when it differs from peapodd's default (no_new_privs set). */
        if (app->allow_new_privs && (r = bus_append_property_b(m, "NoNewPrivileges", false)) < 0)
                return r;
        if (app->readonly_rootfs && (r = bus_append_property_b(m, "ReadOnlyRootfs", true)) < 0)
                return r;
        if (app->privileged && (r = bus_append_property_b(m, "Privileged", true)) < 0)
                return r;
        if (app->n_mounts > 0) {
                r = bus_open_array_property(m, "Mounts", "(ss)");
                for (size_t i = 0; i < app->n_mounts && r >= 0; i++)
                        r = sd_bus_message_append(m, "(ss)", app->mounts[i].volume, app->mounts[i].target);
                if (r >= 0)
                        r = bus_close_array_property(m);
                if (r < 0)
                        return r;
        }
        if (app->n_devices > 0) {
                r = sd_bus_message_open_container(m, 'r', "sv");
                if (r >= 0)
                        r = sd_bus_message_append(m, "s", "Devices");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'v', "a(sss)");
                if (r >= 0)
                        r = sd_bus_message_open_container(m, 'a', "(sss)");
                for (size_t i = 0; i < app->n_devices && r >= 0; i++)
                        r = sd_bus_message_append(m, "(sss)", app->devices[i].host, app->devices[i].container,
                                                  app->devices[i].permissions);
                for (int k = 0; k < 3 && r >= 0; k++)
                        r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The pod properties Volumes a(sssbt) and VolumePropagation, only when
 * there are any. */
int cli_append_volumes_property(sd_bus_message *m, const Volume *volumes, size_t n_volumes) {
        bool opened = false;
        int r;

        if (n_volumes == 0)
                return 0;
        r = bus_open_array_property(m, "Volumes", "(sssbt)");
        for (size_t i = 0; i < n_volumes && r >= 0; i++)
                r = sd_bus_message_append(m, "(sssbt)", volumes[i].name, volume_kind_to_string(volumes[i].kind),
                                          strempty(volumes[i].source), volumes[i].read_only, volumes[i].size);
        if (r >= 0)
                r = bus_close_array_property(m);
        if (r < 0)
                return r;
        /* VolumePropagation a{ss}: only the volumes that ask for more than
         * private, so a pod without any talks to an older peapodd. */
        for (size_t i = 0; i < n_volumes; i++) {
                if (volumes[i].propagation == VOLUME_PROPAGATION_PRIVATE)
                        continue;
                if (!opened) {
                        r = bus_open_array_property(m, "VolumePropagation", "{ss}");
                        if (r < 0)
                                return r;
                        opened = true;
                }
                r = sd_bus_message_append(m, "{ss}", volumes[i].name,
                                          volume_propagation_to_string(volumes[i].propagation));
                if (r < 0)
                        return r;
        }
        return opened ? bus_close_array_property(m) : 0;
}

int cli_append_app_properties(sd_bus_message *m, const AppSpec *app) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        if (app->exec) {
                r = bus_append_property_as(m, "Exec", app->exec);
                if (r < 0)
                        return r;
        }
        if (app->args) {
                r = bus_append_property_as(m, "Args", app->args);
                if (r < 0)
                        return r;
        }
        if (app->env) {
                r = bus_append_property_as(m, "Environment", app->env);
                if (r < 0)
                        return r;
        }
        if (app->workdir) {
                r = bus_append_property_s(m, "WorkingDirectory", app->workdir);
                if (r < 0)
                        return r;
        }
        r = append_app_isolation(m, app);
        if (r < 0)
                return r;
        return sd_bus_message_close_container(m);
}

static int append_apps(sd_bus_message *m, const RunArgs *a) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(ssa(sv))");
        if (r < 0)
                return r;
        for (size_t i = 0; i < a->n_apps; i++) {
                const AppSpec *app = &a->apps[i];

                r = sd_bus_message_open_container(m, 'r', "ssa(sv)");
                if (r < 0)
                        return r;
                r = sd_bus_message_append(m, "ss", strempty(app->name), app->image);
                if (r < 0)
                        return r;
                r = cli_append_app_properties(m, app);
                if (r < 0)
                        return r;
                r = sd_bus_message_close_container(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

int cli_append_pod_properties(sd_bus_message *m, const RunArgs *a, bool keep_running) {
        int r;

        r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r < 0)
                return r;
        /* An empty pod waits for its apps instead of ending at once. */
        if (keep_running && (r = bus_append_property_b(m, "StopWhenAppsExit", false)) < 0)
                return r;
        if (a->stage1 && (r = bus_append_property_s(m, "Stage1", a->stage1)) < 0)
                return r;
        if (a->networks && (r = bus_append_property_as(m, "Networks", a->networks)) < 0)
                return r;
        if (a->dns && (r = bus_append_property_as(m, "DNS", a->dns)) < 0)
                return r;
        if (a->dns_search && (r = bus_append_property_as(m, "DNSSearch", a->dns_search)) < 0)
                return r;
        if (a->hostname && (r = bus_append_property_s(m, "Hostname", a->hostname)) < 0)
                return r;
        if ((r = cli_append_volumes_property(m, a->volumes, a->n_volumes)) < 0)
                return r;
        if (a->ports) {
                r = bus_open_array_property(m, "Ports", "(ssqq)");
                FOREACH_STRV(s, a->ports) {
                        PodPort p = {};

                        if (r < 0)
                                break;
                        r = pod_port_parse(s, &p);
                        if (r >= 0)
                                r = sd_bus_message_append(m, "(ssqq)", p.protocol, p.host_ip, p.host_port, p.pod_port);
                        pod_port_done(&p);
                }
                if (r >= 0)
                        r = bus_close_array_property(m);
                if (r < 0)
                        return r;
        }
        return sd_bus_message_close_container(m);
}

static int create_pod(sd_bus *bus, const RunArgs *a, char **ret_id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL, *reply = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        const char *path, *id;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                           "CreatePod");
        if (r < 0)
                return log_error_errno(r, "Failed to create CreatePod call: %m");
        r = sd_bus_message_append(m, "s", strempty(a->name));
        if (r >= 0)
                r = cli_append_pod_properties(m, a, false);
        if (r < 0)
                return log_error_errno(r, "Failed to build CreatePod call: %m");
        r = append_apps(m, a);
        if (r < 0)
                return log_error_errno(r, "Failed to build CreatePod call: %m");
        r = sd_bus_call(bus, m, CLI_SLOW_CALL_USEC, &error, &reply);
        if (r < 0)
                return cli_log_bus_error(&error, r);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return log_error_errno(r, "Failed to parse CreatePod reply: %m");
        id = strrchr(path, '/');
        if (!id || !id_is_valid(id + 1))
                return log_error_errno(EBADMSG, "peapodd returned an unexpected pod path: %s", path);
        *ret_id = strdup(id + 1);
        return *ret_id ? 0 : log_oom();
}

/* Whether ref names a local image only: an id (or id prefix) or a
 * localhost/ name, which no registry has. */
static bool image_is_local_only(const char *ref) {
        size_t n = strspn(ref, "0123456789abcdef");

        return startswith(ref, "sha256:") || startswith(ref, "localhost/") || (n >= 12 && ref[n] == 0);
}

/* A short name that is not here and could not be pulled may be a typo of
 * one that is: say which ("bsybox" -> localhost/busybox:latest). */
static void hint_local_image(sd_bus *bus, const char *ref) {
        _cleanup_strv_free_ char **names = NULL, **full = NULL;
        ImageRow *rows = NULL;
        const char *hit;
        size_t n = 0;

        if (strchr(ref, '/') || strchr(ref, '@') || cli_list_images(bus, &rows, &n) < 0)
                return;
        for (size_t i = 0; i < n; i++)
                FOREACH_STRV(name, rows[i].names) {
                        /* "localhost/busybox:latest" -> "busybox[:latest]" as typed */
                        const char *base = strrchr(name, '/') ? strrchr(name, '/') + 1 : name;
                        _cleanup_free_ char *word = strchr(ref, ':') ? strdup(base) : strndup(base, strcspn(base, ":"));

                        if (!word || strv_extend(&names, word) < 0 || strv_extend(&full, name) < 0) {
                                image_rows_free(rows, n);
                                return;
                        }
                }
        image_rows_free(rows, n);
        hit = closest_word(ref, (const char * const *) names, strv_length(names));
        for (size_t i = 0; hit && names[i]; i++)
                if (names[i] == hit) {
                        log_info("Did you mean the local image %s?", full[i]);
                        break;
                }
}

/* Make the images of the apps present as the policy says; never: CreatePod
 * says which is missing. */
static int pull_images(sd_bus *bus, const RunArgs *a) {
        int r;

        if (a->pull == PULL_NEVER)
                return 0;
        for (size_t i = 0; i < a->n_apps; i++) {
                const char *image = a->apps[i].image;

                if (a->pull == PULL_MISSING) {
                        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

                        r = sd_bus_call_method(bus, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE,
                                               "GetImage", &error, NULL, "s", image);
                        if (r >= 0)
                                continue;
                        if (!sd_bus_error_has_name(&error, BUS_ERROR_NO_SUCH_IMAGE))
                                return cli_log_bus_error(&error, r);
                } else if (image_is_local_only(image))
                        continue;
                /* Two apps of one image: pulled once is enough. */
                bool seen = false;
                for (size_t k = 0; k < i && !seen; k++)
                        seen = streq(a->apps[k].image, image);
                if (seen)
                        continue;
                r = cli_pull_image(bus, image, false, a->insecure_image, NULL);
                if (r < 0) {
                        hint_local_image(bus, image);
                        return r;
                }
        }
        return 0;
}

/* StartPod, or with -i/-t StartPodWithStdin: the first app's stdin is a
 * pipe we feed from ours, or (-t) a pty made for it inside the pod, whose
 * master comes to us over a socket. Never our own stdin itself, which may
 * be our terminal or a file of ours. */
static int start_pod(sd_bus *bus, const RunArgs *a, const char *id, CliRunIo *io) {
        _cleanup_close_ int theirs = -EBADF;

        if (!a->interactive && !a->tty)
                return cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "StartPod", CLI_SLOW_CALL_USEC, NULL, "s",
                                id);
        if (a->tty) {
                int p[2];

                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
                        return log_error_errno(errno, "Failed to make a socket: %m");
                theirs = p[0];
                io->sock = p[1];
                /* Input is relayed only with -i, as podman does with -t alone. */
                if (a->interactive)
                        io->relays[io->n_relays++] = (CliRelay) { .from = &io->std_in, .to = &io->master };
                io->relays[io->n_relays++] = (CliRelay) { .from = &io->master, .to = &io->std_out, .output = true,
                                                           .close_at_end = &io->master };
        } else {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0)
                        return log_error_errno(errno, "Failed to make a pipe: %m");
                theirs = p[0];
                io->in_pipe = p[1];
                /* Our EOF closes the pipe: the app sees its stdin end. */
                io->relays[io->n_relays++] = (CliRelay) { .from = &io->std_in, .to = &io->in_pipe,
                                                           .close_at_end = &io->in_pipe };
        }
        /* A command that closes its stdin early must not kill us through
         * the pipe we relay into. */
        (void) signal(SIGPIPE, SIG_IGN);
        /* The unit holds its own copy once this returns; ours would keep
         * the app's end open after it is gone. */
        return cli_call(bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "StartPodWithStdin", CLI_SLOW_CALL_USEC, NULL,
                        "sht", id, theirs, a->tty ? PEAPOD_START_POD_TTY : UINT64_C(0));
}

static void run_io_done(CliRunIo *io) {
        io->sock = safe_close(io->sock);
        io->master = safe_close(io->master);
        io->in_pipe = safe_close(io->in_pipe);
}

/* --replace: the pod a unit started before (peapod-pod@.service), left by a
 * crash or a killed 'run': this name is ours. */
static int run_remove_replaced(sd_bus *bus, const char *name) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r;

        r = sd_bus_call_method(bus, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemovePod", &error,
                               NULL, "st", name, PEAPOD_REMOVE_POD_FORCE);
        if (r < 0 && !sd_bus_error_has_name(&error, BUS_ERROR_NO_SUCH_POD))
                return cli_log_bus_error(&error, r);
        return 0;
}

/* Start the pod just created, or remove it: 'run' is create and start as
 * one, and a pod that never ran is of no use to whoever asked for it to
 * run. StartPod already undid what it began, so a plain remove does. */
static int run_start_or_remove(sd_bus *bus, const RunArgs *a, const char *id, CliRunIo *io) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        int r, q;

        r = start_pod(bus, a, id, io);
        if (r >= 0)
                return r;
        q = sd_bus_call_method(bus, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemovePod", &error,
                               NULL, "st", id, UINT64_C(0));
        if (q < 0)
                log_warning("Failed to remove pod %s after its failed start, remove it with 'peapod rm %s': %s", id,
                            id, error.message ?: strerror(-q));
        return r;
}

/* In the foreground, like rkt's and podman's run: the apps' output as it
 * comes, then their verdict (the exit status, or < 0); with --rm the pod is
 * removed after. */
static int run_foreground(sd_bus *bus, const RunArgs *a, const char *id, CliRunIo *io) {
        int r, q;

        if (a->tty && a->interactive) {
                /* Keys as bytes for the app's terminal: ^C reaches the app
                 * as podman -it does, not us. */
                r = cli_terminal_make_raw();
                if (r < 0)
                        log_debug_errno(r, "Failed to put the terminal into raw mode: %m");
        }
        if (a->tty)
                cli_pty_watch_resize();
        r = cli_run_follow(bus, id, io->n_relays > 0 ? io : NULL);
        cli_terminal_restore();
        if (r >= 0)
                r = cli_pod_exit_status(bus, id);
        if (a->remove) {
                _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;

                /* Forced: a follow cut short (peapodd gone, an error) may
                 * leave it running. */
                q = sd_bus_call_method(bus, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "RemovePod",
                                       &error, NULL, "st", id, PEAPOD_REMOVE_POD_FORCE);
                if (q < 0)
                        log_warning("Failed to remove pod %s, remove it with 'peapod rm %s': %s", id, id,
                                    error.message ?: strerror(-q));
        }
        return r;
}

int verb_run(int argc, char *argv[]) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(run_args_done) RunArgs a = {};
        _cleanup_free_ char *id = NULL;
        _cleanup_(run_io_done) CliRunIo io = { .std_in = STDIN_FILENO, .std_out = STDOUT_FILENO, .sock = -EBADF,
                                               .master = -EBADF, .in_pipe = -EBADF };
        int r;

        r = run_args_parse(argc, argv, &a);
        if (r < 0)
                return r;
        if (a.help) {
                verb_help("run");
                return 0;
        }
        r = run_args_check_mounts(&a);
        if (r < 0)
                return r;

        r = cli_bus_open(&bus);
        if (r < 0)
                return r;
        r = pull_images(bus, &a);
        if (r < 0)
                return r;
        if (a.replace) {
                r = run_remove_replaced(bus, a.name);
                if (r < 0)
                        return r;
        }
        r = create_pod(bus, &a, &id);
        if (r < 0)
                return r;
        r = run_start_or_remove(bus, &a, id, &io);
        if (r < 0)
                return r;
        /* Under a Type=notify unit (peapod-pod@.service) the unit is up
         * once the pod runs; elsewhere this does nothing. */
        (void) sd_notifyf(false, "READY=1\nSTATUS=Pod %s is running", a.name ?: id);
        if (a.detach) {
                if (!a.quiet)
                        printf("%s\n", id);
                return 0;
        }

        r = run_foreground(bus, &a, id, &io);
        if (r < 0)
                return r;
        cli_exit_status = r;
        return 0;
}
