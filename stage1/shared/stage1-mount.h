/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What every flavour masks or makes read-only in an app's /proc and /sys:
 * the parts that act on, or tell about, the host's kernel rather than the
 * pod. One list and one function for both flavours, so that a flavour
 * cannot fall behind the other. See stage1/README.md. */

/* Below proc_fd, an O_PATH fd of the app's /proc (a procfs we mounted, or
 * the host's /proc we bound): binds /dev/null over
 * kcore, keys, timer_list, timer_stats, sched_debug and latency_stats, an
 * empty read-only tmpfs over acpi and scsi, and makes bus, fs, irq, sys and
 * sysrq-trigger read-only with everything mounted below them (the host's
 * binfmt_misc in sys/fs). Entries the kernel lacks are skipped. Logs why
 * it fails. */
int stage1_protect_proc(int proc_fd);

/* Below sys_fd, an O_PATH fd of the app's /sys: an empty read-only tmpfs
 * over firmware (ACPI tables, DMI, EFI variables are the host's). Logs why
 * it fails. */
int stage1_mask_sys_firmware(int sys_fd);

/* Makes the mount whose root fd is (an O_PATH fd of a mount point), and
 * every mount below it, read-only, nosuid, nodev and noexec, and private:
 * a mount the host makes below it later (an automount, say) does not
 * propagate into it, since it would come with its own, writable flags.
 * With mount_setattr(2), or, on a kernel without it, by
 * stage1_mount_tree_read_only_remount(). -errno, without logging. */
int stage1_mount_tree_read_only(int fd);

/* The same for kernels before 5.12: makes the tree private, then remounts
 * each mount that /proc/self/mountinfo lists at or below fd's path. Only
 * before a chroot or pivot (mountinfo's paths are relative to the root).
 * Exposed for its test. */
int stage1_mount_tree_read_only_remount(int fd);

/* Mounts an overlay of lowers (the top layer first), upper and work on
 * target, nodev, in the caller's mount namespace: with the new mount API
 * (one "lowerdir+" per layer, Linux 6.8, no limit on their number or
 * length), else with mount(2) (one page of options). Every path must pass
 * overlay_dir_is_valid(). -errno, without logging. */
int stage1_mount_overlay(char * const *lowers, const char *upper, const char *work, const char *target);

typedef struct Stage1AppCommand Stage1AppCommand;

/* Makes the app's root a mount point in the caller's mount namespace (the
 * helper's own, a slave of the host's: nothing mounted here reaches the
 * host's table): the overlay of --lower=, --upper= and --work= on
 * --rootfs (contract 3), or, without them, --rootfs bound onto itself
 * recursively (a version 2 stage0 mounted it already). Logs why it fails. */
int stage1_app_mount_root(const Stage1AppCommand *a);
