#!/bin/bash
# Bash completion of names, from a real peapodd: pods for pod verbs, the
# apps of the pod on the line, images for run and image verbs.
. "$(dirname "$0")/lib.sh"
# shellcheck source=/dev/null
. /usr/share/bash-completion/completions/peapod

complete_line() { # WORD... (the last one is being completed)
        COMP_WORDS=("$@")
        COMP_CWORD=$(($# - 1))
        COMPREPLY=()
        _peapod
        printf '%s\n' "${COMPREPLY[@]}"
}

$PEAPOD run -d -q --name "${PFX}comp" --net=none busybox --app-name=alpha -- sleep 1000 \
        --- busybox --app-name=beta -- sleep 1000

assert_contains "$(complete_line peapod status "${PFX}")" "${PFX}comp" "pods for status"
assert_contains "$(complete_line peapod stop "${PFX}c")" "${PFX}comp" "pods for stop"
assert_eq "alpha beta" "$(complete_line peapod logs "${PFX}comp" "" | sort | xargs)" "apps for logs POD"
assert_eq "beta" "$(complete_line peapod app stop "${PFX}comp" b)" "apps for app stop POD"
assert_eq "--app=alpha" "$(complete_line peapod enter "${PFX}comp" --app=al)" "apps for enter --app"
assert_eq "alpha" "$(complete_line peapod kill --signal=TERM "${PFX}comp" al)" "apps for kill POD"
assert_contains "$(complete_line peapod run bus)" "busybox" "images for run"
assert_contains "$(complete_line peapod image inspect localhost/)" "localhost/busybox:latest" "images for image inspect"
assert_contains "$(complete_line peapod run --rm busybox --- "")" "localhost/busybox:latest" "images after ---"
assert_eq "" "$(complete_line peapod logs nosuchpod "" 2>&1)" "apps of a pod that is not there"
say ok
