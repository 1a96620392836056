#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# exec-at-start.py PREFIX N: N times, a pod is created and started and an
# Exec sent the moment StartPod answers, on the same connection: the
# command must run in the app (its output "ok" on the pipe given as its
# stdout), not fail because the app's helper has not yet made the app.
import os
import sys

import dbus

NAME, ROOT = 'org.peapod1', '/org/peapod1'
prefix, n = sys.argv[1], int(sys.argv[2])
bus = dbus.SystemBus()
manager = dbus.Interface(bus.get_object(NAME, ROOT), 'org.peapod1.Manager')
fail = 0
for i in range(n):
    name = '%s-at%d' % (prefix, i)
    path = manager.CreatePod(name, dbus.Array([], signature='(sv)'),
                             [('app', 'busybox', [('Exec', dbus.Array(['sleep', '300'], signature='s'))])])
    manager.StartPod(name)
    pod = dbus.Interface(bus.get_object(NAME, path), 'org.peapod1.Pod')
    r, w = os.pipe()
    null_in = os.open('/dev/null', os.O_RDONLY)
    try:
        pod.Exec('app', dbus.Array(['/bin/busybox', 'echo', 'ok'], signature='s'), dbus.Array([], signature='(sv)'),
                 dbus.types.UnixFd(null_in), dbus.types.UnixFd(w), dbus.types.UnixFd(w), dbus.UInt64(0))
        os.close(w)
        out = b''
        while True:
            b = os.read(r, 4096)
            if not b:
                break
            out += b
        if out.strip() != b'ok':
            print('exec %d at start printed %r' % (i, out), file=sys.stderr)
            fail += 1
    except dbus.exceptions.DBusException as e:
        os.close(w)
        print('exec %d at start failed: %s' % (i, e), file=sys.stderr)
        fail += 1
    os.close(r)
    os.close(null_in)
    manager.RemovePod(name, dbus.UInt64(1))
sys.exit(1 if fail else 0)
