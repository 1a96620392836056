#!/bin/bash
# The CRI's ImageService through peapod-cri against a registry that asks
# for a password (docker-registry with htpasswd): PullImage with
# username/password and with auth (base64), refusals of bad or missing
# credentials, the trust policy applied (the cluster's policy is set up
# here as peapod-cri(8) says: insecureAcceptAnything for the registry
# prefix the cluster pulls from, nothing else), a pull that outlives its
# client; ImageStatus by name, name:tag, name@digest (of an image pulled
# by tag), id and id prefix, with uid or username and verbose info;
# RemoveImage by any name, idempotent, refused while a pod uses the
# image. The password never reaches the journal.
. "$(dirname "$0")/lib.sh"
here=$(dirname "$(realpath "$0")")
CRIT="$here/../cri/crit.py"
cri_init /var/tmp/cri-images.XXXXXX
command -v docker-registry >/dev/null && command -v skopeo >/dev/null || exit 77
python3 -W ignore -c 'import crypt' 2>/dev/null || exit 77

cleanup_registry() {
        stop_registry
        for i in uid name big; do $PEAPOD image rm "${REGISTRY:-x}/cri/$i:latest" >/dev/null 2>&1 || true; done
        rm -f /etc/peapod/registries.conf /etc/peapod/policy.json
}
at_exit cleanup_registry

pw="cri-$RANDOM$RANDOM$RANDOM"
python3 -W ignore -c "import crypt, sys; print('kube:' + crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))" \
        "$pw" >"$T/htpasswd"
REGISTRY_HTPASSWD=$T/htpasswd start_registry "$T"
push() { # OCI_DIR NAME
        skopeo --insecure-policy copy -q --dest-tls-verify=false --dest-creds="kube:$pw" "oci:$1:latest" \
                "docker://$REGISTRY/$2:latest" || fail "skopeo copy to $2"
}
"$here/../unit/make-test-image.py" "$T/uid" --salt=cri-uid --user=1234:1234 >/dev/null
"$here/../unit/make-test-image.py" "$T/name" --salt=cri-name --user=nobody >/dev/null
"$here/../unit/make-test-image.py" "$T/big" --salt=cri-big --big >/dev/null
push "$T/uid" cri/uid
push "$T/name" cri/name
push "$T/big" cri/big
push "$T/uid" untrusted/bb
registry_allow_insecure
# The cluster's policy (peapod-cri(8)): the shipped default plus
# insecureAcceptAnything for the prefix the cluster pulls from; images
# elsewhere keep the default's requirements.
policy_accept_unsigned "$REGISTRY/cri"

cri_start
since=$(date '+%Y-%m-%d %H:%M:%S')

CRIT_REGISTRY=$REGISTRY CRIT_USER=kube CRIT_PASSWORD=$pw "$CRIT" "$CRI_SOCK" images ||
        fail "the ImageService checks failed: $(tail -5 "$T/log")"
# A pod that uses cri/name, for RemoveImage.
pod="${PFX}-cri-img"
$PEAPOD pod create -q --name="$pod" >/dev/null || fail "pod create"
$PEAPOD app add -q "$pod" "$REGISTRY/cri/name:latest" >/dev/null || fail "app add of cri/name"
CRIT_REGISTRY=$REGISTRY CRIT_USED=$pod "$CRIT" "$CRI_SOCK" images-remove ||
        fail "the RemoveImage checks failed: $(tail -5 "$T/log")"
kill -0 "$CRI_PID" || fail "peapod-cri died: $(cat "$T/log")"

# The password was never logged, by peapod-cri or peapodd.
printf '%s\n' "$pw" >"$T/pw"
journal_sync
! journalctl -q --since="$since" -o cat | grep -qF -f "$T/pw" || fail "the password is in the journal"
! grep -qF -f "$T/pw" "$T/log" || fail "the password is in peapod-cri's log"
say "ok"
