/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* stage1_mount_tree_read_only() and its fallback for kernels without
 * mount_setattr(2): a recursive bind of a tree with a submount becomes
 * read-only as a whole, submount included, and the source stays writable.
 * stage1_mount_overlay(): the first lower is the top layer, writes land in
 * upper, and paths overlayfs would split are refused.
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
#include "string-util.h"
#include "strv.h"
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

static void write_file(const char *path, const char *s) {
        FILE *f = fopen(path, "we");

        ASSERT_TRUE(f && fputs(s, f) >= 0 && fclose(f) == 0);
}

static bool file_is(const char *path, const char *s) {
        char buf[64] = {};
        FILE *f = fopen(path, "re");
        bool ok;

        if (!f)
                return false;
        ok = fgets(buf, sizeof(buf), f) && streq(buf, s);
        fclose(f);
        return ok;
}

static void check_overlay(const char *dir) {
        char top[256], bottom[256], upper[256], work[256], root[256], p[512];

        snprintf(top, sizeof(top), "%s/top", dir);
        snprintf(bottom, sizeof(bottom), "%s/bottom", dir);
        snprintf(upper, sizeof(upper), "%s/upper", dir);
        snprintf(work, sizeof(work), "%s/work", dir);
        snprintf(root, sizeof(root), "%s/root", dir);
        FOREACH_STRV(d, ((char *[]) { top, bottom, upper, work, root, NULL }))
                ASSERT_TRUE(mkdir(d, 0755) == 0);
        snprintf(p, sizeof(p), "%s/a", top);
        write_file(p, "top");
        snprintf(p, sizeof(p), "%s/a", bottom);
        write_file(p, "bottom");
        snprintf(p, sizeof(p), "%s/b", bottom);
        write_file(p, "bottom");

        ASSERT_TRUE(stage1_mount_overlay(STRV_MAKE("/x:y"), upper, work, root) == -EINVAL);
        ASSERT_TRUE(stage1_mount_overlay(STRV_MAKE(top), "/u,index=on", work, root) == -EINVAL);
        ASSERT_TRUE(stage1_mount_overlay(NULL, upper, work, root) == -EINVAL);
        ASSERT_OK(stage1_mount_overlay(STRV_MAKE(top, bottom), upper, work, root));
        snprintf(p, sizeof(p), "%s/a", root);
        ASSERT_TRUE(file_is(p, "top"));
        snprintf(p, sizeof(p), "%s/b", root);
        ASSERT_TRUE(file_is(p, "bottom"));
        snprintf(p, sizeof(p), "%s/c", root);
        write_file(p, "new");
        snprintf(p, sizeof(p), "%s/c", upper);
        ASSERT_TRUE(file_is(p, "new"));
        ASSERT_TRUE(umount2(root, MNT_DETACH) == 0);
}

int main(void) {
        char dir[] = "/tmp/test-stage1-mount-XXXXXX";

        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0) {
                printf("skip: needs root and a mount namespace\n");
                return EXIT_TEST_SKIP;
        }
        ASSERT_TRUE(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
        ASSERT_TRUE(mkdtemp(dir));
        ASSERT_TRUE(mount("tmpfs", dir, "tmpfs", 0, "size=256k") == 0);

        check(dir, stage1_mount_tree_read_only);
        check(dir, stage1_mount_tree_read_only_remount);
        check_overlay(dir);

        ASSERT_TRUE(umount2(dir, MNT_DETACH) == 0 && rmdir(dir) == 0);
        printf("ok\n");
        return EXIT_SUCCESS;
}
