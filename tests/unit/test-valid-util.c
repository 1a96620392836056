/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The checks stage0 and the stage1 helpers share (src/basic/valid-util.c):
 * the union of what peapodd's and the helper's copies accepted and
 * refused before they were one. */
#include <string.h>

#include "tests.h"
#include "valid-util.h"

TEST(hostname) {
        char s[HOSTNAME_MAX + 2];

        ASSERT_TRUE(hostname_is_valid("web"));
        ASSERT_TRUE(hostname_is_valid("a"));
        ASSERT_TRUE(hostname_is_valid("pod-1a2b3c4d"));
        ASSERT_TRUE(hostname_is_valid("a.b-c"));
        ASSERT_TRUE(hostname_is_valid("Web-1.example"));
        ASSERT_TRUE(hostname_is_valid("a-"));
        ASSERT_TRUE(hostname_is_valid("a."));
        memset(s, 'a', HOSTNAME_MAX);
        s[HOSTNAME_MAX] = 0;
        ASSERT_TRUE(hostname_is_valid(s));
        s[HOSTNAME_MAX] = 'a';
        s[HOSTNAME_MAX + 1] = 0;
        ASSERT_FALSE(hostname_is_valid(s)); /* 65 */
        ASSERT_FALSE(hostname_is_valid(""));
        ASSERT_FALSE(hostname_is_valid(NULL));
        ASSERT_FALSE(hostname_is_valid("-x"));
        ASSERT_FALSE(hostname_is_valid(".x"));
        ASSERT_FALSE(hostname_is_valid("a..b"));
        ASSERT_FALSE(hostname_is_valid("a_b"));
        ASSERT_FALSE(hostname_is_valid("a/b"));
        ASSERT_FALSE(hostname_is_valid("a b"));
        ASSERT_FALSE(hostname_is_valid("a\nb"));
        ASSERT_FALSE(hostname_is_valid("caf\xc3\xa9"));
}

TEST(env_assignment) {
        ASSERT_TRUE(env_assignment_is_valid("A=b"));
        ASSERT_TRUE(env_assignment_is_valid("A="));
        ASSERT_TRUE(env_assignment_is_valid("A=b=c"));
        ASSERT_TRUE(env_assignment_is_valid("lower_case=1"));
        ASSERT_FALSE(env_assignment_is_valid("=b"));
        ASSERT_FALSE(env_assignment_is_valid("="));
        ASSERT_FALSE(env_assignment_is_valid("A"));
        ASSERT_FALSE(env_assignment_is_valid(""));
        ASSERT_FALSE(env_assignment_is_valid(NULL));
}

TEST(user_spec) {
        char s[USER_NAME_MAX + 2];

        ASSERT_TRUE(user_spec_is_valid("app"));
        ASSERT_TRUE(user_spec_is_valid("0"));
        ASSERT_TRUE(user_spec_is_valid("1000"));
        ASSERT_TRUE(user_spec_is_valid("1000:1000"));
        ASSERT_TRUE(user_spec_is_valid("app:staff"));
        ASSERT_TRUE(user_spec_is_valid("www-data"));
        ASSERT_TRUE(user_spec_is_valid("a.b_c$"));
        ASSERT_FALSE(user_spec_is_valid(""));
        ASSERT_FALSE(user_spec_is_valid(NULL));
        ASSERT_FALSE(user_spec_is_valid(":"));
        ASSERT_FALSE(user_spec_is_valid("app:"));
        ASSERT_FALSE(user_spec_is_valid(":staff"));
        ASSERT_FALSE(user_spec_is_valid("a:b:c"));
        ASSERT_FALSE(user_spec_is_valid("a b"));
        ASSERT_FALSE(user_spec_is_valid("a\tb"));
        ASSERT_FALSE(user_spec_is_valid("a,b"));
        ASSERT_FALSE(user_spec_is_valid("a\nb"));
        ASSERT_FALSE(user_spec_is_valid("a\x7f"));
        ASSERT_FALSE(user_spec_is_valid("caf\xc3\xa9"));

        memset(s, 'u', USER_NAME_MAX);
        s[USER_NAME_MAX] = 0;
        ASSERT_TRUE(user_spec_is_valid(s));
        s[USER_NAME_MAX] = 'u';
        s[USER_NAME_MAX + 1] = 0;
        ASSERT_FALSE(user_spec_is_valid(s));

        /* One part of a longer string, not NUL-terminated where it ends. */
        ASSERT_TRUE(user_part_is_valid("staff,wheel", 5));
        ASSERT_FALSE(user_part_is_valid("staff,wheel", 6));
        ASSERT_FALSE(user_part_is_valid("staff", 0));
        ASSERT_FALSE(user_part_is_valid(NULL, 3));
}

/* Only what the kernel keeps per namespace, in the pod's own. */
static void test_sysctl(void) {
        char long_key[SYSCTL_KEY_MAX + 8];

        ASSERT_TRUE(sysctl_key_is_pod_settable("net.ipv4.ip_unprivileged_port_start", false));
        ASSERT_TRUE(sysctl_key_is_pod_settable("net.ipv4.conf.eth0-x.forwarding", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("net.ipv4.ip_forward", true));   /* the host's network */
        ASSERT_TRUE(sysctl_key_is_pod_settable("kernel.shmmni", true));
        ASSERT_TRUE(sysctl_key_is_pod_settable("kernel.sem", false));
        ASSERT_TRUE(sysctl_key_is_pod_settable("fs.mqueue.msg_max", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("kernel.core_pattern", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("kernel.shmmni.x", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("vm.overcommit_memory", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("net/ipv4/ip_forward", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("net..ipv4", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("net.ipv4.", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable(".net.ipv4", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("net.ipv4 x", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable("", false));
        ASSERT_FALSE(sysctl_key_is_pod_settable(NULL, false));
        memset(long_key, 'a', sizeof(long_key) - 1);
        memcpy(long_key, "net.", 4);
        long_key[sizeof(long_key) - 1] = 0;
        ASSERT_FALSE(sysctl_key_is_pod_settable(long_key, false));

        ASSERT_TRUE(sysctl_value_is_valid("250 32000\t32 128"));
        ASSERT_FALSE(sysctl_value_is_valid(""));
        ASSERT_FALSE(sysctl_value_is_valid("1\n2"));
        ASSERT_FALSE(sysctl_value_is_valid("\xc3\xa9"));

        ASSERT_TRUE(sysctl_assignment_is_valid("net.ipv4.ping_group_range=0 1000", false));
        ASSERT_TRUE(sysctl_assignment_is_valid("kernel.shmmni=1000", true));
        ASSERT_FALSE(sysctl_assignment_is_valid("kernel.shmmni", false));
        ASSERT_FALSE(sysctl_assignment_is_valid("kernel.shmmni=", false));
        ASSERT_FALSE(sysctl_assignment_is_valid("=1", false));
        ASSERT_FALSE(sysctl_assignment_is_valid("kernel.panic=1", false));
}

int main(void) {
        test_hostname();
        test_env_assignment();
        test_user_spec();
        test_sysctl();
        return 0;
}
