#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The interface files in dbus/ are peapodd's own introspection
# (peapodd --bus-introspect=INTERFACE): fail with a diff when the vtables
# and the files differ, or rewrite the files with --update.
#   check-interfaces.sh [--update] PEAPODD DBUS_DIR BUILD_DIR INTERFACE...
set -eu
update=false
if [ "$1" = --update ]; then
        update=true
        shift
fi
peapodd=$1 dir=$2 build=$3
shift 3
fail=0
served=$("$peapodd" --bus-introspect | sed -n 's/^ <interface name="\([^"]*\)">$/\1/p')
[ -n "$served" ] || { echo "peapodd --bus-introspect printed no interface"; exit 1; }
# Each interface peapodd serves is published (dbus/meson.build installs
# the list given here), and nothing else is.
if [ "$(printf '%s\n' "$served" | sort)" != "$(printf '%s\n' "$@" | sort)" ]; then
        echo "peapodd serves: $(echo $served)"
        echo "dbus/meson.build publishes: $*"
        fail=1
fi
for i in $served; do
        if $update; then
                "$peapodd" --bus-introspect="$i" >"$dir/$i.xml"
                echo "Wrote $dir/$i.xml"
        elif ! "$peapodd" --bus-introspect="$i" | diff -u "$dir/$i.xml" -; then
                echo "dbus/$i.xml is not what peapodd serves (above: - the file, + peapodd)."
                fail=1
        fi
done
if [ $fail -ne 0 ] && ! $update; then
        echo "If the change of the API is meant, regenerate the files with: ninja -C $build update-dbus-docs"
        echo "(and document it in man/org.peapod1.5)."
fi
exit $fail
