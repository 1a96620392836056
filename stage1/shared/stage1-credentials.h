/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Users and groups of an app, looked up in the app's own /etc/passwd and
 * /etc/group with a parser of ours (stage1-util.c). No privileges needed:
 * test-stage1 checks it as an ordinary user. */

#include <stdbool.h>
#include <sys/types.h>

#include "macro.h"

/* --user=: USER or USER:GROUP, user_spec_is_valid() of valid-util.h (the
 * rule peapodd checks too). */
#include "valid-util.h"

/* The app's /etc/passwd and /etc/group are read whole, but no more than
 * this: they come from an untrusted image. */
#define STAGE1_ID_FILE_MAX (1024 * 1024)
/* Supplementary groups we set at most; a user in more is refused. */
#define STAGE1_GROUPS_MAX 64

typedef struct Credentials {
        uid_t uid;
        gid_t gid;
        gid_t groups[STAGE1_GROUPS_MAX];
        size_t n_groups;
        char *home;  /* the passwd entry's home; NULL without an entry */
} Credentials;

void credentials_done(Credentials *c);

/* Resolves spec against the contents of the app's passwd and group files
 * (NULL when missing) with a parser of our own, never NSS. A numeric USER
 * without a passwd line gets gid 0; a name gets its line's gid unless
 * GROUP is given; supplementary groups are those whose member list names
 * the user. -ESRCH: a name that is not in the file (ret_what says which:
 * "user" or "group"); -E2BIG: more than STAGE1_GROUPS_MAX groups;
 * -EINVAL: bad spec. */
int credentials_resolve(const char *spec, const char *passwd, const char *group, Credentials *ret,
                        const char **ret_what);

/* Adds the supplementary groups in groups (decimal ids, or names looked up
 * in the contents of the app's group file, NULL when missing) to c,
 * skipping duplicates. -ESRCH: an unknown name; -EINVAL: a bad entry;
 * -E2BIG: more than STAGE1_GROUPS_MAX in all. *ret_bad names the entry. */
int credentials_add_groups(Credentials *c, char * const *groups, const char *group, const char **ret_bad);

/* Reads a whole small regular file (anything else is refused: a FIFO would
 * block us, a device could be endless). NUL-terminated. -ENOENT as is;
 * -EFBIG above max bytes. */
int read_id_file(const char *path, size_t max, char **ret);

