/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs-util.h"
#include "strv.h"
#include "tests.h"

/* app_device_check(): the one rule for peapodd, the CLI, the CRI and the
 * stage1 helper. */
static void test_app_device_check(void) {
        const char *reason = NULL;

        ASSERT_OK(app_device_check("/dev/zero", "/dev/xzero", "r", &reason));
        ASSERT_TRUE(!reason);
        ASSERT_OK(app_device_check("/dev/disk/by-id/x", "/dev/snd/controlC0", "mrw", NULL));
        ASSERT_OK(app_device_check("/dev/nvidia0", "/dev/nvidia0", "rw", NULL));
        ASSERT_OK(app_device_check("/dev/zero", "/dev/nullish", "w", NULL));
        ASSERT_OK(app_device_check("/dev/zero", "/dev/ptsx", "m", NULL));
        /* Host paths: absolute, no '..', ':' or trailing '/'. */
        ASSERT_ERR(app_device_check("dev/zero", "/dev/x", "r", &reason), EINVAL);
        ASSERT_TRUE(reason);
        ASSERT_ERR(app_device_check("/dev/../etc", "/dev/x", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/a:b", "/dev/x", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/", "/dev/x", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check(NULL, "/dev/x", "r", NULL), EINVAL);
        /* Container paths: below /dev, not the helper's own entries. */
        ASSERT_ERR(app_device_check("/dev/zero", "/etc/zero", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/devx/a", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/../etc/x", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/a//b", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/x/", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/pts/0", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/pts", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/shm/x", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/fd/3", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/null", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/stdout", "r", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/a:b", "r", NULL), EINVAL);
        /* Permissions: some of r, w, m, each once. */
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/x", "", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/x", NULL, NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/x", "rx", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/x", "rr", NULL), EINVAL);
        ASSERT_ERR(app_device_check("/dev/zero", "/dev/x", "rwmr", NULL), EINVAL);
}

static void test_app_protected_path_check(void) {
        const char *reason = NULL;

        ASSERT_OK(app_protected_path_check("/proc/asound", &reason));
        ASSERT_TRUE(!reason);
        ASSERT_OK(app_protected_path_check("/etc/", NULL));
        ASSERT_OK(app_protected_path_check("/a/..b", NULL));
        ASSERT_ERR(app_protected_path_check("/", &reason), EINVAL);
        ASSERT_TRUE(reason);
        ASSERT_ERR(app_protected_path_check("etc", NULL), EINVAL);
        ASSERT_ERR(app_protected_path_check("", NULL), EINVAL);
        ASSERT_ERR(app_protected_path_check(NULL, NULL), EINVAL);
        ASSERT_ERR(app_protected_path_check("/a/../b", NULL), EINVAL);
        ASSERT_ERR(app_protected_path_check("/a/./b", NULL), EINVAL);
        ASSERT_ERR(app_protected_path_check("/a//b", NULL), EINVAL);
}

int main(void) {
        char dir[] = "/tmp/test-fs-util-XXXXXX", path[256], *text = NULL;
        size_t n;
        struct stat st;

        test_app_device_check();
        test_app_protected_path_check();
        ASSERT_TRUE(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/a/b/c", dir);
        ASSERT_OK(mkdir_p(path, 0755));
        ASSERT_OK(mkdir_p(path, 0755));
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0755);
        /* A new parent gets the leaf's mode; a trailing slash is fine. */
        snprintf(path, sizeof(path), "%s/a/x/y/z/", dir);
        ASSERT_OK(mkdir_p(path, 0700));
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
        snprintf(path, sizeof(path), "%s/a/x", dir);
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE((st.st_mode & 0777) == 0700);
        /* Under a file: refused, nothing made. */
        snprintf(path, sizeof(path), "%s/a/f", dir);
        ASSERT_OK(write_file_atomic(path, "", 0, 0600));
        snprintf(path, sizeof(path), "%s/a/f/g/h", dir);
        ASSERT_ERR(mkdir_p(path, 0755), ENOTDIR);
        snprintf(path, sizeof(path), "%s/a/file", dir);
        ASSERT_OK(write_file_atomic(path, "hello", 5, 0600));
        ASSERT_OK(write_file_atomic(path, "world!", 6, 0600));
        ASSERT_OK(read_file(path, 100, &text, &n));
        ASSERT_STREQ(text, "world!");
        ASSERT_TRUE(n == 6);
        free(text);
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE((st.st_mode & 0777) == 0600);
        ASSERT_ERR(read_file(path, 3, &text, &n), EFBIG);
        /* Without syncs: the same contents, mode and no temp file left. */
        ASSERT_OK(write_file_atomic_full(path, "again", 5, 0644, 0));
        ASSERT_OK(write_file_atomic_full(path, "data", 4, 0644, WRITE_FILE_SYNC_DATA));
        ASSERT_OK(read_file(path, 100, &text, &n));
        ASSERT_STREQ(text, "data");
        free(text);
        ASSERT_OK(stat(path, &st));
        ASSERT_TRUE((st.st_mode & 0777) == 0644);
        snprintf(path, sizeof(path), "%s/a/file.tmp.%d", dir, (int) getpid());
        ASSERT_TRUE(access(path, F_OK) < 0 && errno == ENOENT);
        ASSERT_TRUE(path_is_mount_point(dir) == 0);
        ASSERT_TRUE(path_is_mount_point("/proc") > 0);

        char **l = NULL;
        ASSERT_OK(strv_extend(&l, "a"));
        ASSERT_OK(strv_extend(&l, "b"));
        char *j = strv_join(l, ", ");
        ASSERT_STREQ(j, "a, b");
        free(j);
        strv_free(l);

        ASSERT_OK(rm_rf(dir));
        ASSERT_TRUE(stat(dir, &st) < 0);
        return 0;
}
