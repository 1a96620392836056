/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When peapodd announces a pod's changes (daemon_publish_pod_changes()):
 * a change an event marked, after that event; any other change once the
 * events queued behind it are handled (the idle compare of all pods).
 * peapodd's bus is one end of a socket pair, a client the other, both on
 * one event loop run step by step. */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "daemon.h"
#include "tests.h"

static unsigned n_changed;
static char last_changed[64];

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        const char *iface, *name;
        int r;

        if (!sd_bus_message_is_signal(m, "org.freedesktop.DBus.Properties", "PropertiesChanged"))
                return 0;
        ASSERT_OK(sd_bus_message_read(m, "s", &iface));
        ASSERT_STREQ(iface, PEAPOD_POD_INTERFACE);
        /* The first changed or invalidated name is enough here. */
        ASSERT_OK(sd_bus_message_enter_container(m, 'a', "{sv}"));
        r = sd_bus_message_enter_container(m, 'e', "sv");
        ASSERT_OK(r);
        if (r > 0) {
                ASSERT_OK(sd_bus_message_read(m, "s", &name));
                snprintf(last_changed, sizeof(last_changed), "%s", name);
        }
        n_changed++;
        return 0;
}

static Pod *pod_change;
static PodState pod_change_to;
static bool mark;

static int on_change(sd_event_source *s, void *userdata) {
        pod_change->state = pod_change_to;
        if (mark)
                daemon_event_touched(userdata, pod_change);
        return 0;
}

static int on_other(sd_event_source *s, void *userdata) {
        return 0;
}

/* What the server sent so far, read by the client: no other event runs. */
static void pump(sd_bus *client) {
        while (sd_bus_process(client, NULL) > 0)
                ;
}

/* Runs the loop until nothing is pending, delivering what the server
 * sent to the client. */
static void settle(sd_event *e) {
        while (sd_event_run(e, 0) > 0)
                ;
}

int main(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *client = NULL;
        Daemon d = {};
        sd_event_source *change, *others[3];
        int fds[2];
        sd_id128_t id;
        Pod *p = calloc(1, sizeof(Pod));

        ASSERT_TRUE(p);
        memcpy(p->id, "0123456789abcdef0123456789abcdef", POD_ID_LEN + 1);
        p->name = strdup("web");
        p->state = POD_RUNNING;

        ASSERT_OK(sd_event_new(&d.event));
        ASSERT_TRUE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, fds) >= 0);
        ASSERT_OK(sd_bus_new(&d.bus));
        ASSERT_OK(sd_bus_set_fd(d.bus, fds[0], fds[0]));
        ASSERT_OK(sd_id128_randomize(&id));
        ASSERT_OK(sd_bus_set_server(d.bus, true, id));
        ASSERT_OK(sd_bus_new(&client));
        ASSERT_OK(sd_bus_set_fd(client, fds[1], fds[1]));
        ASSERT_OK(daemon_add_objects(d.bus, &d));
        ASSERT_OK(sd_bus_add_filter(client, NULL, on_signal, NULL));
        ASSERT_OK(sd_bus_attach_event(d.bus, d.event, 0));
        ASSERT_OK(sd_bus_attach_event(client, d.event, 0));
        ASSERT_OK(sd_bus_start(d.bus));
        ASSERT_OK(sd_bus_start(client));
        ASSERT_OK(daemon_watch_pod_changes(&d));
        ASSERT_OK(daemon_add_pod(&d, p));
        settle(d.event);
        ASSERT_TRUE(n_changed == 0);

        ASSERT_OK(sd_event_add_defer(d.event, &change, on_change, &d));
        pod_change = p;

        /* A marked change: told right after its event, before the others
         * queued beside it. */
        mark = true;
        pod_change_to = POD_EXITED;
        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                ASSERT_OK(sd_event_add_defer(d.event, &others[i], on_other, NULL));
                ASSERT_OK(sd_event_source_set_priority(others[i], 1));
                ASSERT_OK(sd_event_source_set_enabled(others[i], SD_EVENT_ONESHOT));
        }
        ASSERT_OK(sd_event_source_set_enabled(change, SD_EVENT_ONESHOT));
        /* sd_event_run() dispatches one source: the change, then the
         * post source (priority 0, before the others' 1). The pod it
         * marked is compared there, whether or not a compare of all is
         * owed (an iteration that dispatched nothing, as settle()'s last,
         * owes one too). */
        ASSERT_TRUE(sd_event_run(d.event, 0) > 0);
        ASSERT_TRUE(sd_event_run(d.event, 0) > 0);
        pump(client);
        ASSERT_TRUE(n_changed == 1);
        ASSERT_STREQ(last_changed, "State");
        settle(d.event);
        ASSERT_TRUE(n_changed == 1);

        /* An unmarked change: owed, and told once the loop is idle, after
         * the events queued behind it; not before. */
        mark = false;
        pod_change_to = POD_RUNNING;
        for (size_t i = 0; i < ELEMENTSOF(others); i++)
                ASSERT_OK(sd_event_source_set_enabled(others[i], SD_EVENT_ONESHOT));
        ASSERT_OK(sd_event_source_set_enabled(change, SD_EVENT_ONESHOT));
        ASSERT_TRUE(sd_event_run(d.event, 0) > 0); /* the change */
        ASSERT_TRUE(sd_event_run(d.event, 0) > 0); /* its post source */
        ASSERT_TRUE(d.publish_all_pending);
        for (size_t i = 0; i < ELEMENTSOF(others); i++) {
                pump(client);
                ASSERT_TRUE(n_changed == 1);
                ASSERT_TRUE(sd_event_run(d.event, 0) > 0); /* one of the others */
                ASSERT_TRUE(sd_event_run(d.event, 0) > 0); /* its post source */
                ASSERT_TRUE(d.publish_all_pending);
        }
        settle(d.event);
        ASSERT_FALSE(d.publish_all_pending);
        ASSERT_TRUE(n_changed == 2);
        ASSERT_STREQ(last_changed, "State");

        /* Nothing changed: an unmarked event owes a compare that tells
         * nothing, and the idle compare does not call for another. */
        ASSERT_OK(sd_event_source_set_enabled(others[0], SD_EVENT_ONESHOT));
        settle(d.event);
        ASSERT_FALSE(d.publish_all_pending);
        ASSERT_TRUE(n_changed == 2);

        for (size_t i = 0; i < ELEMENTSOF(others); i++)
                sd_event_source_unref(others[i]);
        sd_event_source_unref(change);
        sd_bus_flush_close_unref(d.bus);
        sd_bus_flush_close_unref(TAKE_PTR(client));
        daemon_pods_free(&d);
        sd_event_unref(d.event);
        return 0;
}
