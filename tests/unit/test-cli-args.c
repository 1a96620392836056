/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <signal.h>

#include "cli.h"
#include "journal.h"
#include "json-util.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static int parse(RunArgs *a, ...) {
        char *argv[64] = { (char *) "run" };
        int argc = 1;
        va_list ap;
        const char *s;

        va_start(ap, a);
        while ((s = va_arg(ap, const char *)))
                argv[argc++] = (char *) s;
        va_end(ap);
        cli_usage_failed = false;
        return run_args_parse(argc, argv, a);
}

static void assert_strv(char **l, ...) {
        va_list ap;
        const char *s;
        size_t i = 0;

        ASSERT_TRUE(l);
        va_start(ap, l);
        while ((s = va_arg(ap, const char *))) {
                ASSERT_STREQ(l[i], s);
                i++;
        }
        va_end(ap);
        ASSERT_TRUE(l[i] == NULL);
}

TEST(verb_suggestions) {
        static const char *const verbs[] = { "run", "list", "status", "start", "stop", "rm", "logs", "pod",
                                             "app", "gc", "enter", "image", "trust" };
        bool alias;

        ASSERT_STREQ(verb_suggestion("ps", verbs, ELEMENTSOF(verbs), &alias), "list");
        ASSERT_TRUE(alias);
        ASSERT_STREQ(verb_suggestion("exec", verbs, ELEMENTSOF(verbs), &alias), "enter");
        ASSERT_STREQ(verb_suggestion("inspect", verbs, ELEMENTSOF(verbs), &alias), "status");
        ASSERT_STREQ(verb_suggestion("stp", verbs, ELEMENTSOF(verbs), &alias), "stop");
        ASSERT_FALSE(alias);
        ASSERT_STREQ(verb_suggestion("statsu", verbs, ELEMENTSOF(verbs), &alias), "status");
        ASSERT_STREQ(verb_suggestion("imgae", verbs, ELEMENTSOF(verbs), &alias), "image");
        ASSERT_STREQ(verb_suggestion("lsit", verbs, ELEMENTSOF(verbs), &alias), "list");
        /* Nothing near, or two equally near: no guess. */
        ASSERT_TRUE(verb_suggestion("frobnicate", verbs, ELEMENTSOF(verbs), &alias) == NULL);
        ASSERT_TRUE(verb_suggestion("x", verbs, ELEMENTSOF(verbs), &alias) == NULL);
        ASSERT_TRUE(verb_suggestion("sta", verbs, ELEMENTSOF(verbs), &alias) == NULL);
        ASSERT_TRUE(verb_suggestion("", verbs, ELEMENTSOF(verbs), &alias) == NULL);
}

TEST(signals) {
        ASSERT_TRUE(signal_from_string("KILL") == SIGKILL);
        ASSERT_TRUE(signal_from_string("sigterm") == SIGTERM);
        ASSERT_TRUE(signal_from_string("SIGHUP") == SIGHUP);
        ASSERT_TRUE(signal_from_string("9") == 9);
        ASSERT_TRUE(signal_from_string("64") == 64);
        FOREACH_STRV(bad, STRV_MAKE("", "0", "65", "-9", "+9", "9x", "NOPE", "SIG", "KILLER"))
                ASSERT_ERR(signal_from_string(bad), EINVAL);
}

TEST(run_one_app) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "busybox", NULL));
        ASSERT_TRUE(a.n_apps == 1);
        ASSERT_STREQ(a.apps[0].image, "busybox");
        ASSERT_TRUE(!a.name && !a.quiet && !a.help);
        ASSERT_TRUE(a.pull == PULL_MISSING);
        ASSERT_TRUE(!a.apps[0].exec && !a.apps[0].args && !a.apps[0].env && !a.apps[0].name && !a.apps[0].workdir);
        run_args_done(&a);

        ASSERT_OK(parse(&a, "--name", "web", "-q", "busybox", "--app-name=sh", "--", "sleep", "300", NULL));
        ASSERT_STREQ(a.name, "web");
        ASSERT_TRUE(a.quiet);
        ASSERT_STREQ(a.apps[0].name, "sh");
        ASSERT_TRUE(!a.apps[0].exec);
        assert_strv(a.apps[0].args, "sleep", "300", NULL);
        run_args_done(&a);
}

TEST(run_pull_policy) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "--pull=never", "busybox", NULL));
        ASSERT_TRUE(a.pull == PULL_NEVER);
        run_args_done(&a);
        ASSERT_OK(parse(&a, "--pull", "always", "-q", "busybox", NULL));
        ASSERT_TRUE(a.pull == PULL_ALWAYS && a.quiet);
        run_args_done(&a);
        ASSERT_OK(parse(&a, "--pull=missing", "busybox", NULL));
        ASSERT_TRUE(a.pull == PULL_MISSING);
        run_args_done(&a);
        ASSERT_ERR(parse(&a, "--pull=sometimes", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--pull", NULL), EINVAL);
        /* A pod option, not an app's. */
        ASSERT_ERR(parse(&a, "busybox", "--pull=never", NULL), EINVAL);
        ASSERT_STREQ(pull_policy_to_string(PULL_ALWAYS), "always");
        ASSERT_TRUE(pull_policy_from_string(NULL) == _PULL_POLICY_INVALID);
}

TEST(run_network_options) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "--net=default,other", "--port=8080:80", "--port", "127.0.0.1:53:53/udp", "--dns=192.0.2.1",
                        "--dns", "2001:db8::1", "--dns-search=a.test", "--hostname=h1", "busybox", NULL));
        assert_strv(a.networks, "default", "other", NULL);
        assert_strv(a.ports, "8080:80", "127.0.0.1:53:53/udp", NULL);
        assert_strv(a.dns, "192.0.2.1", "2001:db8::1", NULL);
        assert_strv(a.dns_search, "a.test", NULL);
        ASSERT_STREQ(a.hostname, "h1");
        run_args_done(&a);
        ASSERT_OK(parse(&a, "--net=host", "busybox", NULL));
        assert_strv(a.networks, "host", NULL);
        run_args_done(&a);
        ASSERT_ERR(parse(&a, "--net=", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--net=a,,b", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--net=a/b", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--net=a,a", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--net=none,a", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--port=80", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--port=70000:80", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--dns=example.com", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--hostname=a_b", "busybox", NULL), EINVAL);
        /* Pod options, not an app's. */
        ASSERT_ERR(parse(&a, "busybox", "--net=host", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--port", "80:80", NULL), EINVAL);
}

TEST(run_exec_and_options) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "--name=x", "busybox", "--exec=/bin/sh", "--set-env=A=1", "--set-env", "B==2",
                        "--working-dir=/tmp", "--", "-c", "echo --- not a separator? yes it is", NULL));
        assert_strv(a.apps[0].exec, "/bin/sh", "-c", "echo --- not a separator? yes it is", NULL);
        ASSERT_TRUE(!a.apps[0].args);
        assert_strv(a.apps[0].env, "A=1", "B==2", NULL);
        ASSERT_STREQ(a.apps[0].workdir, "/tmp");
        run_args_done(&a);

        /* --exec alone: the command is just that. */
        ASSERT_OK(parse(&a, "busybox", "--exec", "/bin/true", NULL));
        assert_strv(a.apps[0].exec, "/bin/true", NULL);
        run_args_done(&a);

        /* Arguments that look like options belong to the app after "--". */
        ASSERT_OK(parse(&a, "busybox", "--", "--help", "--name=x", "--", NULL));
        assert_strv(a.apps[0].args, "--help", "--name=x", "--", NULL);
        ASSERT_TRUE(!a.help);
        run_args_done(&a);
}

TEST(run_several_apps) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "busybox", "--", "sleep", "1", "---", "busybox", "--app-name=b", "---", "alpine",
                        "--exec=/x", NULL));
        ASSERT_TRUE(a.n_apps == 3);
        assert_strv(a.apps[0].args, "sleep", "1", NULL);
        ASSERT_STREQ(a.apps[1].image, "busybox");
        ASSERT_STREQ(a.apps[1].name, "b");
        ASSERT_TRUE(!a.apps[1].args && !a.apps[1].exec);
        ASSERT_STREQ(a.apps[2].image, "alpine");
        assert_strv(a.apps[2].exec, "/x", NULL);
        run_args_done(&a);

        /* "--" with nothing after it keeps the image's cmd. */
        ASSERT_OK(parse(&a, "busybox", "--", "---", "busybox", "--", NULL));
        ASSERT_TRUE(a.n_apps == 2);
        ASSERT_TRUE(!a.apps[0].args && !a.apps[1].args);
        run_args_done(&a);
}

TEST(run_errors) {
        RunArgs a = {};

        ASSERT_ERR(parse(&a, NULL), EINVAL);
        ASSERT_TRUE(cli_usage_failed);
        ASSERT_ERR(parse(&a, "--name=x", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--name", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "---", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--", "x", "---", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "---", "---", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "---", "--exec=/x", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "---", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--bogus", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--bogus", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--name=x", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "sleep", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--exec=", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--exec=", "--", "x", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--exec", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--set-env=novalue", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--set-env==x", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--working-dir=relative", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--app-name", NULL), EINVAL);
        /* The second app's empty command is caught too. */
        ASSERT_ERR(parse(&a, "busybox", "---", "busybox", "--exec=", NULL), EINVAL);
        ASSERT_TRUE(a.n_apps == 0 && !a.apps);
}

TEST(run_isolation_options) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "--volume=data,kind=empty", "--volume", "t,kind=tmpfs,size=1M", "busybox",
                        "--user=app", "--group", "staff", "--supplementary-groups=7,wheel", "--caps-retain=chown,CAP_KILL",
                        "--no-new-privileges=false", "--seccomp=mode=remove,ptrace", "--readonly-rootfs",
                        "--pid-namespace=app", "--cpu=250m", "--cpu-shares", "512", "--memory=64M", "--tasks-max=10",
                        "--mount=volume=data,target=/d", "--mount", "volume=t,target=/t", "--ipc-namespace=app",
                        "--device=/dev/fuse", "--device", "/dev/zero:/dev/x/zero:r", "--masked-path=/proc/asound",
                        "--masked-path", "/x", "--readonly-path=/etc", "--", "sh", "---",
                        "busybox", "--caps-remove", "net_raw", "--readonly-rootfs=false", NULL));
        ASSERT_TRUE(a.n_volumes == 2 && a.volumes[1].kind == VOLUME_TMPFS && a.volumes[1].size == 1 << 20);
        ASSERT_STREQ(a.apps[0].user, "app");
        ASSERT_STREQ(a.apps[0].group, "staff");
        ASSERT_TRUE(strv_length(a.apps[0].supplementary_groups) == 2);
        ASSERT_TRUE(strv_length(a.apps[0].caps_retain) == 2 && !a.apps[0].caps_remove);
        ASSERT_TRUE(a.apps[0].allow_new_privs && a.apps[0].readonly_rootfs);
        ASSERT_STREQ(a.apps[0].seccomp, "mode=remove,ptrace");
        ASSERT_STREQ(a.apps[0].pid_namespace, "app");
        ASSERT_TRUE(a.apps[0].cpu_quota_usec == 250000 && a.apps[0].cpu_shares == 512);
        ASSERT_TRUE(a.apps[0].memory_max == 64 << 20 && a.apps[0].tasks_max == 10);
        ASSERT_TRUE(a.apps[0].n_mounts == 2);
        ASSERT_STREQ(a.apps[0].mounts[1].target, "/t");
        ASSERT_STREQ(a.apps[0].ipc_namespace, "app");
        ASSERT_TRUE(a.apps[0].n_devices == 2);
        ASSERT_STREQ(a.apps[0].devices[0].container, "/dev/fuse");
        ASSERT_STREQ(a.apps[0].devices[0].permissions, "rwm");
        ASSERT_STREQ(a.apps[0].devices[1].container, "/dev/x/zero");
        ASSERT_STREQ(a.apps[0].devices[1].permissions, "r");
        ASSERT_TRUE(strv_length(a.apps[0].masked_paths) == 2 && strv_length(a.apps[0].readonly_paths) == 1);
        ASSERT_STREQ(a.apps[0].readonly_paths[0], "/etc");
        ASSERT_TRUE(!a.apps[1].allow_new_privs && !a.apps[1].readonly_rootfs);
        ASSERT_TRUE(strv_length(a.apps[1].caps_remove) == 1 && !a.apps[1].caps_retain);
        run_args_done(&a);

        ASSERT_OK(parse(&a, "busybox", "--privileged", "--", "sh", "---", "busybox", "--privileged=false", "---", "busybox",
                        NULL));
        ASSERT_TRUE(a.apps[0].privileged && !a.apps[1].privileged && !a.apps[2].privileged);
        run_args_done(&a);
        ASSERT_ERR(parse(&a, "busybox", "--privileged=maybe", NULL), EINVAL);

        ASSERT_ERR(parse(&a, "busybox", "--caps-retain=CAP_NOPE", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--caps-retain=chown", "--caps-remove=kill", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--caps-retain=chown,", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--memory=lots", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--memory=1K", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--cpu=0", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--cpu-shares=1", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--tasks-max=0", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--seccomp=strict", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--seccomp=mode=remove,nope_call", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--pid-namespace=host", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--ipc-namespace=host", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--device=/dev/fuse:/etc/fuse", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--device=/dev/fuse:/dev/fuse:rwx", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--masked-path=/", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--readonly-path=etc", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--no-new-privileges=maybe", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--user=", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--mount=volume=v,target=/a/../b", NULL), EINVAL);
        ASSERT_OK(parse(&a, "--volume=v,kind=empty", "busybox", "--mount=volume=w,target=/w", NULL));
        ASSERT_ERR(run_args_check_mounts(&a), EINVAL);
        run_args_done(&a);
        ASSERT_OK(parse(&a, "--volume=v,kind=empty", "busybox", "--mount=volume=v,target=/w", NULL));
        ASSERT_OK(run_args_check_mounts(&a));
        run_args_done(&a);
        ASSERT_ERR(parse(&a, "--volume=v,kind=empty", "--volume=v,kind=tmpfs", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "--volume=v,kind=host,source=/no/such/dir", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "--volume=v,kind=empty", NULL), EINVAL);  /* a pod option after an image */
        ASSERT_TRUE(a.n_apps == 0 && !a.apps && a.n_volumes == 0);
}

/* podman's spellings: -e and -v before the image are for every app, -v
 * after an image for that app; -v makes a host volume bind-N. */
TEST(run_podman_env_and_binds) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "-e", "A=1", "-v", "/tmp:/data:ro", "--volume=/:/host", "busybox", "-e", "A=2", "-v",
                        "/tmp:/t", "---", "busybox", "--volume", "/tmp:/u:rw", NULL));
        ASSERT_OK(run_args_check_mounts(&a));
        ASSERT_TRUE(a.n_volumes == 4);
        ASSERT_STREQ(a.volumes[0].name, "bind-0");
        ASSERT_TRUE(a.volumes[0].kind == VOLUME_HOST && a.volumes[0].read_only);
        ASSERT_STREQ(a.volumes[0].source, "/tmp");
        ASSERT_TRUE(!a.volumes[1].read_only && !a.volumes[3].read_only);
        /* the common environment first: the app's own -e wins */
        assert_strv(a.apps[0].env, "A=1", "A=2", NULL);
        assert_strv(a.apps[1].env, "A=1", NULL);
        /* the app's own mounts, then those for every app */
        ASSERT_TRUE(a.apps[0].n_mounts == 3 && a.apps[1].n_mounts == 3);
        ASSERT_STREQ(a.apps[0].mounts[0].target, "/t");
        ASSERT_STREQ(a.apps[0].mounts[0].volume, "bind-2");
        ASSERT_STREQ(a.apps[0].mounts[1].target, "/data");
        ASSERT_STREQ(a.apps[0].mounts[2].volume, "bind-1");
        ASSERT_STREQ(a.apps[1].mounts[0].volume, "bind-3");
        ASSERT_STREQ(a.apps[1].mounts[1].volume, "bind-0");
        run_args_done(&a);

        ASSERT_ERR(parse(&a, "-v", "data:/d", "busybox", NULL), EINVAL);        /* a name: rkt's --volume */
        ASSERT_ERR(parse(&a, "-v", "/tmp", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "-v", "/tmp:/d:z", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "-v", "/tmp:rel", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "-v", "/no/such/dir:/d", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "-v", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "-e", "novalue", "busybox", NULL), EINVAL);
        ASSERT_TRUE(a.n_apps == 0 && !a.apps && a.n_volumes == 0);
}

TEST(run_help) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "--help", NULL));
        ASSERT_TRUE(a.help);
        run_args_done(&a);
        ASSERT_OK(parse(&a, "busybox", "-h", NULL));
        ASSERT_TRUE(a.help && a.n_apps == 0);
        run_args_done(&a);
}

TEST(app_results) {
        char *s;

        ASSERT_OK(format_app_result("", 0, &s));
        ASSERT_STREQ(s, "-");
        free(s);
        ASSERT_OK(format_app_result("exited", 7, &s));
        ASSERT_STREQ(s, "exited, status=7");
        free(s);
        ASSERT_OK(format_app_result("exited", 0, &s));
        ASSERT_STREQ(s, "exited, status=0");
        free(s);
        ASSERT_OK(format_app_result("killed", SIGKILL, &s));
        ASSERT_STREQ(s, "killed, signal=KILL");
        free(s);
        ASSERT_OK(format_app_result("dumped", SIGSEGV, &s));
        ASSERT_STREQ(s, "dumped, signal=SEGV");
        free(s);
        ASSERT_OK(format_app_result("killed", 1000, &s));
        ASSERT_STREQ(s, "killed, signal=1000");
        free(s);
        ASSERT_OK(format_app_result("frozen", 3, &s));
        ASSERT_STREQ(s, "frozen, status=3");
        free(s);
}

TEST(timestamps) {
        const uint64_t S = 1000000, now = 1700000000 * S;
        char buf[64];

        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), 0, now), "n/a");
        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), now, now), "just now");
        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), now + S, now), "in the future");
        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), now - 45 * S, now), "45s ago");
        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), now - 125 * S, now), "2min 5s ago");
        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), now - 3600 * S, now), "1h ago");
        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), now - (86400 + 7200 + 5) * S, now), "1 day 2h ago");
        ASSERT_STREQ(format_timestamp_relative(buf, sizeof(buf), now - 3 * 86400 * S, now), "3 days ago");
        ASSERT_STREQ(format_timestamp_relative(buf, 8, now - 3 * 86400 * S, now), "3 days ");
        ASSERT_STREQ(format_timestamp(buf, sizeof(buf), 0), "n/a");
        ASSERT_TRUE(strlen(format_timestamp(buf, sizeof(buf), now)) > 10);
}

TEST(command_strings) {
        char *s;

        s = command_to_string(STRV_MAKE("sh", "-c", "echo hi; exit 7"));
        ASSERT_STREQ(s, "sh -c 'echo hi; exit 7'");
        free(s);
        s = command_to_string(STRV_MAKE("printf", "it's", ""));
        ASSERT_STREQ(s, "printf 'it'\\''s' ''");
        free(s);
        s = command_to_string(NULL);
        ASSERT_STREQ(s, "");
        free(s);
}

TEST(json) {
        AppInfo apps[] = { {
                .name = (char *) "web", .id = (char *) "0123456789abcdef0123456789abcdef", .image = (char *) "busybox",
                .unit = (char *) "peapod-p-web.service", .state = (char *) "exited", .result = (char *) "killed",
                .exec = STRV_MAKE("sleep", "1"), .status = 9,
        } };
        PodInfo p = {
                .id = (char *) "fedcba9876543210fedcba9876543210", .name = (char *) "p", .state = (char *) "exited",
                .machine = (char *) "p", .path = (char *) "/org/peapod1/pod/fedcba9876543210fedcba9876543210",
                .created_usec = UINT64_C(1700000000000000), .apps = apps, .n_apps = 1,
        };
        _cleanup_json_ json_object *o = pod_info_to_json(&p), *l = pod_list_to_json(&p, 1), *e = pod_list_to_json(NULL, 0);
        json_object *v, *a;

        ASSERT_TRUE(o && l && e);
        ASSERT_TRUE(json_object_object_get_ex(o, "state", &v));
        ASSERT_STREQ(json_object_get_string(v), "exited");
        ASSERT_TRUE(json_object_object_get_ex(o, "created", &v));
        ASSERT_TRUE(json_object_get_uint64(v) == UINT64_C(1700000000000000));
        ASSERT_TRUE(json_object_object_get_ex(o, "slice", &v));
        ASSERT_STREQ(json_object_get_string(v), "");
        ASSERT_TRUE(json_object_object_get_ex(o, "apps", &a));
        ASSERT_TRUE(json_object_array_length(a) == 1);
        a = json_object_array_get_idx(a, 0);
        ASSERT_TRUE(json_object_object_get_ex(a, "status", &v));
        ASSERT_TRUE(json_object_get_int(v) == 9);
        ASSERT_TRUE(json_object_object_get_ex(a, "exec", &v));
        ASSERT_STREQ(json_object_get_string(json_object_array_get_idx(v, 1)), "1");

        ASSERT_TRUE(json_object_array_length(l) == 1);
        ASSERT_TRUE(json_object_object_get_ex(json_object_array_get_idx(l, 0), "path", &v));
        ASSERT_STREQ(json_object_get_string(v), p.path);
        ASSERT_STREQ(json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN), "[]");
}

TEST(bus_errors) {
        sd_bus_error e;
        char *s;

        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST("org.peapod1.Error.NoSuchPod", "No such pod: foo");
        ASSERT_OK(bus_error_to_string(&e, -ENOENT, &s));
        ASSERT_STREQ(s, "No such pod: foo");
        free(s);
        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST("org.peapod1.Error.NoSuchImage", NULL);
        ASSERT_OK(bus_error_to_string(&e, -ENOENT, &s));
        ASSERT_STREQ(s, "Image not found");
        free(s);
        /* Every name of the wire contract has words of its own. */
        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST("org.peapod1.Error.NoSuchApp", NULL);
        ASSERT_OK(bus_error_to_string(&e, -ENXIO, &s));
        ASSERT_STREQ(s, "No such app");
        free(s);
        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_INVALID_ARGS, NULL);
        ASSERT_OK(bus_error_to_string(&e, -EINVAL, &s));
        ASSERT_STREQ(s, "Invalid argument");
        free(s);
        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_ACCESS_DENIED, "Only root may change pods.");
        ASSERT_OK(bus_error_to_string(&e, -EACCES, &s));
        ASSERT_STREQ(s, "Permission denied: Only root may change pods.");
        free(s);
        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_ACCESS_DENIED,
                                                   "Rejected send message, 2 matched rules; type=\"method_call\"");
        ASSERT_OK(bus_error_to_string(&e, -EACCES, &s));
        ASSERT_STREQ(s, "Permission denied: the bus policy does not allow this call for this user");
        free(s);
        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST(SD_BUS_ERROR_SERVICE_UNKNOWN, "The name is not activatable");
        ASSERT_OK(bus_error_to_string(&e, -EHOSTDOWN, &s));
        ASSERT_STREQ(s, "Cannot reach peapodd (org.peapod1): The name is not activatable");
        free(s);
        e = (sd_bus_error) SD_BUS_ERROR_MAKE_CONST("org.freedesktop.DBus.Error.Spawn.ChildExited", NULL);
        ASSERT_OK(bus_error_to_string(&e, -EIO, &s));
        ASSERT_STREQ(s, "Cannot reach peapodd (org.peapod1): Input/output error");
        free(s);
        ASSERT_OK(bus_error_to_string(NULL, -ETIMEDOUT, &s));
        ASSERT_STREQ(s, "Connection timed out");
        free(s);
}

TEST(tables) {
        _cleanup_(table_freep) Table *t = table_new(3, "A", "LONGER", "C");
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f;

        ASSERT_TRUE(t);
        ASSERT_OK(table_add_row(t, "xyz", NULL, "last column is not padded"));
        ASSERT_TRUE(table_rows(t) == 1);
        f = open_memstream(&buf, &size);
        ASSERT_TRUE(f);
        ASSERT_OK(table_print(t, f, true));
        ASSERT_OK(table_print(t, f, false));
        fclose(f);
        ASSERT_STREQ(buf, "A   LONGER C\n"
                          "xyz -      last column is not padded\n"
                          "xyz - last column is not padded\n");
}

TEST(journal) {
        _cleanup_(pod_journal_freep) PodJournal *j = NULL;
        PodJournalEntry e;

        /* Works without journald: there are just no files to read. */
        ASSERT_OK(pod_journal_open(NULL, &j));
        /* No app selected must not mean every entry of the journal. */
        ASSERT_TRUE(pod_journal_next(j, &e) == 0);
        ASSERT_ERR(pod_journal_add_app(j, "0123"), EINVAL);
        ASSERT_ERR(pod_journal_add_app(j, "0123456789ABCDEF0123456789ABCDEF"), EINVAL);
        ASSERT_ERR(pod_journal_add_app(j, "0123456789abcdef0123456789abcdef*"), EINVAL);
        ASSERT_OK(pod_journal_add_app(j, "0123456789abcdef0123456789abcdef"));
        ASSERT_OK(pod_journal_seek_tail_lines(j, 10));
        /* A random id nobody logs under. */
        ASSERT_TRUE(pod_journal_next(j, &e) == 0);
        j = pod_journal_free(j);

        ASSERT_OK(pod_journal_open(NULL, &j));
        ASSERT_ERR(pod_journal_add_pod(j, "0123", NULL), EINVAL);
        ASSERT_ERR(pod_journal_add_pod(j, "0123456789abcdef0123456789abcdef", "Web"), EINVAL);
        ASSERT_ERR(pod_journal_add_pod(j, "0123456789abcdef0123456789abcdef", "a=b"), EINVAL);
        ASSERT_OK(pod_journal_add_pod(j, "0123456789abcdef0123456789abcdef", "web"));
        ASSERT_OK(pod_journal_seek_head(j));
        /* A random id nobody logs under. */
        ASSERT_TRUE(pod_journal_next(j, &e) == 0);
}

TEST(run_stdin_and_tty) {
        RunArgs a = {};

        ASSERT_OK(parse(&a, "-i", "busybox", NULL));
        ASSERT_TRUE(a.interactive && !a.tty);
        run_args_done(&a);
        ASSERT_OK(parse(&a, "--tty", "--rm", "busybox", NULL));
        ASSERT_TRUE(!a.interactive && a.tty && a.remove);
        run_args_done(&a);
        ASSERT_OK(parse(&a, "-it", "busybox", NULL));
        ASSERT_TRUE(a.interactive && a.tty);
        run_args_done(&a);
        ASSERT_OK(parse(&a, "-ti", "--interactive", "busybox", NULL));
        ASSERT_TRUE(a.interactive && a.tty);
        run_args_done(&a);
        /* Foreground only; and pod options, not an app's. */
        ASSERT_ERR(parse(&a, "-d", "-i", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "-t", "--detach", "busybox", NULL), EINVAL);
        ASSERT_ERR(parse(&a, "busybox", "-it", NULL), EINVAL);
        ASSERT_TRUE(cli_usage_failed);
        ASSERT_TRUE(a.n_apps == 0 && !a.apps);
}

int main(void) {
        test_verb_suggestions();
        test_signals();
        test_run_one_app();
        test_run_pull_policy();
        test_run_network_options();
        test_run_exec_and_options();
        test_run_several_apps();
        test_run_errors();
        test_run_stdin_and_tty();
        test_run_help();
        test_run_isolation_options();
        test_run_podman_env_and_binds();
        test_app_results();
        test_timestamps();
        test_command_strings();
        test_json();
        test_bus_errors();
        test_tables();
        test_journal();
        return 0;
}
