/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ImageService methods. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "cri.h"

/* statvfs of the image store's file system; while the store does not
 * exist yet, of the nearest directory above it (the file system it will
 * be on). kubelet calls this on every connect, so it must not fail. */
static int images_statvfs(const char *dir, struct statvfs *ret) {
        _cleanup_free_ char *p = strdup(dir);

        if (!p)
                return -ENOMEM;
        for (;;) {
                char *slash;

                if (statvfs(p, ret) >= 0)
                        return 0;
                if (errno != ENOENT && errno != ENOTDIR)
                        return -errno;
                slash = strrchr(p, '/');
                if (!slash || slash == p)
                        return RET_NERRNO(statvfs("/", ret));
                *slash = 0;
        }
}

int cri_image_fs_info(Cri *cri, GrpcCall *call, CriApi api, const ProtobufCMessage *request) {
        Runtime__V1__ImageFsInfoResponse resp = RUNTIME__V1__IMAGE_FS_INFO_RESPONSE__INIT;
        Runtime__V1__FilesystemUsage usage = RUNTIME__V1__FILESYSTEM_USAGE__INIT;
        Runtime__V1__FilesystemUsage *usages[] = { &usage };
        Runtime__V1__FilesystemIdentifier fs_id = RUNTIME__V1__FILESYSTEM_IDENTIFIER__INIT;
        Runtime__V1__UInt64Value used_bytes = RUNTIME__V1__UINT64_VALUE__INIT,
                                 inodes_used = RUNTIME__V1__UINT64_VALUE__INIT;
        struct statvfs sv;
        struct timespec ts;
        int r;

        r = images_statvfs(cri->images_dir, &sv);
        if (r < 0)
                return grpc_call_fail(call, GRPC_STATUS_INTERNAL, "cannot read the usage of %s: %s", cri->images_dir,
                                      strerror(-r));
        (void) clock_gettime(CLOCK_REALTIME, &ts);
        usage.timestamp = (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
        fs_id.mountpoint = (char *) cri->images_dir;
        usage.fs_id = &fs_id;
        used_bytes.value = (uint64_t) (sv.f_blocks - sv.f_bfree) * sv.f_frsize;
        usage.used_bytes = &used_bytes;
        inodes_used.value = (uint64_t) (sv.f_files - sv.f_ffree);
        usage.inodes_used = &inodes_used;
        resp.n_image_filesystems = ELEMENTSOF(usages);
        resp.image_filesystems = usages;
        return cri_reply(call, &resp.base);
}
