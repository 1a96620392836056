#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# seccomp-build-id.sh FILE...: a C header naming the sources a seccomp
# program is made from (stage1-seccomp-cache.c): a cached program is used
# only by helpers built from the same ones.
printf '#define STAGE1_SECCOMP_BUILD_ID "%s"\n' "$(cat "$@" | sha256sum | cut -c1-32)"
