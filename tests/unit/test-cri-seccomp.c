/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Localhost seccomp profiles (OCI JSON) as peapod's Seccomp setting:
 * exactly what it can say, refused otherwise. */
#include <stdlib.h>
#include <string.h>

#include "cri-seccomp.h"
#include "tests.h"

static void expect(const char *json, const char *want) {
        char msg[256] = "", *got = NULL;

        ASSERT_OK(cri_seccomp_from_oci(json, &got, msg, sizeof(msg)));
        ASSERT_STREQ(got, want);
        free(got);
}

static void expect_refused(const char *json, const char *why) {
        char msg[256] = "", *got = NULL;

        ASSERT_ERR(cri_seccomp_from_oci(json, &got, msg, sizeof(msg)), EINVAL);
        ASSERT_TRUE(strstr(msg, why));
        ASSERT_TRUE(!got);
}

int main(void) {
        /* A denylist; rules with the default's action and syscalls of
         * other architectures (arm_fadvise64_64 on x86-64) add nothing. */
#if defined(__x86_64__)
        expect("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":["
               "{\"names\":[\"mkdir\",\"mkdirat\",\"arm_fadvise64_64\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
               "{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
               "{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_KILL\"}]}",
               "mode=remove,mkdir,mkdirat");
#endif
        /* An allowlist. */
        expect("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"read\",\"write\",\"exit_group\"],"
               "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[]}]}",
               "mode=retain,read,write,exit_group");
        expect("{\"defaultAction\":\"SCMP_ACT_ALLOW\"}", "unconfined");

        expect_refused("[]", "not a JSON object");
        expect_refused("{\"defaultAction\":", "not valid JSON");
        expect_refused("{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}", "defaultAction");
        expect_refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\"}", "allows no syscall");
        expect_refused("{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"syscalls\":[{\"names\":[\"personality\"],"
                       "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":0,\"op\":\"SCMP_CMP_EQ\"}]}]}",
                       "argument conditions");
        expect_refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_TRACE\"}]}",
                       "action peapod cannot take");
        expect_refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"Read;\"],\"action\":\"SCMP_ACT_ERRNO\"}]}",
                       "no syscall");
        expect_refused("{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"action\":\"SCMP_ACT_ERRNO\"}]}", "no names");
        return 0;
}
