/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The checks of what clients ask about an app's privileges, limits and
 * volumes: capabilities, seccomp settings, sizes, CPU, volume and mount
 * specs. */
#include <stdio.h>

#include "app-device.h"
#include "app-security.h"
#include "capability-util.h"
#include "fs-util.h"
#include "parse-util.h"
#include "seccomp-spec.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"
#include "volume.h"

#define CAP(n) (UINT64_C(1) << (n))

static void test_capabilities(void) {
        _cleanup_free_ char *s = NULL;
        uint64_t set;
        bool ambient;
        PeapodError err = {};

        ASSERT_TRUE(capability_from_name("CAP_CHOWN") == 0);
        ASSERT_TRUE(capability_from_name("chown") == 0);
        ASSERT_TRUE(capability_from_name("CAP_CHECKPOINT_RESTORE") == 40);
        ASSERT_TRUE(capability_from_name("net_bind_service") == 10);
        ASSERT_ERR(capability_from_name("Chown"), EINVAL);
        ASSERT_ERR(capability_from_name("cap_chown"), EINVAL);
        ASSERT_ERR(capability_from_name("CHOWN"), EINVAL);
        ASSERT_ERR(capability_from_name(""), EINVAL);
        ASSERT_ERR(capability_from_name("CAP_NOPE"), EINVAL);
        ASSERT_STREQ(capability_to_name(21), "CAP_SYS_ADMIN");
        ASSERT_TRUE(capability_to_name(41) == NULL);
        ASSERT_TRUE(capability_to_name(-1) == NULL);

        ASSERT_OK(capability_set_from_string("CAP_KILL,chown", &set));
        ASSERT_TRUE(set == (CAP(5) | CAP(0)));
        ASSERT_OK(capability_set_from_string("", &set));
        ASSERT_TRUE(set == 0);
        ASSERT_ERR(capability_set_from_string("kill,", &set), EINVAL);
        ASSERT_ERR(capability_set_from_string(",kill", &set), EINVAL);
        ASSERT_ERR(capability_set_from_string("kill,,chown", &set), EINVAL);
        ASSERT_ERR(capability_set_from_string("kill,CAP_KILL", &set), EINVAL);
        ASSERT_OK(capability_set_to_string(capability_default_set, &s));
        ASSERT_STREQ(s, "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_SETGID,CAP_SETUID,CAP_SETPCAP,"
                        "CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_MKNOD,CAP_AUDIT_WRITE,CAP_SETFCAP");
        /* docker's CapEff for its default set (0xa80425fb) without NET_RAW,
         * as podman's */
        ASSERT_TRUE(capability_default_set == UINT64_C(0xa80405fb));
        s = mfree(s);
        ASSERT_OK(capability_set_to_string(0, &s));
        ASSERT_STREQ(s, "");

        ASSERT_OK(app_caps_resolve(NULL, NULL, &set, &ambient, &err));
        ASSERT_TRUE(set == capability_default_set && !ambient);
        ASSERT_OK(app_caps_resolve(STRV_MAKE("CAP_SYS_ADMIN"), NULL, &set, &ambient, &err));
        ASSERT_TRUE(set == CAP(21) && ambient);
        ASSERT_OK(app_caps_resolve(NULL, STRV_MAKE("chown", "CAP_KILL"), &set, &ambient, &err));
        ASSERT_TRUE(set == (capability_default_set & ~(CAP(0) | CAP(5))) && !ambient);
        /* Removing one that is not in the default set is fine (a no-op). */
        ASSERT_OK(app_caps_resolve(NULL, STRV_MAKE("sys_admin"), &set, &ambient, &err));
        ASSERT_TRUE(set == capability_default_set);
        ASSERT_OK(app_caps_resolve((char *[]) { NULL }, NULL, &set, &ambient, &err));
        ASSERT_TRUE(set == 0 && ambient);
        ASSERT_ERR(app_caps_resolve(STRV_MAKE("chown"), STRV_MAKE("kill"), &set, &ambient, &err), EINVAL);
        err = (PeapodError) {};
        ASSERT_ERR(app_caps_resolve(STRV_MAKE("CAP_NOPE"), NULL, &set, &ambient, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "CAP_NOPE") != NULL);
        err = (PeapodError) {};
        ASSERT_ERR(app_caps_resolve(STRV_MAKE("chown", "CAP_CHOWN"), NULL, &set, &ambient, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "twice") != NULL);

        /* fly: a default or removed-from set loses KILL, SETUID and
         * SYS_CHROOT, a retained one is kept as asked. */
        ASSERT_TRUE(app_caps_for_flavour(capability_default_set, false, false) == capability_default_set);
        ASSERT_TRUE(app_caps_for_flavour(capability_default_set, false, true) ==
                    (capability_default_set & ~(CAP(5) | CAP(7) | CAP(18))));
        ASSERT_TRUE(app_caps_for_flavour(CAP(5) | CAP(13), true, true) == (CAP(5) | CAP(13)));
}

static void test_seccomp(void) {
        SeccompSpec s = {};
        PeapodError err = {};

        ASSERT_OK(seccomp_spec_parse("default", &s));
        ASSERT_TRUE(s.mode == SECCOMP_MODE_DEFAULT && !s.names);
        ASSERT_OK(seccomp_spec_parse("unconfined", &s));
        ASSERT_TRUE(s.mode == SECCOMP_MODE_UNCONFINED);
        ASSERT_OK(seccomp_spec_parse("mode=remove,@default,ptrace,mkdir", &s));
        ASSERT_TRUE(s.mode == SECCOMP_MODE_REMOVE && strv_length(s.names) == 3);
        ASSERT_STREQ(s.names[0], "@default");
        seccomp_spec_done(&s);
        ASSERT_OK(seccomp_spec_parse("mode=retain,read,write", &s));
        ASSERT_TRUE(s.mode == SECCOMP_MODE_RETAIN && strv_length(s.names) == 2);
        seccomp_spec_done(&s);
        ASSERT_ERR(seccomp_spec_parse("mode=retain,@default", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("mode=remove,", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("mode=remove", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("mode=remove,a,,b", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("mode=remove,mkdir,mkdir", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("mode=remove,MKDIR", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("mode=allow,mkdir", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("Default", &s), EINVAL);
        ASSERT_ERR(seccomp_spec_parse("", &s), EINVAL);

        ASSERT_OK(app_seccomp_validate("default", &err));
        ASSERT_OK(app_seccomp_validate("mode=remove,@default,unshare,mount", &err));
        ASSERT_ERR(app_seccomp_validate("mode=remove,no_such_syscall", &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "no_such_syscall") != NULL);
        /* Every name of the default list is a real syscall somewhere; most
         * must be known here, or the list is mistyped. */
        size_t known = 0, all = 0;
        for (const char *const *n = seccomp_default_denylist; *n; n++) {
                char spec[128];

                snprintf(spec, sizeof(spec), "mode=remove,%s", *n);
                known += app_seccomp_validate(spec, NULL) >= 0;
                all++;
        }
        ASSERT_TRUE(known + 8 >= all);
}

static void test_limits(void) {
        uint64_t v;
        PeapodError err = {};

        ASSERT_OK(parse_size("64M", &v));
        ASSERT_TRUE(v == 64ULL << 20);
        ASSERT_OK(parse_size("1Gi", &v));
        ASSERT_TRUE(v == 1ULL << 30);
        ASSERT_OK(parse_size("512", &v));
        ASSERT_TRUE(v == 512);
        ASSERT_OK(parse_size("2T", &v));
        ASSERT_TRUE(v == 2ULL << 40);
        ASSERT_ERR(parse_size("64MB", &v), EINVAL);
        ASSERT_ERR(parse_size("-1", &v), EINVAL);
        ASSERT_ERR(parse_size("1.5G", &v), EINVAL);
        ASSERT_ERR(parse_size("", &v), EINVAL);
        ASSERT_ERR(parse_size("k", &v), EINVAL);
        ASSERT_ERR(parse_size("99999999999999999999", &v), ERANGE);
        ASSERT_ERR(parse_size("17000000T", &v), ERANGE);

        ASSERT_OK(parse_cpu_quota("500m", &v));
        ASSERT_TRUE(v == 500000);
        ASSERT_OK(parse_cpu_quota("2", &v));
        ASSERT_TRUE(v == 2000000);
        ASSERT_OK(parse_cpu_quota("1m", &v));
        ASSERT_TRUE(v == 1000);
        ASSERT_ERR(parse_cpu_quota("0", &v), ERANGE);
        ASSERT_ERR(parse_cpu_quota("0m", &v), ERANGE);
        ASSERT_ERR(parse_cpu_quota("2000", &v), ERANGE);
        ASSERT_ERR(parse_cpu_quota("1.5", &v), EINVAL);
        ASSERT_ERR(parse_cpu_quota("500M", &v), EINVAL);
        ASSERT_ERR(parse_cpu_quota("99999999999999999999m", &v), ERANGE);

        ASSERT_TRUE(cpu_shares_to_weight(2) == 1);
        ASSERT_TRUE(cpu_shares_to_weight(262144) == 10000);
        ASSERT_TRUE(cpu_shares_to_weight(1024) == 39);
        ASSERT_TRUE(cpu_shares_to_weight(2048) == 79);

        ASSERT_OK(app_limits_validate(0, 0, 0, 0, &err));
        ASSERT_OK(app_limits_validate(500000, 1024, 64 << 20, 100, &err));
        ASSERT_ERR(app_limits_validate(999, 0, 0, 0, &err), EINVAL);
        ASSERT_ERR(app_limits_validate(0, 1, 0, 0, &err), EINVAL);
        ASSERT_ERR(app_limits_validate(0, 0, 4096, 0, &err), EINVAL);
        ASSERT_ERR(app_limits_validate(0, 0, 0, APP_TASKS_MAX + 1, &err), EINVAL);

        ASSERT_TRUE(pid_namespace_from_string("pod") == PID_NAMESPACE_POD);
        ASSERT_TRUE(pid_namespace_from_string("app") == PID_NAMESPACE_APP);
        ASSERT_TRUE(pid_namespace_from_string("host") < 0);
        ASSERT_TRUE(pid_namespace_from_string(NULL) < 0);
}

static void test_volumes(void) {
        Volume v = {};
        AppMount m = {};
        PeapodError err = {};

        ASSERT_OK(volume_from_string("data,kind=host,source=/tmp,readOnly=true", &v, &err));
        ASSERT_TRUE(v.kind == VOLUME_HOST && v.read_only && v.size == 0);
        ASSERT_STREQ(v.name, "data");
        ASSERT_STREQ(v.source, "/tmp");
        volume_done(&v);
        ASSERT_OK(volume_from_string("scratch,kind=tmpfs,size=64M", &v, &err));
        ASSERT_TRUE(v.kind == VOLUME_TMPFS && v.size == 64ULL << 20 && !v.source);
        volume_done(&v);
        ASSERT_OK(volume_from_string("e,kind=empty", &v, &err));
        ASSERT_TRUE(v.kind == VOLUME_EMPTY && !v.read_only);
        volume_done(&v);
        ASSERT_ERR(volume_from_string("data", &v, &err), EINVAL);                             /* no kind */
        ASSERT_ERR(volume_from_string("Data,kind=empty", &v, &err), EINVAL);                  /* bad name */
        ASSERT_ERR(volume_from_string("d,kind=nfs", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=host", &v, &err), EINVAL);                      /* no source */
        ASSERT_ERR(volume_from_string("d,kind=host,source=relative", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=host,source=/tmp/../etc", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=host,source=/tmp:x", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=host,source=/no/such/path/here", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=empty,source=/tmp", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=empty,size=1M", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=tmpfs,size=0", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=tmpfs,readOnly=maybe", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=tmpfs,color=red", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("", &v, &err), EINVAL);
        /* Propagation: rslave and rshared for a writable host volume only
         * (whether the app may have it is app_mount_propagation_check()). */
        ASSERT_OK(volume_from_string("d,kind=host,source=/tmp,propagation=rslave", &v, &err));
        ASSERT_TRUE(v.propagation == VOLUME_PROPAGATION_RSLAVE);
        volume_done(&v);
        ASSERT_OK(volume_from_string("d,kind=host,source=/tmp,propagation=private", &v, &err));
        ASSERT_TRUE(v.propagation == VOLUME_PROPAGATION_PRIVATE);
        volume_done(&v);
        ASSERT_ERR(volume_from_string("d,kind=host,source=/tmp,propagation=slave", &v, &err), EINVAL);
        ASSERT_ERR(volume_from_string("d,kind=tmpfs,propagation=rslave", &v, &err), EINVAL);
        memset(&err, 0, sizeof(err));
        ASSERT_ERR(volume_from_string("d,kind=host,source=/tmp,propagation=rslave,readOnly=true", &v, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "writable"));
        ASSERT_OK(volume_from_string("d,kind=host,source=/tmp,propagation=rshared", &v, &err));
        ASSERT_TRUE(v.propagation == VOLUME_PROPAGATION_RSHARED);
        volume_done(&v);
        memset(&err, 0, sizeof(err));
        ASSERT_ERR(volume_from_string("d,kind=host,source=/tmp,propagation=rshared,readOnly=true", &v, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "rshared cannot be read-only"));
        {
                AppMount bm = {};

                ASSERT_OK(volume_bind_from_string("/tmp:/t:rslave", "bind-1", &v, &bm, &err));
                ASSERT_TRUE(v.propagation == VOLUME_PROPAGATION_RSLAVE && !v.read_only);
                volume_done(&v);
                app_mount_done(&bm);
                ASSERT_ERR(volume_bind_from_string("/tmp:/t:ro,rslave", "bind-1", &v, &bm, &err), EINVAL);
                ASSERT_OK(volume_bind_from_string("/tmp:/t:rshared", "bind-1", &v, &bm, &err));
                ASSERT_TRUE(v.propagation == VOLUME_PROPAGATION_RSHARED && !v.read_only);
                volume_done(&v);
                app_mount_done(&bm);
                ASSERT_ERR(volume_bind_from_string("/tmp:/t:ro,rshared", "bind-1", &v, &bm, &err), EINVAL);
                ASSERT_ERR(volume_bind_from_string("/tmp:/t:shared", "bind-1", &v, &bm, &err), EINVAL);
        }
        {
                Volume l[] = { { .name = (char *) "a", .kind = VOLUME_HOST }, { .name = (char *) "b", .kind = VOLUME_HOST } };

                ASSERT_OK(volumes_set_propagation(l, 2, STRV_MAKE("b", "rslave"), &err));
                ASSERT_TRUE(l[0].propagation == VOLUME_PROPAGATION_PRIVATE && l[1].propagation == VOLUME_PROPAGATION_RSLAVE);
                ASSERT_ERR(volumes_set_propagation(l, 2, STRV_MAKE("c", "rslave"), &err), EINVAL);
                ASSERT_ERR(volumes_set_propagation(l, 2, STRV_MAKE("a", "both"), &err), EINVAL);
        }
        {
                const char *reason = NULL;

                /* (propagation, no_new_privs, privileged) */
                ASSERT_OK(app_mount_propagation_check(VOLUME_PROPAGATION_PRIVATE, false, false, NULL));
                ASSERT_ERR(app_mount_propagation_check(VOLUME_PROPAGATION_RSLAVE, false, false, &reason), EPERM);
                ASSERT_TRUE(strstr(reason, "no_new_privs"));
                ASSERT_OK(app_mount_propagation_check(VOLUME_PROPAGATION_RSLAVE, true, false, NULL));
                ASSERT_OK(app_mount_propagation_check(VOLUME_PROPAGATION_RSLAVE, false, true, NULL));
                ASSERT_ERR(app_mount_propagation_check(VOLUME_PROPAGATION_RSHARED, true, false, &reason), EPERM);
                ASSERT_TRUE(strstr(reason, "rshared") && strstr(reason, "privileged"));
                ASSERT_ERR(app_mount_propagation_check(VOLUME_PROPAGATION_RSHARED, false, false, NULL), EPERM);
                ASSERT_OK(app_mount_propagation_check(VOLUME_PROPAGATION_RSHARED, false, true, &reason));
                ASSERT_TRUE(reason == NULL);
                ASSERT_ERR(app_mount_propagation_check(_VOLUME_PROPAGATION_MAX, true, true, NULL), EINVAL);
                ASSERT_ERR(app_mount_propagation_check(_VOLUME_PROPAGATION_INVALID, true, true, NULL), EINVAL);
        }

        ASSERT_OK(app_mount_from_string("volume=data,target=/srv/data", &m, &err));
        ASSERT_STREQ(m.volume, "data");
        ASSERT_STREQ(m.target, "/srv/data");
        app_mount_done(&m);
        ASSERT_OK(app_mount_from_string("target=/x,volume=v", &m, &err));
        app_mount_done(&m);
        ASSERT_ERR(app_mount_from_string("volume=data", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=rel", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=/", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=/../../etc", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=/a/./b", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=/a:b", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=Bad,target=/a", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=/a,readOnly=true", &m, &err), EINVAL);
        /* The stage1 helper mounts these itself and refuses volumes there. */
        memset(&err, 0, sizeof(err));
        ASSERT_ERR(app_mount_from_string("volume=data,target=/proc", &m, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "/proc and /sys belong to the pod"));
        ASSERT_ERR(app_mount_from_string("volume=data,target=/proc/sys", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=/sys", &m, &err), EINVAL);
        ASSERT_ERR(app_mount_from_string("volume=data,target=/sys/", &m, &err), EINVAL);
        ASSERT_OK(app_mount_from_string("volume=data,target=/proc2", &m, &err));
        app_mount_done(&m);
        ASSERT_OK(app_mount_from_string("volume=data,target=/dev/shm/x", &m, &err));
        app_mount_done(&m);
        {
                /* A component of 256 bytes is one too many (NAME_MAX). */
                char spec[400] = "volume=data,target=/";
                size_t n = strlen(spec);

                memset(spec + n, 'a', 256);
                ASSERT_ERR(app_mount_from_string(spec, &m, &err), EINVAL);
                spec[n + 255] = 0;
                ASSERT_OK(app_mount_from_string(spec, &m, &err));
                app_mount_done(&m);
        }
        ASSERT_TRUE(app_workdir_is_valid("/"));
        ASSERT_FALSE(app_workdir_is_valid(""));
        ASSERT_FALSE(app_workdir_is_valid("srv"));

        ASSERT_TRUE(mount_target_is_valid("/"));
        ASSERT_TRUE(mount_target_is_valid("/a/b/"));
        ASSERT_TRUE(mount_target_is_valid("/a/...b"));
        ASSERT_FALSE(mount_target_is_valid("/a/.."));
        ASSERT_FALSE(mount_target_is_valid("/a//b"));
        ASSERT_FALSE(mount_target_is_valid("a"));
        ASSERT_FALSE(mount_target_is_valid("/a\tb"));
}

static void test_devices(void) {
        PeapodError err = {};
        AppDevice d = {}, *l = NULL;
        size_t n = 0;
        json_object *j, *o;

        printf("== devices\n");
        ASSERT_OK(app_device_from_string("/dev/fuse", &d, &err));
        ASSERT_STREQ(d.host, "/dev/fuse");
        ASSERT_STREQ(d.container, "/dev/fuse");
        ASSERT_STREQ(d.permissions, "rwm");
        app_device_done(&d);
        ASSERT_OK(app_device_from_string("/dev/zero:/dev/x/zero:r", &d, &err));
        ASSERT_STREQ(d.container, "/dev/x/zero");
        ASSERT_STREQ(d.permissions, "r");
        app_device_done(&d);
        /* The helper's own /dev/null cannot be replaced. */
        ASSERT_ERR(app_device_from_string("/dev/null", &d, &err), EINVAL);
        peapod_error_clear(&err);
        ASSERT_ERR(app_device_from_string("/dev/zero:/etc/zero", &d, &err), EINVAL);
        peapod_error_clear(&err);
        ASSERT_ERR(app_device_from_string("/dev/zero:/dev/x:rwx", &d, &err), EINVAL);
        peapod_error_clear(&err);
        ASSERT_ERR(app_device_from_string("/dev/zero:/dev/x:r:w", &d, &err), EINVAL);
        peapod_error_clear(&err);

        /* stat(): a device, not a directory or a file. */
        const AppDevice good[] = {
                { .host = (char *) "/dev/null", .container = (char *) "/dev/a", .permissions = (char *) "r" },
                { .host = (char *) "/dev/zero", .container = (char *) "/dev/b/c", .permissions = (char *) "rw" },
        };
        ASSERT_OK(app_devices_copy(good, 2, &l, &n, &err));
        ASSERT_TRUE(n == 2);
        ASSERT_STREQ(l[1].container, "/dev/b/c");
        /* pod.json round trip. */
        o = json_object_new_object();
        json_object_object_add(o, "devices", app_devices_to_json(l, n));
        app_devices_free(l, n);
        ASSERT_OK(app_devices_from_json(o, &l, &n));
        ASSERT_TRUE(n == 2);
        ASSERT_STREQ(l[0].host, "/dev/null");
        ASSERT_STREQ(l[1].permissions, "rw");
        app_devices_free(l, n);
        json_object_put(o);
        /* Missing: none; malformed: refused. */
        o = json_object_new_object();
        ASSERT_OK(app_devices_from_json(o, &l, &n));
        ASSERT_TRUE(n == 0 && !l);
        j = json_object_new_array();
        json_object_array_add(j, json_object_new_string("/dev/null"));
        json_object_object_add(o, "devices", j);
        ASSERT_ERR(app_devices_from_json(o, &l, &n), EBADMSG);
        json_object_put(o);

        const AppDevice dir[] = { { .host = (char *) "/tmp", .container = (char *) "/dev/t", .permissions = (char *) "r" } };
        ASSERT_ERR(app_devices_copy(dir, 1, &l, &n, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "not a character or block device"));
        peapod_error_clear(&err);
        const AppDevice missing[] = { { .host = (char *) "/dev/no-such", .container = (char *) "/dev/t", .permissions = (char *) "r" } };
        ASSERT_ERR(app_devices_copy(missing, 1, &l, &n, &err), EINVAL);
        peapod_error_clear(&err);
        const AppDevice twice[] = {
                { .host = (char *) "/dev/null", .container = (char *) "/dev/a", .permissions = (char *) "r" },
                { .host = (char *) "/dev/zero", .container = (char *) "/dev/a", .permissions = (char *) "r" },
        };
        ASSERT_ERR(app_devices_copy(twice, 2, &l, &n, &err), EINVAL);
        peapod_error_clear(&err);
        const AppDevice nested[] = {
                { .host = (char *) "/dev/null", .container = (char *) "/dev/a/b", .permissions = (char *) "r" },
                { .host = (char *) "/dev/zero", .container = (char *) "/dev/a", .permissions = (char *) "r" },
        };
        ASSERT_ERR(app_devices_copy(nested, 2, &l, &n, &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "one below the other"));
        peapod_error_clear(&err);
        const AppDevice siblings[] = {
                { .host = (char *) "/dev/null", .container = (char *) "/dev/ab", .permissions = (char *) "r" },
                { .host = (char *) "/dev/zero", .container = (char *) "/dev/a", .permissions = (char *) "r" },
        };
        ASSERT_OK(app_devices_copy(siblings, 2, &l, &n, &err));
        app_devices_free(l, n);
}

static void test_protected_paths(void) {
        PeapodError err = {};

        printf("== masked and read-only paths\n");
        ASSERT_OK(app_protected_paths_validate(NULL, "masked", &err));
        ASSERT_OK(app_protected_paths_validate(STRV_MAKE("/proc/asound", "/etc"), "masked", &err));
        ASSERT_ERR(app_protected_paths_validate(STRV_MAKE("/etc", "/"), "read-only", &err), EINVAL);
        ASSERT_TRUE(strstr(err.message, "read-only path '/'"));
        peapod_error_clear(&err);
}

int main(void) {
        test_protected_paths();
        test_devices();
        test_capabilities();
        test_seccomp();
        test_limits();
        test_volumes();
        return 0;
}
