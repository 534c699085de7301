#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
"""Check an asciicast v2 recording with Python's own (strict) readers.

    asciicast-check.py FILE            the "o" events' text, UTF-8, on stdout
    asciicast-check.py --summary FILE  the header's size, then each "r"
                                       event's size, one a line

Exit 1 with the reason on stderr if FILE is not strict UTF-8, a line is
not JSON, the header is not version 2 with a size, an event is not
[time, type, text], or the times go back.
"""
import json
import re
import sys


def fail(msg):
    sys.stderr.write(f"asciicast-check: {msg}\n")
    sys.exit(1)


def main():
    args = sys.argv[1:]
    summary = bool(args) and args[0] == "--summary"
    if summary:
        args = args[1:]
    if len(args) != 1:
        fail("usage: asciicast-check.py [--summary] FILE")
    with open(args[0], "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        fail(f"not UTF-8: {e}")
    if not text.endswith("\n"):
        fail("the last line has no newline")
    lines = text[:-1].split("\n")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as e:
        fail(f"line 1: {e}")
    if not isinstance(header, dict) or header.get("version") != 2:
        fail(f"line 1 is not a version 2 header: {lines[0]!r}")
    for key in ("width", "height"):
        if not isinstance(header.get(key), int) or header[key] <= 0:
            fail(f"header: no {key}: {lines[0]!r}")
    out = []
    sizes = [f"{header['width']}x{header['height']}"]
    last = 0.0
    for n, line in enumerate(lines[1:], start=2):
        try:
            ev = json.loads(line)
        except json.JSONDecodeError as e:
            fail(f"line {n}: {e}: {line[:80]!r}")
        if (not isinstance(ev, list) or len(ev) != 3
                or not isinstance(ev[0], (int, float))
                or not isinstance(ev[1], str) or not isinstance(ev[2], str)):
            fail(f"line {n} is not [time, type, text]: {line[:80]!r}")
        if ev[0] < last:
            fail(f"line {n}: time {ev[0]} before {last}")
        last = ev[0]
        if ev[1] == "o":
            out.append(ev[2])
        elif ev[1] == "r":
            if not re.fullmatch(r"[0-9]+x[0-9]+", ev[2]):
                fail(f"line {n}: resize to {ev[2]!r}")
            sizes.append(ev[2])
    if summary:
        sys.stdout.write("\n".join(sizes) + "\n")
    else:
        sys.stdout.buffer.write("".join(out).encode("utf-8"))


main()
