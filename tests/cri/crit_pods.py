#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Sandboxes and containers through peapod-cri with a real gRPC client (the
# helpers of crit.py). Each check is a subcommand that exits 0, or 1 with
# what was wrong; API is v1 or v1alpha2.
#
#   crit_pods.py SOCKET lifecycle API   kubelet's sequence, idempotent removals
#   crit_pods.py SOCKET pair API        two containers share the sandbox's network
#   crit_pods.py SOCKET security API    the security context, checked from inside
#   crit_pods.py SOCKET refusals API    bad requests change nothing
#   crit_pods.py SOCKET logs API        the container's CRI log file
#   crit_pods.py SOCKET mounts API      host paths (a symlink among them) read-only and read-write
#   crit_pods.py SOCKET propagation API HOST_TO_CONTAINER shows the host's later mount (CRIT_SHARED_DIR)
#   crit_pods.py SOCKET bidirectional API
#                                       BIDIRECTIONAL in a privileged container, both ways (CRIT_SHARED_DIR)
#   crit_pods.py SOCKET save FILE       a sandbox and a running container, described in FILE
#   crit_pods.py SOCKET check FILE      they are as FILE says (after restarts), then removed
#   crit_pods.py SOCKET lists API       the lists follow peapodd's state, across its restart
#   crit_pods.py SOCKET stats-setup FILE two sandboxes with labelled containers for crit.py stats, described in FILE
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request

import grpc

sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
from crit import call, channel, expect_code, fail, pb, wait_until  # noqa: E402

IMAGE = 'localhost/busybox:latest'
LABELS = {'app': 'web', 'io.kubernetes.pod.name': 'nginx-1', 'empty': ''}
ANNOTATIONS = {'kubernetes.io/config.seen': '2024-01-01T00:00:00Z', 'note': 'a "quoted"\nvalue ü'}


def rt(ch, method, request, response, api, timeout=30):
    return call(ch, method, request, response, api=api, timeout=timeout)


def sandbox_config(name, uid='uid-' + str(os.getpid()), attempt=0, host_network=False):
    cfg = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace='default', attempt=attempt),
        hostname=name, log_directory='/var/log/pods/default_%s_%s' % (name, uid),
        dns_config=pb.DNSConfig(servers=['10.96.0.10'], searches=['default.svc.cluster.local'], options=['ndots:5']),
        port_mappings=[pb.PortMapping(protocol=pb.TCP, container_port=80)],
        labels=LABELS, annotations=ANNOTATIONS)
    if host_network:
        cfg.linux.security_context.namespace_options.network = pb.NODE
    return cfg


def run_sandbox(ch, api, cfg, handler=''):
    r = rt(ch, 'RunPodSandbox', pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler), pb.RunPodSandboxResponse, api,
           timeout=120)
    if len(r.pod_sandbox_id) != 32:
        fail('RunPodSandbox: id %r' % r.pod_sandbox_id)
    return r.pod_sandbox_id


def sandbox_status(ch, api, sid, verbose=False):
    return rt(ch, 'PodSandboxStatus', pb.PodSandboxStatusRequest(pod_sandbox_id=sid, verbose=verbose),
              pb.PodSandboxStatusResponse, api)


def list_sandboxes(ch, api, **filt):
    f = pb.PodSandboxFilter()
    if 'id' in filt:
        f.id = filt['id']
    if 'state' in filt:
        f.state.state = filt['state']
    for k, v in filt.get('labels', {}).items():
        f.label_selector[k] = v
    return [s.id for s in rt(ch, 'ListPodSandbox', pb.ListPodSandboxRequest(filter=f), pb.ListPodSandboxResponse, api).items]


def container_config(name, command, attempt=0, labels=None, annotations=None, **sec):
    cfg = pb.ContainerConfig(metadata=pb.ContainerMetadata(name=name, attempt=attempt), image=pb.ImageSpec(image=IMAGE),
                             command=command, log_path='%s/%d.log' % (name, attempt),
                             labels=labels or {}, annotations=annotations or {})
    cfg.envs.add(key='GREETING', value='hello world')
    for k, v in sec.items():
        if k == 'run_as_user':
            cfg.linux.security_context.run_as_user.value = v
        elif k == 'run_as_group':
            cfg.linux.security_context.run_as_group.value = v
        elif k == 'supplemental_groups':
            cfg.linux.security_context.supplemental_groups.extend(v)
        elif k == 'add':
            cfg.linux.security_context.capabilities.add_capabilities.extend(v)
        elif k == 'drop':
            cfg.linux.security_context.capabilities.drop_capabilities.extend(v)
        elif k == 'memory':
            cfg.linux.resources.memory_limit_in_bytes = v
        else:
            setattr(cfg.linux.security_context, k, v)
    return cfg


def create(ch, api, sid, sandbox_cfg, cfg):
    # kubelet makes the container's log directory first.
    os.makedirs(os.path.dirname(os.path.join(sandbox_cfg.log_directory, cfg.log_path)), exist_ok=True)
    r = rt(ch, 'CreateContainer', pb.CreateContainerRequest(pod_sandbox_id=sid, config=cfg, sandbox_config=sandbox_cfg),
           pb.CreateContainerResponse, api, timeout=120)
    if len(r.container_id) != 64 or not r.container_id.startswith(sid):
        fail('CreateContainer: id %r in sandbox %s' % (r.container_id, sid))
    return r.container_id


def cstatus(ch, api, cid):
    return rt(ch, 'ContainerStatus', pb.ContainerStatusRequest(container_id=cid), pb.ContainerStatusResponse, api).status


def cstatus_info(ch, api, cid):
    return rt(ch, 'ContainerStatus', pb.ContainerStatusRequest(container_id=cid), pb.ContainerStatusResponse, api).info


def list_containers(ch, api, **filt):
    f = pb.ContainerFilter()
    if 'id' in filt:
        f.id = filt['id']
    if 'sandbox' in filt:
        f.pod_sandbox_id = filt['sandbox']
    if 'state' in filt:
        f.state.state = filt['state']
    for k, v in filt.get('labels', {}).items():
        f.label_selector[k] = v
    return [c.id for c in rt(ch, 'ListContainers', pb.ListContainersRequest(filter=f), pb.ListContainersResponse, api).containers]


def wait_state(ch, api, cid, state, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        st = cstatus(ch, api, cid)
        if st.state == state:
            return st
        time.sleep(0.2)
    fail('container %s: state %s, expected %s' % (cid, st.state, state))


def start(ch, api, cid):
    rt(ch, 'StartContainer', pb.StartContainerRequest(container_id=cid), pb.StartContainerResponse, api, timeout=120)


def stop(ch, api, cid, timeout):
    rt(ch, 'StopContainer', pb.StopContainerRequest(container_id=cid, timeout=timeout), pb.StopContainerResponse, api,
       timeout=timeout + 60)


def remove(ch, api, cid):
    rt(ch, 'RemoveContainer', pb.RemoveContainerRequest(container_id=cid), pb.RemoveContainerResponse, api, timeout=120)


def stop_sandbox(ch, api, sid):
    rt(ch, 'StopPodSandbox', pb.StopPodSandboxRequest(pod_sandbox_id=sid), pb.StopPodSandboxResponse, api, timeout=120)


def remove_sandbox(ch, api, sid):
    rt(ch, 'RemovePodSandbox', pb.RemovePodSandboxRequest(pod_sandbox_id=sid), pb.RemovePodSandboxResponse, api,
       timeout=120)


def check_maps(what, got, labels, annotations):
    if dict(got.labels) != labels:
        fail('%s: labels %s, expected %s' % (what, dict(got.labels), labels))
    if dict(got.annotations) != annotations:
        fail('%s: annotations %s, expected %s' % (what, dict(got.annotations), annotations))


def wait_trap_set(marker, timeout=30):
    """Until the shell named marker ($0) runs its loop (a sleep child):
    its trap is set by then. Seen from the host, which sees every pod's
    processes."""
    end = time.time() + timeout
    while time.time() < end:
        for pid in filter(str.isdigit, os.listdir('/proc')):
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    if not f.read().startswith(b'sleep\0'):
                        continue
                with open('/proc/%s/stat' % pid) as f:
                    ppid = f.read().rsplit(')', 1)[1].split()[1]
                with open('/proc/%s/cmdline' % ppid, 'rb') as f:
                    if marker.encode() in f.read().split(b'\0'):
                        return
            except (OSError, IndexError):
                continue
        time.sleep(0.1)
    fail('the shell %s never reached its loop' % marker)


def cmd_lifecycle(sock, api):
    ch = channel(sock)
    name = 'life-' + api
    cfg = sandbox_config(name)
    sid = run_sandbox(ch, api, cfg, handler='peapod')
    st = sandbox_status(ch, api, sid, verbose=True).status
    if st.id != sid or st.state != pb.SANDBOX_READY or st.metadata.name != name or st.metadata.namespace != 'default' \
            or st.metadata.uid != cfg.metadata.uid or st.metadata.attempt != 0:
        fail('PodSandboxStatus: %s' % st)
    check_maps('PodSandboxStatus', st, LABELS, ANNOTATIONS)
    if not st.network.ip:
        fail('PodSandboxStatus: no IP: %s' % st)
    if abs(st.created_at / 1e9 - time.time()) > 300:
        fail('PodSandboxStatus: created_at %d' % st.created_at)
    if st.linux.namespaces.options.network != pb.POD:
        fail('PodSandboxStatus: network mode %s' % st.linux.namespaces.options.network)
    # Filters: id prefix, state, labels.
    if list_sandboxes(ch, api, id=sid[:10]) != [sid]:
        fail('ListPodSandbox by id prefix')
    if sid not in list_sandboxes(ch, api, state=pb.SANDBOX_READY) or sid in list_sandboxes(ch, api, state=pb.SANDBOX_NOTREADY):
        fail('ListPodSandbox by state')
    if sid not in list_sandboxes(ch, api, labels={'app': 'web'}) or sid in list_sandboxes(ch, api, labels={'app': 'db'}):
        flt = list_sandboxes(ch, api, labels={'app': 'web'})
        fail('ListPodSandbox by label: %s' % flt)

    # A container that ignores SIGTERM: stopped by SIGKILL after the timeout.
    labels = {'io.kubernetes.container.name': 'stubborn'}
    annotations = {'io.kubernetes.container.hash': 'abc123', 'multi': 'line\none'}
    marker = 'stubborn-%s-%d' % (api, os.getpid())
    cid = create(ch, api, sid, cfg, container_config('stubborn', ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done', marker],
                                                     labels=labels, annotations=annotations))
    s = cstatus(ch, api, cid)
    if s.state != pb.CONTAINER_CREATED or s.metadata.name != 'stubborn' or s.image.image != IMAGE \
            or not s.image_ref.startswith('sha256:') or s.log_path != cfg.log_directory + '/stubborn/0.log':
        fail('ContainerStatus after create: %s' % s)
    check_maps('ContainerStatus', s, labels, annotations)
    if list_containers(ch, api, sandbox=sid) != [cid] or list_containers(ch, api, id=cid[:40]) != [cid] \
            or list_containers(ch, api, labels={'io.kubernetes.container.name': 'stubborn'}) != [cid] \
            or list_containers(ch, api, state=pb.CONTAINER_CREATED, sandbox=sid) != [cid]:
        fail('ListContainers filters')
    start(ch, api, cid)
    s = wait_state(ch, api, cid, pb.CONTAINER_RUNNING)
    if s.started_at < s.created_at:
        fail('ContainerStatus: started %d before created %d' % (s.started_at, s.created_at))
    if list_containers(ch, api, state=pb.CONTAINER_RUNNING, sandbox=sid) != [cid]:
        fail('ListContainers by state running')
    wait_trap_set(marker)
    t0 = time.time()
    stop(ch, api, cid, 3)
    took = time.time() - t0
    s = cstatus(ch, api, cid)
    if s.state != pb.CONTAINER_EXITED or s.exit_code != 137 or s.reason != 'Error' or s.finished_at < s.started_at:
        fail('ContainerStatus after StopContainer: %s' % s)
    if took < 2.9 or took > 20:
        fail('StopContainer with timeout 3 took %.1f s' % took)
    # Stopping a stopped container is fine.
    stop(ch, api, cid, 3)

    # A client that gives up before the timeout: the stop goes on to SIGKILL.
    cid3 = create(ch, api, sid, cfg, container_config('stubborn2', ['sh', '-c', 'trap "" TERM; while :; do sleep 1; done',
                                                                    marker + '-2']))
    start(ch, api, cid3)
    wait_state(ch, api, cid3, pb.CONTAINER_RUNNING)
    wait_trap_set(marker + '-2')
    expect_code(grpc.StatusCode.DEADLINE_EXCEEDED,
                lambda: call(ch, 'StopContainer', pb.StopContainerRequest(container_id=cid3, timeout=2),
                             pb.StopContainerResponse, api=api, timeout=0.5), 'StopContainer with a client that gives up')
    s = wait_state(ch, api, cid3, pb.CONTAINER_EXITED, timeout=30)
    if s.exit_code != 137:
        fail('a stop its client gave up on: %s' % s)
    remove(ch, api, cid3)

    # One that exits by itself: Completed.
    cid2 = create(ch, api, sid, cfg, container_config('done', ['sh', '-c', 'test "$GREETING" = "hello world"']))
    start(ch, api, cid2)
    s = wait_state(ch, api, cid2, pb.CONTAINER_EXITED)
    if s.exit_code != 0 or s.reason != 'Completed':
        fail('ContainerStatus of a finished container: %s' % s)

    for c in (cid, cid2):
        remove(ch, api, c)
        expect_code(grpc.StatusCode.NOT_FOUND, lambda: cstatus(ch, api, c), 'ContainerStatus after RemoveContainer')
        remove(ch, api, c)
    if list_containers(ch, api, sandbox=sid):
        fail('ListContainers after the removals')
    stop_sandbox(ch, api, sid)
    if sandbox_status(ch, api, sid).status.state != pb.SANDBOX_NOTREADY:
        fail('PodSandboxStatus after StopPodSandbox')
    stop_sandbox(ch, api, sid)
    remove_sandbox(ch, api, sid)
    expect_code(grpc.StatusCode.NOT_FOUND, lambda: sandbox_status(ch, api, sid), 'PodSandboxStatus after RemovePodSandbox')
    # Idempotent, also for ids never seen.
    remove_sandbox(ch, api, sid)
    stop_sandbox(ch, api, sid)
    remove_sandbox(ch, api, '0' * 32)
    stop_sandbox(ch, api, '0' * 32)
    remove(ch, api, '0' * 64)
    print('lifecycle %s: ok (stop of a TERM-ignoring container with timeout 3 took %.1f s)' % (api, took))


def cmd_pair(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('pair-' + api)
    cfg.port_mappings.add(protocol=pb.TCP, container_port=8080, host_port=18088)
    # Namespaced sysctls: the pod's network and IPC namespaces get them, the host keeps its own.
    cfg.linux.sysctls['net.ipv4.ip_unprivileged_port_start'] = '81'
    cfg.linux.sysctls['kernel.shmmni'] = '1234'
    host_sysctls = [open('/proc/sys/' + k).read() for k in ('net/ipv4/ip_unprivileged_port_start', 'kernel/shmmni')]
    sid = run_sandbox(ch, api, cfg)
    if [open('/proc/sys/' + k).read() for k in ('net/ipv4/ip_unprivileged_port_start', 'kernel/shmmni')] != host_sysctls:
        fail('a pod\'s sysctls changed the host\'s')
    # The published port, and only that one (a container port alone is only declared).
    ports = json.loads(subprocess.run(['peapod', 'status', '--format=json', sid], check=True,
                                      stdout=subprocess.PIPE).stdout)['ports']
    if [(p['protocol'], p['host_port'], p['pod_port']) for p in ports] != [('tcp', 18088, 8080)]:
        fail('the sandbox publishes %s' % ports)
    server = create(ch, api, sid, cfg, container_config(
        'server', ['sh', '-c', 'mkdir -p /tmp/w && echo shared-net > /tmp/w/index.html && exec httpd -f -p 8080 -h /tmp/w']))
    client = create(ch, api, sid, cfg, container_config(
        'client', ['sh', '-c', 'grep -qx "options ndots:5" /etc/resolv.conf || exit 7;'
                   ' grep -qx "search default.svc.cluster.local" /etc/resolv.conf || exit 8;'
                   ' grep -qx "nameserver 10.96.0.10" /etc/resolv.conf || exit 9;'
                   ' test "$(cat /proc/sys/net/ipv4/ip_unprivileged_port_start)" = 81 || exit 10;'
                   ' test "$(cat /proc/sys/kernel/shmmni)" = 1234 || exit 11;'
                   ' for i in $(seq 100); do test "$(wget -q -O - http://127.0.0.1:8080/)" = shared-net && exit 0;'
                   ' sleep 0.2; done; exit 1']))
    start(ch, api, server)
    wait_state(ch, api, server, pb.CONTAINER_RUNNING)
    start(ch, api, client)
    s = wait_state(ch, api, client, pb.CONTAINER_EXITED)
    if s.exit_code in (7, 8, 9):
        fail('the sandbox\'s resolv.conf lacks the DNS config (options, search, nameserver): exit %d' % s.exit_code)
    if s.exit_code in (10, 11):
        fail('the sandbox\'s sysctls are not set in its namespaces: exit %d' % s.exit_code)
    if s.exit_code != 0:
        fail('the client did not fetch from the server through localhost: exit %d' % s.exit_code)
    # kubelet's probes go to the address PodSandboxStatus gives.
    ip = sandbox_status(ch, api, sid).status.network.ip
    body = urllib.request.urlopen('http://%s:8080/' % ip, timeout=10).read()
    if body != b'shared-net\n':
        fail('the server at the sandbox\'s address %s answered %r' % (ip, body))
    stop_sandbox(ch, api, sid)
    if cstatus(ch, api, server).state != pb.CONTAINER_EXITED:
        fail('the server runs on after StopPodSandbox')
    remove_sandbox(ch, api, sid)
    print('pair %s: ok' % api)


# Each check exits with its own code, so that a failure says which.
SECURITY_SCRIPT = '''
test "$(id -u)" = 1000 || exit 11
test "$(id -g)" = 1000 || exit 12
id -G | tr ' ' '\\n' | grep -qx 1234 || exit 13
grep -q '^CapEff:[[:space:]]*0000000000000400$' /proc/self/status || exit 14
grep -q '^CapBnd:[[:space:]]*0000000000000400$' /proc/self/status || exit 15
grep -q '^NoNewPrivs:[[:space:]]*1$' /proc/self/status || exit 16
touch /written 2>/dev/null && exit 17
grep -q '^Seccomp:[[:space:]]*2$' /proc/self/status || exit 18
exit 0
'''

DEFAULT_SCRIPT = '''
test "$(id -u)" = 0 || exit 21
grep -q '^CapEff:[[:space:]]*0000000000000000$' /proc/self/status && exit 22
grep -q '^CapBnd:.*' /proc/self/status || exit 23
touch /written || exit 24
grep -q '^NoNewPrivs:[[:space:]]*0$' /proc/self/status || exit 25
exit 0
'''


def cmd_security(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('sec-' + api)
    sid = run_sandbox(ch, api, cfg)
    tight = create(ch, api, sid, cfg, container_config(
        'tight', ['sh', '-c', SECURITY_SCRIPT], run_as_user=1000, run_as_group=1000, supplemental_groups=[1234],
        drop=['ALL'], add=['NET_BIND_SERVICE'], readonly_rootfs=True, no_new_privs=True, memory=64 * 1024 * 1024))
    loose = create(ch, api, sid, cfg, container_config('loose', ['sh', '-c', DEFAULT_SCRIPT], no_new_privs=False,
                                                       seccomp_profile_path='unconfined'))
    # A localhost profile (OCI JSON) that denies mkdir.
    profile = '/tmp/crit-seccomp-%d.json' % os.getpid()
    with open(profile, 'w') as f:
        json.dump({'defaultAction': 'SCMP_ACT_ALLOW', 'architectures': ['SCMP_ARCH_X86_64'],
                   'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 1}]}, f)
    cfg_local = container_config('local', ['sh', '-c', 'mkdir /tmp/d 2>/dev/null && exit 41; touch /tmp/f || exit 42; exit 0'])
    cfg_local.linux.security_context.seccomp.profile_type = pb.SecurityProfile.Localhost
    cfg_local.linux.security_context.seccomp.localhost_ref = profile
    local = create(ch, api, sid, cfg, cfg_local)
    os.unlink(profile)
    for c in (tight, loose, local):
        start(ch, api, c)
        s = wait_state(ch, api, c, pb.CONTAINER_EXITED)
        if s.exit_code != 0:
            fail('security check in %s failed with %d' % (s.metadata.name, s.exit_code))
    remove_sandbox(ch, api, sid)
    print('security %s: ok' % api)


def cmd_refusals(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('ref-' + api)
    inv, nf = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND
    before = list_sandboxes(ch, api)
    bad = pb.PodSandboxConfig()
    bad.CopyFrom(cfg)
    # Sysctls of the host's (not namespaced), or net.* on the host's network: refused, naming the key.
    bad.linux.sysctls['kernel.core_pattern'] = '|/bin/false'
    msg = expect_code(inv, lambda: run_sandbox(ch, api, bad), 'RunPodSandbox with a host sysctl')
    if 'kernel.core_pattern' not in msg:
        fail('the refusal of a sysctl does not name it: %s' % msg)
    bad.CopyFrom(cfg)
    bad.linux.security_context.namespace_options.network = pb.NODE
    bad.linux.sysctls['net.ipv4.ip_forward'] = '1'
    msg = expect_code(inv, lambda: run_sandbox(ch, api, bad), 'RunPodSandbox with net.* on the host network')
    if 'net.ipv4.ip_forward' not in msg:
        fail('the refusal of a sysctl does not name it: %s' % msg)
    bad.CopyFrom(cfg)
    bad.linux.sysctls['kernel.shmmni'] = '1\n2'
    expect_code(inv, lambda: run_sandbox(ch, api, bad), 'RunPodSandbox with a sysctl value of two lines')
    bad.CopyFrom(cfg)
    bad.linux.security_context.namespace_options.pid = pb.NODE
    expect_code(inv, lambda: run_sandbox(ch, api, bad), 'RunPodSandbox with the host PID namespace')
    bad.CopyFrom(cfg)
    bad.linux.security_context.namespace_options.ipc = pb.NODE
    expect_code(inv, lambda: run_sandbox(ch, api, bad), 'RunPodSandbox with the host IPC namespace')
    expect_code(inv, lambda: run_sandbox(ch, api, cfg, handler='runc'), 'RunPodSandbox with another handler')
    if list_sandboxes(ch, api) != before:
        fail('a refused RunPodSandbox left a sandbox')

    sid = run_sandbox(ch, api, cfg)
    # The same metadata (name, namespace, attempt) twice: the name is taken.
    expect_code(grpc.StatusCode.ALREADY_EXISTS, lambda: run_sandbox(ch, api, cfg), 'RunPodSandbox of a sandbox again')
    if len(list_sandboxes(ch, api)) != len(before) + 1:
        fail('a second RunPodSandbox of the same sandbox left a sandbox')
    ok = container_config('x', ['true'])
    cases = [
        ('an unknown image', nf, lambda c: c.image.__setattr__('image', 'localhost/no-such-image:latest')),
        ('run_as_group without a user', inv, lambda c: c.linux.security_context.run_as_group.__setattr__('value', 5)),
        ('privileged in a sandbox that is not', inv, lambda c: c.linux.security_context.__setattr__('privileged', True)),
        ('a localhost seccomp profile', inv, lambda c: c.linux.security_context.__setattr__('seccomp_profile_path',
                                                                                               'localhost/p.json')),
        ('a bare seccomp path', inv, lambda c: c.linux.security_context.__setattr__('seccomp_profile_path', '/p.json')),
        ('an unknown capability', inv, lambda c: c.linux.security_context.capabilities.add_capabilities.append('NOPE')),
        ('a shared mount', inv, lambda c: c.mounts.add(container_path='/data', host_path='/tmp',
                                                        propagation=pb.PROPAGATION_BIDIRECTIONAL)),
        # kubelet's default: allowPrivilegeEscalation, no_new_privs false.
        ('a slave mount without no_new_privs', inv,
         lambda c: (c.linux.security_context.__setattr__('no_new_privs', False),
                    c.mounts.add(container_path='/data', host_path='/tmp',
                                 propagation=pb.PROPAGATION_HOST_TO_CONTAINER))),
        ('a read-only slave mount', inv, lambda c: (c.linux.security_context.__setattr__('no_new_privs', True),
                                                    c.mounts.add(container_path='/data', host_path='/tmp', readonly=True,
                                                                 propagation=pb.PROPAGATION_HOST_TO_CONTAINER))),
        ('a mount of a missing path', inv, lambda c: c.mounts.add(container_path='/data', host_path='/no/such/path')),
    ]
    # The field and the reason, named.
    words = {'a shared mount': 'privileged', 'a slave mount without no_new_privs': 'no_new_privs',
             'a read-only slave mount': 'readonly'}
    for what, code, change in cases:
        c = pb.ContainerConfig()
        c.CopyFrom(ok)
        change(c)
        msg = expect_code(code, lambda: create(ch, api, sid, cfg, c), 'CreateContainer with ' + what)
        if what in words and words[what] not in msg:
            fail('the refusal of %s does not say %r: %s' % (what, words[what], msg))
    expect_code(nf, lambda: create(ch, api, '0' * 32, cfg, ok), 'CreateContainer in an unknown sandbox')
    expect_code(nf, lambda: create(ch, api, 'nope', cfg, ok), 'CreateContainer in a malformed sandbox id')
    if list_containers(ch, api, sandbox=sid):
        fail('a refused CreateContainer left a container')
    for bad_id in ('', 'nope', sid, sid + '0' * 32):
        expect_code(nf, lambda: cstatus(ch, api, bad_id), 'ContainerStatus of %r' % bad_id)
        expect_code(nf, lambda: start(ch, api, bad_id), 'StartContainer of %r' % bad_id)
    expect_code(nf, lambda: sandbox_status(ch, api, 'nope'), 'PodSandboxStatus of a malformed id')
    expect_code(inv, lambda: remove_sandbox(ch, api, 'nope'), 'RemovePodSandbox of a malformed id')
    remove_sandbox(ch, api, sid)
    print('refusals %s: ok' % api)


MOUNTS_SCRIPT = '''
test "$(cat /ro/hello)" = hi || exit 31
touch /ro/new 2>/dev/null && exit 32
test "$(cat /rw/hello)" = hi || exit 33
echo written > /rw/out || exit 34
exit 0
'''


def cmd_mounts(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('mnt-' + api)
    sid = run_sandbox(ch, api, cfg)
    host = '/tmp/crit-mounts-%d' % os.getpid()
    os.makedirs(host + '/data', exist_ok=True)
    with open(host + '/data/hello', 'w') as f:
        f.write('hi\n')
    if not os.path.islink(host + '/link'):
        os.symlink('data', host + '/link')
    c = container_config('mounter', ['sh', '-c', MOUNTS_SCRIPT])
    c.mounts.add(container_path='/ro', host_path=host + '/link', readonly=True)
    c.mounts.add(container_path='/rw', host_path=host + '/data', propagation=pb.PROPAGATION_PRIVATE)
    cid = create(ch, api, sid, cfg, c)
    got = [(m.container_path, m.host_path, m.readonly) for m in cstatus(ch, api, cid).mounts]
    if got != [('/ro', host + '/link', True), ('/rw', host + '/data', False)]:
        fail('ContainerStatus mounts: %s' % got)
    start(ch, api, cid)
    s = wait_state(ch, api, cid, pb.CONTAINER_EXITED)
    if s.exit_code != 0:
        fail('mount check failed with %d' % s.exit_code)
    with open(host + '/data/out') as f:
        if f.read() != 'written\n':
            fail('what the container wrote into its read-write mount')
    if os.path.exists(host + '/data/new'):
        fail('the container wrote into its read-only mount')
    remove(ch, api, cid)
    with open('/proc/self/mountinfo') as f:
        left = [line for line in f if '/pods/%s/volumes/' % sid in line]
    if left:
        fail('RemoveContainer left the mounts of its volumes: %s' % left)
    remove_sandbox(ch, api, sid)
    shutil.rmtree(host)
    print('mounts %s: ok' % api)


PROPAGATION_SCRIPT = '''
echo started > /rw/started
until [ -e /slave/sub/marker ]; do sleep 0.1; done
test "$(cat /slave/sub/marker)" = arrived || exit 41
test -e /private/sub/marker && exit 42
exit 0
'''


def cmd_propagation(sock, api):
    """HOST_TO_CONTAINER: a tmpfs the host mounts below host_path after the
    container started appears in it; a PRIVATE mount of the same path does
    not see it. The caller gives a host_path on a shared mount."""
    ch = channel(sock)
    host = os.environ['CRIT_SHARED_DIR']
    cfg = sandbox_config('prop-' + api)
    sid = run_sandbox(ch, api, cfg)
    c = container_config('watcher', ['sh', '-c', PROPAGATION_SCRIPT], no_new_privs=True)
    c.mounts.add(container_path='/slave', host_path=host, propagation=pb.PROPAGATION_HOST_TO_CONTAINER)
    c.mounts.add(container_path='/private', host_path=host)
    c.mounts.add(container_path='/rw', host_path=host)
    cid = create(ch, api, sid, cfg, c)
    got = [(m.container_path, m.propagation) for m in cstatus(ch, api, cid).mounts]
    if got != [('/slave', pb.PROPAGATION_HOST_TO_CONTAINER), ('/private', pb.PROPAGATION_PRIVATE),
               ('/rw', pb.PROPAGATION_PRIVATE)]:
        fail('ContainerStatus mounts: %s' % got)
    start(ch, api, cid)
    end = time.time() + 60
    while not os.path.exists(host + '/started'):
        if time.time() > end:
            fail('the container did not start')
        time.sleep(0.1)
    # Only now, with the container running: the host's mount.
    os.makedirs(host + '/sub', exist_ok=True)
    subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', host + '/sub'], check=True)
    try:
        with open(host + '/sub/marker', 'w') as f:
            f.write('arrived\n')
        s = wait_state(ch, api, cid, pb.CONTAINER_EXITED)
        if s.exit_code != 0:
            fail('the container saw %s (41: not the host mount, 42: the host mount in a private mount)' % s.exit_code)
        remove(ch, api, cid)
        with open('/proc/self/mountinfo') as f:
            left = [line for line in f if '/pods/%s/volumes/' % sid in line]
        if left:
            fail('RemoveContainer left the mounts of its volumes: %s' % left)
    finally:
        subprocess.run(['umount', host + '/sub'], check=False)
    remove_sandbox(ch, api, sid)
    print('propagation %s: ok' % api)


BIDIRECTIONAL_SCRIPT = '''
mount -t tmpfs -o mode=0755 fromapp /shared/fromapp || exit 43
echo made > /shared/fromapp/marker
echo started > /rw/started
until [ -e /shared/fromhost/marker ]; do sleep 0.1; done
test "$(cat /shared/fromhost/marker)" = arrived || exit 41
exit 0
'''


def cmd_bidirectional(sock, api):
    """BIDIRECTIONAL (rshared) in a privileged container: a tmpfs it mounts
    below container_path appears on the host below host_path, and one the
    host mounts below host_path after the start appears in it.
    ContainerStatus gives the propagation back. In a privileged sandbox, a
    container that is not privileged is refused naming why. What the
    container mounted stays on the host (as with runc) until the host
    unmounts it; nothing of the sandbox stays. The caller gives a host_path
    on a shared mount."""
    ch = channel(sock)
    inv = grpc.StatusCode.INVALID_ARGUMENT
    host = os.environ['CRIT_SHARED_DIR']
    cfg = sandbox_config('bidir-' + api)
    cfg.linux.security_context.privileged = True
    sid = run_sandbox(ch, api, cfg)
    for d in ('fromapp', 'fromhost'):
        os.makedirs(os.path.join(host, d), exist_ok=True)
    plain = container_config('plain', ['true'], no_new_privs=True)
    plain.mounts.add(container_path='/shared', host_path=host, propagation=pb.PROPAGATION_BIDIRECTIONAL)
    msg = expect_code(inv, lambda: create(ch, api, sid, cfg, plain),
                      'CreateContainer of a BIDIRECTIONAL mount in a container that is not privileged')
    if 'BIDIRECTIONAL' not in msg or 'privileged' not in msg:
        fail('the refusal does not say why: %s' % msg)
    if list_containers(ch, api, sandbox=sid):
        fail('a refused CreateContainer left a container')
    c = container_config('csi', ['sh', '-c', BIDIRECTIONAL_SCRIPT], privileged=True)
    c.mounts.add(container_path='/shared', host_path=host, propagation=pb.PROPAGATION_BIDIRECTIONAL)
    c.mounts.add(container_path='/rw', host_path=host)
    cid = create(ch, api, sid, cfg, c)
    got = [(m.container_path, m.propagation) for m in cstatus(ch, api, cid).mounts]
    if got != [('/shared', pb.PROPAGATION_BIDIRECTIONAL), ('/rw', pb.PROPAGATION_PRIVATE)]:
        fail('ContainerStatus mounts: %s' % got)
    start(ch, api, cid)
    try:
        end = time.time() + 60
        while not os.path.exists(host + '/started'):
            if time.time() > end:
                fail('the container did not start: %s' % cstatus(ch, api, cid).exit_code)
            time.sleep(0.1)
        try:
            with open(host + '/fromapp/marker') as f:
                if f.read() != 'made\n':
                    fail('the marker of the container\'s mount on the host')
        except FileNotFoundError:
            fail('the container\'s mount below container_path did not reach the host')
        subprocess.run(['mount', '-t', 'tmpfs', 'tmpfs', host + '/fromhost'], check=True)
        with open(host + '/fromhost/marker', 'w') as f:
            f.write('arrived\n')
        s = wait_state(ch, api, cid, pb.CONTAINER_EXITED)
        if s.exit_code != 0:
            fail('the container ended with %s (41: not the host mount, 43: its own mount failed)' % s.exit_code)
        remove(ch, api, cid)
        remove_sandbox(ch, api, sid)
        with open('/proc/self/mountinfo') as f:
            left = [line for line in f if '/pods/%s/' % sid in line]
        if left:
            fail('RemovePodSandbox left mounts: %s' % left)
        # The host's own mount below host_path survived the pin's removal.
        if not os.path.ismount(host + '/fromhost'):
            fail('removing the sandbox unmounted the host\'s mount below host_path')
    finally:
        for d in ('fromapp', 'fromhost'):
            while subprocess.run(['mountpoint', '-q', os.path.join(host, d)]).returncode == 0:
                subprocess.run(['umount', os.path.join(host, d)], check=True)
    print('bidirectional %s: ok' % api)


CRI_LINE = re.compile(rb'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (stdout|stderr) F (.*)$')


def wait_log_lines(path, n, timeout=60):
    """The CRI log file once it has n lines, as (stream, message) pairs."""
    end = time.time() + timeout
    lines = []
    while time.time() < end:
        try:
            with open(path, 'rb') as f:
                lines = f.read().split(b'\n')
        except FileNotFoundError:
            lines = []
        if lines and lines[-1] == b'':
            lines.pop()
        if len(lines) >= n:
            break
        time.sleep(0.2)
    out = []
    for line in lines:
        m = CRI_LINE.match(line)
        if not m:
            fail('%s: not a CRI log line: %r' % (path, line))
        out.append((m.group(1).decode(), m.group(2).decode()))
    if len(out) != n:
        fail('%s: %d lines, expected %d: %s' % (path, len(out), n, out[-5:]))
    return out


def cmd_logs(sock, api):
    ch = channel(sock)
    cfg = sandbox_config('logs-' + api)
    sid = run_sandbox(ch, api, cfg)
    cid = create(ch, api, sid, cfg, container_config('printer', ['sh', '-c', 'for i in $(seq 1 50); do echo "line $i"; done; '
                                                                 'echo "to stderr" >&2']))
    start(ch, api, cid)
    s = wait_state(ch, api, cid, pb.CONTAINER_EXITED)
    got = wait_log_lines(s.log_path, 51)
    want = [('stdout', 'line %d' % i) for i in range(1, 51)] + [('stderr', 'to stderr')]
    if sorted(got) != sorted(want) or [x for x in got if x[0] == 'stdout'] != want[:50]:
        fail('log lines: %s' % got)
    remove_sandbox(ch, api, sid)
    shutil.rmtree(cfg.log_directory, ignore_errors=True)
    print('logs %s: ok' % api)


def describe(ch, api, sid, cid):
    st = sandbox_status(ch, api, sid).status
    c = cstatus(ch, api, cid)
    return {'sandbox': {'id': st.id, 'name': st.metadata.name, 'uid': st.metadata.uid, 'attempt': st.metadata.attempt,
                        'created_at': st.created_at, 'labels': dict(st.labels), 'annotations': dict(st.annotations)},
            'container': {'id': c.id, 'name': c.metadata.name, 'attempt': c.metadata.attempt, 'image': c.image.image,
                          'image_ref': c.image_ref, 'created_at': c.created_at, 'started_at': c.started_at,
                          'log_path': c.log_path, 'labels': dict(c.labels), 'annotations': dict(c.annotations)}}


def cmd_save(sock, path):
    ch = channel(sock)
    cfg = sandbox_config('restart', attempt=2)
    sid = run_sandbox(ch, 'v1', cfg)
    cid = create(ch, 'v1', sid, cfg, container_config(
        'sleeper', ['sh', '-c', 'trap "" TERM; for i in $(seq 1 40); do echo "tick $i"; sleep 0.1; done; exec sleep 1000'],
        attempt=3,
        labels={'k': 'v'}, annotations={'a': 'b\nc'}))
    start(ch, 'v1', cid)
    wait_state(ch, 'v1', cid, pb.CONTAINER_RUNNING)
    # One created and not started across the restarts.
    later = create(ch, 'v1', sid, cfg, container_config('later', ['sh', '-c', 'echo "$GREETING"'], labels={'k': 'later'}))
    d = describe(ch, 'v1', sid, cid)
    d['later'] = later
    with open(path, 'w') as f:
        json.dump(d, f)
    print('saved sandbox %s container %s' % (sid, cid))


def cmd_check(sock, path):
    ch = channel(sock)
    with open(path) as f:
        saved = json.load(f)
    sid, cid, later = saved['sandbox']['id'], saved['container']['id'], saved.pop('later')
    for api in ('v1', 'v1alpha2'):
        now = describe(ch, api, sid, cid)
        if now != saved:
            fail('after the restarts (%s): %s, before: %s' % (api, now, saved))
    if cstatus(ch, 'v1', cid).state != pb.CONTAINER_RUNNING:
        fail('the container does not run after the restarts')
    if list_containers(ch, 'v1', labels={'k': 'v'}) != [cid] or sid not in list_sandboxes(ch, 'v1', labels={'app': 'web'}):
        fail('the label filters lost the sandbox or container after the restarts')
    if cstatus(ch, 'v1', later).state != pb.CONTAINER_CREATED:
        fail('the created container is not created any more after the restarts')
    start(ch, 'v1alpha2', later)
    s = wait_state(ch, 'v1alpha2', later, pb.CONTAINER_EXITED)
    if s.exit_code != 0 or wait_log_lines(s.log_path, 1) != [('stdout', 'hello world')]:
        fail('the container created before the restarts and started after them: %s' % s)
    # Every line once, across the restarts, in order.
    got = wait_log_lines(saved['container']['log_path'], 40)
    if got != [('stdout', 'tick %d' % i) for i in range(1, 41)]:
        fail('the log across the restarts: %s' % got)
    # A stop (of a container that ignores SIGTERM) while peapodd restarts:
    # it goes on when peapodd is back and ends with SIGKILL.
    done = []
    t = threading.Thread(target=lambda: done.append(stop(ch, 'v1', cid, 4)))
    t0 = time.time()
    t.start()
    subprocess.run(['systemctl', 'restart', 'peapodd.service'], check=True)
    t.join(120)
    took = time.time() - t0
    if not done:
        fail('StopContainer across a restart of peapodd did not answer')
    s = cstatus(ch, 'v1', cid)
    if s.state != pb.CONTAINER_EXITED or s.exit_code != 137 or took < 3.9:
        fail('StopContainer across a restart of peapodd: %s after %.1f s' % (s, took))
    remove(ch, 'v1', cid)
    remove(ch, 'v1', later)
    stop_sandbox(ch, 'v1', sid)
    remove_sandbox(ch, 'v1', sid)
    shutil.rmtree(os.path.dirname(os.path.dirname(saved['container']['log_path'])), ignore_errors=True)
    print('check: ok')


def cmd_stats_setup(sock, path):
    """Sandbox a (labels stats-pod=a) with busy (used some CPU) and idle
    running and later created, sandbox b (stats-pod=b) with other running;
    each container labelled stats=NAME. FILE gets the ids as crit.py
    stats wants them."""
    ch = channel(sock)
    made = {}
    running, created = [], []
    containers = {'a': [('busy', ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; exec sleep 100000']),
                        ('idle', ['sleep', '100000']), ('later', None)],
                  'b': [('other', ['sh', '-c', 'cat /proc/self/status >/dev/null; exec sleep 100000'])]}
    for pod in ('a', 'b'):
        cfg = sandbox_config('stats-' + pod)
        cfg.labels.clear()
        cfg.labels['stats-pod'] = pod
        sid = run_sandbox(ch, 'v1', cfg)
        made[pod] = sid
        for name, command in containers[pod]:
            cid = create(ch, 'v1', sid, cfg, container_config(name, command or ['sleep', '100000'],
                                                              labels={'stats': name}, annotations={'note': name}))
            made[name] = cid
            if command:
                start(ch, 'v1', cid)
                running.append(cid)
            else:
                created.append(cid)
    for cid in running:
        wait_state(ch, 'v1', cid, pb.CONTAINER_RUNNING)
    made['running'] = running
    made['created'] = created[0]
    with open(path, 'w') as f:
        json.dump(made, f)


def cmd_lists(sock, api):
    """ListPodSandbox and ListContainers (answered from peapod-cri's cache
    of peapodd's signals) against PodSandboxStatus and ContainerStatus
    (each a direct read of peapodd) and what the scenario did: sandboxes
    made, stopped and removed, containers made, started, exiting by
    themselves and stopped, before and after peapodd restarts."""
    ch = channel(sock)
    tag = 'lists-%s-%d' % (api, os.getpid())

    def sandboxes():
        f = pb.PodSandboxFilter()
        f.label_selector['lists'] = tag
        items = rt(ch, 'ListPodSandbox', pb.ListPodSandboxRequest(filter=f), pb.ListPodSandboxResponse, api).items
        return {s.id: s.state for s in items}

    def containers():
        f = pb.ContainerFilter()
        f.label_selector['lists'] = tag
        items = rt(ch, 'ListContainers', pb.ListContainersRequest(filter=f), pb.ListContainersResponse, api).containers
        return {c.id: c.state for c in items}

    def expect(what, want_sandboxes, want_containers, timeout=30):
        """Until both lists say exactly what is wanted (promptly: peapodd
        announced it); then each entry agrees with a direct status read."""
        got = {}

        def same():
            got['s'], got['c'] = sandboxes(), containers()
            return got['s'] == want_sandboxes and got['c'] == want_containers
        end = time.monotonic() + timeout
        while not same():
            if time.monotonic() > end:
                fail('%s: sandboxes %s containers %s, expected %s and %s' %
                     (what, got['s'], got['c'], want_sandboxes, want_containers))
            time.sleep(0.05)
        for sid, state in want_sandboxes.items():
            if sandbox_status(ch, api, sid).status.state != state:
                fail('%s: PodSandboxStatus of %s disagrees with the list' % (what, sid))
        for cid, state in want_containers.items():
            if cstatus(ch, api, cid).state != state:
                fail('%s: ContainerStatus of %s disagrees with the list' % (what, cid))

    # peapod-cri follows every pod with the same matches: their count does
    # not grow with the pods (dbus-daemon's own count, CRI_PID set by the test).
    cri_pid = os.environ.get('CRI_PID')
    matches_before = bus_match_rules(cri_pid) if cri_pid else None

    cfgs = {}
    for n in ('a', 'b', 'c'):
        cfgs[n] = sandbox_config('%s-%s' % (tag, n), host_network=True)
        cfgs[n].labels['lists'] = tag
        cfgs[n].linux.cgroup_parent = 'kubepods-besteffort-pod%s.slice' % n
    sids = {n: run_sandbox(ch, api, cfg) for n, cfg in cfgs.items()}
    expect('three sandboxes', {s: pb.SANDBOX_READY for s in sids.values()}, {})

    lbl = {'lists': tag}
    short = create(ch, api, sids['a'], cfgs['a'], container_config('short', ['sh', '-c', 'exit 3'], labels=lbl))
    long = create(ch, api, sids['a'], cfgs['a'], container_config('long', ['sleep', '1000'], labels=lbl))
    other = create(ch, api, sids['b'], cfgs['b'], container_config('other', ['sleep', '1000'], labels=lbl))
    want_s = {s: pb.SANDBOX_READY for s in sids.values()}
    want_c = {short: pb.CONTAINER_CREATED, long: pb.CONTAINER_CREATED, other: pb.CONTAINER_CREATED}
    expect('three containers created', want_s, want_c)
    if cri_pid and bus_match_rules(cri_pid) != matches_before:
        fail('peapod-cri had %d match rules before the sandboxes, %d with them' % (matches_before, bus_match_rules(cri_pid)))
    for cid in (short, long, other):
        start(ch, api, cid)
    # short exits by itself: nobody asked peapod-cri, peapodd's signal tells.
    want_c = {short: pb.CONTAINER_EXITED, long: pb.CONTAINER_RUNNING, other: pb.CONTAINER_RUNNING}
    expect('started, one exited by itself', want_s, want_c)
    if cstatus(ch, api, short).exit_code != 3:
        fail('ContainerStatus of short: exit code %d' % cstatus(ch, api, short).exit_code)
    # Verbose: peapodd's description under "info"; not without verbose.
    r = rt(ch, 'ContainerStatus', pb.ContainerStatusRequest(container_id=short, verbose=True), pb.ContainerStatusResponse, api)
    info = json.loads(r.info['info'])
    if info.get('State') != 'exited' or info.get('Result') != 'exited' or info.get('Status') != 3:
        fail('ContainerStatus verbose info: %s' % r.info)
    if cstatus_info(ch, api, short):
        fail('ContainerStatus without verbose has info')
    info = json.loads(sandbox_status(ch, api, sids['a'], verbose=True).info['info'])
    if info.get('Id') != sids['a'] or info.get('State') != 'running' or info.get('Annotations', {}).get('cri/name') != cfgs['a'].metadata.name \
            or info['Annotations'].get('cri/cgroup-parent') != 'kubepods-besteffort-poda.slice':
        fail('PodSandboxStatus verbose info: %s' % info)

    stop(ch, api, long, 10)
    want_c[long] = pb.CONTAINER_EXITED
    expect('a container stopped', want_s, want_c)
    stop_sandbox(ch, api, sids['b'])
    want_s[sids['b']] = pb.SANDBOX_NOTREADY
    want_c[other] = pb.CONTAINER_EXITED
    expect('a sandbox stopped', want_s, want_c)

    # peapodd restarts: peapod-cri reads everything again, then follows the new one.
    subprocess.run(['systemctl', 'restart', 'peapodd.service'], check=True)
    expect('after peapodd restarted', want_s, want_c)
    remove_sandbox(ch, api, sids['c'])
    del want_s[sids['c']]
    again = create(ch, api, sids['a'], cfgs['a'], container_config(
        'again', ['sh', '-c', 'dd if=/dev/zero of=/written bs=1048576 count=2 && exec sleep 1000'], attempt=1, labels=lbl))
    want_c[again] = pb.CONTAINER_CREATED
    expect('a sandbox removed and a container made after the restart', want_s, want_c)
    start(ch, api, again)
    remove(ch, api, short)
    want_c[again] = pb.CONTAINER_RUNNING
    del want_c[short]
    expect('started and removed after the restart', want_s, want_c)

    # Its writable layer (the overlay's upper dir, measured off peapod-cri's
    # loop): the 2 MiB it wrote, soon; a container that wrote nothing, less.
    def layer(cid):
        w = rt(ch, 'ContainerStats', pb.ContainerStatsRequest(container_id=cid), pb.ContainerStatsResponse, api).stats.writable_layer
        return w.used_bytes.value, w.inodes_used.value
    layer(other)    # asked first: measured in the same walks as again
    wait_until('the writable layer of a container that wrote 2 MiB', lambda: layer(again)[0] >= 2 * 1048576, timeout=60)
    if layer(again)[1] < 1:
        fail('writable layer: %s' % (layer(again),))
    if layer(other)[0] >= 1048576:
        fail('writable layer of a container that wrote nothing: %s' % (layer(other),))

    # Once more, with a container exiting while peapodd is away: it learns
    # of the exit when it comes back, and so do the lists.
    # Masked meanwhile, so that no call (peapod-cri's log follower asks
    # every second) starts it again by bus activation before the kill.
    unit = unit_of(again)
    subprocess.run(['systemctl', 'mask', '--runtime', 'peapodd.service'], check=True)
    try:
        subprocess.run(['systemctl', 'stop', 'peapodd.service'], check=True)
        subprocess.run(['systemctl', 'kill', '--signal=KILL', '--kill-who=all', unit], check=True)
    finally:
        subprocess.run(['systemctl', 'unmask', '--runtime', 'peapodd.service'], check=True)
    # The next list starts peapodd again (bus activation).
    want_c[again] = pb.CONTAINER_EXITED
    expect('a container killed while peapodd was stopped', want_s, want_c, timeout=60)

    for sid in sids.values():
        if sid != sids['c']:
            stop_sandbox(ch, api, sid)
            remove_sandbox(ch, api, sid)
    expect('all removed', {}, {})
    print('lists %s: ok (peapod-cri held %s bus match rules throughout)' % (api, matches_before))


def bus_match_rules(pid):
    """How many match rules the bus holds for the connection of process pid."""
    names = [line.split()[0] for line in subprocess.run(['busctl', 'list', '--no-legend'], check=True, capture_output=True,
                                                         text=True).stdout.splitlines()
             if line.startswith(':') and line.split()[1] == str(pid)]
    if len(names) != 1:
        fail('no single bus connection of pid %s: %s' % (pid, names))
    out = subprocess.run(['busctl', 'call', 'org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.Debug.Stats',
                          'GetConnectionStats', 's', names[0]], check=True, capture_output=True, text=True).stdout.split()
    return int(out[out.index('"MatchRules"') + 2])


def unit_of(cid):
    """The systemd unit of a container's app, as peapodd says."""
    out = subprocess.run(['busctl', '--json=short', 'get-property', 'org.peapod1', '/org/peapod1/pod/' + cid[:32],
                          'org.peapod1.Pod', 'Apps'], check=True, capture_output=True, text=True).stdout
    for name, app_id, image, exe, unit, state, result, status in json.loads(out)['data']:
        if app_id == cid[32:]:
            return unit
    fail('no unit for %s in %s' % (cid, out))


def main():
    if len(sys.argv) != 4:
        fail('usage: crit_pods.py SOCKET lifecycle|pair|security|refusals|logs|mounts|propagation|bidirectional API | '
             'save|check|stats-setup FILE')
    sock, what, arg = sys.argv[1:]
    cmds = {'lifecycle': cmd_lifecycle, 'logs': cmd_logs, 'mounts': cmd_mounts, 'pair': cmd_pair, 'security': cmd_security, 'refusals': cmd_refusals,
            'propagation': cmd_propagation, 'bidirectional': cmd_bidirectional,
            'lists': cmd_lists, 'save': cmd_save, 'check': cmd_check, 'stats-setup': cmd_stats_setup}
    if what not in cmds:
        fail('unknown check ' + what)
    cmds[what](sock, arg)


if __name__ == '__main__':
    main()
