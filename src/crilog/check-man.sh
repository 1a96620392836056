#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every long option that a program's --help shows is in its man page
# (peapod-crilog, peapod-cri, peapodd).
#   check-man.sh PROGRAM MANPAGE
set -eu
plain=$(sed 's/\\-/-/g' "$2")   # roff writes '-' as '\-'
fail=0
for o in $("$1" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
        printf '%s\n' "$plain" | grep -q -- "$o" || { echo "option $o is not in $2"; fail=1; }
done
exit $fail
