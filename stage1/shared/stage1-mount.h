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
