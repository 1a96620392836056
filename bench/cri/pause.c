/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pause: the sandbox process of containerd's CRI pods in bench/cri (the
 * infra container holding the pod's namespaces), built static so the
 * image needs nothing else: sleeps until SIGTERM or SIGINT, reaps
 * children as a PID 1 must. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig) {
        (void) sig;
        _exit(0);
}

static void on_child(int sig) {
        (void) sig;
        while (waitpid(-1, NULL, WNOHANG) > 0)
                ;
}

int main(void) {
        struct sigaction stop = { .sa_handler = on_stop }, child = { .sa_handler = on_child, .sa_flags = SA_NOCLDSTOP };

        if (sigaction(SIGTERM, &stop, NULL) < 0 || sigaction(SIGINT, &stop, NULL) < 0 ||
            sigaction(SIGCHLD, &child, NULL) < 0)
                return 1;
        for (;;)
                pause();
}
