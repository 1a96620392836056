/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "daemon-trust.h"
#include "crash-point.h"
#include "daemon.h"
#include "fs-util.h"
#include "log.h"
#include "pod-create.h"
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

/* CreatePod's arguments as read: the spec borrows from the message and
 * from props and apps, which own what the a(sv) readers made. */
typedef struct CreatePodArgs {
        PodProperties props;
        AppSpec apps[POD_APPS_MAX];
        PodCreateSpec spec;
} CreatePodArgs;

static CreatePodArgs *create_pod_args_free(CreatePodArgs *a) {
        if (!a)
                return NULL;
        pod_properties_done(&a->props);
        for (size_t i = 0; i < POD_APPS_MAX; i++)
                app_spec_done(&a->apps[i]);
        return mfree(a);
}
DEFINE_TRIVIAL_CLEANUP_FUNC(CreatePodArgs *, create_pod_args_free);

/* CreatePod's apps, a(ssa(sv)), into a->apps. */
static int bus_read_create_pod_apps(sd_bus_message *m, CreatePodArgs *a, size_t *ret_n, sd_bus_error *error) {
        size_t n = 0;
        int r;

        r = sd_bus_message_enter_container(m, 'a', "(ssa(sv))");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'r', "ssa(sv)")) > 0) {
                if (n >= POD_APPS_MAX)
                        return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Too many apps (at most %d)",
                                                 POD_APPS_MAX);
                r = bus_read_named_app_spec(m, &a->apps[n], error);
                n++;
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        *ret_n = n;
        return sd_bus_message_exit_container(m);
}

/* CreatePod's (s name, a(sv) properties, a(ssa(sv)) apps) into a spec for
 * pod_create(), which checks it. */
static int bus_read_create_pod(Daemon *d, sd_bus_message *m, CreatePodArgs **ret, sd_bus_error *error) {
        _cleanup_(create_pod_args_freep) CreatePodArgs *a = NULL;
        const char *name;
        size_t n_apps = 0;
        int r;

        a = calloc(1, sizeof(CreatePodArgs));
        if (!a)
                return -ENOMEM;
        a->props.stop_when_apps_exit = true;
        r = sd_bus_message_read(m, "s", &name);
        if (r < 0)
                return r;
        r = bus_read_pod_properties(d, m, &a->props, error);
        if (r < 0)
                return r;
        r = bus_read_create_pod_apps(m, a, &n_apps, error);
        if (r < 0)
                return r;
        a->spec = (PodCreateSpec) {
                .name = name,
                .stop_when_apps_exit = a->props.stop_when_apps_exit,
                .cpu_accounting = a->props.cpu_accounting,
                .stage1 = a->props.stage1,
                .apps = a->apps,
                .n_apps = n_apps,
                .volumes = a->props.volumes,
                .n_volumes = a->props.n_volumes,
                .annotations = a->props.annotations,
                .sysctls = a->props.sysctls,
                .network = {
                        .networks = a->props.networks,
                        .ports = a->props.ports,
                        .n_ports = a->props.n_ports,
                        .dns = a->props.dns,
                        .dns_search = a->props.dns_search,
                        .dns_options = a->props.dns_options,
                        .hostname = a->props.hostname,
                },
        };
        *ret = TAKE_PTR(a);
        return 0;
}

/* pod_create(), then the pod exists: on disk (its durable copy on the
 * way: CreatePod answers when it is there), in d and on the bus. */
static int daemon_create_pod(Daemon *d, const PodCreateSpec *spec, Pod **ret, PeapodError *err) {
        _cleanup_(pod_freep) Pod *p = NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = pod_create(&d->runtime, d->images_dir, d->pods, d->n_pods, spec, &p, err);
        if (r < 0)
                return r;
        r = pod_runtime_save(&d->runtime, p);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to save pod %s: %s", p->name, strerror(-r));
        crash_point("create-saved");
        r = pod_object_path(p, &path);
        if (r < 0)
                return r;
        r = daemon_add_pod(d, p);
        if (r < 0)
                return r;
        log_info("Created pod %s (%s).", p->name, p->id);
        (void) sd_bus_emit_signal(d->bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PodNew", "so", p->id, path);
        (void) sd_bus_emit_object_added(d->bus, path);
        *ret = TAKE_PTR(p);
        return 0;
}

typedef struct CreatedReply {
        sd_bus_message *call;
        char *path;
} CreatedReply;

static void reply_created(Daemon *d, int r, void *userdata) {
        CreatedReply *c = userdata;

        (void) sd_bus_reply_method_return(c->call, "o", c->path);
        sd_bus_message_unref(c->call);
        free(c->path);
        free(c);
}

/* Answered once pod.json is on disk (daemon-durable.c): a pod that
 * CreatePod said exists, exists after a power loss. */
static int reply_when_durable(Daemon *d, sd_bus_message *call, char *path) {
        CreatedReply *c;
        int r;

        c = calloc(1, sizeof(CreatedReply));
        if (!c) {
                free(path);
                return -ENOMEM;
        }
        *c = (CreatedReply) { .call = sd_bus_message_ref(call), .path = path };
        r = daemon_durable_barrier(d, reply_created, c, NULL);
        if (r < 0) {
                sd_bus_message_unref(c->call);
                free(c->path);
                free(c);
        }
        return r < 0 ? r : 1;
}

static int method_create_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(create_pod_args_freep) CreatePodArgs *a = NULL;
        _cleanup_free_ char *path = NULL;
        Daemon *d = userdata;
        PeapodError perr = {};
        Pod *p = NULL;
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = bus_read_create_pod(d, m, &a, error);
        if (r < 0)
                return r;
        r = bus_verify_privileged(d, m, app_specs_privileged(a->spec.apps, a->spec.n_apps), error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        r = daemon_create_pod(d, &a->spec, &p, &perr);
        if (r == -EINVAL && !isempty(a->spec.name) && !pod_name_is_valid(a->spec.name))
                return sd_bus_error_setf(error, BUS_ERROR_INVALID_NAME, "%s", perr.message);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_POD, r, perr.message, "Failed to create pod");
        r = pod_object_path(p, &path);
        if (r < 0)
                return r;
        return reply_when_durable(d, m, TAKE_PTR(path));
}

int bus_pod_start_error(sd_bus_error *error, const Pod *p, int r, const PeapodError *perr) {
        if (r == -EEXIST)
                return sd_bus_error_setf(error, BUS_ERROR_POD_EXISTS, "%s", perr->message);
        return sd_bus_error_set_errnof(error, r, "Failed to start pod %s: %s", p ? p->name : "?",
                                       perr->message[0] ? perr->message : strerror(-r));
}

int bus_pod_start(Daemon *d, Pod *p, const AppStdin *in, sd_bus_message *m, sd_bus_error *error) {
        PeapodError perr = {};
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        /* After the operation in flight, against the pod as it is then. */
        if (daemon_pod_busy(d, p))
                return daemon_pod_enqueue(d, p, m, QUEUE_START, 0);
        r = pod_start_check(p, d->pods, d->n_pods, in, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_POD, r, perr.message, "Failed to start pod");
        /* A DEL owed since its stop runs first, without holding the loop;
         * then this call is dispatched again. */
        if (p->state == POD_EXITED && pod_network_owed(&d->runtime, p)) {
                r = daemon_pod_owed_teardown(d, p, m, QUEUE_START, 0);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to delete the networks of pod %s: %m", p->name);
                return 1;
        }
        trace_point("start-call");
        /* Answered when the pod runs (or failed); the loop serves others
         * meanwhile (daemon-start.c). */
        r = daemon_pod_start(d, p, m, in, &perr);
        if (r < 0) {
                log_warning_errno(r, "Failed to start pod %s: %s", p->name, perr.message[0] ? perr.message : strerror(-r));
                return bus_pod_start_error(error, p, r, &perr);
        }
        return 1;
}

int bus_pod_stop(Daemon *d, Pod *p, sd_bus_message *m, sd_bus_error *error) {
        PeapodError perr = {};
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        /* A stop in flight is joined below; a start or a teardown is waited for. */
        if (daemon_pod_busy(d, p) && !daemon_pod_stopping(d, p))
                return daemon_pod_enqueue(d, p, m, QUEUE_STOP, 0);
        r = pod_stop_check(p, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_POD, r, perr.message, "Failed to stop pod");
        /* Answered when the stop has ended; the loop serves others meanwhile. */
        r = daemon_pod_stop(d, p, m, false, 0);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to stop pod %s: %m", p->name);
        return 1;
}

int bus_pod_remove(Daemon *d, Pod *p, uint64_t flags, sd_bus_message *m, sd_bus_error *error) {
        PeapodError perr = {};
        int r;

        r = bus_verify_polkit(d, m, PEAPOD_ACTION_MANAGE_PODS, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1; /* dispatched again with polkit's answer */
        if (flags & ~PEAPOD_REMOVE_POD_FORCE)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        trace_point("remove-call");
        if (daemon_pod_busy(d, p) && !daemon_pod_stopping(d, p))
                return daemon_pod_enqueue(d, p, m, QUEUE_REMOVE, flags);
        r = pod_remove_check(p, flags & PEAPOD_REMOVE_POD_FORCE, &perr);
        if (r < 0)
                return bus_error_from_errno(error, BUS_ERROR_SCOPE_POD, r, perr.message, "Failed to remove pod");
        if (r > 0) {
                /* Removed and answered once the stop has ended. */
                r = daemon_pod_stop(d, p, m, true, flags);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to stop pod %s: %m", p->name);
                return 1;
        }
        /* Answered once its files are deleted. */
        r = bus_pod_remove_stopped(d, p, flags, m, error);
        if (r < 0)
                return r;
        return 1;
}

static void reply_when_deleted(Daemon *d, int r, void *userdata) {
        sd_bus_message *call = userdata;

        trace_point("remove-end");
        /* Files left by a failed deletion belong to no pod any more, and
         * the next start of peapodd deletes them: the removal stands. */
        (void) sd_bus_reply_method_return(call, NULL);
        sd_bus_message_unref(call);
}

int bus_pod_remove_stopped(Daemon *d, Pod *p, uint64_t flags, sd_bus_message *call, sd_bus_error *error) {
        int r;

        /* A DEL owed since its stop runs first, without holding the loop
         * (daemon_pod_owed_teardown(): one that fails keeps the pod, so
         * that nothing leaks silently; force removes it all the same). */
        if (pod_network_owed(&d->runtime, p)) {
                r = daemon_pod_owed_teardown(d, p, call, QUEUE_REMOVE, flags);
                if (r < 0)
                        return sd_bus_error_set_errnof(error, r, "Failed to delete the networks of pod %s: %m", p->name);
                return 0;
        }
        r = daemon_remove_pod(d, p, reply_when_deleted, sd_bus_message_ref(call));
        if (r < 0) {
                sd_bus_message_unref(call);
                return sd_bus_error_set_errnof(error, r, "Failed to remove pod %s: %m", p->name);
        }
        return 0;
}

/* A removed pod's files, deleted once the durable copies asked for
 * before are written. */
typedef struct PodDeletion {
        char *gone;
        PodDeleted deleted;
        void *userdata;
} PodDeletion;

static void pod_deletion_start(Daemon *d, int r, void *userdata) {
        PodDeletion *del = userdata;

        daemon_delete_tree(d, TAKE_PTR(del->gone), del->deleted, del->userdata);
        free(del);
}

static int remove_pod_now(Daemon *d, Pod *p, PodDeleted deleted, void *userdata) {
        _cleanup_free_ char *path = NULL, *name = NULL, *gone = NULL;
        char id[POD_ID_LEN + 1];
        PodDeletion *del;
        int r;

        r = pod_object_path(p, &path);
        if (r < 0)
                return r;
        name = strdup(p->name);
        if (!name)
                return -ENOMEM;
        memcpy(id, p->id, sizeof(id));
        r = pod_remove_detach(&d->runtime, p, &gone);
        if (r < 0)
                return r;
        (void) sd_bus_emit_object_removed(d->bus, path);
        daemon_forget_pod(d, p);
        (void) sd_bus_emit_signal(d->bus, PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, "PodRemoved", "so", id, path);
        log_info("Removed pod %s.", name);

        /* The pod is gone (renamed away, atomically); deleting its files
         * is slow and runs off the loop, once the copies of pod.json asked
         * for before are written (daemon-durable.c), so that none lands in
         * a directory being deleted. */
        del = calloc(1, sizeof(PodDeletion));
        if (del) {
                *del = (PodDeletion) { .gone = TAKE_PTR(gone), .deleted = deleted, .userdata = userdata };
                if (daemon_durable_barrier(d, pod_deletion_start, del, NULL) >= 0)
                        return 0;
                gone = TAKE_PTR(del->gone);
                free(del);
        }
        /* No barrier: deleted without waiting for it, as the last resort. */
        daemon_delete_tree(d, TAKE_PTR(gone), deleted, userdata);
        return 0;
}

typedef struct RemoveAfterDels {
        PodDeleted deleted;
        void *userdata;
} RemoveAfterDels;

/* The DELs a pod owed have ended (daemon_remove_pod()): now the pod. */
static void on_owed_dels_done(Daemon *d, Pod *p, int r, const PeapodError *err, void *userdata) {
        RemoveAfterDels ra = *(RemoveAfterDels *) userdata;

        free(userdata);
        if (!p)
                r = -ESRCH;
        else {
                _cleanup_free_ char *name = strdup(p->name);

                if (r < 0)
                        log_warning_errno(r, "Removing pod %s although its networks could not be deleted: %s", p->name,
                                          err && err->message[0] ? err->message : strerror(-r));
                r = remove_pod_now(d, p, ra.deleted, ra.userdata);
                if (r >= 0)
                        return;
                log_warning_errno(r, "Failed to remove pod %s after deleting its networks: %m", name ?: "?");
        }
        if (ra.deleted)
                ra.deleted(d, r, ra.userdata);
}

int daemon_remove_pod(Daemon *d, Pod *p, PodDeleted deleted, void *userdata) {
        RemoveAfterDels *ra;
        int r;

        /* Never under an operation in flight: it holds the pod. */
        if (daemon_pod_busy(d, p))
                return -EBUSY;
        if (!pod_network_owed(&d->runtime, p))
                return remove_pod_now(d, p, deleted, userdata);
        /* Networks a crash or a failed DEL left behind go first, without
         * holding the loop (pod_remove_detach() runs no plugin). */
        ra = calloc(1, sizeof(RemoveAfterDels));
        if (!ra)
                return -ENOMEM;
        *ra = (RemoveAfterDels) { .deleted = deleted, .userdata = userdata };
        r = daemon_pod_owed_dels(d, p, true, on_owed_dels_done, ra);
        if (r < 0) {
                free(ra);
                return r;
        }
        return 1;
}

static int method_start_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = NULL;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        return bus_pod_start(userdata, p, NULL, m, error);
}

/* StartPodWithStdin's (s pod, h stdin_fd, t flags), read from the start:
 * also for a call that waited in the pod's queue. The fd stays the
 * message's, valid while the call is referenced. */
static int bus_read_start_stdin(sd_bus_message *m, AppStdin *ret, sd_bus_error *error) {
        const char *pod;
        uint64_t flags;
        int fd, r;

        r = sd_bus_message_rewind(m, true);
        if (r >= 0)
                r = sd_bus_message_read(m, "sht", &pod, &fd, &flags);
        if (r < 0)
                return r;
        if (flags & ~PEAPOD_START_POD_TTY)
                return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "Unknown flags 0x%" PRIx64, flags);
        *ret = (AppStdin) { .fd = fd, .tty = flags & PEAPOD_START_POD_TTY };
        return 0;
}

int bus_pod_start_call(Daemon *d, Pod *p, sd_bus_message *m, sd_bus_error *error) {
        AppStdin in;
        int r;

        if (!sd_bus_message_is_method_call(m, PEAPOD_MANAGER_INTERFACE, "StartPodWithStdin"))
                return bus_pod_start(d, p, NULL, m, error);
        r = bus_read_start_stdin(m, &in, error);
        if (r < 0)
                return r;
        return bus_pod_start(d, p, &in, m, error);
}

static int method_start_pod_with_stdin(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = NULL;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        return bus_pod_start_call(userdata, p, m, error);
}

static int method_stop_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Pod *p = NULL;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        return bus_pod_stop(userdata, p, m, error);
}

static int method_remove_pod(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        uint64_t flags;
        Pod *p = NULL;
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
        Pod *p = NULL;
        int r;

        r = bus_read_pod(m, userdata, &p, error);
        if (r < 0)
                return r;
        r = pod_object_path(p, &path);
        if (r < 0)
                return r;
        return sd_bus_reply_method_return(m, "o", path);
}

/* Monitoring clients poll this, and at 1000 pods the reply is ~150 KB:
 * each field is appended as a basic type, with the path on the stack,
 * rather than through sd_bus_message_append()'s format string per pod
 * and an allocated path (measured at 1000 pods: 1.5 -> 0.8 ms). */
static int append_pod_entry(sd_bus_message *reply, const Pod *p) {
        char path[POD_OBJECT_PATH_MAX];
        const char *strings[] = { p->id, p->name, pod_state_to_string(p->state), p->name };
        int r;

        r = sd_bus_message_open_container(reply, 'r', "ssssto");
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(strings); i++) {
                r = sd_bus_message_append_basic(reply, 's', strings[i]);
                if (r < 0)
                        return r;
        }
        r = sd_bus_message_append_basic(reply, 't', &p->created_usec);
        if (r < 0)
                return r;
        r = sd_bus_message_append_basic(reply, 'o', pod_object_path_into(p, path));
        if (r < 0)
                return r;
        return sd_bus_message_close_container(reply);
}

static int method_list_pods(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        Daemon *d = userdata;
        int r;

        daemon_event_touched(d, NULL); /* a read: a busy host's clients poll it */
        r = sd_bus_message_new_method_return(m, &reply);
        if (r < 0)
                return r;
        r = sd_bus_message_open_container(reply, 'a', "(ssssto)");
        if (r < 0)
                return r;
        for (size_t i = 0; i < d->n_pods; i++) {
                r = append_pod_entry(reply, d->pods[i]);
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
