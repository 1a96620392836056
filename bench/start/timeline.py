#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""bench/start/timeline.py: where the time of one pod's life goes, step by
step (run inside the lab by bench/start/trace, with peapod installed).

Each round is the life bench/start/run measures as peapod-d: `peapod run -d
--net=none busybox -- true`, `peapod wait`, `peapod rm` (with NET=default,
the life it measures as peapod-net: the default CNI network, no --net). Three sources make
one timeline per round, all on CLOCK_MONOTONIC, which every process shares:
  - the steps peapodd and the CLI log with PEAPOD_DEBUG_TIMING=1
    ("timing STEP USEC", trace_point() in src/host/crash-point.c);
  - the bus traffic (dbus-monitor --profile; its wall-clock stamps are moved
    onto CLOCK_MONOTONIC by the offset measured here);
  - when each CLI was spawned and when it had exited, seen from here.
Prints, for every event, the median of its time from the round's start
(the spawn of `peapod run`) over the rounds, and how often it was seen."""
import os
import re
import signal
import statistics
import subprocess
import sys
import time

ROUNDS = int(os.environ.get("N", "10"))
NET_ARGS = [] if os.environ.get("NET") == "default" else ["--net=none"]
NET_NAME = "the default network" if not NET_ARGS else "--net=none"
ENV = dict(os.environ, PEAPOD_DEBUG_TIMING="1")
# The calls worth a line: the CLI's, and peapodd's to systemd and machined.
CALLS = {"Hello", "GetImage", "CreatePod", "StartPod", "GetPod", "Get", "GetAll", "RemovePod",
         "StartTransientUnit", "RegisterMachineWithNetwork", "StopUnit", "ResetFailedUnit",
         "GetNameOwner", "AddMatch"}


PHASES = [
    ("run: exec of the CLI to its main()", "run: spawned", "run: cli-main"),
    ("run: connect, GetImage, CreatePod (its durable write), StartPod sent", "run: cli-main", "peapodd: start-begin"),
    ("StartPod: init, preparing (durable), mounts, etc/, leader+addresses", "peapodd: start-begin", "peapodd: units-sent"),
    ("StartPod: systemd: slice, scope, machine, app unit up to its exec", "peapodd: units-sent", "peapodd: app-job-done"),
    ("StartPod: running (durable), reply", "peapodd: app-job-done", "peapodd: start-end"),
    ("run: the reply to the CLI's exit", "peapodd: start-end", "run: exited"),
    ("wait: exec to main()", "wait: spawned", "wait: cli-main"),
    ("the app's run (from the reply), its end seen", "peapodd: start-end", "peapodd: app-changed"),
    ("stop: the slice stopped by systemd", "peapodd: app-changed", "peapodd: stop-job-done"),
    ("stop: ResetFailedUnit x3, exited (durable)", "peapodd: stop-job-done", "peapodd: stop-exited"),
    ("wait: exited announced to the CLI's exit", "peapodd: stop-exited", "wait: exited"),
    ("rm: exec to main()", "rm: spawned", "rm: cli-main"),
    ("rm: main() to RemovePod", "rm: cli-main", "peapodd: remove-call"),
    ("rm: RemovePod (files deleted)", "peapodd: remove-call", "peapodd: remove-end"),
    ("rm: the reply to the CLI's exit", "peapodd: remove-end", "rm: exited"),
]


def mono_us():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000


def wall_minus_mono_us():
    # The smallest of a few samples: the least disturbed reading.
    best = None
    for _ in range(50):
        a = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        w = time.time_ns()
        b = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        if best is None or b - a < best[0]:
            best = (b - a, w - (a + b) // 2)
    return best[1] // 1000


def timing_lines(text, who):
    out = []
    for line in text.splitlines():
        m = re.search(r"timing (\S+) (\d+)$", line)
        if m:
            out.append((int(m.group(2)), f"{who}: {m.group(1)}"))
    return out


def cli(events, name, *args):
    t0 = mono_us()
    p = subprocess.run(["peapod", *args], env=ENV, capture_output=True, text=True)
    t1 = mono_us()
    if p.returncode != 0:
        sys.exit(f"timeline: peapod {' '.join(args)} failed: {p.stderr}")
    events.append((t0, f"{name}: spawned"))
    events.append((t1, f"{name}: exited"))
    events.extend(timing_lines(p.stderr, name))
    return p.stdout.strip()


def bus_owner(name):
    p = subprocess.run(["busctl", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                        "GetNameOwner", "s", name], capture_output=True, text=True)
    return p.stdout.split('"')[1] if p.returncode == 0 else None


def main():
    subprocess.run(["systemctl", "set-environment", "PEAPOD_DEBUG_TIMING=1"], check=True)
    subprocess.run(["systemctl", "restart", "peapodd.service"], check=True)
    subprocess.run(["peapod", "list"], check=True, capture_output=True)
    roles = {bus_owner("org.freedesktop.systemd1"): "systemd", bus_owner("org.freedesktop.machine1"): "machined",
             bus_owner("org.peapod1"): "peapodd"}
    peapodd_pid = subprocess.run(["systemctl", "show", "-P", "MainPID", "peapodd.service"], capture_output=True,
                                 text=True).stdout.strip()
    since = subprocess.run(["date", "+%Y-%m-%d %H:%M:%S"], capture_output=True, text=True).stdout.strip()
    offset = wall_minus_mono_us()
    # Into a file: a monitor blocked on a full pipe would hold the bus up.
    mon_out = open("/run/peapod-timeline.bus", "w+")
    mon = subprocess.Popen(["dbus-monitor", "--system", "--profile"], stdout=mon_out)
    time.sleep(1)
    rounds = []
    try:
        # One life first, out of the count: caches warm, as in bench/start/run.
        for i in range(ROUNDS + 1):
            ev = []
            pid = cli(ev, "run", "run", "-d", *NET_ARGS, "busybox", "--", "true")
            cli(ev, "wait", "wait", pid)
            cli(ev, "rm", "rm", pid)
            if i > 0:
                rounds.append(ev)
            time.sleep(0.3)
    finally:
        time.sleep(0.5)
        mon.send_signal(signal.SIGTERM)
        mon.wait()
        mon_out.seek(0)
        bus_text = mon_out.read()
        mon_out.close()
        os.unlink(mon_out.name)
    subprocess.run(["journalctl", "--sync"], check=False)
    log = subprocess.run(["journalctl", "-o", "cat", "--since", since, f"_PID={peapodd_pid}"], capture_output=True,
                         text=True).stdout
    daemon = timing_lines(log, "peapodd")
    # Other connections of peapodd (its worker) are told by their pid.
    bus = []
    calls = {}
    for line in bus_text.splitlines():
        f = line.split("\t")
        if len(f) < 6 or f[0] not in ("mc", "mr", "err", "sig"):
            continue
        t = int(float(f[1]) * 1e6) - offset
        if f[0] == "mc" and len(f) >= 8 and f[7] in CALLS:
            calls[(f[3], f[2])] = f[7]
            bus.append((t, f[3], f"{f[7]} call"))
        elif f[0] in ("mr", "err") and (f[4], f[5]) in calls:
            bus.append((t, f[4], f"{calls[(f[4], f[5])]} {'reply' if f[0] == 'mr' else 'error'}"))
        elif f[0] == "sig" and len(f) >= 8 and f[6] == "org.freedesktop.DBus.Properties" and \
                f[5].startswith("/org/peapod1/pod/"):
            bus.append((t, f[3], "pod PropertiesChanged"))
        elif f[0] == "sig" and len(f) >= 8 and f[7] == "JobRemoved":
            bus.append((t, f[3], "JobRemoved"))
    for name in {b[1] for b in bus} - set(roles):
        p = subprocess.run(["busctl", "call", "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                            "GetConnectionUnixProcessID", "s", name], capture_output=True, text=True)
        if p.returncode == 0 and p.stdout.split()[-1] == peapodd_pid:
            roles[name] = "peapodd-worker"

    table = {}
    for n, ev in enumerate(rounds):
        start, end = ev[0][0], max(e[0] for e in ev)
        mine = list(ev) + [e for e in daemon if start <= e[0] <= end]
        # The CLI's connections are the ones that said Hello in this round.
        clis = iter(["run", "wait", "rm"])
        for t, sender, what in sorted(b for b in bus if start <= b[0] <= end):
            if what == "Hello call":
                roles[sender] = f"cli-{next(clis, 'other')}"
            mine.append((t, f"bus {roles.get(sender, sender)}: {what}"))
        seen = {}
        for t, label in sorted(mine):
            seen[label] = seen.get(label, 0) + 1
            key = label if seen[label] == 1 else f"{label} #{seen[label]}"
            table.setdefault(key, {})[n] = (t - start) / 1000
    # Events in the order of their median time; each one's step is the
    # median, over the rounds that saw both, of its distance from the event
    # before it.
    rows = sorted(table.items(), key=lambda kv: statistics.median(kv[1].values()))
    print(f"one life (run -d {NET_NAME}, wait, rm), {len(rounds)} rounds: median ms from the spawn of 'peapod run',")
    print("and the median step from the line before")
    print(f"  {'at':>7}  {'step':>6}  {'seen':>4}  event")
    prev = None
    for key, ts in rows:
        m = statistics.median(ts.values())
        step = ""
        if prev is not None:
            d = [ts[n] - prev[n] for n in ts if n in prev]
            step = f"{statistics.median(d):6.2f}" if d else ""
        print(f"  {m:7.2f}  {step:>6}  {len(ts):4d}  {key}")
        prev = ts
    # The same as phases of the life: each the median over the rounds of
    # the time between two events of the round.
    print()
    print("phases (median over the rounds of each round's own span, ms):")
    total = []
    for what, a, b in PHASES:
        d = [table[b][n] - table[a][n] for n in range(len(rounds)) if n in table.get(a, {}) and n in table.get(b, {})]
        if d:
            print(f"  {statistics.median(d):7.2f}  {what}")
    for n in range(len(rounds)):
        total.append(table["rm: exited"][n])
    print(f"  {statistics.median(total):7.2f}  the whole life")
    subprocess.run(["systemctl", "unset-environment", "PEAPOD_DEBUG_TIMING"], check=False)
    subprocess.run(["systemctl", "restart", "peapodd.service"], check=False)


if __name__ == "__main__":
    main()
