#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/cri/cni_chain.py: the plugins of one CNI conflist on their own,
with no runtime around them: ROUNDS times ADD of the whole chain (each
plugin in order, with the one before's result, as the CNI spec and both
runtimes run it) into a fresh network namespace, then DEL (in reverse).
Prints the median ms of ADD, DEL and both. The namespace's creation and
deletion are not counted: a runtime makes one either way.

This is the floor under a pod lifecycle on that network: every runtime
that uses these plugins pays at least this much, whatever it does itself.

usage: cni_chain.py [--rounds=N] [--bin=DIR] CONFLIST
(lifecycle.py --chain=CONFLIST runs one round of it in each of its own.)
"""
import json
import os
import statistics
import subprocess
import sys
import time


def fail(msg):
    print('cni_chain.py: ' + msg, file=sys.stderr)
    sys.exit(1)


def run_chain(conf, bindir, command, netns, container_id, prev_result):
    """Run every plugin of conf for command; return the last ADD result."""
    plugins = conf['plugins'] if command == 'ADD' else conf['plugins'][::-1]
    result = prev_result
    for plugin in plugins:
        net = dict(plugin, name=conf['name'], cniVersion=conf['cniVersion'])
        # The runtime arguments both runtimes pass for a pod without ports.
        if 'portMappings' in plugin.get('capabilities', {}):
            net['runtimeConfig'] = {'portMappings': []}
        if result is not None:
            net['prevResult'] = result
        env = dict(os.environ, CNI_COMMAND=command, CNI_CONTAINERID=container_id, CNI_NETNS=netns,
                   CNI_IFNAME='eth0', CNI_PATH=bindir)
        p = subprocess.run([os.path.join(bindir, plugin['type'])], input=json.dumps(net).encode(), env=env,
                           capture_output=True)
        if p.returncode != 0:
            fail('%s %s failed: %s %s' % (plugin['type'], command, p.stdout.decode(errors='replace'),
                                          p.stderr.decode(errors='replace')))
        if command == 'ADD':
            result = json.loads(p.stdout)
    return result


def one_round(conf, bindir, name):
    """ADD then DEL of the chain in a new namespace called name: (ADD ms, DEL ms)."""
    netns = '/run/netns/' + name
    subprocess.run(['ip', 'netns', 'add', name], check=True)
    try:
        t0 = time.monotonic()
        result = run_chain(conf, bindir, 'ADD', netns, name, None)
        t1 = time.monotonic()
        run_chain(conf, bindir, 'DEL', netns, name, result)
        t2 = time.monotonic()
    finally:
        subprocess.run(['ip', 'netns', 'delete', name], check=False)
    return (t1 - t0) * 1000, (t2 - t1) * 1000


def describe(conf, add, delete):
    """The line that reports ADD and DEL times (lists of ms)."""
    both = statistics.median(x + y for x, y in zip(add, delete))
    return both, 'plugin chain alone (%s), median ms of %d rounds: ADD %.1f, DEL %.1f, both %.1f' % (
        ', '.join(p['type'] for p in conf['plugins']), len(add), statistics.median(add), statistics.median(delete), both)


def main():
    rounds, bindir, path = 20, '/usr/lib/cni', None
    for a in sys.argv[1:]:
        if a.startswith('--rounds='):
            rounds = int(a[9:])
        elif a.startswith('--bin='):
            bindir = a[6:]
        elif not a.startswith('-') and path is None:
            path = a
        else:
            fail('usage: cni_chain.py [--rounds=N] [--bin=DIR] CONFLIST')
    if path is None:
        fail('no conflist given')
    with open(path) as f:
        conf = json.load(f)
    add, delete = [], []
    for r in range(rounds):
        a, d = one_round(conf, bindir, 'benchchain%d-%d' % (os.getpid(), r))
        add.append(a)
        delete.append(d)
    print(describe(conf, add, delete)[1])


if __name__ == '__main__':
    main()
