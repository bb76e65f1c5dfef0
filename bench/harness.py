#!/usr/bin/env python3
"""RateGuard's load, Redis-side and accuracy measurements, in one run that starts and stops everything it needs.

    python3 bench/harness.py [--duration 10] [--connections 32] [--out bench/results/harness.md]

It installs wrk and redis-server from Debian packages when they are missing, builds the load app, starts its own
redis-server on a free loopback port and the app processes, drives them with wrk, reads Redis's INFO commandstats and
MEMORY USAGE, prints Markdown tables and writes them to --out. Every process it starts is stopped on exit.
"""
import argparse, os, re, shutil, signal, socket, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "bench", "RateGuard.LoadApp", "bin", "Release", "net10.0", "RateGuard.LoadApp.dll")
COUNT_LUA = os.path.join(ROOT, "bench", "count.lua")
processes = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure(command, package):
    if shutil.which(command) is None:
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
        subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", package], check=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def start(args, **kwargs):
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    processes.append(p)
    return p


def stop(p):
    if p.poll() is None:
        p.kill()
        p.wait()
    if p in processes:
        processes.remove(p)


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-p", str(port), *map(str, args)], capture_output=True, text=True, check=True).stdout.strip()


def commandstats(port):
    stats = {}
    for line in redis_cli(port, "INFO", "commandstats").splitlines():
        m = re.match(r"cmdstat_(\w+):calls=(\d+),usec=(\d+),usec_per_call=([\d.]+)", line)
        if m:
            stats[m.group(1)] = (int(m.group(2)), int(m.group(3)))
    return stats


def start_app(*args):
    port = free_port()
    p = start(["dotnet", APP, "--urls", f"http://127.0.0.1:{port}", *args])
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/plain", timeout=1).read()
            return p, port
        except Exception:
            time.sleep(0.2)
    raise RuntimeError(f"the load app did not start: {args}")


def wrk(url, duration, connections, threads=2):
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", "-s", COUNT_LUA, url],
                         capture_output=True, text=True, check=True).stdout
    def latency(pct):
        m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    statuses = dict((int(k), int(v)) for k, v in re.findall(r"(\d+)=(\d+)", re.search(r"^statuses.*$", out, re.M).group(0)))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50": latency(50), "p99": latency(99), "statuses": statuses,
    }


def warm(url, seconds=2, connections=8):
    subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", url], capture_output=True, check=True)


def load(redis_port, duration, connections):
    redis = f"127.0.0.1:{redis_port}"
    cases = [
        # label, app arguments, path, Redis key holding the bucket (for memory per key)
        ("no limiter", [], "/plain", None),
        ("ASP.NET Core token bucket (in-process)", [], "/aspnet", None),
        ("RateGuard, in-memory store", [], "/rg", None),
        ("RateGuard, Redis, every request admitted", [f"--TokenBuckets:Redis={redis}"], "/rg", "rg:GET%20/rg:{127.0.0.1}"),
        ("RateGuard, Redis, two buckets (ip and global), every request admitted", [f"--TokenBuckets:Redis={redis}"], "/rg2", "rg:GET%20/rg2:{127.0.0.1}"),
        ("RateGuard, Redis, hot client, deny cache on", [f"--TokenBuckets:Redis={redis}"], "/hot", "rg:GET%20/hot:{127.0.0.1}"),
        ("RateGuard, Redis, hot client, deny cache off", [f"--TokenBuckets:Redis={redis}", "--TokenBuckets:DenyCache=false"], "/hot", "rg:GET%20/hot:{127.0.0.1}"),
        ("seed style: EVAL per request, client clock in seconds", [f"--TokenBuckets:Redis={redis}"], "/seed", "rate_limiter:127.0.0.1"),
    ]
    ours = redis_cli(redis_port, "SCRIPT", "LOAD", open(OUR_SCRIPT).read())
    rows = []
    for label, args, path, key in cases:
        app, port = start_app(*args)
        url = f"http://127.0.0.1:{port}{path}"
        warm(url)
        redis_cli(redis_port, "FLUSHALL")
        redis_cli(redis_port, "CONFIG", "RESETSTAT")
        r = wrk(url, duration, connections)
        stats = commandstats(redis_port)
        calls = sum(stats.get(c, (0, 0))[0] for c in ("evalsha", "eval"))
        usec = sum(stats.get(c, (0, 0))[1] for c in ("evalsha", "eval"))
        if key and key.startswith("rg:"):
            settle_bucket(redis_port, ours, key)
        memory = int(redis_cli(redis_port, "MEMORY", "USAGE", key, "SAMPLES", "0") or 0) if key else None
        stop(app)
        rows.append((label, r, calls, usec, memory))
        print(f"  {label}: {r['rps']:.0f} req/s", file=sys.stderr)
    baseline = rows[0][1]["rps"]
    lines = ["| case | requests/s | × no limiter | p50 ms | p99 ms | 200 / 429 | Redis calls per request | Redis µs per call | bytes per bucket key |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|"]
    for label, r, calls, usec, memory in rows:
        per_request = f"{calls / r['requests']:.3f}" if calls or memory is not None else "0"
        per_call = f"{usec / calls:.2f}" if calls else "–"
        lines.append(f"| {label} | {r['rps']:.0f} | {r['rps'] / baseline:.2f} | {r['p50']:.2f} | {r['p99']:.2f} | "
                     f"{r['statuses'].get(200, 0)} / {r['statuses'].get(429, 0)} | {per_request} | {per_call} | {memory if memory is not None else '–'} |")
    return "\n".join(lines)


OUR_SCRIPT = os.path.join(ROOT, "src", "Runtime", "Lua", "token-bucket.lua")
# Spring Cloud Gateway's request_rate_limiter.lua (2.2.x) algorithm: two keys (tokens, timestamp) written with SETEX,
# the time passed in as whole seconds, a TTL of twice the fill time. Re-typed here for the comparison.
SPRING_SCRIPT = """
local tokens_key = KEYS[1]
local timestamp_key = KEYS[2]
local rate = tonumber(ARGV[1])
local capacity = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local requested = tonumber(ARGV[4])
local fill_time = capacity / rate
local ttl = math.floor(fill_time * 2)
local last_tokens = tonumber(redis.call("get", tokens_key))
if last_tokens == nil then last_tokens = capacity end
local last_refreshed = tonumber(redis.call("get", timestamp_key))
if last_refreshed == nil then last_refreshed = 0 end
local delta = math.max(0, now - last_refreshed)
local filled_tokens = math.min(capacity, last_tokens + (delta * rate))
local allowed = filled_tokens >= requested
local new_tokens = filled_tokens
local allowed_num = 0
if allowed then
  new_tokens = filled_tokens - requested
  allowed_num = 1
end
if ttl > 0 then
  redis.call("setex", tokens_key, ttl, new_tokens)
  redis.call("setex", timestamp_key, ttl, now)
end
return { allowed_num, new_tokens }
"""


def settle_bucket(redis_port, sha, key):
    # A bucket that refills as fast as it is drained is full again within a millisecond of the last request, and its
    # key is gone before it can be measured. One decision at one token per second leaves the same key, holding the
    # same kind of value, alive for a second.
    redis_cli(redis_port, "EVALSHA", sha, "1", key, "1000000", "10", "1")


def redis_side(redis_port, requests=200_000, rounds=5):
    ours = redis_cli(redis_port, "SCRIPT", "LOAD", open(OUR_SCRIPT).read())
    spring = redis_cli(redis_port, "SCRIPT", "LOAD", SPRING_SCRIPT)
    now = int(time.time())
    runs = [
        # label, EVALSHA arguments (every request admitted: a large bucket), keys that hold one bucket
        ("RateGuard, server clock (the default)", [ours, "1", "rg:b:{k}", "1", "1000000000", "1"], ["rg:b:{k}"]),
        ("RateGuard, client clock", [ours, "1", "rg:b:{k}", "1", "1000000000", "1", str(now * 1_000_000)], ["rg:b:{k}"]),
        ("Spring Cloud Gateway (client clock, whole seconds)", [spring, "2", "rl.{k}.tokens", "rl.{k}.timestamp", "1000000", "1000000000", str(now), "1"], ["rl.{k}.tokens", "rl.{k}.timestamp"]),
    ]
    # Interleaved rounds and the median of each: a single pass favours whichever script runs on the warmer server.
    samples = {label: [] for label, _, _ in runs}
    memory = {}
    for _ in range(rounds):
        for label, args, keys in runs:
            redis_cli(redis_port, "FLUSHALL")
            redis_cli(redis_port, "CONFIG", "RESETSTAT")
            subprocess.run(["redis-benchmark", "-p", str(redis_port), "-n", str(requests), "-c", "16", "-q", "EVALSHA", *args], capture_output=True, check=True)
            calls, usec = commandstats(redis_port)["evalsha"]
            samples[label].append(usec / calls)
            if keys[0].startswith("rg:"):
                settle_bucket(redis_port, ours, keys[0])
            memory[label] = (sum(int(redis_cli(redis_port, "MEMORY", "USAGE", k, "SAMPLES", "0") or 0) for k in keys), len(keys))
    lines = [f"| script | µs per call, median of {rounds} (Redis CPU) | all rounds | bytes per bucket | keys per bucket |", "|---|---:|---|---:|---:|"]
    for label, _, _ in runs:
        values = sorted(samples[label])
        lines.append(f"| {label} | {values[len(values) // 2]:.2f} | {', '.join(f'{v:.2f}' for v in samples[label])} | {memory[label][0]} | {memory[label][1]} |")
    return "\n".join(lines)


def accuracy(redis_port, duration):
    redis = f"127.0.0.1:{redis_port}"
    capacity, rate = 100, 50
    lines = ["| approach | app processes (clock skew) | admitted | exact bound `capacity + rate × elapsed` | admitted / bound |", "|---|---|---:|---:|---:|"]
    for label, path, skews in [("RateGuard (Redis server clock)", "/acc", [0, 0, 0]), ("seed style (client clocks, whole seconds)", "/seed-acc", [-1, 0, 1])]:
        apps = [start_app(f"--TokenBuckets:Redis={redis}", f"--Seed:SkewSeconds={s}") for s in skews]
        for _, port in apps:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/plain").read()
        redis_cli(redis_port, "FLUSHALL")
        began = time.time()
        runs = [subprocess.Popen(["wrk", "-t1", f"-c{c}", f"-d{duration}s", "-s", COUNT_LUA, f"http://127.0.0.1:{port}{path}"], stdout=subprocess.PIPE, text=True)
                for (_, port), c in zip(apps, [21, 21, 22])]
        outputs = [p.communicate()[0] for p in runs]
        elapsed = time.time() - began
        admitted = sum(int(m) for out in outputs for m in re.findall(r"\b200=(\d+)", out))
        for app, _ in apps:
            stop(app)
        bound = capacity + rate * elapsed
        lines.append(f"| {label} | 3 ({', '.join(f'{s:+d} s' for s in skews)}) | {admitted} | {bound:.1f} | {admitted / bound:.4f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "harness.md"))
    args = parser.parse_args()

    ensure("wrk", "wrk")
    ensure("redis-server", "redis-server")
    ensure("redis-benchmark", "redis-tools")
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "bench", "RateGuard.LoadApp"), "-c", "Release", "-nologo", "-v", "q", "-warnaserror"], check=True)

    redis_port = free_port()
    start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
    time.sleep(0.5)
    try:
        print("load (wrk):", file=sys.stderr)
        load_table = load(redis_port, args.duration, args.connections)
        print("redis-benchmark:", file=sys.stderr)
        redis_table = redis_side(redis_port)
        print("accuracy:", file=sys.stderr)
        accuracy_table = accuracy(redis_port, args.duration)
    finally:
        for p in list(processes):
            stop(p)

    cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2; nproc"], capture_output=True, text=True).stdout.split("\n")
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    report = "\n\n".join([
        f"Machine: {cpu[0].strip()}, {cpu[1].strip()} cores; {redis_version}; wrk -t2 -c{args.connections} -d{args.duration}s; "
        f"app, wrk and Redis share the machine.",
        "### Load (one app endpoint per case, same host code)", load_table,
        "### Redis side (redis-benchmark, EVALSHA, 200,000 calls per round, 16 clients)", redis_table,
        f"### Accuracy (three app processes, one Redis, 64 connections on one bucket of capacity 100 and rate 50/s, {args.duration} s)", accuracy_table,
    ])
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report + "\n")
    print(report)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    try:
        main()
    finally:
        for p in list(processes):
            stop(p)
