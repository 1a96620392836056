/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>

#include <systemd/sd-event.h>

#include "error.h"
#include "macro.h"

/* Host firewall rules of peapod's own, next to the CNI plugins' rules.
 *
 * Loopback stays loopback (the class of Kubernetes' CVE-2020-8558): portmap
 * with "snat": true sets net.ipv4.conf.<bridge>.route_localnet=1 so that a
 * published port answers on the host's 127.0.0.1, and from then on the
 * kernel routes a packet to 127.0.0.0/8 that arrives on the bridge to the
 * host's loopback services. Every pod could then reach (and scan) what the
 * host binds to 127.0.0.1 only, with one frame addressed to the gateway's
 * MAC. The chain FIREWALL_LOOPBACK_CHAIN of the filter table, jumped to
 * first thing from INPUT and FORWARD, drops every packet to or from
 * 127.0.0.0/8 that arrives on an interface other than lo, unless conntrack
 * already knows it as part of a connection (the replies of the host's own
 * connections to a published port on 127.0.0.1, which portmap DNATs out of
 * the bridge) or as DNATed. */
#define FIREWALL_LOOPBACK_CHAIN "PEAPOD-LOOPBACK"

/* Install (or repair) the chain and the jumps, idempotently; the chain's
 * content is replaced atomically with iptables-restore. Uses the iptables
 * found in the PATH the CNI plugins get, so that the rules land in the same
 * backend (nft or legacy) as the plugins'. */
int firewall_loopback_guard(PeapodError *err);

/* Bridge ports bound to their pod (ebtables, the bridge family of the same
 * backend). A pod's app that retains CAP_NET_RAW could otherwise send any
 * frame from its veth: ARP replies claiming another pod's or the gateway's
 * address (the host and the other pods then send their traffic to it), IP
 * packets with another pod's source. Per pod, one chain
 * FIREWALL_PORT_CHAIN_PREFIX<first 20 hex digits of its id>, jumped to first
 * from the bridge family's INPUT (frames for the host) and FORWARD (frames
 * for other ports), lets a frame that enters the bridge from the pod's veth
 * through only with the pod's own MAC as its source, as ARP with the pod's
 * own MAC and one of its IPv4 addresses as the sender, as IPv4 from one of
 * its addresses, or as IPv6 (whose addresses are not bound: the shipped
 * network is IPv4 only); everything else from that port is dropped. */
#define FIREWALL_PORT_CHAIN_PREFIX "PEAPOD-"

/* The rules a network's conflist asks for (cni_conflist_host_rules()),
 * each kept once for the whole network where a plugin would make and delete
 * its own at every pod's ADD and DEL, and left when the last pod goes, as
 * docker's are. IPv4 only.
 *
 * Masquerading: one chain FIREWALL_MASQ_CHAIN_PREFIX<16 hex digits of a
 * hash of the network's name> of the nat table, jumped to first from
 * POSTROUTING, masquerades a packet from one of the network's subnets to
 * anywhere but its subnets and multicast: what the bridge plugin's ipMasq
 * does with a chain of its own for every pod (the dearest step of a pod's
 * network: ~12 ms of the ADD and ~55 ms of the DEL here).
 *
 * Forwarding: one chain FIREWALL_FORWARD_CHAIN_PREFIX<the same 16 hex
 * digits> of the filter table, jumped to first from FORWARD, accepts what
 * enters from the network's bridge with a source in its subnets, and what
 * leaves to the bridge for its subnets as part of a connection conntrack
 * knows: on a host whose FORWARD policy drops (docker sets it so), the
 * pods still reach the world and get their replies, as the firewall
 * plugin's two rules for each pod's address let them (~21 ms of the ADD
 * and ~32 ms of the DEL here, a D-Bus look for firewalld and a dozen
 * iptables runs). The bridge's ports are bound to their pods' addresses
 * (below), so a source in the subnets from the bridge is a pod's own. The
 * jump may come before the loopback guard's in FORWARD: nothing it accepts
 * is what the guard drops (a packet for 127.0.0.0/8 is the host's, in
 * INPUT, never forwarded; a source in the subnets is not in 127.0.0.0/8). */
#define FIREWALL_MASQ_CHAIN_PREFIX "PEAPOD-MASQ-"
#define FIREWALL_FORWARD_CHAIN_PREFIX "PEAPOD-FWD-"

typedef struct FirewallNetwork {
        const char *network;
        char * const *subnets; /* canonical IPv4 subnets, "10.87.0.0/16" */
        bool masquerade;
        const char *forward_bridge; /* NULL: no forwarding rules */
} FirewallNetwork;

/* Appends to *rules the rules for one port: host_ifname (the host side of
 * the pod's veth pair, a bridge port), the pod side's MAC and its IPv4
 * addresses (without prefix). What the CNI result said is checked first:
 * an interface name, a MAC or an address that is not one is -EINVAL. */
int firewall_port_rules_append(const char *pod_id, const char *host_ifname, const char *mac, char * const *ipv4,
                               char **rules, PeapodError *err);

/* Replaces the pod's chain with rules (from firewall_port_rules_append())
 * and its jumps, in one commit. */
int firewall_pod_ports_bind(const char *pod_id, const char *rules, PeapodError *err);

/* Removes the pod's chain and its jumps; nothing to do is not an error. */
int firewall_pod_ports_unbind(const char *pod_id, PeapodError *err);

/* The three operations above on an sd-event loop (the functions above run
 * them on a private one): the tools are children the loop watches. The
 * callback runs once, from the loop, never before the call returned, with
 * what the synchronous form would return; it may free op. Freeing op
 * earlier kills the tool running and ends the operation without a
 * callback. */
typedef struct FirewallOp FirewallOp;
typedef void (*firewall_callback_t)(FirewallOp *op, int r, const PeapodError *err, void *userdata);
int firewall_loopback_guard_async(sd_event *e, firewall_callback_t callback, void *userdata, FirewallOp **ret);
/* The rules of the n networks: each network's chains (their rules
 * replaced) and their jumps moved first in their base chains, in one run of
 * iptables-restore where the jumps exist. With check_first (the chains were
 * installed so already), only a look at each jump (iptables -C, no
 * commit), and all of it again if one is missing. */
int firewall_network_rules_async(sd_event *e, const FirewallNetwork *nets, size_t n, bool check_first,
                                 firewall_callback_t callback, void *userdata, FirewallOp **ret);
/* fresh: the pod is known to have no chain (it never bound one, or its
 * last unbind succeeded), so none is looked for first. */
int firewall_pod_ports_bind_async(sd_event *e, const char *pod_id, const char *rules, bool fresh,
                                  firewall_callback_t callback, void *userdata, FirewallOp **ret);
int firewall_pod_ports_unbind_async(sd_event *e, const char *pod_id, firewall_callback_t callback, void *userdata,
                                    FirewallOp **ret);
/* Lists the pods' chains (ebtables -L): once it ended well,
 * firewall_op_pod_ids() gives the first 20 hex digits of each one's pod
 * id (NULL: none). */
int firewall_pod_port_chains_async(sd_event *e, firewall_callback_t callback, void *userdata, FirewallOp **ret);
char * const *firewall_op_pod_ids(const FirewallOp *op);
/* The pod id prefixes of the pod chains in ebtables -L's output: lines
 * "Bridge chain: PEAPOD-<20 lowercase hex>, entries: N, policy: P"; any
 * other line (a rule, another chain, a masquerade chain) is passed over. */
int firewall_port_chains_parse(const char *out, char ***ret);
FirewallOp *firewall_op_free(FirewallOp *op);
DEFINE_TRIVIAL_CLEANUP_FUNC(FirewallOp *, firewall_op_free);
