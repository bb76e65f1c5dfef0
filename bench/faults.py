#!/usr/bin/env python3
"""RateGuard under overload and faults, against a real redis-server, in one run that starts and stops everything it
needs (every process by its id).

    python3 bench/faults.py [overload ...] [--duration 10] [--out bench/results/faults.md]

overload: the load app pinned to core 0, Redis and wrk on core 1, 3,000 connections for --duration seconds on one
bucket of capacity 10 refilling at 1/s, with the deny cache on and off. Admitted requests are counted by wrk;
decisions by result come from the app's own meter (GET /stats); warnings from its console log.
"""
import argparse, os, re, signal, socket, subprocess, sys, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "bench", "RateGuard.LoadApp", "bin", "Release", "net10.0", "RateGuard.LoadApp.dll")
COUNT_LUA = os.path.join(ROOT, "bench", "count.lua")
processes = []


def free_port():
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port <= 55535:
            return port


def start(args, **kwargs):
    p = subprocess.Popen(args, **kwargs)
    processes.append(p)
    return p


def stop(p, sig=signal.SIGKILL):
    if p.poll() is None:
        os.kill(p.pid, sig)
        p.wait()
    if p in processes:
        processes.remove(p)


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True, timeout=30).stdout.strip()


def start_redis(port, *extra, cpu=None):
    prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
    p = start(prefix + ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *extra],
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while redis_cli(port, "PING") != "PONG":
        if time.time() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    return p


class App:
    """The load app with its console log captured, so warnings can be counted."""

    def __init__(self, *args, cpu=None):
        self.port = free_port()
        prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.lines = []
        self.process = start(prefix + ["dotnet", APP, "--urls", f"http://127.0.0.1:{self.port}", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 60
        while True:
            try:
                self.get("/plain")
                return
            except Exception:
                if time.time() > deadline or self.process.poll() is not None:
                    raise RuntimeError("the load app did not start:\n" + "".join(self.lines[-20:]))
                time.sleep(0.2)

    def _read(self):
        for line in self.process.stdout:
            self.lines.append(line)

    def get(self, path, method="GET"):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.read().decode()

    def stats(self):
        counts = {}
        for line in self.get("/stats").splitlines():
            if line.strip():
                bucket, result, n = line.rsplit(" ", 2)
                counts[(bucket, result)] = int(n)
        return counts

    def warnings(self):
        return sum(1 for line in self.lines if line.startswith(("warn:", "fail:", "crit:")))

    def stop(self):
        stop(self.process)


def wrk(url, duration, connections, threads=1, cpu=None):
    prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
    out = subprocess.run(prefix + ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", COUNT_LUA, url],
                         capture_output=True, text=True, timeout=duration + 60).stdout
    statuses = dict((int(k), int(v)) for k, v in re.findall(r"(\d+)=(\d+)", re.search(r"^statuses.*$", out, re.M).group(0)))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return requests, statuses


def overload(duration, connections=3000):
    """The app on one core, 3,000 connections: Redis answers in time, the app reads the replies late."""
    capacity, rate = 10, 1
    redis_port = free_port()
    redis = start_redis(redis_port, cpu=1)
    rows = []
    try:
        for label, extra in [("deny cache off", ["--TokenBuckets:DenyCache=false"]), ("deny cache on", [])]:
            app = App(f"--TokenBuckets:Redis=127.0.0.1:{redis_port}", *extra, cpu=0)
            try:
                for _ in range(3):
                    app.get("/plain")
                redis_cli(redis_port, "FLUSHALL")
                redis_cli(redis_port, "CONFIG", "RESETSTAT")
                app.get("/stats", method="DELETE")
                warnings_before = app.warnings()
                began = time.time()
                requests, statuses = wrk(f"http://127.0.0.1:{app.port}/hot", duration, connections, cpu=1)
                elapsed = time.time() - began
                stats = app.stats()
                calls = int(re.search(r"cmdstat_evalsha:calls=(\d+)", redis_cli(redis_port, "INFO", "commandstats")).group(1))
                bound = capacity + rate * elapsed
                failed_open = sum(n for (_, result), n in stats.items() if result == "failed_open")
                decisions = sum(n for (bucket, _), n in stats.items() if bucket != "store")
                print(f"    meter: {sorted(stats.items())}", file=sys.stderr)
                rows.append((label, requests, statuses.get(200, 0), bound, failed_open, decisions, calls, app.warnings() - warnings_before))
                print(f"  overload, {label}: {statuses.get(200, 0)} admitted of {requests} (bound {bound:.1f}), failed open {failed_open}", file=sys.stderr)
            finally:
                app.stop()
    finally:
        stop(redis)
    lines = [f"| case | requests | admitted | exact bound | admitted − bound | failed open | failed open / requests | EVALSHA / request | warnings logged |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, requests, admitted, bound, failed_open, decisions, calls, warnings in rows:
        lines.append(f"| {label} | {requests} | {admitted} | {bound:.1f} | {admitted - bound:+.1f} | {failed_open} | {failed_open / max(requests, 1):.4%} | {calls / max(requests, 1):.3f} | {warnings} |")
    return "\n".join(lines)


SCENARIOS = {"overload": overload}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "faults.md"))
    args = parser.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "bench", "RateGuard.LoadApp"), "-c", "Release", "-nologo", "-v", "q", "-warnaserror"],
                   check=True, stdout=subprocess.DEVNULL)
    sections = []
    for name in args.scenarios:
        print(f"{name}:", file=sys.stderr)
        sections.append(f"### {name}\n\n" + SCENARIOS[name](args.duration))
    report = "\n\n".join(sections)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report + "\n")
    print(report)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))
    try:
        main()
    finally:
        for p in list(processes):
            stop(p)
