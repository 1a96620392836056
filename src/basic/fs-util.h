/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "app-spec.h"
#include "macro.h"

static inline void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* How far a write_file_atomic_full() must survive. Readers, and a process
 * restarted after a crash, always see the old or the new contents whole:
 * that is the rename. A power loss or kernel crash is what the flags are
 * about. */
typedef enum WriteFileFlags {
        /* fsync the data before the rename: after a power loss the file
         * holds the old or the new contents whole, never an empty or torn
         * file (without it, the rename may reach the disk before the data). */
        WRITE_FILE_SYNC_DATA = 1 << 0,
        /* fsync the directory after the rename: after a power loss the new
         * contents are there. */
        WRITE_FILE_SYNC_DIR = 1 << 1,
        WRITE_FILE_DURABLE = WRITE_FILE_SYNC_DATA | WRITE_FILE_SYNC_DIR,
} WriteFileFlags;

/* Write the whole buffer to a temp file in the same directory and rename
 * it over path, with the syncs that flags ask for. Without any, use it only
 * for files that are written anew before every use after a boot. */
int write_file_atomic_full(const char *path, const void *data, size_t size, mode_t mode, WriteFileFlags flags);
/* The same, durable: the new contents, whole, even across a power loss. */
static inline int write_file_atomic(const char *path, const void *data, size_t size, mode_t mode) {
        return write_file_atomic_full(path, data, size, mode, WRITE_FILE_DURABLE);
}

/* Read a whole (small) file; fails with -EFBIG beyond max_size. */
int read_file(const char *path, size_t max_size, char **ret, size_t *ret_size);

/* mkdir -p; existing directories are fine. */
int mkdir_p(const char *path, mode_t mode);

/* Remove a tree without crossing into other file systems (a mount left
 * behind below it is reported as -EBUSY instead of being descended into). */
int rm_rf(const char *path);

int path_is_mount_point(const char *path);

/* An absolute path without "." or ".." components, empty components or
 * control characters, shorter than PATH_MAX: where a volume may be mounted
 * inside an app, and what a volume's host source may be. */
bool mount_target_is_valid(const char *s);

/* Where a volume may be mounted inside an app: a valid mount target
 * without ':' (the stage1 helper's --bind separator), other than "/", and
 * not at or below /proc or /sys, which the helper mounts itself. peapodd
 * checks it when an app is created, the helper again when it starts: one
 * rule, so nothing the helper refuses is accepted at creation. 0, or
 * -EINVAL with *ret_reason (may be NULL) saying why, as a phrase that
 * follows "Invalid mount target 'X': ". A symlink of the image can still
 * lead a valid target into /proc or /sys; the helper checks where it
 * landed too. */
int app_mount_target_check(const char *s, const char **ret_reason);

/* Whether an app may have a mount of a host volume with propagation p
 * (app-spec.h). private: always. rslave: mounts the host makes below the
 * source later arrive in the app with the host's flags, so the nosuid and
 * nodev the helper puts on a volume hold for what is there at the app's
 * start only. Device nodes on it stay closed by the app unit's device
 * cgroup (DevicePolicy=closed); a setuid or file-capability binary on it
 * raises nothing under no_new_privs, which execve() then treats exactly
 * as nosuid. So only an app with no_new_privs gets one, or a privileged
 * app, which is the host's root already. rshared: what the app mounts
 * below its target appears on the host below the source, which is
 * mounting onto the host, the host's root's power: privileged apps only,
 * as kubelet allows Bidirectional for privileged containers only.
 * peapodd checks it when an app is created, peapod-cri before it asks,
 * the stage1 helper again before it binds: 0, or -EPERM (-EINVAL for an
 * unknown p) with *ret_reason (may be NULL) as a phrase that follows
 * "Volume X: ". */
int app_mount_propagation_check(VolumePropagation p, bool no_new_privs, bool privileged, const char **ret_reason);

/* A host device given to an app (the CRI's devices, `--device=`): HOST
 * the host's node, an absolute path without ':' (whether it is a device
 * is for the caller to check, with stat(): here only the text); CONTAINER
 * where the helper binds it, /dev/NAME[/NAME...] without '.', '..', ':'
 * or empty components, not /dev itself and not at or below what the
 * helper makes in /dev for every app (pts, shm, fd, the stdio links and
 * the pseudo devices);
 * PERMISSIONS the device cgroup's access, a non-empty subset of "rwm",
 * each letter once. peapodd checks it at creation, the helper at start.
 * 0, or -EINVAL with *ret_reason (may be NULL) saying why, as a phrase
 * that follows "Invalid device 'X': ". */
int app_device_check(const char *host, const char *container, const char *permissions, const char **ret_reason);

/* A path an app has masked or made read-only beyond stage1's own set (the
 * CRI's masked_paths and readonly_paths, --masked-path=,
 * --readonly-path=): absolute, other than "/", without '.', '..', empty
 * components or one longer than 255 bytes. Where it leads is the helper's
 * business (inside the app's root, whatever symlinks are on the way).
 * 0, or -EINVAL with *ret_reason (may be NULL). */
int app_protected_path_check(const char *s, const char **ret_reason);

/* An app's working directory, as peapodd and the helper accept it:
 * absolute and shorter than PATH_MAX. */
bool app_workdir_is_valid(const char *s);
