/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app-security.h"
#include "capability-util.h"
#include "fuzz.h"
#include "parse-util.h"
#include "volume.h"

/* What a CreatePod caller sends about an app's privileges, limits and
 * volumes. The first byte picks the parser, the rest is its text. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        PeapodError err = {};
        uint64_t v;
        bool b;

        if (size < 1 || size > 64 * 1024)
                return 0;
        s = malloc(size);
        if (!s)
                return 0;
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;

        switch (data[0] % 6) {
        case 0: {
                Volume vol = {};

                if (volume_from_string(s, &vol, &err) >= 0) {
                        if (volume_validate(&vol, NULL) < 0)
                                abort();
                        volume_done(&vol);
                }
                break;
        }
        case 1: {
                AppMount m = {};

                if (app_mount_from_string(s, &m, &err) >= 0) {
                        if (app_mount_validate(&m, NULL) < 0)
                                abort();
                        app_mount_done(&m);
                }
                break;
        }
        case 2:
                (void) app_seccomp_validate(s, &err);
                break;
        case 3:
                if (capability_set_from_string(s, &v) >= 0) {
                        _cleanup_free_ char *again = NULL;
                        uint64_t w;

                        /* What parses prints back to the same set. */
                        if (capability_set_to_string(v, &again) < 0 || capability_set_from_string(again, &w) < 0 || w != v)
                                abort();
                        (void) app_caps_resolve(NULL, NULL, &v, &b, &err);
                }
                break;
        case 4:
                (void) parse_size(s, &v);
                break;
        default:
                if (parse_cpu_quota(s, &v) >= 0 && app_limits_validate(v, 0, 0, 0, NULL) < 0)
                        abort();
                break;
        }
        return 0;
}
