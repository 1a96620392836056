#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every method, property and signal that peapodd serves is in org.peapod1(5)
# with its signature, in its interface's section (.SH "INTERFACE NAME"), as
#   .B "Method(t arg, ...) \(-> (t out, ...)"   .B "readonly t Property"
#   .B "signal Signal(t arg, ...)"
# every method's paragraph says "Privilege:" and "Errors:", every member the
# page documents there exists, and every error name of the wire contract
# (src/shared/peapod-bus.h) is explained.
#   check-dbus-man.py PEAPODD MANPAGE HEADER
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

peapodd, manpage, header = sys.argv[1:4]
xml = subprocess.run([peapodd, '--bus-introspect'], check=True, capture_output=True, text=True).stdout
root = ET.fromstring(xml)
text = open(manpage).read().replace('\\(->', '->').replace('\\-', '-')

sections = {}
# The paragraph of each documented method: (interface, name) -> its lines.
paragraphs = {}
current = None
paragraph = None
for line in text.splitlines():
    m = re.match(r'\.SH "INTERFACE (\S+)"', line)
    if m:
        current = sections.setdefault(m.group(1), [])
        iface = m.group(1)
        paragraph = None
    elif line.startswith(('.SH', '.SS', '.TP')):
        paragraph = None
        if line.startswith('.SH'):
            current = None
    elif current is not None:
        m = re.match(r'\.B "(.*)"$', line)
        if m:
            current.append(m.group(1))
            n = re.match(r'(\w+)\(', m.group(1))
            if n:
                paragraph = paragraphs.setdefault((iface, n.group(1)), [])
        elif paragraph is not None:
            paragraph.append(line)

def args(el, direction):
    return ', '.join('%s %s' % (a.get('type'), a.get('name')) for a in el.findall('arg')
                     if a.get('direction', 'in') == direction)

fail = False
for iface in root.findall('interface'):
    name = iface.get('name')
    expected = []
    for m in iface.findall('method'):
        out = args(m, 'out')
        expected.append('%s(%s)%s' % (m.get('name'), args(m, 'in'), ' -> (%s)' % out if out else ''))
    for p in iface.findall('property'):
        expected.append('%s %s %s' % ('readonly' if p.get('access') == 'read' else 'readwrite', p.get('type'), p.get('name')))
    for s in iface.findall('signal'):
        expected.append('signal %s(%s)' % (s.get('name'), args(s, 'in')))
    documented = sections.get(name)
    if documented is None:
        print('%s: no section .SH "INTERFACE %s"' % (manpage, name))
        fail = True
        continue
    # Each method says who may call it and how it fails.
    for m in iface.findall('method'):
        words = ' '.join(paragraphs.get((name, m.get('name')), []))
        for what in ('Privilege:', 'Errors:'):
            if what not in words:
                print('%s: %s.%s does not say "%s"' % (manpage, name, m.get('name'), what))
                fail = True
    for e in expected:
        if e not in documented:
            print('%s: %s is not documented as .B "%s"' % (manpage, name, e))
            fail = True
    for d in documented:
        if d not in expected and re.match(r'(readonly |readwrite |signal )?\w+(\(| )', d) and (
                '(' in d or d.startswith(('readonly ', 'readwrite '))):
            print('%s: documents %s "%s", which peapodd does not serve' % (manpage, name, d))
            fail = True
for name in sections:
    if root.find("interface[@name='%s']" % name) is None:
        print('%s: documents interface %s, which peapodd does not serve' % (manpage, name))
        fail = True

errors = re.findall(r'#define BUS_ERROR_\w+ "(org\.peapod1\.Error\.\w+)"', open(header).read())
if not errors:
    print('%s: no error names found' % header)
    fail = True
for e in errors:
    if not re.search(r'^\.B %s$' % re.escape(e), text, re.M):
        print('%s: error %s is not explained (.TP / .B %s)' % (manpage, e, e))
        fail = True
sys.exit(1 if fail else 0)
