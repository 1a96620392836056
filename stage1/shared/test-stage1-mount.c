/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1_mount_tree_read_only() and its fallback for kernels without
 * mount_setattr(2): a recursive bind of a tree with a submount becomes
 * read-only as a whole, submount included, and the source stays writable.
 * Needs root (a mount namespace of its own, which it makes private, so that
 * nothing reaches the machine's); skipped (77) without. */

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "macro.h"
#include "stage1-mount.h"
#include "tests.h"

static bool read_only(const char *path) {
        struct statvfs sv;

        ASSERT_TRUE(statvfs(path, &sv) == 0);
        return sv.f_flag & ST_RDONLY;
}

/* Under dir: src (a tmpfs) with "sub dir" (another tmpfs: mountinfo escapes
 * its space), bound recursively onto dst; then fn on dst. */
static void check(const char *dir, int (*fn)(int fd)) {
        char src[256], sub[256], dst[256], dst_sub[256];
        _cleanup_close_ int fd = -EBADF;

        snprintf(src, sizeof(src), "%s/src", dir);
        snprintf(sub, sizeof(sub), "%s/src/sub dir", dir);
        snprintf(dst, sizeof(dst), "%s/dst", dir);
        snprintf(dst_sub, sizeof(dst_sub), "%s/dst/sub dir", dir);
        ASSERT_TRUE(mkdir(src, 0755) == 0 && mkdir(dst, 0755) == 0);
        ASSERT_TRUE(mount("tmpfs", src, "tmpfs", 0, "size=64k") == 0);
        ASSERT_TRUE(mkdir(sub, 0755) == 0);
        ASSERT_TRUE(mount("tmpfs", sub, "tmpfs", 0, "size=64k") == 0);
        ASSERT_TRUE(mount(src, dst, NULL, MS_BIND | MS_REC, NULL) == 0);
        ASSERT_FALSE(read_only(dst) || read_only(dst_sub));

        fd = open(dst, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        ASSERT_OK(fn(fd));
        ASSERT_TRUE(read_only(dst));
        ASSERT_TRUE(read_only(dst_sub));
        ASSERT_FALSE(read_only(src));
        ASSERT_FALSE(read_only(sub));

        ASSERT_TRUE(umount2(dst, MNT_DETACH) == 0 && umount2(src, MNT_DETACH) == 0);
        ASSERT_TRUE(rmdir(src) == 0 && rmdir(dst) == 0);
}

int main(void) {
        char dir[] = "/tmp/test-stage1-mount-XXXXXX";

        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0) {
                printf("skip: needs root and a mount namespace\n");
                return EXIT_TEST_SKIP;
        }
        ASSERT_TRUE(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_TRUE(mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0);

        check(dir, stage1_mount_tree_read_only);
        check(dir, stage1_mount_tree_read_only_remount);

        ASSERT_TRUE(umount2(dir, MNT_DETACH) == 0 && rmdir(dir) == 0);
        printf("ok\n");
        return EXIT_SUCCESS;
}
