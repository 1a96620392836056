#!/bin/bash
# A program's view of the D-Bus API (bus-client.py, python3-dbus): a pod's
# whole life from signals alone, ImagesChanged and the image objects on tag,
# import, pull and removal, JobNew/JobRemoved, every method once and the
# error names.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
/usr/bin/python3 -c 'import dbus, dbus.mainloop.glib, gi' 2>/dev/null || { say "no python3-dbus/python3-gi: skipped"; exit 77; }

tmp=$(mktemp -d /var/tmp/bus-client.XXXXXX)
cleanup() {
        cleanup_pods
        stop_registry
        for n in $($PEAPOD image list --format=json 2>/dev/null | jq -r '.[].names[]' | grep -e "^localhost/$PFX-" -e "^${REGISTRY:-none}/" || true); do
                $PEAPOD image rm "$n" >/dev/null 2>&1 || true
        done
        rm -rf "$tmp" /etc/peapod/registries.conf
}
trap cleanup EXIT

ref=
if command -v docker-registry >/dev/null && command -v skopeo >/dev/null; then
        start_registry "$tmp"
        "$here/../unit/make-test-image.py" "$tmp/oci" --salt="$PFX" >/dev/null
        skopeo --insecure-policy copy -q --dest-tls-verify=false "oci:$tmp/oci:latest" "docker://$REGISTRY/test/bc:latest"
        registry_allow_insecure
        ref=$REGISTRY/test/bc:latest
else
        say "no registry tools: the pull is not exercised"
fi
BUS_CLIENT_XML_DIR=$here/../../dbus BUS_CLIENT_HEADER=$here/../../src/shared/peapod-bus.h \
        timeout 280 "$here/bus-client.py" "$PFX" $ref
