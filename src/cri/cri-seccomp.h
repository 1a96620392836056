/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/* An OCI seccomp profile (JSON text, or a file of the node) as peapod's
 * Seccomp app setting (seccomp-spec.h) in *ret; -EINVAL with msg saying
 * why when peapod cannot take it exactly. */
int cri_seccomp_from_oci(const char *text, char **ret, char *msg, size_t size);
int cri_seccomp_from_file(const char *path, char **ret, char *msg, size_t size);
