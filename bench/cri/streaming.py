#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# bench/cri/streaming.py: the CRI streaming servers of runtimes side by
# side, one client (crit.py's gRPC calls, streamt.py's WebSocket session):
#
#   streaming.py [--rounds=N] [--pf-rounds=M] [--parallel=K] [--exec-parallel=E]
#                [--bytes=B] [--port=P] --pf-client=BENCH-CRI-PF NAME=SOCKET[@PID]...
#
# Each runtime gets a host-network sandbox with one busybox container whose
# httpd serves a sparse file of B bytes (default 1 GiB) on 127.0.0.1:P+i
# (sendfile from the page cache: the source is not what is measured).
#   1. Exec round trip, N rounds (default 30, after one untimed) interleaved,
#      the order swapped every round: from the gRPC Exec(["true"], stdout)
#      over the WebSocket (`v4.channel.k8s.io`, which kubelet's streaming
#      server in containerd and peapod-cri both speak) to the exit status on
#      channel 3. Median and p90 in ms, the ratio of the first runtime's
#      median to the others'. Then E (default 8) at once, each on its own
#      gRPC channel, M rounds: ms until the last status.
#   2. Port-forward throughput, M rounds (default 5) interleaved: PortForward
#      for the port, then bench-cri-pf (a compiled WebSocket client) pulls the
#      file through the URL; MiB/s median per runtime, the ratio, and with
#      @PID the server's CPU seconds per GiB moved. Before them, the same
#      pull straight from the httpd (host network: no forwarder) says what
#      the source and the client manage alone.
#   3. The same with K (default 4) clients at once, each through its own
#      PortForward URL pulling B/K bytes, M rounds: MiB/s of all together
#      (--parallel=1 leaves it out).
import concurrent.futures
import os
import statistics
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.realpath(__file__)), '..', '..', 'tests', 'cri'))
import streamt  # noqa: E402
from crit import call, channel, fail, pb  # noqa: E402

IMAGE = 'localhost/busybox:latest'
UID = 'bench-stream-%d' % os.getpid()


def cpu_seconds(pid):
    if not pid:
        return 0.0
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class Runtime:
    def __init__(self, name, sock, pid, port):
        self.name, self.sock, self.pid, self.port = name, sock, pid, port
        self.ch = channel(sock)
        self.sid = self.cid = None

    def setup(self, size, parallel):
        cfg = pb.PodSandboxConfig(metadata=pb.PodSandboxMetadata(name='bench-stream', uid=UID, namespace='bench'),
                                  log_directory='/var/log/pods/bench_stream_%s' % UID)
        cfg.linux.security_context.namespace_options.network = pb.NODE
        os.makedirs(os.path.join(cfg.log_directory, 'main'), exist_ok=True)
        self.sid = call(self.ch, 'RunPodSandbox', pb.RunPodSandboxRequest(config=cfg), pb.RunPodSandboxResponse,
                        timeout=120).pod_sandbox_id
        script = ('mkdir -p /tmp/www && truncate -s %d /tmp/www/big && truncate -s %d /tmp/www/part && '
                  'exec httpd -f -p 127.0.0.1:%d -h /tmp/www' % (size, size // parallel, self.port))
        cc = pb.ContainerConfig(metadata=pb.ContainerMetadata(name='main'), image=pb.ImageSpec(image=IMAGE),
                                command=['sh', '-c', script], log_path='main/0.log')
        self.cid = call(self.ch, 'CreateContainer', pb.CreateContainerRequest(pod_sandbox_id=self.sid, config=cc,
                                                                              sandbox_config=cfg),
                        pb.CreateContainerResponse, timeout=120).container_id
        call(self.ch, 'StartContainer', pb.StartContainerRequest(container_id=self.cid), pb.StartContainerResponse,
             timeout=120)

    def teardown(self):
        if self.cid:
            call(self.ch, 'StopContainer', pb.StopContainerRequest(container_id=self.cid, timeout=1),
                 pb.StopContainerResponse, timeout=120)
            call(self.ch, 'RemoveContainer', pb.RemoveContainerRequest(container_id=self.cid),
                 pb.RemoveContainerResponse, timeout=120)
        if self.sid:
            call(self.ch, 'StopPodSandbox', pb.StopPodSandboxRequest(pod_sandbox_id=self.sid),
                 pb.StopPodSandboxResponse, timeout=120)
            call(self.ch, 'RemovePodSandbox', pb.RemovePodSandboxRequest(pod_sandbox_id=self.sid),
                 pb.RemovePodSandboxResponse, timeout=120)

    def exec_true(self):
        """ms from the Exec call to the exit status, and its parts: the
        call, the upgrade, the rest; the stream is then read to its end,
        untimed."""
        t0 = time.monotonic()
        url = call(self.ch, 'Exec', pb.ExecRequest(container_id=self.cid, cmd=['true'], stdout=True),
                   pb.ExecResponse).url
        t1 = time.monotonic()
        s = streamt.Session(url)
        t2 = time.monotonic()
        while 3 not in s.channels:
            if s.recv_one() is None:
                fail('%s: the exec stream ended without a status: %r' % (self.name, s.channels))
        t3 = time.monotonic()
        s.run()
        if streamt.status_exit_code(s, self.name) != 0:
            fail('%s: true exited with %r' % (self.name, s.out(3)))
        return [(t3 - t0) * 1000, (t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000]

    def exec_parallel(self, k):
        """k execs of true at once, each its own channel (as k probes of
        kubelet's would be): ms until every status came."""
        chans = [channel(self.sock) for _ in range(k)]
        for ch in chans:        # connected before the clock runs
            call(ch, 'Version', pb.VersionRequest(version='v1'), pb.VersionResponse)

        def one(ch):
            url = call(ch, 'Exec', pb.ExecRequest(container_id=self.cid, cmd=['true'], stdout=True),
                       pb.ExecResponse, timeout=60).url
            s = streamt.Session(url, timeout=60).run()
            if streamt.status_exit_code(s, self.name) != 0:
                fail('%s: a parallel true exited with %r' % (self.name, s.out(3)))
        t = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(k) as ex:
            list(ex.map(one, chans))
        return (time.monotonic() - t) * 1000

    def pf_args(self, path='/big'):
        url = call(self.ch, 'PortForward', pb.PortForwardRequest(pod_sandbox_id=self.sid, port=[self.port]),
                   pb.PortForwardResponse).url
        return ['--url=' + url, '--port=%d' % self.port, '--path=' + path]

    def pull(self, client, direct=False):
        args = ['--direct=127.0.0.1:%d' % self.port] if direct else self.pf_args()
        cpu = cpu_seconds(self.pid)
        r = subprocess.run([client] + args, capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            fail('%s: %s pull failed: %s' % (self.name, 'direct' if direct else 'port-forward', r.stderr.strip()))
        out = dict(kv.split('=') for kv in r.stdout.split())
        return float(out['mib_s']), int(out['bytes']), cpu_seconds(self.pid) - cpu

    def pull_parallel(self, client, k):
        """k clients at once, each through its own PortForward URL, each
        pulling 1/k of the bytes: MiB/s of all together, wall clock."""
        args = [self.pf_args('/part') for _ in range(k)]
        t = time.monotonic()
        procs = [subprocess.Popen([client] + a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for a in args]
        total = 0
        for p in procs:
            out, err = p.communicate(timeout=600)
            if p.returncode != 0:
                fail('%s: one of %d parallel pulls failed: %s' % (self.name, k, err.strip()))
            total += int(dict(kv.split('=') for kv in out.split())['bytes'])
        return total / (time.monotonic() - t) / (1 << 20)


def wait_listening(rt, client):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = subprocess.run([client, '--direct=127.0.0.1:%d' % rt.port, '--path=/nope'], capture_output=True)
        if b'404' in r.stderr:
            return
        time.sleep(0.2)
    fail('%s: the httpd on port %d never answered' % (rt.name, rt.port))


def p90(v):
    return statistics.quantiles(v, n=10)[8] if len(v) > 1 else v[0]


def main():
    rounds, pf_rounds, parallel, exec_parallel, size, port, client, runtimes = 30, 5, 4, 8, 1 << 30, 27480, None, []
    for a in sys.argv[1:]:
        if a.startswith('--rounds='):
            rounds = int(a[9:])
        elif a.startswith('--pf-rounds='):
            pf_rounds = int(a[12:])
        elif a.startswith('--exec-parallel='):
            exec_parallel = int(a[16:])
        elif a.startswith('--parallel='):
            parallel = int(a[11:])
        elif a.startswith('--bytes='):
            size = int(a[8:])
        elif a.startswith('--port='):
            port = int(a[7:])
        elif a.startswith('--pf-client='):
            client = a[12:]
        elif '=' in a:
            name, sock = a.split('=', 1)
            sock, _, pid = sock.partition('@')
            runtimes.append(Runtime(name, sock, int(pid) if pid else 0, port + len(runtimes)))
        else:
            fail('usage: streaming.py [--rounds=N] [--pf-rounds=M] [--parallel=K] [--exec-parallel=E] [--bytes=B] '
                 '[--port=P] --pf-client=PATH NAME=SOCKET[@PID]...')
    if not runtimes or not client:
        fail('no runtime or no --pf-client given')
    try:
        for rt in runtimes:
            rt.setup(size, parallel)
        for rt in runtimes:
            wait_listening(rt, client)

        times = {rt.name: [] for rt in runtimes}
        for rt in runtimes:
            rt.exec_true()
        for r in range(rounds):
            for rt in (runtimes if r % 2 == 0 else runtimes[::-1]):
                times[rt.name].append(rt.exec_true())
        width = max(len(rt.name) for rt in runtimes)
        print('exec true, round trip (%d rounds, ms; medians of the parts: the Exec call, the upgrade, '
              'to the status):' % rounds)
        for rt in runtimes:
            v = [t[0] for t in times[rt.name]]
            parts = [statistics.median(t[i] for t in times[rt.name]) for i in (1, 2, 3)]
            print('  %-*s median %7.1f  p90 %7.1f  min %7.1f  (%.1f + %.1f + %.1f)' % (
                width, rt.name, statistics.median(v), p90(v), min(v), *parts))
        first = runtimes[0].name
        for rt in runtimes[1:]:
            print('  ratio %s/%s (median): %.2f' % (first, rt.name, statistics.median(t[0] for t in times[first]) /
                                                   statistics.median(t[0] for t in times[rt.name])))

        if exec_parallel > 1:
            walls = {rt.name: [] for rt in runtimes}
            for r in range(pf_rounds):
                for rt in (runtimes if r % 2 == 0 else runtimes[::-1]):
                    walls[rt.name].append(rt.exec_parallel(exec_parallel))
            print('exec true, %d at once (%d rounds, ms until the last status):' % (exec_parallel, pf_rounds))
            for rt in runtimes:
                v = walls[rt.name]
                print('  %-*s median %7.1f  min %7.1f  max %7.1f' % (width, rt.name, statistics.median(v), min(v),
                                                                     max(v)))
            for rt in runtimes[1:]:
                print('  ratio %s/%s (median): %.2f' % (first, rt.name, statistics.median(walls[first]) /
                                                       statistics.median(walls[rt.name])))

        # The direct pull first also brings the file into the page cache.
        direct = {rt.name: max(rt.pull(client, direct=True)[0] for _ in range(2)) for rt in runtimes}
        rates = {rt.name: [] for rt in runtimes}
        cpu = {rt.name: 0.0 for rt in runtimes}
        moved = {rt.name: 0 for rt in runtimes}
        for r in range(pf_rounds):
            for rt in (runtimes if r % 2 == 0 else runtimes[::-1]):
                mib_s, n, c = rt.pull(client)
                rates[rt.name].append(mib_s)
                cpu[rt.name] += c
                moved[rt.name] += n
        print('port-forward, %d bytes pulled over WebSocket (%d rounds, MiB/s):' % (size, pf_rounds))
        for rt in runtimes:
            v = rates[rt.name]
            line = '  %-*s median %7.1f  min %7.1f  max %7.1f  (direct from the httpd %.1f)' % (
                width, rt.name, statistics.median(v), min(v), max(v), direct[rt.name])
            if rt.pid:
                line += '  server CPU %.2f s/GiB' % (cpu[rt.name] / (moved[rt.name] / (1 << 30)))
            print(line)
        for rt in runtimes[1:]:
            print('  ratio %s/%s (median throughput): %.2f' % (
                first, rt.name, statistics.median(rates[first]) / statistics.median(rates[rt.name])))

        if parallel > 1:
            rates = {rt.name: [] for rt in runtimes}
            for r in range(pf_rounds):
                for rt in (runtimes if r % 2 == 0 else runtimes[::-1]):
                    rates[rt.name].append(rt.pull_parallel(client, parallel))
            print('port-forward, %d connections at once pulling %d bytes each (%d rounds, MiB/s together):' % (
                parallel, size // parallel, pf_rounds))
            for rt in runtimes:
                v = rates[rt.name]
                print('  %-*s median %7.1f  min %7.1f  max %7.1f' % (width, rt.name, statistics.median(v), min(v),
                                                                     max(v)))
            for rt in runtimes[1:]:
                print('  ratio %s/%s (median throughput): %.2f' % (
                    first, rt.name, statistics.median(rates[first]) / statistics.median(rates[rt.name])))
    finally:
        for rt in runtimes:
            try:
                rt.teardown()
            except Exception as e:  # noqa: BLE001  (tear down the others still)
                print('%s: teardown: %s' % (rt.name, e), file=sys.stderr)


if __name__ == '__main__':
    main()
