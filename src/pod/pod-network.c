/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <net/if.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#include "cni.h"
#include "crash-point.h"
#include "firewall.h"
#include "fs-util.h"
#include "json-util.h"
#include "log.h"
#include "name.h"
#include "pod-network.h"
#include "pod-runtime.h"
#include "pod.h"
#include "string-util.h"
#include "strv.h"
#include "subprocess.h"

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define RESOLV_CONF_MAX (64 * 1024)
#define NETWORK_RECORD_MAX (4 * 1024 * 1024)
/* A record holds a conflist, a runtimeConfig and a result, each at most
 * 16 deep (cni.c's CNI_JSON_DEPTH), one level below the record itself. */
#define NETWORK_RECORD_DEPTH_MAX 32

static const char * const pod_network_mode_table[_POD_NETWORK_MODE_MAX] = {
        [POD_NETWORK_CNI] = "cni",
        [POD_NETWORK_HOST] = "host",
        [POD_NETWORK_NONE] = "none",
};

const char *pod_network_mode_to_string(PodNetworkMode m) {
        return m >= 0 && m < _POD_NETWORK_MODE_MAX ? pod_network_mode_table[m] : NULL;
}

PodNetworkMode pod_network_mode_from_string(const char *s) {
        if (s)
                for (PodNetworkMode m = 0; m < _POD_NETWORK_MODE_MAX; m++)
                        if (streq(s, pod_network_mode_table[m]))
                                return m;
        return _POD_NETWORK_MODE_INVALID;
}

void pod_port_done(PodPort *p) {
        p->host_ip = mfree(p->host_ip);
}

void pod_network_clear_addresses(PodNetwork *n) {
        for (size_t i = 0; i < n->n_addresses; i++) {
                free(n->addresses[i].network);
                free(n->addresses[i].ifname);
                free(n->addresses[i].address);
        }
        n->addresses = mfree(n->addresses);
        n->n_addresses = 0;
}

void pod_network_done(PodNetwork *n) {
        strv_free(n->networks);
        for (size_t i = 0; i < n->n_ports; i++)
                pod_port_done(&n->ports[i]);
        free(n->ports);
        strv_free(n->dns);
        strv_free(n->dns_search);
        strv_free(n->dns_options);
        free(n->hostname);
        pod_network_clear_addresses(n);
        *n = (PodNetwork) {};
}

int pod_address_add(PodNetwork *n, const char *network, const char *ifname, const char *address) {
        PodAddress *a;

        if (n->n_addresses >= POD_NETWORKS_MAX * CNI_RESULT_ITEMS_MAX)
                return -E2BIG;
        a = reallocarray(n->addresses, n->n_addresses + 1, sizeof(PodAddress));
        if (!a)
                return -ENOMEM;
        n->addresses = a;
        a = &n->addresses[n->n_addresses];
        *a = (PodAddress) { .network = strdup(network), .ifname = strdup(ifname), .address = strdup(address) };
        if (!a->network || !a->ifname || !a->address) {
                free(a->network);
                free(a->ifname);
                free(a->address);
                return -ENOMEM;
        }
        n->n_addresses++;
        return 0;
}

static bool ip_is_valid(const char *s) {
        unsigned char buf[sizeof(struct in6_addr)];

        return s && (inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1);
}

static bool dns_domain_is_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > 253 || s[0] == '.' || s[0] == '-' || strstr(s, ".."))
                return false;
        return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == n;
}

static int parse_port_number(const char *s, size_t len, uint16_t *ret) {
        unsigned v = 0;

        if (len == 0 || len > 5)
                return -EINVAL;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        if (v == 0 || v > 65535)
                return -EINVAL;
        *ret = (uint16_t) v;
        return 0;
}

bool pod_port_is_valid(const PodPort *p) {
        return (streq(p->protocol, "tcp") || streq(p->protocol, "udp")) && p->host_port > 0 && p->pod_port > 0 &&
               (isempty(p->host_ip) || ip_is_valid(p->host_ip));
}

int pod_port_parse(const char *s, PodPort *ret) {
        _cleanup_free_ char *ip = NULL;
        const char *slash, *last, *mid, *end;
        PodPort p = { .protocol = "tcp" };

        if (isempty(s) || strlen(s) > 128)
                return -EINVAL;
        slash = strchr(s, '/');
        end = slash ?: s + strlen(s);
        if (slash) {
                if (streq(slash + 1, "tcp") || streq(slash + 1, "udp"))
                        memcpy(p.protocol, slash + 1, 4);
                else
                        return -EINVAL;
        }
        /* The last two ':'-separated fields are the ports; what is before
         * them is the host IP (an IPv6 one in brackets). */
        last = memrchr(s, ':', (size_t) (end - s));
        if (!last)
                return -EINVAL;
        if (parse_port_number(last + 1, (size_t) (end - last - 1), &p.pod_port) < 0)
                return -EINVAL;
        mid = last > s ? memrchr(s, ':', (size_t) (last - s)) : NULL;
        if (!mid) {
                if (parse_port_number(s, (size_t) (last - s), &p.host_port) < 0)
                        return -EINVAL;
        } else {
                size_t iplen = (size_t) (mid - s);

                if (parse_port_number(mid + 1, (size_t) (last - mid - 1), &p.host_port) < 0)
                        return -EINVAL;
                if (iplen >= 2 && s[0] == '[' && s[iplen - 1] == ']')
                        ip = strndup(s + 1, iplen - 2);
                else
                        ip = strndup(s, iplen);
                if (!ip)
                        return -ENOMEM;
                if (!ip_is_valid(ip))
                        return -EINVAL;
        }
        p.host_ip = ip ? TAKE_PTR(ip) : strdup("");
        if (!p.host_ip)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static bool host_ip_is_any(const char *ip) {
        return isempty(ip) || streq(ip, "0.0.0.0") || streq(ip, "::");
}

bool pod_ports_overlap(const PodPort *a, const PodPort *b) {
        return streq(a->protocol, b->protocol) && a->host_port == b->host_port &&
               (host_ip_is_any(a->host_ip) || host_ip_is_any(b->host_ip) || streq(a->host_ip, b->host_ip));
}

int pod_port_check_host(const PodPort *p) {
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } sa = {};
        socklen_t len;
        _cleanup_close_ int fd = -EBADF;
        bool v6 = !isempty(p->host_ip) && strchr(p->host_ip, ':');

        if (v6) {
                sa.in6 = (struct sockaddr_in6) { .sin6_family = AF_INET6, .sin6_port = htons(p->host_port) };
                if (inet_pton(AF_INET6, p->host_ip, &sa.in6.sin6_addr) != 1)
                        return -EINVAL;
                len = sizeof(sa.in6);
        } else {
                sa.in = (struct sockaddr_in) { .sin_family = AF_INET, .sin_port = htons(p->host_port) };
                if (!isempty(p->host_ip) && inet_pton(AF_INET, p->host_ip, &sa.in.sin_addr) != 1)
                        return -EINVAL;
                len = sizeof(sa.in);
        }
        fd = socket(v6 ? AF_INET6 : AF_INET, (streq(p->protocol, "udp") ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        /* A connection of the past (TIME_WAIT) holds nothing. */
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int) { 1 }, sizeof(int)) < 0)
                return -errno;
        if (bind(fd, &sa.sa, len) < 0)
                /* An address this host does not have is the user's to fix,
                 * not ours to refuse: the DNAT rule works without it. */
                return errno == EADDRNOTAVAIL ? 0 : -errno;
        return 0;
}

int pod_ports_check(const struct Pod *p, struct Pod * const *pods, size_t n_pods, PeapodError *err) {
        const PodNetwork *net = &p->net;

        for (size_t i = 0; i < net->n_ports; i++) {
                const PodPort *port = &net->ports[i];
                int r;

                for (size_t j = 0; j < n_pods; j++) {
                        const struct Pod *o = pods[j];

                        /* Only a pod that may run claims its ports. */
                        if (o == p || streq(o->id, p->id) || o->state == POD_EXITED)
                                continue;
                        for (size_t k = 0; k < o->net.n_ports; k++)
                                if (pod_ports_overlap(port, &o->net.ports[k]))
                                        return peapod_error_set(err, -EADDRINUSE, "Host port %u/%s is published by pod %s already",
                                                                port->host_port, port->protocol, o->name);
                }
                r = pod_port_check_host(port);
                if (r == -EADDRINUSE)
                        return peapod_error_set(err, r, "Host port %u/%s is in use on the host", port->host_port, port->protocol);
                if (r < 0)
                        return peapod_error_set(err, r, "Failed to check host port %u/%s: %s", port->host_port,
                                                port->protocol, strerror(-r));
        }
        return 0;
}

/* The networks a spec names: "host" or "none" alone, or CNI networks
 * ("default" by default), each of which must have a configuration. */
static int spec_networks(const PodNetworkSpec *spec, const char *cni_conf_dir, PodNetwork *n, PeapodError *err) {
        int r;

        FOREACH_STRV(w, spec->networks) {
                const char *name = w;

                if (streq(name, "host") || streq(name, "none")) {
                        if (strv_length(spec->networks) != 1)
                                return peapod_error_set(err, -EINVAL, "Network '%s' cannot be combined with others", name);
                        n->mode = streq(name, "host") ? POD_NETWORK_HOST : POD_NETWORK_NONE;
                        break;
                }
                if (streq(name, "default"))
                        name = POD_NETWORK_DEFAULT;
                if (!cni_network_name_is_valid(name))
                        return peapod_error_set(err, -EINVAL,
                                                "Invalid network name '%s': use letters, digits, '_', '.' and '-'", name);
                if (strv_contains(n->networks, name))
                        return peapod_error_set(err, -EINVAL, "Network '%s' is given twice", name);
                r = strv_extend(&n->networks, name);
                if (r < 0)
                        return r;
        }
        if (n->mode == POD_NETWORK_CNI && !n->networks) {
                r = strv_extend(&n->networks, POD_NETWORK_DEFAULT);
                if (r < 0)
                        return r;
        }
        /* Refused now rather than at start: a typo should not make a pod. */
        FOREACH_STRV(w, n->networks) {
                _cleanup_json_ json_object *list = NULL;

                r = cni_conflist_load(cni_conf_dir, w, &list, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The ports a spec publishes: on CNI networks only, each host port once. */
static int spec_ports(const PodNetworkSpec *spec, PodNetwork *n, PeapodError *err) {
        if (spec->n_ports > 0 && n->mode != POD_NETWORK_CNI)
                return peapod_error_set(err, -EINVAL, "Ports can only be published on CNI networks, not with network '%s'",
                                        pod_network_mode_to_string(n->mode));
        if (spec->n_ports > POD_PORTS_MAX)
                return peapod_error_set(err, -E2BIG, "Too many ports (at most %d)", POD_PORTS_MAX);
        if (spec->n_ports > 0) {
                n->ports = calloc(spec->n_ports, sizeof(PodPort));
                if (!n->ports)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < spec->n_ports; i++) {
                const PodPort *p = &spec->ports[i];

                if (!pod_port_is_valid(p))
                        return peapod_error_set(err, -EINVAL, "Invalid port mapping %s:%u:%u/%s", strempty(p->host_ip),
                                                p->host_port, p->pod_port, p->protocol);
                for (size_t j = 0; j < i; j++)
                        if (pod_ports_overlap(&n->ports[j], p))
                                return peapod_error_set(err, -EINVAL, "Host port %u/%s is published twice",
                                                        p->host_port, p->protocol);
                memcpy(n->ports[i].protocol, p->protocol, sizeof(p->protocol));
                n->ports[i].host_port = p->host_port;
                n->ports[i].pod_port = p->pod_port;
                n->ports[i].host_ip = strdup(strempty(p->host_ip));
                n->n_ports++;
                if (!n->ports[i].host_ip)
                        return -ENOMEM;
        }
        return 0;
}

/* One word of resolv.conf's options line ("ndots:5", "single-request-reopen"):
 * letters, digits, '-' and '_', then optionally ':' and digits. Nothing else
 * may reach the file (a space or newline would add options or lines). */
static bool dns_option_is_valid(const char *s) {
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

        if (n == 0 || strlen(s) > POD_DNS_OPTION_LEN_MAX)
                return false;
        if (s[n] == 0)
                return true;
        return s[n] == ':' && s[n + 1] && strspn(s + n + 1, "0123456789") == strlen(s + n + 1);
}

static int spec_dns_hostname(const PodNetworkSpec *spec, PodNetwork *n, PeapodError *err) {
        if (strv_length(spec->dns) > POD_DNS_MAX)
                return peapod_error_set(err, -E2BIG, "Too many DNS servers (at most %d)", POD_DNS_MAX);
        FOREACH_STRV(d, spec->dns)
                if (!ip_is_valid(d))
                        return peapod_error_set(err, -EINVAL, "Invalid DNS server '%s': not an IP address", d);
        if (strv_length(spec->dns_search) > POD_DNS_SEARCH_MAX)
                return peapod_error_set(err, -E2BIG, "Too many DNS search domains (at most %d)", POD_DNS_SEARCH_MAX);
        FOREACH_STRV(d, spec->dns_search)
                if (!dns_domain_is_valid(d))
                        return peapod_error_set(err, -EINVAL, "Invalid DNS search domain '%s'", d);
        if (strv_length(spec->dns_options) > POD_DNS_OPTIONS_MAX)
                return peapod_error_set(err, -E2BIG, "Too many DNS options (at most %d)", POD_DNS_OPTIONS_MAX);
        FOREACH_STRV(d, spec->dns_options)
                if (!dns_option_is_valid(d))
                        return peapod_error_set(err, -EINVAL, "Invalid DNS option '%s' (resolv.conf options: NAME or NAME:NUMBER)", d);
        if (spec->dns_options) {
                n->dns_options = strv_copy(spec->dns_options);
                if (!n->dns_options)
                        return -ENOMEM;
        }
        if (spec->dns) {
                n->dns = strv_copy(spec->dns);
                if (!n->dns)
                        return -ENOMEM;
        }
        if (spec->dns_search) {
                n->dns_search = strv_copy(spec->dns_search);
                if (!n->dns_search)
                        return -ENOMEM;
        }
        if (!isempty(spec->hostname)) {
                if (!pod_name_is_valid(spec->hostname))
                        return peapod_error_set(err, -EINVAL,
                                                "Invalid hostname '%s': use 1-64 letters, digits, '.' and '-', not starting with '-' or '.'",
                                                spec->hostname);
                n->hostname = strdup(spec->hostname);
                if (!n->hostname)
                        return -ENOMEM;
        }
        return 0;
}

int pod_network_from_spec(const PodNetworkSpec *spec, const char *cni_conf_dir, PodNetwork *ret, PeapodError *err) {
        /* A new pod (a new id) has bound nothing on the bridge. */
        _cleanup_(pod_network_done) PodNetwork n = { .mode = POD_NETWORK_CNI, .unbound = true };
        int r;

        if (strv_length(spec->networks) > POD_NETWORKS_MAX)
                return peapod_error_set(err, -E2BIG, "Too many networks (at most %d)", POD_NETWORKS_MAX);
        r = spec_networks(spec, cni_conf_dir, &n, err);
        if (r < 0)
                return r;
        r = spec_ports(spec, &n, err);
        if (r < 0)
                return r;
        r = spec_dns_hostname(spec, &n, err);
        if (r < 0)
                return r;
        *ret = n;
        n = (PodNetwork) {};
        return 0;
}

int pod_network_to_json(const PodNetwork *n, json_object **ret) {
        _cleanup_json_ json_object *o = json_object_new_object();
        json_object *ports, *addrs;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "mode", json_object_new_string(pod_network_mode_to_string(n->mode)));
        json_object_object_add(o, "networks", json_new_strv(n->networks));
        ports = json_object_new_array();
        json_object_object_add(o, "ports", ports);
        for (size_t i = 0; i < n->n_ports; i++) {
                json_object *p = json_object_new_object();

                json_object_array_add(ports, p);
                json_object_object_add(p, "protocol", json_object_new_string(n->ports[i].protocol));
                json_object_object_add(p, "host_ip", json_object_new_string(strempty(n->ports[i].host_ip)));
                json_object_object_add(p, "host_port", json_object_new_int(n->ports[i].host_port));
                json_object_object_add(p, "pod_port", json_object_new_int(n->ports[i].pod_port));
        }
        json_object_object_add(o, "dns", json_new_strv(n->dns));
        json_object_object_add(o, "dns_search", json_new_strv(n->dns_search));
        if (n->dns_options)
                json_object_object_add(o, "dns_options", json_new_strv(n->dns_options));
        if (n->hostname)
                json_object_object_add(o, "hostname", json_object_new_string(n->hostname));
        addrs = json_object_new_array();
        json_object_object_add(o, "addresses", addrs);
        for (size_t i = 0; i < n->n_addresses; i++) {
                json_object *a = json_object_new_object();

                json_object_array_add(addrs, a);
                json_object_object_add(a, "network", json_object_new_string(n->addresses[i].network));
                json_object_object_add(a, "ifname", json_object_new_string(n->addresses[i].ifname));
                json_object_object_add(a, "address", json_object_new_string(n->addresses[i].address));
        }
        *ret = TAKE_PTR(o);
        return 0;
}

static int json_array_get(json_object *o, const char *key, size_t max, json_object **ret, size_t *ret_n) {
        json_object *v;

        if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
                *ret = NULL;
                *ret_n = 0;
                return 0;
        }
        if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) > max)
                return -EBADMSG;
        *ret = v;
        *ret_n = json_object_array_length(v);
        return 0;
}

/* "ports" of a saved network, each checked again. */
static int ports_from_json(json_object *o, PodNetwork *n) {
        json_object *a;
        const char *s;
        size_t k;
        int r;

        r = json_array_get(o, "ports", POD_PORTS_MAX, &a, &k);
        if (r < 0)
                return r;
        n->ports = calloc(k ?: 1, sizeof(PodPort));
        if (!n->ports)
                return -ENOMEM;
        for (size_t i = 0; i < k; i++) {
                json_object *j = json_object_array_get_idx(a, i);
                PodPort *p = &n->ports[i];
                int64_t hp, pp;

                if (!json_object_is_type(j, json_type_object))
                        return -EBADMSG;
                if (json_get_string(j, "protocol", &s) < 0 || strlen(s) != 3)
                        return -EBADMSG;
                memcpy(p->protocol, s, 4);
                if (json_get_string(j, "host_ip", &s) < 0)
                        return -EBADMSG;
                p->host_ip = strdup(s);
                n->n_ports++;
                if (!p->host_ip)
                        return -ENOMEM;
                if (json_get_int64(j, "host_port", &hp) < 0 || json_get_int64(j, "pod_port", &pp) < 0 || hp < 1 ||
                    hp > 65535 || pp < 1 || pp > 65535)
                        return -EBADMSG;
                p->host_port = (uint16_t) hp;
                p->pod_port = (uint16_t) pp;
                if (!pod_port_is_valid(p))
                        return -EBADMSG;
        }
        return 0;
}

/* "addresses": what CNI gave the pod, bounded as CNI results are. */
static int addresses_from_json(json_object *o, PodNetwork *n) {
        json_object *a;
        size_t k;
        int r;

        r = json_array_get(o, "addresses", POD_NETWORKS_MAX * CNI_RESULT_ITEMS_MAX, &a, &k);
        if (r < 0)
                return r;
        for (size_t i = 0; i < k; i++) {
                json_object *j = json_object_array_get_idx(a, i);
                const char *net, *ifn, *addr;

                if (!json_object_is_type(j, json_type_object) || json_get_string(j, "network", &net) < 0 ||
                    json_get_string(j, "ifname", &ifn) < 0 || json_get_string(j, "address", &addr) < 0 ||
                    strlen(net) > CNI_NAME_MAX || strlen(ifn) >= IFNAMSIZ || strlen(addr) > 64)
                        return -EBADMSG;
                r = pod_address_add(n, net, ifn, addr);
                if (r < 0)
                        return r;
        }
        return 0;
}

int pod_network_from_json(json_object *o, PodNetwork *ret) {
        _cleanup_(pod_network_done) PodNetwork n = { .mode = POD_NETWORK_NONE };
        const char *s;
        int r;

        if (!o) {
                *ret = n;
                n = (PodNetwork) {};
                return 0;
        }
        if (!json_object_is_type(o, json_type_object))
                return -EBADMSG;
        r = json_get_string(o, "mode", &s);
        if (r < 0)
                return r;
        n.mode = pod_network_mode_from_string(s);
        if (n.mode < 0)
                return -EBADMSG;
        if ((r = json_get_strv(o, "networks", &n.networks)) < 0 || (r = json_get_strv(o, "dns", &n.dns)) < 0 ||
            (r = json_get_strv(o, "dns_search", &n.dns_search)) < 0 ||
            (r = json_get_strv(o, "dns_options", &n.dns_options)) < 0)
                return r;
        if (strv_length(n.dns_options) > POD_DNS_OPTIONS_MAX)
                return -EBADMSG;
        FOREACH_STRV(w, n.dns_options)
                if (!dns_option_is_valid(w))
                        return -EBADMSG;
        if (strv_length(n.networks) > POD_NETWORKS_MAX || strv_length(n.dns) > POD_DNS_MAX ||
            strv_length(n.dns_search) > POD_DNS_SEARCH_MAX)
                return -EBADMSG;
        FOREACH_STRV(w, n.networks)
                if (!cni_network_name_is_valid(w))
                        return -EBADMSG;
        FOREACH_STRV(w, n.dns)
                if (!ip_is_valid(w))
                        return -EBADMSG;
        FOREACH_STRV(w, n.dns_search)
                if (!dns_domain_is_valid(w))
                        return -EBADMSG;
        r = json_get_string_opt(o, "hostname", &s);
        if (r < 0)
                return r;
        if (s) {
                if (!pod_name_is_valid(s))
                        return -EBADMSG;
                n.hostname = strdup(s);
                if (!n.hostname)
                        return -ENOMEM;
        }

        r = ports_from_json(o, &n);
        if (r < 0)
                return r;
        r = addresses_from_json(o, &n);
        if (r < 0)
                return r;
        *ret = n;
        n = (PodNetwork) {};
        return 0;
}

/* ---- the running side ---- */

int pod_netns_path(const PodRuntime *rt, const Pod *p, char **ret) {
        return asprintf(ret, "%s/netns/%s", pod_runtime_dir(rt), p->id) < 0 ? -ENOMEM : 0;
}

int pod_etc_dir(const PodRuntime *rt, const Pod *p, char **ret) {
        return pod_run_dir(rt, p, "etc", ret);
}

static int network_record_dir(const PodRuntime *rt, const Pod *p, char **ret) {
        return asprintf(ret, "%s/pods/%s/network", rt->state_dir, p->id) < 0 ? -ENOMEM : 0;
}

static bool netns_is_bound(const char *path) {
        struct statfs sfs;

        return statfs(path, &sfs) >= 0 && (uint64_t) sfs.f_type == (uint64_t) NSFS_MAGIC;
}

static int netns_unbind(const char *path) {
        for (int i = 0; i < 8 && netns_is_bound(path); i++)
                if (umount2(path, MNT_DETACH) < 0)
                        return -errno;
        if (unlink(path) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}

/* The pod's namespace outlives its init this way: DEL must still find the
 * interfaces after the pod stopped, and CNI_NETNS needs a path. */
static int netns_bind(const PodRuntime *rt, const Pod *p, char **ret_path) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *src = NULL;
        _cleanup_close_ int fd = -EBADF;
        int r;

        if (asprintf(&dir, "%s/netns", pod_runtime_dir(rt)) < 0 || pod_netns_path(rt, p, &path) < 0 ||
            asprintf(&src, "/proc/%d/ns/net", (int) p->leader) < 0)
                return -ENOMEM;
        r = mkdir_p(dir, 0755);
        if (r < 0)
                return r;
        r = netns_unbind(path);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0444);
        if (fd < 0)
                return -errno;
        fd = safe_close(fd);
        if (mount(src, path, NULL, MS_BIND, NULL) < 0) {
                r = -errno;
                (void) unlink(path);
                return r;
        }
        *ret_path = TAKE_PTR(path);
        return 0;
}

static int runtime_config_for(const Pod *p, size_t index, json_object **ret) {
        _cleanup_json_ json_object *rc = json_object_new_object();
        json_object *pm;

        if (!rc)
                return -ENOMEM;
        /* Ports are published on the first network only: the same host
         * port on two networks would be two rules fighting for it. */
        if (index == 0 && p->net.n_ports > 0) {
                pm = json_object_new_array();
                json_object_object_add(rc, "portMappings", pm);
                for (size_t i = 0; i < p->net.n_ports; i++) {
                        json_object *m = json_object_new_object();

                        json_object_array_add(pm, m);
                        json_object_object_add(m, "hostPort", json_object_new_int(p->net.ports[i].host_port));
                        json_object_object_add(m, "containerPort", json_object_new_int(p->net.ports[i].pod_port));
                        json_object_object_add(m, "protocol", json_object_new_string(p->net.ports[i].protocol));
                        json_object_object_add(m, "hostIP", json_object_new_string(strempty(p->net.ports[i].host_ip)));
                }
        }
        *ret = TAKE_PTR(rc);
        return 0;
}

static int record_write(const char *path, const char *network, const char *ifname, json_object *conflist,
                        json_object *runtime_config, json_object *result) {
        _cleanup_json_ json_object *o = json_object_new_object();
        const char *text;

        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "network", json_object_new_string(network));
        json_object_object_add(o, "ifname", json_object_new_string(ifname));
        json_object_object_add(o, "conflist", json_object_get(conflist));
        json_object_object_add(o, "runtimeConfig", json_object_get(runtime_config));
        if (result)
                json_object_object_add(o, "result", json_object_get(result));
        text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!text)
                return -ENOMEM;
        return write_file_atomic(path, text, strlen(text), 0600);
}

/* Whether a host-side interface is a bridge (which is not the pod's own
 * link, so machined should not list it). */
static bool interface_is_bridge(const char *name) {
        _cleanup_free_ char *p = NULL;
        struct stat st;

        if (strchr(name, '/') || asprintf(&p, "/sys/class/net/%s/bridge", name) < 0)
                return true;
        return stat(p, &st) >= 0;
}

/* /etc/hosts: localhost, then the pod's name on each address. */
static int etc_hosts_text(const Pod *p, const char *hostname, char **ret) {
        _cleanup_free_ char *hosts = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&hosts, &size);
        if (!f)
                return -ENOMEM;
        fprintf(f, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        for (size_t i = 0; i < p->net.n_addresses; i++) {
                const char *a = p->net.addresses[i].address;
                fprintf(f, "%.*s\t%s\n", (int) strcspn(a, "/"), a, hostname);
        }
        if (p->net.n_addresses == 0)
                fprintf(f, "127.0.1.1\t%s\n", hostname);
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(hosts);
        return 0;
}

/* /etc/resolv.conf: --dns/--dns-search/DNSOptions, else the host's. A nameserver on
 * the host's loopback (a local resolver such as systemd-resolved) is
 * unreachable from the pod's own namespace. */
static int etc_resolv_text(const Pod *p, char **ret) {
        _cleanup_free_ char *resolv = NULL, *host_resolv = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&resolv, &size);
        if (!f)
                return -ENOMEM;
        if (read_file("/etc/resolv.conf", RESOLV_CONF_MAX, &host_resolv, NULL) < 0)
                host_resolv = NULL;
        if (p->net.dns_search) {
                fputs("search", f);
                FOREACH_STRV(d, p->net.dns_search)
                        fprintf(f, " %s", d);
                fputc('\n', f);
        }
        if (p->net.dns)
                FOREACH_STRV(d, p->net.dns)
                        fprintf(f, "nameserver %s\n", d);
        if (p->net.dns_options) {
                fputs("options", f);
                FOREACH_STRV(d, p->net.dns_options)
                        fprintf(f, " %s", d);
                fputc('\n', f);
        }
        for (char *line = host_resolv, *next; line && *line; line = next) {
                const char *v;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                else
                        next = line + strlen(line);
                if ((v = startswith(line, "nameserver"))) {
                        v += strspn(v, " \t");
                        if (p->net.dns)
                                continue;
                        if (p->net.mode != POD_NETWORK_HOST && (startswith(v, "127.") || startswith(v, "::1")))
                                continue;
                        fprintf(f, "nameserver %s\n", v);
                } else if (startswith(line, "search") || startswith(line, "domain")) {
                        if (!p->net.dns_search)
                                fprintf(f, "%s\n", line);
                } else if (startswith(line, "options")) {
                        if (!p->net.dns_options)
                                fprintf(f, "%s\n", line);
                }
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(resolv);
        return 0;
}

static int write_etc_files(PodRuntime *rt, Pod *p) {
        _cleanup_free_ char *dir = NULL, *path = NULL, *hosts = NULL, *resolv = NULL, *hostname_line = NULL;
        const char *hostname = p->net.hostname ?: p->name;
        int r;

        r = pod_run_dir_make(rt, p, "etc", &dir);
        if (r < 0)
                return r;
        r = etc_hosts_text(p, hostname, &hosts);
        if (r < 0)
                return r;
        r = etc_resolv_text(p, &resolv);
        if (r < 0)
                return r;

        if (asprintf(&hostname_line, "%s\n", hostname) < 0)
                return -ENOMEM;
        const char *files[][2] = { { "hosts", hosts }, { "resolv.conf", resolv }, { "hostname", hostname_line } };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                free(path);
                if (asprintf(&path, "%s/%s", dir, files[i][0]) < 0)
                        return -ENOMEM;
                /* Not synced: written anew at every start of the pod,
                 * before any app can read them. */
                r = write_file_atomic_full(path, files[i][1], strlen(files[i][1]), 0644, 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The rules that bind the bridge port of one network's ADD result to the
 * pod (firewall.h): the host side of the veth pair (the one host-side
 * interface that is not a bridge), the pod side's MAC and IPv4 addresses.
 * A result without exactly one such host-side interface has no bridge port
 * of the pod's (macvlan, ipvlan, host-device): nothing to bind. */
static int port_rules_append(const Pod *p, const CniResult *res, char **rules, PeapodError *err) {
        const CniInterface *host = NULL, *pod = NULL;
        _cleanup_strv_free_ char **ipv4 = NULL;
        size_t n_host = 0;
        int r;

        for (size_t i = 0; i < res->n_interfaces; i++) {
                const CniInterface *ci = &res->interfaces[i];

                if (!isempty(ci->sandbox))
                        continue;
                if (!interface_is_bridge(ci->name)) {
                        host = ci;
                        n_host++;
                }
        }
        if (n_host != 1)
                return 0;
        for (size_t i = 0; i < res->n_ips; i++) {
                const CniIp *ip = &res->ips[i];
                const CniInterface *ci = ip->interface >= 0 ? &res->interfaces[ip->interface] : NULL;
                _cleanup_free_ char *a = NULL;

                if (!ci || isempty(ci->sandbox) || strchr(ip->address, ':'))
                        continue; /* on the host's side, or IPv6 */
                if (pod && !streq(pod->name, ci->name))
                        return peapod_error_set(err, -EINVAL, "Cannot bind bridge port %s: the CNI result has addresses on two pod interfaces",
                                                host->name);
                pod = ci;
                a = strndup(ip->address, strcspn(ip->address, "/"));
                if (!a)
                        return -ENOMEM;
                r = strv_consume(&ipv4, TAKE_PTR(a));
                if (r < 0)
                        return r;
        }
        /* No IPv4 address (an IPv6-only network): the pod's first interface. */
        for (size_t i = 0; !pod && i < res->n_interfaces; i++)
                if (!isempty(res->interfaces[i].sandbox))
                        pod = &res->interfaces[i];
        if (!pod)
                return peapod_error_set(err, -EINVAL, "Cannot bind bridge port %s: the CNI result names no pod interface",
                                        host->name);
        return firewall_port_rules_append(p->id, host->name, pod->mac, ipv4, rules, err);
}


/* A pod's networks come up one CNI chain after the other (each ADD needs
 * the previous networks' records on disk first), on an sd-event loop: the
 * plugins are children the loop watches (cni_chain_start()). */
struct PodNetworkStart {
        PodRuntime *rt;
        Pod *p;
        sd_event *event;
        sd_event_source *defer;
        char *netns, *records, *port_rules;
        int *ifindices;
        size_t n_ifindices;
        size_t index; /* the network being added */
        json_object *list, *rc;
        char *record, *ifname;
        CniChain *chain;
        FirewallOp *fw;
        /* Each network's conflist, read once for its host rules and its
         * ADD. */
        json_object **lists;
        size_t n_lists;
        /* The networks' host rules (masquerading, forwarding), beside the
         * guard and the ADDs: their op, what it installs
         * (PodRuntime.network_rules), and the end of the rest while it
         * still runs. */
        FirewallOp *rules_op;
        char **rules_keys;
        int rules_error;
        /* The loopback guard's look beside the ADDs, once this peapodd
         * found it whole or installed it (PodRuntime.loopback_guarded). */
        FirewallOp *guard;
        int guard_error;
        bool complete_waits;
        int complete_r;
        pod_network_added_t added;
        sd_event_source *added_defer;
        PodNetworkStop *undo;
        int error; /* of the failed start, while undo runs */
        PeapodError err;
        pod_network_callback_t callback;
        void *userdata;
};

static void network_add_clear(PodNetworkStart *ns) {
        ns->chain = cni_chain_free(ns->chain);
        json_object_put(TAKE_PTR(ns->list));
        json_object_put(TAKE_PTR(ns->rc));
        ns->record = mfree(ns->record);
        ns->ifname = mfree(ns->ifname);
}

PodNetworkStart *pod_network_start_free(PodNetworkStart *ns) {
        if (!ns)
                return NULL;
        network_add_clear(ns);
        firewall_op_free(ns->fw);
        firewall_op_free(ns->rules_op);
        firewall_op_free(ns->guard);
        sd_event_source_disable_unref(ns->added_defer);
        strv_free(ns->rules_keys);
        for (size_t i = 0; i < ns->n_lists; i++)
                json_object_put(ns->lists[i]);
        free(ns->lists);
        pod_network_stop_free(ns->undo);
        sd_event_source_disable_unref(ns->defer);
        sd_event_unref(ns->event);
        free(ns->netns);
        free(ns->records);
        free(ns->port_rules);
        free(ns->ifindices);
        return mfree(ns);
}

void pod_network_start_on_added(PodNetworkStart *ns, pod_network_added_t added) {
        ns->added = added;
}

static int on_added_defer(sd_event_source *es, void *userdata) {
        PodNetworkStart *ns = userdata;

        ns->added_defer = sd_event_source_disable_unref(ns->added_defer);
        ns->added(ns, ns->userdata);
        return 0;
}

int pod_network_start_ifindices(PodNetworkStart *ns, int **ret, size_t *ret_n) {
        *ret = TAKE_PTR(ns->ifindices);
        *ret_n = ns->n_ifindices;
        ns->n_ifindices = 0;
        return 0;
}

/* Before the ADD of network index: its config (read at the start, with
 * its host rules), and its record on disk. */
static int network_add_begin(PodNetworkStart *ns) {
        Pod *p = ns->p;
        const char *network = p->net.networks[ns->index];
        int r;

        if (asprintf(&ns->ifname, "eth%zu", ns->index) < 0 || asprintf(&ns->record, "%s/%02zu.json", ns->records, ns->index) < 0)
                return -ENOMEM;
        if (ns->index >= ns->n_lists)
                return -EINVAL;
        ns->list = json_object_get(ns->lists[ns->index]);
        r = runtime_config_for(p, ns->index, &ns->rc);
        if (r < 0)
                return r;
        /* Recorded before the ADD: whatever the plugins do before a crash
         * can be deleted again from this record. */
        r = record_write(ns->record, network, ns->ifname, ns->list, ns->rc, NULL);
        if (r < 0)
                return peapod_error_set(&ns->err, r, "Failed to write %s: %s", ns->record, strerror(-r));
        return 0;
}

/* After the ADD: the result recorded, the addresses, the port rules and
 * the host-side interfaces taken from it. */
static int network_add_end(PodNetworkStart *ns, json_object *result) {
        _cleanup_(cni_result_freep) CniResult *res = NULL;
        Pod *p = ns->p;
        const char *network = p->net.networks[ns->index];
        int r;

        r = record_write(ns->record, network, ns->ifname, ns->list, ns->rc, result);
        if (r < 0)
                return peapod_error_set(&ns->err, r, "Failed to write %s: %s", ns->record, strerror(-r));

        r = cni_result_from_json(result, &res);
        if (r < 0)
                return peapod_error_set(&ns->err, r, "Network %s: the result cannot be read", network);
        for (size_t i = 0; i < res->n_ips; i++) {
                const CniIp *ip = &res->ips[i];
                const char *itf = ns->ifname;

                if (ip->interface >= 0) {
                        const CniInterface *ci = &res->interfaces[ip->interface];
                        if (isempty(ci->sandbox))
                                continue; /* an address on the host's side */
                        itf = ci->name;
                }
                r = pod_address_add(&p->net, network, itf, ip->address);
                if (r < 0)
                        return r;
        }
        r = port_rules_append(p, res, &ns->port_rules, &ns->err);
        if (r < 0)
                return peapod_error_prefix(&ns->err, r, "Network %s", network);
        for (size_t i = 0; i < res->n_interfaces; i++) {
                const CniInterface *ci = &res->interfaces[i];
                unsigned idx;
                int *n;

                if (!isempty(ci->sandbox) || interface_is_bridge(ci->name))
                        continue;
                idx = if_nametoindex(ci->name);
                if (idx == 0)
                        continue;
                n = reallocarray(ns->ifindices, ns->n_ifindices + 1, sizeof(int));
                if (!n)
                        return -ENOMEM;
                ns->ifindices = n;
                n[ns->n_ifindices++] = (int) idx;
        }
        return 0;
}

static void on_start_undone(PodNetworkStop *stop, int r, const PeapodError *err, void *userdata) {
        PodNetworkStart *ns = userdata;

        /* A DEL that failed keeps its record: the next stop or removal
         * tries again. The start's own error is what the caller hears. */
        ns->undo = pod_network_stop_free(ns->undo);
        ns->callback(ns, ns->error, &ns->err, ns->userdata);
}

/* The end: on failure what was added is deleted again (its DELs, as
 * children of the loop too), then the caller hears of it, last. */
static void network_start_complete(PodNetworkStart *ns, int r) {
        if (ns->rules_op || ns->guard) {
                /* Its end goes on from here (on_network_rules_done(),
                 * on_loopback_looked()). */
                ns->complete_waits = true;
                ns->complete_r = r;
                return;
        }
        if (r >= 0)
                r = ns->rules_error;
        if (r >= 0)
                r = ns->guard_error;
        if (r >= 0) {
                r = write_etc_files(ns->rt, ns->p);
                if (r < 0)
                        peapod_error_set(&ns->err, r, "Failed to write the pod's /etc files: %s", strerror(-r));
        }
        if (r < 0) {
                int k;

                ns->error = r;
                k = pod_network_stop_async(ns->rt, ns->event, ns->p, false, on_start_undone, ns, &ns->undo);
                if (k >= 0)
                        return;
                (void) pod_network_stop(ns->rt, ns->p, false, NULL);
        }
        ns->callback(ns, r, &ns->err, ns->userdata);
}

/* A firewall op of the start has ended: its error kept (the first one
 * wins; err is the op's own, read before the op is freed), the op freed. */
static void network_op_end(PodNetworkStart *ns, FirewallOp **op, int r, const PeapodError *err) {
        if (r < 0 && !peapod_error_is_set(&ns->err))
                ns->err = *err;
        *op = firewall_op_free(*op);
}

static void on_ports_bound(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        PodNetworkStart *ns = userdata;

        trace_point("net-bound");
        network_op_end(ns, &ns->fw, r, err);
        network_start_complete(ns, r);
}

static bool port_unbind_cancel(PodRuntime *rt, const char *pod_id);

static void network_start_end(PodNetworkStart *ns, int r) {
        network_add_clear(ns);
        /* From the loop: the hook may end the start, and ns with it. If
         * it cannot be, the start's callback stands in for it. */
        if (r >= 0 && ns->added)
                (void) sd_event_add_defer(ns->event, &ns->added_defer, on_added_defer, ns);
        if (r >= 0 && ns->port_rules) {
                /* Before any app runs: an app that retains NET_RAW must not
                 * speak for other pods or the gateway on the bridge. */
                /* A removal of this pod's last binding still under way
                 * ends here; the bind looks for what it left. */
                bool fresh = !port_unbind_cancel(ns->rt, ns->p->id) && ns->p->net.unbound;

                ns->p->net.unbound = false;
                r = firewall_pod_ports_bind_async(ns->event, ns->p->id, ns->port_rules, fresh, on_ports_bound, ns,
                                                  &ns->fw);
                if (r >= 0)
                        return;
        }
        network_start_complete(ns, r);
}

static void network_add_next(PodNetworkStart *ns);

static void on_network_added(CniChain *chain, int r, json_object *result, const PeapodError *err, void *userdata) {
        PodNetworkStart *ns = userdata;

        trace_point("net-added");
        if (r < 0) {
                if (!peapod_error_is_set(&ns->err))
                        ns->err = *err;
                return network_start_end(ns, peapod_error_prefix(&ns->err, r, "Network %s", ns->p->net.networks[ns->index]));
        }
        r = network_add_end(ns, result);
        if (r < 0)
                return network_start_end(ns, r);
        network_add_clear(ns);
        ns->index++;
        network_add_next(ns);
}

static void network_add_next(PodNetworkStart *ns) {
        PodRuntime *rt = ns->rt;
        Pod *p = ns->p;
        int r;

        if (p->net.mode != POD_NETWORK_CNI || !p->net.networks || !p->net.networks[ns->index])
                return network_start_end(ns, 0);
        r = network_add_begin(ns);
        if (r >= 0) {
                CniContext c = {
                        .plugin_dirs = rt->cni_plugin_dirs ?: STRV_MAKE(CNI_DEFAULT_PLUGIN_DIR),
                        .container_id = p->id,
                        .netns = ns->netns,
                        .ifname = ns->ifname,
                };
                r = cni_chain_start(ns->event, &c, "ADD", ns->list, ns->rc, NULL, on_network_added, ns, &ns->chain);
        }
        if (r < 0)
                network_start_end(ns, r);
}

static void on_loopback_guarded(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        PodNetworkStart *ns = userdata;

        trace_point("net-guarded");
        network_op_end(ns, &ns->fw, r, err);
        if (r < 0)
                return network_start_end(ns, r);
        ns->rt->loopback_guarded = true;
        network_add_next(ns);
}

/* The same beside the ADDs: the start ends when both have. */
static void on_loopback_looked(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        PodNetworkStart *ns = userdata;

        trace_point("net-guarded");
        network_op_end(ns, &ns->guard, r, err);
        ns->guard_error = r < 0 ? r : 0;
        if (r < 0)
                ns->rt->loopback_guarded = false;
        if (ns->complete_waits)
                network_start_complete(ns, ns->complete_r);
}

static void on_network_rules_done(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        PodNetworkStart *ns = userdata;
        PodRuntime *rt = ns->rt;

        trace_point("net-rules");
        network_op_end(ns, &ns->rules_op, r, err);
        if (r >= 0)
                FOREACH_STRV(k, ns->rules_keys)
                        if (!strv_contains(rt->network_rules, k))
                                (void) strv_extend(&rt->network_rules, k);
        ns->rules_error = r < 0 ? r : 0;
        if (ns->complete_waits)
                network_start_complete(ns, ns->complete_r);
}

/* What identifies a network's rules as installed: its name and all that
 * goes into them. */
static int network_rules_key(const char *network, const CniHostRules *rules, char **ret) {
        _cleanup_free_ char *joined = strv_join(rules->subnets, " ");

        if (!joined || asprintf(ret, "%s masquerade=%d forward=%s %s", network, rules->masquerade,
                                strempty(rules->forward_bridge), joined) < 0)
                return -ENOMEM;
        return 0;
}

/* The host rules of each of the pod's networks whose conflist asks for
 * them (cni_conflist_host_rules(): masquerading, forwarding), beside the
 * guard and the ADDs: they are needed before the apps run, not before
 * the plugins. Installed whole at the first start after peapodd's own (or
 * after its conflist changed them); then each start only looks at the
 * jumps, which costs no commit. The conflists are read here, for the ADDs
 * too. */
static int network_rules_start(PodNetworkStart *ns) {
        PodRuntime *rt = ns->rt;
        char * const *networks = ns->p->net.networks;
        size_t n = strv_length(networks), n_nets = 0;
        _cleanup_free_ FirewallNetwork *nets = NULL;
        _cleanup_free_ CniHostRules *rules = NULL;
        bool known = true;
        int r = 0;

        rules = calloc(n + 1, sizeof(CniHostRules));
        nets = calloc(n + 1, sizeof(FirewallNetwork));
        ns->lists = calloc(n + 1, sizeof(json_object *));
        if (!rules || !nets || !ns->lists)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                _cleanup_free_ char *key = NULL;
                CniHostRules *nr = &rules[n_nets];

                r = cni_conflist_load(rt->cni_conf_dir ?: CNI_DEFAULT_CONF_DIR, networks[i], &ns->lists[i], &ns->err);
                if (r >= 0) {
                        ns->n_lists++;
                        r = cni_conflist_host_rules(ns->lists[i], nr, &ns->err);
                }
                if (r < 0) {
                        r = peapod_error_prefix(&ns->err, r, "Network %s", networks[i]);
                        break;
                }
                if (!nr->subnets)
                        continue;
                nets[n_nets++] = (FirewallNetwork) { .network = networks[i],
                                                     .subnets = nr->subnets,
                                                     .masquerade = nr->masquerade,
                                                     .forward_bridge = nr->forward_bridge };
                r = network_rules_key(networks[i], nr, &key);
                if (r >= 0) {
                        known = known && strv_contains(rt->network_rules, key);
                        r = strv_consume(&ns->rules_keys, TAKE_PTR(key));
                }
        }
        if (r >= 0 && n_nets > 0)
                r = firewall_network_rules_async(ns->event, nets, n_nets, known, on_network_rules_done, ns, &ns->rules_op);
        for (size_t i = 0; i < n_nets; i++)
                cni_host_rules_done(&rules[i]);
        return r;
}

static int on_network_start(sd_event_source *es, void *userdata) {
        PodNetworkStart *ns = userdata;
        int r;

        ns->defer = sd_event_source_disable_unref(ns->defer);
        if (ns->p->net.mode != POD_NETWORK_CNI) {
                network_add_next(ns);
                return 0;
        }
        /* Before any plugin runs: portmap may turn on route_localnet, and
         * the pod must never reach the host's loopback through it
         * (firewall.h). Refused when it cannot be installed rather than
         * started unguarded. Once this peapodd found it whole or installed
         * it, route_localnet is guarded already (only an operator's flush
         * since could have undone that, and then the look repairs it
         * while the plugins run): the look goes beside the ADDs, ~3-6 ms
         * sooner, and the pod's apps still wait for both. */
        r = network_rules_start(ns);
        if (r >= 0 && ns->rt->loopback_guarded) {
                r = firewall_loopback_guard_async(ns->event, on_loopback_looked, ns, &ns->guard);
                if (r >= 0) {
                        network_add_next(ns);
                        return 0;
                }
        } else if (r >= 0)
                r = firewall_loopback_guard_async(ns->event, on_loopback_guarded, ns, &ns->fw);
        if (r < 0)
                network_start_end(ns, r);
        return 0;
}

int pod_network_start_async(PodRuntime *rt, sd_event *e, Pod *p, pod_network_callback_t callback, void *userdata,
                            PodNetworkStart **ret, PeapodError *err) {
        _cleanup_(pod_network_start_freep) PodNetworkStart *ns = NULL;
        int r;

        ns = calloc(1, sizeof(PodNetworkStart));
        if (!ns)
                return -ENOMEM;
        ns->rt = rt;
        ns->p = p;
        ns->event = sd_event_ref(e);
        ns->callback = callback;
        ns->userdata = userdata;
        pod_network_clear_addresses(&p->net);
        if (p->net.mode == POD_NETWORK_CNI) {
                if (p->leader <= 1)
                        return -ESRCH;
                r = network_record_dir(rt, p, &ns->records);
                if (r < 0)
                        return r;
                r = mkdir_p(ns->records, 0700);
                if (r < 0)
                        return peapod_error_set(err, r, "Failed to create %s: %s", ns->records, strerror(-r));
                r = netns_bind(rt, p, &ns->netns);
                if (r < 0)
                        return peapod_error_set(err, r, "Failed to bind the pod's network namespace: %s", strerror(-r));
        }
        /* The rest from the loop: the callback never runs before this returns. */
        r = sd_event_add_defer(e, &ns->defer, on_network_start, ns);
        if (r < 0) {
                (void) pod_network_stop(rt, p, false, NULL);
                return r;
        }
        *ret = TAKE_PTR(ns);
        return 0;
}

typedef struct NetworkWait {
        bool done;
        int r;
        PeapodError *err;
} NetworkWait;

static void on_network_sync_done(PodNetworkStart *ns, int r, const PeapodError *err, void *userdata) {
        NetworkWait *w = userdata;

        w->done = true;
        w->r = r;
        if (r < 0 && w->err && !peapod_error_is_set(w->err))
                *w->err = *err;
}

int pod_network_start(PodRuntime *rt, Pod *p, int **ret_ifindices, size_t *ret_n_ifindices, PeapodError *err) {
        _cleanup_(pod_network_start_freep) PodNetworkStart *ns = NULL;
        NetworkWait w = { .err = err };
        SpawnLoop l;
        int r;

        r = spawn_loop_open(&l);
        if (r < 0)
                return r;
        r = pod_network_start_async(rt, l.event, p, on_network_sync_done, &w, &ns, err);
        if (r >= 0)
                r = spawn_loop_run(&l, &w.done);
        if (r >= 0)
                r = w.r;
        if (r >= 0 && ret_ifindices)
                (void) pod_network_start_ifindices(ns, ret_ifindices, ret_n_ifindices);
        ns = pod_network_start_free(ns);
        spawn_loop_close(&l);
        return r;
}

static int record_compare_desc(const void *a, const void *b) {
        return -strcmp(*(char * const *) a, *(char * const *) b);
}

static void on_network_deleted(CniChain *chain, int r, json_object *result, const PeapodError *err, void *userdata);

/* DEL of every record, one CNI chain after the other in the reverse order
 * of the ADDs, on an sd-event loop; then the namespace goes. */
struct PodNetworkStop {
        PodRuntime *rt;
        Pod *p;
        bool force;
        bool unbind_later; /* the binding after the DELs, unwaited for */
        sd_event *event;
        sd_event_source *defer;
        char *records, *netns;
        char **files;
        size_t index;
        int error;
        char *path, *network; /* of the record being deleted */
        CniChain *chain;
        FirewallOp *fw;
        PeapodError err;
        pod_network_stop_callback_t callback;
        void *userdata;
};

PodNetworkStop *pod_network_stop_free(PodNetworkStop *ns) {
        if (!ns)
                return NULL;
        cni_chain_free(ns->chain);
        firewall_op_free(ns->fw);
        sd_event_source_disable_unref(ns->defer);
        sd_event_unref(ns->event);
        free(ns->records);
        free(ns->netns);
        strv_free(ns->files);
        free(ns->path);
        free(ns->network);
        return mfree(ns);
}

/* Reads the record at ns->path and starts its DEL. */
static int network_del_begin(PodNetworkStop *ns, PeapodError *err) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_object *o = NULL, *list = NULL;
        json_object *conflist, *rc = NULL, *result = NULL;
        const char *ifname, *network;
        size_t size;
        int r;

        r = read_file(ns->path, NETWORK_RECORD_MAX, &text, &size);
        if (r < 0)
                return peapod_error_set(err, r, "Failed to read %s: %s", ns->path, strerror(-r));
        if (json_parse_untrusted(text, size, NETWORK_RECORD_MAX, NETWORK_RECORD_DEPTH_MAX, &o, NULL) < 0 ||
            !json_object_is_type(o, json_type_object) || json_get_string(o, "ifname", &ifname) < 0 ||
            json_get_string(o, "network", &network) < 0 || !json_object_object_get_ex(o, "conflist", &conflist) ||
            strlen(ifname) >= IFNAMSIZ)
                return peapod_error_set(err, -EBADMSG, "%s is not a network record", ns->path);
        /* Checked as strictly as a file from /etc/cni/net.d. */
        {
                const char *t = json_object_to_json_string_ext(conflist, JSON_C_TO_STRING_PLAIN);
                r = cni_conflist_parse(t, strlen(t), false, &list, err);
                if (r < 0)
                        return peapod_error_prefix(err, r, "%s", ns->path);
        }
        (void) json_object_object_get_ex(o, "runtimeConfig", &rc);
        if (rc && !json_object_is_type(rc, json_type_object))
                rc = NULL;
        (void) json_object_object_get_ex(o, "result", &result);
        if (result && !json_object_is_type(result, json_type_object))
                result = NULL;
        ns->network = strdup(network);
        if (!ns->network)
                return -ENOMEM;

        CniContext c = {
                .plugin_dirs = ns->rt->cni_plugin_dirs ?: STRV_MAKE(CNI_DEFAULT_PLUGIN_DIR),
                .container_id = ns->p->id,
                .netns = ns->netns,
                .ifname = ifname,
        };
        return cni_chain_start(ns->event, &c, "DEL", list, rc, result, on_network_deleted, ns, &ns->chain);
}

/* The first 20 hex digits of a pod id: the chain's name has them. */
#define PORT_UNBIND_ID_LEN 20

typedef struct PortUnbind {
        PodRuntime *rt;
        char pod_id[PORT_UNBIND_ID_LEN + 1];
        FirewallOp *op;
} PortUnbind;

static size_t port_unbind_index(const PodRuntime *rt, const char *pod_id) {
        for (size_t i = 0; i < rt->n_port_unbinds; i++)
                if (strneq(rt->port_unbinds[i]->pod_id, pod_id, PORT_UNBIND_ID_LEN))
                        return i;
        return SIZE_MAX;
}

static PortUnbind *port_unbind_take(PodRuntime *rt, size_t i) {
        PortUnbind *u = rt->port_unbinds[i];

        memmove(rt->port_unbinds + i, rt->port_unbinds + i + 1, sizeof(PortUnbind *) * (rt->n_port_unbinds - i - 1));
        rt->n_port_unbinds--;
        return u;
}

static void port_unbind_free(PortUnbind *u) {
        firewall_op_free(u->op);
        free(u);
}

static void on_port_unbind_done(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        PortUnbind *u = userdata;
        size_t i = port_unbind_index(u->rt, u->pod_id);

        trace_point("net-unbound");
        if (r < 0)
                log_warning_errno(r, "Failed to remove the bridge binding of pod %s: %s", u->pod_id,
                                  peapod_error_is_set(err) ? err->message : strerror(-r));
        if (i != SIZE_MAX)
                port_unbind_free(port_unbind_take(u->rt, i));
}

int pod_network_unbind_ports_later(PodRuntime *rt, const char *pod_id) {
        PortUnbind *u, **l;
        int r;

        if (!rt->background_event || strlen(pod_id) < PORT_UNBIND_ID_LEN)
                return -EINVAL;
        if (port_unbind_index(rt, pod_id) != SIZE_MAX)
                return 0;
        l = reallocarray(rt->port_unbinds, rt->n_port_unbinds + 1, sizeof(PortUnbind *));
        if (!l)
                return -ENOMEM;
        rt->port_unbinds = l;
        u = calloc(1, sizeof(PortUnbind));
        if (!u)
                return -ENOMEM;
        u->rt = rt;
        memcpy(u->pod_id, pod_id, PORT_UNBIND_ID_LEN);
        r = firewall_pod_ports_unbind_async(rt->background_event, u->pod_id, on_port_unbind_done, u, &u->op);
        if (r < 0) {
                free(u);
                return r;
        }
        rt->port_unbinds[rt->n_port_unbinds++] = u;
        return 0;
}

/* Ends a removal under way for the pod (its tool killed): true if there
 * was one, and the chain may or may not be there now. */
static bool port_unbind_cancel(PodRuntime *rt, const char *pod_id) {
        size_t i = port_unbind_index(rt, pod_id);

        if (i == SIZE_MAX)
                return false;
        port_unbind_free(port_unbind_take(rt, i));
        return true;
}

void pod_runtime_port_unbinds_free(PodRuntime *rt) {
        for (size_t i = 0; i < rt->n_port_unbinds; i++)
                port_unbind_free(rt->port_unbinds[i]);
        rt->port_unbinds = mfree(rt->port_unbinds);
        rt->n_port_unbinds = 0;
}

static void network_stop_end(PodNetworkStop *ns) {
        int r = ns->error;

        /* The binding's turn, now that the veths it names are gone; nobody
         * waits for it. */
        if (ns->unbind_later && ns->p->net.mode == POD_NETWORK_CNI && !ns->p->net.unbound) {
                int k = pod_network_unbind_ports_later(ns->rt, ns->p->id);

                if (k < 0)
                        log_warning_errno(k, "Failed to remove the bridge binding of pod %s: %m", ns->p->name);
        }

        if (r >= 0 || ns->force) {
                int k;

                (void) rmdir(ns->records);
                k = netns_unbind(ns->netns);
                trace_point("net-ns-unbound");
                if (k < 0) {
                        peapod_error_set(ns->error < 0 ? NULL : &ns->err, k, "Failed to unbind %s: %s", ns->netns,
                                         strerror(-k));
                        if (r >= 0)
                                r = k;
                } else
                        pod_network_clear_addresses(&ns->p->net);
        }
        /* Otherwise the namespace stays for the next try. */
        ns->callback(ns, r, &ns->err, ns->userdata);
}

static void network_del_next(PodNetworkStop *ns) {
        /* The reverse of the order of the ADDs, as the spec asks. */
        while (ns->files && ns->files[ns->index]) {
                PeapodError *err = ns->error < 0 ? NULL : &ns->err;
                int r;

                ns->path = mfree(ns->path);
                ns->network = mfree(ns->network);
                if (asprintf(&ns->path, "%s/%s", ns->records, ns->files[ns->index++]) < 0)
                        r = -ENOMEM;
                else
                        r = network_del_begin(ns, err);
                if (r >= 0)
                        return; /* on_network_deleted() goes on */
                if (ns->error >= 0)
                        ns->error = r;
                if (ns->force && ns->path)
                        (void) unlink(ns->path);
        }
        network_stop_end(ns);
}

static void on_network_deleted(CniChain *chain, int r, json_object *result, const PeapodError *err, void *userdata) {
        PodNetworkStop *ns = userdata;
        PeapodError e = {};

        trace_point("net-deleted");
        /* err is the chain's own: copied before the chain is freed. */
        if (err)
                e = *err;
        ns->chain = cni_chain_free(ns->chain);
        if (r >= 0 && unlink(ns->path) < 0 && errno != ENOENT)
                r = -errno;
        if (r < 0) {
                if (ns->error >= 0) {
                        if (peapod_error_is_set(&e))
                                ns->err = e;
                        (void) peapod_error_prefix(&ns->err, r, "Network %s", strna(ns->network));
                        ns->error = r;
                }
                if (ns->force)
                        (void) unlink(ns->path);
        }
        network_del_next(ns);
}

static void on_ports_unbound(FirewallOp *op, int r, const PeapodError *err, void *userdata) {
        PodNetworkStop *ns = userdata;

        trace_point("net-unbound");
        /* err is the op's own: read before the op is freed. */
        if (r < 0) {
                ns->err = *err;
                ns->error = r;
        } else
                ns->p->net.unbound = true;
        ns->fw = firewall_op_free(ns->fw);
        network_del_next(ns);
}

static int on_network_stop(sd_event_source *es, void *userdata) {
        PodNetworkStop *ns = userdata;
        int r;

        ns->defer = sd_event_source_disable_unref(ns->defer);
        /* Without a loop to leave it to, the binding goes before the DELs:
         * its rules name the veths. */
        if (!ns->unbind_later && ns->p->net.mode == POD_NETWORK_CNI && !ns->p->net.unbound) {
                r = firewall_pod_ports_unbind_async(ns->event, ns->p->id, on_ports_unbound, ns, &ns->fw);
                if (r >= 0)
                        return 0;
                ns->error = r;
        }
        network_del_next(ns);
        return 0;
}

bool pod_network_needs_stop(const PodRuntime *rt, const Pod *p) {
        _cleanup_free_ char *records = NULL, *netns = NULL;

        if (p->net.mode == POD_NETWORK_CNI || p->net.n_addresses > 0)
                return true;
        /* Another mode now, but records or a namespace of an earlier one. */
        if (network_record_dir(rt, p, &records) < 0 || pod_netns_path(rt, p, &netns) < 0)
                return true;
        return access(records, F_OK) >= 0 || access(netns, F_OK) >= 0;
}

bool pod_network_owed(const PodRuntime *rt, const Pod *p) {
        _cleanup_free_ char *records = NULL, *netns = NULL;
        struct dirent *de;
        bool owed = false;
        DIR *d;

        if (network_record_dir(rt, p, &records) < 0 || pod_netns_path(rt, p, &netns) < 0)
                return true;
        /* The stop unbinds the namespace last, and only when every DEL
         * (and the ports' unbinding before them) succeeded. */
        if (access(netns, F_OK) >= 0)
                return true;
        d = opendir(records);
        if (!d)
                return errno != ENOENT;
        while (!owed && (de = readdir(d)))
                owed = de->d_name[0] != '.' && endswith(de->d_name, ".json");
        closedir(d);
        return owed;
}

int pod_network_stop_async(PodRuntime *rt, sd_event *e, Pod *p, bool force, pod_network_stop_callback_t callback,
                           void *userdata, PodNetworkStop **ret) {
        _cleanup_(pod_network_stop_freep) PodNetworkStop *ns = NULL;
        DIR *d;
        struct dirent *de;
        int r = 0;

        ns = calloc(1, sizeof(PodNetworkStop));
        if (!ns)
                return -ENOMEM;
        ns->rt = rt;
        ns->p = p;
        ns->force = force;
        ns->unbind_later = rt->background_event && rt->background_event == e;
        ns->event = sd_event_ref(e);
        ns->callback = callback;
        ns->userdata = userdata;
        r = network_record_dir(rt, p, &ns->records);
        if (r < 0)
                return r;
        r = pod_netns_path(rt, p, &ns->netns);
        if (r < 0)
                return r;
        d = opendir(ns->records);
        if (d) {
                while ((de = readdir(d))) {
                        if (de->d_name[0] == '.' || !endswith(de->d_name, ".json"))
                                continue;
                        if (strv_length(ns->files) >= POD_NETWORKS_MAX * 4)
                                break;
                        r = strv_extend(&ns->files, de->d_name);
                        if (r < 0)
                                break;
                }
                closedir(d);
                if (r < 0)
                        return r;
        } else if (errno != ENOENT)
                return -errno;
        if (ns->files)
                qsort(ns->files, strv_length(ns->files), sizeof(char *), record_compare_desc);

        r = sd_event_add_defer(e, &ns->defer, on_network_stop, ns);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(ns);
        return 0;
}

typedef struct NetworkStopWait {
        bool done;
        int r;
        PeapodError *err;
} NetworkStopWait;

static void on_network_stop_sync_done(PodNetworkStop *ns, int r, const PeapodError *err, void *userdata) {
        NetworkStopWait *w = userdata;

        w->done = true;
        w->r = r;
        if (r < 0 && w->err && !peapod_error_is_set(w->err))
                *w->err = *err;
}

int pod_network_stop(PodRuntime *rt, Pod *p, bool force, PeapodError *err) {
        _cleanup_(pod_network_stop_freep) PodNetworkStop *ns = NULL;
        NetworkStopWait w = { .err = err };
        SpawnLoop l;
        int r;

        r = spawn_loop_open(&l);
        if (r < 0)
                return r;
        r = pod_network_stop_async(rt, l.event, p, force, on_network_stop_sync_done, &w, &ns);
        if (r >= 0)
                r = spawn_loop_run(&l, &w.done);
        if (r >= 0)
                r = w.r;
        ns = pod_network_stop_free(ns);
        spawn_loop_close(&l);
        return r;
}
