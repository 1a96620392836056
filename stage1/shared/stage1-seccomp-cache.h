/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "stage1-security.h"

/* Root's alone (0700), on /run: gone at reboot. */
#define STAGE1_SECCOMP_CACHE_DIR PEAPOD_RUNTIME_DIR "/stage1-seccomp"

/* Everything the program of spec's filter for caps is made from: the
 * sources of the code that builds it, libseccomp's version, the
 * architectures, caps and spec. */
int stage1_seccomp_cache_key(const SeccompSpec *spec, uint64_t caps, char **ret);

/* The program of spec's filter for caps (stage1_seccomp_program()): read
 * from dir when a program of the same key is there, else built and left
 * there for the next helper. A cache that cannot be read or written costs
 * only the build. Logs why it failed. */
int stage1_seccomp_program_cached(const char *dir, const SeccompSpec *spec, uint64_t caps, Stage1SeccompProgram *ret);
