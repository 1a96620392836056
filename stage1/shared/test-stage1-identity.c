/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The /proc/PID/status parser of peapod-stage1-exec: what it copies decides
 * what an exec'd command may do, so every field is required and checked. */

#include <stdio.h>
#include <string.h>

#include "fs-util.h"
#include "macro.h"
#include "stage1-identity.h"
#include "tests.h"

static const char good[] =
        "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\n"
        "Uid:\t1000\t1001\t1002\t1003\nGid:\t100\t101\t102\t103\n"
        "FDSize:\t64\nGroups:\t10 20 30 \nNSpid:\t7\t1\n"
        "CapInh:\t0000000000000000\nCapPrm:\t00000000a80425fb\nCapEff:\t00000000a80425fb\n"
        "CapBnd:\t000001ffffffffff\nCapAmb:\t0000000000000400\n"
        "NoNewPrivs:\t1\nSeccomp:\t0\nSeccomp_filters:\t0\n";

static char *replace(const char *s, const char *from, const char *to) {
        static char buf[4096];
        const char *p = strstr(s, from);

        snprintf(buf, sizeof(buf), "%.*s%s%s", (int) (p - s), s, to, p + strlen(from));
        return buf;
}

int main(void) {
        Identity id = {};

        ASSERT_TRUE(identity_parse_proc_status(good, &id) == 0);
        ASSERT_TRUE(id.uid[0] == 1000 && id.uid[1] == 1001 && id.uid[2] == 1002);
        ASSERT_TRUE(id.gid[0] == 100 && id.gid[1] == 101 && id.gid[2] == 102);
        ASSERT_TRUE(id.n_groups == 3 && id.groups[0] == 10 && id.groups[2] == 30);
        ASSERT_TRUE(id.cap_eff == 0xa80425fbULL && id.cap_prm == 0xa80425fbULL && id.cap_inh == 0);
        ASSERT_TRUE(id.cap_bnd == 0x1ffffffffffULL && id.cap_amb == 0x400);
        ASSERT_TRUE(id.no_new_privs && id.seccomp == 0 && id.seccomp_filters == 0);
        /* We cover a process with our own filters, not one with more. */
        {
                _cleanup_free_ char *self = NULL;
                Identity me = {};
                ASSERT_TRUE(read_file("/proc/self/status", 65536, &self, NULL) == 0 && identity_parse_proc_status(self, &me) == 0);
                ASSERT_TRUE(identity_seccomp_covers(&me) == 1);
                me.seccomp = 2;
                me.seccomp_filters++;
                ASSERT_TRUE(identity_seccomp_covers(&me) == 0);
        }

        /* An empty Groups line: no supplementary groups. */
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "Groups:\t10 20 30 \n", "Groups:\t\n"), &id) == 0 && id.n_groups == 0);
        /* Missing or malformed fields are refused, never defaulted. */
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "CapBnd:", "CapBnX:"), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "CapEff:\t00000000a80425fb", "CapEff:\tzz"), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "Uid:\t1000\t1001\t1002\t1003", "Uid:\t1000"), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "Uid:\t1000", "Uid:\t4294967295"), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "NoNewPrivs:\t1", "NoNewPrivs:\t7"), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "Seccomp:\t0\n", ""), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "Seccomp_filters:\t0\n", ""), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status(replace(good, "Groups:\t10 20 30", "Groups:\t10 x"), &id) == -EBADMSG);
        ASSERT_TRUE(identity_parse_proc_status("", &id) == -EBADMSG);
        {
                char groups[1024] = "Groups:\t";
                for (int i = 0; i < 65; i++)
                        snprintf(groups + strlen(groups), sizeof(groups) - strlen(groups), "%d ", i);
                ASSERT_TRUE(identity_parse_proc_status(replace(good, "Groups:\t10 20 30 ", groups), &id) == -E2BIG);
        }
        /* Our own status parses: the kernel's format is what we think. */
        {
                _cleanup_free_ char *self = NULL;
                ASSERT_TRUE(read_file("/proc/self/status", 65536, &self, NULL) == 0 &&
                      identity_parse_proc_status(self, &id) == 0 && id.uid[0] == getuid());
        }
        return 0;
}
