#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A client of org.peapod1 as a program would be one (python3-dbus).

Follows a pod's whole life from signals alone (PodNew, PropertiesChanged,
ExecFinished, PodRemoved; no property is read), sees ImagesChanged and the
image objects come and go on tag, import, pull and removal, JobNew and
JobRemoved for every job, and calls every method once, with every error
name of org.peapod1 that a call of this version can answer (PodNotRunning
is reserved; AccessDenied is test-polkit's).

    BUS_CLIENT_XML_DIR=dbus BUS_CLIENT_HEADER=src/shared/peapod-bus.h \
        bus-client.py PREFIX [PULL_REFERENCE]

PREFIX names what it makes (pods PREFIX-..., images localhost/PREFIX-...);
PULL_REFERENCE is an image in a registry peapodd may pull from (flag 1:
without a signature). At the end it checks that it called every method of
the interface files and met every error name of the header. Exit 0 on
success; the first failed check ends it.
"""
import glob
import os
import re
import socket
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

import dbus
import dbus.mainloop.glib
from gi.repository import GLib

NAME = 'org.peapod1'
ROOT = '/org/peapod1'
MANAGER = 'org.peapod1.Manager'
POD = 'org.peapod1.Pod'
JOB = 'org.peapod1.Job'
IMAGE = 'org.peapod1.Image'
PROPS = 'org.freedesktop.DBus.Properties'
OM = 'org.freedesktop.DBus.ObjectManager'
TIMEOUT = 60

prefix = sys.argv[1]
# The interface files (dbus/*.xml: what peapodd serves) and the wire header.
xml_dir = os.environ['BUS_CLIENT_XML_DIR']
header = os.environ['BUS_CLIENT_HEADER']
pull_ref = sys.argv[2] if len(sys.argv) > 2 else None

dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
bus = dbus.SystemBus()
# Every (interface, method) this client called and every error name it
# was answered with: at the end, all that peapodd serves.
called = set()
errors_seen = set()


class Interface(dbus.Interface):
    def __getattr__(self, member):
        called.add((self.dbus_interface, member))
        return super().__getattr__(member)


manager = Interface(bus.get_object(NAME, ROOT), MANAGER)
# Every signal of peapodd, in order: (interface, member, path, args).
events = []


def on_signal(*args, **kw):
    events.append((kw['interface'], kw['member'], str(kw['path']), args))


def say(msg):
    print('[bus-client] ' + msg, flush=True)


def fail(msg):
    print('[bus-client] FAIL: ' + msg, file=sys.stderr, flush=True)
    for e in events:
        print('    %s.%s %s %r' % e, file=sys.stderr)
    sys.exit(1)


def wait_for(what, pred, after=0):
    """Runs the loop until an event at index >= after satisfies pred;
    returns its index. Nothing is polled: the loop sleeps until a signal
    (or the 100 ms tick that bounds the wait) arrives."""
    deadline = time.monotonic() + TIMEOUT
    ctx = GLib.MainContext.default()
    while True:
        for i in range(after, len(events)):
            if pred(*events[i]):
                return i
        if time.monotonic() > deadline:
            fail('no signal: ' + what)
        GLib.timeout_add(100, lambda: False)
        ctx.iteration(True)


def expect_error(name, fn, *args):
    try:
        fn(*args)
    except dbus.exceptions.DBusException as e:
        errors_seen.add(e.get_dbus_name())
        if e.get_dbus_name() != name:
            fail('%s%r: expected %s, got %s: %s' % (fn, args, name, e.get_dbus_name(), e.get_dbus_message()))
        return e.get_dbus_message()
    fail('%s%r: expected %s, it succeeded' % (fn, args, name))


def is_signal(iface, member, path=None, **match):
    def pred(i, m, p, args):
        return i == iface and m == member and (path is None or p == path) and \
            all(f(args) for f in match.values())
    return pred


def pod_changed(path, test):
    def pred(i, m, p, args):
        return i == PROPS and m == 'PropertiesChanged' and p == path and args[0] == POD and test(args[1])
    return pred


def app_in(changed, name, state, status=None):
    for a in changed.get('Apps', []):
        if a[0] == name and a[5] == state and (status is None or a[7] == status):
            return True
    return False


def strs(*items):
    return dbus.Array(items, signature='s')


def pod_of(path, introspect=True):
    # introspect=False for an object that is not there: the call fails,
    # not the proxy (the signatures then come from the arguments' types).
    return Interface(bus.get_object(NAME, path, introspect=introspect), POD)


def wait_job(job_path, after, states=('done',)):
    """JobNew then JobRemoved for job_path; returns (state, result, message)."""
    i = wait_for('JobNew for ' + job_path, is_signal(MANAGER, 'JobNew', ROOT, p=lambda a: a[1] == job_path), after)
    j = wait_for('JobRemoved for ' + job_path, is_signal(MANAGER, 'JobRemoved', ROOT, p=lambda a: a[1] == job_path), i)
    state, result, message = (str(x) for x in events[j][3][2:5])
    if state not in states:
        fail('job %s ended %s (%s), expected %s' % (job_path, state, message, states))
    return state, result, message


def images_changed(after, added=(), removed=(), ids_added=None, ids_removed=None):
    """Waits for ImagesChanged naming every (name) of added/removed."""
    def pred(i, m, p, args):
        if i != MANAGER or m != 'ImagesChanged':
            return False
        na = [str(n) for n, _ in args[0]]
        nr = [str(n) for n, _ in args[1]]
        return all(a in na for a in added) and all(r in nr for r in removed)
    k = wait_for('ImagesChanged +%s -%s' % (added, removed), pred, after)
    args = events[k][3]
    if ids_added is not None and sorted(str(x) for x in args[2]) != sorted(ids_added):
        fail('ImagesChanged images_added %r, expected %r' % (list(args[2]), ids_added))
    if ids_removed is not None and sorted(str(x) for x in args[3]) != sorted(ids_removed):
        fail('ImagesChanged images_removed %r, expected %r' % (list(args[3]), ids_removed))
    return k, args


def null_fd(mode=os.O_RDWR):
    return dbus.types.UnixFd(os.open('/dev/null', mode | os.O_CLOEXEC))


# peapodd is started by the bus on its first call; subscribe once it runs,
# before anything happens that the signals would tell.
str(manager.ListPods())
bus.add_signal_receiver(on_signal, bus_name=NAME, interface_keyword='interface', member_keyword='member',
                        path_keyword='path')
version = dbus.Interface(bus.get_object(NAME, ROOT), PROPS).Get(MANAGER, 'Version')
say('peapodd %s' % version)

# ---------------------------------------------------------------------------
say("a pod's whole life from signals")
mark = len(events)
# The app waits for a file that an Exec makes, then exits 3.
life = manager.CreatePod(prefix + '-life', dbus.Array([], signature='(sv)'),
                         [('app', 'busybox', [('Exec', strs('sh', '-c', 'while [ ! -e /go ]; do sleep 0.1; done; exit 3'))])])
i_new = wait_for('PodNew', is_signal(MANAGER, 'PodNew', ROOT, p=lambda a: a[1] == life), mark)
pod_id = str(events[i_new][3][0])
wait_for('InterfacesAdded for the pod', is_signal(OM, 'InterfacesAdded', ROOT, p=lambda a: a[0] == life and POD in a[1]), mark)
manager.StartPod(pod_id)
i_run = wait_for('State running', pod_changed(life, lambda c: c.get('State') == 'running'), i_new)
if not app_in(events[i_run][3][1], 'app', 'running'):
    i_run = wait_for('app running', pod_changed(life, lambda c: app_in(c, 'app', 'running')), i_new)
exec_id = pod_of(life).Exec('app', strs('touch', '/go'), dbus.Array([], signature='(sv)'),
                            null_fd(os.O_RDONLY), null_fd(os.O_WRONLY), null_fd(os.O_WRONLY), dbus.UInt64(0))
i_exec = wait_for('ExecFinished', is_signal(POD, 'ExecFinished', life, p=lambda a: a[0] == exec_id), i_run)
if (str(events[i_exec][3][1]), int(events[i_exec][3][2])) != ('exited', 0):
    fail('ExecFinished says %r' % (events[i_exec][3],))
i_app = wait_for('app exited 3', pod_changed(life, lambda c: app_in(c, 'app', 'exited', 3)), i_run)
i_exit = wait_for('State exited', pod_changed(life, lambda c: c.get('State') == 'exited'), i_run)
if i_exit < i_app:
    fail('the pod was told exited before its app')
for e in events[mark:]:
    if e[0] == PROPS and e[2] == life and len(e[3][1]) == 0:
        fail('PropertiesChanged without a change: %r' % (e,))
manager.RemovePod(pod_id, dbus.UInt64(0))
i_rm = wait_for('PodRemoved', is_signal(MANAGER, 'PodRemoved', ROOT, p=lambda a: a[1] == life and a[0] == pod_id), i_exit)
wait_for('InterfacesRemoved for the pod', is_signal(OM, 'InterfacesRemoved', ROOT, p=lambda a: a[0] == life), i_exit)

# ---------------------------------------------------------------------------
say('StartPodWithStdin: the first app reads what the caller writes')
mark = len(events)
fed = manager.CreatePod(prefix + '-stdin', dbus.Array([], signature='(sv)'),
                        [('app', 'busybox', [('Exec', strs('sh', '-c', 'read x; exit $x'))])])
r, w = os.pipe()
manager.StartPodWithStdin(prefix + '-stdin', dbus.types.UnixFd(r), dbus.UInt64(0))
os.close(r)
os.write(w, b'5\n')
os.close(w)
k = wait_for('the app read 5 and exited with it', pod_changed(fed, lambda c: app_in(c, 'app', 'exited', 5)), mark)
k = wait_for('stdin pod exited', pod_changed(fed, lambda c: c.get('State') == 'exited'), mark)
manager.RemovePod(prefix + '-stdin', dbus.UInt64(0))
wait_for('PodRemoved stdin', is_signal(MANAGER, 'PodRemoved', ROOT, p=lambda a: a[1] == fed), k)

# ---------------------------------------------------------------------------
say('apps of a pod through org.peapod1.Pod')
mark = len(events)
box = manager.CreatePod(prefix + '-box', [('StopWhenAppsExit', dbus.Boolean(False, variant_level=1))], dbus.Array([], signature='(ssa(sv))'))
if str(manager.GetPod(prefix + '-box')) != str(box):
    fail('GetPod by name')
if not any(str(p[5]) == str(box) for p in manager.ListPods()):
    fail('ListPods lacks the pod')
podi = pod_of(box)
podi.Start()
wait_for('box running', pod_changed(box, lambda c: c.get('State') == 'running'), mark)
name, app_id = podi.AddApp('a2', 'busybox', [('Exec', strs('sleep', '300'))], dbus.UInt64(1))
if str(name) != 'a2':
    fail('AddApp named the app %s' % name)
k = wait_for('a2 running', pod_changed(box, lambda c: app_in(c, 'a2', 'running')), mark)
props = podi.GetApp('a2')
if str(props['State']) != 'running' or str(props['Id']) != str(app_id):
    fail('GetApp: %r' % (props,))
podi.StopApp('a2')
k = wait_for('a2 stopped', pod_changed(box, lambda c: app_in(c, 'a2', 'exited')), k)
podi.StartApp('a2')
k = wait_for('a2 running again', pod_changed(box, lambda c: app_in(c, 'a2', 'running')), k)
podi.Kill('a2', dbus.Int32(9))
k = wait_for('a2 killed', pod_changed(box, lambda c: app_in(c, 'a2', 'exited', 9)), k)
podi.RemoveApp('a2', dbus.UInt64(0))
k = wait_for('a2 gone', pod_changed(box, lambda c: 'Apps' in c and len(c['Apps']) == 0), k)
podi.Stop()
k = wait_for('box exited', pod_changed(box, lambda c: c.get('State') == 'exited'), k)
podi.Remove(dbus.UInt64(0))
wait_for('PodRemoved box', is_signal(MANAGER, 'PodRemoved', ROOT, p=lambda a: a[1] == box), k)

# StopPod and RemovePod(force) through the manager.
mark = len(events)
other = manager.CreatePod(prefix + '-other', dbus.Array([], signature='(sv)'), [('app', 'busybox', [('Exec', strs('sleep', '300'))])])
manager.StartPod(prefix + '-other')
k = wait_for('other running', pod_changed(other, lambda c: c.get('State') == 'running'), mark)

say('error names')
expect_error('org.peapod1.Error.NoSuchPod', manager.GetPod, prefix + '-nothing')
expect_error('org.peapod1.Error.NoSuchPod', manager.StartPod, prefix + '-nothing')
expect_error('org.freedesktop.DBus.Error.UnknownObject', pod_of(ROOT + '/pod/' + '0' * 32, introspect=False).Start)
expect_error('org.peapod1.Error.InvalidName', manager.CreatePod, '-bad name', dbus.Array([], signature='(sv)'),
             [('app', 'busybox', [])])
expect_error('org.peapod1.Error.PodExists', manager.CreatePod, prefix + '-other', dbus.Array([], signature='(sv)'),
             [('app', 'busybox', [])])
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.CreatePod, '', [('NoSuchProperty', dbus.String('x', variant_level=1))],
             [('app', 'busybox', [])])
expect_error('org.peapod1.Error.NoSuchImage', manager.CreatePod, '', dbus.Array([], signature='(sv)'),
             [('app', 'localhost/%s-none:latest' % prefix, [])])
expect_error('org.peapod1.Error.PodRunning', manager.RemovePod, prefix + '-other', dbus.UInt64(0))
expect_error('org.peapod1.Error.BadState', manager.StartPod, prefix + '-other')
expect_error('org.peapod1.Error.NoSuchApp', pod_of(other).GetApp, 'nope')
expect_error('org.peapod1.Error.AppExists', pod_of(other).AddApp, 'app', 'busybox', dbus.Array([], signature='(sv)'),
             dbus.UInt64(0))
expect_error('org.peapod1.Error.AppRunning', pod_of(other).RemoveApp, 'app', dbus.UInt64(0))
# A host port that a program of the host has bound.
with socket.socket() as taken:
    taken.bind(('0.0.0.0', 0))
    taken.listen()
    port = taken.getsockname()[1]
    expect_error('org.peapod1.Error.PortInUse', manager.CreatePod, prefix + '-port',
                 [('Ports', dbus.Array([('tcp', '', dbus.UInt16(port), dbus.UInt16(80))], signature='(ssqq)', variant_level=1))],
                 [('app', 'busybox', [])])
expect_error('org.freedesktop.DBus.Error.InvalidArgs', pod_of(other).Kill, 'app', dbus.Int32(99))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', pod_of(other).SetAppResources, 'app',
             [('MemoryMax', dbus.UInt64(1000, variant_level=1))], dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', pod_of(other).SetAppResources, 'app',
             [('CPUWeight', dbus.UInt64(100, variant_level=1))], dbus.UInt64(0))
expect_error('org.peapod1.Error.NoSuchApp', pod_of(other).SetAppResources, 'nope',
             dbus.Array([], signature='(sv)'), dbus.UInt64(0))
# KillExec signals only an exec of this pod that runs: never any unit by name.
expect_error('org.peapod1.Error.BadState', pod_of(other).KillExec, 'dbus.service', dbus.Int32(9))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', pod_of(other).KillExec, 'x', dbus.Int32(0))
# AttachApp: only an app created with Stdin has a stdin to hand out.
expect_error('org.peapod1.Error.BadState', pod_of(other).AttachApp, 'app', dbus.UInt64(0))
expect_error('org.peapod1.Error.NoSuchApp', pod_of(other).AttachApp, 'nope', dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', pod_of(other).AttachApp, 'app', dbus.UInt64(1))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.GarbageCollect, dbus.UInt64(0), dbus.UInt64(7))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.PullImage, 'busybox', dbus.UInt64(99))
# PullImageWithAuth: an unknown key, a username without a password.
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.PullImageWithAuth, 'busybox',
             dbus.Array([('Token', dbus.String('x', variant_level=1))], signature='(sv)'), dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.PullImageWithAuth, 'busybox',
             dbus.Array([('Username', dbus.String('u', variant_level=1))], signature='(sv)'), dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.PullImageWithAuth, 'busybox',
             dbus.Array([('Username', dbus.String('u', variant_level=1)), ('Password', dbus.String('p', variant_level=1)),
                         ('RegistryToken', dbus.String('t', variant_level=1))], signature='(sv)'), dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.PullImageWithAuth, 'busybox',
             dbus.Array([('RegistryToken', dbus.String('t\r\nX-Injected: 1', variant_level=1))], signature='(sv)'),
             dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.PullImageWithAuth, 'busybox',
             dbus.Array([('RegistryToken', dbus.String('t', variant_level=1)),
                         ('IdentityToken', dbus.String('i', variant_level=1))], signature='(sv)'), dbus.UInt64(0))
expect_error('org.peapod1.Error.NoSuchImage', manager.GetImage, 'localhost/%s-none:latest' % prefix)
expect_error('org.peapod1.Error.NoSuchImage', manager.RemoveImage, 'localhost/%s-none:latest' % prefix, dbus.UInt64(0))
expect_error('org.peapod1.Error.ImageInUse', manager.RemoveImage, 'busybox', dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.AddTrustedKey, dbus.ByteArray(b'junk'), 'example.com/x', dbus.UInt64(0))
expect_error('org.peapod1.Error.NoSuchKey', manager.RemoveTrustedKey, 'A' * 40, dbus.UInt64(0))
expect_error('org.freedesktop.DBus.Error.InvalidArgs', manager.ImportImageWithSignature, null_fd(os.O_RDONLY),
             dbus.ByteArray(b''), '', dbus.UInt64(99))
list(manager.ListTrustedKeys())
manager.StopPod(prefix + '-other')
k = wait_for('other exited', pod_changed(other, lambda c: c.get('State') == 'exited'), k)
removed = manager.GarbageCollect(dbus.UInt64(2 ** 63), dbus.UInt64(0))
if len(removed) != 0:
    fail('GarbageCollect with a grace of centuries removed %r' % (removed,))
manager.RemovePod(prefix + '-other', dbus.UInt64(1))
wait_for('PodRemoved other', is_signal(MANAGER, 'PodRemoved', ROOT, p=lambda a: a[1] == other), k)

# ---------------------------------------------------------------------------
say('images: tag, export, import, remove, prune')
bb_path = manager.GetImage('busybox')
bb_id = str(dbus.Interface(bus.get_object(NAME, bb_path), PROPS).Get(IMAGE, 'Id'))
tag = 'localhost/%s-tag:latest' % prefix
mark = len(events)
manager.TagImage('busybox', tag)
images_changed(mark, added=[tag], ids_added=[])
wait_for('Names of busybox', is_signal(PROPS, 'PropertiesChanged', str(bb_path), p=lambda a: a[0] == IMAGE and tag in [str(n) for n in a[1].get('Names', [])]), mark)
if not any(tag in [str(n) for n in img[1]] for img in manager.ListImages()):
    fail('ListImages lacks the tag')

with tempfile.TemporaryFile(dir='/var/tmp') as f:
    mark = len(events)
    job = manager.ExportImage(tag, dbus.types.UnixFd(f.fileno()), 'oci', dbus.UInt64(0))
    wait_job(str(job), mark)
    f.seek(0)
    imported = 'localhost/%s-imported:latest' % prefix
    mark = len(events)
    job = manager.ImportImage(dbus.types.UnixFd(f.fileno()), imported, dbus.UInt64(1))
    wait_job(str(job), mark)
    images_changed(mark, added=[imported], ids_added=[])

mark = len(events)
manager.RemoveImage(tag, dbus.UInt64(0))
manager.RemoveImage(imported, dbus.UInt64(0))
images_changed(mark, removed=[tag], ids_removed=[])
images_changed(mark, removed=[imported], ids_removed=[])
manager.PruneImages(dbus.UInt64(0))

if pull_ref:
    say('images: pull and remove ' + pull_ref)
    mark = len(events)
    job = manager.PullImage(pull_ref, dbus.UInt64(1))
    state, result, message = wait_job(str(job), mark)
    new_id = result
    if new_id == bb_id:
        fail('the pulled image is busybox')
    k, args = images_changed(mark, added=[pull_ref], ids_added=[new_id])
    img_path = ROOT + '/image/' + new_id[len('sha256:'):]
    wait_for('InterfacesAdded for the image', is_signal(OM, 'InterfacesAdded', ROOT, p=lambda a: a[0] == img_path and IMAGE in a[1]), mark)
    mark = len(events)
    manager.RemoveImage(pull_ref, dbus.UInt64(0))
    images_changed(mark, removed=[pull_ref], ids_removed=[new_id])
    wait_for('InterfacesRemoved for the image', is_signal(OM, 'InterfacesRemoved', ROOT, p=lambda a: a[0] == img_path), mark)

    say('a job canceled (or failed) is told by JobRemoved')
    mark = len(events)
    job = str(manager.PullImage('127.0.0.1:1/%s/none:latest' % prefix, dbus.UInt64(1)))
    try:
        Interface(bus.get_object(NAME, job, introspect=False), JOB).Cancel()
    except dbus.exceptions.DBusException as e:
        # It may have failed already: the connection is refused at once.
        if e.get_dbus_name() != 'org.freedesktop.DBus.Error.UnknownObject':
            fail('Cancel: %s' % e)
    wait_job(job, mark, states=('canceled', 'failed'))

say('every method called, every error name seen')
served = set()
for f in glob.glob(os.path.join(xml_dir, 'org.peapod1.*.xml')):
    for iface in ET.parse(f).getroot().iter('interface'):
        if iface.get('name').startswith(NAME + '.'):
            served |= {(iface.get('name'), m.get('name')) for m in iface.iter('method')}
if len(served) < 30:
    fail('only %d methods in %s' % (len(served), xml_dir))
# Job.Cancel needs a job that runs long enough: a pull (PULL_REFERENCE).
missed = served - called - (set() if pull_ref else {(JOB, 'Cancel')})
if missed:
    fail('never called: %s' % ', '.join(sorted('%s.%s' % m for m in missed)))
names = set(re.findall(r'#define BUS_ERROR_\w+ "(org\.peapod1\.Error\.\w+)"', open(header).read()))
if len(names) < 10:
    fail('only %d error names in %s' % (len(names), header))
missed = names - errors_seen - {'org.peapod1.Error.PodNotRunning'}  # reserved: nothing answers it
if missed:
    fail('never answered: %s' % ', '.join(sorted(missed)))
say('ok')
