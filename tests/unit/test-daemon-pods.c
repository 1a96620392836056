/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* peapodd's pods by id, name and id prefix (daemon_find_pod()), kept in
 * step with the list through additions and removals. */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "tests.h"

static Pod *pod_make(const char *id, const char *name) {
        Pod *p = calloc(1, sizeof(Pod));

        ASSERT_TRUE(p);
        memcpy(p->id, id, POD_ID_LEN + 1);
        p->name = strdup(name);
        ASSERT_TRUE(p->name);
        return p;
}

static Pod *find(Daemon *d, const char *key, int *r) {
        *r = 1;
        return daemon_find_pod(d, key, r);
}

int main(void) {
        Daemon d = {};
        Pod *web = pod_make("0123456789abcdef0123456789abcdef", "web"),
            *db = pod_make("01234fffffffffffffffffffffffffff", "db"),
            /* A name that is also a prefix of another pod's id. */
            *hexname = pod_make("abcd0000000000000000000000000000", "0123"),
            *dup;
        int r;

        ASSERT_OK(daemon_add_pod(&d, web));
        ASSERT_OK(daemon_add_pod(&d, db));
        ASSERT_OK(daemon_add_pod(&d, hexname));
        ASSERT_TRUE(d.n_pods == 3);

        /* A second pod of a name or an id is refused, and nothing of it
         * stays in either index. */
        dup = pod_make("99999999999999999999999999999999", "web");
        ASSERT_ERR(daemon_add_pod(&d, dup), EEXIST);
        ASSERT_TRUE(daemon_pod_by_id(&d, dup->id) == NULL);
        free(dup->name);
        dup->name = strdup("other");
        memcpy(dup->id, db->id, POD_ID_LEN + 1);
        ASSERT_ERR(daemon_add_pod(&d, dup), EEXIST);
        ASSERT_TRUE(daemon_pod_by_name(&d, "other") == NULL);
        ASSERT_TRUE(d.n_pods == 3);
        pod_free(dup);

        ASSERT_TRUE(find(&d, web->id, &r) == web && r == 0);
        ASSERT_TRUE(find(&d, "web", &r) == web && r == 0);
        ASSERT_TRUE(find(&d, "db", &r) == db && r == 0);
        ASSERT_TRUE(find(&d, "012345", &r) == web && r == 0);
        ASSERT_TRUE(find(&d, "01234f", &r) == db && r == 0);
        ASSERT_TRUE(find(&d, "abcd", &r) == hexname && r == 0);
        /* Two ids begin so: ambiguous. */
        ASSERT_TRUE(find(&d, "01234", &r) == NULL && r == -ENOTUNIQ);
        /* Too short for a prefix: a name only. */
        ASSERT_TRUE(find(&d, "012", &r) == NULL && r == -ENOENT);
        /* A name that is also a prefix of another's id: ambiguous. */
        ASSERT_TRUE(find(&d, "0123", &r) == NULL && r == -ENOTUNIQ);
        ASSERT_TRUE(find(&d, "nope", &r) == NULL && r == -ENOENT);
        ASSERT_TRUE(find(&d, "", &r) == NULL && r == -EINVAL);
        ASSERT_TRUE(daemon_pod_by_id(&d, "0123") == NULL);

        /* Forgotten: gone from every lookup; the others stay. */
        daemon_forget_pod(&d, web);
        ASSERT_TRUE(d.n_pods == 2);
        ASSERT_TRUE(find(&d, "web", &r) == NULL && r == -ENOENT);
        ASSERT_TRUE(daemon_pod_by_id(&d, "0123456789abcdef0123456789abcdef") == NULL);
        ASSERT_TRUE(find(&d, "0123", &r) == NULL && r == -ENOTUNIQ);
        ASSERT_TRUE(find(&d, "01234", &r) == db && r == 0);
        ASSERT_TRUE(find(&d, "db", &r) == db && r == 0);

        /* The name is free again. */
        web = pod_make("0123456789abcdef0123456789abcdee", "web");
        ASSERT_OK(daemon_add_pod(&d, web));
        ASSERT_TRUE(find(&d, "web", &r) == web && r == 0);

        daemon_pods_free(&d);
        ASSERT_TRUE(d.n_pods == 0 && !d.pods_by_id && !d.pods_by_name);
        return 0;
}
