#!/usr/bin/env python3
"""Benchmark: added latency and throughput of `portcullis gateway` on `tools/call` of `echo`.

Runs the same trivial server (portcullis-testserver) twice in one run: directly, and through
the gateway (no policy: pins, redaction and the SQLite audit log active, the default). Reports
round-trip latency p50/p99 (one call at a time) and throughput (WINDOW calls in flight), and
the gateway's added latency and ratios. Not a test: nothing asserts on time.

HTTP=1 adds the streamable-HTTP front: the test server's own HTTP endpoint directly, through
`gateway --listen --upstream URL`, and `gateway --listen -- testserver` (a stdio server behind
the HTTP front); and the stdio front to that HTTP endpoint (`gateway --upstream URL`). One keep-alive connection per client thread; throughput with HTTP_THREADS
threads (default 8). The client is Python's http.client, so absolute figures are dominated by
the client; compare the rows with each other.

usage: bench-gateway.py PORTCULLIS TESTSERVER [CALLS]
"""
import http.client
import json
import os
import threading
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


class HttpConn:
    """One keep-alive connection to a streamable-HTTP MCP endpoint."""

    def __init__(self, url, token=None, sid=None):
        rest = url.split("://", 1)[1]
        hostport, path = rest.split("/", 1)
        host, port = hostport.rsplit(":", 1)
        self.path = "/" + path
        self.c = http.client.HTTPConnection(host, int(port), timeout=30)
        self.token = token
        self.sid = sid
        self.ident = 0

    def post(self, msg):
        h = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
             "MCP-Protocol-Version": "2025-06-18"}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        if self.sid:
            h["Mcp-Session-Id"] = self.sid
        self.c.request("POST", self.path, json.dumps(msg), h)
        r = self.c.getresponse()
        data = r.read()
        self.sid = r.getheader("mcp-session-id") or self.sid
        if r.status == 202:
            return None
        if (r.getheader("content-type") or "").startswith("text/event-stream"):
            for line in data.decode().splitlines():
                if line.startswith("data:") and line[5:].strip():
                    m = json.loads(line[5:])
                    if m.get("id") == msg.get("id") and "method" not in m:
                        return m
            raise RuntimeError("no response in the stream")
        return json.loads(data)

    def call(self, method, params):
        self.ident += 1
        return self.post({"jsonrpc": "2.0", "id": self.ident, "method": method, "params": params})


def run_http(url, token):
    c = HttpConn(url, token)
    c.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                          "clientInfo": {"name": "bench", "version": "1"}})
    c.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
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
    threads = int(os.environ.get("HTTP_THREADS", "8"))
    per = calls // threads

    def worker():
        # A session per connection, as separate clients would have.
        w = HttpConn(url, token)
        w.call("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                              "clientInfo": {"name": "bench", "version": "1"}})
        w.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        for _ in range(per):
            w.call("tools/call", ECHO)

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    t = time.perf_counter()  # includes each thread's initialize: small next to the calls
    for th in ts:
        th.start()
    for th in ts:
        th.join()
    rate = per * threads / (time.perf_counter() - t)
    return lat[len(lat) // 2] / 1000, lat[int(len(lat) * 0.99)] / 1000, rate


def start_listening(cmd, pattern, env=None):
    """Starts a process and returns it with the URL it prints (stdout or stderr)."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    stream = p.stdout if pattern is None else p.stderr
    while True:
        line = stream.readline()
        if not line:
            raise RuntimeError("did not start: " + " ".join(cmd))
        if pattern is None:
            return p, line.strip()
        if pattern in line:
            return p, line.split(pattern, 1)[1].strip()


def row(name, r, base):
    p50, p99, rate = r
    print(f"{name}: p50 {p50:8.1f} us  p99 {p99:8.1f} us  {rate:8.0f} calls/s"
          + ("" if base is None else
             f"   added p50 {p50 - base[0]:7.1f} us ({p50 / base[0]:.2f}x)  throughput {rate / base[2]:.2f}x"))


with tempfile.TemporaryDirectory() as tmp:
    server = [testserver, "--exit-after", "600"]
    d50, d99, drate = run(server)
    # AUDIT=jsonl compares the JSON lines audit log with the default SQLite one.
    kind = os.environ.get("AUDIT", "sqlite")
    audit = os.path.join(tmp, "audit." + kind)
    g50, g99, grate = run([portcullis, "gateway", "--audit", audit, "--"] + server)
    print(f"calls: {calls} sequential + {calls} with {window} in flight, tools/call echo")
    print(f"direct : p50 {d50:8.1f} us  p99 {d99:8.1f} us  {drate:8.0f} calls/s")
    print(f"gateway: p50 {g50:8.1f} us  p99 {g99:8.1f} us  {grate:8.0f} calls/s")
    print(f"added  : p50 {g50 - d50:8.1f} us  p99 {g99 - d99:8.1f} us")
    print(f"ratio  : p50 {g50 / d50:8.2f}x    p99 {g99 / d99:8.2f}x    throughput {grate / drate:6.2f}x")
    if os.environ.get("HTTP"):
        token = "bench-token-0123456789abcdef"
        env = dict(os.environ, BENCH_TOKEN=token)
        up, url = start_listening(server + ["--transport", "http"], None)
        procs = [up]
        try:
            direct = run_http(url, None)
            listen = [portcullis, "gateway", "--listen", "127.0.0.1:0", "--bearer-token-env",
                      "BENCH_TOKEN"]
            gw, gurl = start_listening(
                listen + ["--audit", os.path.join(tmp, "http-remote." + kind), "--upstream", url],
                "listening on ", env)
            procs.append(gw)
            remote = run_http(gurl, token)
            gw2, gurl2 = start_listening(
                listen + ["--audit", os.path.join(tmp, "http-local." + kind), "--"] + server,
                "listening on ", env)
            procs.append(gw2)
            local = run_http(gurl2, token)
            # The stdio front to a remote server (`gateway --upstream URL`, no --listen): the
            # client speaks stdio, so its figures include a pipe hop the direct row has not.
            stdio_remote = run([portcullis, "gateway", "--audit",
                                os.path.join(tmp, "stdio-remote." + kind), "--upstream", url])
            threads = int(os.environ.get("HTTP_THREADS", "8"))
            print(f"HTTP: {calls} sequential + {calls} over {threads} connections")
            row("direct HTTP            ", direct, None)
            row("gateway -> HTTP server ", remote, direct)
            row("gateway -> stdio server", local, direct)
            row("stdio gateway -> HTTP  ", stdio_remote, direct)
        finally:
            for p in procs:
                p.terminate()
                p.wait(timeout=10)
