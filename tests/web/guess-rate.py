#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0 OR BSD-3-Clause
#
# guess-rate.py - how fast can parallel guessers that do not wait for the
# delay try tokens on the web console? Each of N processes loops: connect,
# upgrade, take the handshake as far as a guess, wait 30 ms for an answer,
# close, again. Prints the tries per second and the guesses per second the
# guessers learned anything from.
#
#   guess-rate.py --protocol=token|proof [--procs=16] [--seconds=10] PORT
#
# token: the daemon before the challenge-response (the first message is
#   the token); 30 ms of silence means "wrong", so every try is a guess.
# proof: the challenge-response; only the answer to a checked proof (close
#   1008 "proof refused") tells anything: silence may be a right proof
#   waiting for its turn, and "too many tries" is said unchecked.
import argparse
import base64
import hmac
import os
import select
import socket
import struct
import sys
import time


def frame(opcode, payload):
    mask = os.urandom(4)
    head = bytes([0x80 | opcode])
    n = len(payload)
    head += bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack('>H', n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def read_frame(s, timeout):
    s.settimeout(timeout)
    h = s.recv(2, socket.MSG_WAITALL)
    if len(h) < 2:
        return None, b''
    n = h[1] & 0x7f
    if n == 126:
        n = struct.unpack('>H', s.recv(2, socket.MSG_WAITALL))[0]
    return h[0] & 0x0f, s.recv(n, socket.MSG_WAITALL) if n else b''


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b'=')


def one_try(port, protocol):
    """Returns (tried, learned)."""
    s = socket.create_connection(('127.0.0.1', port))
    try:
        s.sendall(('GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n'
                   'Origin: http://127.0.0.1:%d\r\nUpgrade: websocket\r\n'
                   'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                   'Sec-WebSocket-Version: 13\r\n\r\n' % (port, port)).encode())
        head = b''
        s.settimeout(5)
        while not head.endswith(b'\r\n\r\n'):
            c = s.recv(1)
            if not c:
                return False, False
            head += c
        if not head.startswith(b'HTTP/1.1 101'):
            return False, False
        if protocol == 'token':
            s.sendall(frame(1, b64(os.urandom(32))))
        else:
            op, hello = read_frame(s, 5)
            if op != 1 or not hello.startswith(b'hello '):
                return False, False
            s.sendall(frame(1, b'client ' + b64(os.urandom(32))))
            op, srv = read_frame(s, 5)
            if op != 1 or not srv.startswith(b'server '):
                return False, False
            s.sendall(frame(1, b'proof ' + b64(os.urandom(32))))
        r, _, _ = select.select([s], [], [], 0.030)
        if protocol == 'token':
            return True, True  # an answer or 30 ms of silence: wrong
        if not r:
            return True, False  # silence: maybe right, waiting its turn
        op, why = read_frame(s, 1)
        # Only a checked proof's refusal says anything of the token; "too
        # many tries" is said without looking at the proof.
        return True, op == 8 and why[2:] == b'proof refused'
    except (OSError, socket.timeout):
        return False, False
    finally:
        s.close()


def worker(port, protocol, seconds, out):
    end = time.monotonic() + seconds
    tried = learned = 0
    while time.monotonic() < end:
        t, l = one_try(port, protocol)
        tried += t
        learned += l
    os.write(out, b'%d %d\n' % (tried, learned))
    os._exit(0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--protocol', choices=['token', 'proof'], required=True)
    ap.add_argument('--procs', type=int, default=16)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('port', type=int)
    a = ap.parse_args()
    r, w = os.pipe()
    pids = []
    for _ in range(a.procs):
        pid = os.fork()
        if pid == 0:
            os.close(r)
            worker(a.port, a.protocol, a.seconds, w)
        pids.append(pid)
    os.close(w)
    tried = learned = 0
    with os.fdopen(r) as f:
        for line in f:
            t, l = map(int, line.split())
            tried += t
            learned += l
    for pid in pids:
        os.waitpid(pid, 0)
    print('%s: %d processes, %.0f s: %d tries (%.1f/s), %d guesses learned (%.2f/s)' %
          (a.protocol, a.procs, a.seconds, tried, tried / a.seconds, learned, learned / a.seconds))


if __name__ == '__main__':
    sys.exit(main())
