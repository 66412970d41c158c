#!/usr/bin/env python3
"""Block list at scale (docs/benchmarks.md, issue #17 item 6).

    bench/blocklist.py [--daemon build/otppi] [--entries 100000] [--changes 2000]

Starts the real daemon (no modems, admin UI off, state in a temporary
directory) with a block list of --entries numbers already on disk, then sends
--changes block-msisdn requests one after the other on one keep-alive
connection while a second connection sends an unrelated request (echo) every
--probe-ms milliseconds. Prints p50/p99/max of both latencies as a markdown
table.

Run it with the daemon of the commit before the change and after it (the
--daemon option) to compare: the script writes the snapshot in the format both
read ({"blocked": [...]}) and sets api.block_list_max_entries and
api.block_rate_limit_per_minute only when the daemon knows them (asked with
`otppi config-check`), so that neither the bound nor the rate limit stops the
measurement.

Only 127.0.0.1; everything started here is stopped on exit, and the temporary
directory is removed (--keep to look at it). Exit 0 when it ran, 1 when the
set-up failed.
"""

import argparse
import base64
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    if not values:
        return float("nan")
    v = sorted(values)
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


class client:
    def __init__(self, port, auth):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": auth, "Content-Type": "application/json"}

    def post(self, path, body):
        t0 = time.perf_counter()
        self.conn.request("POST", path, json.dumps(body), self.headers)
        r = self.conn.getresponse()
        data = r.read()
        return (time.perf_counter() - t0) * 1000.0, json.loads(data)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--daemon", default=os.path.join(os.environ.get("OTPPI_BUILD_DIR", "build"), "otppi"))
    ap.add_argument("--entries", type=int, default=100_000)
    ap.add_argument("--changes", type=int, default=2000)
    ap.add_argument("--probe-ms", type=float, default=5.0)
    ap.add_argument("--keep", action="store_true")
    args = ap.parse_args()

    daemon = os.path.abspath(args.daemon)
    if not os.access(daemon, os.X_OK):
        print(f"no daemon at {daemon} (build first, or --daemon PATH)", file=sys.stderr)
        return 1
    tmp = tempfile.mkdtemp(prefix="otppi-bench-blocklist-")
    proc = None
    try:
        state = os.path.join(tmp, "state")
        os.makedirs(state)
        # Numbers as the daemon stores them: international digits.
        with open(os.path.join(state, "blocklist.json"), "w") as f:
            f.write('{"blocked": [' + ",".join(f'\n "62811{i:07d}"' for i in range(args.entries)) + "\n]}\n")
        port = free_port()
        cfg = {"state_dir": state, "modems": [], "admin": {"enabled": False},
               "general": {"log_level": "warn"},
               "api": {"http": {"bind": "127.0.0.1", "port": port},
                       "block_list_max_entries": 1_000_000, "block_rate_limit_per_minute": 0}}
        path = os.path.join(tmp, "otppi.json")

        def write(c):
            with open(path, "w") as f:
                json.dump(c, f)

        write(cfg)
        check = subprocess.run([daemon, "config-check", "--config", path], capture_output=True, text=True)
        if check.returncode != 0 and "unknown key" in check.stderr:
            # A daemon from before the bound and the rate limit existed.
            del cfg["api"]["block_list_max_entries"], cfg["api"]["block_rate_limit_per_minute"]
            write(cfg)
            check = subprocess.run([daemon, "config-check", "--config", path], capture_output=True, text=True)
        if check.returncode != 0:
            print(check.stderr, file=sys.stderr)
            return 1
        password = "bench-password-1"
        r = subprocess.run([daemon, "api-user", "add", "bench", "--config", path], input=password + "\n", capture_output=True, text=True)
        if r.returncode != 0:
            print(r.stderr, file=sys.stderr)
            return 1
        log = open(os.path.join(tmp, "daemon.log"), "w")
        t_start = time.perf_counter()
        proc = subprocess.Popen([daemon, "--config", path], stdout=log, stderr=log)
        deadline = time.time() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    print("the daemon did not start; see", os.path.join(tmp, "daemon.log"), file=sys.stderr)
                    args.keep = True
                    return 1
                time.sleep(0.02)
        start_ms = (time.perf_counter() - t_start) * 1000.0
        auth = "Basic " + base64.b64encode(f"bench:{password}".encode()).decode()

        blocker, prober = client(port, auth), client(port, auth)
        # Warm the credential cache of both connections (one scrypt each).
        blocker.post("/api/block", {"command": "echo"})
        prober.post("/api/otp", {"command": "echo"})

        block_ms, probe_ms, failures = [], [], []
        done = threading.Event()

        def probe():
            while not done.is_set():
                ms, body = prober.post("/api/otp", {"command": "echo", "data": {"x": 1}})
                probe_ms.append(ms)
                if body.get("response_code") != "0000":
                    failures.append(("echo", body))
                time.sleep(args.probe_ms / 1000.0)

        t = threading.Thread(target=probe)
        t.start()
        t0 = time.perf_counter()
        for i in range(args.changes):
            ms, body = blocker.post("/api/block", {"command": "block-msisdn", "data": {"receiver": f"+62899{i:07d}"}})
            block_ms.append(ms)
            if body.get("response_code") != "0000":
                failures.append(("block-msisdn", body))
        wall = time.perf_counter() - t0
        done.set()
        t.join()

        print(f"daemon: {daemon}")
        print(f"{args.entries} entries on disk, {args.changes} block-msisdn in {wall:.1f} s "
              f"({args.changes / wall:.0f}/s), start to first connection {start_ms:.0f} ms\n")
        print("| request | n | p50 ms | p99 ms | max ms |")
        print("|---|---|---|---|---|")
        for name, v in (("block-msisdn", block_ms), ("echo (unrelated, other connection)", probe_ms)):
            print(f"| {name} | {len(v)} | {percentile(v, 50):.2f} | {percentile(v, 99):.2f} | {max(v):.2f} |")
        if failures:
            print(f"\n{len(failures)} answer(s) other than 0000, first: {failures[0]}")
        files = sorted(os.listdir(state))
        sizes = ", ".join(f"{n} {os.path.getsize(os.path.join(state, n))} B" for n in files if n.startswith("blocklist"))
        print(f"\nstate files: {sizes}")
        return 0
    finally:
        if proc and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        if args.keep:
            print("kept", tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
