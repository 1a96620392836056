/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "macro.h"
#include "stage1-mount.h"
#include "stage1-util.h"
#include "strv.h"
#include "valid-util.h"

/* Files of /proc that tell about the host's kernel (memory, keys, timers,
 * the scheduler) rather than the pod: covered with /dev/null, as docker
 * and crun do. */
static char *const proc_masked_files[] = {
        "kcore", "keys", "timer_list", "timer_stats", "sched_debug", "latency_stats", NULL,
};
/* Directories of host hardware: covered with an empty read-only tmpfs. */
static char *const proc_masked_dirs[] = { "acpi", "scsi", NULL };
/* These act on the whole host, not on the pod: read-only. sys holds every
 * sysctl, kernel.core_pattern among them, which uid 0 may write without
 * any capability (a pipe there runs a program as the host's root at the
 * next core dump), and fs/binfmt_misc below it, whose register file names
 * an interpreter for every exec on the host; sysrq-trigger reboots or
 * crashes the host. */
static char *const proc_read_only[] = { "bus", "fs", "irq", "sys", "sysrq-trigger", NULL };

#define AT_PATH_MAX (sizeof("/proc/self/fd/") + 12 + NAME_MAX + 1)

int stage1_mount_tree_read_only_remount(int fd) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        char p[FD_PATH_MAX], top[PATH_MAX], mp[PATH_MAX];
        size_t size = 0;
        ssize_t n;

        /* The tree's path in our mount namespace, as mountinfo names it
         * (the caller has not changed its root yet). */
        n = readlink(fd_path(p, fd), top, sizeof(top) - 1);
        if (n < 0)
                return -errno;
        top[n] = 0;
        if (top[0] != '/')
                return -EINVAL;

        /* Private first: nothing arrives from the host while we walk. */
        if (mount(NULL, top, NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return -errno;
        /* Every mount at or below the tree's path, one remount each; the
         * path reaches the topmost mount there, and one covered by another
         * is out of reach anyway. */
        while (getline(&line, &size, f) > 0) {
                int r = mountinfo_mount_point(line, mp, sizeof(mp));
                if (r < 0)
                        return r;
                if (!path_is_at_or_below(mp, top))
                        continue;
                if (mount(NULL, mp, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                        return -errno;
        }
        return ferror(f) ? -EIO : 0;
}

int stage1_mount_tree_read_only(int fd) {
        /* Recursive: a read-only remount by mount(2) changes only the one
         * mount it names, and a recursive bind brings the host's submounts
         * (binfmt_misc, cgroup2, securityfs, debugfs, efivarfs, ...) with
         * their own, writable flags. mount_setattr(2) (Linux 5.12) sets the
         * whole tree in one call; before it, each mount is remounted. */
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                .propagation = MS_PRIVATE,
        };

        if (mount_setattr(fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) >= 0)
                return 0;
        if (errno != ENOSYS)
                return -errno;
        return stage1_mount_tree_read_only_remount(fd);
}

/* Binds name below dir_fd onto itself with everything below it, then makes
 * that tree read-only. dir_fd is a /proc we mounted or bound ourselves,
 * whose entries the image cannot have replaced by symlinks; the second
 * lookup refuses one anyway. -ENOENT if the kernel has no such entry. */
static int bind_read_only_at(int dir_fd, const char *name) {
        _cleanup_close_ int fd = -EBADF;
        char p[AT_PATH_MAX];

        snprintf(p, sizeof(p), "/proc/self/fd/%i/%s", dir_fd, name);
        if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        fd = openat(dir_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return stage1_mount_tree_read_only(fd);
}

/* name below dir_fd (a /proc or /sys of ours, as above) covered with an
 * empty read-only tmpfs (dir) or /dev/null. A missing entry is fine:
 * kernels differ in what they have. */
static int mask_at(int dir_fd, const char *name, bool dir) {
        char p[AT_PATH_MAX];

        snprintf(p, sizeof(p), "/proc/self/fd/%i/%s", dir_fd, name);
        if (access(p, F_OK) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (dir ? mount("tmpfs", p, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0,mode=0555") < 0
                : mount("/dev/null", p, NULL, MS_BIND, NULL) < 0)
                return -errno;
        return 0;
}

int stage1_protect_proc(int proc_fd) {
        int r;

        FOREACH_STRV(f, proc_read_only) {
                r = bind_read_only_at(proc_fd, f);
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "Failed to make /proc/%s read-only: %m", f);
        }
        for (int dir = 0; dir < 2; dir++)
                FOREACH_STRV(f, dir ? proc_masked_dirs : proc_masked_files) {
                        r = mask_at(proc_fd, f, dir);
                        if (r < 0)
                                return log_error_errno(r, "Failed to mask /proc/%s: %m", f);
                }
        return 0;
}

int stage1_mask_sys_firmware(int sys_fd) {
        int r;

        r = mask_at(sys_fd, "firmware", true);
        if (r < 0)
                return log_error_errno(r, "Failed to mask /sys/firmware: %m");
        return 0;
}

/* Errors of fsopen() and of "lowerdir+" meaning "not offered here" (an old
 * kernel, a seccomp filter as in a container) rather than "failed". */
static int overlay_mount_fsconfig(char * const *lowers, const char *upper, const char *work, const char *target) {
        _cleanup_close_ int fs_fd = -EBADF, mnt_fd = -EBADF;

        fs_fd = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs_fd < 0)
                return errno == ENOSYS || errno == EPERM || errno == ENODEV ? -EOPNOTSUPP : -errno;
        FOREACH_STRV(d, lowers)
                if (fsconfig(fs_fd, FSCONFIG_SET_STRING, "lowerdir+", d, 0) < 0)
                        return errno == EINVAL ? -EOPNOTSUPP : -errno;
        if (fsconfig(fs_fd, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            fsconfig(fs_fd, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            fsconfig(fs_fd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        mnt_fd = fsmount(fs_fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NODEV);
        if (mnt_fd < 0)
                return -errno;
        if (move_mount(mnt_fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}

int stage1_mount_overlay(char * const *lowers, const char *upper, const char *work, const char *target) {
        _cleanup_free_ char *lower = NULL, *opts = NULL;
        long page = sysconf(_SC_PAGESIZE);
        int r;

        if (!lowers || !lowers[0] || !overlay_dir_is_valid(upper) || !overlay_dir_is_valid(work))
                return -EINVAL;
        FOREACH_STRV(d, lowers)
                if (!overlay_dir_is_valid(d))
                        return -EINVAL;

        r = overlay_mount_fsconfig(lowers, upper, work, target);
        if (r != -EOPNOTSUPP)
                return r;

        lower = strv_join(lowers, ":");
        if (!lower)
                return -ENOMEM;
        if (asprintf(&opts, "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work) < 0)
                return -ENOMEM;
        /* mount(2) copies at most one page of options. */
        if (page > 0 && strlen(opts) >= (size_t) page)
                return -E2BIG;
        if (mount("overlay", target, "overlay", MS_NODEV, opts) < 0)
                return -errno;
        return 0;
}

int stage1_app_mount_root(const Stage1AppCommand *a) {
        int r;

        if (a->upper) {
                r = stage1_mount_overlay(a->lowers, a->upper, a->work, a->rootfs);
                if (r < 0)
                        return log_error_errno(r, "Failed to mount the app's overlay on %s: %m", a->rootfs);
                return 0;
        }
        if (mount(a->rootfs, a->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return log_error_errno(errno, "Failed to bind %s onto itself: %m", a->rootfs);
        return 0;
}
