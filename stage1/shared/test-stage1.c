/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unprivileged checks of the default stage1's pure logic. */

#include <dirent.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "capability-util.h"
#include "fs-util.h"
#include "log.h"
#include "stage1-seccomp-cache.h"
#include "stage1-util.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static void test_parse(void) {
        pid_t pid = 0;
        int fd = -1;

        printf("== parse_pid, parse_fd\n");
        ASSERT_TRUE(parse_pid("1234", &pid) == 0 && pid == 1234);
        ASSERT_TRUE(parse_pid("0", &pid) < 0);
        ASSERT_TRUE(parse_pid("-5", &pid) < 0);
        ASSERT_TRUE(parse_pid(" 5", &pid) < 0);
        ASSERT_TRUE(parse_pid("5x", &pid) < 0);
        ASSERT_TRUE(parse_pid("99999999999", &pid) < 0);
        ASSERT_TRUE(parse_pid("", &pid) < 0);
        ASSERT_TRUE(parse_fd("3", &fd) == 0 && fd == 3);
        ASSERT_TRUE(parse_fd("0", &fd) == 0 && fd == 0);
        ASSERT_TRUE(parse_fd("+3", &fd) < 0);
}

static void test_validators(void) {
        printf("== validators\n");
        ASSERT_TRUE(unit_name_is_valid("machine-web.scope"));
        ASSERT_TRUE(unit_name_is_valid("machine-my\\x2dpod.scope"));
        ASSERT_TRUE(!unit_name_is_valid("machine.slice/x.scope"));
        ASSERT_TRUE(!unit_name_is_valid("noscope"));
        ASSERT_TRUE(!unit_name_is_valid(".."));
        ASSERT_TRUE(!unit_name_is_valid(""));

        ASSERT_TRUE(app_id_is_valid("0123456789abcdef0123456789abcdef"));
        ASSERT_TRUE(!app_id_is_valid("a b"));
        ASSERT_TRUE(!app_id_is_valid("a/b"));
        ASSERT_TRUE(!app_id_is_valid(""));

        ASSERT_TRUE(env_has_path((char *[]) { (char *) "X=1", (char *) "PATH=/x", NULL }));
        ASSERT_TRUE(!env_has_path((char *[]) { (char *) "XPATH=/x", (char *) "PATHX=1", NULL }));
        ASSERT_TRUE(!env_has_path(NULL));
}

static void test_cgroup(void) {
        const char *unified = "0::/machine.slice/machine-web.slice/machine-web.scope\n";
        const char *hybrid =
                "12:pids:/machine.slice/machine-web.slice/machine-web.scope\n"
                "1:name=systemd:/machine.slice/machine-web.slice/machine-web.scope\n"
                "0::/machine.slice/machine-web.slice/machine-web.scope\n";
        const char *legacy_only =
                "4:memory:/machine.slice/machine-web.scope\n"
                "1:name=systemd:/machine.slice/machine-web.slice/machine-web.scope\n";
        const char *controller_only = "4:memory:/machine.slice/machine-web.scope\n0::/\n";
        const char *suffix = "0::/machine.slice/xmachine-web.scope\n";
        const char *deeper = "0::/machine.slice/machine-web.scope/payload\n";
        const char *no_newline = "0::/a/machine-web.scope";

        printf("== cgroup_contents_in_unit\n");
        ASSERT_TRUE(cgroup_contents_in_unit(unified, "machine-web.scope") == 1);
        ASSERT_TRUE(cgroup_contents_in_unit(hybrid, "machine-web.scope") == 1);
        ASSERT_TRUE(cgroup_contents_in_unit(legacy_only, "machine-web.scope") == 1);
        ASSERT_TRUE(cgroup_contents_in_unit(no_newline, "machine-web.scope") == 1);
        ASSERT_TRUE(cgroup_contents_in_unit(unified, "machine-db.scope") == 0);
        ASSERT_TRUE(cgroup_contents_in_unit(controller_only, "machine-web.scope") == 0);
        ASSERT_TRUE(cgroup_contents_in_unit(suffix, "machine-web.scope") == 0);
        ASSERT_TRUE(cgroup_contents_in_unit(deeper, "machine-web.scope") == 0);
        ASSERT_TRUE(cgroup_contents_in_unit("0::/machine-web.scope\n", "machine-web.scope") == 1);
        ASSERT_TRUE(cgroup_contents_in_unit("", "machine-web.scope") == 0);
        ASSERT_TRUE(cgroup_contents_in_unit("garbage\n", "machine-web.scope") < 0);
        ASSERT_TRUE(cgroup_contents_in_unit(unified, "a/machine-web.scope") < 0);

        printf("== cgroup_contents_unit\n");
        {
                const char *app = "1:name=systemd:/machine.slice/machine-w\\x2db.slice/peapod-w\\x2db-a.service\n"
                                  "0::/machine.slice/machine-w\\x2db.slice/peapod-w\\x2db-a.service\n";
                char *unit = NULL;

                ASSERT_TRUE(cgroup_contents_unit(app, &unit) == 0 && streq(unit, "peapod-w\\x2db-a.service"));
                free(unit);
                unit = NULL;
                ASSERT_TRUE(cgroup_contents_unit(legacy_only, &unit) == 0 && streq(unit, "machine-web.scope"));
                free(unit);
                unit = NULL;
                ASSERT_TRUE(cgroup_contents_unit(no_newline, &unit) == 0 && streq(unit, "machine-web.scope"));
                free(unit);
                unit = NULL;
                /* Only a controller's path, the root, no unit name: none. */
                ASSERT_TRUE(cgroup_contents_unit("4:memory:/machine.slice/machine-web.scope\n0::/\n", &unit) == -ENOENT);
                ASSERT_TRUE(cgroup_contents_unit("0::/machine.slice/payload\n", &unit) == -ENOENT);
                ASSERT_TRUE(cgroup_contents_unit("garbage\n", &unit) == -EINVAL && !unit);
        }
}

static void test_exec_status(void) {
        printf("== exec_errno_to_exit_status\n");
        ASSERT_TRUE(exec_errno_to_exit_status(ENOENT) == 127);
        ASSERT_TRUE(exec_errno_to_exit_status(-ENOENT) == 127);
        ASSERT_TRUE(exec_errno_to_exit_status(EACCES) == 126);
        ASSERT_TRUE(exec_errno_to_exit_status(ENOEXEC) == 126);
        ASSERT_TRUE(exec_errno_to_exit_status(EPERM) == 126);
}

static int parse_init(char **argv, InitArgs *a) {
        return init_args_parse((int) strv_length(argv), argv, a);
}

static int parse_app(char **argv, Stage1AppCommand *a) {
        return stage1_app_command_parse((int) strv_length(argv), argv, a);
}

#define ARGV(...) ((char *[]) { (char *) "prog", __VA_ARGS__, NULL })

/* --log-namespace=: a name for a path below /run/systemd, no dot, no
 * slash; none means the system journal. */
static void test_args_log_namespace(void) {
        Stage1AppCommand a = {};

        printf("== stage1_app_command_parse: --log-namespace\n");
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--", "x"), &a) == 0 &&
                    !a.log_namespace);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--log-namespace=peapod", "--", "x"), &a) == 0 &&
                    streq(a.log_namespace, "peapod"));
        stage1_app_command_done(&a);
        FOREACH_STRV(bad, STRV_MAKE("--log-namespace=", "--log-namespace=a.b", "--log-namespace=../x", "--log-namespace=a/b",
                                    "--log-namespace=" "0123456789012345678901234567890123456789012345678901234567890123456789"))
                ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", bad, "--", "x"), &a) < 0);
}

static void test_args(void) {
        InitArgs i = {};
        Stage1AppCommand a = {};

        printf("== init_args_parse\n");
        ASSERT_TRUE(parse_init(ARGV("--root=/r", "--hostname=h", "--ready-fd=3"), &i) == 0 &&
              streq(i.root, "/r") && streq(i.hostname, "h") && i.ready_fd == 3 && !i.host_network);
        ASSERT_TRUE(parse_init(ARGV("--root=/r", "--hostname=h", "--ready-fd=3", "--host-network"), &i) == 0 && i.host_network);
        ASSERT_TRUE(parse_init(ARGV("--root=/r", "--hostname=h", "--ready-fd=3", "--host-network=yes"), &i) < 0);
        ASSERT_TRUE(parse_init(ARGV("--root=r", "--hostname=h", "--ready-fd=3"), &i) < 0);
        ASSERT_TRUE(parse_init(ARGV("--root=/r", "--hostname=h", "--ready-fd=2"), &i) < 0);
        ASSERT_TRUE(parse_init(ARGV("--root=/r", "--hostname=h"), &i) < 0);
        ASSERT_TRUE(parse_init(ARGV("--root=/r", "--hostname=h_", "--ready-fd=3"), &i) < 0);
        ASSERT_TRUE(parse_init(ARGV("--root=/r", "--hostname=h", "--ready-fd=3", "extra"), &i) < 0);
        ASSERT_TRUE(parse_init(ARGV("--bogus"), &i) < 0);

        printf("== stage1_app_command_parse\n");
        ASSERT_TRUE(parse_app(ARGV("--leader=42", "--scope=x.scope", "--rootfs=/r", "--app-id=abc",
                             "--env=A=1", "--env=B=", "--workdir=/w", "--", "sh", "-c", "--env=X"), &a) == 0 &&
              a.leader == 42 && streq(a.scope, "x.scope") && streq(a.rootfs, "/r") && streq(a.app_id, "abc") &&
              streq(a.workdir, "/w") && strv_length(a.env) == 2 && streq(a.env[1], "B=") &&
              strv_length(a.cmd) == 3 && streq(a.cmd[0], "sh") && streq(a.cmd[2], "--env=X"));
        stage1_app_command_done(&a);
        /* '+' mode: options end at the first non-option even without "--". */
        ASSERT_TRUE(parse_app(ARGV("--leader=42", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "ls", "-l"), &a) == 0 &&
              a.workdir == NULL && a.env == NULL && strv_length(a.cmd) == 2 && streq(a.cmd[1], "-l"));
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=42", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=0", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=r", "--app-id=abc", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--env=NOEQ", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--workdir=rel", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=a b", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--user=app:staff", "--", "x"), &a) == 0 &&
              streq(a.sec.user, "app:staff"));
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--", "x"), &a) == 0 && !a.sec.user && !a.sec.caps_set && !a.sec.no_new_privs &&
              a.sec.seccomp.mode == SECCOMP_MODE_UNCONFINED && !a.readonly_rootfs && !a.private_pid_ns && a.n_binds == 0);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--user=", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--etc-dir=/p/etc", "--", "x"), &a) == 0 &&
              streq(a.etc_dir, "/p/etc"));
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--etc-dir=rel", "--", "x"), &a) < 0);
        /* Off unless asked for: only the pod's first app is copy's root. */
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--", "x"), &a) == 0 && !a.machine_root);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--machine-root", "--", "x"), &a) == 0 &&
                    a.machine_root);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--machine-root=yes", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--user=a:b:c", "--", "x"), &a) < 0);

        printf("== stage1_app_command_parse: the overlay (contract 3)\n");
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--lower=/l/2", "--lower=/l/1",
                                   "--upper=/u", "--work=/w", "--", "x"), &a) == 0 &&
                    strv_length(a.lowers) == 2 && streq(a.lowers[0], "/l/2") && streq(a.upper, "/u") && streq(a.work, "/w"));
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--", "x"), &a) == 0 &&
                    !a.lowers && !a.upper && !a.work);
        stage1_app_command_done(&a);
        /* All three or none; paths overlayfs would split or unescape. */
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--upper=/u", "--work=/w", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--lower=/l", "--upper=/u", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--lower=/l", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--lower=/a:/b", "--upper=/u", "--work=/w", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--lower=/l", "--upper=/u,index=on", "--work=/w", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--lower=/l", "--upper=/u", "--work=w", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV("--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc", "--lower=/l\\x", "--upper=/u", "--work=/w", "--", "x"), &a) < 0);
}

#define APP_BASE "--leader=1", "--scope=x.scope", "--rootfs=/r", "--app-id=abc"

static void test_app_security_args(void) {
        Stage1AppCommand a = {};

        printf("== stage1_app_command_parse: security, volumes, namespaces\n");
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--capabilities=CAP_CHOWN,kill", "--ambient-capabilities=yes",
                             "--no-new-privileges=yes", "--seccomp=mode=remove,@default,ptrace",
                             "--supplementary-groups=staff,50", "--readonly-rootfs", "--pid-namespace=app",
                             "--ipc-namespace=app", "--bind=/host/d:/data:ro", "--bind=/v:/x", "--", "x"), &a) == 0 &&
              a.sec.caps_set && a.sec.caps == ((UINT64_C(1) << 0) | (UINT64_C(1) << 5)) && a.sec.ambient_caps &&
              a.sec.no_new_privs && a.sec.seccomp.mode == SECCOMP_MODE_REMOVE &&
              strv_length(a.sec.seccomp.names) == 2 && strv_length(a.sec.supplementary_groups) == 2 &&
              a.readonly_rootfs && a.private_pid_ns && a.private_ipc_ns && a.n_binds == 2 && a.binds[0].read_only &&
              streq(a.binds[0].source, "/host/d") && streq(a.binds[0].target, "/data") && !a.binds[1].read_only);
        stage1_app_command_done(&a);
        /* An empty list is "no capabilities", not "unchanged". */
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--capabilities=", "--", "x"), &a) == 0 && a.sec.caps_set && a.sec.caps == 0);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--capabilities=CAP_NOPE", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--capabilities=chown,chown", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--capabilities=Chown", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--no-new-privileges=maybe", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--seccomp=mode=remove,no_such_syscall", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--seccomp=mode=retain,@default", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--seccomp=strict", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--seccomp=default", "--", "x"), &a) == 0 &&
              a.sec.seccomp.mode == SECCOMP_MODE_DEFAULT);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--supplementary-groups=a,,b", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--supplementary-groups=a:b", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--pid-namespace=host", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--ipc-namespace=host", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/b/../c", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:rel", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/b:rx", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a", "--", "x"), &a) < 0);
        /* What app_mount_target_check() refuses, as peapodd does at creation. */
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/proc", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/sys/kernel", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/proc/", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/processes", "--", "x"), &a) == 0 && a.n_binds == 1);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--workdir=", "--", "x"), &a) < 0);
        /* --device=HOST:CONTAINER, app_device_check() as peapodd. */
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--device=/dev/zero:/dev/x/zero", "--device=/dev/null:/dev/n", "--", "x"),
                              &a) == 0 && a.n_devices == 2 && streq(a.devices[0].source, "/dev/zero") &&
                    streq(a.devices[0].target, "/dev/x/zero"));
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--device=/dev/zero", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--device=/dev/zero:/etc/zero", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--device=/dev/zero:/dev/pts/0", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--device=/dev/zero:/dev/x:rw", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--device=/dev/zero:/dev/../x", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--masked-path=/proc/asound", "--masked-path=/x", "--readonly-path=/etc", "--",
                                   "x"), &a) == 0 &&
                    strv_length(a.masked_paths) == 2 && streq(a.readonly_paths[0], "/etc"));
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--masked-path=/", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--masked-path=rel", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--readonly-path=/a/../b", "--", "x"), &a) < 0);

        /* --privileged, and what would only pretend to narrow it. */
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--", "x"), &a) == 0 && !a.privileged);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--privileged", "--seccomp=unconfined", "--", "x"), &a) == 0 && a.privileged);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--privileged", "--device=/dev/zero:/dev/zero", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--privileged", "--masked-path=/proc/kcore", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--readonly-path=/etc", "--privileged", "--", "x"), &a) < 0);
}

static void test_bind_propagation_args(void) {
        Stage1AppCommand a = {};

        printf("== stage1_app_command_parse: --bind propagation\n");
        /* :rslave only with no_new_privs or --privileged, :rshared only with
         * --privileged, as peapodd checked it (app_mount_propagation_check()). */
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--no-new-privileges=yes", "--bind=/a:/b:rslave", "--", "x"), &a) == 0 &&
                    a.n_binds == 1 && a.binds[0].propagation == VOLUME_PROPAGATION_RSLAVE && !a.binds[0].read_only);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/b:rslave", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--no-new-privileges=no", "--bind=/a:/b:rslave", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--no-new-privileges=yes", "--bind=/a:/b:ro,rslave", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--privileged", "--bind=/a:/b:rslave", "--", "x"), &a) == 0 &&
                    a.binds[0].propagation == VOLUME_PROPAGATION_RSLAVE);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--privileged", "--bind=/a:/b:rshared", "--", "x"), &a) == 0 &&
                    a.n_binds == 1 && a.binds[0].propagation == VOLUME_PROPAGATION_RSHARED && !a.binds[0].read_only);
        stage1_app_command_done(&a);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--no-new-privileges=yes", "--bind=/a:/b:rshared", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--bind=/a:/b:rshared", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--privileged", "--bind=/a:/b:shared", "--", "x"), &a) < 0);
        ASSERT_TRUE(parse_app(ARGV(APP_BASE, "--privileged", "--bind=/a:/b:ro,rshared", "--", "x"), &a) < 0);
}

static void test_mount_target(void) {
        printf("== mount_target_is_valid\n");
        ASSERT_TRUE(mount_target_is_valid("/data"));
        ASSERT_TRUE(mount_target_is_valid("/a/b/c/"));
        ASSERT_TRUE(mount_target_is_valid("/a/..b/c."));
        ASSERT_TRUE(!mount_target_is_valid("data"));
        ASSERT_TRUE(!mount_target_is_valid(""));
        ASSERT_TRUE(!mount_target_is_valid("/a/../b"));
        ASSERT_TRUE(!mount_target_is_valid("/.."));
        ASSERT_TRUE(!mount_target_is_valid("/a/./b"));
        ASSERT_TRUE(!mount_target_is_valid("/a//b"));
        ASSERT_TRUE(!mount_target_is_valid("/a\nb"));
}

static void test_supplementary_groups(void) {
        const char *group = "staff:x:50:\nwheel:x:10:root\n";
        Credentials c = { .n_groups = 1, .groups = { 10 } };
        const char *bad = NULL;

        printf("== credentials_add_groups\n");
        ASSERT_TRUE(credentials_add_groups(&c, STRV_MAKE("staff", "7", "wheel"), group, &bad) == 0 && c.n_groups == 3 &&
              c.groups[1] == 50 && c.groups[2] == 7);
        ASSERT_TRUE(credentials_add_groups(&c, STRV_MAKE("nosuch"), group, &bad) == -ESRCH && streq(bad, "nosuch"));
        ASSERT_TRUE(credentials_add_groups(&c, STRV_MAKE("staff"), NULL, &bad) == -ESRCH);
        ASSERT_TRUE(credentials_add_groups(&c, STRV_MAKE("4294967295"), group, &bad) == -EINVAL);
}

/* The filter as libseccomp would load it: one section per architecture,
 * the compat ones included, and the denied calls answered with EPERM in
 * each. */
static void test_seccomp_filter(void) {
        SeccompSpec spec = {};
        char path[] = "/tmp/test-stage1-pfc-XXXXXX";
        _cleanup_free_ char *pfc = NULL;
        int fd;

        printf("== seccomp filters\n");
        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        if (fd < 0)
                return;
        (void) unlink(path);
        ASSERT_TRUE(seccomp_spec_parse("default", &spec) == 0);
        ASSERT_TRUE(stage1_seccomp_export_pfc(&spec, 0, fd) == 0);
        ASSERT_TRUE(lseek(fd, 0, SEEK_SET) == 0);
        pfc = calloc(1, 1 << 20);
        ASSERT_TRUE(pfc && read(fd, pfc, (1 << 20) - 1) > 0);
        safe_close(fd);
        if (!pfc)
                return;
#if defined(__x86_64__)
        ASSERT_TRUE(strstr(pfc, "filter for arch x86_64"));
        ASSERT_TRUE(strstr(pfc, "filter for arch x86 "));
        ASSERT_TRUE(strstr(pfc, "filter for arch x32"));
        /* mount is 165 on x86_64, 21 on i386, 165|0x40000000 on x32 */
        ASSERT_TRUE(strstr(pfc, "\"mount\" (165)"));
        ASSERT_TRUE(strstr(pfc, "\"mount\" (21)"));
        ASSERT_TRUE(strstr(pfc, "\"mount\" (1073741989)"));
#endif
        ASSERT_TRUE(strstr(pfc, "ERRNO(1)"));                  /* EPERM */
        ASSERT_TRUE(strstr(pfc, "ERRNO(38)"));                 /* clone3: ENOSYS */
        ASSERT_TRUE(strstr(pfc, "\"unshare\""));
        ASSERT_TRUE(strstr(pfc, "\"setns\""));
        ASSERT_TRUE(strstr(pfc, "invalid architecture action"));
        ASSERT_TRUE(!strstr(pfc, "\"ptrace\""));
        ASSERT_TRUE(strstr(pfc, "\"process_vm_readv\""));  /* without CAP_SYS_PTRACE */
        ASSERT_TRUE(strstr(pfc, "\"personality\""));
        ASSERT_TRUE(strstr(pfc, "# first, newer than libseccomp: arch "));  /* the ENOSYS ranges */
        seccomp_spec_done(&spec);
}

/* A misspelt name in the tables would deny nothing and say nothing (the
 * filter skips names an architecture lacks): each must be a syscall of
 * one of our architectures, or one newer than libseccomp (then the ENOSYS
 * ranges cover it until libseccomp learns its name). */
static void test_seccomp_tables(void) {
        static const char *const newer_than_libseccomp[] = {
                "file_getattr", "file_setattr", "lsm_get_self_attr", "lsm_list_modules", "lsm_set_self_attr", "open_tree_attr",
        };
        static const uint32_t arches[] = { SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32, SCMP_ARCH_AARCH64, SCMP_ARCH_ARM };
        size_t n = 0, bad = 0;

        printf("== seccomp tables: known names, no duplicates\n");
        for (const char *const *d = seccomp_default_denylist; *d; d++, n++) {
                bool known = false, listed_twice = false;

                for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                        known = known || seccomp_syscall_resolve_name_arch(arches[i], *d) != __NR_SCMP_ERROR;
                for (size_t i = 0; i < ELEMENTSOF(newer_than_libseccomp); i++)
                        known = known || streq(*d, newer_than_libseccomp[i]);
                for (const SeccompCapSyscall *c = seccomp_default_cap_syscalls; c->name; c++)
                        listed_twice = listed_twice || streq(*d, c->name);
                for (const char *const *e = d + 1; *e; e++)
                        listed_twice = listed_twice || streq(*d, *e);
                if (!known || listed_twice) {
                        printf("FAIL: %s %s\n", *d, known ? "listed twice" : "is no syscall");
                        bad++;
                }
        }
        for (const SeccompCapSyscall *c = seccomp_default_cap_syscalls; c->name; c++, n++) {
                bool known = false;

                for (size_t i = 0; i < ELEMENTSOF(arches); i++)
                        known = known || seccomp_syscall_resolve_name_arch(arches[i], c->name) != __NR_SCMP_ERROR;
                for (size_t i = 0; i < ELEMENTSOF(newer_than_libseccomp); i++)
                        known = known || streq(c->name, newer_than_libseccomp[i]);
                if (!known || c->capability < 0 || c->capability > CAPABILITY_LAST) {
                        printf("FAIL: %s is no syscall or has no known capability\n", c->name);
                        bad++;
                }
        }
        ASSERT_TRUE(bad == 0);
        ASSERT_TRUE(n > 100);
}

/* Runs argv under the default filter built for caps, as an app would
 * (no_new_privs lets an unprivileged process load it); its exit status. */
static int run_filtered(uint64_t caps, char *const argv[]) {
        SeccompSpec spec = { .mode = SECCOMP_MODE_DEFAULT };
        int status;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || stage1_seccomp_install(&spec, caps) < 0)
                        _exit(125);
                execv(argv[0], argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) != pid)
                return -errno;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The hostile app of tests/hostile/seccomp.c under the real filter, with
 * and without the capabilities that open parts of it; the lab test
 * test-seccomp.sh runs it in pods. Its path comes from meson, in builds
 * that have it. */
static void test_seccomp_calls(void) {
        const char *hostile = getenv("HOSTILE_SECCOMP");

        printf("== seccomp: each call of the default filter\n");
        if (!hostile || access(hostile, X_OK) < 0) {
                printf("skip: no hostile-seccomp in this build\n");
                return;
        }
        ASSERT_TRUE(run_filtered(capability_default_set, (char *const[]) { (char *) hostile, (char *) "default", NULL }) == 0);
        ASSERT_TRUE(run_filtered(capability_default_set | (UINT64_C(1) << CAP_SYS_PTRACE),
                           (char *const[]) { (char *) hostile, (char *) "ptrace", NULL }) == 0);
        ASSERT_TRUE(run_filtered(capability_default_set | (UINT64_C(1) << CAP_SYS_NICE),
                           (char *const[]) { (char *) hostile, (char *) "nice", NULL }) == 0);
        /* A check that can fail: the default set is not enough for "ptrace". */
        ASSERT_TRUE(run_filtered(capability_default_set, (char *const[]) { (char *) hostile, (char *) "ptrace", NULL }) == 1);
}

/* personality(2) is allowed for exactly five values; the filter says so in
 * 32 rules (see stage1-security.c). Every value with at most two bits set
 * or at most two bits clear, and a stride through the rest. */
static void test_seccomp_personality(void) {
        SeccompSpec spec = { .mode = SECCOMP_MODE_DEFAULT };
        int status;
        pid_t pid;

        printf("== seccomp: personality values\n");
        fflush(stdout);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                unsigned bad = 0;

                if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || stage1_seccomp_install(&spec, 0) < 0)
                        _exit(125);
                for (uint64_t i = 0; i < (UINT64_C(1) << 32) + 0x10000; i += i < 0x10000 ? 1 : 0x10001) {
                        for (int form = 0; form < 3; form++) {
                                uint32_t v = form == 0 ? (uint32_t) i : form == 1 ? ~(uint32_t) i : (uint32_t) (i >> 16 | i << 16);
                                bool allowed = v == 0 || v == 8 || v == 0x20000 || v == 0x20008 || v == 0xffffffff;
                                long r = syscall(SYS_personality, (unsigned long) v);
                                bool denied = r < 0 && errno == EPERM;

                                (void) syscall(SYS_personality, 0UL);
                                if (denied == allowed && bad++ < 10)
                                        printf("FAIL: personality(0x%x) %s\n", v, denied ? "denied" : "allowed");
                        }
                }
                for (int a = 0; a < 32; a++)
                        for (int b = 0; b < 32; b++) {
                                uint32_t bits = (UINT32_C(1) << a) | (UINT32_C(1) << b);

                                for (int form = 0; form < 2; form++) {
                                        uint32_t v = form ? ~bits : bits;
                                        bool allowed = v == 8 || v == 0x20000 || v == 0x20008;
                                        long r = syscall(SYS_personality, (unsigned long) v);
                                        bool denied = r < 0 && errno == EPERM;

                                        (void) syscall(SYS_personality, 0UL);
                                        if (denied == allowed && bad++ < 10)
                                                printf("FAIL: personality(0x%x) %s\n", v, denied ? "denied" : "allowed");
                                }
                        }
                _exit(bad > 0);
        }
        ASSERT_TRUE(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char test_passwd[] =
        "# a comment\n"
        "root:x:0:0:root:/root:/bin/sh\n"
        "\n"
        "+nis::::::\n"
        "broken:x:abc:1:::\n"
        "short:x:5\n"
        "app:x:1000:1000:App:/home/app:/bin/sh\n"
        "nohome:x:1001:1002\n"
        "dup:x:1000:7:first::\n"
        "neg:x:4294967295:0::/:\n"
        "last:x:2000:2000::/last:/bin/sh"; /* no final newline */

static const char test_group[] =
        "root:x:0:\n"
        "staff:x:50:app,other\n"
        "wheel:x:10:other,app\n"
        "apps:x:1000:\n"
        "again:x:50:app\n"
        "prefix:x:60:application,ap\n"
        "bad:x:zz:app\n"
        "last:x:70:x,app"; /* no final newline */

static bool home_is(const char *home, const char *want) {
        return home && streq(home, want);
}

static void test_credentials(void) {
        Credentials c = {};
        const char *what;

        printf("== credentials_resolve\n");
        ASSERT_TRUE(credentials_resolve("app", test_passwd, test_group, &c, &what) == 0 &&
              c.uid == 1000 && c.gid == 1000 && home_is(c.home, "/home/app") &&
              /* staff once although listed twice by gid, wheel, last; not prefix */
              c.n_groups == 3 && c.groups[0] == 50 && c.groups[1] == 10 && c.groups[2] == 70);
        credentials_done(&c);
        ASSERT_TRUE(credentials_resolve("app:staff", test_passwd, test_group, &c, &what) == 0 &&
              c.uid == 1000 && c.gid == 50 && c.n_groups == 3);
        credentials_done(&c);
        ASSERT_TRUE(credentials_resolve("app:4321", test_passwd, test_group, &c, &what) == 0 && c.uid == 1000 && c.gid == 4321);
        credentials_done(&c);
        /* A numeric uid gets its passwd line's gid, name (for groups) and home. */
        ASSERT_TRUE(credentials_resolve("1000", test_passwd, test_group, &c, &what) == 0 &&
              c.uid == 1000 && c.gid == 1000 && c.n_groups == 3 && home_is(c.home, "/home/app"));
        credentials_done(&c);
        /* ...and gid 0, no groups, no home without one, as docker does. */
        ASSERT_TRUE(credentials_resolve("1234", test_passwd, test_group, &c, &what) == 0 &&
              c.uid == 1234 && c.gid == 0 && c.n_groups == 0 && !c.home);
        credentials_done(&c);
        ASSERT_TRUE(credentials_resolve("1234:5678", test_passwd, test_group, &c, &what) == 0 &&
              c.uid == 1234 && c.gid == 5678 && c.n_groups == 0);
        credentials_done(&c);
        ASSERT_TRUE(credentials_resolve("0:0", NULL, NULL, &c, &what) == 0 && c.uid == 0 && c.gid == 0 && c.n_groups == 0);
        credentials_done(&c);
        ASSERT_TRUE(credentials_resolve("nohome", test_passwd, test_group, &c, &what) == 0 &&
              c.uid == 1001 && c.gid == 1002 && !c.home && c.n_groups == 0);
        credentials_done(&c);
        ASSERT_TRUE(credentials_resolve("last", test_passwd, NULL, &c, &what) == 0 &&
              c.uid == 2000 && home_is(c.home, "/last") && c.n_groups == 0);
        credentials_done(&c);

        /* Unknown names, malformed and skipped lines. */
        ASSERT_TRUE(credentials_resolve("nobody", test_passwd, test_group, &c, &what) == -ESRCH && streq(what, "user"));
        ASSERT_TRUE(credentials_resolve("app", NULL, test_group, &c, &what) == -ESRCH);
        ASSERT_TRUE(credentials_resolve("broken", test_passwd, test_group, &c, &what) == -ESRCH);
        ASSERT_TRUE(credentials_resolve("short", test_passwd, test_group, &c, &what) == -ESRCH);
        ASSERT_TRUE(credentials_resolve("neg", test_passwd, test_group, &c, &what) == -ESRCH);
        ASSERT_TRUE(credentials_resolve("+nis", test_passwd, test_group, &c, &what) == -ESRCH);
        ASSERT_TRUE(credentials_resolve("app:nogroup", test_passwd, test_group, &c, &what) == -ESRCH && streq(what, "group"));
        ASSERT_TRUE(credentials_resolve("app:bad", test_passwd, test_group, &c, &what) == -ESRCH);
        ASSERT_TRUE(credentials_resolve("1234:staff", test_passwd, NULL, &c, &what) == -ESRCH);
        /* (uid_t) -1 means "unchanged" to setresuid(): never an id. */
        ASSERT_TRUE(credentials_resolve("4294967295", test_passwd, test_group, &c, &what) == -EINVAL);
        ASSERT_TRUE(credentials_resolve("0:4294967295", test_passwd, test_group, &c, &what) == -EINVAL);
        ASSERT_TRUE(credentials_resolve("99999999999", test_passwd, test_group, &c, &what) == -EINVAL);
        ASSERT_TRUE(credentials_resolve("a:b:c", test_passwd, test_group, &c, &what) == -EINVAL);

        /* More groups than we set is refused, not cut. */
        {
                _cleanup_free_ char *many = NULL;
                size_t sz = (STAGE1_GROUPS_MAX + 1) * 32, n = 0;

                many = calloc(1, sz);
                ASSERT_TRUE(many);
                if (many) {
                        for (unsigned i = 0; i <= STAGE1_GROUPS_MAX; i++)
                                n += (size_t) snprintf(many + n, sz - n, "g%u:x:%u:app\n", i, 3000 + i);
                        ASSERT_TRUE(credentials_resolve("app", test_passwd, many, &c, &what) == -E2BIG);
                        /* Exactly the limit is fine. */
                        *strstr(many, "g64:") = 0;
                        ASSERT_TRUE(credentials_resolve("app", test_passwd, many, &c, &what) == 0 && c.n_groups == STAGE1_GROUPS_MAX);
                        credentials_done(&c);
                }
        }
}

static void test_read_id_file(void) {
        char tmp[] = "/tmp/test-stage1-id-XXXXXX";
        char path[sizeof(tmp) + 16];
        _cleanup_free_ char *s = NULL;
        FILE *f;

        printf("== read_id_file\n");
        if (!mkdtemp(tmp)) {
                printf("skip: mkdtemp: %m\n");
                return;
        }
        snprintf(path, sizeof(path), "%s/passwd", tmp);
        f = fopen(path, "we");
        ASSERT_TRUE(f && fputs("root:x:0:0::/root:/bin/sh\n", f) >= 0 && fclose(f) == 0);
        ASSERT_TRUE(read_id_file(path, 1024, &s) == 0 && streq(s, "root:x:0:0::/root:/bin/sh\n"));
        s = mfree(s);
        ASSERT_TRUE(read_id_file(path, 10, &s) == -EFBIG && !s);
        ASSERT_TRUE(read_id_file(tmp, 1024, &s) == -EBADFD);
        snprintf(path, sizeof(path), "%s/fifo", tmp);
        /* Must not block waiting for a writer. */
        ASSERT_TRUE(mkfifo(path, 0600) == 0 && read_id_file(path, 1024, &s) == -EBADFD);
        snprintf(path, sizeof(path), "%s/missing", tmp);
        ASSERT_TRUE(read_id_file(path, 1024, &s) == -ENOENT);
        ASSERT_TRUE(read_id_file("/dev/zero", 1024, &s) == -EBADFD);
        ASSERT_TRUE(rm_rf(tmp) >= 0);
}

static void test_mkdirat_nofollow(void) {
        char tmp[] = "/tmp/test-stage1-XXXXXX";
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        char target[sizeof(tmp) + 16];
        struct stat st;

        printf("== mkdirat_nofollow, mkfileat_nofollow\n");
        if (!mkdtemp(tmp)) {
                printf("skip: mkdtemp: %m\n");
                return;
        }
        dfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(dfd >= 0);
        snprintf(target, sizeof(target), "%s/target", tmp);
        ASSERT_TRUE(mkdir(target, 0700) == 0);

        fd = mkdirat_nofollow(dfd, "proc", 0755);
        ASSERT_TRUE(fd >= 0);
        fd = safe_close(fd);
        ASSERT_TRUE(fstatat(dfd, "proc", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
        /* Existing directories are fine. */
        fd = mkdirat_nofollow(dfd, "proc", 0755);
        ASSERT_TRUE(fd >= 0);
        fd = safe_close(fd);

        /* An image's "/sys -> <somewhere else>" must not be followed, neither
         * to an existing directory nor to a missing one. */
        ASSERT_TRUE(symlinkat(target, dfd, "sys") == 0);
        fd = mkdirat_nofollow(dfd, "sys", 0755);
        ASSERT_TRUE(fd == -ELOOP || fd == -ENOTDIR);
        ASSERT_TRUE(symlinkat("target/missing", dfd, "dev") == 0);
        fd = mkdirat_nofollow(dfd, "dev", 0755);
        ASSERT_TRUE(fd == -ELOOP || fd == -ENOTDIR);
        ASSERT_TRUE(fstatat(dfd, "target/missing", &st, 0) < 0 && errno == ENOENT);
        ASSERT_TRUE(mkdirat_nofollow(dfd, "a/b", 0755) == -EINVAL);
        ASSERT_TRUE(mkdirat_nofollow(dfd, "..", 0755) == -EINVAL);

        /* A regular file in place of a mount point directory is refused too. */
        fd = mkfileat_nofollow(dfd, "file", 0644);
        ASSERT_TRUE(fd >= 0);
        fd = safe_close(fd);
        ASSERT_TRUE(mkdirat_nofollow(dfd, "file", 0755) == -ENOTDIR);
        ASSERT_TRUE(mkfileat_nofollow(dfd, "file", 0644) == -EEXIST);
        ASSERT_TRUE(mkfileat_nofollow(dfd, "sys", 0644) == -EEXIST);

        ASSERT_TRUE(rm_rf(tmp) >= 0);
}

static void test_mountinfo(void) {
        char buf[64];

        printf("== mountinfo_mount_point, path_is_at_or_below\n");
        ASSERT_TRUE(mountinfo_mount_point("36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw\n", buf, sizeof(buf)) == 0 &&
              streq(buf, "/mnt2"));
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /a\\040b\\134c\\011 rw - tmpfs t rw", buf, sizeof(buf)) == 0 &&
              streq(buf, "/a b\\c\t"));
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / / rw - tmpfs t rw", buf, sizeof(buf)) == 0 && streq(buf, "/"));
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /x\\04 rw", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /x\\", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /x\\000y rw", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /x\\400 rw", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /x", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / x rw", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("", buf, sizeof(buf)) == -EINVAL);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /0123456789 rw", buf, 11) == -ENAMETOOLONG);
        ASSERT_TRUE(mountinfo_mount_point("1 2 0:3 / /012345678 rw", buf, 11) == 0 && streq(buf, "/012345678"));

        ASSERT_TRUE(path_is_at_or_below("/a", "/a"));
        ASSERT_TRUE(path_is_at_or_below("/a/b", "/a"));
        ASSERT_TRUE(!path_is_at_or_below("/ab", "/a"));
        ASSERT_TRUE(!path_is_at_or_below("/", "/a"));
        ASSERT_TRUE(path_is_at_or_below("/x", "/"));
        ASSERT_TRUE(!path_is_at_or_below("/a", "/a/b"));
}

static int write_args(const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        if (fd < 0 || fchmod(fd, mode) < 0)
                return -errno;
        return loop_write(fd, data, size);
}

static void test_args_file(void) {
        char tmp[] = "/tmp/test-stage1-XXXXXX";
        char path[sizeof(tmp) + 16], arg[sizeof(path) + 16];
        char *argv0[] = { (char *) "helper", arg, NULL }, **argv = argv0;
        int argc = 2;
        const char args[] = "--leader=1\0--env=A=$HOME %n\0--\0sh\0-c\0echo \"x y\"\0";

        printf("== stage1_args_file_load\n");
        if (!mkdtemp(tmp)) {
                printf("skip: mkdtemp: %m\n");
                return;
        }
        snprintf(path, sizeof(path), "%s/args", tmp);
        snprintf(arg, sizeof(arg), "--args-file=%s", path);

        /* No --args-file: nothing changes. */
        {
                char *plain[] = { (char *) "helper", (char *) "--leader=1", NULL }, **p = plain;
                int n = 2;

                ASSERT_TRUE(stage1_args_file_load(&n, &p, false) == 0 && n == 2 && p == plain);
        }

        ASSERT_TRUE(write_args(path, args, sizeof(args) - 1, 0600) >= 0);
        if (geteuid() == 0) {
                /* Every byte reaches the helper as it was written: no $, %
                 * or quote is interpreted. */
                ASSERT_TRUE(stage1_args_file_load(&argc, &argv, false) == 1);
                ASSERT_TRUE(argc == 7 && streq(argv[0], "helper") && streq(argv[1], "--leader=1") &&
                      streq(argv[2], "--env=A=$HOME %n") && streq(argv[3], "--") && streq(argv[6], "echo \"x y\"") &&
                      argv[7] == NULL);
                ASSERT_TRUE(access(path, F_OK) == 0);

                /* One-shot: removed once read. */
                argv = argv0, argc = 2;
                ASSERT_TRUE(stage1_args_file_load(&argc, &argv, true) == 1 && argc == 7);
                ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);

                /* Anyone but root could write a root helper's arguments. */
                ASSERT_TRUE(write_args(path, args, sizeof(args) - 1, 0600) >= 0);
                ASSERT_TRUE(chown(path, 1, 1) == 0);
                argv = argv0, argc = 2;
                ASSERT_TRUE(stage1_args_file_load(&argc, &argv, false) == -EPERM && argv == argv0);
                ASSERT_TRUE(unlink(path) == 0);
        } else {
                /* Not root's: refused. */
                ASSERT_TRUE(stage1_args_file_load(&argc, &argv, false) == -EPERM && argv == argv0);
                ASSERT_TRUE(unlink(path) == 0);
        }

        /* Writable by others, a truncated last argument, extra arguments,
         * a relative path, a symlink: all refused. */
        ASSERT_TRUE(write_args(path, args, sizeof(args) - 1, 0622) >= 0);
        argv = argv0, argc = 2;
        ASSERT_TRUE(stage1_args_file_load(&argc, &argv, false) < 0 && argv == argv0);
        ASSERT_TRUE(write_args(path, "--leader=1", 10, 0600) >= 0);
        ASSERT_TRUE(stage1_args_file_load(&argc, &argv, false) < 0 && argv == argv0);
        ASSERT_TRUE(write_args(path, "", 0, 0600) >= 0);
        ASSERT_TRUE(stage1_args_file_load(&argc, &argv, false) < 0 && argv == argv0);
        {
                char *more[] = { (char *) "helper", arg, (char *) "--", NULL }, **p = more;
                char rel[] = "--args-file=args";
                char *relv[] = { (char *) "helper", rel, NULL }, **q = relv;
                int n = 3, m = 2;

                ASSERT_TRUE(stage1_args_file_load(&n, &p, false) == -EINVAL && p == more);
                ASSERT_TRUE(stage1_args_file_load(&m, &q, false) == -EINVAL && q == relv);
        }
        ASSERT_TRUE(unlink(path) == 0 && symlink("/etc/hostname", path) == 0);
        ASSERT_TRUE(stage1_args_file_load(&argc, &argv, false) == -ELOOP && argv == argv0);

        ASSERT_TRUE(rm_rf(tmp) >= 0);
}

static bool programs_equal(const Stage1SeccompProgram *a, const Stage1SeccompProgram *b) {
        return a->len == b->len && a->len > 0 && memcmp(a->insns, b->insns, a->len * sizeof(struct sock_filter)) == 0;
}

/* The number of files in dir (a .bpf file or a leftover temporary one),
 * and the last one's name (up to 63 bytes) in ret. */
static int cache_file(const char *dir, char ret[static 64]) {
        DIR *d = opendir(dir);
        struct dirent *de;
        int n = 0;

        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                size_t len = strnlen(de->d_name, 63);

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                memcpy(ret, de->d_name, len);
                ret[len] = 0;
                n++;
        }
        closedir(d);
        return n;
}

/* The helpers' cache of seccomp programs (stage1-seccomp-cache.c): what
 * it gives is what libseccomp builds, whether it was read or built; a
 * file of another key, a torn file or a directory others may write is
 * never used. */
static void test_seccomp_cache(void) {
        _cleanup_(seccomp_spec_done) SeccompSpec spec = {}, unconfined = {};
        _cleanup_(stage1_seccomp_program_done) Stage1SeccompProgram fresh = {}, built = {}, read_back = {},
                                                                     other = {}, again = {}, open_dir = {}, none = {};
        uint64_t caps = UINT64_C(1) << CAP_SYS_PTRACE, other_caps = 0;
        char tmp[] = "/tmp/test-stage1-cache-XXXXXX", dir[128], name[64], other_name[64], path[256], other_path[256];
        struct stat st;

        printf("== seccomp cache\n");
        ASSERT_TRUE(mkdtemp(tmp) != NULL);
        snprintf(dir, sizeof(dir), "%s/cache", tmp);
        ASSERT_TRUE(seccomp_spec_parse("default", &spec) == 0);
        ASSERT_TRUE(stage1_seccomp_program(&spec, caps, &fresh) == 0 && fresh.len > 0);

        /* Built and left there, then read back: the same program. */
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, caps, &built) == 0);
        ASSERT_TRUE(programs_equal(&built, &fresh));
        ASSERT_TRUE(stat(dir, &st) == 0 && (st.st_mode & 07777) == 0700);
        ASSERT_TRUE(cache_file(dir, name) == 1);
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, caps, &read_back) == 0);
        ASSERT_TRUE(programs_equal(&read_back, &fresh));

        /* Another key's file under this key's name (a hash collision) is
         * not this key's program: the capability rules differ. */
        ASSERT_TRUE(stage1_seccomp_program(&spec, other_caps, &other) == 0);
        ASSERT_TRUE(!programs_equal(&other, &fresh));
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        ASSERT_TRUE(unlink(path) == 0);
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, other_caps, &again) == 0);
        ASSERT_TRUE(programs_equal(&again, &other));
        ASSERT_TRUE(cache_file(dir, other_name) == 1);
        snprintf(other_path, sizeof(other_path), "%s/%s", dir, other_name);
        ASSERT_TRUE(rename(other_path, path) == 0);
        stage1_seccomp_program_done(&read_back);
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, caps, &read_back) == 0);
        ASSERT_TRUE(programs_equal(&read_back, &fresh));

        /* A file whose key differs in one byte, the program and size
         * being right: not used, built again and replaced. */
        {
                _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
                char c, back;

                /* Past the 16-byte header: the key's first byte ("b" of "build="). */
                ASSERT_TRUE(fd >= 0 && pread(fd, &c, 1, 16) == 1 && c == 'b');
                ASSERT_TRUE(pwrite(fd, "B", 1, 16) == 1);
                stage1_seccomp_program_done(&read_back);
                ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, caps, &read_back) == 0);
                ASSERT_TRUE(programs_equal(&read_back, &fresh));
                fd = safe_close(fd);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                ASSERT_TRUE(fd >= 0 && pread(fd, &back, 1, 16) == 1 && back == 'b');
        }

        /* A torn file: built again and replaced. */
        ASSERT_TRUE(stat(path, &st) == 0 && truncate(path, st.st_size - 8) == 0);
        stage1_seccomp_program_done(&read_back);
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, caps, &read_back) == 0);
        ASSERT_TRUE(programs_equal(&read_back, &fresh));
        ASSERT_TRUE(stat(path, &st) == 0 && (size_t) st.st_size > fresh.len * sizeof(struct sock_filter));

        /* A directory others may write to is not used, nor written. */
        ASSERT_TRUE(unlink(path) == 0 && chmod(dir, 0777) == 0);
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, caps, &open_dir) == 0);
        ASSERT_TRUE(programs_equal(&open_dir, &fresh));
        ASSERT_TRUE(cache_file(dir, name) == 0);

        /* Unconfined: no program, no file. */
        ASSERT_TRUE(chmod(dir, 0700) == 0);
        ASSERT_TRUE(seccomp_spec_parse("unconfined", &unconfined) == 0);
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &unconfined, caps, &none) == 0 && none.len == 0);
        ASSERT_TRUE(cache_file(dir, name) == 0);
        ASSERT_TRUE(rmdir(dir) == 0 && rmdir(tmp) == 0);
}

/* A full cache (256 programs) keeps what it has and writes no more. */
static void test_seccomp_cache_full(void) {
        _cleanup_(seccomp_spec_done) SeccompSpec spec = {};
        _cleanup_(stage1_seccomp_program_done) Stage1SeccompProgram fresh = {}, full = {};
        char tmp[] = "/tmp/test-stage1-cache-XXXXXX", dir[128], filler[300], name[64];

        printf("== seccomp cache, full\n");
        ASSERT_TRUE(mkdtemp(tmp) != NULL);
        snprintf(dir, sizeof(dir), "%s/cache", tmp);
        ASSERT_TRUE(mkdir(dir, 0700) == 0);
        ASSERT_TRUE(seccomp_spec_parse("default", &spec) == 0);
        ASSERT_TRUE(stage1_seccomp_program(&spec, 0, &fresh) == 0);
        for (int i = 0; i < 256; i++) {
                snprintf(filler, sizeof(filler), "%s/filler-%03d", dir, i);
                ASSERT_TRUE(close(open(filler, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)) == 0);
        }
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, 0, &full) == 0);
        ASSERT_TRUE(programs_equal(&full, &fresh));
        ASSERT_TRUE(cache_file(dir, name) == 256);
        /* One fewer: written. */
        snprintf(filler, sizeof(filler), "%s/filler-000", dir);
        ASSERT_TRUE(unlink(filler) == 0);
        stage1_seccomp_program_done(&full);
        ASSERT_TRUE(stage1_seccomp_program_cached(dir, &spec, 0, &full) == 0);
        ASSERT_TRUE(cache_file(dir, name) == 256);
        for (int i = 0; i < 256; i++) {
                snprintf(filler, sizeof(filler), "%s/filler-%03d", dir, i);
                (void) unlink(filler);
        }
        ASSERT_TRUE(cache_file(dir, name) == 1 && endswith(name, ".bpf"));
        snprintf(filler, sizeof(filler), "%s/%s", dir, name);
        ASSERT_TRUE(unlink(filler) == 0 && rmdir(dir) == 0 && rmdir(tmp) == 0);
}

int main(void) {
        log_set_program("test-stage1");
        test_parse();
        test_validators();
        test_cgroup();
        test_exec_status();
        test_args();
        test_args_log_namespace();
        test_app_security_args();
        test_bind_propagation_args();
        test_mount_target();
        test_supplementary_groups();
        test_seccomp_filter();
        test_seccomp_tables();
        test_seccomp_calls();
        test_seccomp_personality();
        test_seccomp_cache();
        test_seccomp_cache_full();
        test_credentials();
        test_read_id_file();
        test_mkdirat_nofollow();
        test_args_file();
        test_mountinfo();
        return EXIT_SUCCESS;
}
