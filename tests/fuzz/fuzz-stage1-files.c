/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "fuzz.h"
#include "stage1-credentials.h"
#include "stage1-identity.h"
#include "stage1-util.h"
#include "strv.h"

/* What the stage1 helpers parse as root from files a pod controls: the
 * image's /etc/passwd and /etc/group (peapod-stage1-app, before it drops
 * privileges), and /proc/PID/status and /proc/PID/cgroup of an app's
 * process (peapod-stage1-exec). Input: USER-SPEC NUL passwd NUL group NUL
 * supplementary groups (",") NUL, the rest as the status and cgroup file.
 * No result may carry (uid_t) -1, which set*id() reads as "unchanged". */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *s = NULL;
        _cleanup_strv_free_ char **extra = NULL;
        char *p, *end, *spec, *passwd, *group, *groups, *rest;

        if (size > 256 * 1024)
                return 0;
        s = fuzz_string(data, size);
        if (!s)
                return 0;
        p = s;
        end = s + size;
        spec = fuzz_next_part(&p, end) ?: (char *) "";
        passwd = fuzz_next_part(&p, end);
        group = fuzz_next_part(&p, end);
        groups = fuzz_next_part(&p, end);
        rest = fuzz_next_part(&p, end) ?: (char *) "";

        {
                _cleanup_(credentials_done) Credentials c = {};
                const char *what = NULL, *bad = NULL;

                if (credentials_resolve(spec, passwd, group, &c, &what) >= 0) {
                        if (c.uid == (uid_t) -1 || c.gid == (gid_t) -1 || c.n_groups > STAGE1_GROUPS_MAX)
                                abort();
                        for (char *g; groups && (g = strsep(&groups, ","));)
                                if (strv_extend(&extra, g) < 0)
                                        return 0;
                        if (credentials_add_groups(&c, extra, group, &bad) >= 0 && c.n_groups > STAGE1_GROUPS_MAX)
                                abort();
                        for (size_t i = 0; i < c.n_groups; i++)
                                if (c.groups[i] == (gid_t) -1)
                                        abort();
                }
        }
        {
                Identity id;

                if (identity_parse_proc_status(rest, &id) >= 0) {
                        if (id.n_groups > IDENTITY_GROUPS_MAX || id.seccomp < 0 || id.seccomp > 2)
                                abort();
                        for (int i = 0; i < 3; i++)
                                if (id.uid[i] == (uid_t) -1 || id.gid[i] == (gid_t) -1)
                                        abort();
                }
        }
        (void) cgroup_contents_in_unit(rest, "peapod-app-0123456789abcdef0123456789abcdef.service");
        {
                char *unit = NULL;

                if (cgroup_contents_unit(rest, &unit) >= 0 && (!unit || !unit_name_is_valid(unit)))
                        abort();
                free(unit);
        }
        {
                BindSpec b = {};
                const char *reason = NULL;

                if (bind_spec_parse(spec, &b, &reason) >= 0) {
                        if (!b.source || !b.target || b.target[0] != '/')
                                abort();
                        bind_spec_done(&b);
                }
        }
        return 0;
}
