#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/cri/lifecycle.py: kubelet's pod lifecycle, timed, against CRI
# runtimes side by side with one client (tests/cri/crit.py's gRPC calls
# and cri.proto), so the figures compare:
#
#   lifecycle.py [--cni] [--rounds=N] NAME=SOCKET...  RunPodSandbox, CreateContainer,
#       StartContainer, StopContainer, StopPodSandbox, RemoveContainer,
#       RemovePodSandbox, N rounds (default 20); the runtimes interleaved
#       (one pod each per round, the order swapped every round) so that a
#       disturbance of the machine falls on both. Prints each call's median
#       in ms per runtime, the median of a whole lifecycle, and the ratio of
#       the first runtime's median to the others'.
#       With --chain=CONFLIST, each round also runs that network's CNI
#       plugins alone (cni_chain.py), and the chain's median is put against
#       half of the last runtime's lifecycle: the floor under any runtime
#       that uses those plugins.
#   lifecycle.py --pods=N NAME=SOCKET...          runs N sandboxes in each
#       (for ListPodSandbox throughput) and leaves them; --remove removes
#       every sandbox named bench-list-*.
#
# Host network for the sandboxes (no CNI on either side), or with --cni
# each runtime's own CNI bridge network (bench/cri/lab.sh); the container is
# localhost/busybox:latest running a shell that exits on SIGTERM (a PID 1
# without a handler would ignore it and every stop would be its timeout).
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), '..', '..', 'tests', 'cri'))
from crit import call, channel, fail, pb  # noqa: E402

import cni_chain  # noqa: E402

IMAGE = 'localhost/busybox:latest'
CALLS = ('RunPodSandbox', 'CreateContainer', 'StartContainer', 'StopContainer', 'StopPodSandbox', 'RemoveContainer',
         'RemovePodSandbox')
UID = 'bench-%d' % os.getpid()


CNI = '--cni' in sys.argv
SETTLE_S = 0.1


def sandbox_config(name):
    cfg = pb.PodSandboxConfig(metadata=pb.PodSandboxMetadata(name=name, uid=UID, namespace='bench', attempt=0),
                              log_directory='/var/log/pods/bench_%s_%s' % (name, UID))
    if CNI:
        # A network namespace of the pod's own on the runtime's CNI network, as kubelet's pods get.
        cfg.hostname = name
        cfg.linux.security_context.namespace_options.network = pb.POD
    else:
        # No hostname: with the node's network the node's is kept (kubelet sets none).
        cfg.linux.security_context.namespace_options.network = pb.NODE
    return cfg


def container_config():
    return pb.ContainerConfig(metadata=pb.ContainerMetadata(name='main', attempt=0), image=pb.ImageSpec(image=IMAGE),
                              command=['sh', '-c', 'trap "exit 0" TERM; sleep 100000 & wait'], log_path='main/0.log')


def timed(times, what, fn):
    t = time.monotonic()
    r = fn()
    times.setdefault(what, []).append((time.monotonic() - t) * 1000)
    return r


def lifecycle(ch, name, times):
    cfg = sandbox_config(name)
    os.makedirs(os.path.join(cfg.log_directory, 'main'), exist_ok=True)
    t0 = time.monotonic()
    sid = timed(times, 'RunPodSandbox', lambda: call(ch, 'RunPodSandbox', pb.RunPodSandboxRequest(config=cfg),
                                                     pb.RunPodSandboxResponse, timeout=120)).pod_sandbox_id
    cid = timed(times, 'CreateContainer', lambda: call(
        ch, 'CreateContainer', pb.CreateContainerRequest(pod_sandbox_id=sid, config=container_config(), sandbox_config=cfg),
        pb.CreateContainerResponse, timeout=120)).container_id
    timed(times, 'StartContainer', lambda: call(ch, 'StartContainer', pb.StartContainerRequest(container_id=cid),
                                                pb.StartContainerResponse, timeout=120))
    timed(times, 'StopContainer', lambda: call(ch, 'StopContainer', pb.StopContainerRequest(container_id=cid, timeout=10),
                                               pb.StopContainerResponse, timeout=120))
    timed(times, 'StopPodSandbox', lambda: call(ch, 'StopPodSandbox', pb.StopPodSandboxRequest(pod_sandbox_id=sid),
                                                pb.StopPodSandboxResponse, timeout=120))
    timed(times, 'RemoveContainer', lambda: call(ch, 'RemoveContainer', pb.RemoveContainerRequest(container_id=cid),
                                                 pb.RemoveContainerResponse, timeout=120))
    timed(times, 'RemovePodSandbox', lambda: call(ch, 'RemovePodSandbox', pb.RemovePodSandboxRequest(pod_sandbox_id=sid),
                                                  pb.RemovePodSandboxResponse, timeout=120))
    times.setdefault('lifecycle', []).append((time.monotonic() - t0) * 1000)


def run_pods(ch, n):
    for i in range(n):
        call(ch, 'RunPodSandbox', pb.RunPodSandboxRequest(config=sandbox_config('bench-list-%d' % i)),
             pb.RunPodSandboxResponse, timeout=120)


def remove_pods(ch):
    for s in call(ch, 'ListPodSandbox', pb.ListPodSandboxRequest(), pb.ListPodSandboxResponse).items:
        if s.metadata.name.startswith('bench-list-'):
            call(ch, 'StopPodSandbox', pb.StopPodSandboxRequest(pod_sandbox_id=s.id), pb.StopPodSandboxResponse, timeout=120)
            call(ch, 'RemovePodSandbox', pb.RemovePodSandboxRequest(pod_sandbox_id=s.id), pb.RemovePodSandboxResponse,
                 timeout=120)


def main():
    rounds, pods, remove, runtimes, chain = 20, None, False, [], None
    for a in sys.argv[1:]:
        if a.startswith('--rounds='):
            rounds = int(a[9:])
        elif a.startswith('--pods='):
            pods = int(a[7:])
        elif a.startswith('--chain='):
            with open(a[8:]) as f:
                chain = json.load(f)
        elif a == '--remove':
            remove = True
        elif a == '--cni':
            pass  # CNI, read above
        elif '=' in a:
            name, sock = a.split('=', 1)
            runtimes.append((name, channel(sock)))
        else:
            fail('usage: lifecycle.py [--cni] [--chain=CONFLIST] [--rounds=N | --pods=N | --remove] NAME=SOCKET...')
    if not runtimes:
        fail('no runtime given')
    if remove or pods is not None:
        for _, ch in runtimes:
            remove_pods(ch) if remove else run_pods(ch, pods)
        return
    times = {name: {} for name, _ in runtimes}
    chain_add, chain_del = [], []
    for r in range(rounds):
        order = runtimes if r % 2 == 0 else runtimes[::-1]
        for name, ch in order:
            lifecycle(ch, 'bench-%d' % r, times[name])
            # What a runtime leaves to finish after its last answer (peapod:
            # a bridge binding's removal, ~10-20 ms; containerd: its shim's
            # teardown) ends before anything else is timed, so that it is
            # charged to no one's figure.
            time.sleep(SETTLE_S)
        if chain:
            a, d = cni_chain.one_round(chain, '/usr/lib/cni', 'benchchain%d-%d' % (os.getpid(), r))
            chain_add.append(a)
            chain_del.append(d)
    med = {name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()}
    width = max(len(c) for c in CALLS + ('lifecycle',))
    print('%-*s %s' % (width, 'median ms (%d rounds)' % rounds, ' '.join('%12s' % n for n, _ in runtimes)))
    for c in CALLS + ('lifecycle',):
        print('%-*s %s' % (width, c, ' '.join('%12.1f' % med[n][c] for n, _ in runtimes)))
    first = runtimes[0][0]
    for name, _ in runtimes[1:]:
        print('ratio %s/%s (lifecycle median): %.2f' % (first, name, med[first]['lifecycle'] / med[name]['lifecycle']))
    if chain:
        both, line = cni_chain.describe(chain, chain_add, chain_del)
        last = runtimes[-1][0]
        half = med[last]['lifecycle'] / 2
        print(line)
        print("0.5x %s's lifecycle: %.1f ms; the plugin chain alone takes %.1f ms (%.0f%% of it)" % (
            last, half, both, 100 * both / half))


if __name__ == '__main__':
    main()
