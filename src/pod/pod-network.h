/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "error.h"
#include "macro.h"

/* A pod's network: what was asked for (mode, CNI networks, ports, DNS,
 * hostname) and what it got (addresses), kept in pod.json. */

/* The network a pod gets when nothing else is asked for; the shipped
 * /etc/cni/net.d/87-peapod-bridge.conflist defines it. */
#define POD_NETWORK_DEFAULT "peapod"
#define POD_NETWORKS_MAX 8
#define POD_PORTS_MAX 256
#define POD_DNS_MAX 8
#define POD_DNS_SEARCH_MAX 6
/* resolv.conf(5) options ("ndots:5", "edns0"): a count and a length that no
 * real configuration needs more of. */
#define POD_DNS_OPTIONS_MAX 16
#define POD_DNS_OPTION_LEN_MAX 64

typedef enum PodNetworkMode {
        POD_NETWORK_CNI,  /* own network namespace, CNI networks attached */
        POD_NETWORK_HOST, /* the host's network namespace */
        POD_NETWORK_NONE, /* own network namespace with only lo */
        _POD_NETWORK_MODE_MAX,
        _POD_NETWORK_MODE_INVALID = -EINVAL,
} PodNetworkMode;

const char *pod_network_mode_to_string(PodNetworkMode m);
PodNetworkMode pod_network_mode_from_string(const char *s);

typedef struct PodPort {
        char protocol[4]; /* "tcp" or "udp" */
        char *host_ip;    /* "" = every address */
        uint16_t host_port, pod_port;
} PodPort;

typedef struct PodAddress {
        char *network;
        char *ifname;
        char *address; /* CIDR */
} PodAddress;

typedef struct PodNetwork {
        PodNetworkMode mode;
        char **networks; /* CNI network names (mode CNI), attached as eth0, eth1, ... */
        PodPort *ports;
        size_t n_ports;
        char **dns;
        char **dns_search;
        char **dns_options; /* resolv.conf's options line; NULL: the host's */
        char *hostname; /* NULL = the pod's name */
        PodAddress *addresses;
        size_t n_addresses;
        /* Not saved: the pod's bridge binding (ebtables) is known gone (a
         * new pod never made one; or its last unbind succeeded with no bind
         * since), so that a start binds without looking for one first and
         * the network stops of a removal run no ebtables to find that out
         * again (a new peapodd does, once). */
        bool unbound;
} PodNetwork;

void pod_network_done(PodNetwork *n);

/* What a caller asks for: networks NULL = the default network; the words
 * "host", "none" and "default" mean what --net= says. */
typedef struct PodNetworkSpec {
        char **networks;
        const PodPort *ports;
        size_t n_ports;
        char **dns;
        char **dns_search;
        char **dns_options;
        const char *hostname;
} PodNetworkSpec;

/* Validate spec (every network must exist in cni_conf_dir) and fill n.
 * -EINVAL, -ENOENT or -E2BIG with err saying what is wrong. */
int pod_network_from_spec(const PodNetworkSpec *spec, const char *cni_conf_dir, PodNetwork *n, PeapodError *err);

/* "[IP:]HOSTPORT:PODPORT[/tcp|udp]" */
int pod_port_parse(const char *s, PodPort *ret);
void pod_port_done(PodPort *p);
bool pod_port_is_valid(const PodPort *p);

/* Whether two published ports claim the same host socket: the same
 * protocol and host port, on the same host address or either on every
 * address ("", 0.0.0.0, ::). */
bool pod_ports_overlap(const PodPort *a, const PodPort *b);
/* Whether the host socket of port is free in this network namespace (a
 * bind() test): 0 free, -EADDRINUSE bound by something, other -errno. */
int pod_port_check_host(const PodPort *port);

int pod_network_to_json(const PodNetwork *n, json_object **ret);
/* Missing (a pod.json from before networking) reads as mode "none". */
int pod_network_from_json(json_object *o, PodNetwork *n);

int pod_address_add(PodNetwork *n, const char *network, const char *ifname, const char *address);
void pod_network_clear_addresses(PodNetwork *n);

struct Pod;
struct PodRuntime;

/* p's ports may be published: none that a pod of pods (other than p, not
 * exited) publishes, none bound on the host (twice in p is
 * pod_network_from_spec()'s to refuse). Otherwise
 * -EADDRINUSE with err naming the port and who holds it. */
int pod_ports_check(const struct Pod *p, struct Pod * const *pods, size_t n_pods, PeapodError *err);

/* The file the pod's network namespace is bound to while it lives:
 * <run_dir>/netns/<pod id>. */
int pod_netns_path(const struct PodRuntime *rt, const struct Pod *p, char **ret);

/* After the pod's init is up (p->leader set): bind its network namespace,
 * ADD every CNI network (recording each config before and its result after
 * the ADD under <pod dir>/network/, so that a DEL can always follow), fill
 * the addresses, and write <pod dir>/etc/{hosts,resolv.conf,hostname}.
 * On failure what was added is deleted again. ret_ifindices gets the
 * host-side interfaces (for machined). */
int pod_network_start(struct PodRuntime *rt, struct Pod *p, int **ret_ifindices, size_t *ret_n_ifindices,
                      PeapodError *err);

/* The same on an sd-event loop (pod_network_start() runs it on a private
 * one): the plugins and iptables/ebtables are children the loop watches.
 * What runs no program (the namespace's bind) is done before this returns;
 * a failure there is returned with err set and no callback. Otherwise the
 * callback runs once, from the loop: r 0, or -errno with err (what was
 * added is deleted again by then). p must live until then; freeing ns
 * earlier kills the plugin running and leaves the records for
 * pod_network_stop(). */
typedef struct PodNetworkStart PodNetworkStart;
typedef void (*pod_network_callback_t)(PodNetworkStart *ns, int r, const PeapodError *err, void *userdata);
int pod_network_start_async(struct PodRuntime *rt, sd_event *e, struct Pod *p, pod_network_callback_t callback,
                            void *userdata, PodNetworkStart **ret, PeapodError *err);
/* The host-side interfaces (for machined), once the callback said 0, or
 * from the added hook on. */
int pod_network_start_ifindices(PodNetworkStart *ns, int **ret, size_t *ret_n);
/* Hooks added, called from the loop once every ADD has succeeded and
 * before the pod's bridge ports are bound (the start's callback comes
 * after the binding): what needs the interfaces but runs nothing of the
 * pod's (machined's registration) need not wait for the binding. Not
 * called when the start fails first, nor after ns is freed. */
typedef void (*pod_network_added_t)(PodNetworkStart *ns, void *userdata);
void pod_network_start_on_added(PodNetworkStart *ns, pod_network_added_t added);
PodNetworkStart *pod_network_start_free(PodNetworkStart *ns);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodNetworkStart *, pod_network_start_free);

/* DEL every network recorded under <pod dir>/network/ in reverse order with
 * its saved result, then unbind the namespace. Safe to call at any time and
 * more than once (after a crash, after a reboot). Returns the first error;
 * records of networks whose DEL failed are kept for a later try, unless
 * force: then they are dropped and the namespace unbound all the same. */
int pod_network_stop(struct PodRuntime *rt, struct Pod *p, bool force, PeapodError *err);

/* Whether pod_network_stop() has anything to do for p (a pod without CNI
 * networks, records or a bound namespace has not). */
bool pod_network_needs_stop(const struct PodRuntime *rt, const struct Pod *p);

/* Whether a stopped pod still owes pod_network_stop() something: records
 * of networks not yet deleted (a DEL that failed, a stop cut short) or its
 * namespace still bound. Once a stop has ended well, not: its DELs and
 * the unbinding of its ports are done. */
bool pod_network_owed(const struct PodRuntime *rt, const struct Pod *p);

/* The same on an sd-event loop (pod_network_stop() runs it on a private
 * one). The callback runs once, from the loop, with what
 * pod_network_stop() would return; p must live until then. */
typedef struct PodNetworkStop PodNetworkStop;
typedef void (*pod_network_stop_callback_t)(PodNetworkStop *ns, int r, const PeapodError *err, void *userdata);
int pod_network_stop_async(struct PodRuntime *rt, sd_event *e, struct Pod *p, bool force,
                           pod_network_stop_callback_t callback, void *userdata, PodNetworkStop **ret);
PodNetworkStop *pod_network_stop_free(PodNetworkStop *ns);
DEFINE_TRIVIAL_CLEANUP_FUNC(PodNetworkStop *, pod_network_stop_free);

/* A stop on rt->background_event leaves the removal of the pod's bridge
 * binding (FIREWALL_PORT_CHAIN_PREFIX) until its DELs are done, and does
 * not wait for it: the binding's rules name the pod's veths, which the
 * DELs delete, so they bind nothing any more (a new veth given the same
 * random name meanwhile would be held to the old pod's addresses until
 * the removal, some milliseconds). This starts such a removal for the pod
 * whose id begins with pod_id (its first 20 hex digits will do: a chain
 * found by the startup's sweep); one already under way is left to go on.
 * A start of that pod ends it first (the bind then looks for a chain and
 * removes what it finds). Failures are logged; whatever a crash leaves,
 * peapodd's next start sweeps (firewall_pod_port_chains_async()). */
int pod_network_unbind_ports_later(struct PodRuntime *rt, const char *pod_id);
void pod_runtime_port_unbinds_free(struct PodRuntime *rt);

/* The directory whose hosts, resolv.conf and hostname the apps get. */
int pod_etc_dir(const struct PodRuntime *rt, const struct Pod *p, char **ret);
