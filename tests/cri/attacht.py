#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# CRI Attach through peapod-cri's streaming server, with the WebSocket and
# SPDY clients of streamt.py and containers made through the CRI
# (crit_pods.py's helpers). Each check is a subcommand; it exits 0, or 1
# with what was wrong.
#
#   attacht.py SOCKET setup FILE     a sandbox with an echo container (stdin) and one on a terminal,
#                                    described in FILE
#   attacht.py SOCKET attach FILE    stdin echo (stdout and stderr apart), two attachers at once,
#                                    detach and attach again, SPDY, refusals, a stopped container,
#                                    an app that ends while attached, stdin_once
#   attacht.py SOCKET echo FILE      the echo container still echoes, the terminal one takes input and
#                                    a resize (after a restart of peapodd)
#   attacht.py SOCKET logs FILE      what was typed is in the container's CRI log file
#   attacht.py SOCKET teardown FILE  the sandbox removed
import json
import os
import shutil
import sys
import time

import grpc

sys.dont_write_bytecode = True      # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.realpath(__file__)))
import crit  # noqa: E402
import crit_pods as cp  # noqa: E402
import streamt  # noqa: E402

pb = crit.pb
fail = crit.fail
API = 'v1'
# Echoes each line on stdout and on stderr, until its stdin ends.
ECHO = ['sh', '-c', 'while read -r l; do echo "out:$l"; echo "err:$l" >&2; done; echo stdin-ended; exec sleep 100000']


def attach_url(sock, cid, stdin=True, stdout=True, stderr=True, tty=False):
    req = pb.AttachRequest(container_id=cid, stdin=stdin, stdout=stdout, stderr=stderr, tty=tty)
    return crit.call(crit.channel(sock), 'Attach', req, pb.AttachResponse).url


def container(ch, sid, cfg, name, command, stdin=True, stdin_once=False, wait=pb.CONTAINER_RUNNING, tty=False):
    c = cp.container_config(name, command)
    c.stdin = stdin
    c.stdin_once = stdin_once
    c.tty = tty
    cid = cp.create(ch, API, sid, cfg, c)
    cp.start(ch, API, cid)
    cp.wait_state(ch, API, cid, wait)
    return cid


def cmd_setup(sock, path):
    ch = crit.channel(sock)
    cfg = cp.sandbox_config('attach')
    sid = cp.run_sandbox(ch, API, cfg)
    cid = container(ch, sid, cfg, 'echo', ECHO)
    # A terminal too, attached to after a restart of peapodd.
    term = container(ch, sid, cfg, 'keep-term', ['sh', '-c', 'while read -r l; do echo "kept:$l"; stty size; done'],
                     tty=True)
    with open(path, 'w') as f:
        json.dump({'sandbox': sid, 'echo': cid, 'term': term, 'log_directory': cfg.log_directory,
                   'log_path': cp.cstatus(ch, API, cid).log_path}, f)
    print('setup: sandbox %s container %s' % (sid, cid))


def load(path):
    with open(path) as f:
        return json.load(f)


def echo_round(s, text, others=()):
    """s types a line; s and the others see it on stdout and, those that
    asked for it (attr no_err unset), on stderr."""
    s.send(0, (text + '\n').encode())
    for x in (s,) + tuple(others):
        x.wait_for(1, 'out:' + text + '\n')
        if not getattr(x, 'no_err', False):
            x.wait_for(2, 'err:' + text + '\n')


def cmd_attach(sock, path):
    made = load(path)
    ch = crit.channel(sock)
    cid, sid = made['echo'], made['sandbox']
    cfg = cp.sandbox_config('attach')

    # stdin echo, stdout and stderr on their own channels.
    s = streamt.Session(attach_url(sock, cid), 'v5.channel.k8s.io')
    echo_round(s, 'hello attach')
    # Two more at once: what one types, all see.
    a = streamt.Session(attach_url(sock, cid), 'v4.channel.k8s.io')
    b = streamt.Session(attach_url(sock, cid, stdin=False, stderr=False), 'v4.base64.channel.k8s.io')
    b.no_err = True
    echo_round(a, 'from-a', (s, b))
    echo_round(s, 'from-s', (a, b))
    if b.out(2) != '':
        fail('an attacher without stderr got %r' % b.out(2))
    # Each goes; closing one's stdin (v5) is not the app's EOF.
    s.close_stdin()
    s.ws.close()
    a.ws.close()
    b.ws.close()
    # Over SPDY.
    p = streamt.SpdySession(attach_url(sock, cid), [3, 0, 1, 2])
    p.send(0, b'through spdy\n')
    p.wait_for(1, 'out:through spdy\n')
    p.wait_for(2, 'err:through spdy\n')
    p.close_stdin()
    p.sock.close()
    s = streamt.Session(attach_url(sock, cid))
    echo_round(s, 'again')
    # Nothing typed is lost while peapodd hands out the stdin: sent at once.
    s2 = streamt.Session(attach_url(sock, cid))
    s2.send(0, b'right away\n')
    s2.wait_for(1, 'out:right away\n')
    s.wait_for(1, 'out:right away\n')
    s.ws.close()
    s2.ws.close()
    if cp.cstatus(ch, API, cid).state != pb.CONTAINER_RUNNING:
        fail('the echo container stopped after its attachers left')

    # Refusals at the call.
    crit.expect_code(grpc.StatusCode.NOT_FOUND, lambda: attach_url(sock, 'nope'), 'Attach of a malformed id')
    crit.expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: attach_url(sock, cid, False, False, False),
                     'Attach without any stream')
    crit.expect_code(grpc.StatusCode.INVALID_ARGUMENT, lambda: attach_url(sock, cid, tty=True, stderr=True),
                     'Attach with a tty and stderr')
    # On the stream: an unknown container, a stopped one.
    s = streamt.Session(attach_url(sock, sid + '0' * 32)).run()
    st = json.loads(s.out(3))
    if st['status'] != 'Failure' or 'not found' not in st.get('message', ''):
        fail('attach to an unknown container: %r' % s.out(3))
    done = container(ch, sid, cfg, 'done', ['true'], stdin=False, wait=pb.CONTAINER_EXITED)
    s = streamt.Session(attach_url(sock, done)).run()
    st = json.loads(s.out(3))
    if st['status'] != 'Failure' or 'not running' not in st.get('message', ''):
        fail('attach to an exited container: %r' % s.out(3))
    cp.remove(ch, API, done)

    # An app that ends while attached: its last words, then a good end.
    last = container(ch, sid, cfg, 'last', ['sh', '-c', 'read -r x; echo "got $x"; echo bye >&2'])
    s = streamt.Session(attach_url(sock, last))
    s.send(0, b'it\n')
    s.run()
    if s.out(1) != 'got it\n' or s.out(2) != 'bye\n' or json.loads(s.out(3))['status'] != 'Success':
        fail('attach to an app that ended: %r' % s.channels)
    cp.remove(ch, API, last)

    # A container without stdin: its output all the same; what is typed goes nowhere.
    ticker = container(ch, sid, cfg, 'ticker', ['sh', '-c', 'while :; do echo tick; sleep 0.2; done'], stdin=False)
    s = streamt.Session(attach_url(sock, ticker))
    s.send(0, b'ignored\n')
    s.wait_for(1, 'tick\ntick\n')
    s.ws.close()
    cp.stop(ch, API, ticker, 1)
    cp.remove(ch, API, ticker)

    # stdin_once: the first attacher's leaving ends the app's stdin.
    once = container(ch, sid, cfg, 'once', ECHO, stdin_once=True)
    watcher = streamt.Session(attach_url(sock, once, stdin=False))
    first = streamt.Session(attach_url(sock, once))
    echo_round(first, 'once', (watcher,))
    first.ws.close()
    watcher.wait_for(1, 'stdin-ended\n')
    # A later attacher has the output only.
    later = streamt.Session(attach_url(sock, once))
    later.send(0, b'too late\n')
    watcher.ws.settimeout(2)
    try:
        while True:
            watcher.recv_one()
    except Exception:
        pass
    if 'too late' in watcher.out(1):
        fail('a stdin_once app read input after its first attacher left')
    later.ws.close()
    watcher.ws.close()
    cp.stop(ch, API, once, 1)
    cp.remove(ch, API, once)

    # A terminal: made in the pod, its output in the journal (and the log
    # file), input and resizes from attachers, over WebSocket and SPDY.
    term = container(ch, sid, cfg, 'term', ['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo on-a-terminal; '
                                                       'while read -r l; do echo "got:$l"; stty size; done'],
                     tty=True, stdin_once=True)
    log = cp.cstatus(ch, API, term).log_path
    wait_log_text(log, 'on-a-terminal')
    s = streamt.Session(attach_url(sock, term, tty=True, stderr=False), 'v5.channel.k8s.io')
    # At once: the resize waits for the master if it has not come yet.
    s.send(4, json.dumps({'Width': 101, 'Height': 42}).encode())
    s.send(0, b'one\n')
    s.wait_for(1, 'got:one\n42 101\n')
    s.ws.close()
    p = streamt.SpdySession(attach_url(sock, term, tty=True, stderr=False), [3, 0, 1, 4])
    p.send(4, json.dumps({'Width': 77, 'Height': 33}).encode())
    p.send(0, b'two\n')
    p.wait_for(1, 'got:two\n33 77\n')
    p.sock.close()
    # Output only: a second one sees what the first types.
    w = streamt.Session(attach_url(sock, term, stdin=False, tty=True, stderr=False))
    s = streamt.Session(attach_url(sock, term, tty=True, stderr=False))
    s.send(0, b'three\n')
    w.wait_for(1, 'got:three\n')
    s.ws.close()
    w.ws.close()
    wait_log_text(log, 'got:three')
    if cp.cstatus(ch, API, term).state != pb.CONTAINER_RUNNING:
        fail('the terminal container stopped after its (stdin_once) attachers left')
    cp.stop(ch, API, term, 1)
    cp.remove(ch, API, term)
    print('attach: ok')


def wait_log_text(path, text, timeout=30):
    end = time.time() + timeout
    got = b''
    while time.time() < end:
        try:
            with open(path, 'rb') as f:
                got = f.read()
        except FileNotFoundError:
            pass
        if (' stdout F ' + text).encode() in got:
            return
        time.sleep(0.2)
    fail('%s: no stdout line %r in %r' % (path, text, got[-500:]))


def cmd_echo(sock, path):
    made = load(path)
    s = streamt.Session(attach_url(sock, made['echo']))
    echo_round(s, 'after the restart')
    s.ws.close()
    t = streamt.Session(attach_url(sock, made['term'], tty=True, stderr=False))
    t.send(4, json.dumps({'Width': 66, 'Height': 11}).encode())
    t.send(0, b'on\n')
    t.wait_for(1, 'kept:on\n11 66\n')
    t.ws.close()
    print('echo: ok')


def cmd_logs(sock, path):
    made = load(path)
    log = os.path.join(made['log_directory'], made['log_path'])
    words = ['hello attach', 'from-a', 'from-s', 'through spdy', 'again', 'right away']
    want = [('stdout', 'out:' + w) for w in words] + [('stderr', 'err:' + w) for w in words]
    extra = [('stdout', 'out:after the restart'), ('stderr', 'err:after the restart')]
    got = cp.wait_log_lines(log, len(want) + (len(extra) if os.environ.get('ATTACH_RESTARTED') else 0))
    if os.environ.get('ATTACH_RESTARTED'):
        want += extra
    if sorted(got) != sorted(want) or [x for x in got if x[0] == 'stdout'] != [x for x in want if x[0] == 'stdout']:
        fail('log lines: %s' % got)
    print('logs: ok')


def cmd_teardown(sock, path):
    made = load(path)
    cp.remove_sandbox(crit.channel(sock), API, made['sandbox'])
    shutil.rmtree(made['log_directory'], ignore_errors=True)
    print('teardown: ok')


def main():
    if len(sys.argv) != 4:
        fail('usage: attacht.py SOCKET setup|attach|echo|logs|teardown FILE')
    sock, what, path = sys.argv[1:]
    {'setup': cmd_setup, 'attach': cmd_attach, 'echo': cmd_echo, 'logs': cmd_logs, 'teardown': cmd_teardown}[what](
        sock, path)


if __name__ == '__main__':
    main()
