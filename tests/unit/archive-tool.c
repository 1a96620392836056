/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Test driver for image archives:
 *   archive-tool import STORE FILE [REF]   prints "id ..." and "ref ..." lines
 *   archive-tool export STORE REF FILE oci|docker-archive
 *   archive-tool import-aci STORE FILE [STORAGE_CONF]   unsigned, with those limits
 * On failure it prints "errno <name>" on stdout and the library's message on
 * stderr, and exits 1. Not installed. */
#include <fcntl.h>
#include <stdio.h>

#include "aci.h"
#include "image-archive.h"
#include "string-util.h"
#include "strv.h"

static int fail(int r, const PeapodError *e) {
        printf("errno %s\n", strerrorname_np(-r) ?: "?");
        fprintf(stderr, "archive-tool: %s (%s)\n", e->message[0] ? e->message : "-", strerror(-r));
        return 1;
}

int main(int argc, char *argv[]) {
        _cleanup_(store_freep) Store *s = NULL;
        _cleanup_close_ int fd = -EBADF;
        PeapodError e = {};
        int r;

        if (argc < 4) {
                fprintf(stderr, "usage: archive-tool import STORE FILE [REF] | export STORE REF FILE oci|docker-archive | "
                                "import-aci STORE FILE [STORAGE_CONF]\n");
                return 2;
        }
        r = store_open(argv[2], &s);
        if (r < 0)
                return fail(r, &e);
        if (streq(argv[1], "import")) {
                _cleanup_strv_free_ char **ids = NULL, **refs = NULL;

                fd = open(argv[3], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return fail(-errno, &e);
                r = image_import_archive(s, fd, argc > 4 ? argv[4] : NULL, &ids, &refs, &e);
                if (r < 0)
                        return fail(r, &e);
                FOREACH_STRV(i, ids)
                        printf("id %s\n", i);
                FOREACH_STRV(i, refs)
                        printf("ref %s\n", i);
                return 0;
        }
        if (streq(argv[1], "import-aci")) {
                _cleanup_free_ char *id = NULL, *ref = NULL;

                if (argc > 4) {
                        StorageLimits l;

                        r = storage_conf_load(argv[4], &l, &e);
                        if (r < 0)
                                return fail(r, &e);
                        store_set_limits(s, &l);
                }
                fd = open(argv[3], O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return fail(-errno, &e);
                r = aci_import(s, fd, NULL, NULL, 0, NULL, NULL, &id, &ref, &e);
                if (r < 0)
                        return fail(r, &e);
                printf("id %s\nref %s\n", id, ref);
                return 0;
        }
        if (streq(argv[1], "export") && argc == 6) {
                ImageArchiveFormat f = image_archive_format_from_string(argv[5]);

                if (f < 0)
                        return 2;
                fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return fail(-errno, &e);
                r = image_export_archive(s, argv[3], fd, f, &e);
                if (r < 0)
                        return fail(r, &e);
                return 0;
        }
        return 2;
}
