/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <string.h>

#include "name.h"
#include "tests.h"

TEST(pod_names) {
        ASSERT_TRUE(pod_name_is_valid("web"));
        ASSERT_TRUE(pod_name_is_valid("Web-1.example"));
        ASSERT_TRUE(pod_name_is_valid("a"));
        ASSERT_TRUE(pod_name_is_valid("0123456789012345678901234567890123456789012345678901234567890123"));
        ASSERT_FALSE(pod_name_is_valid("01234567890123456789012345678901234567890123456789012345678901234"));
        ASSERT_FALSE(pod_name_is_valid(""));
        ASSERT_FALSE(pod_name_is_valid(NULL));
        ASSERT_FALSE(pod_name_is_valid("a_b"));
        ASSERT_FALSE(pod_name_is_valid("-a"));
        ASSERT_FALSE(pod_name_is_valid(".a"));
        ASSERT_FALSE(pod_name_is_valid("a..b"));
        ASSERT_FALSE(pod_name_is_valid("a/b"));
        ASSERT_FALSE(pod_name_is_valid("a b"));
        ASSERT_FALSE(pod_name_is_valid("caf\xc3\xa9"));
}

TEST(app_names) {
        ASSERT_TRUE(app_name_is_valid("nginx"));
        ASSERT_TRUE(app_name_is_valid("app-2"));
        ASSERT_TRUE(app_name_is_valid("9lives"));
        ASSERT_FALSE(app_name_is_valid("App"));
        ASSERT_FALSE(app_name_is_valid("-x"));
        ASSERT_FALSE(app_name_is_valid("x-"));
        ASSERT_FALSE(app_name_is_valid("a.b"));
        ASSERT_FALSE(app_name_is_valid(""));
        ASSERT_FALSE(app_name_is_valid("012345678901234567890123456789012345678901234567890123456789012x"));
}

TEST(ids) {
        char id[POD_ID_LEN + 1], id2[POD_ID_LEN + 1];

        ASSERT_OK(id_generate(id));
        ASSERT_OK(id_generate(id2));
        ASSERT_TRUE(id_is_valid(id));
        ASSERT_TRUE(strcmp(id, id2) != 0);
        ASSERT_TRUE(id_prefix_is_valid("abcd"));
        ASSERT_FALSE(id_prefix_is_valid("abc"));
        ASSERT_FALSE(id_prefix_is_valid("ABCD"));
        ASSERT_TRUE(id_prefix_is_too_short("7d"));
        ASSERT_TRUE(id_prefix_is_too_short("abc"));
        ASSERT_FALSE(id_prefix_is_too_short("abcd"));
        ASSERT_FALSE(id_prefix_is_too_short("web"));
        ASSERT_FALSE(id_prefix_is_too_short(""));
        ASSERT_FALSE(id_is_valid("xyz"));
}

TEST(unit_names) {
        char *s;

        ASSERT_OK(pod_slice_name("web", 0, &s));
        ASSERT_STREQ(s, "machine-web.slice");
        free(s);
        ASSERT_OK(pod_slice_name("my-pod", 'c', &s));
        ASSERT_STREQ(s, "machine-peapodc-my\\x2dpod.slice");
        free(s);
        ASSERT_ERR(pod_slice_name("web", 'C', &s), EINVAL);
        ASSERT_ERR(pod_slice_name("web", '-', &s), EINVAL);
        ASSERT_OK(pod_scope_name("my-pod", &s));
        ASSERT_STREQ(s, "machine-my\\x2dpod.scope");
        free(s);
        ASSERT_OK(app_unit_name("my-pod", "app-1", &s));
        ASSERT_STREQ(s, "peapod-my\\x2dpod-app-1.service");
        free(s);

        const char *app;
        ASSERT_OK(unit_name_parse("peapod-my\\x2dpod-app-1.service", &s, &app));
        ASSERT_STREQ(s, "my-pod");
        ASSERT_TRUE(strncmp(app, "app-1.service", 14) == 0);
        free(s);
        ASSERT_OK(unit_name_parse("machine-my\\x2dpod.scope", &s, &app));
        ASSERT_STREQ(s, "my-pod");
        ASSERT_TRUE(app == NULL);
        free(s);
        ASSERT_ERR(unit_name_parse("machine-my\\x2dpod.slice", &s, &app), EINVAL);
        ASSERT_ERR(unit_name_parse("machine-a-b.scope", &s, &app), EINVAL);
        ASSERT_ERR(unit_name_parse("machine-.scope", &s, &app), EINVAL);
        ASSERT_ERR(unit_name_parse("peapod-web.service", &s, &app), EINVAL);
        ASSERT_ERR(unit_name_parse("peapod-web-.service", &s, &app), EINVAL);
        ASSERT_ERR(unit_name_parse("peapod--a.service", &s, &app), EINVAL);
        ASSERT_ERR(unit_name_parse("peapod-web-a.scope", &s, &app), EINVAL);
        ASSERT_ERR(unit_name_parse("systemd-journald.service", &s, &app), EINVAL);
}

TEST(app_name_from_image) {
        char *s;

        ASSERT_OK(app_name_from_image("busybox", &s));
        ASSERT_STREQ(s, "busybox");
        free(s);
        ASSERT_OK(app_name_from_image("registry.example:5000/library/Nginx_Web:1.2", &s));
        ASSERT_STREQ(s, "nginx-web");
        free(s);
        ASSERT_OK(app_name_from_image("quay.io/a/b@sha256:00", &s));
        ASSERT_STREQ(s, "b");
        free(s);
        ASSERT_ERR(app_name_from_image("___", &s), EINVAL);
        ASSERT_ERR(app_name_from_image("", &s), EINVAL);
}

int main(void) {
        test_pod_names();
        test_app_names();
        test_ids();
        test_unit_names();
        test_app_name_from_image();
        return 0;
}
