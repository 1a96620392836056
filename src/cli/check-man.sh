#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every verb and long option that peapod's help shows is in peapod(1), and
# every verb the man page describes exists.
#   check-man.sh PEAPOD MANPAGE
set -eu
peapod=$1 man=$2
fail=0
# roff writes '-' as '\-'.
plain=$(sed 's/\\-/-/g' "$man")
verbs=$("$peapod" --help | sed -n '/^Verbs:/,/^$/p' | awk 'NF > 1 { print $1 }')
[ -n "$verbs" ] || { echo "no verbs in peapod --help"; exit 1; }
for v in $verbs; do
        printf '%s\n' "$plain" | grep -q "^\.SS \"$v " || { echo "verb $v is not in $man"; fail=1; }
        for o in $("$peapod" "$v" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
                printf '%s\n' "$plain" | grep -q -- "$o" || { echo "option $o of $v is not in $man"; fail=1; }
        done
done
for v in $(printf '%s\n' "$plain" | sed -n 's/^\.SS "\([a-z]*\) .*/\1/p'); do
        printf '%s\n' "$verbs" | grep -qx "$v" || { echo "$man describes verb $v, which peapod lacks"; fail=1; }
done
for o in --help --version; do
        printf '%s\n' "$plain" | grep -q -- "$o" || { echo "global option $o is not in $man"; fail=1; }
done
exit $fail
