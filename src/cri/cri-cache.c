/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The sandboxes as peapodd last said, for ListPodSandbox and
 * ListContainers (kubelet calls both every second): filled with one
 * GetManagedObjects, then kept by peapodd's signals, so that a list is
 * answered from memory instead of carrying every pod over the bus.
 *
 * Why it stays true:
 * - One match on every signal peapodd sends (never one per pod), added
 *   before the fill is asked for: the bus keeps the order of one
 *   connection's messages, so the AddMatch is in force before peapodd
 *   sees GetManagedObjects, and what peapodd sends after its answer
 *   reaches us after it. The answer replaces the cache whole; signals
 *   from before it were older, those after it apply on top.
 * - InterfacesAdded carries a new pod with all its properties;
 *   PropertiesChanged carries the values of what changed (State, Apps,
 *   AppAnnotations, Networks: peapodd announces every change, see
 *   org.peapod1(5)); InterfacesRemoved and PodRemoved drop a pod.
 * - NameOwnerChanged of org.peapod1 (peapodd exited or restarted; it may
 *   have missed nothing or everything) drops the cache and, when a new
 *   peapodd owns the name, fills it again. A generation counter keeps a
 *   fill that was asked of the old peapodd from counting.
 * - Anything we cannot read, or a property announced only as invalidated,
 *   drops the cache too: the next list asks peapodd and fills it again.
 * While the cache is not valid, a list asks GetManagedObjects itself (as
 * before there was a cache) and fills the cache with the answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cri.h"
#include "cri-pod.h"
#include "log.h"
#include "peapod-bus.h"
#include "string-util.h"
#include "strv.h"

#define OBJECT_MANAGER_INTERFACE "org.freedesktop.DBus.ObjectManager"
#define PROPERTIES_INTERFACE "org.freedesktop.DBus.Properties"

struct CriCache {
        Cri *cri;
        sd_bus *bus;            /* the bus the matches are on */
        sd_bus_slot *signals;   /* every signal of peapodd */
        sd_bus_slot *owner;     /* NameOwnerChanged of org.peapod1 */
        sd_bus_slot *fill;      /* a GetManagedObjects under way */
        uint64_t generation;    /* of peapodd's name owner, as we saw it change */
        uint64_t fill_generation;
        bool valid;
        CriPod *pods;           /* sandboxes only */
        size_t n_pods;
};

static void cache_forget(CriCache *c) {
        cri_pods_free(c->pods, c->n_pods);
        c->pods = NULL;
        c->n_pods = 0;
        c->valid = false;
}

static void cache_reset(CriCache *c) {
        cache_forget(c);
        c->signals = sd_bus_slot_unref(c->signals);
        c->owner = sd_bus_slot_unref(c->owner);
        c->fill = sd_bus_slot_unref(c->fill);
        c->bus = sd_bus_unref(c->bus);
        c->generation++;
}

CriCache *cri_cache_free(CriCache *c) {
        if (!c)
                return NULL;
        cache_reset(c);
        return mfree(c);
}

static CriPod *cache_find(CriCache *c, const char *id) {
        for (size_t i = 0; i < c->n_pods; i++)
                if (streq(c->pods[i].id, id))
                        return &c->pods[i];
        return NULL;
}

static void cache_remove(CriCache *c, const char *id) {
        CriPod *p = cache_find(c, id);

        if (!p)
                return;
        cri_pod_done(p);
        memmove(p, p + 1, (c->pods + c->n_pods - (p + 1)) * sizeof(CriPod));
        c->n_pods--;
}

/* Takes p (a sandbox): a new pod, or one we knew (replaced). */
static int cache_put(CriCache *c, CriPod *p) {
        CriPod *old = cache_find(c, p->id), *n;

        if (old) {
                cri_pod_done(old);
                *old = *p;
                *p = (CriPod) {};
                return 0;
        }
        n = reallocarray(c->pods, c->n_pods + 1, sizeof(CriPod));
        if (!n)
                return -ENOMEM;
        c->pods = n;
        c->pods[c->n_pods++] = *p;
        *p = (CriPod) {};
        return 0;
}

/* The pod id of a pod's object path; NULL for any other path. */
static const char *pod_id_of_path(const char *path) {
        const char *id = startswith(path, PEAPOD_POD_PATH_PREFIX "/");

        return id && cri_hex_id_is_valid(id, CRI_POD_ID_LEN) ? id : NULL;
}

static int on_interfaces_added(CriCache *c, sd_bus_message *m) {
        const char *path, *iface;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r < 0 || !pod_id_of_path(path))
                return r;
        r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
        while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
                r = sd_bus_message_read(m, "s", &iface);
                if (r < 0)
                        break;
                if (streq(iface, PEAPOD_POD_INTERFACE)) {
                        CriPod p = {};

                        r = cri_pod_read(m, &p);
                        if (r >= 0 && cri_pod_is_sandbox(&p))
                                r = cache_put(c, &p);
                        cri_pod_done(&p);
                } else
                        r = sd_bus_message_skip(m, "a{sv}");
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        return r;
}

static int on_interfaces_removed(CriCache *c, sd_bus_message *m) {
        _cleanup_strv_free_ char **ifaces = NULL;
        const char *path, *id;
        int r;

        r = sd_bus_message_read(m, "o", &path);
        if (r < 0 || !(id = pod_id_of_path(path)))
                return r;
        r = sd_bus_message_read_strv(m, &ifaces);
        if (r >= 0 && strv_contains(ifaces, PEAPOD_POD_INTERFACE))
                cache_remove(c, id);
        return r;
}

static int on_pod_removed(CriCache *c, sd_bus_message *m) {
        const char *id, *path;
        int r;

        r = sd_bus_message_read(m, "so", &id, &path);
        if (r >= 0)
                cache_remove(c, id);
        return r;
}

static int on_properties_changed(CriCache *c, sd_bus_message *m) {
        _cleanup_strv_free_ char **invalidated = NULL;
        const char *iface, *id = pod_id_of_path(sd_bus_message_get_path(m));
        CriPod *p;
        int r;

        if (!id)
                return 0;
        r = sd_bus_message_read(m, "s", &iface);
        if (r < 0 || !streq(iface, PEAPOD_POD_INTERFACE))
                return r;
        /* Not a sandbox (its Annotations, constant, said so when it came):
         * nothing of it is kept. */
        p = cache_find(c, id);
        if (!p)
                return 0;
        r = cri_pod_update(m, p);
        if (r < 0)
                return r;
        r = sd_bus_message_read_strv(m, &invalidated);
        if (r < 0)
                return r;
        /* peapodd sends values; a bare name would need a read we do not do here. */
        return strv_length(invalidated) == 0 ? 0 : -EPROTO;
}

static int cache_on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriCache *c = userdata;
        const char *iface = sd_bus_message_get_interface(m), *member = sd_bus_message_get_member(m);
        int r = 0;

        if (!c->valid || !iface || !member)
                return 0;
        if (streq(iface, PROPERTIES_INTERFACE) && streq(member, "PropertiesChanged"))
                r = on_properties_changed(c, m);
        else if (streq_ptr(sd_bus_message_get_path(m), PEAPOD_ROOT_PATH)) {
                if (streq(iface, OBJECT_MANAGER_INTERFACE) && streq(member, "InterfacesAdded"))
                        r = on_interfaces_added(c, m);
                else if (streq(iface, OBJECT_MANAGER_INTERFACE) && streq(member, "InterfacesRemoved"))
                        r = on_interfaces_removed(c, m);
                else if (streq(iface, PEAPOD_MANAGER_INTERFACE) && streq(member, "PodRemoved"))
                        r = on_pod_removed(c, m);
        }
        if (r < 0) {
                log_debug_errno(r, "Failed to follow peapodd's %s.%s, reading all pods again: %m", iface, member);
                cache_forget(c);
        }
        return 0;
}

/* Takes pods (a GetManagedObjects answer read when the cache was in
 * generation): they become the cache unless peapodd changed since. */
static void cache_adopt(CriCache *c, uint64_t generation, CriPod **pods, size_t *n_pods) {
        if (generation != c->generation || !c->signals)
                return;
        cache_forget(c);
        c->pods = TAKE_PTR(*pods);
        c->n_pods = *n_pods;
        *n_pods = 0;
        c->valid = true;
}

static int cache_on_filled(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriCache *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        CriPod *pods = NULL;
        size_t n = 0;
        int r;

        c->fill = sd_bus_slot_unref(c->fill);
        if (e) {
                log_debug("Failed to read peapodd's pods: %s", e->message ?: e->name);
                return 0;
        }
        r = cri_pods_read_managed(m, &pods, &n);
        if (r < 0) {
                log_debug_errno(r, "Failed to read peapodd's pods: %m");
                return 0;
        }
        cache_adopt(c, c->fill_generation, &pods, &n);
        cri_pods_free(pods, n);
        return 0;
}

static int cache_fill(CriCache *c) {
        int r;

        if (c->valid || c->fill)
                return 0;
        r = sd_bus_call_method_async(c->bus, &c->fill, PEAPOD_BUS_NAME, PEAPOD_ROOT_PATH, OBJECT_MANAGER_INTERFACE,
                                     "GetManagedObjects", cache_on_filled, c, NULL);
        if (r < 0)
                return r;
        c->fill_generation = c->generation;
        return 0;
}

static int cache_on_owner_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriCache *c = userdata;
        const char *name, *old_owner, *new_owner;

        if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0 || !streq(name, PEAPOD_BUS_NAME))
                return 0;
        /* Whatever peapodd said before is from another process's view. */
        cache_forget(c);
        c->fill = sd_bus_slot_unref(c->fill);
        c->generation++;
        if (!isempty(new_owner))
                (void) cache_fill(c);
        return 0;
}

/* A match that the bus refused leaves the cache unfollowed: dropped, so
 * that the next list sets it up again. */
static int cache_on_match_installed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        CriCache *c = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);

        if (e) {
                log_warning("Failed to follow peapodd's signals: %s", e->message ?: e->name);
                cache_reset(c);
        }
        return 0;
}

/* The matches on the current bus (the bus may have been connected anew),
 * and a fill under way unless the cache is valid. */
static int cache_ensure(Cri *cri) {
        CriCache *c = cri->cache;
        sd_bus *bus;
        int r;

        if (!c) {
                c = cri->cache = calloc(1, sizeof(CriCache));
                if (!c)
                        return -ENOMEM;
                c->cri = cri;
        }
        r = cri_bus(cri, &bus);
        if (r < 0)
                return r;
        if (c->bus != bus)
                cache_reset(c);
        if (!c->bus) {
                c->bus = sd_bus_ref(bus);
                r = sd_bus_match_signal_async(bus, &c->signals, PEAPOD_BUS_NAME, NULL, NULL, NULL, cache_on_signal,
                                              cache_on_match_installed, c);
                if (r >= 0)
                        r = sd_bus_add_match_async(bus, &c->owner,
                                                   "type='signal',sender='org.freedesktop.DBus',"
                                                   "path='/org/freedesktop/DBus',interface='org.freedesktop.DBus',"
                                                   "member='NameOwnerChanged',arg0='" PEAPOD_BUS_NAME "'",
                                                   cache_on_owner_changed, cache_on_match_installed, c);
                if (r < 0) {
                        cache_reset(c);
                        return r;
                }
        }
        return cache_fill(c);
}

int cri_cache_start(Cri *cri) {
        return cache_ensure(cri);
}

int cri_cache_pods(Cri *cri, const CriPod **ret_pods, size_t *ret_n) {
        if (cache_ensure(cri) < 0 || !cri->cache->valid)
                return 0;
        *ret_pods = cri->cache->pods;
        *ret_n = cri->cache->n_pods;
        return 1;
}

int cri_list_filter_new(const char *id, const char *pod_sandbox_id, bool has_state, int state, void **selector,
                        size_t n_selector, CriListFilter **ret) {
        _cleanup_(cri_list_filter_freep) CriListFilter *f = calloc(1, sizeof(CriListFilter));
        int r;

        if (!f)
                return -ENOMEM;
        if (!isempty(id) && !(f->id = strdup(id)))
                return -ENOMEM;
        if (!isempty(pod_sandbox_id) && !(f->pod_sandbox_id = strdup(pod_sandbox_id)))
                return -ENOMEM;
        f->has_state = has_state;
        f->state = state;
        r = cri_map_to_pairs(selector, n_selector, &f->selector);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(f);
        return 0;
}

CriListFilter *cri_list_filter_free(CriListFilter *f) {
        if (!f)
                return NULL;
        free(f->id);
        free(f->pod_sandbox_id);
        strv_free(f->selector);
        return mfree(f);
}

static void list_filter_free(void *p) {
        cri_list_filter_free(p);
}

static int list_on_objects(CriQuery *q, sd_bus_message *m) {
        const sd_bus_error *e = sd_bus_message_get_error(m);
        CriListFilter *f = q->data;
        CriCache *c = q->cri->cache;
        CriPod *pods = NULL;
        size_t n = 0;
        int r;

        if (e)
                return cri_fail_from_bus(q, e);
        r = cri_pods_read_managed(m, &pods, &n);
        if (r < 0)
                return r;
        if (c)
                cache_adopt(c, f->generation, &pods, &n);
        if (c && c->valid)
                r = f->answer(q->call, c->pods, c->n_pods, f);
        else
                r = f->answer(q->call, pods, n, f);
        cri_pods_free(pods, n);
        return r;
}

int cri_list(Cri *cri, GrpcCall *call, CriListFilter *filter, CriListAnswer answer) {
        _cleanup_(cri_list_filter_freep) CriListFilter *f = filter;
        _cleanup_(cri_query_freep) CriQuery *q = NULL;
        int r;

        r = cache_ensure(cri);
        if (r < 0)
                log_debug_errno(r, "Failed to follow peapodd's pods, asking it: %m");
        if (cri->cache && cri->cache->valid)
                return answer(call, cri->cache->pods, cri->cache->n_pods, f);

        q = cri_query_new(cri, call);
        if (!q)
                return -ENOMEM;
        f->answer = answer;
        f->generation = cri->cache ? cri->cache->generation : 0;
        q->data = TAKE_PTR(f);
        q->data_free = list_filter_free;
        r = cri_query_call(q, PEAPOD_ROOT_PATH, OBJECT_MANAGER_INTERFACE, "GetManagedObjects", list_on_objects, NULL);
        if (r < 0)
                return cri_fail_unreachable(call, r);
        TAKE_PTR(q);
        return 0;
}
