/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <pthread.h>

#include "thread-util.h"

int thread_run_detached(void *(*fn)(void *), void *userdata) {
        pthread_attr_t attr;
        pthread_t t;
        int r;

        r = pthread_attr_init(&attr);
        if (r != 0)
                return -r;
        r = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (r == 0)
                r = pthread_create(&t, &attr, fn, userdata);
        (void) pthread_attr_destroy(&attr);
        return -r;
}
