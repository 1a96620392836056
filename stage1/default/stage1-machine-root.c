/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs-util.h"
#include "log.h"
#include "stage1-machine-root.h"

/* Only stage1-init's tmpfs and our clones are ever on that stack; a
 * restart loop that lost every withdrawal would stack one per start. */
#define MACHINE_ROOT_STACK_MAX 64

void machine_root_done(MachineRoot *m) {
        m->mntns_fd = safe_close(m->mntns_fd);
        m->root_fd = safe_close(m->root_fd);
}

int machine_root_open(int proc_fd, MachineRoot *ret) {
        _cleanup_(machine_root_done) MachineRoot m = MACHINE_ROOT_NULL;

        m.mntns_fd = openat(proc_fd, "ns/mnt", O_RDONLY | O_CLOEXEC);
        if (m.mntns_fd < 0)
                return -errno;
        m.root_fd = openat(proc_fd, "root", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m.root_fd < 0)
                return -errno;
        *ret = m;
        m = MACHINE_ROOT_NULL;
        return 0;
}

static int mount_id(int dir_fd, const char *path, int flags, uint64_t *ret) {
        struct statx sx;

        if (statx(dir_fd, path, flags | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &sx) < 0)
                return -errno;
        if (!(sx.stx_mask & STATX_MNT_ID))
                return -EOPNOTSUPP;
        *ret = sx.stx_mnt_id;
        return 0;
}

static int open_target(int root_fd, const char *target) {
        /* Inside the clone only: a link there (the app's, which has not
         * run yet in this start, but ran before) resolves in it. */
        struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        int fd = (int) syscall(SYS_openat2, root_fd, target, &how, sizeof(how));

        return fd < 0 ? -errno : fd;
}

static void attach_volume(int root_tree, const MachineVolume *v) {
        _cleanup_close_ int target = -EBADF;

        /* A volume below the app's /dev (a tmpfs of the app's own) has no
         * mount point in the overlay: it stays out of copy's view. */
        target = open_target(root_tree, v->target);
        if (target < 0) {
                log_warning_errno(target, "Volume %s stays out of machinectl copy: %m", v->target);
                return;
        }
        if (move_mount(v->tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                log_warning_errno(errno, "Volume %s stays out of machinectl copy: %m", v->target);
}

int machine_root_swap(const MachineRoot *m, int tree, const MachineVolume *volumes, size_t n_volumes) {
        uint64_t leader, top;
        int r;

        r = mount_id(m->root_fd, "", AT_EMPTY_PATH, &leader);
        if (r < 0)
                return log_warning_errno(r, "Failed to identify the pod's root mount: %m");
        for (unsigned i = 0;; i++) {
                /* Joining puts our root where machined's copy will have
                 * its root: on the topmost mount of the namespace's root.
                 * Again after each withdrawal, which leaves our root on
                 * the mount we just detached. */
                if (setns(m->mntns_fd, CLONE_NEWNS) < 0)
                        return log_warning_errno(errno, "Failed to join the pod's mount namespace: %m");
                r = mount_id(AT_FDCWD, "/", 0, &top);
                if (r < 0)
                        return log_warning_errno(r, "Failed to identify the top of the pod's root: %m");
                if (top == leader)
                        break;
                if (i >= MACHINE_ROOT_STACK_MAX)
                        return log_warning_errno(ELOOP, "More than %d mounts on the pod's root.", MACHINE_ROOT_STACK_MAX);
                /* Never PID 1's own root (the loop ends there): only what
                 * is stacked above it, which nothing but this function
                 * puts there. */
                if (umount2("/", MNT_DETACH) < 0)
                        return log_warning_errno(errno, "Failed to withdraw the machine's previous root: %m");
        }
        /* Onto PID 1's root itself, by fd: move_mount() stacks on the top
         * of what is mounted there, which is PID 1's root now. */
        if (tree < 0)
                return 0;
        if (move_mount(tree, "", m->root_fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return log_warning_errno(errno, "Failed to mount the app's root for the machine: %m");
        /* tree is the attached clone now; in the app's order, so that a
         * volume inside another one finds its mount point. */
        for (size_t i = 0; i < n_volumes; i++)
                attach_volume(tree, &volumes[i]);
        return 0;
}

int machine_root_publish(const MachineRoot *m, int tree, const MachineVolume *volumes, size_t n_volumes) {
        int status;
        pid_t pid;

        pid = fork();
        if (pid < 0)
                return log_warning_errno(errno, "Failed to fork: %m");
        if (pid == 0)
                _exit(machine_root_swap(m, tree, volumes, n_volumes) < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return log_warning_errno(errno, "Failed to wait for pid %d: %m", (int) pid);
        /* The child said why. */
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EPROTO;
}

int machine_root_clone(const char *rootfs, bool read_only) {
        /* Private: nothing mounted or unmounted on either side (the app's
         * namespace, the host's) propagates to the other through it. No
         * exec, no suid, no devices: nothing runs there, machined only
         * copies. */
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | (read_only ? MOUNT_ATTR_RDONLY : 0),
                .propagation = MS_PRIVATE,
        };
        _cleanup_close_ int tree = -EBADF;

        /* Not AT_RECURSIVE: the root's own mount, none of its submounts. */
        tree = open_tree(AT_FDCWD, rootfs, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (tree < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
                return -errno;
        return TAKE_FD(tree);
}

int machine_volume_clone(int root_fd, const char *target) {
        struct mount_attr attr = {
                .attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                .propagation = MS_PRIVATE,
        };
        _cleanup_close_ int fd = -EBADF, tree = -EBADF;

        /* The last component is followed onto what is mounted there: the
         * volume itself. */
        fd = open_target(root_fd, target);
        if (fd < 0)
                return fd;
        tree = open_tree(fd, "", AT_EMPTY_PATH | OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
        if (tree < 0)
                return -errno;
        if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
                return -errno;
        return TAKE_FD(tree);
}
