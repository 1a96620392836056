#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Check a CRI log file line by line the way kubelet parses it (RFC3339Nano
# time, stream, P/F tag, content) and write the reassembled lines of each
# stream: P pieces are joined until the F line that ends them.
#   cri-check.py FILE STDOUT-OUT STDERR-OUT
import re
import sys

LINE = re.compile(rb'^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF]) (.*)\Z', re.S)

def main():
    path, out_path, err_path = sys.argv[1:4]
    data = open(path, 'rb').read()
    if data and not data.endswith(b'\n'):
        sys.exit(f'{path}: the last line is torn (no newline)')
    partial = {b'stdout': b'', b'stderr': b''}
    out = {b'stdout': open(out_path, 'wb'), b'stderr': open(err_path, 'wb')}
    last_time = b''
    for n, line in enumerate(data.split(b'\n')[:-1], 1):
        m = LINE.match(line)
        if not m:
            sys.exit(f'{path}:{n}: not a CRI log line: {line[:120]!r}')
        t, stream, tag, content = m.groups()
        if t < last_time:
            sys.exit(f'{path}:{n}: time goes backwards')
        last_time = t
        partial[stream] += content
        if tag == b'F':
            out[stream].write(partial[stream] + b'\n')
            partial[stream] = b''
    for s, rest in partial.items():
        if rest:
            sys.exit(f'{path}: {s.decode()} ends with P pieces without their F line')

main()
