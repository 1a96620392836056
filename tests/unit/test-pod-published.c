/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What peapodd compares to know which Pod properties changed
 * (pod_published_init(), daemon-pod.c). */
#include "daemon.h"
#include "tests.h"

static bool published_equal(const PodPublished *a, const PodPublished *b) {
        return a->state == b->state && a->leader == b->leader && a->started_usec == b->started_usec &&
               a->exited_usec == b->exited_usec && a->apps_hash == b->apps_hash && a->networks_hash == b->networks_hash;
}

static void test_changes(void) {
        char *exec1[] = { (char *) "ab", (char *) "c", NULL }, *exec2[] = { (char *) "a", (char *) "bc", NULL };
        App apps[2] = {
                { .name = (char *) "web", .id = "0123456789abcdef0123456789abcdef", .image = (char *) "busybox",
                  .exec = exec1, .state = APP_RUNNING },
                { .name = (char *) "db", .id = "fedcba9876543210fedcba9876543210", .image = (char *) "busybox",
                  .state = APP_CREATED },
        };
        PodAddress addr = { .network = (char *) "peapod", .ifname = (char *) "eth0", .address = (char *) "10.88.0.2/16" };
        Pod p = { .id = "00112233445566778899aabbccddeeff", .name = (char *) "p", .state = POD_RUNNING, .leader = 42,
                  .started_usec = 7, .apps = apps, .n_apps = 2 };
        PodPublished was, now;

        p.net.addresses = &addr;
        p.net.n_addresses = 1;
        pod_published_init(&was, &p);
        pod_published_init(&now, &p);
        ASSERT_TRUE(published_equal(&was, &now));
        ASSERT_TRUE(was.leader == 42);

        /* Each change shows in its own field only. */
        apps[1].state = APP_EXITED;
        apps[1].result = APP_RESULT_EXITED;
        apps[1].status = 3;
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        ASSERT_TRUE(now.networks_hash == was.networks_hash && now.state == was.state);
        was = now;
        apps[1].status = 4;
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        /* Strings are hashed with their ends: ("ab", "c") is not ("a", "bc"). */
        apps[0].exec = exec2;
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        /* Hashed eight bytes at a time: a change in the last byte of a
         * word, in the tail after the words, or in the length across a
         * word's end shows as well. */
        apps[1].image = (char *) "registry.example/busybox";   /* 24 bytes: three words and the NUL */
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        apps[1].image = (char *) "registry.example/busyboy";   /* the third word's last byte */
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        apps[1].image = (char *) "registry.example/busyboy1";  /* one byte more, in the tail */
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        apps[1].image = (char *) "registry.example/busyboy2";
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        apps[1].image = (char *) "registry.example/busyboy";
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        p.n_apps = 1;
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.apps_hash != was.apps_hash);
        was = now;
        addr.address = (char *) "10.88.0.3/16";
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.networks_hash != was.networks_hash && now.apps_hash == was.apps_hash);
        was = now;

        /* Leader is what the property says: 0 unless running. */
        p.state = POD_EXITED;
        p.exited_usec = 9;
        pod_published_init(&now, &p);
        ASSERT_TRUE(now.state == POD_EXITED && now.leader == 0 && now.exited_usec == 9);
        ASSERT_FALSE(published_equal(&now, &was));
}

int main(void) {
        test_changes();
        return 0;
}
