/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "macro.h"

/* The trust policy, /etc/peapod/policy.json (else the shipped
 * /usr/share/peapod/policy.json):
 *
 *   {"default": {"type": "signedBy"},
 *    "scopes": {"localhost/busybox:latest": {"type": "insecureAcceptAnything"},
 *               "registry.example.com/team": {"type": "signedBy", "keyPath": "/etc/peapod/team.gpg"},
 *               "evil.example.com": {"type": "reject"}}}
 *
 * A scope is "registry[:port][/path...]" (matches that repository and every
 * one below it, on path-component boundaries) or a full "registry/repo:tag"
 * (matches exactly that name). The longest matching scope wins; "default"
 * covers the rest. A missing "default" means reject. */

typedef enum PolicyType {
        POLICY_REJECT,
        POLICY_INSECURE_ACCEPT_ANYTHING,
        POLICY_SIGNED_BY,
        _POLICY_TYPE_MAX,
        _POLICY_TYPE_INVALID = -EINVAL,
} PolicyType;

const char *policy_type_to_string(PolicyType t);
PolicyType policy_type_from_string(const char *s);

typedef struct PolicyEntry {
        char *scope;    /* NULL for the default */
        PolicyType type;
        char *key_path; /* signedBy: a key file trusted besides the trust store's keys, or NULL */
} PolicyEntry;

typedef struct Policy {
        PolicyEntry default_entry;
        PolicyEntry *entries;
        size_t n_entries;
} Policy;

#define POLICY_SIZE_MAX (1024 * 1024)
#define POLICY_DEPTH_MAX 16
#define POLICY_ENTRIES_MAX 4096
#define POLICY_PATH PEAPOD_CONF_DIR "/policy.json"
#define POLICY_SHIPPED_PATH PEAPOD_DATA_DIR "/policy.json"

Policy *policy_free(Policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(Policy *, policy_free);

int policy_parse(const char *text, size_t size, Policy **ret, PeapodError *e);
/* path NULL: POLICY_PATH, or POLICY_SHIPPED_PATH when that is missing.
 * No policy at all is -ENOENT with a message: without one nothing is
 * trusted, and saying so beats refusing every image without a reason. */
int policy_load(const char *path, Policy **ret, PeapodError *e);

/* The entry for a fully qualified reference "registry/repository[:tag][@digest]". */
const PolicyEntry *policy_lookup(const Policy *p, const char *reference);

/* Whether "registry/repository" (no tag) is at or below prefix, on a path
 * component boundary: "a.io/x" covers "a.io/x" and "a.io/x/y", not "a.io/xy". */
bool scope_covers(const char *prefix, const char *name);
