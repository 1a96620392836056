#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A client of peapod-cri's streaming server: the URL from a gRPC Exec or
# PortForward call (crit.py's message classes), then Debian's
# python3-websocket with Kubernetes' channel protocols. Each check is a
# subcommand; it exits 0, or 1 with what was wrong.
#
#   streamt.py SOCKET exec CONTAINER_ID          echo, exit codes, stdin, tty and resize,
#                                                 every channel protocol
#   streamt.py SOCKET spdy CONTAINER_ID          exec over SPDY/3.1 (v4 and channel.k8s.io): output,
#                                                 exit codes, stdin ended by FIN, tty and resize
#   streamt.py SOCKET spdy-portforward POD_ID PORT  the httpd through SPDY port-forward: once, 50
#                                                 connections in one session, a closed port
#   streamt.py SOCKET spdy-portforward-many POD_ID PORT N  N half-closed connections at once in one
#                                                 session to a server answering hello-host
#   streamt.py SOCKET exec-url CONTAINER_ID CMD...  prints an Exec URL (stdin, stdout, stderr)
#   streamt.py SOCKET exec-hang CONTAINER_ID     runs sleep 300 and goes away without a word
#   streamt.py SOCKET exec-park CONTAINER_ID     runs sleep 300, prints its local port, holds on
#   streamt.py SOCKET portforward POD_ID PORT    fetches / from an httpd at 127.0.0.1:PORT in the pod,
#                                                 once and 25 times at once
#   streamt.py SOCKET abuse CONTAINER_ID         bad, reused, expired (the server runs with
#                                                 --streaming-token-timeout=1) tokens, garbage,
#                                                 oversized heads and frames, a client that
#                                                 stops reading and one that never speaks
import base64
import concurrent.futures
import json
import os
import socket
import struct
import sys
import time
import urllib.parse
import zlib

import grpc
import websocket

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import crit  # noqa: E402  (makes the message classes)

pb = crit.pb
fail = crit.fail


def exec_url(sock, cid, cmd, tty=False, stdin=False, stdout=True, stderr=True):
    req = pb.ExecRequest(container_id=cid, cmd=cmd, tty=tty, stdin=stdin, stdout=stdout, stderr=stderr and not tty)
    return crit.call(crit.channel(sock), 'Exec', req, pb.ExecResponse).url


def pf_url(sock, pod, ports):
    req = pb.PortForwardRequest(pod_sandbox_id=pod, port=ports)
    return crit.call(crit.channel(sock), 'PortForward', req, pb.PortForwardResponse).url


def ws_url(url):
    return 'ws://' + url[len('http://'):]


class Session:
    """One exec stream: collects every channel until the server closes."""

    def __init__(self, url, proto='v4.channel.k8s.io', timeout=30):
        self.proto = proto
        self.b64 = 'base64' in proto
        self.ws = websocket.create_connection(ws_url(url), subprotocols=[proto], timeout=timeout)
        if self.ws.getsubprotocol() != proto:
            fail('server chose %r, not %r' % (self.ws.getsubprotocol(), proto))
        self.channels = {}

    def send(self, ch, data):
        if self.b64:
            self.ws.send(str(ch) + base64.b64encode(data).decode())
        else:
            self.ws.send_binary(bytes([ch]) + data)

    def close_stdin(self):
        self.ws.send_binary(bytes([255, 0]))

    def recv_one(self):
        op, data = self.ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_CLOSE:
            return None
        if op not in (websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_TEXT) or not data:
            return ()
        if self.b64:
            ch, payload = int(chr(data[0])), base64.b64decode(data[1:])
        else:
            ch, payload = data[0], data[1:]
        self.channels[ch] = self.channels.get(ch, b'') + payload
        return ch, payload

    def run(self):
        try:
            while self.recv_one() is not None:
                pass
        except websocket.WebSocketTimeoutException:
            fail('the stream did not end; it sent %r' % self.channels)
        self.ws.close()
        return self

    def wait_for(self, ch, text):
        """Reads until text came on ch: the command is there (typed-ahead
        input may be flushed while its terminal is set up)."""
        try:
            while text.encode() not in self.channels.get(ch, b''):
                if self.recv_one() is None:
                    fail('the stream ended before %r came: %r' % (text, self.channels))
        except websocket.WebSocketTimeoutException:
            fail('%r never came: %r' % (text, self.channels))

    def out(self, ch):
        return self.channels.get(ch, b'').decode(errors='replace')


def status_exit_code(s, what):
    err = s.out(3)
    if not s.proto.startswith(('v4.', 'v5.')):
        if err == '':
            return 0
        if 'non-zero exit code' not in err:
            fail('%s: error channel %r' % (what, err))
        return int(err.rsplit(' ', 1)[1])
    st = json.loads(err)
    if st.get('metadata') != {}:
        fail('%s: status without metadata: %r' % (what, err))
    if st['status'] == 'Success':
        return 0
    if st.get('reason') != 'NonZeroExitCode':
        fail('%s: failure status %r' % (what, err))
    causes = [c for c in st['details']['causes'] if c.get('reason') == 'ExitCode']
    return int(causes[0]['message'])


def cmd_exec(sock, cid):
    for proto in ('v4.channel.k8s.io', 'v5.channel.k8s.io', 'v4.base64.channel.k8s.io', 'base64.channel.k8s.io',
                  'channel.k8s.io'):
        s = Session(exec_url(sock, cid, ['sh', '-c', 'echo to-out; echo to-err >&2']), proto).run()
        if s.out(1) != 'to-out\n' or s.out(2) != 'to-err\n':
            fail('%s: stdout %r stderr %r' % (proto, s.out(1), s.out(2)))
        if status_exit_code(s, proto) != 0:
            fail('%s: exit code of a command that succeeded: %r' % (proto, s.out(3)))
        s = Session(exec_url(sock, cid, ['sh', '-c', 'exit 3']), proto).run()
        if status_exit_code(s, proto) != 3:
            fail('%s: exit code 3 reported as %r' % (proto, s.out(3)))
    st = json.loads(Session(exec_url(sock, cid, ['sh', '-c', 'exit 3'])).run().out(3))
    want = {'metadata': {}, 'status': 'Failure', 'reason': 'NonZeroExitCode',
            'details': {'causes': [{'reason': 'ExitCode', 'message': '3'}]}}
    for k, v in want.items():
        if st.get(k) != v:
            fail('v4 status %r: %s is not %r' % (st, k, v))
    # A signal: 128 + its number, as kubelet reports it.
    s = Session(exec_url(sock, cid, ['sh', '-c', 'kill -9 $$'])).run()
    if status_exit_code(s, 'killed') != 137:
        fail('killed command reported as %r' % s.out(3))
    # A command that cannot run at all.
    s = Session(exec_url(sock, cid, ['/no/such/command'])).run()
    if status_exit_code(s, 'missing') != 127:
        fail('missing command reported as %r' % s.out(3))

    # stdin, closed by v5's close signal: cat ends.
    s = Session(exec_url(sock, cid, ['cat'], stdin=True), 'v5.channel.k8s.io')
    s.send(0, b'piped through cat\n')
    s.send(0, b'x' * 100000 + b'\n')
    s.close_stdin()
    s.run()
    if s.out(1) != 'piped through cat\n' + 'x' * 100000 + '\n' or status_exit_code(s, 'cat') != 0:
        fail('stdin echo: %d bytes back, status %r' % (len(s.out(1)), s.out(3)))
    # v4 has no close signal: the command decides when it has read enough.
    s = Session(exec_url(sock, cid, ['head', '-c', '6'], stdin=True))
    s.send(0, b'abc')
    s.send(0, b'defghi')
    s.run()
    if s.out(1) != 'abcdef':
        fail('v4 stdin: %r' % s.out(1))

    # A terminal, resized before the command asks its size.
    s = Session(exec_url(sock, cid, ['sh', '-c', 'echo ready; read x; stty size; [ -t 0 ] && [ -t 1 ] && echo on-a-terminal; exit 4'], tty=True, stdin=True))
    s.wait_for(1, 'ready')
    s.send(4, json.dumps({'Width': 101, 'Height': 42}).encode())
    s.send(0, b'go\n')
    s.run()
    out = s.out(1)
    if '42 101' not in out or 'on-a-terminal' not in out or status_exit_code(s, 'tty') != 4:
        fail('tty: output %r status %r' % (out, s.out(3)))
    if s.out(2) != '':
        fail('tty: stderr is the terminal, yet %r came apart' % s.out(2))
    # Closing stdin of a terminal types its EOF character (^D): cat ends.
    s = Session(exec_url(sock, cid, ['sh', '-c', 'echo ready; exec cat'], tty=True, stdin=True), 'v5.channel.k8s.io')
    s.wait_for(1, 'ready')
    s.send(0, b'last line\n')
    s.close_stdin()
    s.run()
    if 'last line' not in s.out(1) or status_exit_code(s, 'tty close') != 0:
        fail('tty: closing stdin did not end cat: %r %r' % (s.out(1), s.out(3)))
    # A bad resize message is ignored; the terminal keeps working.
    s = Session(exec_url(sock, cid, ['sh', '-c', 'echo ready; read x; stty size'], tty=True, stdin=True))
    s.wait_for(1, 'ready')
    s.send(4, b'{"Width": "wide"}')
    s.send(4, b'not json')
    s.send(4, json.dumps({'Width': 30, 'Height': 10}).encode())
    s.send(0, b'go\n')
    s.run()
    if '10 30' not in s.out(1):
        fail('tty after bad resizes: %r' % s.out(1))

    # Refusals at the gRPC call.
    ch = crit.channel(sock)
    crit.expect_code(grpc.StatusCode.NOT_FOUND, lambda: crit.call(ch, 'Exec', pb.ExecRequest(
        container_id='nope', cmd=['true'], stdout=True), pb.ExecResponse), 'Exec of a malformed container id')
    crit.expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: crit.call(ch, 'Exec', pb.ExecRequest(
        container_id=cid, cmd=[], stdout=True), pb.ExecResponse), 'Exec without a command')
    crit.expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: crit.call(ch, 'Exec', pb.ExecRequest(
        container_id=cid, cmd=['true']), pb.ExecResponse), 'Exec without any stream')
    # A container that is not there: the stream says so on the error channel.
    s = Session(exec_url(sock, cid[:32] + '0' * 32, ['true'])).run()
    st = json.loads(s.out(3))
    if st['status'] != 'Failure' or 'peapodd refused' not in st.get('message', ''):
        fail('exec in an unknown app: %r' % s.out(3))
    print('exec: ok')


def cmd_exec_hang(sock, cid):
    s = Session(exec_url(sock, cid, ['sleep', '300']))
    # Wait until the command runs (no output comes), then vanish.
    time_limit = time.monotonic() + 30
    while time.monotonic() < time_limit:
        # The exec's helper, which peapodd spawns into the app's unit.
        if os.system("pgrep -f '^peapod-stage1-exec .*sleep 300' >/dev/null") == 0:
            break
        time.sleep(0.1)
    else:
        fail('the exec never ran')
    s.ws.sock.close()
    print('exec-hang: gone')


def cmd_exec_park(sock, cid):
    """Runs sleep 300, prints the local port of its connection, then holds
    the connection without a word until killed (test-cri-half-open cuts it
    off with a firewall rule first, so that the kill sends nothing)."""
    s = Session(exec_url(sock, cid, ['sleep', '300']))
    print(s.ws.sock.getsockname()[1], flush=True)
    time.sleep(3600)


def pf_fetch(sock, pod, port, proto='v4.channel.k8s.io', url=None):
    url = url or pf_url(sock, pod, [port])
    ws = websocket.create_connection(ws_url(url) + '?port=%d' % port, subprotocols=[proto], timeout=30)
    data, err, first = b'', b'', {}
    ws.send_binary(b'\x00GET / HTTP/1.0\r\nHost: x\r\n\r\n')
    while True:
        op, msg = ws.recv_data(control_frame=True)
        if op == websocket.ABNF.OPCODE_CLOSE:
            break
        if op != websocket.ABNF.OPCODE_BINARY or not msg:
            continue
        ch, payload = msg[0], msg[1:]
        if ch not in first:
            first[ch] = payload
            if payload != struct.pack('<H', port):
                fail('channel %d began with %r, not the port' % (ch, payload))
            continue
        if ch == 0:
            data += payload
        elif ch == 1:
            err += payload
    ws.close()
    return data, err


def cmd_portforward(sock, pod, port):
    port = int(port)
    data, err = pf_fetch(sock, pod, port)
    if b'hello-pf' not in data or err:
        fail('port-forward fetched %r, error %r' % (data[:200], err))
    # Nothing listens there: the error channel says so, the stream ends.
    data, err = pf_fetch(sock, pod, port + 1)
    if b'error forwarding port' not in err:
        fail('port-forward to a closed port: error channel %r' % err)
    # A port the request did not name is refused.
    url = pf_url(sock, pod, [port])
    ws = websocket.create_connection(ws_url(url) + '?port=%d' % (port + 2), subprotocols=['v4.channel.k8s.io'],
                                     timeout=30)
    while ws.recv_data(control_frame=True)[0] != websocket.ABNF.OPCODE_CLOSE:
        pass
    ws.close()
    # 25 at once.
    with concurrent.futures.ThreadPoolExecutor(25) as ex:
        results = list(ex.map(lambda i: pf_fetch(sock, pod, port), range(25)))
    bad = [r for r in results if b'hello-pf' not in r[0]]
    if bad:
        fail('%d of 25 concurrent port-forwards failed: %r' % (len(bad), bad[0]))
    print('portforward: ok (25 concurrent)')


def raw_request(addr, head, timeout=10):
    s = socket.create_connection(addr, timeout=timeout)
    s.sendall(head)
    out = b''
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out


def upgrade_head(path, proto='v4.channel.k8s.io'):
    key = base64.b64encode(os.urandom(16)).decode()
    return ('GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
            'Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n\r\n'
            % (path, key, proto)).encode()


def expect_status(url, code, what, proto='v4.channel.k8s.io'):
    try:
        websocket.create_connection(ws_url(url), subprotocols=[proto], timeout=10).close()
    except websocket.WebSocketBadStatusException as e:
        if e.status_code != code:
            fail('%s: HTTP %d, expected %d' % (what, e.status_code, code))
        return
    fail('%s: the upgrade succeeded' % what)


def cmd_abuse(sock, cid):
    url = exec_url(sock, cid, ['true'])
    u = urllib.parse.urlparse(url)
    addr = (u.hostname, u.port)
    expect_status(url.rsplit('/', 1)[0] + '/' + '0' * 32, 404, 'unknown token')
    expect_status(url.rsplit('/', 1)[0] + '/short', 404, 'malformed token')
    expect_status(url.replace('/exec/', '/portforward/'), 404, 'exec token on the port-forward path')
    # ... which did not use it up.
    if status_exit_code(Session(url).run(), 'after a try on the wrong path') != 0:
        fail('the exec token failed after a try on the wrong path')
    url = exec_url(sock, cid, ['true'])
    Session(url).run()
    expect_status(url, 404, 'reused token')
    url = exec_url(sock, cid, ['true'])
    time.sleep(1.5)     # the server under test runs with --streaming-token-timeout=1
    expect_status(url, 404, 'expired token')
    # A bad request does not use up a good token.
    url = exec_url(sock, cid, ['true'])
    expect_status(url, 400, 'unknown subprotocol', proto='v9.nope')
    Session(url).run()
    out = raw_request(addr, b'GET ' + urllib.parse.urlparse(exec_url(sock, cid, ['true'])).path.encode() +
                      b' HTTP/1.1\r\nUpgrade: SPDY/3.1\r\nConnection: Upgrade\r\n'
                      b'X-Stream-Protocol-Version: v9.channel.k8s.io\r\n\r\n')
    if not out.startswith(b'HTTP/1.1 403'):
        fail('SPDY upgrade with an unknown protocol: %r' % out[:200])
    out = raw_request(addr, b'GET /exec/x HTTP/1.1\r\nX: ' + b'a' * 9000 + b'\r\n\r\n')
    if not out.startswith(b'HTTP/1.1 431'):
        fail('oversized head: %r' % out[:100])
    out = raw_request(addr, b'POST /exec/x HTTP/1.1\r\n\r\n')
    if not out.startswith(b'HTTP/1.1 405'):
        fail('POST: %r' % out[:100])
    out = raw_request(addr, b'\x00\x01garbage\r\n\r\n')
    if not out.startswith(b'HTTP/1.1 4'):
        fail('garbage request: %r' % out[:100])

    # Garbage frames after the upgrade: unmasked, reserved bits, a bad
    # opcode, a frame above the bound. Each ends with a close frame.
    for name, frame, code in (
            ('unmasked frame', b'\x82\x02\x00a', 1002),
            ('reserved bits', b'\xc2\x82abcd\x00\x00', 1002),
            ('opcode 3', b'\x83\x80abcd', 1002),
            ('continuation first', b'\x80\x80abcd', 1002),
            ('fragmented ping', b'\x09\x80abcd', 1002),
            ('frame above 256 KiB', b'\x82\xff' + struct.pack('>Q', 1 << 40) + b'abcd', 1009)):
        s = socket.create_connection(addr, timeout=10)
        s.sendall(upgrade_head(urllib.parse.urlparse(exec_url(sock, cid, ['sleep', '300'], stdin=True)).path))
        s.sendall(frame)
        got = b''
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += b
        s.close()
        i = got.find(b'\r\n\r\n')
        close = got[i + 4:]
        # A close frame (maybe after the error channel): 0x88 0x02 code.
        if struct.pack('>BBH', 0x88, 2, code) not in close:
            fail('%s: no close %d in %r' % (name, code, close[:100]))

    # A client that stops reading while its command writes without end,
    # one that never finishes its request: others are served meanwhile.
    stuck = Session(exec_url(sock, cid, ['sh', '-c', 'while :; do echo xxxxxxxxxxxxxxxxxxxxxxxx; done']))
    silent = socket.create_connection(addr, timeout=10)
    silent.sendall(b'GET /exec/')
    t = time.monotonic()
    for i in range(5):
        s = Session(exec_url(sock, cid, ['echo', str(i)])).run()
        if s.out(1) != '%d\n' % i:
            fail('next to stuck clients: %r' % s.out(1))
    print('abuse: 5 execs in %.2f s next to a client that stopped reading and one that never spoke'
          % (time.monotonic() - t))
    stuck.ws.sock.close()
    silent.close()
    print('abuse: ok')

# ---- SPDY/3.1, as kubelet's and older kubectl's clients speak it ----

# The SPDY/3 header compression dictionary: a protocol constant.
SPDY_DICTIONARY = bytes.fromhex(
    '000000076f7074696f6e73000000046865616400000004706f7374000000037075740000000664656c65746500000005'
    '7472616365000000066163636570740000000e6163636570742d636861727365740000000f6163636570742d656e636f'
    '64696e670000000f6163636570742d6c616e67756167650000000d6163636570742d72616e6765730000000361676500'
    '000005616c6c6f770000000d617574686f72697a6174696f6e0000000d63616368652d636f6e74726f6c0000000a636f'
    '6e6e656374696f6e0000000c636f6e74656e742d6261736500000010636f6e74656e742d656e636f64696e6700000010'
    '636f6e74656e742d6c616e67756167650000000e636f6e74656e742d6c656e67746800000010636f6e74656e742d6c6f'
    '636174696f6e0000000b636f6e74656e742d6d64350000000d636f6e74656e742d72616e67650000000c636f6e74656e'
    '742d74797065000000046461746500000004657461670000000665787065637400000007657870697265730000000466'
    '726f6d00000004686f73740000000869662d6d617463680000001169662d6d6f6469666965642d73696e63650000000d'
    '69662d6e6f6e652d6d617463680000000869662d72616e67650000001369662d756e6d6f6469666965642d73696e6365'
    '0000000d6c6173742d6d6f646966696564000000086c6f636174696f6e0000000c6d61782d666f727761726473000000'
    '06707261676d610000001270726f78792d61757468656e7469636174650000001370726f78792d617574686f72697a61'
    '74696f6e0000000572616e676500000007726566657265720000000b72657472792d6166746572000000067365727665'
    '7200000002746500000007747261696c6572000000117472616e736665722d656e636f64696e67000000077570677261'
    '64650000000a757365722d6167656e74000000047661727900000003766961000000077761726e696e67000000107777'
    '772d61757468656e746963617465000000066d6574686f64000000036765740000000673746174757300000006323030'
    '204f4b0000000776657273696f6e00000008485454502f312e310000000375726c000000067075626c69630000000a73'
    '65742d636f6f6b69650000000a6b6565702d616c697665000000066f726967696e313030313031323031323032323035'
    '323036333030333032333033333034333035333036333037343032343035343036343037343038343039343130343131'
    '343132343133343134343135343136343137353032353034353035323033204e6f6e2d417574686f7269746174697665'
    '20496e666f726d6174696f6e323034204e6f20436f6e74656e74333031204d6f766564205065726d616e656e746c7934'
    '303020426164205265717565737434303120556e617574686f72697a656434303320466f7262696464656e343034204e'
    '6f7420466f756e6435303020496e7465726e616c20536572766572204572726f72353031204e6f7420496d706c656d65'
    '6e746564353033205365727669636520556e617661696c61626c654a616e20466562204d617220417072204d6179204a'
    '756e204a756c204175672053657074204f6374204e6f76204465632030303a30303a3030204d6f6e2c205475652c2057'
    '65642c205468752c204672692c205361742c2053756e2c20474d546368756e6b65642c746578742f68746d6c2c696d61'
    '67652f706e672c696d6167652f6a70672c696d6167652f6769662c6170706c69636174696f6e2f786d6c2c6170706c69'
    '636174696f6e2f7868746d6c2b786d6c2c746578742f706c61696e2c746578742f6a6176617363726970742c7075626c'
    '6963707269766174656d61782d6167653d677a69702c6465666c6174652c73646368636861727365743d7574662d3863'
    '6861727365743d69736f2d383835392d312c7574662d2c2a2c656e713d302e')


class SpdySession:
    """An exec stream over SPDY/3.1: one stream per channel, opened by us."""

    TYPES = {0: 'stdin', 1: 'stdout', 2: 'stderr', 3: 'error', 4: 'resize'}

    def __init__(self, url, channels, proto='v4.channel.k8s.io', timeout=30):
        u = urllib.parse.urlparse(url)
        self.proto = proto
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        self.sock.sendall(('GET %s HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n'
                           'X-Stream-Protocol-Version: %s\r\nX-Stream-Protocol-Version: channel.k8s.io\r\n\r\n'
                           % (u.path, proto)).encode())
        self.buf = b''
        while b'\r\n\r\n' not in self.buf:
            b = self.sock.recv(4096)
            if not b:
                fail('SPDY upgrade: connection closed after %r' % self.buf)
            self.buf += b
        head, self.buf = self.buf.split(b'\r\n\r\n', 1)
        if not head.startswith(b'HTTP/1.1 101') or ('X-Stream-Protocol-Version: ' + proto).encode() not in head:
            fail('SPDY upgrade answered %r' % head)
        self.z_out = zlib.compressobj(zdict=SPDY_DICTIONARY)
        self.z_in = zlib.decompressobj(zdict=SPDY_DICTIONARY)
        self.ids, self.channels, self.replied, self.goaway = {}, {}, set(), False
        self.by_sid, self.fins = {}, set()
        for i, ch in enumerate(channels):
            sid = 2 * i + 1
            self.ids[ch] = sid
            block = self.headers([('streamtype', self.TYPES[ch])])
            self.control(1, 0, struct.pack('>IIBB', sid, 0, 0, 0) + block)

    def headers(self, pairs):
        raw = struct.pack('>I', len(pairs))
        for k, v in pairs:
            raw += struct.pack('>I', len(k)) + k.encode() + struct.pack('>I', len(v)) + v.encode()
        return self.z_out.compress(raw) + self.z_out.flush(zlib.Z_SYNC_FLUSH)

    def open_stream(self, sid, pairs):
        self.control(1, 0, struct.pack('>IIBB', sid, 0, 0, 0) + self.headers(pairs))

    def send_sid(self, sid, data, fin=False):
        self.sock.sendall(struct.pack('>II', sid, (1 if fin else 0) << 24 | len(data)) + data)

    def control(self, ftype, flags, payload):
        self.sock.sendall(struct.pack('>HHI', 0x8003, ftype, flags << 24 | len(payload)) + payload)

    def send(self, ch, data, fin=False):
        self.sock.sendall(struct.pack('>II', self.ids[ch], (1 if fin else 0) << 24 | len(data)) + data)

    def close_stdin(self):
        self.send(0, b'', fin=True)

    def recv_one(self):
        while len(self.buf) < 8 or len(self.buf) < 8 + (struct.unpack('>I', self.buf[4:8])[0] & 0xFFFFFF):
            b = self.sock.recv(65536)
            if not b:
                return None
            self.buf += b
        length = struct.unpack('>I', self.buf[4:8])[0] & 0xFFFFFF
        frame, self.buf = self.buf[:8 + length], self.buf[8 + length:]
        payload = frame[8:]
        if frame[0] & 0x80:
            ftype = struct.unpack('>H', frame[2:4])[0]
            if ftype == 2:
                sid = struct.unpack('>I', payload[:4])[0]
                self.z_in.decompress(payload[4:])
                self.replied.add(sid)
            elif ftype == 7:
                self.goaway = True
                return None
            elif ftype == 3:
                fail('server reset stream %r' % payload)
            return ()
        sid = struct.unpack('>I', frame[:4])[0] & 0x7FFFFFFF
        self.by_sid[sid] = self.by_sid.get(sid, b'') + payload
        if frame[4] & 1:
            self.fins.add(sid)
        chs = [c for c, i in self.ids.items() if i == sid]
        if not chs:
            return ()
        self.channels[chs[0]] = self.channels.get(chs[0], b'') + payload
        return chs[0], payload

    def run(self):
        try:
            while self.recv_one() is not None:
                pass
        except socket.timeout:
            fail('the SPDY stream did not end; it sent %r' % self.channels)
        self.sock.close()
        if not self.goaway:
            fail('the SPDY session ended without GOAWAY')
        if set(self.ids.values()) != self.replied:
            fail('streams %r opened, replies to %r' % (sorted(self.ids.values()), sorted(self.replied)))
        return self

    def wait_for(self, ch, text):
        while text.encode() not in self.channels.get(ch, b''):
            if self.recv_one() is None:
                fail('the stream ended before %r came: %r' % (text, self.channels))

    def out(self, ch):
        return self.channels.get(ch, b'').decode(errors='replace')


def pf_spdy(sock, pod, port, n, fin=True):
    """n connections to port through one SPDY port-forward session, at once;
    fin: each request ends with the data stream's FIN (a half-close)."""
    s = SpdySession(pf_url(sock, pod, [port]), [], proto='portforward.k8s.io')
    for i in range(n):
        pairs = [('port', str(port)), ('requestid', str(i))]
        s.open_stream(4 * i + 1, [('streamtype', 'error')] + pairs)
        s.open_stream(4 * i + 3, [('streamtype', 'data')] + pairs)
    for i in range(n):
        s.send_sid(4 * i + 3, b'GET / HTTP/1.0\r\nHost: x\r\n\r\n', fin=fin)
    want = {4 * i + 3 for i in range(n)} | {4 * i + 1 for i in range(n)}
    try:
        while not want <= s.fins:
            if s.recv_one() is None:
                fail('the port-forward session ended early: %r' % s.by_sid)
    except socket.timeout:
        fail('port-forward streams never ended: %d of %d, got %r' % (len(s.fins), len(want), s.by_sid))
    bodies = [s.by_sid.get(4 * i + 3, b'') for i in range(n)]
    errors = [s.by_sid.get(4 * i + 1, b'') for i in range(n)]
    if s.replied != want:
        fail('port-forward: replies to %d of %d streams' % (len(s.replied), len(want)))
    s.sock.close()
    return bodies, errors


def cmd_spdy(sock, cid):
    s = SpdySession(exec_url(sock, cid, ['sh', '-c', 'echo to-out; echo to-err >&2']), [3, 1, 2]).run()
    if s.out(1) != 'to-out\n' or s.out(2) != 'to-err\n' or status_exit_code(s, 'spdy') != 0:
        fail('spdy: stdout %r stderr %r error %r' % (s.out(1), s.out(2), s.out(3)))
    s = SpdySession(exec_url(sock, cid, ['sh', '-c', 'exit 3']), [3, 1, 2]).run()
    if status_exit_code(s, 'spdy exit 3') != 3:
        fail('spdy: exit 3 reported as %r' % s.out(3))
    # The old protocol: a failure is text, success nothing.
    s = SpdySession(exec_url(sock, cid, ['sh', '-c', 'exit 5']), [3, 1, 2], proto='channel.k8s.io').run()
    if status_exit_code(s, 'spdy channel.k8s.io') != 5:
        fail('spdy channel.k8s.io: exit 5 reported as %r' % s.out(3))
    # stdin, ended by FIN.
    s = SpdySession(exec_url(sock, cid, ['cat'], stdin=True), [3, 0, 1, 2])
    s.send(0, b'through spdy\n')
    s.send(0, b'y' * 70000)
    s.close_stdin()
    s.run()
    if s.out(1) != 'through spdy\n' + 'y' * 70000:
        fail('spdy stdin: %d bytes back' % len(s.out(1)))
    # A terminal with a resize stream.
    s = SpdySession(exec_url(sock, cid, ['sh', '-c', 'echo ready; read x; stty size'], tty=True, stdin=True),
                    [3, 0, 1, 4])
    s.wait_for(1, 'ready')
    s.send(4, json.dumps({'Width': 77, 'Height': 33}).encode())
    s.send(0, b'go\n')
    s.run()
    if '33 77' not in s.out(1):
        fail('spdy tty: %r' % s.out(1))
    print('spdy: ok')


def cmd_spdy_portforward(sock, pod, port):
    port = int(port)
    bodies, errors = pf_spdy(sock, pod, port, 1)
    if b'hello-pf' not in bodies[0] or errors[0]:
        fail('SPDY port-forward: %r, error %r' % (bodies[0][:200], errors[0]))
    # Without half-closes, as a browser or curl behind kubectl port-forward:
    # busybox httpd resets some half-closed connections when 50 come at once
    # (its listen backlog is 9: see cmd_spdy_portforward_many, which checks
    # 100 half-closes against a server with a backlog for them).
    bodies, errors = pf_spdy(sock, pod, port, 50, fin=False)
    bad = [i for i in range(50) if b'hello-pf' not in bodies[i] or errors[i]]
    if bad:
        fail('SPDY port-forward: %d of 50 connections in one session failed: %r %r'
             % (len(bad), bodies[bad[0]][:100], errors[bad[0]]))
    bodies, errors = pf_spdy(sock, pod, port + 1, 1)
    if b'error forwarding port' not in errors[0]:
        fail('SPDY port-forward to a closed port: error stream %r' % errors[0])
    print('spdy-portforward: ok (50 connections at once in one session)')

def cmd_spdy_portforward_many(sock, pod, port, n):
    """n half-closed connections at once through one session, to a server
    with a listen backlog for them (not busybox httpd's 9: past it the
    kernel falls back to SYN cookies, and a handshake that completes by
    cookie while the client's FIN is on its way is reset; measured without
    peapod in between, 7-18 of 100 half-closed connections)."""
    port, n = int(port), int(n)
    bodies, errors = pf_spdy(sock, pod, port, n)
    bad = [i for i in range(n) if b'hello-host' not in bodies[i] or errors[i]]
    if bad:
        fail('SPDY port-forward: %d of %d half-closed connections failed: %r %r'
             % (len(bad), n, bodies[bad[0]][:100], errors[bad[0]]))
    print('spdy-portforward-many: ok (%d half-closed connections at once)' % n)


def cmd_exec_url(sock, cid, *cmd):
    print(exec_url(sock, cid, list(cmd), stdin=True))


def main():
    if len(sys.argv) < 4:
        fail('usage: streamt.py SOCKET exec|exec-hang|portforward|abuse ARGS...')
    sock, what, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    {'exec': cmd_exec, 'exec-hang': cmd_exec_hang, 'portforward': cmd_portforward, 'abuse': cmd_abuse,
     'spdy': cmd_spdy, 'spdy-portforward': cmd_spdy_portforward, 'exec-url': cmd_exec_url,
     'spdy-portforward-many': cmd_spdy_portforward_many, 'exec-park': cmd_exec_park}[what](
        sock, *args)


if __name__ == '__main__':
    main()
