/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "error.h"

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
