#!/bin/bash
# A follower of an app's lines (peapod-cri's converter, `peapod logs -f`,
# attach) reads every line after the journal's wake-up that follows it, even
# when it read the journal while journald was appending that very line:
# journald counts a new entry in the file's header before it links it to
# its fields, and sd-journal (252) does not look at a file again, after it
# found nothing new in it, until that count changes. An app's last line
# stayed unread then until any other line came (test-cri-restart once had
# 39 of its 40 ticks after 60 s). Up to 500 lines, each printed alone by an app
# unit of the namespace and read by tests/tools/journal-follow, which reads
# in a tight loop while the line is on its way.
. "$(dirname "$0")/lib.sh"
FOLLOW=$PEAPOD_BUILD_DIR/tests/tools/journal-follow
[ -x "$FOLLOW" ] || { say "no journal-follow in the build: skipped"; exit 77; }
T=$(mktemp -d)
unit="peapod-$PFX-w.service"
at_exit "systemctl stop $unit 2>/dev/null; systemctl reset-failed $unit 2>/dev/null; rm -rf $T"
pod=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
app=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
mkfifo "$T/lines"
# The fields journald adds to an app unit's lines, as peapodd's units set
# them; the reader opens the fifo when journal-follow does.
systemd-run --quiet --unit="$unit" -p LogNamespace=peapod -p StandardInput=file:"$T/lines" \
        -p LogExtraFields=PEAPOD_POD_ID="$pod" -p LogExtraFields=PEAPOD_APP_ID="$app" -p LogExtraFields=PEAPOD_APP=w \
        /bin/cat
"$FOLLOW" peapod "$app" "$T/lines" 500 || fail "a line was not read after the wake-up that followed it"
say ok
