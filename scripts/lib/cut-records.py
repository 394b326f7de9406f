#!/usr/bin/env python3
"""Keeps the records of one container form whose message names a pattern, byte for byte.

Usage: cut-records.py FORM PATTERN...      (stdin → stdout)
  FORM     dmesg-json | journal-json | journal-json-pretty | journal-export
  PATTERN  text the record's message must contain; HOST=TEXT also asks _HOSTNAME to be HOST.
           A record is kept when any pattern matches it.

The kernel log is shared with whatever else runs on the machine: capture scripts keep only their
own records with this. Records kept are written as the tool wrote them (dmesg -J's framing lines
are written again around them, as dmesg writes them).
"""
import json
import struct
import sys

form, patterns = sys.argv[1], sys.argv[2:]
rules = [(p.split('=', 1) if '=' in p else (None, p)) for p in patterns]


def wanted(message, host):
    return any(text in message and (h is None or h == host) for h, text in rules)


data = sys.stdin.buffer.read()
out = sys.stdout.buffer

if form == 'dmesg-json':
    # {\n   "dmesg": [\n      {\n ... \n      },{\n ... \n      }\n   ]\n}\n
    lines = data.decode('utf-8').split('\n')
    records, cur = [], None
    for line in lines[2:]:
        t = line.strip()
        if t in ('{', '},{'):
            if cur is not None:
                records.append(cur)
            cur = []
        elif t == '}' and cur is not None:
            records.append(cur)
            cur = None
        elif t == ']' or cur is None:
            continue
        else:
            cur.append(line)
    kept = [r for r in records if wanted(json.loads('{' + '\n'.join(r) + '}').get('msg', ''), None)]
    text = lines[0] + '\n' + lines[1] + '\n'
    for i, r in enumerate(kept):
        text += ('      {\n' if i == 0 else '      },{\n') + '\n'.join(r) + '\n'
    if kept:
        text += '      }\n'
    text += '   ]\n}\n'
    out.write(text.encode('utf-8'))
elif form == 'journal-json':
    for line in data.split(b'\n'):
        if line.strip():
            o = json.loads(line)
            if isinstance(o.get('MESSAGE'), str) and wanted(o['MESSAGE'], o.get('_HOSTNAME')):
                out.write(line + b'\n')
elif form == 'journal-json-pretty':
    cur = []
    for line in data.split(b'\n'):
        cur.append(line)
        if line == b'}':
            o = json.loads(b'\n'.join(cur))
            if isinstance(o.get('MESSAGE'), str) and wanted(o['MESSAGE'], o.get('_HOSTNAME')):
                out.write(b'\n'.join(cur) + b'\n')
            cur = []
elif form == 'journal-export':
    pos, start, fields = 0, 0, {}
    while pos < len(data):
        nl = data.index(b'\n', pos)
        line = data[pos:nl]
        if line == b'':
            if wanted(fields.get('MESSAGE', ''), fields.get('_HOSTNAME')):
                out.write(data[start:nl + 1])
            pos = start = nl + 1
            fields = {}
            continue
        if b'=' in line:
            k, v = line.split(b'=', 1)
            fields[k.decode()] = v.decode('utf-8', 'replace')
            pos = nl + 1
        else:
            (size,) = struct.unpack('<Q', data[nl + 1:nl + 9])
            fields[line.decode()] = data[nl + 9:nl + 9 + size].decode('utf-8', 'replace')
            pos = nl + 9 + size + 1
else:
    sys.exit(f'unknown form {form}')
