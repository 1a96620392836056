/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* --machine-root: what `machinectl copy-to` and `copy-from` see of a pod:
 * the first app's root and volumes.
 *
 * machined (v252, src/machine/machine-dbus.c) copies in a child that
 * joins only the leader's mount namespace (setns(CLONE_NEWNS) on
 * /proc/LEADER/ns/mnt) and does not chroot: its root is then whatever the
 * kernel makes the root of a joined mount namespace, the topmost mount
 * stacked on that namespace's root. Everything else machined does in a
 * pod (the os-release, the pty of shell and login, the machine's bus)
 * chroots to /proc/LEADER/root, PID 1's own root, the infra tmpfs.
 *
 * So a clone of the first app's root, mounted on top of PID 1's root in
 * PID 1's mount namespace, is what copy sees, while PID 1's own root (a
 * path walk starts at the process's root and does not descend into a
 * mount stacked on it; only ".." onto the root does, hence stage1-init's
 * absolute /var/run link) and everything machined reaches through it stay
 * as they are. See stage1/README.md, "machinectl copy-to and copy-from". */

typedef struct MachineRoot {
        int mntns_fd;   /* the leader's mount namespace */
        int root_fd;    /* the leader's root (O_PATH), the mount we stack on */
} MachineRoot;

#define MACHINE_ROOT_NULL ((MachineRoot) { .mntns_fd = -EBADF, .root_fd = -EBADF })

/* A volume of the app, for copy's view: a detached clone of it as the
 * app has it, and where it goes inside the app's root. */
typedef struct MachineVolume {
        int tree;
        const char *target;
} MachineVolume;

void machine_root_done(MachineRoot *m);

/* Opens ns/mnt and root below proc_fd, the leader's /proc directory.
 * -errno, without logging. */
int machine_root_open(int proc_fd, MachineRoot *ret);

/* Withdraws whatever an earlier run put on the leader's root (a helper
 * that was SIGKILLed had no chance to), then, with tree >= 0, puts tree
 * there, and each volume on its target inside it (one that cannot be
 * placed is left out, with a warning). In a forked process: joining the
 * leader's mount namespace is for good. Logs why it fails. */
int machine_root_publish(const MachineRoot *m, int tree, const MachineVolume *volumes, size_t n_volumes);

/* The same in this process, which leaves its own mount namespace for the
 * leader's: only for a helper that is about to exit. */
int machine_root_swap(const MachineRoot *m, int tree, const MachineVolume *volumes, size_t n_volumes);

/* A detached clone of the mount at rootfs alone (no submount: the app's
 * /proc, /dev and /sys stay out, and no magic link is ever in copy's
 * view; volumes are cloned one by one), private, nosuid, nodev, noexec,
 * and read-only if asked. -errno, without logging. */
int machine_root_clone(const char *rootfs, bool read_only);

/* A detached clone of the volume mounted at target inside the app's root
 * (root_fd; looked up with RESOLVE_IN_ROOT), with what is mounted below
 * it, each mount private, nosuid, nodev and noexec, keeping its
 * read-only flag. -errno, without logging. */
int machine_volume_clone(int root_fd, const char *target);
