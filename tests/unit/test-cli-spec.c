/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pod specs (peapod-pod.json(5)): the words they stand for, and 'run
 * --spec=' parsing them with the command line's own checks. */
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "string-util.h"
#include "strv.h"
#include "tests.h"

static void assert_words(char **l, ...) {
        va_list ap;
        const char *s;
        size_t i = 0;

        ASSERT_TRUE(l);
        va_start(ap, l);
        while ((s = va_arg(ap, const char *))) {
                ASSERT_STREQ(l[i], s);
                i++;
        }
        va_end(ap);
        if (l[i])
                fprintf(stderr, "extra word: %s\n", l[i]);
        ASSERT_TRUE(l[i] == NULL);
}

static int spec(const char *text, char ***pod, char ***apps) {
        cli_usage_failed = false;
        return run_spec_parse(text, strlen(text), "test.json", pod, apps);
}

TEST(spec_words) {
        char **pod = NULL, **apps = NULL;

        ASSERT_OK(spec("{\"name\": \"web\", \"net\": [\"default\"], \"port\": [\"8080:80\", \"8443:443/tcp\"],"
                       " \"volume\": \"data,kind=empty\", \"dns\": \"10.0.0.1\","
                       " \"apps\": [{\"image\": \"busybox\", \"app-name\": \"httpd\", \"exec\": [\"/bin/httpd\", \"-f\"],"
                       "             \"set-env\": {\"A\": \"1\"}, \"user\": \"nobody\", \"readonly-rootfs\": true,"
                       "             \"tasks-max\": 64, \"caps-retain\": [\"CHOWN\", \"KILL\"], \"mount\": [\"volume=data,target=/srv\"],"
                       "             \"restart\": \"always\", \"device\": [\"/dev/fuse:/dev/fuse:rw\"], \"ipc-namespace\": \"app\","
                       "             \"masked-path\": [\"/a\", \"/b\"], \"readonly-path\": \"/c\"},"
                       "            {\"image\": \"localhost/x:1\", \"args\": [\"a b\", \"--\"]}]}",
                       &pod, &apps));
        assert_words(pod, "--name=web", "--net=default", "--port=8080:80", "--port=8443:443/tcp", "--volume=data,kind=empty",
                     "--dns=10.0.0.1", NULL);
        assert_words(apps, "busybox", "--app-name=httpd", "--set-env=A=1", "--user=nobody", "--readonly-rootfs=true",
                     "--tasks-max=64", "--caps-retain=CHOWN,KILL", "--mount=volume=data,target=/srv", "--restart=always",
                     "--device=/dev/fuse:/dev/fuse:rw", "--ipc-namespace=app", "--masked-path=/a", "--masked-path=/b",
                     "--readonly-path=/c", "--exec=/bin/httpd", "--", "-f", "---", "localhost/x:1", "--", "a b", "--", NULL);
        strv_free(pod);
        strv_free(apps);
}

TEST(spec_errors) {
        char **pod = NULL, **apps = NULL;

        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"busybox\"}]", &pod, &apps), EINVAL);  /* truncated */
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"busybox\"}]} x", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("[]", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{}", &pod, &apps), EINVAL);                                      /* no apps */
        ASSERT_ERR(spec("{\"apps\": []}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{}]}", &pod, &apps), EINVAL);                        /* no image */
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"-x\"}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"prot\": [], \"apps\": [{\"image\": \"b\"}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"b\", \"imgae\": \"c\"}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"b\", \"user\": 5}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"b\", \"tasks-max\": -1}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"b\", \"readonly-rootfs\": \"yes\"}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"b\", \"args\": [\"---\"]}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"b\", \"exec\": []}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"apps\": [{\"image\": \"b\", \"set-env\": {\"A\": 1}}]}", &pod, &apps), EINVAL);
        ASSERT_ERR(spec("{\"a\": {\"b\": {\"c\": {\"d\": {\"e\": {\"f\": {\"g\": {\"h\": {}}}}}}}}}", &pod, &apps), EINVAL);
        ASSERT_TRUE(cli_usage_failed);
        ASSERT_TRUE(!pod && !apps);
}

static int run_with_spec(const char *text, RunArgs *a, ...) {
        char path[] = "/tmp/test-cli-spec-XXXXXX";
        _cleanup_free_ char *opt = NULL;
        char *argv[16] = { (char *) "run" };
        int argc = 1, fd, r;
        const char *s;
        va_list ap;

        fd = mkstemp(path);
        ASSERT_TRUE(fd >= 0);
        ASSERT_TRUE(write(fd, text, strlen(text)) == (ssize_t) strlen(text));
        close(fd);
        ASSERT_TRUE(asprintf(&opt, "--spec=%s", path) > 0);
        va_start(ap, a);
        while ((s = va_arg(ap, const char *)))
                argv[argc++] = streq(s, "SPEC") ? opt : (char *) s;
        va_end(ap);
        cli_usage_failed = false;
        r = run_args_parse(argc, argv, a);
        unlink(path);
        return r;
}

TEST(run_spec) {
        RunArgs a = {};

        /* The command line's --name after --spec wins (the unit's %i). */
        ASSERT_OK(run_with_spec("{\"name\": \"x\", \"port\": \"8080:80\", \"apps\": [{\"image\": \"busybox\","
                                " \"exec\": \"/bin/sleep\", \"args\": [\"1\"]}]}",
                                &a, "--rm", "SPEC", "--name=web", "--replace", NULL));
        ASSERT_STREQ(a.name, "web");
        ASSERT_TRUE(a.remove && a.replace);
        ASSERT_TRUE(a.n_apps == 1);
        ASSERT_STREQ(a.apps[0].image, "busybox");
        ASSERT_STREQ(a.apps[0].exec[0], "/bin/sleep");
        ASSERT_STREQ(a.apps[0].exec[1], "1");
        ASSERT_STREQ(a.ports[0], "8080:80");
        run_args_done(&a);

        /* Values are checked by the options' own code. */
        ASSERT_ERR(run_with_spec("{\"port\": \"80800:80\", \"apps\": [{\"image\": \"busybox\"}]}", &a, "SPEC", NULL), EINVAL);
        ASSERT_ERR(run_with_spec("{\"apps\": [{\"image\": \"busybox\", \"restart\": \"sometimes\"}]}", &a, "SPEC", NULL),
                   EINVAL);
        ASSERT_ERR(run_with_spec("{\"apps\": [{\"image\": \"busybox\", \"working-dir\": \"rel\"}]}", &a, "SPEC", NULL),
                   EINVAL);
        ASSERT_TRUE(cli_usage_failed);
        /* The spec gives the apps: none on the command line, one spec. */
        ASSERT_ERR(run_with_spec("{\"apps\": [{\"image\": \"busybox\"}]}", &a, "SPEC", "busybox", NULL), EINVAL);
        ASSERT_ERR(run_with_spec("{\"apps\": [{\"image\": \"busybox\"}]}", &a, "SPEC", "SPEC", NULL), EINVAL);
        ASSERT_ERR(run_with_spec("{\"apps\": [{\"image\": \"busybox\"}]}", &a, "busybox", "SPEC", NULL), EINVAL);
        /* --replace needs a name. */
        ASSERT_ERR(run_with_spec("{\"apps\": [{\"image\": \"busybox\"}]}", &a, "--replace", "SPEC", NULL), EINVAL);
        /* A missing file is no usage error, but an error. */
        {
                char *argv[] = { (char *) "run", (char *) "--spec=/nonexistent/x.json", NULL };

                cli_usage_failed = false;
                ASSERT_ERR(run_args_parse(2, argv, &a), ENOENT);
                ASSERT_FALSE(cli_usage_failed);
        }
}

int main(void) {
        test_spec_words();
        test_spec_errors();
        test_run_spec();
        return 0;
}
