# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/cri/lab.sh: sourced by the benches that compare peapod-cri with
# containerd's CRI plugin (bench/cri/containerd, bench/cri/streaming): both
# runtimes side by side in one lab, containerd offline.
#
#   bench_cri_enter_lab SCRIPT BUILD VAR=VALUE...   outside the lab: installs
#       containerd with apt-get when missing (a bench need, not a test's: not
#       in tools/install-deps), builds BUILD (a release build when it is
#       made here; a build directory given is used as it is), then runs
#       SCRIPT BUILD in a lab with BENCH_IN_LAB=1 and the VARs; does not return.
#   bench_cri_start BUILD   in the lab: installs the build, starts peapod-cri
#       ($work/peapod.sock, $cri_pid) and Debian's containerd 1.6 with runc
#       ($work/containerd.sock, $ctd_pid; restrict_oom_score_adj: the lab
#       has no CAP_SYS_RESOURCE), with BENCH_CNI=1 a CNI network for
#       containerd like peapod's default one (bridge ctd0 on 10.89.0.0/16,
#       host-local, portmap; the plugins of /usr/lib/cni, which peapod
#       runs too; masqueraded and forwarded by one rule set each, as
#       peapod's is), else none (host-network sandboxes only),
#       imports a static pause built here (bench/cri/pause.c, mkimage-pause)
#       and the build's busybox archive (the image peapod embeds) into
#       k8s.io with ctr, prints the versions; both stop at exit.
#   bench_cri_fail MESSAGE  both runtimes' last log lines, exit 1.

bench_cri_enter_lab() {
        local script=$1 build=$2; shift 2
        command -v containerd >/dev/null && command -v runc >/dev/null ||
                DEBIAN_FRONTEND=noninteractive apt-get install -y containerd >/dev/null
        [ -f "$build/build.ninja" ] || meson setup "$build" --buildtype=release >/dev/null
        ninja -C "$build" >/dev/null
        exec tools/lab with --bind="$PWD" -- bash -c \
                'cd '"$PWD"' && tools/lab run "$LAB" env BENCH_IN_LAB=1 '"$*"' '"$PWD/$script $build"
}

bench_cri_start() {
        local build=$1 img
        tests/integration/setup-system "$build" >/dev/null
        work=$(mktemp -d /tmp/peapod-bench-ctd.XXXXXX)
        cri_pid="" ctd_pid=""
        trap bench_cri_stop EXIT

        "$build/src/cri/peapod-cri" --listen="$work/peapod.sock" 2>"$work/peapod-cri.log" &
        cri_pid=$!
        mkdir -p "$work/cni"
        if [ "${BENCH_CNI:-0}" = 1 ]; then
                sed -e 's/"name": "peapod"/"name": "bench-ctd"/' -e 's/peapod0/ctd0/' \
                        -e 's/10\.87\./10.89./g' /etc/cni/net.d/87-peapod-bridge.conflist >"$work/cni/10-bench-ctd.conflist"
                # The same plugins with the same settings, so no per-pod
                # ipMasq or firewall plugin either: containerd's network
                # gets the rule sets peapod keeps for its own (firewall.h),
                # masquerading and forwarding, made once here.
                iptables-restore -w 10 --noflush <<'RULES'
*nat
:BENCH-CTD-MASQ - [0:0]
-A BENCH-CTD-MASQ -d 10.89.0.0/16 -j RETURN
-A BENCH-CTD-MASQ -d 224.0.0.0/4 -j RETURN
-A BENCH-CTD-MASQ -s 10.89.0.0/16 -j MASQUERADE
-I POSTROUTING 1 -j BENCH-CTD-MASQ
COMMIT
*filter
:BENCH-CTD-FWD - [0:0]
-A BENCH-CTD-FWD -i ctd0 -s 10.89.0.0/16 -j ACCEPT
-A BENCH-CTD-FWD -o ctd0 -d 10.89.0.0/16 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-I FORWARD 1 -j BENCH-CTD-FWD
COMMIT
RULES
        fi
        cat >"$work/config.toml" <<CONF
version = 2
root = "$work/containerd-root"
state = "$work/containerd-state"
[grpc]
  address = "$work/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:bench"
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    conf_dir = "$work/cni"
    bin_dir = "/usr/lib/cni"
CONF
        containerd --config "$work/config.toml" >"$work/containerd.log" 2>&1 &
        ctd_pid=$!
        for _ in $(seq 200); do [ -S "$work/containerd.sock" ] && [ -S "$work/peapod.sock" ] && break; sleep 0.05; done
        [ -S "$work/peapod.sock" ] || { echo "peapod-cri did not start: $(cat "$work/peapod-cri.log")" >&2; exit 1; }
        [ -S "$work/containerd.sock" ] || { echo "containerd did not start: $(tail "$work/containerd.log")" >&2; exit 1; }
        bench/cri/mkimage-pause "$work/pause.tar"
        for img in "$work/pause.tar" "$build/images/busybox.oci.tar"; do
                ctr -a "$work/containerd.sock" -n k8s.io images import "$img" >/dev/null
        done
        echo "containerd $(containerd --version | cut -d' ' -f3), runc $(runc --version | sed -n 's/^runc version //p'), $(nproc) CPUs"
}

bench_cri_stop() {
        [ -z "$cri_pid" ] || kill "$cri_pid" 2>/dev/null || true
        [ -z "$ctd_pid" ] || kill "$ctd_pid" 2>/dev/null || true
}

bench_cri_fail() {
        echo "${0##*/}: $*" >&2
        tail -20 "$work/containerd.log" >&2
        tail -20 "$work/peapod-cri.log" >&2
        exit 1
}
