#!/usr/bin/env python3
"""The Redis hot path side by side: RateGuard (batching on and off), the seed-style EVAL middleware, the
RedisRateLimiting package's Redis token bucket, ASP.NET Core's in-process token bucket and no limiter, each with one
bucket for everyone and, where it applies, one bucket per client (1,000 X-Client values, a different one on every
request). Every request is admitted: the figures are the cost of a decision, not of a denial.

    python3 bench/hotpath.py [--connections 32,128] [--rounds 5] [--duration 5] [--out bench/results/hotpath.md]

It installs wrk and redis-server from Debian packages when they are missing, builds the load app in Release once,
starts its own redis-server on a free loopback port and two app processes, one with --TokenBuckets:Batching=true and
one with --TokenBuckets:Batching=false (the first also serves every case that is not RateGuard's). For each connection
count it runs --rounds rounds of every case, --duration seconds each with wrk -t2, the order of the cases turned by one
each round so no case always follows the same one. Per case and round it records requests/s, p99 latency, responses
other than 2xx (there must be none), bytes the app allocated per request (GET /alloc before and after), script calls
per request and Redis CPU per call and per decision (INFO commandstats, EVAL and EVALSHA, reset before each run),
and for RateGuard its store calls that failed or came late (the app's meter, GET /stats); the apps' warnings are
counted at the end.
Reported are medians across rounds; ratios are medians of the per-round ratios, so each compares runs made seconds
apart. Everything goes to 127.0.0.1, and every process it starts is stopped by its id on exit, Ctrl-C included.
"""
import argparse, os, platform, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "bench", "RateGuard.LoadApp", "bin", "Release", "net10.0", "RateGuard.LoadApp.dll")
CLIENTS_LUA = os.path.join(ROOT, "bench", "clients.lua")
processes = []

# label, app (batching on or off), path. The same wrk script, which sets X-Client on every request, drives every case,
# so the client's own cost is the same for all of them.
CASES = [
    ("no limiter", "on", "/plain"),
    ("ASP.NET Core token bucket (in-process)", "on", "/aspnet"),
    ("seed style, global", "on", "/seed"),
    ("seed style, keys", "on", "/seed-keys"),
    ("RedisRateLimiting, global", "on", "/rrl-global"),
    ("RedisRateLimiting, keys", "on", "/rrl-keys"),
    ("RateGuard, batching on, global", "on", "/rg-global"),
    ("RateGuard, batching on, keys", "on", "/rg-keys"),
    ("RateGuard, batching off, global", "off", "/rg-global"),
    ("RateGuard, batching off, keys", "off", "/rg-keys"),
]


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
    p = subprocess.Popen(args, **kwargs)
    processes.append(p)
    return p


def stop(p):
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
        p.wait()
    if p in processes:
        processes.remove(p)


def redis_cli(port, *args):
    return subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(port), *map(str, args)],
                          capture_output=True, text=True, check=True, timeout=30).stdout.strip()


def script_stats(port):
    """EVAL and EVALSHA calls and their Redis CPU in microseconds since the last CONFIG RESETSTAT."""
    calls = usec = 0
    for line in redis_cli(port, "INFO", "commandstats").splitlines():
        m = re.match(r"cmdstat_(eval|evalsha):calls=(\d+),usec=(\d+)", line)
        if m:
            calls += int(m.group(2))
            usec += int(m.group(3))
    return calls, usec


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read().decode()


def start_redis():
    port = free_port()
    start(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while True:
        try:
            if redis_cli(port, "PING") == "PONG":
                return port
        except subprocess.CalledProcessError:
            pass
        if time.time() > deadline:
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)


def start_app(log, *args):
    port = free_port()
    p = start(["dotnet", APP, "--urls", f"http://127.0.0.1:{port}", *args], stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while True:
        try:
            get(port, "/plain")
            return port
        except Exception:
            if time.time() > deadline or p.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"the load app did not start ({' '.join(args)}):\n{log.read().decode(errors='replace')[-2000:]}")
            time.sleep(0.2)


def wrk(url, duration, connections):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", CLIENTS_LUA, url],
                         capture_output=True, text=True, check=True, timeout=duration + 60).stdout
    m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
    statuses = {int(k): int(v) for k, v in re.findall(r"(\d+)=(\d+)", re.search(r"^statuses.*$", out, re.M).group(0))}
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p99": p99,
        "non2xx": sum(n for status, n in statuses.items() if not 200 <= status < 300),
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def store_failures(app_port):
    """RateGuard's store calls since the last DELETE /stats that did not succeed in time (late, timeout, failure)."""
    failures = 0
    for line in get(app_port, "/stats").splitlines():
        if line.strip():
            bucket, result, n = line.rsplit(" ", 2)
            if bucket == "store" and result != "success":
                failures += int(n)
    return failures


def run_case(redis_port, app_port, path, duration, connections):
    redis_cli(redis_port, "CONFIG", "RESETSTAT")
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{app_port}/stats", method="DELETE"), timeout=10).read()
    before = int(get(app_port, "/alloc"))
    r = wrk(f"http://127.0.0.1:{app_port}{path}", duration, connections)
    after = int(get(app_port, "/alloc"))
    calls, usec = script_stats(redis_port)
    r["store_failures"] = store_failures(app_port) if path.startswith("/rg") else None
    n = max(r["requests"], 1)
    r["alloc"] = (after - before) / n
    r["calls"] = calls / n
    r["usec_call"] = usec / calls if calls else None
    r["usec_decision"] = usec / n if calls else None
    return r


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def fmt(value, spec):
    return "–" if value is None else format(value, spec)


def table(connections, samples, rounds):
    """samples: label -> list of per-round results (dicts); index i of every list is round i."""
    base = samples["no limiter"]
    lines = [f"### {connections} connections (wrk -t2 -c{connections}), median of {rounds} round{'s' if rounds != 1 else ''}",
             "",
             "| case | requests/s | × no limiter | p99 ms | non-2xx (all rounds) | RateGuard store calls failed or late (all rounds) | bytes allocated per request | above no limiter | script calls per request | Redis µs per call | Redis µs per decision |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    flagged = []
    for label, _, _ in CASES:
        rs = samples[label]
        bad = sum(r["non2xx"] + r["errors"] for r in rs)
        if bad:
            flagged.append(label)
        lines.append(" | ".join([
            f"| {label}",
            fmt(median(r["rps"] for r in rs), ".0f"),
            fmt(median(r["rps"] / b["rps"] for r, b in zip(rs, base)), ".2f"),
            fmt(median(r["p99"] for r in rs), ".2f"),
            f"{bad} ⚠" if bad else "0",
            "–" if rs[0]["store_failures"] is None else str(sum(r["store_failures"] for r in rs)),
            fmt(median(r["alloc"] for r in rs), ".0f"),
            fmt(median(r["alloc"] - b["alloc"] for r, b in zip(rs, base)), ".0f"),
            fmt(median(r["calls"] for r in rs), ".3f"),
            fmt(median(r["usec_call"] for r in rs), ".2f"),
            fmt(median(r["usec_decision"] for r in rs), ".2f"),
        ]) + " |")

    def ratio(a, b):
        return fmt(median(x["rps"] / y["rps"] for x, y in zip(samples[a], samples[b])), ".2f")

    lines += ["",
              "| requests/s ratio (median of per-round ratios) | batching on | batching off |",
              "|---|---:|---:|",
              f"| RateGuard keys ÷ seed style keys | {ratio('RateGuard, batching on, keys', 'seed style, keys')} | {ratio('RateGuard, batching off, keys', 'seed style, keys')} |",
              f"| RateGuard keys ÷ RedisRateLimiting keys | {ratio('RateGuard, batching on, keys', 'RedisRateLimiting, keys')} | {ratio('RateGuard, batching off, keys', 'RedisRateLimiting, keys')} |",
              f"| RateGuard global ÷ seed style global | {ratio('RateGuard, batching on, global', 'seed style, global')} | {ratio('RateGuard, batching off, global', 'seed style, global')} |",
              f"| RateGuard global ÷ RedisRateLimiting global | {ratio('RateGuard, batching on, global', 'RedisRateLimiting, global')} | {ratio('RateGuard, batching off, global', 'RedisRateLimiting, global')} |"]
    if flagged:
        lines += ["", "⚠ Responses other than 2xx, or socket errors, in: " + "; ".join(flagged) + ". Every request should be admitted."]
    return "\n".join(lines), flagged


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    redis_version = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout.split()[2]
    dotnet = subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()
    load = open("/proc/loadavg").read().split()[:3]
    return (f"Machine: {cpu}, {os.cpu_count()} cores; redis-server {redis_version.removeprefix('v=')}; .NET SDK {dotnet}; "
            f"load average at start {' '.join(load)}; app, Redis and wrk share the machine.")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", default="32,128", help="comma-separated wrk connection counts")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per case and round")
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "hotpath.md"))
    args = parser.parse_args()
    connection_counts = [int(c) for c in args.connections.split(",")]
    command = "python3 bench/hotpath.py" + "".join(f" {a}" for a in sys.argv[1:])
    began = time.time()

    ensure("wrk", "wrk")
    ensure("redis-server", "redis-server")
    ensure("redis-cli", "redis-tools")
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "bench", "RateGuard.LoadApp"), "-c", "Release", "-nologo", "-v", "q", "-warnaserror"],
                   check=True, timeout=900)
    header = machine()

    sections, flagged = [], []
    with tempfile.TemporaryFile() as log_on, tempfile.TemporaryFile() as log_off:
        try:
            redis_port = start_redis()
            redis = f"--TokenBuckets:Redis=127.0.0.1:{redis_port}"
            apps = {"on": start_app(log_on, redis, "--TokenBuckets:Batching=true"),
                    "off": start_app(log_off, redis, "--TokenBuckets:Batching=false")}
            print("warm-up", file=sys.stderr)
            for label, app, path in CASES:
                wrk(f"http://127.0.0.1:{apps[app]}{path}", 2, 32)
            for connections in connection_counts:
                samples = {label: [] for label, _, _ in CASES}
                for i in range(args.rounds):
                    order = CASES[i % len(CASES):] + CASES[:i % len(CASES)]
                    for label, app, path in order:
                        r = run_case(redis_port, apps[app], path, args.duration, connections)
                        samples[label].append(r)
                        warn = f"  ⚠ {r['non2xx']} non-2xx, {r['errors']} socket errors" if r["non2xx"] or r["errors"] else ""
                        print(f"  c{connections} round {i + 1}/{args.rounds} {label}: {r['rps']:.0f} req/s, p99 {r['p99']:.2f} ms, "
                              f"{r['alloc']:.0f} B/req, {r['calls']:.3f} calls/req{warn}", file=sys.stderr)
                text, bad = table(connections, samples, args.rounds)
                sections.append(text)
                flagged += [f"{label} ({connections} connections)" for label in bad]
        finally:
            for p in list(processes):
                stop(p)
        # The apps log at Warning and above only, so any line is something that went wrong under load.
        logged = []
        for name, log in [("batching on", log_on), ("batching off", log_off)]:
            log.seek(0)
            text = log.read().decode(errors="replace").splitlines()
            # The console logger writes "warn: Category[id]" and the message on the next line.
            lines = [f"{l} {text[i + 1].strip() if i + 1 < len(text) else ''}" for i, l in enumerate(text) if l.startswith(("warn:", "fail:", "crit:"))]
            if lines:
                logged.append(f"app ({name}) logged {len(lines)} warnings or errors, the first: {lines[0]}")
                flagged.append(f"the app log ({name})")

    elapsed = time.time() - began
    report = "\n\n".join([
        f"Command: `{command}`",
        header,
        f"Each case {args.duration} s per round, rounds: {args.rounds}, the case order turned by one each round; "
        f"wrk sets X-Client to one of 1,000 values, a different one on every request, for every case. "
        f"Batching on: an app process started with --TokenBuckets:Batching=true (it also serves the cases that are not "
        f"RateGuard's); batching off: one started with --TokenBuckets:Batching=false. "
        f"Script calls: EVAL and EVALSHA from INFO commandstats; Redis µs: their CPU time. Whole run: {elapsed / 60:.1f} min.",
        *sections,
        *(["⚠ " + line for line in logged] if logged else ["The apps logged no warnings or errors."]),
    ])
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(report + "\n")
    print(report)
    if flagged:
        print("something went wrong in: " + "; ".join(flagged), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    # Ctrl-C stops the run even when the shell started it with SIGINT ignored (in the background, for instance).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        main()
    finally:
        for p in list(processes):
            stop(p)
