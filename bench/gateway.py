#!/usr/bin/env python3
"""Requests per second through the YARP gateway sample, with and without a RateGuard route limit, in one run.

    python3 bench/gateway.py [--duration 10] [--connections 32] [--ports 48700-48799] [--out bench/results/gateway.md]

It builds samples/Gateway, starts its own redis-server and the gateway processes (each with its own backend), drives
each case with wrk on loopback and stops everything it started. Cases: the backend alone (no gateway), the gateway's
unlimited route, and its `api` route (limited by ip from route metadata) with the in-memory store and over Redis. The
limits are raised from configuration until every request is admitted, so the figures are the cost of a decision, not
of rejections. --ports picks every listening port from a range instead of letting the kernel choose.
"""
import argparse, os, socket, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402  (wrk, Redis and process helpers)

ROOT = harness.ROOT
GATEWAY = os.path.join(ROOT, "samples", "Gateway", "bin", "Release", "net10.0", "Gateway.dll")
ADMIT_ALL = ["--TokenBuckets:Buckets:api:Capacity=1000000", "--TokenBuckets:Buckets:api:Rate=1000000"]


class Ports:
    def __init__(self, spec):
        self.range = None
        if spec:
            first, last = (int(p) for p in spec.split("-"))
            self.range = iter(range(first, last + 1))

    def next(self):
        if self.range is None:
            return harness.free_port()
        for port in self.range:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                    return port
                except OSError:
                    continue
        raise RuntimeError("no free port left in --ports")


def wait(url, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def start_gateway(ports, *args):
    port, backend = ports.next(), ports.next()
    p = harness.start(["dotnet", GATEWAY, "--urls", f"http://127.0.0.1:{port}", f"--Backend:Port={backend}", *args])
    wait(f"http://127.0.0.1:{port}/open/ready")
    return p, port, backend


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--ports", default=None, help="a range such as 48700-48799 for every listening port")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "gateway.md"))
    args = parser.parse_args()

    harness.ensure("wrk", "wrk")
    harness.ensure("redis-server", "redis-server")
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "samples", "Gateway"), "-c", "Release", "-nologo", "-v", "q", "-warnaserror"], check=True)
    ports = Ports(args.ports)

    redis_port = ports.next()
    harness.start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    time.sleep(0.5)
    redis = f"--TokenBuckets:Redis=127.0.0.1:{redis_port}"
    rows = []
    try:
        in_memory, memory_port, _ = start_gateway(ports, *ADMIT_ALL)
        over_redis, redis_gateway_port, backend_port = start_gateway(ports, redis, *ADMIT_ALL)
        cases = [
            # label, url, whether Redis is asked
            ("backend alone, no gateway", f"http://127.0.0.1:{backend_port}/api/bench"),
            ("gateway, route without a limit", f"http://127.0.0.1:{redis_gateway_port}/open/bench"),
            ("gateway, RateGuard route limit, in-memory store", f"http://127.0.0.1:{memory_port}/api/bench"),
            ("gateway, RateGuard route limit over Redis, every request admitted", f"http://127.0.0.1:{redis_gateway_port}/api/bench"),
        ]
        for label, url in cases:
            print(label, file=sys.stderr)
            harness.warm(url)
            harness.redis_cli(redis_port, "CONFIG", "RESETSTAT")
            result = harness.wrk(url, args.duration, args.connections)
            calls = sum(c for name, (c, _) in harness.commandstats(redis_port).items() if name in ("evalsha", "eval"))
            rows.append((label, result, calls / max(result["requests"], 1)))
    finally:
        for p in list(harness.processes):
            harness.stop(p)

    gateway_rps = rows[1][1]["rps"]
    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2; nproc"], capture_output=True, text=True).stdout.split("\n")
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    lines = [
        f"Machine: {cpu[0].strip()}, {cpu[1].strip()} cores; {redis_version}; wrk -t2 -c{args.connections} -d{args.duration}s; "
        "gateway, backend, wrk and Redis share the machine.",
        "",
        "| case | requests/s | × gateway without a limit | p50 ms | p99 ms | 200 / other | Redis calls per request |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for label, r, calls in rows:
        ok = r["statuses"].get(200, 0)
        other = sum(n for s, n in r["statuses"].items() if s != 200)
        lines.append(f"| {label} | {r['rps']:.0f} | {r['rps'] / gateway_rps:.2f} | {r['p50']:.2f} | {r['p99']:.2f} | {ok} / {other} | {calls:.3f} |")
    report = "\n".join(lines)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report + "\n")
    print(report)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in list(harness.processes):
            harness.stop(p)
