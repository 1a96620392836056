/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cri.h"
#include "fuzz.h"

/* What peapod-cri reads out of a request itself before peapodd sees it:
 * a PullImage's AuthConfig (base64 of user:password among it) and a
 * container id. Any client that reaches the socket sends these bytes. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Runtime__V1__PullImageRequest *pull;
        Runtime__V1__ExecSyncRequest *exec;

        pull = runtime__v1__pull_image_request__unpack(NULL, size, data);
        if (pull) {
                char *u = NULL, *p = NULL, *t = NULL, *i = NULL;
                const char *problem = NULL;
                int r = cri_auth_credentials(pull->auth, &u, &p, &t, &i, &problem);

                /* Both or neither, or a token alone; a refusal says why. */
                if ((r >= 0 && !u != !p) || (t && (u || i)) || (i && u) || (r == -EINVAL && !problem) ||
                    (r < 0 && (u || p || t || i)))
                        abort();
                free(u);
                free(p);
                free(t);
                free(i);
                runtime__v1__pull_image_request__free_unpacked(pull, NULL);
        }
        exec = runtime__v1__exec_sync_request__unpack(NULL, size, data);
        if (exec) {
                char pod[33], app[33];

                if (cri_container_id_parse(exec->container_id, pod, app) >= 0 &&
                    (strlen(pod) != 32 || strlen(app) != 32 || strncmp(exec->container_id, pod, 32) != 0))
                        abort();
                runtime__v1__exec_sync_request__free_unpacked(exec, NULL);
        }
        return 0;
}
