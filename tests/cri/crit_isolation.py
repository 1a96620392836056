#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Per-container isolation through peapod-cri with a real gRPC client (the
# helpers of crit.py and crit_pods.py). Each check is a subcommand that
# exits 0, or 1 with what was wrong; API is v1 or v1alpha2.
#
#   crit_isolation.py SOCKET ipc API     namespace_options.ipc CONTAINER: an IPC namespace of the container's own
import os
import sys

import grpc

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from crit import channel, exec_sync, expect_code, fail, pb  # noqa: E402
from crit_pods import (container_config, create, list_containers, remove_sandbox, run_sandbox,  # noqa: E402
                       sandbox_config, start, wait_state)


def run_in(ch, api, cid, cmd):
    # Through sh: the image's busybox has its applets, not their links.
    r = exec_sync(ch, cid, ['sh', '-c', cmd], timeout=30, api=api)
    if r.exit_code != 0:
        fail('ExecSync %s in %s: exit %d, %r' % (cmd, cid, r.exit_code, r.stderr))
    return r.stdout.decode().strip()


def cmd_ipc(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('ipc-' + api)
    # The pod's IPC sysctls are written in the pod's namespace only.
    cfg.linux.sysctls['kernel.shmmni'] = '1234'
    sid = run_sandbox(ch, api, cfg)
    host_cfg = container_config('host', ['true'])
    host_cfg.linux.security_context.namespace_options.ipc = pb.NODE
    msg = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: create(ch, api, sid, cfg, host_cfg),
                      'CreateContainer in the host\'s IPC namespace')
    if 'IPC' not in msg:
        fail('the refusal of ipc NODE does not name it: %s' % msg)
    if list_containers(ch, api, sandbox=sid):
        fail('a refused CreateContainer left a container')
    pod_a = create(ch, api, sid, cfg, container_config('pod-a', ['sleep', '300']))
    pod_b = create(ch, api, sid, cfg, container_config('pod-b', ['sleep', '300']))
    own_cfg = container_config('own', ['sleep', '300'])
    own_cfg.linux.security_context.namespace_options.ipc = pb.CONTAINER
    own = create(ch, api, sid, cfg, own_cfg)
    for c in (pod_a, pod_b, own):
        start(ch, api, c)
        wait_state(ch, api, c, pb.CONTAINER_RUNNING)
    ns = {c: run_in(ch, api, c, 'readlink /proc/self/ns/ipc') for c in (pod_a, pod_b, own)}
    host = os.readlink('/proc/self/ns/ipc')
    if not ns[pod_a].startswith('ipc:[') or ns[pod_a] != ns[pod_b]:
        fail('two containers of mode POD are in different IPC namespaces: %s %s' % (ns[pod_a], ns[pod_b]))
    if ns[own] in (ns[pod_a], host):
        fail('the container of mode CONTAINER is in the %s IPC namespace (%s)' % (
            'pod\'s' if ns[own] == ns[pod_a] else 'host\'s', ns[own]))
    if run_in(ch, api, pod_a, 'cat /proc/sys/kernel/shmmni') != '1234':
        fail('the sandbox\'s kernel.shmmni is not set in the pod\'s IPC namespace')
    if run_in(ch, api, own, 'cat /proc/sys/kernel/shmmni') == '1234':
        fail('the container of its own IPC namespace has the pod\'s kernel.shmmni')
    remove_sandbox(ch, api, sid)
    print('ipc %s: ok (pod %s, own %s)' % (api, ns[pod_a], ns[own]))


def main():
    if len(sys.argv) != 4:
        fail('usage: crit_isolation.py SOCKET ipc API')
    sock, what, arg = sys.argv[1:]
    cmds = {'ipc': cmd_ipc}
    if what not in cmds:
        fail('unknown check ' + what)
    cmds[what](sock, arg)


if __name__ == '__main__':
    main()
