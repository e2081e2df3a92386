#!/usr/bin/env python3
"""Benchmark: added latency and throughput of `portcullis gateway` on `tools/call` of `echo`.

Runs the same trivial server (portcullis-testserver) twice in one run: directly, and through
the gateway (no policy: pins, redaction and the SQLite audit log active, the default). Reports
round-trip latency p50/p99 (one call at a time) and throughput (WINDOW calls in flight), and
the gateway's added latency and ratios. Not a test: nothing asserts on time.

usage: bench-gateway.py PORTCULLIS TESTSERVER [CALLS]
"""
import json
import os
import subprocess
import sys
import tempfile
import time

portcullis, testserver = sys.argv[1], sys.argv[2]
calls = int(sys.argv[3]) if len(sys.argv) > 3 else 3000
window = int(os.environ.get("WINDOW", "32"))


def start(cmd):
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)


class Conn:
    def __init__(self, proc):
        self.p = proc
        self.buf = b""
        self.ident = 0

    def send(self, method, params):
        self.ident += 1
        msg = {"jsonrpc": "2.0", "id": self.ident, "method": method, "params": params}
        self.p.stdin.write(json.dumps(msg).encode() + b"\n")
        return self.ident

    def recv(self):
        while b"\n" not in self.buf:
            chunk = os.read(self.p.stdout.fileno(), 1 << 16)
            if not chunk:
                raise RuntimeError("server closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params):
        i = self.send(method, params)
        while True:
            m = self.recv()
            if m.get("id") == i:
                return m

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


ECHO = {"name": "echo", "arguments": {"text": "hello"}}


def run(cmd):
    c = Conn(start(cmd))
    c.call("initialize", {"protocolVersion": "2025-11-25", "capabilities": {},
                          "clientInfo": {"name": "bench", "version": "1"}})
    c.p.stdin.write(b'{"jsonrpc":"2.0","method":"notifications/initialized"}\n')
    c.call("tools/list", {})
    for _ in range(200):
        c.call("tools/call", ECHO)
    lat = []
    for _ in range(calls):
        t = time.perf_counter_ns()
        r = c.call("tools/call", ECHO)
        lat.append(time.perf_counter_ns() - t)
        assert r["result"]["content"][0]["text"] == "hello", r
    lat.sort()
    # Throughput: WINDOW calls in flight.
    t = time.perf_counter()
    sent = done = 0
    while done < calls:
        while sent < calls and sent - done < window:
            c.send("tools/call", ECHO)
            sent += 1
        c.recv()
        done += 1
    rate = calls / (time.perf_counter() - t)
    c.close()
    return lat[len(lat) // 2] / 1000, lat[int(len(lat) * 0.99)] / 1000, rate


with tempfile.TemporaryDirectory() as tmp:
    server = [testserver, "--exit-after", "600"]
    d50, d99, drate = run(server)
    # AUDIT=jsonl compares the JSON lines audit log with the default SQLite one.
    audit = os.path.join(tmp, "audit." + os.environ.get("AUDIT", "sqlite"))
    g50, g99, grate = run([portcullis, "gateway", "--audit", audit, "--"] + server)
    print(f"calls: {calls} sequential + {calls} with {window} in flight, tools/call echo")
    print(f"direct : p50 {d50:8.1f} us  p99 {d99:8.1f} us  {drate:8.0f} calls/s")
    print(f"gateway: p50 {g50:8.1f} us  p99 {g99:8.1f} us  {grate:8.0f} calls/s")
    print(f"added  : p50 {g50 - d50:8.1f} us  p99 {g99 - d99:8.1f} us")
    print(f"ratio  : p50 {g50 / d50:8.2f}x    p99 {g99 / d99:8.2f}x    throughput {grate / drate:6.2f}x")
