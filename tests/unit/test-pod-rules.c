/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The rules of the pod and app calls of org.peapod1 without D-Bus: which
 * states allow a start, stop, removal, an app's addition, start, stop,
 * kill, limits, an exec, and what each refusal says. Each refusal comes
 * before anything touches systemd or the disk, so the pods here are bare
 * structs and the runtime is never used. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "pod-app.h"
#include "pod-exec.h"
#include "pod-runtime.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static App app = { .name = (char *) "web", .state = APP_RUNNING };
static Pod pod = { .name = (char *) "p1", .state = POD_RUNNING, .apps = &app, .n_apps = 1 };

static void set(PodState ps, AppState as) {
        pod.state = ps;
        app.state = as;
}

#define ASSERT_REFUSED(expr, err, text)                    \
        do {                                               \
                PeapodError _e = {};                       \
                ASSERT_ERR(expr, err);                     \
                ASSERT_STREQ(_e.message, text);            \
        } while (0)

TEST(pod_start) {
        _cleanup_close_pair_ int pipefd[2] = { -EBADF, -EBADF }, sock[2] = { -EBADF, -EBADF };
        Pod *pods[] = { &pod };
        PeapodError e = {};

        set(POD_CREATED, APP_CREATED);
        ASSERT_OK(pod_start_check(&pod, pods, 1, NULL, &e));
        set(POD_EXITED, APP_EXITED);
        ASSERT_OK(pod_start_check(&pod, pods, 1, NULL, &e));
        set(POD_RUNNING, APP_RUNNING);
        ASSERT_REFUSED(pod_start_check(&pod, pods, 1, NULL, &_e), EALREADY,
                       "Pod p1 is running; only a created or exited pod can be started");
        set(POD_PREPARING, APP_CREATED);
        ASSERT_REFUSED(pod_start_check(&pod, pods, 1, NULL, &_e), EALREADY,
                       "Pod p1 is preparing; only a created or exited pod can be started");

        /* stdin: a pipe, or a socket with the tty flag; an app to take it. */
        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        ASSERT_OK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sock));
        set(POD_CREATED, APP_CREATED);
        ASSERT_OK(pod_start_check(&pod, pods, 1, &(AppStdin) { .fd = pipefd[0] }, &e));
        ASSERT_OK(pod_start_check(&pod, pods, 1, &(AppStdin) { .fd = sock[0], .tty = true }, &e));
        ASSERT_REFUSED(pod_start_check(&pod, pods, 1, &(AppStdin) { .fd = pipefd[0], .tty = true }, &_e), EINVAL,
                       "The tty flag wants a socket");
        pod.n_apps = 0;
        ASSERT_REFUSED(pod_start_check(&pod, pods, 1, &(AppStdin) { .fd = pipefd[0] }, &_e), EINVAL,
                       "Pod p1 has no app to take stdin");
        pod.n_apps = 1;
}

/* A terminal never: the app could type into the caller's (TIOCSTI). */
TEST(pod_start_terminal) {
        _cleanup_close_ int pty = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
        Pod *pods[] = { &pod };

        if (pty < 0) {
                fprintf(stderr, "no pty here, skipping the terminal case\n");
                return;
        }
        set(POD_CREATED, APP_CREATED);
        ASSERT_REFUSED(pod_start_check(&pod, pods, 1, &(AppStdin) { .fd = pty }, &_e), EINVAL,
                       "stdin is a terminal: pass a pipe, or a socket with the tty flag");
}

TEST(pod_stop_remove) {
        PeapodError e = {};

        set(POD_RUNNING, APP_RUNNING);
        ASSERT_OK(pod_stop_check(&pod, &e));
        set(POD_PREPARING, APP_CREATED);
        ASSERT_OK(pod_stop_check(&pod, &e));
        set(POD_EXITED, APP_EXITED);
        ASSERT_REFUSED(pod_stop_check(&pod, &_e), EALREADY, "Pod p1 is not running");
        set(POD_CREATED, APP_CREATED);
        ASSERT_REFUSED(pod_stop_check(&pod, &_e), EALREADY, "Pod p1 is not running");

        ASSERT_TRUE(pod_remove_check(&pod, false, &e) == 0);
        set(POD_EXITED, APP_EXITED);
        ASSERT_TRUE(pod_remove_check(&pod, true, &e) == 0);
        set(POD_RUNNING, APP_RUNNING);
        ASSERT_REFUSED(pod_remove_check(&pod, false, &_e), EBUSY,
                       "Pod p1 is running; stop it first or force the removal");
        ASSERT_TRUE(pod_remove_check(&pod, true, &e) == 1);
        set(POD_PREPARING, APP_CREATED);
        ASSERT_TRUE(pod_remove_check(&pod, true, &e) == 1);
}

TEST(app_add) {
        PeapodError e = {};

        set(POD_CREATED, APP_CREATED);
        ASSERT_OK(pod_app_add_check(&pod, false, &e));
        ASSERT_REFUSED(pod_app_add_check(&pod, true, &_e), EALREADY,
                       "Pod p1 is created; only apps of running pods can be started");
        set(POD_RUNNING, APP_RUNNING);
        ASSERT_OK(pod_app_add_check(&pod, false, &e));
        ASSERT_OK(pod_app_add_check(&pod, true, &e));
        set(POD_EXITED, APP_EXITED);
        ASSERT_REFUSED(pod_app_add_check(&pod, false, &_e), EALREADY,
                       "Pod p1 is exited; apps are added to created or running pods");
        ASSERT_REFUSED(pod_app_add_check(&pod, true, &_e), EALREADY,
                       "Pod p1 is exited; only apps of running pods can be started");
}

TEST(app_start_stop) {
        set(POD_CREATED, APP_CREATED);
        ASSERT_REFUSED(pod_app_start_prepare(NULL, &pod, &app, &_e), EALREADY,
                       "Pod p1 is created; apps are started in running pods");
        set(POD_RUNNING, APP_RUNNING);
        ASSERT_REFUSED(pod_app_start_prepare(NULL, &pod, &app, &_e), EALREADY, "App web of pod p1 is running already");

        set(POD_RUNNING, APP_EXITED);
        ASSERT_REFUSED(pod_app_stop_prepare(&pod, &app, NULL, &_e), EALREADY, "App web of pod p1 is not running");
        set(POD_EXITED, APP_RUNNING);
        ASSERT_REFUSED(pod_app_stop_prepare(&pod, &app, NULL, &_e), EALREADY, "App web of pod p1 is not running");
}

TEST(app_kill_limits_remove) {
        AppLimits l = {};

        set(POD_RUNNING, APP_RUNNING);
        ASSERT_REFUSED(pod_app_kill_check(&pod, &app, 0, &_e), EINVAL, "Invalid signal 0");
        ASSERT_REFUSED(pod_app_kill_check(&pod, NULL, 65, &_e), EINVAL, "Invalid signal 65");
        set(POD_EXITED, APP_EXITED);
        ASSERT_REFUSED(pod_app_kill_check(&pod, NULL, 15, &_e), EALREADY, "Pod p1 is not running");
        set(POD_RUNNING, APP_EXITED);
        ASSERT_REFUSED(pod_app_kill_check(&pod, &app, 15, &_e), EALREADY, "App web of pod p1 is not running");

        set(POD_EXITED, APP_EXITED);
        ASSERT_REFUSED(pod_app_limits_check(&pod, &l, &_e), EALREADY, "Pod p1 has exited");

        set(POD_RUNNING, APP_RUNNING);
        ASSERT_REFUSED(pod_app_remove(NULL, &pod, &app, false, NULL, NULL, &_e), EBUSY,
                       "App web of pod p1 is running; stop it first or force the removal");
        set(POD_PREPARING, APP_CREATED);
        ASSERT_REFUSED(pod_app_remove(NULL, &pod, &app, false, NULL, NULL, &_e), EALREADY, "Pod p1 is starting");
}

TEST(attach_signal) {
        PeapodError e = {};

        set(POD_RUNNING, APP_RUNNING);
        ASSERT_REFUSED(pod_app_attach_check(&pod, &app, &_e), EALREADY,
                       "App web of pod p1 was created without Stdin or Tty");
        app.stdin_open = true;
        ASSERT_OK(pod_app_attach_check(&pod, &app, &e));
        app.stdin_open = false;
        app.tty = true;
        ASSERT_OK(pod_app_attach_check(&pod, &app, &e));
        set(POD_RUNNING, APP_EXITED);
        ASSERT_REFUSED(pod_app_attach_check(&pod, &app, &_e), EALREADY, "App web of pod p1 is not running");
        set(POD_EXITED, APP_RUNNING);
        ASSERT_REFUSED(pod_app_attach_check(&pod, &app, &_e), EALREADY, "App web of pod p1 is not running");
        app.tty = false;

        ASSERT_OK(pod_signal_check(1, &e));
        ASSERT_OK(pod_signal_check(64, &e));
        ASSERT_REFUSED(pod_signal_check(0, &_e), EINVAL, "Invalid signal 0");
        ASSERT_REFUSED(pod_signal_check(65, &_e), EINVAL, "Invalid signal 65");
        ASSERT_REFUSED(pod_signal_check(-9, &_e), EINVAL, "Invalid signal -9");
}

TEST(exec) {
        _cleanup_close_pair_ int pipefd[2] = { -EBADF, -EBADF };
        PeapodError e = {};

        ASSERT_OK(pipe2(pipefd, O_CLOEXEC));
        set(POD_RUNNING, APP_RUNNING);
        ASSERT_OK(pod_exec_check(&pod, &app, STRV_MAKE("sh"), false, pipefd[0], &e));
        ASSERT_REFUSED(pod_exec_check(&pod, &app, STRV_MAKE("sh"), true, pipefd[0], &_e), EINVAL,
                       "The tty flag wants a terminal on stdin");
        ASSERT_REFUSED(pod_exec_check(&pod, &app, NULL, false, pipefd[0], &_e), EINVAL, "No command given");
        ASSERT_REFUSED(pod_exec_check(&pod, &app, (char *[]) { NULL }, false, pipefd[0], &_e), EINVAL, "No command given");
        set(POD_RUNNING, APP_EXITED);
        ASSERT_REFUSED(pod_exec_check(&pod, &app, STRV_MAKE("sh"), false, -EBADF, &_e), EALREADY,
                       "App web of pod p1 is not running (exited)");
        /* The pod's state counts even where the app's was not updated yet. */
        set(POD_EXITED, APP_RUNNING);
        ASSERT_REFUSED(pod_exec_check(&pod, &app, STRV_MAKE("sh"), false, -EBADF, &_e), EALREADY,
                       "App web of pod p1 is not running (exited)");
        set(POD_CREATED, APP_CREATED);
        ASSERT_REFUSED(pod_exec_check(&pod, &app, STRV_MAKE("sh"), false, -EBADF, &_e), EALREADY,
                       "App web of pod p1 is not running (created)");
}

int main(void) {
        test_pod_start();
        test_pod_start_terminal();
        test_pod_stop_remove();
        test_app_add();
        test_app_start_stop();
        test_app_kill_limits_remove();
        test_attach_signal();
        test_exec();
        return 0;
}
