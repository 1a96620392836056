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

int main(void) {
        test_hostname();
        test_env_assignment();
        test_user_spec();
        return 0;
}
