/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layer_unpack() against a good layer (plain, gzip, zstd) and against
 * malicious ones. The layers come from make-evil-layers.py (argv[1]), run
 * into a temp dir. Layout of that dir:
 *
 *   sentinel/outside   what absolute names and symlinks aim at
 *   layers/            the generated tars
 *   out/dest           the destination; "../x" from it lands in out/,
 *                      "../../x" next to sentinel/
 *
 * After every refused layer: dest is gone, out/ is empty, sentinel/ holds
 * only "outside" with its content, the temp dir holds only those three, and
 * /etc/passwd has neither changed nor gained a link. */
#include <dirent.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs-util.h"
#include "string-util.h"
#include "tests.h"
#include "unpack.h"

static char workdir[] = "/tmp/test-unpack-XXXXXX";
static char sentinel[256], layers[256], outdir[256], dest[512];
static struct stat passwd_before;

static const char *at(const char *dir, const char *name) {
        static char buf[4][PATH_MAX];
        static unsigned i;
        char *b = buf[i++ % 4];

        snprintf(b, PATH_MAX, "%s/%s", dir, name);
        return b;
}

static int unpack_layer(const char *name, const UnpackOptions *opts, UnpackStats *stats, PeapodError *err) {
        _cleanup_close_ int fd = open(at(layers, name), O_RDONLY | O_CLOEXEC);

        ASSERT_TRUE(fd >= 0);
        return layer_unpack(fd, dest, opts, stats, err);
}

/* The names in dir, sorted and joined with ",". */
static char *listing(const char *dir) {
        struct dirent **list;
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        int n = scandir(dir, &list, NULL, alphasort);

        ASSERT_TRUE(f && n >= 0);
        for (int i = 0; i < n; i++) {
                if (strcmp(list[i]->d_name, ".") && strcmp(list[i]->d_name, ".."))
                        fprintf(f, "%s%s", ftell(f) > 0 ? "," : "", list[i]->d_name);
                free(list[i]);
        }
        free(list);
        fclose(f);
        return s;
}

static void check_listing(const char *dir, const char *expected) {
        _cleanup_free_ char *l = listing(dir);
        ASSERT_STREQ(l, expected);
}

static char *read_text(const char *path) {
        char *s = NULL;
        ASSERT_OK(read_file(path, 1 << 20, &s, NULL));
        return s;
}

static void check_untouched(void) {
        _cleanup_free_ char *s = read_text(at(sentinel, "outside"));
        struct stat st;

        ASSERT_STREQ(s, "sentinel\n");
        check_listing(sentinel, "outside");
        check_listing(workdir, "layers,out,sentinel");
        ASSERT_OK(stat("/etc/passwd", &st));
        ASSERT_TRUE(st.st_nlink == passwd_before.st_nlink && st.st_size == passwd_before.st_size &&
                    st.st_mtim.tv_sec == passwd_before.st_mtim.tv_sec &&
                    st.st_mtim.tv_nsec == passwd_before.st_mtim.tv_nsec);
}

static void check_refused(const char *name, const UnpackOptions *opts, int expected) {
        PeapodError err = {};
        UnpackStats stats = { .entries = 4711 };
        struct stat st;
        int r;

        r = unpack_layer(name, opts, &stats, &err);
        printf("%-40s -> %s: %s\n", name, r < 0 ? strerror(-r) : "ACCEPTED", err.message);
        ASSERT_TRUE(r < 0);
        if (expected)
                ASSERT_TRUE(r == -expected);
        ASSERT_TRUE(err.message[0]);
        ASSERT_TRUE(stats.entries == 4711); /* untouched on failure */
        ASSERT_TRUE(lstat(dest, &st) < 0 && errno == ENOENT);
        check_listing(outdir, "");
        check_untouched();
}

static void check_file(const char *rel, const char *content, mode_t mode, uid_t uid, gid_t gid) {
        _cleanup_free_ char *s = NULL;
        struct stat st;

        ASSERT_OK(lstat(at(dest, rel), &st));
        if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != mode || st.st_uid != uid || st.st_gid != gid) {
                fprintf(stderr, "%s: mode %o uid %u gid %u\n", rel, st.st_mode, st.st_uid, st.st_gid);
                ASSERT_TRUE(false);
        }
        if (content) {
                s = read_text(at(dest, rel));
                ASSERT_STREQ(s, content);
        }
}

static void check_symlink(const char *rel, const char *target) {
        char buf[PATH_MAX];
        ssize_t n = readlink(at(dest, rel), buf, sizeof(buf) - 1);

        ASSERT_TRUE(n > 0);
        buf[n] = 0;
        ASSERT_STREQ(buf, target);
}

static bool is_whiteout(const char *rel) {
        struct stat st;
        return lstat(at(dest, rel), &st) >= 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

static void sha256_of(const char *path, char out[65]) {
        char cmd[PATH_MAX + 32];
        FILE *p;

        snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
        p = popen(cmd, "r");
        ASSERT_TRUE(p);
        ASSERT_TRUE(fscanf(p, "%64s", out) == 1);
        ASSERT_TRUE(pclose(p) == 0);
}

static void check_good(const char *name) {
        PeapodError err = {};
        UnpackStats stats = {};
        char buf[64], want[80], got[65];
        struct stat st, st2;
        ssize_t n;
        int r;

        r = unpack_layer(name, NULL, &stats, &err);
        printf("%-40s -> %d entries, %llu bytes %s\n", name, (int) stats.entries, (unsigned long long) stats.bytes, err.message);
        ASSERT_OK(r);
        ASSERT_TRUE(stats.entries == 26);

        /* dest itself took the "./" entry's mode */
        ASSERT_OK(stat(dest, &st));
        ASSERT_TRUE((st.st_mode & 07777) == 0751);

        check_file("etc/hello", "hello world\n", 0644, 1000, 1001);
        ASSERT_OK(stat(at(dest, "etc/hello"), &st));
        ASSERT_TRUE(st.st_mtim.tv_sec == 1234567890 && st.st_nlink == 2);
        ASSERT_OK(stat(at(dest, "bin/hard"), &st2));
        ASSERT_TRUE(st.st_ino == st2.st_ino);
        /* directory times are set after their contents */
        ASSERT_OK(stat(at(dest, "etc"), &st));
        ASSERT_TRUE(S_ISDIR(st.st_mode) && st.st_mtim.tv_sec == 1000000000);
        ASSERT_OK(stat(at(dest, "ro"), &st));
        ASSERT_TRUE((st.st_mode & 07777) == 0555 && st.st_mtim.tv_sec == 1000000001);
        check_file("ro/file", "inside a read-only directory\n", 0644, 0, 0);

        check_file("bin/su", "#!/bin/true\n", 04755, 0, 0);
        check_file("bin/sgid", "sgid\n", 02711, 0, 42);
        check_symlink("bin/link", "../etc/hello");
        ASSERT_OK(lstat(at(dest, "bin/link"), &st));
        ASSERT_TRUE(st.st_uid == 7 && st.st_gid == 8 && st.st_mtim.tv_sec == 1234567890);
        check_symlink("abs", "/etc/passwd");
        check_symlink("esc", "../../sentinel/outside");

        check_file("xattr", "cap", 0644, 0, 0);
        n = getxattr(at(dest, "xattr"), "user.foo", buf, sizeof(buf));
        ASSERT_TRUE(n == 3 && memcmp(buf, "bar", 3) == 0);
        /* trusted.* from the archive is dropped */
        ASSERT_TRUE(getxattr(at(dest, "xattr"), "trusted.overlay.opaque", buf, sizeof(buf)) < 0 && errno == ENODATA);
        n = getxattr(at(dest, "xattr"), "security.capability", buf, sizeof(buf));
        ASSERT_TRUE(n == 20 && buf[0] == 1 && buf[3] == 2 && buf[5] == 0x20);

        ASSERT_OK(lstat(at(dest, "fifo"), &st));
        ASSERT_TRUE(S_ISFIFO(st.st_mode) && (st.st_mode & 07777) == 0640);

        ASSERT_TRUE(is_whiteout("gone"));
        ASSERT_TRUE(lstat(at(dest, ".wh.gone"), &st) < 0);
        n = getxattr(at(dest, "opq"), "trusted.overlay.opaque", buf, sizeof(buf));
        ASSERT_TRUE(n == 1 && buf[0] == 'y');
        check_listing(at(dest, "opq"), "kept");
        ASSERT_TRUE(lstat(at(dest, ".wh..wh.plnk"), &st) < 0);

        check_file("utf8/caf\xc3\xa9", "utf8\n", 0644, 0, 0);
        check_file("dup", "two\n", 0644, 0, 0);
        check_file("implied/deep/file", "deep\n", 0644, 0, 0);
        ASSERT_OK(stat(at(dest, "implied/deep"), &st));
        ASSERT_TRUE((st.st_mode & 07777) == 0755);
        check_file("dot/slash/file", "normalised\n", 0644, 0, 0);
        check_file("empty", "", 0644, 0, 0);
        check_file("big", NULL, 0600, 0, 0);

        snprintf(buf, sizeof(buf), "good.sha");
        {
                _cleanup_free_ char *s = read_text(at(layers, buf));
                snprintf(want, sizeof(want), "%.64s", s);
        }
        sha256_of(at(dest, "big"), got);
        ASSERT_STREQ(got, want);

        check_listing(dest, "abs,big,bin,dot,dup,empty,esc,etc,fifo,gone,implied,opq,ro,utf8,xattr");
        check_untouched();
        ASSERT_OK(rm_rf(dest));
}

static void check_contained(const char *name, const char *expected_listing) {
        PeapodError err = {};

        printf("%-40s -> ", name);
        ASSERT_OK(unpack_layer(name, NULL, NULL, &err));
        check_listing(dest, expected_listing);
        printf("unpacked: %s\n", expected_listing);
        check_untouched();
        ASSERT_OK(rm_rf(dest));
}

static const struct {
        const char *name;
        int error;
} evil[] = {
        { "evil-dotdot.tar", EINVAL },
        { "evil-dotdot-nested.tar", EINVAL },
        { "evil-dotdot-deep.tar", EINVAL },
        { "evil-absolute.tar", EINVAL },
        { "evil-absolute-dir.tar", EINVAL },
        { "evil-symlink-then-write.tar", ELOOP },
        { "evil-symlink-root-then-write.tar", ELOOP },
        { "evil-symlink-relative-then-write.tar", ELOOP },
        { "evil-symlink-chain.tar", ELOOP },
        { "evil-symlink-then-mkdir.tar", ELOOP },
        { "evil-symlink-then-dir-entry.tar", ENOTDIR },
        { "evil-symlink-then-whiteout.tar", ELOOP },
        { "evil-symlink-then-opaque.tar", ELOOP },
        { "evil-symlink-then-hardlink-into.tar", ELOOP },
        { "evil-hardlink-etc-passwd.tar", EINVAL },
        { "evil-hardlink-absolute-sentinel.tar", EINVAL },
        { "evil-hardlink-dotdot.tar", EINVAL },
        { "evil-hardlink-through-symlink.tar", ELOOP },
        { "evil-hardlink-missing.tar", ENOENT },
        { "evil-hardlink-to-dir.tar", EPERM },
        { "evil-char-device.tar", EPERM },
        { "evil-block-device.tar", EPERM },
        { "evil-file-over-dir.tar", EISDIR },
        { "evil-symlink-over-dir.tar", EISDIR },
        { "evil-whiteout-over-dir.tar", EISDIR },
        { "evil-dir-over-file.tar", ENOTDIR },
        { "evil-under-a-file.tar", ENOTDIR },
        { "evil-whiteout-dotdot.tar", EINVAL },
        { "evil-whiteout-dot.tar", EINVAL },
        { "evil-whiteout-empty.tar", EINVAL },
        { "evil-whiteout-escape.tar", EINVAL },
        { "evil-whiteout-as-dir.tar", EINVAL },
        { "evil-empty-name.tar", 0 },
        { "evil-overlong-name.tar", ENAMETOOLONG },
        { "evil-overlong-component.tar", ENAMETOOLONG },
        { "evil-uid-out-of-range.tar", ERANGE },
        { "evil-uid-minus-one.tar", ERANGE },
        { "evil-huge-size.tar", EFBIG },
        { "evil-huge-whiteout.tar", EFBIG },
        { "evil-total-over-limit.tar", EFBIG },
        { "evil-too-many-entries.tar", E2BIG },
        { "evil-truncated-mid-file.tar", EBADMSG },
        { "evil-truncated-mid-header.tar", EBADMSG },
        { "evil-missing-end-blocks.tar", EBADMSG },
        { "evil-truncated-gzip.tar.gz", EBADMSG },
        { "evil-truncated-gzip-late.tar.gz", EBADMSG },
        { "evil-gzip-of-gzip.tar.gz.gz", EBADMSG },
        { "evil-garbage.tar", EBADMSG },
        { "evil-empty-input.tar", EBADMSG },
        { "evil-bad-checksum.tar", EBADMSG },
        { "evil-malformed-pax.tar", EBADMSG },
        { "evil-pax-path-not-utf8.tar", EBADMSG },
        { "evil-gnu-longname-dotdot.tar", EINVAL },
};

static void check_refused_with(const char *name, const UnpackOptions *opts, int expected, const char *says) {
        PeapodError err = {};

        check_refused(name, opts, expected);
        /* Again for the message: it names the limit, not an entry. */
        ASSERT_TRUE(unpack_layer(name, opts, NULL, &err) == -expected);
        if (!strstr(err.message, says)) {
                fprintf(stderr, "%s: \"%s\" not in \"%s\"\n", name, says, err.message);
                ASSERT_TRUE(false);
        }
}

/* The storage.conf limits, small: bytes (declared, so a zip bomb is
 * refused before its zeros are written, and a sparse file counts with its
 * holes), inodes (implied directories count, hard links do not), the
 * image's budget across layers, the free space to keep. A refused layer
 * leaves nothing. */
static void test_limits(void) {
        UnpackOptions bytes = { .max_total_size = 8 << 20 };
        UnpackOptions inodes = { .max_inodes = 20, .max_entries = 100 };
        UnpackBudget budget = { .max_size = 5 << 20 };
        UnpackOptions image = { .budget = &budget };
        UnpackStats stats = {};
        PeapodError err = {};
        struct statvfs sv;
        struct stat st;

        check_refused_with("limit-zip-bomb.tar.gz", &bytes, EFBIG,
                           "unpacks to more than 8 MiB (limit storage.conf max-layer-size)");

        check_refused_with("limit-sparse.tar", &(UnpackOptions) { .max_total_size = 4 << 20 }, EFBIG, "max-layer-size");
        ASSERT_OK(unpack_layer("limit-sparse.tar", &bytes, NULL, &err));
        ASSERT_OK(lstat(at(dest, "sparse"), &st));
        ASSERT_TRUE(st.st_size == 8 << 20);
        ASSERT_TRUE((uint64_t) st.st_blocks * 512 < (1 << 20)); /* the hole stayed a hole */
        ASSERT_OK(rm_rf(dest));

        check_refused_with("limit-implied-dirs.tar", &inodes, E2BIG,
                           "creates more than 20 inodes (limit storage.conf max-layer-inodes)");
        check_refused_with("limit-files.tar", &inodes, E2BIG, "max-layer-inodes");
        ASSERT_OK(unpack_layer("limit-hardlinks.tar", &inodes, &stats, &err));
        ASSERT_TRUE(stats.entries == 41 && stats.inodes == 1);
        ASSERT_OK(lstat(at(dest, "h39"), &st));
        ASSERT_TRUE(st.st_nlink == 41);
        ASSERT_OK(rm_rf(dest));

        /* good.tar declares a bit over 3 MiB: one fits into 5 MiB, two do not. */
        ASSERT_OK(unpack_layer("good.tar", &image, NULL, &err));
        ASSERT_OK(rm_rf(dest));
        check_refused_with("good.tar", &image, EFBIG, "the image unpacks to more than 5 MiB (limit storage.conf max-image-size)");

        /* More free space kept than there is: refused before anything is written. */
        ASSERT_OK(statvfs(workdir, &sv));
        check_refused_with("good.tar",
                           &(UnpackOptions) { .min_free_bytes = (uint64_t) sv.f_bavail * sv.f_frsize + (UINT64_C(1) << 30) },
                           ENOSPC, "free in the image store (limit storage.conf min-free-space)");
        check_refused_with("good.tar", &(UnpackOptions) { .min_free_percent = 100 }, ENOSPC, "min-free-space");
}

static void run_generator(const char *script) {
        pid_t pid = fork();
        int status;

        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                execlp("python3", "python3", script, layers, sentinel, (char *) NULL);
                _exit(127);
        }
        ASSERT_TRUE(waitpid(pid, &status, 0) == pid);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
                printf("python3 not found, skipping\n");
                exit(EXIT_TEST_SKIP);
        }
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(int argc, char *argv[]) {
        UnpackOptions limits = {
                .max_entry_size = 1 << 30,
                .max_total_size = 2 << 20,
                .max_entries = 10,
        };
        PeapodError err = {};
        struct stat st;
        unsigned n = 0;

        if (geteuid() != 0) {
                printf("not root (ownership, whiteouts and trusted.* xattrs need it), skipping\n");
                return EXIT_TEST_SKIP;
        }
        ASSERT_TRUE(argc == 2);
        ASSERT_TRUE(mkdtemp(workdir));
        snprintf(sentinel, sizeof(sentinel), "%s/sentinel", workdir);
        snprintf(layers, sizeof(layers), "%s/layers", workdir);
        snprintf(outdir, sizeof(outdir), "%s/out", workdir);
        snprintf(dest, sizeof(dest), "%s/dest", outdir);
        ASSERT_OK(mkdir(sentinel, 0755));
        ASSERT_OK(mkdir(layers, 0755));
        ASSERT_OK(mkdir(outdir, 0755));
        ASSERT_OK(write_file_atomic(at(sentinel, "outside"), "sentinel\n", 9, 0644));
        ASSERT_OK(stat("/etc/passwd", &passwd_before));
        run_generator(argv[1]);

        check_good("good.tar");
        check_good("good.tar.gz");
        if (access(at(layers, "good.tar.zst"), F_OK) >= 0)
                check_good("good.tar.zst");
        else
                printf("zstd program missing, zstd layer not tested\n");

        check_contained("contained-one-zero-block.tar", "one");
        check_contained("contained-empty-layer.tar.gz", "");
        check_contained("contained-binary-pax-path.tar", "bin\xffname");
        check_contained("contained-nul-in-pax-path.tar", "x");

        for (size_t i = 0; i < ELEMENTSOF(evil); i++, n++)
                check_refused(evil[i].name, &limits, evil[i].error);
        if (access(at(layers, "evil-truncated-zstd.tar.zst"), F_OK) >= 0) {
                check_refused("evil-truncated-zstd.tar.zst", &limits, EBADMSG);
                n++;
        }
        /* Devices are fine when allowed. */
        {
                UnpackOptions devices = { .allow_devices = true };

                ASSERT_OK(unpack_layer("evil-char-device.tar", &devices, NULL, &err));
                ASSERT_OK(lstat(at(dest, "null"), &st));
                ASSERT_TRUE(S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3));
                ASSERT_OK(rm_rf(dest));
        }
        /* An existing destination is refused and left alone. */
        ASSERT_OK(mkdir(dest, 0755));
        ASSERT_OK(write_file_atomic(at(dest, "precious"), "x", 1, 0644));
        err = PEAPOD_ERROR_NULL;
        ASSERT_ERR(unpack_layer("good.tar", NULL, NULL, &err), EEXIST);
        check_listing(dest, "precious");
        ASSERT_OK(rm_rf(dest));

        /* The diff_id is checked in the unpacking pass: the sha256 of the
         * uncompressed tar, whatever the compression; a wrong one refuses
         * the layer and removes what was unpacked. gzip in gzip is still
         * refused on this path. */
        {
                char hex[65];
                Digest diff_id, wrong;

                sha256_of(at(layers, "good.tar"), hex);
                ASSERT_OK(digest_from_hex(DIGEST_SHA256, hex, &diff_id));
                wrong = diff_id;
                wrong.hex[0] = wrong.hex[0] == '0' ? '1' : '0';
                FOREACH_STRV(f, STRV_MAKE("good.tar", "good.tar.gz")) {
                        err = PEAPOD_ERROR_NULL;
                        ASSERT_OK(unpack_layer(f, &(UnpackOptions) { .expected_diff_id = &diff_id }, NULL, &err));
                        ASSERT_OK(rm_rf(dest));
                        check_refused(f, &(UnpackOptions) { .expected_diff_id = &wrong }, EBADMSG);
                }
                check_refused("evil-gzip-of-gzip.tar.gz.gz", &(UnpackOptions) { .expected_diff_id = &diff_id }, EBADMSG);
        }

        test_limits();

        /* layer_unpack() switches the thread's locale only while it runs. */
        ASSERT_TRUE(uselocale((locale_t) 0) == LC_GLOBAL_LOCALE);

        printf("%u malicious layers refused\n", n);
        ASSERT_OK(rm_rf(workdir));
        return 0;
}
