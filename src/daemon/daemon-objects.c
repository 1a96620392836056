/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The objects peapodd serves, once: main() registers them on the system
 * bus, and --bus-introspect asks sd-bus itself what it would tell a client
 * about them, so that the published interface files (dbus/) are the very
 * XML a client gets, not a second description of the vtables. */
#include <stdio.h>
#include <sys/socket.h>

#include "daemon-job.h"
#include "daemon.h"
#include "string-util.h"

typedef struct DaemonObject {
        /* The object's path, or for per-object interfaces the prefix below
         * which find() looks objects up and enumerator() lists them. */
        const char *path;
        const char *interface;
        const sd_bus_vtable *vtable;
        sd_bus_object_find_t find;
        sd_bus_node_enumerator_t enumerator;
} DaemonObject;

static const DaemonObject daemon_objects[] = {
        { PEAPOD_ROOT_PATH, PEAPOD_MANAGER_INTERFACE, manager_vtable, NULL, NULL },
        { PEAPOD_POD_PATH_PREFIX, PEAPOD_POD_INTERFACE, pod_vtable, pod_object_find, pod_node_enumerator },
        { PEAPOD_IMAGE_PATH_PREFIX, PEAPOD_IMAGE_INTERFACE, image_vtable, image_object_find, image_node_enumerator },
        { PEAPOD_JOB_PATH_PREFIX, PEAPOD_JOB_INTERFACE, job_vtable, job_object_find, job_node_enumerator },
};

int daemon_add_objects(sd_bus *bus, Daemon *d) {
        int r;

        r = sd_bus_add_object_manager(bus, NULL, PEAPOD_ROOT_PATH);
        for (size_t i = 0; i < ELEMENTSOF(daemon_objects) && r >= 0; i++) {
                const DaemonObject *o = &daemon_objects[i];

                if (!o->find) {
                        r = sd_bus_add_object_vtable(bus, NULL, o->path, o->interface, o->vtable, d);
                        continue;
                }
                r = sd_bus_add_fallback_vtable(bus, NULL, o->path, o->interface, o->vtable, o->find, d);
                if (r >= 0)
                        r = sd_bus_add_node_enumerator(bus, NULL, o->path, o->enumerator, d);
        }
        return r;
}

/* A path that shows o's interface: a per-object interface needs an object
 * below its prefix. */
static int object_sample_path(const DaemonObject *o, char **ret) {
        if (!o->find)
                return (*ret = strdup(o->path)) ? 0 : -ENOMEM;
        return asprintf(ret, "%s/_", o->path) < 0 ? -ENOMEM : 0;
}

typedef struct IntrospectCall {
        sd_bus_message *reply;
        int error;
} IntrospectCall;

static int on_introspect_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        IntrospectCall *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);

        if (e)
                c->error = -sd_bus_error_get_errno(e) ?: -EIO;
        else
                c->reply = sd_bus_message_ref(reply);
        return sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(reply)), 0);
}

/* Asks sd-bus for the introspection of path over a private connection to
 * a server that holds only the vtable of o (their getters never run: no
 * property is read). Both ends live in this process and one event loop. */
static int introspect_object(const DaemonObject *o, char **ret_xml) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *server = NULL, *client = NULL;
        _cleanup_(sd_event_unrefp) sd_event *event = NULL;
        _cleanup_free_ char *path = NULL;
        IntrospectCall call = {};
        const char *xml;
        _cleanup_close_ int fd_server = -EBADF, fd_client = -EBADF;
        sd_id128_t id;
        int fds[2], r;

        r = object_sample_path(o, &path);
        if (r < 0)
                return r;
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) < 0)
                return -errno;
        fd_server = fds[0];
        fd_client = fds[1];
        r = sd_bus_new(&server);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(server, fd_server, fd_server);
        if (r < 0)
                return r;
        TAKE_FD(fd_server);
        r = sd_bus_new(&client);
        if (r < 0)
                return r;
        r = sd_bus_set_fd(client, fd_client, fd_client);
        if (r < 0)
                return r;
        TAKE_FD(fd_client);

        r = sd_id128_randomize(&id);
        if (r >= 0)
                r = sd_bus_set_server(server, true, id);
        if (r >= 0)
                r = sd_bus_add_object_vtable(server, NULL, path, o->interface, o->vtable, NULL);
        if (r >= 0)
                r = sd_event_new(&event);
        if (r >= 0)
                r = sd_bus_attach_event(server, event, 0);
        if (r >= 0)
                r = sd_bus_attach_event(client, event, 0);
        if (r >= 0)
                r = sd_bus_start(server);
        if (r >= 0)
                r = sd_bus_start(client);
        if (r >= 0)
                r = sd_bus_call_method_async(client, NULL, NULL, path, "org.freedesktop.DBus.Introspectable",
                                             "Introspect", on_introspect_reply, &call, NULL);
        if (r >= 0)
                r = sd_event_loop(event);
        if (r >= 0 && call.error < 0)
                r = call.error;
        if (r >= 0 && !call.reply)
                r = -EIO;
        if (r >= 0)
                r = sd_bus_message_read(call.reply, "s", &xml);
        if (r >= 0)
                r = (*ret_xml = strdup(xml)) ? 0 : -ENOMEM;
        sd_bus_message_unref(call.reply);
        return r;
}

/* Writes what of xml (one object's introspection as sd-bus writes it: a
 * DOCTYPE, <node>, one " <interface name=...>" ... " </interface>" block
 * per interface, " <node name=.../>" per child, </node>) belongs to a
 * document of interface alone: everything before the first interface
 * (header == true) or that interface's block. */
static int write_interface(FILE *f, const char *xml, const char *interface, bool header) {
        _cleanup_free_ char *open_tag = NULL;
        bool inside = false, found = false;

        if (asprintf(&open_tag, " <interface name=\"%s\">", interface) < 0)
                return -ENOMEM;
        for (const char *p = xml; *p;) {
                const char *eol = strchrnul(p, '\n');
                size_t n = eol - p;

                if (!inside && n == strlen(open_tag) && strncmp(p, open_tag, n) == 0)
                        inside = found = true;
                if (startswith(p, " <interface "))
                        header = false;
                if (inside || header)
                        fprintf(f, "%.*s\n", (int) n, p);
                if (inside && n == strlen(" </interface>") && strncmp(p, " </interface>", n) == 0)
                        inside = false;
                p = *eol ? eol + 1 : eol;
        }
        return found ? 0 : -ENOENT;
}

int daemon_bus_introspect(FILE *f, const char *interface) {
        bool any = false;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(daemon_objects); i++) {
                const DaemonObject *o = &daemon_objects[i];
                _cleanup_free_ char *xml = NULL;

                if (interface && !streq(interface, o->interface))
                        continue;
                r = introspect_object(o, &xml);
                if (r < 0)
                        return r;
                r = write_interface(f, xml, o->interface, !any);
                if (r < 0)
                        return r;
                any = true;
        }
        if (!any)
                return -ENXIO;
        fputs("</node>\n", f);
        return fflush(f) == 0 ? 0 : -errno;
}

void daemon_bus_interfaces(FILE *f) {
        for (size_t i = 0; i < ELEMENTSOF(daemon_objects); i++)
                fprintf(f, "%s%s", i > 0 ? ", " : "", daemon_objects[i].interface);
}
