#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real gRPC client of peapod-cri: Debian's python3-grpcio with message
# classes made from our src/cri/cri.proto by protoc (protobuf-compiler) at
# start. Each check is a subcommand; it exits 0, or 1 with what was wrong.
#
#   crit.py SOCKET basics        Version (both APIs), Status, ImageFsInfo, ListImages,
#                                ImageStatus, refusals
#   crit.py SOCKET images        PullImage (credentials, policy, cancel), ImageStatus by
#                                every kind of reference (env: see cmd_images)
#   crit.py SOCKET images-remove RemoveImage (after images; env: see cmd_images_remove)
#   crit.py SOCKET exec          ExecSync (output, exit codes, privileges, cap, timeout, cancel)
#   crit.py SOCKET stats         Container and PodSandbox stats, one and lists, filters, labels
#   crit.py SOCKET stats-not-sandbox  a pod not made through the CRI has none
#   crit.py SOCKET call METHOD JSON [API]  one call; the answer as JSON, or
#                                "STATUS message" and exit 2
#   crit.py SOCKET concurrent    64 calls at once over 8 channels
#   crit.py SOCKET stall         clients that never read do not stop others
#   crit.py SOCKET version       one Version call (a readiness probe)
#   crit.py SOCKET status        prints Status as JSON
import atexit
import concurrent.futures
import importlib
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

import grpc
import hpack

HERE = os.path.dirname(os.path.realpath(__file__))
PROTO_DIR = os.path.join(HERE, '..', '..', 'src', 'cri')


def load_messages():
    out = tempfile.mkdtemp(prefix='crit-')
    atexit.register(shutil.rmtree, out, True)
    subprocess.run(['protoc', '--python_out=' + out, '-I', PROTO_DIR, 'cri.proto'], check=True)
    sys.path.insert(0, out)
    return importlib.import_module('cri_pb2')


pb = load_messages()


def fail(msg):
    print('crit: FAIL: ' + msg, file=sys.stderr)
    sys.exit(1)


def channel(sock):
    return grpc.insecure_channel('unix://' + sock)


def call(ch, method, request, response_type, api='v1', service='RuntimeService', timeout=10):
    f = ch.unary_unary('/runtime.%s.%s/%s' % (api, service, method),
                       request_serializer=lambda m: m.SerializeToString(),
                       response_deserializer=response_type.FromString)
    return f(request, timeout=timeout)


def raw_call(ch, method, body, api='v1', service='RuntimeService', timeout=10):
    return ch.unary_unary('/runtime.%s.%s/%s' % (api, service, method))(body, timeout=timeout)


def expect_code(code, fn, what):
    try:
        fn()
    except grpc.RpcError as e:
        if e.code() != code:
            fail('%s: expected %s, got %s (%s)' % (what, code, e.code(), e.details()))
        return e.details()
    fail('%s: expected %s, but it succeeded' % (what, code))


def version(ch, api='v1'):
    return call(ch, 'Version', pb.VersionRequest(version='v1'), pb.VersionResponse, api=api)


def check_version(ch):
    for api, expected in (('v1', 'v1'), ('v1alpha2', 'v1alpha2')):
        v = version(ch, api)
        if v.runtime_name != 'peapod' or v.runtime_api_version != expected or v.version != '0.1.0' \
           or not v.runtime_version:
            fail('Version on %s: %s' % (api, v))


def status(ch, api='v1'):
    s = call(ch, 'Status', pb.StatusRequest(), pb.StatusResponse, api=api)
    return {c.type: {'status': c.status, 'reason': c.reason, 'message': c.message} for c in s.status.conditions}


def cmd_basics(sock):
    ch = channel(sock)
    check_version(ch)

    for api in ('v1', 'v1alpha2'):
        st = status(ch, api)
        if set(st) != {'RuntimeReady', 'NetworkReady'}:
            fail('Status conditions: %s' % st)
        # CRIT_NO_PEAPODD=1: run where peapodd cannot answer (no system bus).
        if os.environ.get('CRIT_NO_PEAPODD') == '1':
            if st['RuntimeReady']['status'] or st['RuntimeReady']['reason'] != 'PeapodUnavailable':
                fail('RuntimeReady without peapodd: %s' % st['RuntimeReady'])
        elif not st['RuntimeReady']['status']:
            fail('RuntimeReady is false with peapodd running: %s' % st['RuntimeReady'])
        if not st['NetworkReady']['status'] and not (st['NetworkReady']['reason'] and st['NetworkReady']['message']):
            fail('NetworkReady false without reason and message: %s' % st['NetworkReady'])

    fs = call(ch, 'ImageFsInfo', pb.ImageFsInfoRequest(), pb.ImageFsInfoResponse, service='ImageService')
    if len(fs.image_filesystems) != 1:
        fail('ImageFsInfo: %s' % fs)
    u = fs.image_filesystems[0]
    if u.fs_id.mountpoint != '/var/lib/peapod/images' or u.used_bytes.value == 0 or u.inodes_used.value == 0 \
       or abs(u.timestamp / 1e9 - time.time()) > 60:
        fail('ImageFsInfo usage: %s' % u)

    check_images(ch)

    # An unknown method, one of an unknown package, and a CRI method not there yet.
    d = expect_code(grpc.StatusCode.UNIMPLEMENTED, lambda: raw_call(ch, 'NoSuchMethod', b''), 'unknown method')
    if 'NoSuchMethod' not in d:
        fail('unknown method message: %r' % d)
    expect_code(grpc.StatusCode.UNIMPLEMENTED, lambda: raw_call(ch, 'Version', b'', api='v2'), 'unknown package')
    d = expect_code(grpc.StatusCode.UNIMPLEMENTED, lambda: raw_call(ch, 'CheckpointContainer', b''), 'CheckpointContainer')
    if 'not implemented' not in d:
        fail('CheckpointContainer message: %r' % d)

    # Not protobuf: a field with wire type 7, and a varint that never ends.
    for body in (b'\x0f\x00', b'\x0a' + b'\xff' * 11):
        d = expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: raw_call(ch, 'Version', body), 'garbage %r' % body)
        if 'VersionRequest' not in d:
            fail('garbage message: %r' % d)

    # Over the 16 MiB cap.
    expect_code(grpc.StatusCode.RESOURCE_EXHAUSTED, lambda: raw_call(ch, 'Version', b'\x00' * (16 * 1024 * 1024 + 1),
                                                                    timeout=60), 'oversized request')
    # Exactly at the cap is served (zero bytes are valid protobuf: field 0 is
    # invalid, so use a string field instead: 1 (tag) + 4 (length) + the rest).
    n = 16 * 1024 * 1024 - 5
    big = b'\x0a' + bytes([0x80 | (n & 0x7f), 0x80 | ((n >> 7) & 0x7f), 0x80 | ((n >> 14) & 0x7f), n >> 21]) + b'a' * n
    assert len(big) == 16 * 1024 * 1024
    v = pb.VersionResponse.FromString(raw_call(ch, 'Version', big, timeout=60))
    if v.runtime_name != 'peapod':
        fail('Version with a 16 MiB request: %s' % v)

    # Requests that are no gRPC at all, through a raw HTTP/2 client.
    with RawH2(sock) as h:
        s1 = h.request('/runtime.v1.RuntimeService/Version', method='GET')
        s2 = h.request('/runtime.v1.RuntimeService/Version', content_type='application/json')
        s3 = h.request('/runtime.v1.RuntimeService/Version', encoding='gzip')
        s4 = h.request('/runtime.v1.RuntimeService/Version', body=b'\x01\x00\x00\x00\x00')
        s5 = h.request('/runtime.v1.RuntimeService/Version', body=b'\x00\x00\x00\x00\x05ab')  # cut short
        s6 = h.request('/runtime.v1.RuntimeService/Version')
        s7 = h.request('/runtime.v1.RuntimeService/Version', timeout='5 seconds')
        s8 = h.request('/runtime.v1.RuntimeService/Version', timeout='250m')
        got = h.read_until({s1, s2, s3, s4, s5, s6, s7, s8}, 10)
        want = {s1: ('405', '13'), s2: ('415', '13'), s3: ('200', '12'), s4: ('200', '13'), s5: ('200', '13'),
                s6: ('200', '0'), s7: ('200', '13'), s8: ('200', '0')}
        for sid, (http, code) in want.items():
            hd = got.get(sid, {})
            if hd.get(':status') != http or hd.get('grpc-status') != code:
                fail('raw stream %d: expected HTTP %s grpc-status %s, got %s' % (sid, http, code, hd))

    # Still serving after all that.
    check_version(ch)
    print('basics: ok')


def image_status(ch, ref, api='v1'):
    return call(ch, 'ImageStatus', pb.ImageStatusRequest(image=pb.ImageSpec(image=ref)), pb.ImageStatusResponse,
                api=api, service='ImageService')


def list_images(ch, ref=None):
    req = pb.ListImagesRequest(filter=pb.ImageFilter(image=pb.ImageSpec(image=ref))) if ref else pb.ListImagesRequest()
    return call(ch, 'ListImages', req, pb.ListImagesResponse, service='ImageService').images


def check_images(ch):
    """peapodd imports localhost/busybox:latest at its start."""
    if os.environ.get('CRIT_NO_PEAPODD') == '1':
        expect_code(grpc.StatusCode.UNAVAILABLE, lambda: list_images(ch), 'ListImages without peapodd')
        return
    name = 'localhost/busybox:latest'
    for api in ('v1', 'v1alpha2'):
        img = image_status(ch, name, api).image
        if not img.id.startswith('sha256:') or name not in img.repo_tags or img.size == 0:
            fail('ImageStatus %s: %s' % (name, img))
        if not any(d.startswith('localhost/busybox@sha256:') for d in img.repo_digests):
            fail('ImageStatus %s: no repo digest: %s' % (name, img))
    # The same image by its id, a unique id prefix and the repo digest it
    # reports (peapodd holds it by tag only).
    digest = [d for d in img.repo_digests if d.startswith('localhost/busybox@sha256:')][0]
    for ref in (img.id, img.id[len('sha256:'):][:16], digest):
        other = image_status(ch, ref).image
        if other.id != img.id:
            fail('ImageStatus %s: %s, expected %s' % (ref, other.id, img.id))
    # Not there: no image, and no error (the CRI's way).
    for ref in ('localhost/no-such-image:latest', 'sha256:' + '0' * 64):
        r = image_status(ch, ref)
        if r.HasField('image'):
            fail('ImageStatus of a missing %s: %s' % (ref, r))
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: call(ch, 'ImageStatus', pb.ImageStatusRequest(),
                                                              pb.ImageStatusResponse, service='ImageService'),
                'ImageStatus without an image')

    all_images = list_images(ch)
    mine = [i for i in all_images if i.id == img.id]
    if len(mine) != 1 or name not in mine[0].repo_tags or mine[0].size != img.size:
        fail('ListImages: %s not in %s' % (name, all_images))
    one = list_images(ch, name)
    if len(one) != 1 or one[0].id != img.id:
        fail('ListImages with a filter: %s' % one)
    if list_images(ch, 'localhost/no-such-image:latest'):
        fail('ListImages with a filter of a missing image is not empty')


def pull(ch, ref, auth=None, api='v1', timeout=60):
    req = pb.PullImageRequest(image=pb.ImageSpec(image=ref), auth=auth)
    return call(ch, 'PullImage', req, pb.PullImageResponse, api=api, service='ImageService', timeout=timeout).image_ref


def remove_image(ch, ref, api='v1'):
    return call(ch, 'RemoveImage', pb.RemoveImageRequest(image=pb.ImageSpec(image=ref)), pb.RemoveImageResponse,
                api=api, service='ImageService')


def wait_until(what, fn, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if fn():
            return
        time.sleep(0.1)
    fail('timed out waiting for ' + what)


def cmd_images(sock):
    """PullImage with each kind of credentials, ImageStatus by every kind of
    reference. The environment names the registry (CRIT_REGISTRY, which
    asks for a password: CRIT_USER, CRIT_PASSWORD) and the repositories
    there (trusted: cri/uid, cri/name, cri/big; outside the policy's
    scope: untrusted/bb)."""
    import base64
    ch = channel(sock)
    reg, user, pw = os.environ['CRIT_REGISTRY'], os.environ['CRIT_USER'], os.environ['CRIT_PASSWORD']
    good = pb.AuthConfig(username=user, password=pw, server_address=reg)
    ref = reg + '/cri/uid:latest'

    # No or wrong credentials: the registry's refusal, nothing pulled.
    expect_code(grpc.StatusCode.UNKNOWN, lambda: pull(ch, ref), 'PullImage without credentials')
    expect_code(grpc.StatusCode.UNKNOWN, lambda: pull(ch, ref, pb.AuthConfig(username=user, password='wrong')),
                'PullImage with a wrong password')
    if image_status(ch, ref).HasField('image'):
        fail('a refused pull left %s' % ref)
    # What peapod-cri cannot use is refused before anything happens.
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: pull(ch, ref, pb.AuthConfig(auth='not base64!')),
                'PullImage with a malformed auth')
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: pull(ch, ref, pb.AuthConfig(registry_token='a b')),
                'PullImage with a registry token that is no header value')
    # A token goes alone: a registry token is sent as the bearer token
    # itself, an identity token is for a token service; this registry wants
    # a password, so both fail, and the password given with them is not
    # tried. (unit/test-registry has a registry that takes them.)
    for auth, why in ((pb.AuthConfig(registry_token='not-a-token', username=user, password=pw), 'registry token was refused'),
                      (pb.AuthConfig(identity_token='refresh', username=user, password=pw), 'authentication required')):
        try:
            pull(ch, ref, auth)
            fail('PullImage with %s succeeded' % auth)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.UNKNOWN or why not in e.details():
                fail('PullImage with a token: %s %s' % (e.code(), e.details()))
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: pull(ch, ''), 'PullImage without an image')

    # username/password, in both APIs; image_ref is the image id.
    image_id = pull(ch, ref, good)
    if not image_id.startswith('sha256:') or len(image_id) != 71:
        fail('PullImage answered image_ref %r' % image_id)
    if pull(ch, ref, good, api='v1alpha2') != image_id:
        fail('PullImage on v1alpha2 answered another id')
    # auth: base64 of user:password.
    token = base64.b64encode(('%s:%s' % (user, pw)).encode()).decode()
    name_id = pull(ch, reg + '/cri/name:latest', pb.AuthConfig(auth=token))

    # ImageStatus by name, name:tag, name@digest (of a tag pull), id, id prefix.
    img = image_status(ch, ref).image
    if img.id != image_id or ref not in img.repo_tags:
        fail('ImageStatus %s: %s' % (ref, img))
    if img.uid.value != 1234 or img.username:
        fail('ImageStatus %s: user is not uid 1234: %s' % (ref, img))
    digests = [d for d in img.repo_digests if d.startswith(reg + '/cri/uid@sha256:')]
    if len(digests) != 1:
        fail('ImageStatus %s: repo digests %s' % (ref, img.repo_digests))
    for r in (reg + '/cri/uid', digests[0], image_id, image_id[len('sha256:'):][:12]):
        for api in ('v1', 'v1alpha2'):
            other = image_status(ch, r, api).image
            if other.id != image_id:
                fail('ImageStatus %s (%s): %s, expected %s' % (r, api, other.id, image_id))
    # A digest of this repository that is not the image's, and this
    # image's digest under another repository: not there.
    for r in (reg + '/cri/uid@sha256:' + '1' * 64, digests[0].replace('/cri/uid@', '/cri/name@')):
        if image_status(ch, r).HasField('image'):
            fail('ImageStatus %s found an image' % r)
    named = image_status(ch, reg + '/cri/name').image
    if named.id != name_id or named.username != 'nobody' or named.HasField('uid'):
        fail('ImageStatus of cri/name: user is not "nobody": %s' % named)
    # verbose: the image's config as JSON under "info".
    v = call(ch, 'ImageStatus', pb.ImageStatusRequest(image=pb.ImageSpec(image=ref), verbose=True),
             pb.ImageStatusResponse, service='ImageService')
    info = json.loads(v.info['info'])
    if info.get('Id') != image_id or info.get('User') != '1234:1234' or not info.get('Layers'):
        fail('verbose info: %s' % v.info)
    if call(ch, 'ImageStatus', pb.ImageStatusRequest(image=pb.ImageSpec(image=ref)), pb.ImageStatusResponse,
            service='ImageService').info:
        fail('info without verbose')

    # The trust policy applies: outside its scope, a refusal saying why.
    try:
        pull(ch, reg + '/untrusted/bb:latest', good)
        fail('PullImage of an image the policy rejects succeeded')
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.UNKNOWN or 'polic' not in e.details():
            fail('PullImage of a rejected image: %s %s' % (e.code(), e.details()))

    # A client that gives up does not stop the pull: the image arrives.
    big = reg + '/cri/big:latest'
    expect_code(grpc.StatusCode.DEADLINE_EXCEEDED, lambda: pull(ch, big, good, timeout=0.3), 'PullImage of a big image in 0.3 s')
    def arrived():
        try:
            return image_status(ch, big).HasField('image')
        except grpc.RpcError as e:
            # peapodd busy finishing the pull (its answer took longer than
            # peapod-cri waits): ask again.
            if e.code() != grpc.StatusCode.UNAVAILABLE:
                raise
            return False
    wait_until('the abandoned pull of %s to finish' % big, arrived)

    print('images: ok')


def cmd_images_remove(sock):
    """RemoveImage: the image goes whatever name it is given by; unknown is
    OK; one that a pod (CRIT_USED) uses is refused and stays. The images
    of cmd_images are there."""
    ch = channel(sock)
    reg = os.environ['CRIT_REGISTRY']
    ref = reg + '/cri/uid:latest'
    img = image_status(ch, ref).image
    image_id = img.id
    name_id = image_status(ch, reg + '/cri/name').image.id
    digests = [d for d in img.repo_digests if d.startswith(reg + '/cri/uid@sha256:')]
    if not image_id or not name_id or len(digests) != 1:
        fail('the images to remove are not there: %s' % img)
    remove_image(ch, digests[0])
    if image_status(ch, image_id).HasField('image') or image_status(ch, ref).HasField('image'):
        fail('RemoveImage by repo digest left the image')
    remove_image(ch, digests[0])
    remove_image(ch, reg + '/cri/no-such:latest')
    remove_image(ch, 'sha256:' + '2' * 64)
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: remove_image(ch, ''), 'RemoveImage without an image')
    try:
        remove_image(ch, name_id, api='v1alpha2')
        fail('RemoveImage of an image in use succeeded')
    except grpc.RpcError as e:
        if e.code() != grpc.StatusCode.FAILED_PRECONDITION or os.environ['CRIT_USED'] not in e.details():
            fail('RemoveImage of an image in use: %s %s' % (e.code(), e.details()))
    if image_status(ch, name_id).image.id != name_id:
        fail('the image in use is gone')
    print('images-remove: ok')


def exec_sync(ch, cid, cmd, timeout=0, api='v1', deadline=60):
    return call(ch, 'ExecSync', pb.ExecSyncRequest(container_id=cid, cmd=cmd, timeout=timeout), pb.ExecSyncResponse,
                api=api, timeout=deadline)


def host_processes(argv):
    """pids of the host's processes whose command line is argv."""
    want = ('\0'.join(argv) + '\0').encode()
    found = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open('/proc/%s/cmdline' % d, 'rb') as f:
                    if f.read() == want:
                        found.append(int(d))
            except OSError:
                pass
    return found


def cmd_exec(sock):
    """ExecSync in CRIT_CONTAINER (an app running as uid 1000 that is not
    root's), CRIT_POD its pod id."""
    ch = grpc.insecure_channel('unix://' + sock, options=[('grpc.max_receive_message_length', 32 << 20)])
    cid, pod = os.environ['CRIT_CONTAINER'], os.environ['CRIT_POD']

    for api in ('v1', 'v1alpha2'):
        r = exec_sync(ch, cid, ['sh', '-c', 'echo out; echo err >&2; exit 3'], api=api)
        if (r.stdout, r.stderr, r.exit_code) != (b'out\n', b'err\n', 3):
            fail('ExecSync (%s): %r %r %d' % (api, r.stdout, r.stderr, r.exit_code))
    # The app's privileges, not more: its uid, no capabilities.
    r = exec_sync(ch, cid, ['sh', '-c', 'id -u; grep CapEff /proc/self/status'])
    if r.stdout.split(b'\n')[0] != b'1000' or b'0000000000000000' not in r.stdout or r.exit_code != 0:
        fail('ExecSync runs with more than the app: %r %r' % (r.stdout, r.stderr))
    r = exec_sync(ch, cid, ['true'])
    if r.exit_code != 0 or r.stdout or r.stderr:
        fail('ExecSync true: %s' % r)
    # Killed by a signal: 128+N.
    r = exec_sync(ch, cid, ['sh', '-c', 'kill -9 $$'])
    if r.exit_code != 137:
        fail('ExecSync of a command killed by SIGKILL: exit code %d' % r.exit_code)
    r = exec_sync(ch, cid, ['/no/such/command'])
    if r.exit_code == 0:
        fail('ExecSync of a missing command exited 0')

    # Output is capped (16 MiB less 64 KiB, stdout and stderr together);
    # the command runs to its end all the same.
    r = exec_sync(ch, cid, ['sh', '-c', 'head -c 10000000 /dev/zero; head -c 10000000 /dev/zero >&2; echo done >&2; exit 5'])
    cap = 16 * 1024 * 1024 - 64 * 1024
    if len(r.stdout) != 10000000 or len(r.stdout) + len(r.stderr) != cap or r.exit_code != 5:
        fail('big output: %d + %d bytes, exit %d' % (len(r.stdout), len(r.stderr), r.exit_code))

    # The loop is not held while commands run: other calls are answered.
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        slow = [pool.submit(exec_sync, ch, cid, ['sleep', '2']) for _ in range(3)]
        t = time.monotonic()
        for _ in range(10):
            check_version(ch)
        if time.monotonic() - t > 1.5 or any(f.done() for f in slow):
            fail('Version waited for running ExecSync calls')
        if [f.result().exit_code for f in slow] != [0, 0, 0]:
            fail('concurrent ExecSync calls failed')

    # Refusals.
    for bad in ('0' * 64, pod + '0' * 32, 'x' * 64, pod, ''):
        expect_code(grpc.StatusCode.NOT_FOUND, lambda: exec_sync(ch, bad, ['true']), 'ExecSync in container %r' % bad)
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: exec_sync(ch, cid, []), 'ExecSync without a command')

    # A timeout kills the command, and everything it started, before the
    # answer: DEADLINE_EXCEEDED, as containerd says it.
    t = time.monotonic()
    expect_code(grpc.StatusCode.DEADLINE_EXCEEDED,
                lambda: exec_sync(ch, cid, ['sh', '-c', 'sleep 31337 & sleep 31337'], timeout=1),
                'ExecSync past its timeout')
    took = time.monotonic() - t
    if took < 1 or took > 8:
        fail('ExecSync with timeout 1 answered after %.1f s' % took)
    left = host_processes(['sleep', '31337'])
    if left:
        fail('processes left after the timeout: %s' % left)

    # A client that gives up kills the command too.
    expect_code(grpc.StatusCode.DEADLINE_EXCEEDED,
                lambda: exec_sync(ch, cid, ['sleep', '31338'], deadline=2), 'ExecSync cancelled by its client')
    wait_until('the cancelled command to go', lambda: not host_processes(['sleep', '31338']), timeout=20)
    print('exec: ok')


def cmd_stats(sock):
    """Stats of CRIT_PODS (two running pod ids, comma-separated) whose
    running apps are CRIT_RUNNING (container ids), and CRIT_CREATED, a
    container that is not running, as crit_pods.py stats-setup makes them:
    each container labelled stats=NAME (busy, idle, other; later is the
    created one), annotated note=NAME, each pod labelled stats-pod=a or b."""
    ch = channel(sock)
    # Without CPU accounting in the host's cgroups (a cgroup v1 host
    # without cpuacct, as the lab's container), systemd knows no CPU time:
    # then there is none in the answer either, rather than a made-up 0.
    no_cpu = os.environ.get('CRIT_NO_CPU') == '1'
    pod_a, pod_b = os.environ['CRIT_PODS'].split(',')
    running = os.environ['CRIT_RUNNING'].split(',')
    created = os.environ['CRIT_CREATED']
    now = time.time_ns()

    def fresh(ts, what):
        if abs(ts - now) > 120 * 10**9:
            fail('%s: timestamp %d is not now (%d)' % (what, ts, now))

    def check_container(st, cid, what):
        if st.attributes.id != cid:
            fail('%s: attributes %s' % (what, st.attributes))
        if st.memory.working_set_bytes.value == 0 or (no_cpu and st.HasField('cpu')) or \
                (not no_cpu and st.cpu.usage_core_nano_seconds.value == 0):
            fail('%s: accounting: %s' % (what, st))
        if not no_cpu:
            fresh(st.cpu.timestamp, what)
        fresh(st.memory.timestamp, what)
        # Its size is measured in the background (0 until then): its
        # figure is checked by crit_pods.py lists.
        if not st.HasField('writable_layer') or st.writable_layer.fs_id.mountpoint != '/var/lib/peapod/pods' \
                or not st.writable_layer.HasField('used_bytes'):
            fail('%s: writable layer %s' % (what, st.writable_layer))

    for api in ('v1', 'v1alpha2'):
        for cid in running:
            st = call(ch, 'ContainerStats', pb.ContainerStatsRequest(container_id=cid), pb.ContainerStatsResponse, api=api).stats
            check_container(st, cid, 'ContainerStats %s (%s)' % (cid, api))
    # CPU time only grows.
    a = call(ch, 'ContainerStats', pb.ContainerStatsRequest(container_id=running[0]), pb.ContainerStatsResponse).stats
    time.sleep(0.5)
    b = call(ch, 'ContainerStats', pb.ContainerStatsRequest(container_id=running[0]), pb.ContainerStatsResponse).stats
    if not no_cpu and (b.cpu.usage_core_nano_seconds.value < a.cpu.usage_core_nano_seconds.value or
                       b.cpu.timestamp <= a.cpu.timestamp):
        fail('CPU usage went back: %s then %s' % (a.cpu, b.cpu))
    # A container that does not run: its stats, without figures.
    st = call(ch, 'ContainerStats', pb.ContainerStatsRequest(container_id=created), pb.ContainerStatsResponse).stats
    if st.attributes.id != created or st.HasField('cpu') or st.HasField('memory'):
        fail('ContainerStats of a created container: %s' % st)
    for bad in ('0' * 64, pod_a + '0' * 32, 'x', ''):
        expect_code(grpc.StatusCode.NOT_FOUND,
                    lambda: call(ch, 'ContainerStats', pb.ContainerStatsRequest(container_id=bad), pb.ContainerStatsResponse),
                    'ContainerStats of %r' % bad)

    def list_ids(flt=None):
        req = pb.ListContainerStatsRequest(filter=flt) if flt else pb.ListContainerStatsRequest()
        got = call(ch, 'ListContainerStats', req, pb.ListContainerStatsResponse).stats
        for st in got:
            if st.attributes.id in running:
                check_container(st, st.attributes.id, 'ListContainerStats')
        return sorted(st.attributes.id for st in got)

    everything = list_ids()
    if not set(running) <= set(everything) or created in everything:
        fail('ListContainerStats: %s, running %s' % (everything, running))
    in_a = sorted(c for c in running if c.startswith(pod_a))
    if list_ids(pb.ContainerStatsFilter(pod_sandbox_id=pod_a)) != in_a:
        fail('ListContainerStats of sandbox %s: %s' % (pod_a, list_ids(pb.ContainerStatsFilter(pod_sandbox_id=pod_a))))
    if list_ids(pb.ContainerStatsFilter(id=running[0])) != [running[0]]:
        fail('ListContainerStats by id')
    for flt in (pb.ContainerStatsFilter(id=in_a[0], pod_sandbox_id=pod_b), pb.ContainerStatsFilter(id='0' * 64),
                pb.ContainerStatsFilter(pod_sandbox_id='nope'), pb.ContainerStatsFilter(id=created),
                pb.ContainerStatsFilter(label_selector={'io.kubernetes.pod.name': 'x'})):
        if list_ids(flt):
            fail('ListContainerStats with %s: %s' % (flt, list_ids(flt)))

    # Label selectors match the containers' own labels; the attributes
    # carry labels, annotations and metadata.
    names = dict(zip(running, ('busy', 'idle', 'other')))
    names[created] = 'later'
    for cid, name in names.items():
        flt = pb.ContainerStatsFilter(label_selector={'stats': name})
        want = [cid] if cid in running else []
        if list_ids(flt) != want:
            fail('ListContainerStats with label stats=%s: %s, expected %s' % (name, list_ids(flt), want))
    busy = call(ch, 'ListContainerStats',
                pb.ListContainerStatsRequest(filter=pb.ContainerStatsFilter(label_selector={'stats': 'busy'})),
                pb.ListContainerStatsResponse).stats[0].attributes
    if dict(busy.labels) != {'stats': 'busy'} or dict(busy.annotations) != {'note': 'busy'} or \
            busy.metadata.name != 'busy':
        fail('ListContainerStats attributes: %s' % busy)
    for sel in ({'stats': 'busy', 'other': 'x'}, {'stats': 'Busy'}, {'stats-pod': 'a'}):
        if list_ids(pb.ContainerStatsFilter(label_selector=sel)):
            fail('ListContainerStats with labels %s: %s' % (sel, list_ids(pb.ContainerStatsFilter(label_selector=sel))))
    st = call(ch, 'ContainerStats', pb.ContainerStatsRequest(container_id=created), pb.ContainerStatsResponse).stats
    if dict(st.attributes.labels) != {'stats': 'later'} or st.attributes.metadata.name != 'later':
        fail('ContainerStats attributes: %s' % st.attributes)

    def check_pod(st, pod, what):
        if st.attributes.id != pod:
            fail('%s: attributes %s' % (what, st.attributes))
        lx = st.linux
        if lx.memory.working_set_bytes.value == 0 or (no_cpu and lx.HasField('cpu')) or \
                (not no_cpu and lx.cpu.usage_core_nano_seconds.value == 0):
            fail('%s: accounting: %s' % (what, lx))
        if lx.process.process_count.value < 2:
            fail('%s: %d processes' % (what, lx.process.process_count.value))
        fresh(lx.memory.timestamp, what)
        mine = sorted(c for c in running if c.startswith(pod))
        if sorted(c.attributes.id for c in lx.containers) != mine:
            fail('%s: containers %s, expected %s' % (what, [c.attributes.id for c in lx.containers], mine))
        # The pod's slice holds its apps: at least their sum.
        if lx.cpu.usage_core_nano_seconds.value < sum(c.cpu.usage_core_nano_seconds.value for c in lx.containers) * 0.5:
            fail('%s: the pod used less CPU than its containers' % what)

    for api in ('v1', 'v1alpha2'):
        for pod in (pod_a, pod_b):
            st = call(ch, 'PodSandboxStats', pb.PodSandboxStatsRequest(pod_sandbox_id=pod), pb.PodSandboxStatsResponse,
                      api=api).stats
            check_pod(st, pod, 'PodSandboxStats %s (%s)' % (pod, api))
    for bad in ('0' * 32, 'x', ''):
        expect_code(grpc.StatusCode.NOT_FOUND,
                    lambda: call(ch, 'PodSandboxStats', pb.PodSandboxStatsRequest(pod_sandbox_id=bad), pb.PodSandboxStatsResponse),
                    'PodSandboxStats of %r' % bad)
    got = call(ch, 'ListPodSandboxStats', pb.ListPodSandboxStatsRequest(), pb.ListPodSandboxStatsResponse).stats
    ids = [st.attributes.id for st in got]
    if pod_a not in ids or pod_b not in ids:
        fail('ListPodSandboxStats: %s' % ids)
    for st in got:
        if st.attributes.id in (pod_a, pod_b):
            check_pod(st, st.attributes.id, 'ListPodSandboxStats')
    one = call(ch, 'ListPodSandboxStats', pb.ListPodSandboxStatsRequest(filter=pb.PodSandboxStatsFilter(id=pod_b)),
               pb.ListPodSandboxStatsResponse).stats
    if [st.attributes.id for st in one] != [pod_b]:
        fail('ListPodSandboxStats by id: %s' % one)
    for pod, name in ((pod_a, 'a'), (pod_b, 'b')):
        got = call(ch, 'ListPodSandboxStats',
                   pb.ListPodSandboxStatsRequest(filter=pb.PodSandboxStatsFilter(label_selector={'stats-pod': name})),
                   pb.ListPodSandboxStatsResponse).stats
        if [st.attributes.id for st in got] != [pod]:
            fail('ListPodSandboxStats with label stats-pod=%s: %s' % (name, [st.attributes.id for st in got]))
        at = got[0].attributes
        if dict(at.labels) != {'stats-pod': name} or at.metadata.name != 'stats-' + name or \
                at.metadata.namespace != 'default':
            fail('ListPodSandboxStats attributes: %s' % at)
        check_pod(got[0], pod, 'ListPodSandboxStats stats-pod=%s' % name)
    for flt in (pb.PodSandboxStatsFilter(id='0' * 32), pb.PodSandboxStatsFilter(label_selector={'a': 'b'}),
                pb.PodSandboxStatsFilter(label_selector={'stats-pod': 'a', 'stats': 'busy'}),
                pb.PodSandboxStatsFilter(id=pod_a, label_selector={'stats-pod': 'b'})):
        if call(ch, 'ListPodSandboxStats', pb.ListPodSandboxStatsRequest(filter=flt), pb.ListPodSandboxStatsResponse).stats:
            fail('ListPodSandboxStats with %s is not empty' % flt)
    print('stats: ok')


def cmd_stats_not_sandbox(sock):
    """CRIT_NOT_SANDBOX, a running pod not made through the CRI, has no
    stats: it is no sandbox."""
    ch = channel(sock)
    pod = os.environ['CRIT_NOT_SANDBOX']
    expect_code(grpc.StatusCode.NOT_FOUND,
                lambda: call(ch, 'PodSandboxStats', pb.PodSandboxStatsRequest(pod_sandbox_id=pod), pb.PodSandboxStatsResponse),
                'PodSandboxStats of a pod that is no sandbox')
    got = call(ch, 'ListPodSandboxStats', pb.ListPodSandboxStatsRequest(), pb.ListPodSandboxStatsResponse).stats
    if pod in [st.attributes.id for st in got]:
        fail('ListPodSandboxStats shows a pod that is no sandbox')
    got = call(ch, 'ListContainerStats', pb.ListContainerStatsRequest(), pb.ListContainerStatsResponse).stats
    if any(st.attributes.id.startswith(pod) for st in got):
        fail('ListContainerStats shows an app of a pod that is no sandbox')
    print('stats-not-sandbox: ok')


def cmd_call(sock, method, body, api='v1'):
    """One call, the request as JSON (protobuf's JSON mapping); prints the
    answer as JSON, or the status name and message and exits 2."""
    from google.protobuf import json_format
    req = json_format.Parse(body, getattr(pb, method + 'Request')())
    service = 'ImageService' if method in ('ListImages', 'ImageStatus', 'PullImage', 'RemoveImage', 'ImageFsInfo') \
        else 'RuntimeService'
    try:
        resp = call(channel(sock), method, req, getattr(pb, method + 'Response'), api=api, service=service)
    except grpc.RpcError as e:
        print('%s %s' % (e.code().name, e.details()))
        sys.exit(2)
    print(json_format.MessageToJson(resp, indent=None))


def cmd_concurrent(sock):
    channels = [channel(sock) for _ in range(8)]
    n = 64

    def one(i):
        ch = channels[i % len(channels)]
        if i % 3 == 0:
            return version(ch, 'v1alpha2' if i % 2 else 'v1').runtime_name
        if i % 3 == 1:
            return 'peapod' if 'RuntimeReady' in status(ch) else 'no RuntimeReady'
        fs = call(ch, 'ImageFsInfo', pb.ImageFsInfoRequest(), pb.ImageFsInfoResponse, service='ImageService')
        return 'peapod' if fs.image_filesystems else 'no fs'

    start = time.monotonic()
    for _ in range(3):
        # All 64 are in flight at once (a barrier before the calls).
        barrier = threading.Barrier(n)

        def run(i):
            barrier.wait(10)
            return one(i)
        with concurrent.futures.ThreadPoolExecutor(max_workers=n) as ex:
            results = list(ex.map(run, range(n)))
        bad = [r for r in results if r != 'peapod']
        if bad:
            fail('%d of %d concurrent calls went wrong: %s' % (len(bad), n, bad[:5]))
    took = time.monotonic() - start

    # Calls the client gives up on while they wait for peapodd (Status is
    # answered asynchronously): the server sees RST_STREAM on pending calls.
    ch = channels[0]
    cancelled = 0
    for _ in range(50):
        try:
            call(ch, 'Status', pb.StatusRequest(), pb.StatusResponse, timeout=0.0005)
        except grpc.RpcError as e:
            if e.code() != grpc.StatusCode.DEADLINE_EXCEEDED:
                fail('Status with a short deadline: %s %s' % (e.code(), e.details()))
            cancelled += 1
    check_version(ch)
    print('concurrent: %d calls in %.2f s; %d of 50 Status calls cancelled by their deadline' % (3 * n, took, cancelled))


class RawH2:
    """A minimal HTTP/2 client (python3-hpack for the header blocks) for
    requests grpcio would never send, and for clients that misbehave."""
    PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'

    def __init__(self, sock, window=None):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(sock)
        self.next_id = 1
        self.buf = b''
        self.decoder = hpack.Decoder()
        settings = b'' if window is None else struct.pack('>HI', 4, window)
        self.s.sendall(self.PREFACE + self.frame(4, 0, 0, settings))

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.s.close()

    @staticmethod
    def frame(ftype, flags, sid, payload):
        return struct.pack('>I', len(payload))[1:] + bytes([ftype, flags]) + struct.pack('>I', sid) + payload

    @staticmethod
    def literal(name, value):
        # Literal without indexing: every request's block stands alone, so
        # requests can be built ahead and sent in any order.
        name, value = name.encode(), value.encode()
        assert len(name) < 127 and len(value) < 127
        return b'\x00' + bytes([len(name)]) + name + bytes([len(value)]) + value

    def request_bytes(self, path, method='POST', content_type='application/grpc', encoding=None, timeout=None,
                      body=b'\x00\x00\x00\x00\x00'):
        sid = self.next_id
        self.next_id += 2
        hb = self.literal(':method', method) + self.literal(':scheme', 'http') + self.literal(':path', path) + \
            self.literal(':authority', '/run/peapod/cri.sock') + self.literal('content-type', content_type) + \
            self.literal('te', 'trailers')
        if encoding:
            hb += self.literal('grpc-encoding', encoding)
        if timeout:
            hb += self.literal('grpc-timeout', timeout)
        return sid, self.frame(1, 4, sid, hb) + self.frame(0, 1, sid, body)

    def request(self, path, **kw):
        sid, data = self.request_bytes(path, **kw)
        self.s.sendall(data)
        return sid

    def read_until(self, sids, timeout):
        """Header fields of each stream's header blocks (decoding only what
        our server sends: literals and the static table's :status entries)."""
        got = {}
        done = set()
        self.s.settimeout(timeout)
        while not sids <= done:
            while len(self.buf) < 9 or len(self.buf) < 9 + int.from_bytes(self.buf[:3], 'big'):
                d = self.s.recv(65536)
                if not d:
                    fail('raw client: connection closed')
                self.buf += d
            n = int.from_bytes(self.buf[:3], 'big')
            ftype, flags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], 'big') & 0x7fffffff
            payload = self.buf[9:9 + n]
            self.buf = self.buf[9 + n:]
            if ftype == 4 and not flags & 1:
                self.s.sendall(self.frame(4, 1, 0, b''))
            if ftype == 1:
                got.setdefault(sid, {}).update(self.hpack(payload))
            if ftype in (0, 1) and flags & 1:
                done.add(sid)
            if ftype == 3:
                done.add(sid)
        return got

    def hpack(self, b):
        return dict(self.decoder.decode(b))


def cmd_stall(sock):
    """Two clients that misbehave, then normal calls must still be answered
    quickly: one opens streams with a flow-control window of 0 (the server
    may never send it DATA), one sends requests as fast as it can and never
    reads a byte (the server's writes to it block)."""
    zero = RawH2(sock, window=0)
    for _ in range(4):
        zero.request('/runtime.v1.RuntimeService/Version')

    flood = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    flood.connect(sock)
    flood.setblocking(False)
    h = RawH2.__new__(RawH2)
    h.next_id = 1
    pending = RawH2.PREFACE + RawH2.frame(4, 0, 0, b'')
    sent_requests = 0
    deadline = time.monotonic() + 20
    # Until the server stops taking our bytes (it reads us only while its
    # answers to us leave, and we read none of them).
    stalled_since = None
    while time.monotonic() < deadline:
        if not pending:
            _, pending = h.request_bytes('/runtime.v1.ImageService/ImageFsInfo')
            sent_requests += 1
        try:
            n = flood.send(pending)
            pending = pending[n:]
            stalled_since = None
        except BlockingIOError:
            if stalled_since is None:
                stalled_since = time.monotonic()
            elif time.monotonic() - stalled_since > 1:
                break
            time.sleep(0.01)
    if stalled_since is None:
        fail('the flooding client was never stalled (%d requests sent)' % sent_requests)

    ch = channel(sock)
    t = time.monotonic()
    for _ in range(20):
        check_version(ch)
        status(ch)
    took = time.monotonic() - t
    if took > 10:
        fail('60 calls took %.1f s next to stalled clients' % took)
    print('stall: %d requests queued by a client that never reads; 60 other calls in %.2f s' % (sent_requests, took))
    flood.close()
    zero.s.close()


def main():
    if len(sys.argv) >= 5 and sys.argv[2] == 'call':
        cmd_call(sys.argv[1], sys.argv[3], sys.argv[4], *sys.argv[5:6])
        return
    if len(sys.argv) != 3:
        fail('usage: crit.py SOCKET basics|concurrent|stall|version|status|images|exec|stats|stats-not-sandbox, '
             'or SOCKET call METHOD JSON [API]')
    sock, what = sys.argv[1], sys.argv[2]
    if what == 'basics':
        cmd_basics(sock)
    elif what == 'exec':
        cmd_exec(sock)
    elif what == 'stats':
        cmd_stats(sock)
    elif what == 'stats-not-sandbox':
        cmd_stats_not_sandbox(sock)
    elif what == 'images':
        cmd_images(sock)
    elif what == 'images-remove':
        cmd_images_remove(sock)
    elif what == 'concurrent':
        cmd_concurrent(sock)
    elif what == 'stall':
        cmd_stall(sock)
    elif what == 'version':
        print(version(channel(sock)).runtime_name)
    elif what == 'status':
        print(json.dumps(status(channel(sock))))
    else:
        fail('unknown check ' + what)


if __name__ == '__main__':
    main()
