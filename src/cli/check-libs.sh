#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# peapod loads no library it does not need at every start: the registry
# client (libcurl), signatures (gpgme), layers (libarchive) and hashing
# (libcrypto) belong to peapod-full and peapodd. Each one costs every
# command its loading (libcrypto alone ~0.8 ms of a ~2.3 ms start), and
# three commands make a pod's life (run -d, wait, rm).
#   check-libs.sh PEAPOD
set -eu
needed=$(readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
[ -n "$needed" ] || { echo "readelf found no NEEDED entry in $1"; exit 1; }
fail=0
for lib in libcurl libgpgme libarchive libcrypto libssl; do
        if printf '%s\n' "$needed" | grep -q "^$lib\."; then
                echo "$1 needs $lib; what uses it belongs to peapod-full or peapodd"
                fail=1
        fi
done
exit $fail
