/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pod-gc.h"
#include "tests.h"

#define MIN (60ULL * 1000000ULL)

static void test_timespan(void) {
        uint64_t u;

        ASSERT_OK(timespan_parse("30m", &u));
        ASSERT_TRUE(u == 30 * MIN);
        ASSERT_OK(timespan_parse("1h30m", &u));
        ASSERT_TRUE(u == 90 * MIN);
        ASSERT_OK(timespan_parse("0", &u));
        ASSERT_TRUE(u == 0);
        ASSERT_OK(timespan_parse("0s", &u));
        ASSERT_TRUE(u == 0);
        ASSERT_OK(timespan_parse("90", &u));
        ASSERT_TRUE(u == 90 * 1000000ULL);
        ASSERT_OK(timespan_parse("500ms", &u));
        ASSERT_TRUE(u == 500000);
        ASSERT_OK(timespan_parse("2d", &u));
        ASSERT_TRUE(u == 2 * 24 * 60 * MIN);
        ASSERT_OK(timespan_parse("5min", &u));
        ASSERT_TRUE(u == 5 * MIN);
        ASSERT_ERR(timespan_parse("", &u), EINVAL);
        ASSERT_ERR(timespan_parse("m", &u), EINVAL);
        ASSERT_ERR(timespan_parse("-5m", &u), EINVAL);
        ASSERT_ERR(timespan_parse("5x", &u), EINVAL);
        ASSERT_ERR(timespan_parse("5 m", &u), EINVAL);
        ASSERT_ERR(timespan_parse("1h30", &u), EINVAL);
        ASSERT_ERR(timespan_parse("5mins", &u), EINVAL);
        ASSERT_ERR(timespan_parse("99999999999999999999", &u), EINVAL);
        ASSERT_ERR(timespan_parse("200000000d", &u), EINVAL);
}

static void test_due(void) {
        Pod p = { .state = POD_EXITED, .exited_usec = 1000 * MIN };

        ASSERT_TRUE(pod_gc_is_due(&p, 1000 * MIN, 0));
        ASSERT_FALSE(pod_gc_is_due(&p, 1000 * MIN, 30 * MIN));
        ASSERT_FALSE(pod_gc_is_due(&p, 1029 * MIN, 30 * MIN));
        ASSERT_TRUE(pod_gc_is_due(&p, 1030 * MIN, 30 * MIN));
        /* A clock set back: only grace 0 takes it. */
        ASSERT_FALSE(pod_gc_is_due(&p, 10 * MIN, 1));
        ASSERT_TRUE(pod_gc_is_due(&p, 10 * MIN, 0));
        for (PodState s = 0; s < _POD_STATE_MAX; s++) {
                p.state = s;
                ASSERT_TRUE(pod_gc_is_due(&p, 2000 * MIN, 0) == (s == POD_EXITED));
        }
}

int main(void) {
        test_timespan();
        test_due();
        return 0;
}
