/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* CNI: parsing of configs and results, and running plugins (small shell
 * scripts standing in for plugins, so that every byte they get and give
 * is known). The real plugins run in tests/integration/test-net*.sh. */
#include <arpa/inet.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "cni.h"
#include "firewall.h"
#include "fs-util.h"
#include "json-util.h"
#include "pod-network.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static char tmpdir[] = "/tmp/test-cni-XXXXXX";

static void write_text(const char *name, const char *text, mode_t mode) {
        _cleanup_free_ char *p = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", tmpdir, name) >= 0);
        ASSERT_OK(write_file_atomic(p, text, strlen(text), mode));
}

TEST(network_names) {
        ASSERT_TRUE(cni_network_name_is_valid("peapod"));
        ASSERT_TRUE(cni_network_name_is_valid("my_net.1-a"));
        ASSERT_FALSE(cni_network_name_is_valid(""));
        ASSERT_FALSE(cni_network_name_is_valid("-a"));
        ASSERT_FALSE(cni_network_name_is_valid("a/b"));
        ASSERT_FALSE(cni_network_name_is_valid("a b"));
}

TEST(ports) {
        PodPort p = {};

        ASSERT_OK(pod_port_parse("8080:80", &p));
        ASSERT_STREQ(p.protocol, "tcp");
        ASSERT_STREQ(p.host_ip, "");
        ASSERT_TRUE(p.host_port == 8080 && p.pod_port == 80);
        pod_port_done(&p);
        ASSERT_OK(pod_port_parse("127.0.0.1:53:5353/udp", &p));
        ASSERT_STREQ(p.protocol, "udp");
        ASSERT_STREQ(p.host_ip, "127.0.0.1");
        ASSERT_TRUE(p.host_port == 53 && p.pod_port == 5353);
        pod_port_done(&p);
        ASSERT_OK(pod_port_parse("[::1]:8443:443", &p));
        ASSERT_STREQ(p.host_ip, "::1");
        pod_port_done(&p);
        ASSERT_OK(pod_port_parse("65535:1/tcp", &p));
        pod_port_done(&p);
        FOREACH_STRV(bad, STRV_MAKE("", "80", ":80", "80:", "0:80", "80:0", "65536:80", "a:80", "80:80/sctp",
                                    "80:80/", "1.2.3:80:80", "x:80:80", "[::1:80:80", "80:80:80:80", "+80:80",
                                    "-1:80", "080808:80"))
                ASSERT_ERR(pod_port_parse(bad, &p), EINVAL);
}

TEST(port_conflicts) {
        PodPort a = { .protocol = "tcp", .host_ip = (char *) "", .host_port = 8080, .pod_port = 80 };
        PodPort b = { .protocol = "tcp", .host_ip = (char *) "127.0.0.1", .host_port = 8080, .pod_port = 81 };
        PodPort c = { .protocol = "tcp", .host_ip = (char *) "127.0.0.2", .host_port = 8080, .pod_port = 81 };
        PodPort u = { .protocol = "udp", .host_ip = (char *) "", .host_port = 8080, .pod_port = 80 };
        PodPort o = { .protocol = "tcp", .host_ip = (char *) "0.0.0.0", .host_port = 8081, .pod_port = 80 };
        PodPort o2 = { .protocol = "tcp", .host_ip = (char *) "127.0.0.1", .host_port = 8081, .pod_port = 80 };
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(sa);
        _cleanup_close_ int fd = -EBADF;
        PodPort held;

        /* Every address overlaps every one; two addresses do not. */
        ASSERT_TRUE(pod_ports_overlap(&a, &b));
        ASSERT_TRUE(pod_ports_overlap(&b, &a));
        ASSERT_FALSE(pod_ports_overlap(&b, &c));
        ASSERT_FALSE(pod_ports_overlap(&a, &u));
        ASSERT_TRUE(pod_ports_overlap(&o, &o2));
        ASSERT_FALSE(pod_ports_overlap(&a, &o));

        /* A port a process of this host listens on is in use; once closed,
         * it is free. */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0);
        ASSERT_TRUE(listen(fd, 1) == 0);
        ASSERT_TRUE(getsockname(fd, (struct sockaddr *) &sa, &len) == 0);
        held = (PodPort) { .protocol = "tcp", .host_ip = (char *) "127.0.0.1", .host_port = ntohs(sa.sin_port) };
        ASSERT_ERR(pod_port_check_host(&held), EADDRINUSE);
        held.host_ip = (char *) "";
        ASSERT_ERR(pod_port_check_host(&held), EADDRINUSE);
        fd = safe_close(fd);
        ASSERT_OK(pod_port_check_host(&held));
}

TEST(results) {
        static const char bridge_result[] =
                "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"peapod0\",\"mac\":\"aa:bb:cc:dd:ee:ff\"},"
                "{\"name\":\"veth1\",\"mac\":\"aa:bb:cc:dd:ee:00\"},"
                "{\"name\":\"eth0\",\"mac\":\"aa:bb:cc:dd:ee:01\",\"sandbox\":\"/run/peapod/netns/x\"}],"
                "\"ips\":[{\"interface\":2,\"address\":\"10.87.0.2/16\",\"gateway\":\"10.87.0.1\"}],"
                "\"routes\":[{\"dst\":\"0.0.0.0/0\"}],\"dns\":{\"nameservers\":[\"10.0.0.53\"],\"search\":[\"a.test\"]}}\n";
        _cleanup_(cni_result_freep) CniResult *r = NULL;

        ASSERT_OK(cni_result_parse(bridge_result, strlen(bridge_result), &r));
        ASSERT_TRUE(r->n_interfaces == 3 && r->n_ips == 1);
        ASSERT_STREQ(r->interfaces[2].sandbox, "/run/peapod/netns/x");
        ASSERT_TRUE(r->interfaces[0].sandbox == NULL);
        ASSERT_STREQ(r->ips[0].address, "10.87.0.2/16");
        ASSERT_TRUE(r->ips[0].interface == 2);
        ASSERT_STREQ(r->nameservers[0], "10.0.0.53");
        ASSERT_STREQ(r->search[0], "a.test");

        FOREACH_STRV(bad, STRV_MAKE("", "[]", "{", "{\"ips\":{}}", "{\"ips\":[{\"address\":\"10.0.0.1\"}]}",
                                    "{\"ips\":[{\"address\":\"10.0.0.1/8\",\"interface\":0}]}",
                                    "{\"ips\":[{\"address\":\"10.0.0.1/8\",\"interface\":-1}]}",
                                    "{\"interfaces\":[{\"mac\":\"x\"}]}", "{\"interfaces\":[{\"name\":7}]}",
                                    "{\"dns\":[]}", "{\"dns\":{\"nameservers\":[1]}}", "{} x")) {
                _cleanup_(cni_result_freep) CniResult *b = NULL;
                ASSERT_TRUE(cni_result_parse(bad, strlen(bad), &b) < 0);
        }

        /* More entries than the bound is refused, not truncated. */
        _cleanup_free_ char *many = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&many, &n);
        ASSERT_TRUE(f);
        fputs("{\"ips\":[", f);
        for (int i = 0; i <= CNI_RESULT_ITEMS_MAX; i++)
                fprintf(f, "%s{\"address\":\"10.0.0.%d/8\"}", i ? "," : "", i);
        fputs("]}", f);
        ASSERT_TRUE(fclose(f) == 0);
        _cleanup_(cni_result_freep) CniResult *m = NULL;
        ASSERT_ERR(cni_result_parse(many, n, &m), EBADMSG);
}

TEST(conflists) {
        static const char list[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{\"type\":\"bridge\"},"
                                   "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}";
        static const char conf[] = "{\"cniVersion\":\"0.4.0\",\"name\":\"n2\",\"type\":\"bridge\",\"bridge\":\"x\"}";
        _cleanup_json_ json_object *o = NULL, *c = NULL, *l = NULL;
        json_object *plugins;
        const char *s;

        ASSERT_OK(cni_conflist_parse(list, strlen(list), false, &o, NULL));
        ASSERT_OK(cni_conflist_parse(conf, strlen(conf), true, &c, NULL));
        ASSERT_TRUE(json_object_object_get_ex(c, "plugins", &plugins));
        ASSERT_TRUE(json_object_array_length(plugins) == 1);
        ASSERT_OK(json_get_string(json_object_array_get_idx(plugins, 0), "bridge", &s));
        ASSERT_STREQ(s, "x");

        FOREACH_STRV(bad, STRV_MAKE("{}", "{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"plugins\":[]}",
                                    "{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"plugins\":[{\"type\":\"../x\"}]}",
                                    "{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"plugins\":[{\"type\":\"a/b\"}]}",
                                    "{\"cniVersion\":\"1.0.0\",\"name\":\"a b\",\"plugins\":[{\"type\":\"x\"}]}",
                                    "{\"name\":\"a\",\"plugins\":[{\"type\":\"x\"}]}",
                                    "{\"cniVersion\":\"1.0.0\",\"name\":\"a\",\"plugins\":[{\"type\":\"x\",\"capabilities\":1}]}")) {
                _cleanup_json_ json_object *b = NULL;
                PeapodError err = {};
                ASSERT_TRUE(cni_conflist_parse(bad, strlen(bad), false, &b, &err) < 0);
                ASSERT_TRUE(err.message[0]);
        }
        {
                /* Where the JSON breaks, from the one bounded reader. */
                _cleanup_json_ json_object *b = NULL;
                PeapodError err = {};
                const char *t = "{\"cniVersion\":\"1.0.0\",\n\"name\": x}";

                ASSERT_ERR(cni_conflist_parse(t, strlen(t), false, &b, &err), EBADMSG);
                ASSERT_TRUE(strstr(err.message, "line 2"));
        }

        /* Found by name in a directory; a broken file of another network
         * does not get in the way; the first file in order wins. */
        write_text("10-broken.conflist", "{ not json", 0644);
        write_text("20-n1.conflist", list, 0644);
        write_text("30-n2.conf", conf, 0644);
        write_text("40-n1.conflist", "{\"cniVersion\":\"1.0.0\",\"name\":\"n1\",\"plugins\":[{\"type\":\"other\"}]}", 0644);
        ASSERT_OK(cni_conflist_load(tmpdir, "n1", &l, NULL));
        ASSERT_TRUE(json_object_object_get_ex(l, "plugins", &plugins));
        ASSERT_TRUE(json_object_array_length(plugins) == 2);
        json_object_put(TAKE_PTR(l));
        ASSERT_OK(cni_conflist_load(tmpdir, "n2", &l, NULL));
        ASSERT_ERR(cni_conflist_load(tmpdir, "nope", &o, NULL), ENOENT);
}

/* Which networks ask peapod for host rules, and what goes into the rules
 * (an iptables-restore script: canonical, or refused). */
TEST(host_rules) {
        static const struct {
                const char *list;
                int r;
                const char *subnets; /* space-separated, NULL for none */
                bool masquerade;
                const char *bridge;
        } cases[] = {
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"plugins\":[{\"type\":\"bridge\",\"ipam\":"
                  "{\"type\":\"host-local\",\"ranges\":[[{\"subnet\":\"10.87.0.0/16\"}]]}}]}", 0, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"masquerade\":false,\"forward\":false},"
                  "\"plugins\":[{\"type\":\"b\"}]}", 0, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"masquerade\":true},\"plugins\":[{\"type\":\"bridge\","
                  "\"ipam\":{\"ranges\":[[{\"subnet\":\"10.87.3.4/16\"},{\"subnet\":\"fd00::/64\"}],"
                  "[{\"subnet\":\"10.87.0.0/16\"},{\"subnet\":\"192.168.7.1/24\"}]]}},"
                  "{\"type\":\"x\",\"ipam\":{\"subnet\":\"172.16.0.9/12\"}}]}",
                  0, "10.87.0.0/16 192.168.7.0/24 172.16.0.0/12", true, NULL },
                /* Forwarding names the bridge plugin's bridge, its default
                 * when it names none. */
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"masquerade\":true,\"forward\":true},\"plugins\":"
                  "[{\"type\":\"bridge\",\"bridge\":\"peapod0\",\"ipam\":{\"subnet\":\"10.87.0.0/16\"}},{\"type\":\"portmap\"}]}",
                  0, "10.87.0.0/16", true, "peapod0" },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"forward\":true},\"plugins\":"
                  "[{\"type\":\"bridge\",\"ipam\":{\"subnet\":\"10.88.0.0/16\"}}]}", 0, "10.88.0.0/16", false, "cni0" },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"forward\":true},\"plugins\":"
                  "[{\"type\":\"macvlan\",\"ipam\":{\"subnet\":\"10.88.0.0/16\"}}]}", -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"forward\":true},\"plugins\":"
                  "[{\"type\":\"bridge\",\"bridge\":\"br0 -j ACCEPT\",\"ipam\":{\"subnet\":\"10.88.0.0/16\"}}]}",
                  -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"forward\":true},\"plugins\":"
                  "[{\"type\":\"bridge\",\"bridge\":\"br0\\nCOMMIT\",\"ipam\":{\"subnet\":\"10.88.0.0/16\"}}]}",
                  -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"forward\":true},\"plugins\":"
                  "[{\"type\":\"bridge\",\"bridge\":7,\"ipam\":{\"subnet\":\"10.88.0.0/16\"}}]}", -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"forward\":1},\"plugins\":[{\"type\":\"bridge\"}]}",
                  -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"masquerade\":true},\"plugins\":[{\"type\":\"b\"}]}",
                  -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"masquerade\":true},\"plugins\":[{\"type\":\"b\","
                  "\"ipam\":{\"subnet\":\"fd00::/64\"}}]}", -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"masquerade\":\"yes\"},\"plugins\":[{\"type\":\"b\"}]}",
                  -EBADMSG, NULL, false, NULL },
                { "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":1,\"plugins\":[{\"type\":\"b\"}]}", -EBADMSG, NULL, false,
                  NULL },
        };
        static const char * const bad_subnets[] = {
                "10.87.0.0", "10.87.0.0/33", "10.87.0.0/0", "10.87.0.0/-1", "10.87.0.0/+8", "10.87.0.0/16 -j ACCEPT",
                "10.87.0.0/16\\n-A", "10.87.0/16", "x/8", "/8", "",
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_json_ json_object *o = NULL;
                _cleanup_(cni_host_rules_done) CniHostRules rules = {};
                PeapodError err = {};

                ASSERT_OK(cni_conflist_parse(cases[i].list, strlen(cases[i].list), false, &o, NULL));
                ASSERT_TRUE(cni_conflist_host_rules(o, &rules, &err) == cases[i].r);
                if (cases[i].r < 0)
                        ASSERT_TRUE(err.message[0]);
                if (!cases[i].subnets)
                        ASSERT_TRUE(!rules.subnets);
                else {
                        _cleanup_free_ char *joined = strv_join(rules.subnets, " ");
                        ASSERT_STREQ(joined, cases[i].subnets);
                }
                ASSERT_TRUE(rules.masquerade == cases[i].masquerade);
                ASSERT_TRUE(streq_ptr(rules.forward_bridge, cases[i].bridge));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_subnets); i++) {
                _cleanup_json_ json_object *o = NULL;
                _cleanup_(cni_host_rules_done) CniHostRules rules = {};
                _cleanup_free_ char *text = NULL;
                PeapodError err = {};

                ASSERT_TRUE(asprintf(&text, "{\"cniVersion\":\"1.0.0\",\"name\":\"n\",\"peapod\":{\"masquerade\":true},"
                                            "\"plugins\":[{\"type\":\"b\",\"ipam\":{\"subnet\":\"%s\"}}]}",
                                     bad_subnets[i]) > 0);
                ASSERT_OK(cni_conflist_parse(text, strlen(text), false, &o, NULL));
                ASSERT_ERR(cni_conflist_host_rules(o, &rules, &err), EBADMSG);
                ASSERT_TRUE(!rules.subnets);
        }
}

/* A fake plugin: records its environment and stdin, prints a result that
 * names itself and carries the prevResult it got. */
static const char fake_plugin[] =
        "#!/bin/sh\n"
        "in=$(cat)\n"
        "d=$(dirname \"$0\")\n"
        "t=$(basename \"$0\")\n"
        "env | sort >\"$d/$t.$CNI_COMMAND.env\"\n"
        "printf '%s' \"$in\" >\"$d/$t.$CNI_COMMAND.in\"\n"
        "case \"$t\" in\n"
        "  fail) echo 'some noise' >&2; printf '{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"it broke\",\"details\":\"really\"}'; exit 1;;\n"
        "  slow) exec sleep 30;;\n"
        "  big) head -c 2000000 /dev/zero | tr '\\0' x; exit 0;;\n"
        "  quiet) exit 0;;\n"
        "esac\n"
        "[ \"$CNI_COMMAND\" = ADD ] || exit 0\n"
        "printf '{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"%s\"}],\"ips\":[{\"address\":\"10.0.0.%s/8\"}]}' \"$t\" \"${#in}\"\n";

static char *read_back(const char *name) {
        _cleanup_free_ char *p = NULL;
        char *text = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", tmpdir, name) >= 0);
        ASSERT_OK(read_file(p, 1 << 20, &text, NULL));
        return text;
}

TEST(exec) {
        static const char list_text[] =
                "{\"cniVersion\":\"1.0.0\",\"name\":\"chain\",\"plugins\":[{\"type\":\"one\"},"
                "{\"type\":\"quiet\"},"
                "{\"type\":\"two\",\"capabilities\":{\"portMappings\":true,\"other\":false}}]}";
        _cleanup_json_ json_object *list = NULL, *result = NULL, *rc = NULL, *in = NULL;
        _cleanup_free_ char *env = NULL, *text = NULL, *out = NULL;
        PeapodError err = {};
        json_object *v;
        const char *s;
        CniContext c = {
                .plugin_dirs = STRV_MAKE("/nonexistent", tmpdir),
                .container_id = "0123456789abcdef0123456789abcdef",
                .netns = "/run/peapod/netns/x",
                .ifname = "eth0",
        };

        FOREACH_STRV(t, STRV_MAKE("one", "two", "quiet", "fail", "slow", "big"))
                write_text(t, fake_plugin, 0755);

        ASSERT_OK(cni_conflist_parse(list_text, strlen(list_text), false, &list, NULL));
        rc = json_tokener_parse("{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}],"
                                "\"other\":1}");
        ASSERT_TRUE(rc);
        ASSERT_OK(cni_conflist_add(&c, list, rc, &result, &err));
        /* The last plugin that printed something made the result. */
        ASSERT_TRUE(json_object_object_get_ex(result, "interfaces", &v));
        ASSERT_OK(json_get_string(json_object_array_get_idx(v, 0), "name", &s));
        ASSERT_STREQ(s, "two");

        /* The environment: the CNI variables and PATH, nothing inherited. */
        env = read_back("one.ADD.env");
        ASSERT_TRUE(strstr(env, "CNI_COMMAND=ADD\n"));
        ASSERT_TRUE(strstr(env, "CNI_CONTAINERID=0123456789abcdef0123456789abcdef\n"));
        ASSERT_TRUE(strstr(env, "CNI_NETNS=/run/peapod/netns/x\n"));
        ASSERT_TRUE(strstr(env, "CNI_IFNAME=eth0\n"));
        ASSERT_TRUE(strstr(env, "CNI_PATH=/nonexistent:"));
        ASSERT_TRUE(strstr(env, "PATH=/usr/local/sbin:"));
        ASSERT_FALSE(strstr(env, "HOME="));

        /* Plugin one: no prevResult, no runtimeConfig; name and version
         * come from the list. */
        text = read_back("one.ADD.in");
        in = json_tokener_parse(text);
        ASSERT_TRUE(in);
        ASSERT_FALSE(json_object_object_get_ex(in, "prevResult", NULL));
        ASSERT_FALSE(json_object_object_get_ex(in, "runtimeConfig", NULL));
        ASSERT_OK(json_get_string(in, "name", &s));
        ASSERT_STREQ(s, "chain");
        ASSERT_OK(json_get_string(in, "cniVersion", &s));
        ASSERT_STREQ(s, "1.0.0");
        json_object_put(TAKE_PTR(in));
        free(TAKE_PTR(text));

        /* Plugin two: one's result as prevResult (quiet printed nothing),
         * and only the capabilities it declares as true. */
        text = read_back("two.ADD.in");
        in = json_tokener_parse(text);
        ASSERT_TRUE(in);
        ASSERT_TRUE(json_object_object_get_ex(in, "prevResult", &v));
        ASSERT_TRUE(json_object_object_get_ex(v, "interfaces", &v));
        ASSERT_OK(json_get_string(json_object_array_get_idx(v, 0), "name", &s));
        ASSERT_STREQ(s, "one");
        ASSERT_TRUE(json_object_object_get_ex(in, "runtimeConfig", &v));
        ASSERT_TRUE(json_object_object_get_ex(v, "portMappings", NULL));
        ASSERT_FALSE(json_object_object_get_ex(v, "other", NULL));
        json_object_put(TAKE_PTR(in));
        free(TAKE_PTR(text));

        /* DEL: every plugin, the saved result as prevResult. */
        ASSERT_OK(cni_conflist_del(&c, list, rc, result, &err));
        FOREACH_STRV(t, STRV_MAKE("one.DEL.in", "quiet.DEL.in", "two.DEL.in")) {
                text = read_back(t);
                in = json_tokener_parse(text);
                ASSERT_TRUE(in && json_object_object_get_ex(in, "prevResult", NULL));
                json_object_put(TAKE_PTR(in));
                free(TAKE_PTR(text));
        }
        ASSERT_OK(cni_conflist_check(&c, list, rc, result, &err));

        /* DEL goes on past a failing plugin (each one is called, in reverse
         * order) and says what the first failure was. */
        {
                static const char failing_text[] =
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"chain\",\"plugins\":[{\"type\":\"one\"},"
                        "{\"type\":\"fail\"},{\"type\":\"two\"}]}";
                _cleanup_json_ json_object *failing = NULL;
                _cleanup_free_ char *p1 = NULL, *p2 = NULL;

                ASSERT_OK(cni_conflist_parse(failing_text, strlen(failing_text), false, &failing, NULL));
                ASSERT_TRUE(asprintf(&p1, "%s/one.DEL.in", tmpdir) >= 0 && asprintf(&p2, "%s/two.DEL.in", tmpdir) >= 0);
                (void) unlink(p1);
                (void) unlink(p2);
                ASSERT_ERR(cni_conflist_del(&c, failing, rc, result, &err), EIO);
                ASSERT_TRUE(strstr(err.message, "it broke"));
                ASSERT_TRUE(access(p1, F_OK) == 0 && access(p2, F_OK) == 0);
                peapod_error_clear(&err);
        }

        /* Failures: the error object's message, a timeout, too much output,
         * a missing plugin, a type that would leave the plugin directory. */
        ASSERT_ERR(cni_plugin_exec(&c, "ADD", "fail", "{}", &out, &err), EIO);
        ASSERT_TRUE(strstr(err.message, "it broke: really"));
        ASSERT_TRUE(strstr(err.message, "fail"));
        peapod_error_clear(&err);
        c.timeout_usec = 300 * 1000;
        ASSERT_ERR(cni_plugin_exec(&c, "ADD", "slow", "{}", &out, &err), ETIMEDOUT);
        peapod_error_clear(&err);
        c.timeout_usec = 0;
        ASSERT_ERR(cni_plugin_exec(&c, "ADD", "big", "{}", &out, &err), EFBIG);
        peapod_error_clear(&err);
        ASSERT_ERR(cni_plugin_exec(&c, "ADD", "missing", "{}", &out, &err), ENOENT);
        ASSERT_TRUE(strstr(err.message, "not found"));
        ASSERT_ERR(cni_plugin_exec(&c, "ADD", "../one", "{}", &out, &err), EINVAL);
        ASSERT_TRUE(out == NULL);
}

TEST(network_spec) {
        static const char list[] = "{\"cniVersion\":\"1.0.0\",\"name\":\"peapod\",\"plugins\":[{\"type\":\"bridge\"}]}";
        PodPort ports[2] = { { .protocol = "tcp", .host_ip = (char *) "", .host_port = 80, .pod_port = 8080 },
                             { .protocol = "tcp", .host_ip = (char *) "", .host_port = 80, .pod_port = 81 } };
        PodNetwork n = {};
        PeapodError err = {};

        write_text("50-peapod.conflist", list, 0644);
        ASSERT_OK(pod_network_from_spec(&(PodNetworkSpec) {}, tmpdir, &n, &err));
        ASSERT_TRUE(n.mode == POD_NETWORK_CNI);
        ASSERT_STREQ(n.networks[0], "peapod");
        pod_network_done(&n);
        ASSERT_OK(pod_network_from_spec(&(PodNetworkSpec) { .networks = STRV_MAKE("default", "n1"), .ports = ports,
                                                            .n_ports = 1 },
                                        tmpdir, &n, &err));
        ASSERT_TRUE(strv_length(n.networks) == 2 && n.n_ports == 1);
        pod_network_done(&n);
        ASSERT_OK(pod_network_from_spec(&(PodNetworkSpec) { .networks = STRV_MAKE("host") }, tmpdir, &n, &err));
        ASSERT_TRUE(n.mode == POD_NETWORK_HOST && !n.networks);
        pod_network_done(&n);

        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .networks = STRV_MAKE("nope") }, tmpdir, &n, &err), ENOENT);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .networks = STRV_MAKE("host", "n1") }, tmpdir, &n, NULL), EINVAL);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .networks = STRV_MAKE("n1", "n1") }, tmpdir, &n, NULL), EINVAL);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .networks = STRV_MAKE("none"), .ports = ports, .n_ports = 1 },
                                         tmpdir, &n, NULL), EINVAL);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .ports = ports, .n_ports = 2 }, tmpdir, &n, NULL), EINVAL);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .dns = STRV_MAKE("1.2.3") }, tmpdir, &n, NULL), EINVAL);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .dns_search = STRV_MAKE("a..b") }, tmpdir, &n, NULL), EINVAL);
        /* resolv.conf options: words only, nothing that adds an option or a line. */
        ASSERT_OK(pod_network_from_spec(&(PodNetworkSpec) { .dns_options = STRV_MAKE("ndots:5", "edns0", "single-request-reopen") },
                                        tmpdir, &n, &err));
        ASSERT_TRUE(strv_length(n.dns_options) == 3);
        pod_network_done(&n);
        FOREACH_STRV(bad, STRV_MAKE("", "ndots:", "ndots:5 rotate", "a\nnameserver 1.2.3.4", ":5", "ndots:x", "a/b"))
                ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .dns_options = STRV_MAKE(bad) }, tmpdir, &n, NULL), EINVAL);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .dns_options = STRV_MAKE("a", "a", "a", "a", "a", "a", "a", "a", "a",
                                                                                     "a", "a", "a", "a", "a", "a", "a", "a") },
                                         tmpdir, &n, NULL), E2BIG);
        ASSERT_ERR(pod_network_from_spec(&(PodNetworkSpec) { .hostname = "-x" }, tmpdir, &n, NULL), EINVAL);
        ASSERT_TRUE(n.networks == NULL);
}

/* What a plugin's result says goes into an ebtables-restore script:
 * anything that is not a name, a MAC or an address is refused. */
static void test_port_rules(void) {
        static const char id[] = "0123456789abcdef0123456789abcdef";
        _cleanup_free_ char *rules = NULL;
        PeapodError err = {};

        ASSERT_OK(firewall_port_rules_append(id, "veth1a2b3c4d", "0a:58:0a:57:00:05", STRV_MAKE("10.87.0.5"), &rules, &err));
        ASSERT_STREQ(rules,
                     "-A PEAPOD-0123456789abcdef0123 -i veth1a2b3c4d -s ! 0a:58:0a:57:00:05 -j DROP\n"
                     "-A PEAPOD-0123456789abcdef0123 -i veth1a2b3c4d -p ARP --arp-mac-src ! 0a:58:0a:57:00:05 -j DROP\n"
                     "-A PEAPOD-0123456789abcdef0123 -i veth1a2b3c4d -p ARP --arp-ip-src 10.87.0.5 -j RETURN\n"
                     "-A PEAPOD-0123456789abcdef0123 -i veth1a2b3c4d -p IPv4 --ip-src 10.87.0.5 -j RETURN\n"
                     "-A PEAPOD-0123456789abcdef0123 -i veth1a2b3c4d -p IPv6 -j RETURN\n"
                     "-A PEAPOD-0123456789abcdef0123 -i veth1a2b3c4d -j DROP\n");
        /* A second network appends; no IPv4 address binds ARP and IPv4 to nothing. */
        ASSERT_OK(firewall_port_rules_append(id, "veth2", "0A:58:0A:57:00:06", NULL, &rules, &err));
        ASSERT_TRUE(strstr(rules, "-i veth2 -p IPv6 -j RETURN\n") && !strstr(rules, "-i veth2 -p IPv4"));

        ASSERT_ERR(firewall_port_rules_append(id, "veth\n-F", "0a:58:0a:57:00:05", NULL, &rules, &err), EINVAL);
        ASSERT_ERR(firewall_port_rules_append(id, "", "0a:58:0a:57:00:05", NULL, &rules, &err), EINVAL);
        ASSERT_ERR(firewall_port_rules_append(id, "veth0123456789abc", "0a:58:0a:57:00:05", NULL, &rules, &err), EINVAL);
        ASSERT_ERR(firewall_port_rules_append(id, "veth1", NULL, NULL, &rules, &err), EINVAL);
        ASSERT_ERR(firewall_port_rules_append(id, "veth1", "0a:58:0a:57:00:5", NULL, &rules, &err), EINVAL);
        ASSERT_ERR(firewall_port_rules_append(id, "veth1", "0a:58:0a:57:00:05 -j", NULL, &rules, &err), EINVAL);
        ASSERT_ERR(firewall_port_rules_append(id, "veth1", "0a:58:0a:57:00:05", STRV_MAKE("10.87.0.5/16"), &rules, &err),
                   EINVAL);
        ASSERT_ERR(firewall_port_rules_append(id, "veth1", "0a:58:0a:57:00:05", STRV_MAKE("fd00::1"), &rules, &err), EINVAL);
        ASSERT_ERR(firewall_port_rules_append("short", "veth1", "0a:58:0a:57:00:05", NULL, &rules, &err), EINVAL);
}

static void test_port_chains(void) {
        _cleanup_strv_free_ char **ids = NULL;

        ASSERT_OK(firewall_port_chains_parse(
                "Bridge table: filter\n\n"
                "Bridge chain: INPUT, entries: 2, policy: ACCEPT\n"
                "-j PEAPOD-0123456789abcdef0123\n"
                "-j PEAPOD-fedcba9876543210fedc\n\n"
                "Bridge chain: PEAPOD-0123456789abcdef0123, entries: 6, policy: RETURN\n"
                "-i veth1 -s ! 0a:58:0a:57:0:5 -j DROP\n\n"
                "Bridge chain: PEAPOD-fedcba9876543210fedc, entries: 6, policy: RETURN\n"
                "Bridge chain: PEAPOD-MASQ-0123456789abcdef, entries: 0, policy: RETURN\n"
                "Bridge chain: PEAPOD-0123456789ABCDEF0123, entries: 0, policy: RETURN\n"
                "Bridge chain: PEAPOD-0123456789abcdef012, entries: 0, policy: RETURN\n"
                "Bridge chain: PEAPOD-0123456789abcdef01234, entries: 0, policy: RETURN\n"
                "Bridge chain: OTHER, entries: 0, policy: RETURN",
                &ids));
        ASSERT_TRUE(strv_length(ids) == 2);
        ASSERT_STREQ(ids[0], "0123456789abcdef0123");
        ASSERT_STREQ(ids[1], "fedcba9876543210fedc");
        strv_free(ids);
        ids = NULL;
        ASSERT_OK(firewall_port_chains_parse("", &ids));
        ASSERT_TRUE(!ids);
        ASSERT_OK(firewall_port_chains_parse("Bridge chain: PEAPOD-0123456789abcdef0123", &ids));
        ASSERT_TRUE(!ids);
}

int main(void) {
        ASSERT_TRUE(mkdtemp(tmpdir));
        test_port_rules();
        test_port_chains();
        test_network_names();
        test_ports();
        test_port_conflicts();
        test_results();
        test_conflists();
        test_host_rules();
        test_exec();
        test_network_spec();
        ASSERT_OK(rm_rf(tmpdir));
        return 0;
}
