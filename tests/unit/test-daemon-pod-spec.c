/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapodd's readers of the a(sv) properties of CreatePod and AddApp
 * (src/daemon/daemon-pod-spec.c) and of Pod.Exec's options: what each name
 * takes, and the error a client gets for a wrong type, an unknown name or
 * too much. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static sd_bus *bus;

/* sd-bus builds messages only on a bus that is (being) opened; one end of
 * a socketpair is enough, nothing is ever sent. */
static void bus_setup(void) {
        int fds[2];

        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0 ? -errno : 0);
        ASSERT_OK(sd_bus_new(&bus));
        ASSERT_OK(sd_bus_set_fd(bus, fds[0], fds[0]));
        ASSERT_OK(sd_bus_start(bus));
}

/* A message whose body is the a(sv) given as sd_bus_message_appendv()
 * arguments of "a(sv)", read back from the start. */
static sd_bus_message *props(unsigned n, ...) {
        sd_bus_message *m = NULL;
        va_list ap;

        ASSERT_OK(sd_bus_message_new_method_call(bus, &m, "org.peapod1", "/org/peapod1", "org.peapod1.Manager", "Test"));
        va_start(ap, n);
        ASSERT_OK(sd_bus_message_open_container(m, 'a', "(sv)"));
        for (unsigned i = 0; i < n; i++) {
                const char *name = va_arg(ap, const char *), *sig = va_arg(ap, const char *);

                ASSERT_OK(sd_bus_message_open_container(m, 'r', "sv"));
                ASSERT_OK(sd_bus_message_append(m, "s", name));
                ASSERT_OK(sd_bus_message_open_container(m, 'v', sig));
                if (streq(sig, "s"))
                        ASSERT_OK(sd_bus_message_append(m, "s", va_arg(ap, const char *)));
                else if (streq(sig, "b"))
                        ASSERT_OK(sd_bus_message_append(m, "b", va_arg(ap, int)));
                else if (streq(sig, "t"))
                        ASSERT_OK(sd_bus_message_append(m, "t", va_arg(ap, uint64_t)));
                else if (streq(sig, "as"))
                        ASSERT_OK(sd_bus_message_append_strv(m, va_arg(ap, char **)));
                else if (streq(sig, "a(ssqq)")) {
                        const char *proto = va_arg(ap, const char *), *ip = va_arg(ap, const char *);
                        unsigned hp = va_arg(ap, unsigned), pp = va_arg(ap, unsigned);

                        ASSERT_OK(sd_bus_message_append(m, "a(ssqq)", 1, proto, ip, (uint16_t) hp, (uint16_t) pp));
                } else if (streq(sig, "a(ss)")) {
                        const char *a = va_arg(ap, const char *), *b = va_arg(ap, const char *);

                        ASSERT_OK(sd_bus_message_append(m, "a(ss)", 1, a, b));
                } else if (streq(sig, "a(sssbt)")) {
                        const char *a = va_arg(ap, const char *), *b = va_arg(ap, const char *),
                                   *c = va_arg(ap, const char *);

                        ASSERT_OK(sd_bus_message_append(m, "a(sssbt)", 1, a, b, c, 0, (uint64_t) 0));
                } else if (streq(sig, "a{ss}")) {
                        /* pairs: key, value, key, value... */
                        char **pairs = va_arg(ap, char **);

                        ASSERT_OK(sd_bus_message_open_container(m, 'a', "{ss}"));
                        for (size_t k = 0; pairs && pairs[k] && pairs[k + 1]; k += 2)
                                ASSERT_OK(sd_bus_message_append(m, "{ss}", pairs[k], pairs[k + 1]));
                        ASSERT_OK(sd_bus_message_close_container(m));
                } else
                        ASSERT_TRUE(!"unknown signature in test");
                ASSERT_OK(sd_bus_message_close_container(m));
                ASSERT_OK(sd_bus_message_close_container(m));
        }
        va_end(ap);
        ASSERT_OK(sd_bus_message_close_container(m));
        ASSERT_OK(sd_bus_message_seal(m, 1, 0));
        ASSERT_OK(sd_bus_message_rewind(m, true));
        return m;
}

static int app(sd_bus_message *m, AppSpec *spec, sd_bus_error *error) {
        int r;

        *spec = (AppSpec) {};
        sd_bus_error_free(error);
        r = bus_read_app_spec(m, spec, error);
        sd_bus_message_unref(m);
        return r;
}

static void app_refused(sd_bus_message *m, const char *needle) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        AppSpec spec;

        ASSERT_TRUE(app(m, &spec, &error) < 0);
        ASSERT_STREQ(error.name, SD_BUS_ERROR_INVALID_ARGS);
        if (!strstr(error.message, needle)) {
                fprintf(stderr, "\"%s\" does not say \"%s\"\n", error.message, needle);
                exit(EXIT_FAILURE);
        }
        app_spec_done(&spec);
}

TEST(app_properties) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char *exec[] = { (char *) "/bin/sh", (char *) "-c", NULL }, *env[] = { (char *) "A=1", NULL }, *none[] = { NULL };
        _cleanup_strv_free_ char **long_list = NULL;
        AppSpec spec;

        ASSERT_OK(app(props(12, "Exec", "as", exec, "Environment", "as", env, "WorkingDirectory", "s", "/srv",
                            "User", "s", "app:staff", "NoNewPrivileges", "b", 0, "ReadOnlyRootfs", "b", 1,
                            "MemoryMax", "t", (uint64_t) 1 << 20, "Mounts", "a(ss)", "data", "/data",
                            "CapabilitiesRemove", "as", exec, "Stdin", "b", 1, "StdinOnce", "b", 1, "Tty", "b", 1),
                      &spec, &error));
        ASSERT_TRUE(spec.stdin_open && spec.stdin_once && spec.tty);
        ASSERT_STREQ(spec.exec[1], "-c");
        ASSERT_STREQ(spec.env[0], "A=1");
        ASSERT_STREQ(spec.workdir, "/srv");
        ASSERT_STREQ(spec.user, "app:staff");
        ASSERT_TRUE(spec.allow_new_privs);
        ASSERT_TRUE(spec.readonly_rootfs);
        ASSERT_TRUE(spec.memory_max == 1 << 20);
        ASSERT_TRUE(spec.n_mounts == 1);
        ASSERT_STREQ(spec.mounts[0].target, "/data");
        ASSERT_TRUE(!spec.args);
        app_spec_done(&spec);

        /* Nothing at all is an app of the image's defaults. */
        ASSERT_OK(app(props(0), &spec, &error));
        ASSERT_TRUE(!spec.exec && !spec.user && !spec.privileged);
        app_spec_done(&spec);
        ASSERT_OK(app(props(1, "Privileged", "b", 1), &spec, &error));
        ASSERT_TRUE(spec.privileged);
        app_spec_done(&spec);
        app_refused(props(1, "Privileged", "s", "yes"), "must be b");

        app_refused(props(1, "Exec", "as", none), "empty command");
        app_refused(props(1, "Exec", "s", "/bin/sh"), "must be as");
        app_refused(props(1, "WorkingDirectory", "as", exec), "Property WorkingDirectory must be s");
        app_refused(props(1, "User", "t", (uint64_t) 0), "must be s");
        app_refused(props(1, "NoNewPrivileges", "s", "yes"), "must be b");
        app_refused(props(1, "MemoryMax", "s", "1G"), "must be t");
        app_refused(props(1, "Mounts", "as", exec), "must be a(ss)");
        app_refused(props(1, "Bogus", "s", "x"), "Unknown app property Bogus");
        app_refused(props(1, "Annotations", "as", exec), "must be a{ss}");

        /* The clients' map, as given; an app's own volumes (AddApp). */
        {
                char *pairs[] = { (char *) "cri/name", (char *) "web", (char *) "cri/label/x", (char *) "", NULL };
                _cleanup_strv_free_ char **many = NULL;

                ASSERT_OK(app(props(2, "Annotations", "a{ss}", pairs, "Volumes", "a(sssbt)", "own", "host", "/tmp"),
                              &spec, &error));
                ASSERT_TRUE(strv_length(spec.annotations) == 4);
                ASSERT_STREQ(spec.annotations[1], "web");
                ASSERT_STREQ(spec.annotations[3], "");
                ASSERT_TRUE(spec.n_volumes == 1);
                ASSERT_STREQ(spec.volumes[0].source, "/tmp");
                ASSERT_TRUE(spec.volumes[0].propagation == VOLUME_PROPAGATION_PRIVATE);
                app_spec_done(&spec);
                /* VolumePropagation applies whatever the order, to the volumes given with it. */
                ASSERT_OK(app(props(2, "VolumePropagation", "a{ss}", STRV_MAKE("own", "rslave"), "Volumes", "a(sssbt)",
                                    "own", "host", "/tmp"),
                              &spec, &error));
                ASSERT_TRUE(spec.n_volumes == 1 && spec.volumes[0].propagation == VOLUME_PROPAGATION_RSLAVE);
                app_spec_done(&spec);
                app_refused(props(2, "Volumes", "a(sssbt)", "own", "host", "/tmp", "VolumePropagation", "a{ss}",
                                  STRV_MAKE("other", "rslave")),
                            "which is not given");
                app_refused(props(2, "Volumes", "a(sssbt)", "own", "host", "/tmp", "VolumePropagation", "a{ss}",
                                  STRV_MAKE("own", "shared")),
                            "invalid propagation");
                for (int i = 0; i <= ANNOTATIONS_MAX; i++) {
                        char k[16];

                        snprintf(k, sizeof(k), "k%d", i);
                        ASSERT_OK(strv_extend(&many, k));
                        ASSERT_OK(strv_extend(&many, "v"));
                }
                app_refused(props(1, "Annotations", "a{ss}", many), "Too many annotations");
        }
        for (int i = 0; i < 65; i++)
                ASSERT_OK(strv_extend(&long_list, "CAP_CHOWN"));
        app_refused(props(1, "CapabilitiesRetain", "as", long_list), "too long");
}

static int pod(sd_bus_message *m, PodProperties *p, sd_bus_error *error) {
        Daemon d = { .runtime.stage1_dir = getenv("TEST_STAGE1_DIR") };
        int r;

        *p = (PodProperties) { .stop_when_apps_exit = true };
        sd_bus_error_free(error);
        r = bus_read_pod_properties(&d, m, p, error);
        sd_bus_message_unref(m);
        return r;
}

static void pod_refused(sd_bus_message *m, const char *needle) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(pod_properties_done) PodProperties p;

        ASSERT_TRUE(pod(m, &p, &error) < 0);
        ASSERT_STREQ(error.name, SD_BUS_ERROR_INVALID_ARGS);
        if (!strstr(error.message, needle)) {
                fprintf(stderr, "\"%s\" does not say \"%s\"\n", error.message, needle);
                exit(EXIT_FAILURE);
        }
}

TEST(pod_properties) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        char *dns[] = { (char *) "10.0.0.1", NULL };
        _cleanup_strv_free_ char **long_list = NULL;
        PodProperties p;

        ASSERT_OK(pod(props(7, "StopWhenAppsExit", "b", 0, "CPUAccounting", "b", 1, "DNS", "as", dns, "Hostname", "s", "web",
                            "Ports", "a(ssqq)", "tcp", "", 8080, 80, "Stage1", "s", "default",
                            "Volumes", "a(sssbt)", "data", "empty", ""),
                      &p, &error));
        ASSERT_FALSE(p.stop_when_apps_exit);
        ASSERT_TRUE(p.cpu_accounting);
        ASSERT_STREQ(p.dns[0], "10.0.0.1");
        ASSERT_STREQ(p.hostname, "web");
        ASSERT_TRUE(p.n_ports == 1 && p.ports[0].host_port == 8080 && p.ports[0].pod_port == 80);
        ASSERT_TRUE(!p.stage1); /* "default" is recorded as no choice */
        ASSERT_TRUE(p.n_volumes == 1);
        ASSERT_STREQ(p.volumes[0].name, "data");
        pod_properties_done(&p);
        ASSERT_OK(pod(props(2, "Volumes", "a(sssbt)", "data", "host", "/tmp", "VolumePropagation", "a{ss}",
                            STRV_MAKE("data", "rslave")),
                      &p, &error));
        ASSERT_TRUE(p.n_volumes == 1 && p.volumes[0].propagation == VOLUME_PROPAGATION_RSLAVE);
        pod_properties_done(&p);
        pod_refused(props(1, "VolumePropagation", "a{ss}", STRV_MAKE("data", "rslave")), "which is not given");

        pod_refused(props(1, "StopWhenAppsExit", "s", "yes"), "Property StopWhenAppsExit must be b");
        pod_refused(props(1, "Hostname", "b", 1), "Property Hostname must be s");
        pod_refused(props(1, "Stage1", "as", dns), "Property Stage1 must be s");
        pod_refused(props(1, "Networks", "s", "x"), "must be as");
        pod_refused(props(1, "Ports", "as", dns), "must be a(ssqq)");
        pod_refused(props(1, "Ports", "a(ssqq)", "sctp", "", 1, 1), "tcp or udp");
        pod_refused(props(1, "Ports", "a(ssqq)", "tcp", "", 0, 80), "Invalid port mapping");
        pod_refused(props(1, "Ports", "a(ssqq)", "tcp", "not-an-ip", 80, 80), "Invalid port mapping");
        pod_refused(props(1, "Stage1", "s", "../x"), "Invalid stage1 flavour name");
        pod_refused(props(1, "Stage1", "s", "fly"), "No stage1 flavour 'fly'");
        pod_refused(props(1, "Volumes", "as", dns), "must be a(sssbt)");
        pod_refused(props(1, "Bogus", "b", 1), "Unknown pod property Bogus");
        pod_refused(props(1, "Annotations", "s", "x"), "must be a{ss}");
        {
                char *pairs[] = { (char *) "cri/name", (char *) "nginx", NULL };

                ASSERT_OK(pod(props(1, "Annotations", "a{ss}", pairs), &p, &error));
                ASSERT_TRUE(strv_length(p.annotations) == 2);
                ASSERT_STREQ(p.annotations[0], "cri/name");
                pod_properties_done(&p);
        }
        for (int i = 0; i < 65; i++)
                ASSERT_OK(strv_extend(&long_list, "example.com"));
        pod_refused(props(1, "DNSSearch", "as", long_list), "too long");
}

/* Pod.Exec's options (daemon-app.c), read by the same a(sv) loop. */
TEST(exec_options) {
        char *env[] = { (char *) "A=1", (char *) "B=2", NULL };
        _cleanup_strv_free_ char **got = NULL, **long_env = NULL;
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *m;

        m = props(1, "Environment", "as", env);
        ASSERT_OK(bus_read_exec_options(m, &got, &error));
        sd_bus_message_unref(m);
        ASSERT_TRUE(strv_length(got) == 2);
        ASSERT_STREQ(got[1], "B=2");

        m = props(1, "Environment", "s", "A=1");
        ASSERT_TRUE(bus_read_exec_options(m, &got, &error) < 0);
        sd_bus_message_unref(m);
        ASSERT_STREQ(error.message, "Unknown exec option Environment (s)");
        sd_bus_error_free(&error);

        m = props(1, "Cwd", "s", "/");
        ASSERT_TRUE(bus_read_exec_options(m, &got, &error) < 0);
        sd_bus_message_unref(m);
        ASSERT_STREQ(error.message, "Unknown exec option Cwd (s)");
        sd_bus_error_free(&error);

        for (int i = 0; i <= APP_ENV_MAX; i++)
                ASSERT_OK(strv_extend(&long_env, "X=1"));
        m = props(1, "Environment", "as", long_env);
        ASSERT_TRUE(bus_read_exec_options(m, &got, &error) < 0);
        sd_bus_message_unref(m);
        ASSERT_TRUE(strstr(error.message, "Exec option Environment is too long"));
}

int main(void) {
        char dir[] = "/tmp/test-daemon-pod-spec-XXXXXX", path[256];

        /* A stage1 dir with the default flavour only. */
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/default", dir);
        ASSERT_OK(mkdir(path, 0755) < 0 ? -errno : 0);
        snprintf(path, sizeof(path), "%s/default/peapod-stage1-init", dir);
        ASSERT_OK(close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0755)));
        ASSERT_OK(setenv("TEST_STAGE1_DIR", dir, 1));

        bus_setup();
        test_app_properties();
        test_pod_properties();
        test_exec_options();
        sd_bus_unref(bus);

        ASSERT_OK(unlink(path));
        snprintf(path, sizeof(path), "%s/default", dir);
        ASSERT_OK(rmdir(path));
        ASSERT_OK(rmdir(dir));
        return 0;
}
