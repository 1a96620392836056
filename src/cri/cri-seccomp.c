/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A Localhost seccomp profile of kubelet (an OCI runtime-spec "seccomp"
 * object in a JSON file of the node) as peapod's Seccomp setting, when it
 * says what peapod's setting can say exactly: a default action that denies
 * and the syscalls it allows (mode=retain), or a default action that
 * allows and the syscalls it denies (mode=remove). A profile that needs
 * more (argument conditions, notify or trace actions) is refused, never
 * approximated: an approximation would allow more, or break the app. */
#include <errno.h>
#include <json-c/json.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cri-seccomp.h"
#include "fs-util.h"
#include "json-util.h"
#include "seccomp-spec.h"
#include "string-util.h"
#include "strv.h"

#define PROFILE_SIZE_MAX (1024 * 1024)
/* An OCI profile nests four levels (rules, their args); room to spare. */
#define PROFILE_DEPTH_MAX 16

typedef enum Verdict {
        VERDICT_ALLOW,
        VERDICT_DENY,
        VERDICT_UNSUPPORTED,
} Verdict;

static Verdict action_verdict(const char *a) {
        if (!a)
                return VERDICT_UNSUPPORTED;
        if (streq(a, "SCMP_ACT_ALLOW") || streq(a, "SCMP_ACT_LOG"))
                return VERDICT_ALLOW;
        /* peapod denies with EPERM: the call does not happen, whichever
         * way the profile wanted it not to happen. */
        if (streq(a, "SCMP_ACT_ERRNO") || streq(a, "SCMP_ACT_KILL") || streq(a, "SCMP_ACT_KILL_PROCESS") ||
            streq(a, "SCMP_ACT_KILL_THREAD") || streq(a, "SCMP_ACT_TRAP"))
                return VERDICT_DENY;
        return VERDICT_UNSUPPORTED;
}

/* Rule i of the profile: its syscalls into names when its action is not
 * the default's (refused when peapod cannot take it exactly). */
static int rule_add_names(json_object *rule, size_t i, Verdict def, char ***names, char *msg, size_t size) {
        json_object *v, *n, *args;
        Verdict verdict;
        int r;

        if (!json_object_is_type(rule, json_type_object) || !json_object_object_get_ex(rule, "names", &n) ||
            !json_object_is_type(n, json_type_array)) {
                snprintf(msg, size, "rule %zu of the seccomp profile has no names", i);
                return -EINVAL;
        }
        verdict = action_verdict(json_object_object_get_ex(rule, "action", &v) ? json_object_get_string(v) : NULL);
        if (verdict == VERDICT_UNSUPPORTED) {
                snprintf(msg, size, "rule %zu of the seccomp profile has an action peapod cannot take", i);
                return -EINVAL;
        }
        if (json_object_object_get_ex(rule, "args", &args) && json_object_is_type(args, json_type_array) &&
            json_object_array_length(args) > 0) {
                snprintf(msg, size, "rule %zu of the seccomp profile has argument conditions, which peapod cannot take", i);
                return -EINVAL;
        }
        /* The default applies to it anyway. */
        if (verdict == def)
                return 0;
        for (size_t k = 0; k < json_object_array_length(n); k++) {
                const char *name = json_object_get_string(json_object_array_get_idx(n, k));

                if (!name || strlen(name) > SECCOMP_SPEC_NAME_MAX ||
                    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(name) || !name[0]) {
                        snprintf(msg, size, "the seccomp profile names \"%.64s\", which is no syscall", strempty(name));
                        return -EINVAL;
                }
                /* Profiles list the syscalls of every architecture;
                 * one this machine does not have (libseccomp gives
                 * it a negative pseudo number) cannot be called. */
                if (seccomp_syscall_resolve_name(name) < 0 || strv_contains(*names, name))
                        continue;
                if (strv_length(*names) >= SECCOMP_SPEC_NAMES_MAX) {
                        snprintf(msg, size, "the seccomp profile names more than %d syscalls", SECCOMP_SPEC_NAMES_MAX);
                        return -EINVAL;
                }
                r = strv_extend(names, name);
                if (r < 0)
                        return r;
        }
        return 0;
}

int cri_seccomp_from_oci(const char *text, char **ret, char *msg, size_t size) {
        _cleanup_json_ json_object *o = NULL;
        json_object *v, *rules = NULL;
        _cleanup_strv_free_ char **names = NULL;
        _cleanup_free_ char *joined = NULL;
        JsonParseError perr = {};
        Verdict def;
        int r;

        /* The node's file: root's, but read as any JSON from outside is. */
        r = json_parse_untrusted(text, strlen(text), PROFILE_SIZE_MAX, PROFILE_DEPTH_MAX, &o, &perr);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char where[JSON_PARSE_ERROR_STRING_MAX];

                snprintf(msg, size, "the seccomp profile is not valid JSON: %s",
                         json_parse_error_to_string(&perr, where, sizeof(where)));
                return -EINVAL;
        }
        if (!json_object_is_type(o, json_type_object)) {
                snprintf(msg, size, "the seccomp profile is not a JSON object");
                return -EINVAL;
        }
        def = action_verdict(json_object_object_get_ex(o, "defaultAction", &v) ? json_object_get_string(v) : NULL);
        if (def == VERDICT_UNSUPPORTED) {
                snprintf(msg, size, "the seccomp profile's defaultAction is not one peapod can take (allow, errno, kill, trap)");
                return -EINVAL;
        }
        if (json_object_object_get_ex(o, "syscalls", &rules) && !json_object_is_type(rules, json_type_array)) {
                snprintf(msg, size, "the seccomp profile's syscalls is not a list");
                return -EINVAL;
        }
        for (size_t i = 0; rules && i < json_object_array_length(rules); i++) {
                r = rule_add_names(json_object_array_get_idx(rules, i), i, def, &names, msg, size);
                if (r < 0)
                        return r;
        }
        if (strv_length(names) == 0) {
                /* Allow all but nothing, or deny all but nothing. */
                if (def == VERDICT_ALLOW) {
                        *ret = strdup("unconfined");
                        return *ret ? 0 : -ENOMEM;
                }
                snprintf(msg, size, "the seccomp profile allows no syscall at all");
                return -EINVAL;
        }
        joined = strv_join(names, ",");
        if (!joined)
                return -ENOMEM;
        return asprintf(ret, "mode=%s,%s", def == VERDICT_DENY ? "retain" : "remove", joined) < 0 ? -ENOMEM : 0;
}

int cri_seccomp_from_file(const char *path, char **ret, char *msg, size_t size) {
        _cleanup_free_ char *text = NULL;
        int r;

        if (!path || path[0] != '/') {
                snprintf(msg, size, "seccomp profile \"%.200s\": a localhost profile is an absolute path", strempty(path));
                return -EINVAL;
        }
        r = read_file(path, PROFILE_SIZE_MAX, &text, NULL);
        if (r < 0) {
                snprintf(msg, size, "seccomp profile %.200s: %s", path, strerror(-r));
                return -EINVAL;
        }
        return cri_seccomp_from_oci(text, ret, msg, size);
}
