/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Who may change what: root always, anyone else what polkit grants.
 *
 * polkit answers over the bus and the loop never waits for it. The first
 * dispatch of a call asks polkit (CheckAuthorization, asynchronously) and
 * its handler returns without a reply; polkit's answer is stored here and
 * the same message is put back into the bus's read queue, so that the
 * handler runs again from the start, finds the answer and goes on (or
 * fails). Hence a handler authorizes before it changes anything: its first
 * run must have had no effect. The pattern is systemd's
 * bus_verify_polkit_async() (src/shared/bus-polkit.c).
 *
 * A call may need two actions (CreatePod or AddApp with a privileged app:
 * manage-pods, then run-privileged). Answers are kept per call and action,
 * and a call's answers all stay until none of its checks is in flight: its
 * second run asks for the second action, its third finds both answers.
 *
 * Whether the caller is root comes first, and the same way: the bus's
 * record of the caller's uid (GetConnectionUnixUser, asked asynchronously
 * of the bus itself) is kept as the call's first answer. That is what
 * sd_bus_query_sender_privilege() decides on with dbus-daemon, which
 * attaches no credentials to messages; but it asks the bus synchronously,
 * and a busy bus (50 pods starting) held the loop 4-15 ms on every
 * CreatePod, StartPod, StopPod and RemovePod. */
#include <linux/capability.h>

#include "daemon.h"
#include "log.h"
#include "string-util.h"

#define POLKIT_NAME "org.freedesktop.PolicyKit1"
#define POLKIT_CHECK_ALLOW_USER_INTERACTION UINT32_C(1)
/* Each check in flight is a pending call on peapodd's connection, which
 * the bus limits: callers who are not root must not use them all up (an
 * interactive check may wait minutes for a password). */
#define POLKIT_QUERIES_MAX 64

struct PolkitQuery {
        Daemon *daemon;
        /* The call being authorized, referenced until it has been
         * dispatched again. */
        sd_bus_message *request;
        char *action; /* NULL: the root check */
        /* CheckAuthorization in flight. */
        sd_bus_slot *slot;
        /* Frees the query once the call has run a second time. */
        sd_event_source *defer;
        /* polkit's answer: granted (1) or not, and then why. */
        int verdict;
        sd_bus_error error;
};

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        Daemon *d;

        if (!q)
                return NULL;
        d = q->daemon;
        for (size_t i = 0; i < d->n_polkit_queries; i++)
                if (d->polkit_queries[i] == q) {
                        memmove(d->polkit_queries + i, d->polkit_queries + i + 1,
                                sizeof(PolkitQuery *) * (d->n_polkit_queries - i - 1));
                        d->n_polkit_queries--;
                        break;
                }
        sd_bus_slot_unref(q->slot);
        sd_event_source_disable_unref(q->defer);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        free(q->action);
        free(q);
        return NULL;
}

void daemon_polkit_queries_free(Daemon *d) {
        while (d->n_polkit_queries > 0)
                polkit_query_free(d->polkit_queries[d->n_polkit_queries - 1]);
        d->polkit_queries = mfree(d->polkit_queries);
}

/* The answer kept for call m and action (NULL: the root check). */
static PolkitQuery *polkit_query_find(Daemon *d, sd_bus_message *m, const char *action) {
        for (size_t i = 0; i < d->n_polkit_queries; i++)
                if (d->polkit_queries[i]->request == m && streq_ptr(d->polkit_queries[i]->action, action))
                        return d->polkit_queries[i];
        return NULL;
}

/* Frees every answer kept for call m. */
static void polkit_queries_free_request(Daemon *d, sd_bus_message *m) {
        for (size_t i = d->n_polkit_queries; i > 0; i--)
                if (d->polkit_queries[i - 1]->request == m)
                        polkit_query_free(d->polkit_queries[i - 1]);
}

static int polkit_query_on_idle(sd_event_source *s, void *userdata) {
        PolkitQuery *q = userdata;
        Daemon *d = q->daemon;

        /* Idle priority: the re-queued call (whose dispatch the bus's
         * sources do at normal priority) has been handled by now. If
         * that run asked polkit for another action, this answer waits
         * for the run that the other answer brings. */
        for (size_t i = 0; i < d->n_polkit_queries; i++)
                if (d->polkit_queries[i]->request == q->request && d->polkit_queries[i]->slot)
                        return 0;
        polkit_queries_free_request(d, q->request);
        return 0;
}

static int polkit_query_read_reply(PolkitQuery *q, sd_bus_message *reply) {
        int authorized, challenge, r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                /* No polkit on this machine (or none that answers): nobody
                 * but root is allowed. */
                q->verdict = 0;
                (void) sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Access denied: not authorized for %s (polkit did not answer: %s)", q->action,
                                         e->message ?: e->name);
                return 0;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r >= 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0)
                return r;
        q->verdict = !!authorized;
        if (authorized)
                return 0;
        if (challenge)
                /* polkit would ask for a password, but the caller did not
                 * allow us to make it wait for one. */
                (void) sd_bus_error_setf(&q->error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "Interactive authentication required for %s", q->action);
        else
                (void) sd_bus_error_setf(&q->error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: not authorized for %s",
                                         q->action);
        return 0;
}

/* The bus's record of the caller's uid: ours (root) or not. A caller gone
 * meanwhile is not root; polkit's check then fails as well. */
static int root_query_read_reply(PolkitQuery *q, sd_bus_message *reply) {
        uint32_t uid;

        q->verdict = !sd_bus_message_is_method_error(reply, NULL) && sd_bus_message_read(reply, "u", &uid) >= 0 &&
                     (uid == 0 || uid == getuid());
        return 0;
}

static int polkit_query_on_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        sd_event *event = sd_bus_get_event(sd_bus_message_get_bus(q->request));
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        r = q->action ? polkit_query_read_reply(q, reply) : root_query_read_reply(q, reply);
        if (r >= 0)
                r = sd_event_add_defer(event, &q->defer, polkit_query_on_idle, q);
        if (r >= 0)
                r = sd_event_source_set_priority(q->defer, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_bus_message_rewind(q->request, true);
        if (r >= 0)
                r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                log_warning_errno(r, "Failed to process the answer for %s: %m", q->action ?: "the root check");
                (void) sd_bus_reply_method_errno(q->request, r, NULL);
                polkit_queries_free_request(q->daemon, q->request);
        }
        return 0;
}

/* Keeps a query for call m and action (NULL: the root check) and sends
 * call, whose answer polkit_query_on_reply() keeps. */
static int query_start(Daemon *d, sd_bus_message *m, const char *action, sd_bus_message *call, uint64_t timeout_usec) {
        PolkitQuery *q, **n;
        int r;

        n = realloc(d->polkit_queries, sizeof(PolkitQuery *) * (d->n_polkit_queries + 1));
        if (!n)
                return -ENOMEM;
        d->polkit_queries = n;
        q = calloc(1, sizeof(PolkitQuery));
        if (!q)
                return -ENOMEM;
        *q = (PolkitQuery) {
                .daemon = d,
                .request = sd_bus_message_ref(m),
                .action = action ? strdup(action) : NULL,
                .error = SD_BUS_ERROR_NULL,
        };
        d->polkit_queries[d->n_polkit_queries++] = q;
        if (action && !q->action) {
                polkit_query_free(q);
                return -ENOMEM;
        }
        r = sd_bus_call_async(d->bus, &q->slot, call, polkit_query_on_reply, q, timeout_usec);
        if (r < 0) {
                polkit_query_free(q);
                return r;
        }
        return 0;
}

static int polkit_query_new(Daemon *d, sd_bus_message *m, const char *action) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        int interactive, r;

        if (!sender)
                return -EBADMSG;
        interactive = sd_bus_message_get_allow_interactive_authorization(m);
        if (interactive < 0)
                return interactive;
        r = sd_bus_message_new_method_call(d->bus, &call, POLKIT_NAME, "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r < 0)
                return r;
        /* The subject is the caller's unique bus name: polkitd asks the bus
         * for its credentials itself, so nothing the caller claims counts. */
        r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
                                  interactive ? POLKIT_CHECK_ALLOW_USER_INTERACTION : 0, "");
        if (r < 0)
                return r;
        /* An interactive check waits for a human typing a password. */
        return query_start(d, m, action, call, interactive ? UINT64_C(5) * 60 * 1000000 : 0);
}

static size_t polkit_queries_in_flight(Daemon *d) {
        size_t n = 0;

        for (size_t i = 0; i < d->n_polkit_queries; i++)
                if (d->polkit_queries[i]->action && d->polkit_queries[i]->slot)
                        n++;
        return n;
}

/* Whether the caller of m runs as our uid, root: 1 or 0, or -EINPROGRESS
 * once the bus is asked (the call is dispatched again with its answer). */
static int sender_is_root(Daemon *d, sd_bus_message *m) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        const char *sender = sd_bus_message_get_sender(m);
        PolkitQuery *q;
        int r;

        q = polkit_query_find(d, m, NULL);
        if (q)
                return q->slot ? -EINPROGRESS : q->verdict > 0;
        /* A direct connection has no bus to ask: its peer is the socket's,
         * which sd-bus knows without a call. */
        if (!sender)
                return sd_bus_query_sender_privilege(m, CAP_SYS_ADMIN);
        r = sd_bus_message_new_method_call(d->bus, &call, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "GetConnectionUnixUser");
        if (r >= 0)
                r = sd_bus_message_append(call, "s", sender);
        if (r >= 0)
                r = query_start(d, m, NULL, call, 0);
        return r < 0 ? r : -EINPROGRESS;
}

static int polkit_query_verdict(PolkitQuery *q, const char *action, sd_bus_error *error) {
        if (q->slot)
                /* Still waiting: a call is not dispatched twice meanwhile. */
                return 0;
        /* An answer for another action must not authorize this one. */
        if (!streq(q->action, action))
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "Access denied: %s asked for, %s checked",
                                         q->action, action);
        if (q->verdict > 0)
                return 1;
        if (!sd_bus_error_is_set(&q->error))
                return -EACCES;
        return sd_bus_error_copy(error, &q->error);
}

int bus_verify_polkit(Daemon *d, sd_bus_message *m, const char *action, sd_bus_error *error) {
        PolkitQuery *q;
        int r;

        q = polkit_query_find(d, m, action);
        if (q)
                return polkit_query_verdict(q, action, error);

        /* Root, as the bus recorded the caller's connection (never from
         * /proc, which races with the caller). */
        r = sender_is_root(d, m);
        if (r == -EINPROGRESS)
                return 0;
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to ask the bus who is calling: %m");
        if (r > 0)
                return 1;

        if (polkit_queries_in_flight(d) >= POLKIT_QUERIES_MAX)
                return sd_bus_error_setf(error, SD_BUS_ERROR_LIMITS_EXCEEDED,
                                         "Too many authorization checks in flight, try again later");
        r = polkit_query_new(d, m, action);
        if (r < 0)
                return sd_bus_error_set_errnof(error, r, "Failed to ask polkit about %s: %m", action);
        return 0;
}

int bus_verify_privileged(Daemon *d, sd_bus_message *m, bool privileged, sd_bus_error *error) {
        if (!privileged)
                return 1;
        return bus_verify_polkit(d, m, PEAPOD_ACTION_RUN_PRIVILEGED, error);
}
