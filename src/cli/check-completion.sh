#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every verb, sub-verb and long option that peapod's help shows is offered
# by the bash completion (run through its own function, as bash would call
# it), and the completion offers no verb peapod lacks. Also runs it with no
# peapodd to ask: names come out empty, and nothing is printed.
#   check-completion.sh PEAPOD COMPLETION
set -u
peapod=$(realpath "$1") script=$2
fail=0
# The completion calls "peapod": this build's, and no peapodd on this bus
# (or none at all) must be fine.
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
ln -s "$peapod" "$dir/peapod"
export PATH=$dir:$PATH
# shellcheck source=/dev/null
. "$script"

complete_line() { # WORD... (the last one is being completed)
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMPREPLY=()
        _peapod
        printf '%s\n' "${COMPREPLY[@]}"
}

verbs=$("$peapod" --help | sed -n '/^Verbs:/,/^$/p' | awk 'NF > 1 { print $1 }')
[ -n "$verbs" ] || { echo "no verbs in peapod --help"; exit 1; }
offered=$(complete_line peapod "")
for v in $verbs; do
        printf '%s\n' "$offered" | grep -qx -- "$v" || { echo "verb $v is not completed"; fail=1; }
done
for v in $(printf '%s\n' "$offered" | grep -v '^-'); do
        printf '%s\n' "$verbs" | grep -qx -- "$v" || { echo "the completion offers verb $v, which peapod lacks"; fail=1; }
done

for v in $verbs; do
        help=$("$peapod" "$v" --help)
        # "peapod image pull ..." lines name the sub-verbs.
        subs=$(printf '%s\n' "$help" | sed -n "s/^\(Usage: \)\{0,1\}peapod $v \([a-z][a-z-]*\)\( .*\)\{0,1\}$/\2/p" | sort -u)
        if [ "$v" = run ]; then
                subs=""
        fi
        options=""
        if [ -n "$subs" ]; then
                offered_subs=$(complete_line peapod "$v" "")
                for s in $subs; do
                        printf '%s\n' "$offered_subs" | grep -qx -- "$s" || { echo "sub-verb '$v $s' is not completed"; fail=1; }
                        options+=$(complete_line peapod "$v" "$s" --)$'\n'
                done
                # An app's options, after its image.
                [ "$v" != app ] || options+=$(complete_line peapod app add POD IMAGE --)$'\n'
        else
                options=$(complete_line peapod "$v" --)$'\n'
                [ "$v" != run ] || options+=$(complete_line peapod run IMAGE --)$'\n'
        fi
        # The options the help lists (a line of its own each), not those
        # its text mentions.
        for o in $(printf '%s\n' "$help" | sed -n 's/^ \{1,\}\(-[a-zA-Z] \{1,\}\)\{0,1\}\(--[a-z][a-z0-9-]*\).*/\2/p' | sort -u); do
                printf '%s\n' "$options" | grep -qE -- "^$o=?\$" ||
                        { echo "option $o of '$v' is not completed"; fail=1; }
        done
done

# Names without a peapodd: nothing offered, nothing printed, no hang.
out=$( { complete_line peapod status ""; complete_line peapod logs somepod ""; complete_line peapod run ""; } 2>&1)
[ -z "$out" ] || { echo "completing names without peapodd printed: $out"; fail=1; }
exit $fail
