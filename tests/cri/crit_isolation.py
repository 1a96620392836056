#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Per-container isolation through peapod-cri with a real gRPC client (the
# helpers of crit.py and crit_pods.py). Each check is a subcommand that
# exits 0, or 1 with what was wrong; API is v1 or v1alpha2.
#
#   crit_isolation.py SOCKET ipc API     namespace_options.ipc CONTAINER: an IPC namespace of the container's own
#   crit_isolation.py SOCKET devices API devices: a host node read-only and read-write, refusals
#   crit_isolation.py SOCKET masked API  masked_paths and readonly_paths beyond stage1's (image $CRIT_MASK_IMAGE,
#                                        test-cri-masked.sh's, with symlinks hostile -> /../../etc/keep, rolink -> ../../etc)
#   crit_isolation.py SOCKET privileged API  privileged: only in a privileged sandbox; every capability, the host's
#                                        devices, a writable /sys; a plain container beside it has none of it
import os
import stat
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


def cmd_devices(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('dev-' + api)
    sid = run_sandbox(ch, api, cfg)
    inv = grpc.StatusCode.INVALID_ARGUMENT
    for what, host, path, perms in (('a directory', '/tmp', '/dev/xtmp', 'rw'),
                                    ('a regular file', '/etc/hostname', '/dev/xhost', 'r'),
                                    ('a missing node', '/dev/no-such-node', '/dev/x', 'r'),
                                    ('a container path outside /dev', '/dev/zero', '/etc/zero', 'r'),
                                    ('a container path over /dev/pts', '/dev/zero', '/dev/pts/0', 'r'),
                                    ('unknown permissions', '/dev/zero', '/dev/x', 'rx'),
                                    ('no permissions', '/dev/zero', '/dev/x', '')):
        bad = container_config('bad', ['true'])
        bad.devices.add(host_path=host, container_path=path, permissions=perms)
        expect_code(inv, lambda: create(ch, api, sid, cfg, bad), 'CreateContainer with %s as a device' % what)
    if list_containers(ch, api, sandbox=sid):
        fail('a refused CreateContainer left a container')
    # A node of /dev/net/tun (10:200), which the closed device policy does
    # not admit (/dev/zero and the other pseudo devices it always admits
    # read-write), made in the host's /dev. EPERM is the device cgroup's
    # answer; any other (ENODEV without the tun driver) is an admitted open.
    # And one of /dev/fuse (10:229): the cgroup's permissions are per device
    # number, not per path.
    node = '/dev/peapod-crit-tun-%d' % os.getpid()
    node2 = '/dev/peapod-crit-fuse-%d' % os.getpid()
    os.mknod(node, 0o600 | stat.S_IFCHR, os.makedev(10, 200))
    os.mknod(node2, 0o600 | stat.S_IFCHR, os.makedev(10, 229))
    try:
        c = container_config('dev', ['sleep', '300'])
        c.devices.add(host_path=node, container_path='/dev/net/tun', permissions='r')
        c.devices.add(host_path=node2, container_path='/dev/sub/fuse', permissions='mrw')
        cid = create(ch, api, sid, cfg, c)
        start(ch, api, cid)
        wait_state(ch, api, cid, pb.CONTAINER_RUNNING)
        check_devices(ch, api, cid)
    finally:
        os.unlink(node)
        os.unlink(node2)
    remove_sandbox(ch, api, sid)
    print('devices %s: ok' % api)


def check_devices(ch, api, cid):
    if run_in(ch, api, cid, 'test -c /dev/net/tun && test -c /dev/sub/fuse && echo ok') != 'ok':
        fail('the container lacks its device nodes')
    checks = (('(exec 3</dev/net/tun)', False, 'reading the device given with r'),
              ('(exec 3>/dev/net/tun)', True, 'writing the device given with r'),
              ('(exec 3<>/dev/sub/fuse)', False, 'reading and writing the device given with mrw'),
              ('mknod /tmp/x c 10 237', True, 'mknod of another device'))
    for cmd, denied, what in checks:
        r = exec_sync(ch, cid, ['sh', '-c', cmd], timeout=30, api=api)
        if (b'Operation not permitted' in r.stderr) != denied:
            fail('%s: %s (exit %d, %r)' % (what, 'admitted' if denied else 'refused', r.exit_code, r.stderr))


# kubelet's defaults (when procMount is Default): stage1 covers most in
# every app already, /proc/asound and /sys/devices/virtual/powercap not.
KUBELET_MASKED = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
                  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap']
KUBELET_READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']


def cmd_masked(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('mask-' + api)
    sid = run_sandbox(ch, api, cfg)
    inv = grpc.StatusCode.INVALID_ARGUMENT
    for what, masked, ro in (('a relative masked path', ['etc/keep'], []), ('a masked /', ['/'], []),
                             ('a read-only path with ..', [], ['/etc/../proc'])):
        bad = container_config('bad', ['true'])
        bad.linux.security_context.masked_paths.extend(masked)
        bad.linux.security_context.readonly_paths.extend(ro)
        msg = expect_code(inv, lambda: create(ch, api, sid, cfg, bad), 'CreateContainer with ' + what)
        if (masked + ro)[0] not in msg:
            fail('the refusal of %s does not name it: %s' % (what, msg))
    if list_containers(ch, api, sandbox=sid):
        fail('a refused CreateContainer left a container')
    c = container_config('masked', ['/bin/busybox', 'sleep', '300'])
    c.image.image = os.environ['CRIT_MASK_IMAGE']
    c.linux.security_context.masked_paths.extend(KUBELET_MASKED + ['/hostile', '/sys/kernel', '/no/such/path'])
    c.linux.security_context.readonly_paths.extend(KUBELET_READONLY + ['/rolink'])
    cid = create(ch, api, sid, cfg, c)
    start(ch, api, cid)
    wait_state(ch, api, cid, pb.CONTAINER_RUNNING)
    for cmd, want, what in (('echo [$(cat /etc/keep)]', '[]', 'the image\'s file behind a hostile symlink is masked'),
                            ('cat /etc/motd', 'hello', 'an unmasked neighbour reads'),
                            ('ls /sys/kernel | wc -l', '0', 'a masked directory is empty'),
                            ('touch /etc/new 2>&1 || true', 'Read-only file system', '/etc is read-only through the symlink'),
                            ('touch /written && echo ok', 'ok', 'the rest of the root is writable'),
                            ('(echo 1 > /proc/sys/kernel/shmmni) 2>&1 || true', 'Read-only file system',
                             'kubelet\'s read-only /proc/sys')):
        got = run_in(ch, api, cid, cmd)
        if want not in got:
            fail('%s: %r' % (what, got))
    remove_sandbox(ch, api, sid)
    print('masked %s: ok' % api)


# What a container reports of itself: its capabilities, seccomp filters
# and no_new_privs, whether it opens /dev/net/tun, writes sysfs and sees
# /proc/sys writable. One line of key=value words.
PROBE = ('st=/proc/self/status; '
         'echo cap=$(awk "/^CapEff:/ { print \\$2 }" $st) filters=$(awk "/^Seccomp_filters:/ { print \\$2 }" $st) '
         'nnp=$(awk "/^NoNewPrivs:/ { print \\$2 }" $st) '
         'tun=$( (exec 3<>/dev/net/tun) 2>/dev/null && echo open || echo no) '
         'syswrite=$( (cat /sys/class/net/lo/tx_queue_len > /sys/class/net/lo/tx_queue_len) 2>/dev/null && echo ok || echo no) '
         'procsys=$( (cat /proc/sys/kernel/shmmni > /proc/sys/kernel/shmmni) 2>/dev/null && echo rw || echo ro)')


def probe(ch, api, cid):
    return dict(w.split('=', 1) for w in run_in(ch, api, cid, PROBE).split())


def cmd_privileged(sock, api):
    ch = channel(sock)
    inv = grpc.StatusCode.INVALID_ARGUMENT
    # kubelet's rule: a privileged container needs a privileged sandbox.
    plain_cfg = sandbox_config('priv-plain-' + api)
    plain_sid = run_sandbox(ch, api, plain_cfg)
    bad = container_config('bad', ['true'])
    bad.linux.security_context.privileged = True
    msg = expect_code(inv, lambda: create(ch, api, plain_sid, plain_cfg, bad),
                      'CreateContainer of a privileged container in a sandbox that is not')
    if 'not privileged' not in msg:
        fail('the refusal does not say why: %s' % msg)
    if list_containers(ch, api, sandbox=plain_sid):
        fail('a refused CreateContainer left a container')
    remove_sandbox(ch, api, plain_sid)

    cfg = sandbox_config('priv-' + api)
    cfg.linux.security_context.privileged = True
    sid = run_sandbox(ch, api, cfg)
    # As kubelet sends it: its default masked and read-only paths, the
    # pod's capabilities and seccomp profile, all ignored when privileged
    # (as containerd ignores them), and a device the host's /dev has.
    c = container_config('priv', ['sleep', '300'], add=['NET_ADMIN'], drop=['MKNOD'])
    c.linux.security_context.privileged = True
    c.linux.security_context.masked_paths.extend(KUBELET_MASKED)
    c.linux.security_context.readonly_paths.extend(KUBELET_READONLY)
    c.linux.security_context.seccomp_profile_path = 'runtime/default'
    c.linux.security_context.no_new_privs = True
    c.devices.add(host_path='/dev/net/tun', container_path='/dev/tun0', permissions='r')
    priv = create(ch, api, sid, cfg, c)
    # A plain container in a privileged sandbox stays plain.
    plain = create(ch, api, sid, cfg, container_config('plain', ['sleep', '300']))
    for cid in (priv, plain):
        start(ch, api, cid)
        wait_state(ch, api, cid, pb.CONTAINER_RUNNING)
    with open('/proc/1/status') as f:
        host = dict(line.split(':\t', 1) for line in f.read().splitlines() if ':\t' in line)
    want = {'cap': host['CapBnd'].strip(), 'filters': host['Seccomp_filters'].strip(), 'nnp': '0', 'tun': 'open',
            'syswrite': 'ok', 'procsys': 'rw'}
    got = probe(ch, api, priv)
    if got != want:
        fail('the privileged container has %r, not what the host has, %r' % (got, want))
    got = probe(ch, api, plain)
    for k, v in want.items():
        if got[k] == v:
            fail('the plain container beside it has %s=%s too (%r)' % (k, v, got))
    remove_sandbox(ch, api, sid)
    print('privileged %s: ok' % api)


def main():
    if len(sys.argv) != 4:
        fail('usage: crit_isolation.py SOCKET ipc|devices|masked|privileged API')
    sock, what, arg = sys.argv[1:]
    cmds = {'ipc': cmd_ipc, 'devices': cmd_devices, 'masked': cmd_masked, 'privileged': cmd_privileged}
    if what not in cmds:
        fail('unknown check ' + what)
    cmds[what](sock, arg)


if __name__ == '__main__':
    main()
