/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "capability-util.h"
#include "fs-util.h"
#include "image.h"
#include "store.h"
#include "pod.h"
#include "pod-runtime.h"
#include "systemd.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static char tmpdir[] = "/tmp/test-pod-XXXXXX";

/* An image in a store under tmpdir, named localhost/NAME:TAG: one empty
 * layer (an end-of-archive tar), its tree, and a config whose "config"
 * object is config_body. */
static void make_image(const char *name, const char *tag, const char *config_body) {
        static const char empty_tar[1024];
        _cleanup_(store_freep) Store *s = NULL;
        char ds[3][DIGEST_STRING_MAX], path[512], ref[256];
        _cleanup_free_ char *config = NULL, *manifest = NULL;
        Digest layer, cfg, man;
        PeapodError e = {};

        snprintf(path, sizeof(path), "%s/images", tmpdir);
        ASSERT_OK(store_open(path, &s));
        ASSERT_OK(store_blob_write_buffer(s, NULL, empty_tar, sizeof(empty_tar), &layer, &e));
        ASSERT_TRUE(asprintf(&config,
                             "{\"architecture\": \"amd64\", \"os\": \"linux\", \"config\": %s,"
                             " \"rootfs\": {\"type\": \"layers\", \"diff_ids\": [\"%s\"]}}",
                             config_body, digest_to_string(&layer, ds[0])) > 0);
        ASSERT_OK(store_blob_write_buffer(s, NULL, config, strlen(config), &cfg, &e));
        ASSERT_TRUE(asprintf(&manifest,
                             "{\"schemaVersion\": 2, \"mediaType\": \"application/vnd.oci.image.manifest.v1+json\","
                             " \"config\": {\"mediaType\": \"application/vnd.oci.image.config.v1+json\", \"digest\": \"%s\", \"size\": %zu},"
                             " \"layers\": [{\"mediaType\": \"application/vnd.oci.image.layer.v1.tar\", \"digest\": \"%s\", \"size\": %zu}]}",
                             digest_to_string(&cfg, ds[1]), strlen(config), ds[0], sizeof(empty_tar)) > 0);
        ASSERT_OK(store_blob_write_buffer(s, NULL, manifest, strlen(manifest), &man, &e));
        /* One layer: its chain id is its diff_id, here also its blob digest. */
        snprintf(path, sizeof(path), "%s/images/layers/%s", tmpdir, layer.hex);
        ASSERT_OK(mkdir_p(path, 0755));
        snprintf(ref, sizeof(ref), "localhost/%s:%s", name, tag);
        ASSERT_OK(store_ref_set(s, ref, &man, &e));
        (void) ds[2];
}

static const char *image_store(void) {
        static char buf[512];

        snprintf(buf, sizeof(buf), "%s/images", tmpdir);
        return buf;
}

TEST(image_lookup) {
        Image *i = NULL;
        char **cmd = NULL;

        ASSERT_OK(image_find("busybox", image_store(), &i, NULL));
        ASSERT_STREQ(i->name, "localhost/busybox:latest");
        ASSERT_TRUE(strv_length(i->layers) == 1);
        ASSERT_STREQ(i->cmd[0], "sh");
        ASSERT_STREQ(i->workdir, "/srv");
        ASSERT_OK(image_resolve_command(i, NULL, NULL, &cmd));
        ASSERT_TRUE(strv_length(cmd) == 2);
        ASSERT_STREQ(cmd[0], "/bin/entry");
        ASSERT_STREQ(cmd[1], "sh");
        strv_free(cmd);
        ASSERT_OK(image_resolve_command(i, NULL, STRV_MAKE("echo", "hi"), &cmd));
        ASSERT_STREQ(cmd[0], "/bin/entry");
        ASSERT_STREQ(cmd[2], "hi");
        strv_free(cmd);
        ASSERT_OK(image_resolve_command(i, STRV_MAKE("/bin/true"), STRV_MAKE("ignored"), &cmd));
        ASSERT_TRUE(strv_length(cmd) == 1);
        strv_free(cmd);
        ASSERT_ERR(image_resolve_command(i, STRV_MAKE(""), NULL, &cmd), EINVAL);
        image_free(i);

        ASSERT_OK(image_find("tools:1.0", image_store(), &i, NULL));
        ASSERT_ERR(image_resolve_command(i, NULL, NULL, &cmd), EINVAL);
        image_free(i);

        ASSERT_ERR(image_find("nope", image_store(), &i, NULL), ENOENT);
        ASSERT_ERR(image_find("busybox:other", image_store(), &i, NULL), ENOENT);
        ASSERT_ERR(image_find("../etc", image_store(), &i, NULL), EINVAL);
        ASSERT_ERR(image_find("/abs", image_store(), &i, NULL), EINVAL);
        ASSERT_ERR(image_find("Upper", image_store(), &i, NULL), EINVAL);
        ASSERT_ERR(image_find("broken", image_store(), &i, NULL), EBADMSG);
}

TEST(pod_new_and_json_roundtrip) {
        AppSpec specs[] = {
                { .image = "busybox", .env = STRV_MAKE("A=1", "PATH=/x") },
                { .image = "busybox", .args = STRV_MAKE("sleep", "1") },
                { .name = "worker", .image = "tools:1.0", .exec = STRV_MAKE("/bin/w", "--flag"), .workdir = "/w" },
        };
        Pod *p = NULL, *q = NULL;
        PeapodError err = {};
        char *json = NULL;

        ASSERT_OK(pod_new("web", specs, 3, image_store(), &p, &err));
        ASSERT_STREQ(p->name, "web");
        ASSERT_TRUE(p->state == POD_CREATED);
        ASSERT_TRUE(p->n_apps == 3);
        ASSERT_STREQ(p->apps[0].name, "busybox");
        ASSERT_STREQ(p->apps[1].name, "busybox-2");
        ASSERT_STREQ(p->apps[2].name, "worker");
        ASSERT_STREQ(p->apps[0].workdir, "/srv");
        ASSERT_STREQ(p->apps[2].workdir, "/w");
        /* The caller's PATH replaces the image's; A is added. */
        ASSERT_TRUE(strv_contains(p->apps[0].env, "PATH=/x"));
        ASSERT_TRUE(strv_contains(p->apps[0].env, "A=1"));
        ASSERT_TRUE(strv_length(p->apps[0].env) == 2);
        ASSERT_STREQ(p->apps[1].exec[1], "sleep");
        ASSERT_STREQ(p->apps[2].exec[0], "/bin/w");
        ASSERT_TRUE(strcmp(p->apps[0].id, p->apps[1].id) != 0);

        p->state = POD_RUNNING;
        p->leader = 4242;
        p->apps[0].state = APP_EXITED;
        p->apps[0].result = APP_RESULT_KILLED;
        p->apps[0].status = 9;
        p->apps[0].oom_killed = true;
        p->cpu_accounting = true;
        ASSERT_OK(pod_save(p, tmpdir, NULL, NULL));
        ASSERT_OK(pod_load(tmpdir, NULL, p->id, &q));
        ASSERT_OK(pod_to_json_string(q, &json));
        ASSERT_STREQ(q->name, "web");
        ASSERT_TRUE(q->state == POD_RUNNING);
        ASSERT_TRUE(q->leader == 4242);
        ASSERT_TRUE(q->apps[0].result == APP_RESULT_KILLED && q->apps[0].status == 9);
        ASSERT_TRUE(q->apps[0].oom_killed && !q->apps[1].oom_killed);
        ASSERT_TRUE(q->cpu_accounting);
        {
                _cleanup_free_ char *slice = NULL, *want = NULL;

                /* A new pod's slice is in its shard, and stays there. */
                ASSERT_TRUE(q->slice_in_shard);
                ASSERT_OK(pod_unit_names(q, &slice, NULL));
                ASSERT_TRUE(asprintf(&want, "machine-peapod%c-web.slice", p->id[0]) > 0);
                ASSERT_STREQ(slice, want);
        }
        {
                _cleanup_(pod_freep) Pod *old = NULL;
                _cleanup_free_ char *slice = NULL;
                char *at = strstr(json, "\"slice_in_shard\"");

                /* A pod an older peapod made (no such key) keeps the slice
                 * its units were started in. */
                ASSERT_TRUE(at);
                memcpy(at, "\"slice_in_shaxd\"", 16);
                ASSERT_OK(pod_from_json_string(json, &old));
                ASSERT_FALSE(old->slice_in_shard);
                ASSERT_OK(pod_unit_names(old, &slice, NULL));
                ASSERT_STREQ(slice, "machine-web.slice");
        }
        /* Written for the app it is true of only (older records have none). */
        ASSERT_TRUE(strstr(json, "\"oom_killed\"") && !strstr(strstr(json, "\"oom_killed\"") + 1, "\"oom_killed\""));
        ASSERT_STREQ(q->apps[1].id, p->apps[1].id);
        ASSERT_STREQ(q->apps[2].exec[1], "--flag");
        free(json);
        pod_free(q);
        pod_free(p);

        ASSERT_OK(pod_new(NULL, specs, 1, image_store(), &p, &err));
        ASSERT_TRUE(strncmp(p->name, "pod-", 4) == 0 && strlen(p->name) == 12);
        pod_free(p);
}

TEST(pod_isolation_and_volumes) {
        AppDevice devices[] = { { .host = (char *) "/dev/null", .container = (char *) "/dev/x/null", .permissions = (char *) "rw" } };
        AppMount mounts[] = { { .volume = (char *) "data", .target = (char *) "/srv/data" } };
        Volume vols[] = {
                { .name = (char *) "data", .kind = VOLUME_EMPTY },
                { .name = (char *) "host", .kind = VOLUME_HOST, .source = (char *) "/tmp", .read_only = true },
                { .name = (char *) "scratch", .kind = VOLUME_TMPFS, .size = 1 << 20 },
        };
        AppSpec specs[] = {
                { .image = "busybox", .user = "app", .group = "staff", .supplementary_groups = STRV_MAKE("7", "wheel"),
                  .caps_retain = STRV_MAKE("CAP_NET_BIND_SERVICE"), .allow_new_privs = true,
                  .seccomp = "mode=remove,@default,ptrace", .readonly_rootfs = true, .pid_namespace = "app",
                  .cpu_quota_usec = 500000, .cpu_shares = 2048, .memory_max = 64 << 20, .tasks_max = 32,
                  .mounts = mounts, .n_mounts = 1, .stdin_open = true, .stdin_once = true, .tty = true,
                  .ipc_namespace = "app", .devices = devices, .n_devices = 1, .masked_paths = STRV_MAKE("/proc/asound"),
                  .readonly_paths = STRV_MAKE("/etc", "/usr") },
                { .image = "busybox", .group = "50" },
        };
        Pod *p = NULL, *q = NULL;
        PeapodError err = {};
        _cleanup_free_ char *json = NULL, *json2 = NULL;

        ASSERT_OK(pod_new("iso", specs, 2, image_store(), &p, &err));
        ASSERT_OK(pod_set_volumes(p, vols, 3, &err));
        ASSERT_STREQ(p->apps[0].user, "app:staff");
        /* A group without a user: the image's user (none here: root). */
        ASSERT_STREQ(p->apps[1].user, "0:50");
        ASSERT_TRUE(p->apps[0].caps == (UINT64_C(1) << 10) && p->apps[0].ambient_caps);
        ASSERT_TRUE(!p->apps[0].no_new_privs && p->apps[1].no_new_privs);
        ASSERT_STREQ(p->apps[1].seccomp, "default");
        ASSERT_TRUE(p->apps[1].caps == UINT64_C(0xa80405fb) && !p->apps[1].ambient_caps);
        ASSERT_OK(pod_to_json_string(p, &json));
        ASSERT_OK(pod_from_json_string(json, &q));
        ASSERT_OK(pod_to_json_string(q, &json2));
        ASSERT_STREQ(json, json2);
        ASSERT_TRUE(q->n_volumes == 3 && q->volumes[1].read_only && q->volumes[2].size == 1 << 20);
        ASSERT_STREQ(q->volumes[1].source, "/tmp");
        ASSERT_TRUE(q->apps[0].pid_namespace == PID_NAMESPACE_APP && q->apps[0].readonly_rootfs);
        ASSERT_TRUE(q->apps[0].stdin_open && q->apps[0].stdin_once && !q->apps[1].stdin_open && !q->apps[1].stdin_once);
        ASSERT_TRUE(q->apps[0].tty && !q->apps[1].tty);
        ASSERT_TRUE(q->apps[0].memory_max == 64 << 20 && q->apps[0].tasks_max == 32 && q->apps[0].cpu_shares == 2048);
        ASSERT_TRUE(q->apps[0].n_mounts == 1);
        ASSERT_STREQ(q->apps[0].mounts[0].target, "/srv/data");
        ASSERT_TRUE(strv_length(q->apps[0].supplementary_groups) == 2);
        ASSERT_TRUE(q->apps[0].ipc_namespace == IPC_NAMESPACE_APP && q->apps[1].ipc_namespace == IPC_NAMESPACE_POD);
        ASSERT_TRUE(q->apps[0].n_devices == 1 && q->apps[1].n_devices == 0);
        ASSERT_STREQ(q->apps[0].devices[0].container, "/dev/x/null");
        ASSERT_STREQ(q->apps[0].devices[0].permissions, "rw");
        ASSERT_TRUE(strv_length(q->apps[0].masked_paths) == 1 && strv_length(q->apps[0].readonly_paths) == 2);
        ASSERT_TRUE(!q->apps[1].masked_paths && !q->apps[1].readonly_paths);
        pod_free(q);

        /* A mount of a volume the pod lacks, and duplicate volumes. */
        err = (PeapodError) {};
        ASSERT_ERR(pod_set_volumes(p, vols + 1, 2, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "data") != NULL);
        Volume dup[] = { vols[0], vols[0] };
        ASSERT_ERR(pod_set_volumes(p, dup, 2, &err), EINVAL);
        Volume missing = { .name = (char *) "data", .kind = VOLUME_HOST, .source = (char *) "/no/such/dir" };
        ASSERT_ERR(pod_set_volumes(p, &missing, 1, &err), EINVAL);
        /* rslave for an app without no_new_privs: a setuid binary the host
         * mounts there later would raise it (app_mount_propagation_check()). */
        Volume slave = { .name = (char *) "data", .kind = VOLUME_HOST, .source = (char *) "/tmp",
                         .propagation = VOLUME_PROPAGATION_RSLAVE };
        err = (PeapodError) {};
        ASSERT_ERR(pod_set_volumes(p, &slave, 1, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "no_new_privs") != NULL);
        pod_free(p);

        /* With no_new_privs it is kept, and pod.json keeps it. */
        AppSpec nnp = specs[1];
        nnp.mounts = mounts;
        nnp.n_mounts = 1;
        ASSERT_OK(pod_new("iso", &nnp, 1, image_store(), &p, &err));
        ASSERT_OK(pod_set_volumes(p, &slave, 1, &err));
        json = mfree(json);
        ASSERT_OK(pod_to_json_string(p, &json));
        ASSERT_TRUE(strstr(json, "\"propagation\":\"rslave\"") != NULL);
        ASSERT_OK(pod_from_json_string(json, &q));
        ASSERT_TRUE(q->volumes[0].propagation == VOLUME_PROPAGATION_RSLAVE);
        pod_free(q);
        {
                char *at = strstr(json, "rslave");

                memcpy(at, "rsharp", 6);
                ASSERT_TRUE(pod_from_json_string(json, &q) < 0);
        }
        /* rshared: what the app mounts appears on the host, only a
         * privileged app may; no_new_privs changes nothing. */
        Volume shared = { .name = (char *) "data", .kind = VOLUME_HOST, .source = (char *) "/tmp",
                          .propagation = VOLUME_PROPAGATION_RSHARED };
        err = (PeapodError) {};
        ASSERT_ERR(pod_set_volumes(p, &shared, 1, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "rshared") && strstr(err.message, "privileged"));
        pod_free(p);

        /* A privileged app may have both, and pod.json keeps rshared. */
        AppSpec priv = { .image = specs[1].image, .privileged = true, .mounts = mounts, .n_mounts = 1 };
        ASSERT_OK(pod_new("priv", &priv, 1, image_store(), &p, &err));
        ASSERT_OK(pod_set_volumes(p, &slave, 1, &err));
        ASSERT_OK(pod_set_volumes(p, &shared, 1, &err));
        json = mfree(json);
        ASSERT_OK(pod_to_json_string(p, &json));
        ASSERT_TRUE(strstr(json, "\"propagation\":\"rshared\"") != NULL);
        ASSERT_OK(pod_from_json_string(json, &q));
        ASSERT_TRUE(q->volumes[0].propagation == VOLUME_PROPAGATION_RSHARED && q->apps[0].privileged);
        pod_free(q);
        pod_free(p);

}

TEST(pod_new_rejects_bad_isolation) {
        AppMount escape[] = { { .volume = (char *) "v", .target = (char *) "/a/../../etc" } };
        AppMount twice[] = { { .volume = (char *) "v", .target = (char *) "/a" }, { .volume = (char *) "v", .target = (char *) "/a" } };
        AppDevice dir[] = { { .host = (char *) "/tmp", .container = (char *) "/dev/t", .permissions = (char *) "r" } };
        AppDevice outside[] = { { .host = (char *) "/dev/null", .container = (char *) "/etc/n", .permissions = (char *) "r" } };
        const AppSpec bad[] = {
                { .image = "busybox", .caps_retain = STRV_MAKE("CAP_NOPE") },
                { .image = "busybox", .caps_retain = STRV_MAKE("chown"), .caps_remove = STRV_MAKE("kill") },
                { .image = "busybox", .seccomp = "mode=remove,no_such_syscall" },
                { .image = "busybox", .seccomp = "strict" },
                { .image = "busybox", .pid_namespace = "host" },
                { .image = "busybox", .memory_max = 100 },
                { .image = "busybox", .cpu_shares = 1 },
                { .image = "busybox", .user = "a:b:c" },
                { .image = "busybox", .user = "" },
                { .image = "busybox", .group = "a b" },
                { .image = "busybox", .supplementary_groups = STRV_MAKE("ok", "no,comma") },
                { .image = "busybox", .mounts = escape, .n_mounts = 1 },
                { .image = "busybox", .mounts = twice, .n_mounts = 2 },
                { .image = "busybox", .stdin_once = true },
                { .image = "busybox", .ipc_namespace = "host" },
                { .image = "busybox", .devices = dir, .n_devices = 1 },
                { .image = "busybox", .devices = outside, .n_devices = 1 },
                { .image = "busybox", .masked_paths = STRV_MAKE("/") },
                { .image = "busybox", .readonly_paths = STRV_MAKE("/a/../b") },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                PeapodError err = {};
                Pod *p = NULL;

                ASSERT_ERR(pod_new("x", &bad[i], 1, image_store(), &p, &err), EINVAL);
                ASSERT_TRUE(p == NULL && err.message[0]);
        }
}

TEST(pod_new_rejects_bad_input) {
        AppSpec ok = { .image = "busybox" };
        AppSpec bad_name = { .name = "Bad_Name", .image = "busybox" };
        AppSpec missing = { .image = "missing" };
        AppSpec empty_cmd = { .image = "busybox", .exec = STRV_MAKE("") };
        AppSpec bad_env = { .image = "busybox", .env = STRV_MAKE("=x") };
        AppSpec rel_wd = { .image = "busybox", .workdir = "rel" };
        AppSpec dup[] = { { .name = "a", .image = "busybox" }, { .name = "a", .image = "busybox" } };
        PeapodError err = {};
        Pod *p = NULL;

        ASSERT_ERR(pod_new("bad_pod", &ok, 1, image_store(), &p, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "bad_pod"));
        ASSERT_ERR(pod_new("x", &ok, 0, image_store(), &p, &err), EINVAL);
        ASSERT_ERR(pod_new("x", &bad_name, 1, image_store(), &p, &err), EINVAL);
        memset(&err, 0, sizeof(err));
        ASSERT_ERR(pod_new("x", &missing, 1, image_store(), &p, &err), ENOENT);
        ASSERT_STREQ(err.message, "Image not found: missing");
        ASSERT_ERR(pod_new("x", &empty_cmd, 1, image_store(), &p, &err), EINVAL);
        ASSERT_ERR(pod_new("x", &bad_env, 1, image_store(), &p, &err), EINVAL);
        ASSERT_ERR(pod_new("x", &rel_wd, 1, image_store(), &p, &err), EINVAL);
        ASSERT_ERR(pod_new("x", dup, 2, image_store(), &p, &err), EEXIST);
        ASSERT_TRUE(p == NULL);
}

TEST(pod_json_refuses_garbage) {
        static const char * const bad[] = {
                "",
                "[]",
                "{\"id\": \"zz\"}",
                "{\"id\": \"0123456789abcdef0123456789abcdef\", \"name\": \"a_b\", \"state\": \"created\"}",
                "{\"id\": \"0123456789abcdef0123456789abcdef\", \"name\": \"a\", \"state\": \"weird\", \"leader\": 0,"
                " \"created_usec\": 0, \"started_usec\": 0, \"exited_usec\": 0, \"apps\": []}",
                "{\"id\": \"0123456789abcdef0123456789abcdef\", \"name\": \"a\", \"state\": \"created\", \"leader\": -1,"
                " \"created_usec\": 0, \"started_usec\": 0, \"exited_usec\": 0, \"apps\": []}",
                "{\"id\": \"0123456789abcdef0123456789abcdef\", \"name\": \"a\", \"state\": \"created\", \"leader\": 0,"
                " \"created_usec\": 0, \"started_usec\": 0, \"exited_usec\": 0, \"apps\": [{\"name\": \"x\"}]}",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                Pod *p = NULL;
                ASSERT_TRUE(pod_from_json_string(bad[i], &p) < 0);
                ASSERT_TRUE(p == NULL);
        }
}

/* pod.json written before multi-layer images has one "rootfs_lower". */
TEST(pod_json_old_rootfs_lower) {
        static const char old[] =
                "{\"version\":1,\"id\":\"0123456789abcdef0123456789abcdef\",\"name\":\"web\",\"state\":\"created\","
                "\"leader\":0,\"created_usec\":1,\"started_usec\":0,\"exited_usec\":0,\"apps\":[{\"name\":\"a\","
                "\"id\":\"fedcba9876543210fedcba9876543210\",\"image\":\"busybox:latest\",\"rootfs_lower\":\"/x\","
                "\"exec\":[\"sh\"],\"env\":[],\"workdir\":\"/\",\"state\":\"created\",\"result\":\"\",\"status\":0,"
                "\"started_usec\":0,\"exited_usec\":0}]}";
        _cleanup_free_ char *text = NULL;
        Pod *p = NULL, *q = NULL;

        ASSERT_OK(pod_from_json_string(old, &p));
        ASSERT_TRUE(strv_length(p->apps[0].lowerdirs) == 1);
        /* Nor "isolation" nor "volumes": the defaults of a new app. */
        ASSERT_TRUE(p->apps[0].caps == UINT64_C(0xa80405fb) && p->apps[0].no_new_privs);
        ASSERT_STREQ(p->apps[0].seccomp, "default");
        ASSERT_TRUE(p->n_volumes == 0 && p->apps[0].n_mounts == 0);
        ASSERT_STREQ(p->apps[0].lowerdirs[0], "/x");
        ASSERT_TRUE(!p->apps[0].image_id);
        /* No "user": the app runs as root, as it did before. */
        ASSERT_TRUE(!p->apps[0].user);
        ASSERT_TRUE(p->apps[0].user = strdup("app:staff"));
        /* Written back as a list, with an image id when there is one. */
        ASSERT_TRUE(p->apps[0].image_id = strdup("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        ASSERT_OK(strv_extend(&p->apps[0].lowerdirs, "/y"));
        ASSERT_OK(pod_to_json_string(p, &text));
        ASSERT_TRUE(strstr(text, "\"lowerdirs\""));
        ASSERT_TRUE(!strstr(text, "rootfs_lower"));
        ASSERT_OK(pod_from_json_string(text, &q));
        ASSERT_TRUE(strv_length(q->apps[0].lowerdirs) == 2);
        ASSERT_STREQ(q->apps[0].lowerdirs[1], "/y");
        ASSERT_STREQ(q->apps[0].image_id, p->apps[0].image_id);
        ASSERT_STREQ(q->apps[0].user, "app:staff");
        pod_free(p);
        pod_free(q);
}

/* What the stage1 helper would refuse at start is refused at creation. */
TEST(pod_new_rejects_what_stage1_refuses) {
        AppSpec relwd = { .image = "relwd" };
        AppSpec relwd_given = { .image = "relwd", .workdir = "/given" };
        AppSpec emptywd = { .image = "emptywd" };
        AppMount proc = { .volume = (char *) "v", .target = (char *) "/proc" };
        AppSpec mount_proc = { .image = "busybox", .mounts = &proc, .n_mounts = 1 };
        PeapodError err = {};
        Pod *p = NULL;

        ASSERT_ERR(pod_new("x", &relwd, 1, image_store(), &p, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "'srv/app'"));
        ASSERT_TRUE(strstr(err.message, "not an absolute path"));
        /* An explicit one replaces the image's. */
        ASSERT_OK(pod_new("x", &relwd_given, 1, image_store(), &p, &err));
        ASSERT_STREQ(p->apps[0].workdir, "/given");
        p = pod_free(p);
        /* "" in an image config is unset. */
        ASSERT_OK(pod_new("x", &emptywd, 1, image_store(), &p, &err));
        ASSERT_STREQ(p->apps[0].workdir, "/");
        p = pod_free(p);
        memset(&err, 0, sizeof(err));
        ASSERT_ERR(pod_new("x", &mount_proc, 1, image_store(), &p, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "/proc and /sys belong to the pod"));
}

static bool strv_same(char * const *a, char * const *b) {
        size_t n = strv_length(a);

        if (n != strv_length(b))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!streq(a[i], b[i]))
                        return false;
        return true;
}

TEST(pod_annotations) {
        AppSpec spec = { .image = "busybox",
                         .annotations = STRV_MAKE("cri/label/app", "web", "cri/annotation/x", "a \"quoted\"\nline") };
        Pod *p = NULL, *q = NULL;
        PeapodError err = {};
        char **big = NULL;

        ASSERT_OK(pod_new("ann", &spec, 1, image_store(), &p, &err));
        ASSERT_OK(pod_set_annotations(p, STRV_MAKE("cri/metadata/name", "nginx", "empty", ""), &err));
        ASSERT_OK(pod_save(p, tmpdir, NULL, NULL));
        ASSERT_OK(pod_load(tmpdir, NULL, p->id, &q));
        /* Exactly what was given, in order, values with quotes and newlines included. */
        ASSERT_TRUE(strv_same(q->annotations, p->annotations));
        ASSERT_TRUE(strv_same(q->apps[0].annotations, spec.annotations));
        q = pod_free(q);

        /* Refusals leave the former map. */
        memset(&err, 0, sizeof(err));
        ASSERT_ERR(pod_set_annotations(p, STRV_MAKE("k", "1", "k", "2"), &err), EINVAL);
        ASSERT_ERR(pod_set_annotations(p, STRV_MAKE("", "1"), NULL), EINVAL);
        ASSERT_ERR(pod_set_annotations(p, STRV_MAKE("odd"), NULL), EINVAL);
        ASSERT_STREQ(p->annotations[1], "nginx");
        /* The bound covers the pod and its apps together. */
        for (int i = 0; i < 2; i++) {
                char key[16], *value = malloc(ANNOTATIONS_SIZE_MAX / 2);

                ASSERT_TRUE(value);
                memset(value, 'v', ANNOTATIONS_SIZE_MAX / 2 - 1);
                value[ANNOTATIONS_SIZE_MAX / 2 - 1] = 0;
                snprintf(key, sizeof(key), "k%d", i);
                ASSERT_OK(strv_extend(&big, key));
                ASSERT_OK(strv_consume(&big, value));
        }
        ASSERT_ERR(pod_set_annotations(p, big, NULL), E2BIG);
        ASSERT_ERR(pod_check_annotations(p, big, NULL), E2BIG);
        strv_free(big);

        /* An app's own volume keeps its owner in pod.json; a bad one is refused. */
        {
                Volume v = { .name = (char *) "own", .kind = VOLUME_HOST, .source = (char *) "/tmp" };
                char *json = NULL, *bad = NULL, *at;

                ASSERT_OK(pod_set_volumes(p, &v, 1, &err));
                p->volumes[0].owner = strdup(p->apps[0].id);
                ASSERT_TRUE(p->volumes[0].owner);
                ASSERT_OK(pod_save(p, tmpdir, NULL, NULL));
                ASSERT_OK(pod_load(tmpdir, NULL, p->id, &q));
                ASSERT_STREQ(q->volumes[0].owner, p->apps[0].id);
                q = pod_free(q);
                ASSERT_OK(pod_to_json_string(p, &json));
                at = strstr(json, p->apps[0].id);
                ASSERT_TRUE(at);
                at = strstr(json, "\"owner\"");
                ASSERT_TRUE(at);
                bad = strdup(json);
                ASSERT_TRUE(bad);
                memcpy(bad + (strstr(at, p->apps[0].id) - json), "not-an-id", 9);
                ASSERT_TRUE(pod_from_json_string(bad, &q) < 0);
                free(bad);
                free(json);
        }
        pod_free(p);
}

/* A writer that keeps what it is given instead of writing it: the copy a
 * power loss would have found not yet on disk. */
typedef struct HeldCopy {
        char *path, *text;
} HeldCopy;

static void hold_copy(void *userdata, char *path, char *text) {
        HeldCopy *h = userdata;

        free(h->path);
        free(h->text);
        h->path = path;
        h->text = text;
}

static char rundir[] = "/tmp/test-pod-run-XXXXXX";

static PodState loaded_state(const char *volatile_dir, const char *id) {
        Pod *q = NULL;
        PodState s;

        ASSERT_OK(pod_load(tmpdir, volatile_dir, id, &q));
        s = q->state;
        pod_free(q);
        return s;
}

TEST(pod_durable_copy) {
        AppSpec spec = { .image = (char *) "busybox" };
        HeldCopy held = {};
        PodDurableWriter w = { .write = hold_copy, .userdata = &held };
        char durable[PATH_MAX + 64], current[PATH_MAX + 64];
        char *old = NULL, *text = NULL, *stripped = NULL, *at;
        PeapodError err = {};
        Pod *p = NULL, *q = NULL;

        ASSERT_TRUE(mkdtemp(rundir));
        ASSERT_OK(pod_new("dur", &spec, 1, image_store(), &p, &err));
        snprintf(durable, sizeof(durable), "%s/pods/%s/pod.json", tmpdir, p->id);
        snprintf(current, sizeof(current), "%s/pods/%s/pod.json", rundir, p->id);

        /* Without a writer the durable copy is written at once, alone. */
        ASSERT_OK(pod_save(p, tmpdir, rundir, NULL));
        ASSERT_OK(read_file(durable, POD_FILE_MAX, &old, NULL));
        ASSERT_TRUE(strstr(old, "\"created\""));
        ASSERT_TRUE(access(current, F_OK) < 0);

        /* With one, the current copy is new at once and the durable one
         * waits for the writer. */
        p->state = POD_RUNNING;
        ASSERT_OK(pod_save(p, tmpdir, rundir, &w));
        ASSERT_STREQ(held.path, durable);
        ASSERT_TRUE(loaded_state(rundir, p->id) == POD_RUNNING);
        /* After a reboot (no /run): the durable copy as it got to disk. */
        ASSERT_TRUE(loaded_state(NULL, p->id) == POD_CREATED);

        /* The current copy torn or empty: the durable copy, not an error. */
        ASSERT_OK(write_file_atomic_full(current, "", 0, 0600, 0));
        ASSERT_TRUE(loaded_state(rundir, p->id) == POD_CREATED);
        ASSERT_OK(write_file_atomic_full(current, "{\"id\": ", 8, 0600, 0));
        ASSERT_TRUE(loaded_state(rundir, p->id) == POD_CREATED);

        /* Once written, the durable copy is as new: either is the same. */
        ASSERT_OK(pod_write_durable(held.path, held.text));
        ASSERT_TRUE(loaded_state(NULL, p->id) == POD_RUNNING);
        /* An older current copy loses to a newer durable one. */
        ASSERT_OK(write_file_atomic_full(current, old, strlen(old), 0600, 0));
        ASSERT_TRUE(loaded_state(rundir, p->id) == POD_RUNNING);

        /* A copy of another pod is no copy of this one. */
        p->generation += 10;
        ASSERT_OK(pod_to_json_string(p, &text));
        at = strstr(text, p->id);
        ASSERT_TRUE(at);
        at[0] = at[0] == 'a' ? 'b' : 'a';
        ASSERT_OK(write_file_atomic_full(current, text, strlen(text), 0600, 0));
        ASSERT_TRUE(loaded_state(rundir, p->id) == POD_RUNNING);

        /* Neither validates: the pod does not load. */
        ASSERT_OK(write_file_atomic_full(durable, "", 0, 0600, 0));
        ASSERT_TRUE(pod_load(tmpdir, rundir, p->id, &q) < 0);

        /* A record from before the generations has none: 0. */
        stripped = strdup(old);
        ASSERT_TRUE(stripped);
        at = strstr(stripped, "\"generation\"");
        ASSERT_TRUE(at);
        memcpy(at, "\"generatiox\"", 12);
        ASSERT_OK(write_file_atomic_full(durable, stripped, strlen(stripped), 0600, 0));
        ASSERT_OK(pod_load(tmpdir, NULL, p->id, &q));
        ASSERT_TRUE(q->generation == 0 && q->state == POD_CREATED);
        q = pod_free(q);

        free(stripped);
        free(text);
        free(old);
        free(held.path);
        free(held.text);
        pod_free(p);
        ASSERT_OK(rm_rf(rundir));
}

TEST(state_strings) {
        for (int s = 0; s < _POD_STATE_MAX; s++)
                ASSERT_TRUE(pod_state_from_string(pod_state_to_string(s)) == (PodState) s);
        for (int s = 0; s < _APP_RESULT_MAX; s++)
                ASSERT_TRUE(app_result_from_string(app_result_to_string(s)) == (AppResult) s);
        ASSERT_TRUE(pod_state_from_string("nope") < 0);
}

/* systemd's Result=oom-kill of the app's unit marks the app, until it
 * runs again; any other end does not. */
static void test_app_oom_from_unit(void) {
        App a = { .state = APP_RUNNING };
        UnitStatus s = { .load_state = (char *) "loaded", .active_state = (char *) "failed", .sub_state = (char *) "failed",
                         .exec_main_code = CLD_KILLED, .exec_main_status = 9, .result = (char *) "oom-kill" };

        ASSERT_TRUE(app_update_from_unit(&a, &s));
        ASSERT_TRUE(a.state == APP_EXITED && a.result == APP_RESULT_KILLED && a.status == 9 && a.oom_killed);
        ASSERT_TRUE(!app_update_from_unit(&a, &s));
        app_mark_started(&a);
        ASSERT_TRUE(!a.oom_killed);
        s.result = (char *) "signal";
        ASSERT_TRUE(app_update_from_unit(&a, &s));
        ASSERT_TRUE(a.state == APP_EXITED && a.result == APP_RESULT_KILLED && !a.oom_killed);
}

/* Sysctls of the pod's own namespaces only, net.* only with a network of
 * its own; kept in pod.json. */
/* A privileged app: every capability, unconfined, no_new_privs off,
 * kept in pod.json; what would narrow it is refused. */
TEST(pod_privileged) {
        AppSpec specs[] = {
                { .image = "busybox", .privileged = true, .user = "1000", .readonly_rootfs = true },
                { .image = "busybox" },
        };
        _cleanup_free_ char *json = NULL;
        Pod *p = NULL, *q = NULL;
        PeapodError err = {};
        AppSpec bad;

        ASSERT_TRUE(app_specs_privileged(specs, 2) && !app_specs_privileged(specs + 1, 1));
        ASSERT_OK(pod_new("priv", specs, 2, image_store(), &p, &err));
        ASSERT_TRUE(p->apps[0].privileged && p->apps[0].caps == CAPABILITY_ALL && !p->apps[0].no_new_privs &&
                    !p->apps[0].ambient_caps);
        ASSERT_STREQ(p->apps[0].seccomp, "unconfined");
        ASSERT_TRUE(!p->apps[1].privileged && p->apps[1].no_new_privs);
        ASSERT_STREQ(p->apps[1].seccomp, "default");
        ASSERT_OK(pod_to_json_string(p, &json));
        ASSERT_TRUE(strstr(json, "\"privileged\":true"));
        ASSERT_OK(pod_from_json_string(json, &q));
        ASSERT_TRUE(q->apps[0].privileged && !q->apps[1].privileged && q->apps[0].caps == CAPABILITY_ALL);
        pod_free(q);
        pod_free(p);

        bad = (AppSpec) { .image = "busybox", .privileged = true, .seccomp = "unconfined" };
        ASSERT_OK(pod_new("priv", &bad, 1, image_store(), &p, &err));
        pod_free(p);
        bad = (AppSpec) { .image = "busybox", .privileged = true, .caps_remove = STRV_MAKE("CAP_CHOWN") };
        ASSERT_ERR(pod_new("priv", &bad, 1, image_store(), &p, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "capabilities"));
        bad = (AppSpec) { .image = "busybox", .privileged = true, .seccomp = "default" };
        err = (PeapodError) {};
        ASSERT_ERR(pod_new("priv", &bad, 1, image_store(), &p, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "seccomp"));
        bad = (AppSpec) { .image = "busybox", .privileged = true, .masked_paths = STRV_MAKE("/proc/kcore") };
        err = (PeapodError) {};
        ASSERT_ERR(pod_new("priv", &bad, 1, image_store(), &p, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "masked"));
        {
                AppDevice dev = { .host = (char *) "/dev/null", .container = (char *) "/dev/n", .permissions = (char *) "rw" };

                bad = (AppSpec) { .image = "busybox", .privileged = true, .devices = &dev, .n_devices = 1 };
                err = (PeapodError) {};
                ASSERT_ERR(pod_new("priv", &bad, 1, image_store(), &p, &err), EINVAL);
                ASSERT_TRUE(strstr(err.message, "devices"));
        }
}

static void test_pod_sysctls(void) {
        _cleanup_(pod_freep) Pod *p = NULL, *q = NULL;
        _cleanup_free_ char *json = NULL;
        PeapodError err = {};

        ASSERT_OK(pod_new_empty("sys", &p, &err));
        p->net.mode = POD_NETWORK_CNI;
        ASSERT_OK(pod_set_sysctls(p, STRV_MAKE("net.ipv4.ip_unprivileged_port_start", "81", "kernel.sem", "250 32000 32 128"), &err));
        ASSERT_TRUE(strv_length(p->sysctls) == 2);
        ASSERT_STREQ(p->sysctls[1], "kernel.sem=250 32000 32 128");
        ASSERT_OK(pod_to_json_string(p, &json));
        ASSERT_OK(pod_from_json_string(json, &q));
        ASSERT_TRUE(strv_length(q->sysctls) == 2);
        ASSERT_STREQ(q->sysctls[0], p->sysctls[0]);
        ASSERT_STREQ(q->sysctls[1], p->sysctls[1]);
        ASSERT_ERR(pod_set_sysctls(p, STRV_MAKE("kernel.core_pattern", "x"), &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "kernel.core_pattern"));
        ASSERT_ERR(pod_set_sysctls(p, STRV_MAKE("kernel.shmmni", "1\n2"), NULL), EINVAL);
        ASSERT_TRUE(strv_length(p->sysctls) == 2);      /* untouched by a refusal */
        p->net.mode = POD_NETWORK_HOST;
        ASSERT_ERR(pod_set_sysctls(p, STRV_MAKE("net.ipv4.ip_forward", "1"), NULL), EINVAL);
        ASSERT_OK(pod_set_sysctls(p, STRV_MAKE("kernel.shmmni", "1000"), NULL));
}

int main(void) {
        ASSERT_TRUE(mkdtemp(tmpdir));
        make_image("busybox", "latest",
                   "{\"Entrypoint\": [\"/bin/entry\"], \"Cmd\": [\"sh\"], \"Env\": [\"PATH=/bin\"], \"WorkingDir\": \"/srv\"}");
        make_image("tools", "1.0", "{}");
        make_image("broken", "latest", "{\"Cmd\": \"not-a-list\"}");
        make_image("relwd", "latest", "{\"Cmd\": [\"sh\"], \"WorkingDir\": \"srv/app\"}");
        make_image("emptywd", "latest", "{\"Cmd\": [\"sh\"], \"WorkingDir\": \"\"}");
        test_image_lookup();
        test_pod_new_and_json_roundtrip();
        test_pod_new_rejects_bad_input();
        test_pod_isolation_and_volumes();
        test_pod_new_rejects_bad_isolation();
        test_pod_json_refuses_garbage();
        test_pod_json_old_rootfs_lower();
        test_pod_new_rejects_what_stage1_refuses();
        test_pod_annotations();
        test_pod_durable_copy();
        test_state_strings();
        test_app_oom_from_unit();
        test_pod_privileged();
        test_pod_sysctls();
        ASSERT_OK(rm_rf(tmpdir));
        return 0;
}
