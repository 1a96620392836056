/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <archive.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "aci.h"
#include "fs-util.h"
#include "io-util.h"
#include "fuzz.h"

/* An ACI as `peapod image import` gets it: a tar, maybe compressed, whose
 * "manifest" is found and parsed (aci_detect) and whose rootfs/ is copied
 * into a layer (aci_rootfs_copy, written to /dev/null here: the layer
 * itself is fuzz-unpack's), under the default limits. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(aci_manifest_freep) AciManifest *m = NULL;
        _cleanup_close_ int fd = -EBADF, null_fd = -EBADF;
        PeapodError e = {};

        if (size > 1024 * 1024)
                return 0;
        fd = memfd_create("fuzz-aci", MFD_CLOEXEC);
        null_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd < 0 || null_fd < 0 || loop_write(fd, data, size) < 0)
                return 0;
        if (aci_detect(fd, &m, &e) > 0) {
                _cleanup_free_ char *ref = NULL;

                if (!m->name)
                        abort();
                (void) aci_manifest_reference(m, &ref, &e);
        }
        peapod_error_clear(&e);
        if (lseek(fd, 0, SEEK_SET) == 0) {
                struct archive *out = archive_write_new();
                StorageLimits l = STORAGE_LIMITS_DEFAULT;

                if (!out)
                        return 0;
                if (archive_write_set_format_pax_restricted(out) == ARCHIVE_OK &&
                    archive_write_open_fd(out, null_fd) == ARCHIVE_OK)
                        (void) aci_rootfs_copy(fd, out, &l, &e);
                archive_write_free(out);
        }
        peapod_error_clear(&e);
        return 0;
}
