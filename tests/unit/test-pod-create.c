/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pod_create(): the rules of Manager.CreatePod without D-Bus (names,
 * apps, stage1 and networks, ports), mostly on pods without apps; the
 * app rules on one small image in a store under tmpdir. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "digest.h"
#include "fs-util.h"
#include "pod-create.h"
#include "store.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static char tmpdir[] = "/tmp/test-pod-create-XXXXXX";
static char *stage1_dir, *cni_dir, *images_dir;
static PodRuntime rt;

/* Pods made so far, as peapodd's list. */
static Pod *pods[16];
static size_t n_pods;

static void write_text(const char *dir, const char *name, const char *text) {
        _cleanup_free_ char *p = NULL;

        ASSERT_TRUE(asprintf(&p, "%s/%s", dir, name) >= 0);
        ASSERT_OK(write_file_atomic(p, text, strlen(text), 0644));
}

static char *subdir(const char *name) {
        char *p;

        ASSERT_TRUE(asprintf(&p, "%s/%s", tmpdir, name) >= 0);
        ASSERT_OK(mkdir_p(p, 0755));
        return p;
}

/* An empty pod (no apps: nothing to resolve in an image store). */
static PodCreateSpec empty(const char *name) {
        return (PodCreateSpec) { .name = name, .stop_when_apps_exit = false };
}

static int create(const PodCreateSpec *spec, PeapodError *err) {
        Pod *p = NULL;
        int r;

        peapod_error_clear(err);
        r = pod_create(&rt, images_dir, pods, n_pods, spec, &p, err);
        if (r < 0) {
                ASSERT_TRUE(p == NULL);
                return r;
        }
        ASSERT_TRUE(p && p->state == POD_CREATED && n_pods < ELEMENTSOF(pods));
        pods[n_pods++] = p;
        return r;
}

static Pod *last(void) {
        return pods[n_pods - 1];
}

TEST(names) {
        PeapodError err = {};
        PodCreateSpec s;

        ASSERT_ERR(create(&(PodCreateSpec) { .name = "web", .stop_when_apps_exit = true }, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "at least one app"));
        ASSERT_OK(create(&(PodCreateSpec) { .name = "web", .stop_when_apps_exit = false }, &err));
        ASSERT_STREQ(last()->name, "web");
        ASSERT_FALSE(last()->stop_when_apps_exit);

        /* Taken: also the machine name. */
        ASSERT_ERR(create(&(PodCreateSpec) { .name = "web" }, &err), EEXIST);
        ASSERT_TRUE(strstr(err.message, "exists already"));

        /* Invalid, before anything else is looked at; the caller tells it
         * apart from another bad argument with pod_name_is_valid(). */
        FOREACH_STRV(bad, STRV_MAKE("-web", ".web", "a/b", "a b", "x23456789012345678901234567890123456789012345678901234567890123456")) {
                PodCreateSpec b = empty(bad);

                b.stop_when_apps_exit = true; /* would be refused too, later */
                ASSERT_ERR(create(&b, &err), EINVAL);
                ASSERT_TRUE(strstr(err.message, "Invalid pod name"));
                ASSERT_FALSE(pod_name_is_valid(bad));
        }

        /* No name: one is made of the id, and never collides. */
        s = empty("");
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(startswith(last()->name, "pod-"));
        s = empty(NULL);
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(startswith(last()->name, "pod-"));
        ASSERT_FALSE(streq(last()->name, pods[n_pods - 2]->name));
}

/* An image localhost/NAME:latest in the store at images_dir: one empty
 * layer (an end-of-archive tar), its tree, and a config running /bin/sh. */
static void make_image(const char *name) {
        static const char empty_tar[1024];
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_free_ char *config = NULL, *manifest = NULL, *tree = NULL, *ref = NULL;
        char ds[2][DIGEST_STRING_MAX];
        Digest layer, cfg, man;
        PeapodError e = {};

        ASSERT_OK(store_open(images_dir, &s));
        ASSERT_OK(store_blob_write_buffer(s, NULL, empty_tar, sizeof(empty_tar), &layer, &e));
        ASSERT_TRUE(asprintf(&config,
                             "{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": {\"Cmd\": [\"/bin/sh\"]},"
                             " \"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"%s\"]}}",
                             digest_to_string(&layer, ds[0])) > 0);
        ASSERT_OK(store_blob_write_buffer(s, NULL, config, strlen(config), &cfg, &e));
        ASSERT_TRUE(asprintf(&manifest,
                             "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\","
                             " \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\", \"digest\": \"%s\", \"size\": %zu},"
                             " \"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\", \"digest\": \"%s\", \"size\": %zu}]}",
                             digest_to_string(&cfg, ds[1]), strlen(config), ds[0], sizeof(empty_tar)) > 0);
        ASSERT_OK(store_blob_write_buffer(s, NULL, manifest, strlen(manifest), &man, &e));
        /* One layer: its chain id is its diff_id, here also its blob digest. */
        ASSERT_TRUE(asprintf(&tree, "%s/layers/%s", images_dir, layer.hex) > 0);
        ASSERT_OK(mkdir_p(tree, 0755));
        ASSERT_TRUE(asprintf(&ref, "localhost/%s:latest", name) > 0);
        ASSERT_OK(store_ref_set(s, ref, &man, &e));
}

TEST(apps) {
        AppSpec apps[1] = { { .name = "a", .image = "localhost/nope:latest" } };
        Volume v = { .name = (char *) "data" };
        PeapodError err = {};
        PodCreateSpec s = { .name = "with-app", .stop_when_apps_exit = true, .apps = apps, .n_apps = 1 };

        /* An app's own volumes are AddApp's. */
        apps[0].volumes = &v;
        apps[0].n_volumes = 1;
        ASSERT_ERR(create(&s, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "AddApp"));

        /* An image that is not there: NoSuchImage for the caller. */
        apps[0].volumes = NULL;
        apps[0].n_volumes = 0;
        ASSERT_ERR(create(&s, &err), ENOENT);

        apps[0].image = "localhost/box:latest";
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(last()->n_apps == 1 && last()->stop_when_apps_exit);
        ASSERT_STREQ(last()->apps[0].exec[0], "/bin/sh");
        ASSERT_FALSE(last()->cpu_accounting);
        s.name = "with-app-accounted";
        s.cpu_accounting = true;
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(last()->cpu_accounting);
}

/* A stage1 in the host's namespaces cannot give an app a PID namespace
 * of its own or bind mounts: refused at creation, not at the start. */
TEST(stage1_host_apps) {
        AppMount mount = { .volume = (char *) "data", .target = (char *) "/data" };
        Volume v = { .name = (char *) "data", .kind = VOLUME_EMPTY };
        AppSpec apps[1] = { { .name = "a", .image = "localhost/box:latest", .pid_namespace = "app" } };
        PeapodError err = {};
        PodCreateSpec s = { .name = "fly-app", .stop_when_apps_exit = true, .stage1 = "fly", .apps = apps, .n_apps = 1 };

        ASSERT_ERR(create(&s, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "host's namespaces"));

        apps[0].pid_namespace = NULL;
        apps[0].mounts = &mount;
        apps[0].n_mounts = 1;
        s.volumes = &v;
        s.n_volumes = 1;
        ASSERT_ERR(create(&s, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "host's namespaces"));

        /* The same app in the default flavour is fine. */
        s.stage1 = NULL;
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(last()->n_volumes == 1 && last()->apps[0].n_mounts == 1);

        apps[0].mounts = NULL;
        apps[0].n_mounts = 0;
        s.stage1 = "fly";
        s.volumes = NULL;
        s.n_volumes = 0;
        s.name = "fly-app2";
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(last()->net.mode == POD_NETWORK_HOST);
}

TEST(stage1_host) {
        PeapodError err = {};
        PodCreateSpec s = empty("fly1");

        s.stage1 = "fly";
        /* A stage1 in the host's namespaces: network "host" or nothing. */
        s.network.networks = STRV_MAKE("default");
        ASSERT_ERR(create(&s, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "only network 'host'"));
        s.network.networks = STRV_MAKE("host", "none");
        ASSERT_ERR(create(&s, &err), EINVAL);
        s.network.networks = STRV_MAKE("none");
        ASSERT_ERR(create(&s, &err), EINVAL);

        s.network.networks = STRV_MAKE("host");
        ASSERT_OK(create(&s, &err));
        ASSERT_STREQ(pod_stage1(last()), "fly");
        ASSERT_TRUE(last()->net.mode == POD_NETWORK_HOST);

        s.name = "fly2";
        s.network.networks = NULL;
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(last()->net.mode == POD_NETWORK_HOST);

        /* The default flavour gets the default network. */
        s = empty("default1");
        s.stage1 = NULL;
        s.network.networks = NULL;
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(pod_stage1(last()) && streq(pod_stage1(last()), "default"));
        ASSERT_TRUE(last()->net.mode == POD_NETWORK_CNI);
        ASSERT_STREQ(last()->net.networks[0], "peapod");
}

TEST(networks) {
        PodPort port = { .protocol = "tcp", .host_ip = (char *) "", .host_port = 1, .pod_port = 80 };
        PeapodError err = {};
        PodCreateSpec s = empty("net1");

        /* A network that does not exist is a bad argument (not ENOENT,
         * which the caller maps to NoSuchImage). */
        s.network.networks = STRV_MAKE("nope");
        ASSERT_ERR(create(&s, &err), EINVAL);
        ASSERT_TRUE(err.message[0]);

        /* Ports only on CNI networks. */
        s.network.ports = &port;
        s.network.n_ports = 1;
        FOREACH_STRV(n, STRV_MAKE("host", "none")) {
                s.network.networks = STRV_MAKE(n);
                ASSERT_ERR(create(&s, &err), EINVAL);
        }
        s.stage1 = "fly";
        s.network.networks = STRV_MAKE("host");
        ASSERT_ERR(create(&s, &err), EINVAL);
}

/* Sysctls of the pod's own namespaces only; none in the host's. */
TEST(sysctls) {
        PeapodError err = {};
        PodCreateSpec s = empty("sys1");

        s.sysctls = STRV_MAKE("net.ipv4.ip_unprivileged_port_start", "0", "kernel.shmmax", "1048576");
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(strv_length(last()->sysctls) == 2);
        ASSERT_STREQ(last()->sysctls[1], "kernel.shmmax=1048576");

        s.name = "sys2";
        s.sysctls = STRV_MAKE("kernel.hostname", "x");
        ASSERT_ERR(create(&s, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "kernel.hostname"));
        /* net.* is the node's on the host's network */
        s.sysctls = STRV_MAKE("net.ipv4.ip_forward", "1");
        s.network.networks = STRV_MAKE("host");
        ASSERT_ERR(create(&s, &err), EINVAL);

        s.name = "sys3";
        s.stage1 = "fly";
        s.sysctls = STRV_MAKE("kernel.shmmax", "1048576");
        ASSERT_ERR(create(&s, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "sets no sysctls"));
}

/* A free port now, of the kernel's choosing. */
static uint16_t free_port(int *ret_fd) {
        struct sockaddr_in sa = { .sin_family = AF_INET };
        socklen_t len = sizeof(sa);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(bind(fd, (struct sockaddr *) &sa, sizeof(sa)) >= 0);
        ASSERT_TRUE(getsockname(fd, (struct sockaddr *) &sa, &len) >= 0);
        if (ret_fd)
                *ret_fd = fd;
        else
                close(fd);
        return ntohs(sa.sin_port);
}

TEST(ports) {
        PodPort port = { .protocol = "tcp", .host_ip = (char *) "", .pod_port = 80 };
        PeapodError err = {};
        PodCreateSpec s = empty("ports1");
        int fd;

        s.network.ports = &port;
        s.network.n_ports = 1;
        port.host_port = free_port(NULL);
        ASSERT_OK(create(&s, &err));
        ASSERT_TRUE(last()->net.n_ports == 1);

        /* A second pod may not publish it; an exited one does not hold it. */
        s.name = "ports2";
        ASSERT_ERR(create(&s, &err), EADDRINUSE);
        ASSERT_TRUE(strstr(err.message, "ports1"));
        pods[n_pods - 1]->state = POD_EXITED;
        ASSERT_OK(create(&s, &err));

        /* Nor a port bound on the host. */
        s.name = "ports3";
        port.host_port = free_port(&fd);
        ASSERT_ERR(create(&s, &err), EADDRINUSE);
        ASSERT_TRUE(strstr(err.message, "on the host"));
        close(fd);
}

int main(void) {
        ASSERT_TRUE(mkdtemp(tmpdir));
        stage1_dir = subdir("stage1");
        cni_dir = subdir("cni");
        images_dir = subdir("images");
        free(subdir("stage1/default"));
        free(subdir("stage1/fly"));
        write_text(stage1_dir, "fly/host-namespaces", "");
        write_text(cni_dir, "50-peapod.conflist",
                   "{\"cniVersion\":\"1.0.0\",\"name\":\"peapod\",\"plugins\":[{\"type\":\"bridge\"}]}");
        rt = (PodRuntime) { .stage1_dir = stage1_dir, .cni_conf_dir = cni_dir, .state_dir = tmpdir };

        test_names();
        make_image("box");
        test_apps();
        test_stage1_host();
        test_stage1_host_apps();
        test_networks();
        test_sysctls();
        test_ports();

        for (size_t i = 0; i < n_pods; i++)
                pod_free(pods[i]);
        free(stage1_dir);
        free(cni_dir);
        free(images_dir);
        ASSERT_OK(rm_rf(tmpdir));
        return 0;
}
