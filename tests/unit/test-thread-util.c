/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <unistd.h>

#include "io-util.h"
#include "macro.h"
#include "tests.h"
#include "thread-util.h"

static void *say_done(void *userdata) {
        int *fd = userdata;

        (void) loop_write(*fd, "d", 1);
        return NULL;
}

int main(void) {
        int p[2];
        char c = 0;

        /* The function runs, with its userdata, while we go on. */
        ASSERT_OK(pipe2(p, O_CLOEXEC));
        ASSERT_OK(thread_run_detached(say_done, &p[1]));
        ASSERT_OK(loop_read_exact(p[0], &c, 1));
        ASSERT_TRUE(c == 'd');
        safe_close(p[0]);
        safe_close(p[1]);
        return 0;
}
