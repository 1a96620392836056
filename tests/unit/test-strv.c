/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "macro.h"
#include "strv.h"
#include "tests.h"

int main(void) {
        char **l = NULL;

        /* Empty and NULL lists are left as they are. */
        ASSERT_TRUE(strv_sort(NULL) == NULL);
        ASSERT_OK(strv_extend(&l, "peapod-b.service"));
        ASSERT_TRUE(strv_sort(l) == l);
        ASSERT_STREQ(l[0], "peapod-b.service");

        /* strcmp order: bytes, so upper case first and a prefix before
         * what extends it. */
        ASSERT_OK(strv_extend(&l, "machine-a.scope"));
        ASSERT_OK(strv_extend(&l, "peapod-a.service"));
        ASSERT_OK(strv_extend(&l, "Peapod"));
        ASSERT_OK(strv_extend(&l, "peapod-a"));
        strv_sort(l);
        ASSERT_STREQ(l[0], "Peapod");
        ASSERT_STREQ(l[1], "machine-a.scope");
        ASSERT_STREQ(l[2], "peapod-a");
        ASSERT_STREQ(l[3], "peapod-a.service");
        ASSERT_STREQ(l[4], "peapod-b.service");
        ASSERT_TRUE(l[5] == NULL);
        strv_free(l);
        return 0;
}
