#!/usr/bin/env python3
"""RateGuard under overload and faults, against a real redis-server, in one run that starts and stops everything it
needs (every process by its id).

    python3 bench/faults.py [overload ...] [--duration 10] [--out bench/results/faults.md]

overload: the load app pinned to core 0, Redis and wrk on core 1, 3,000 connections for --duration seconds on one
bucket of capacity 10 refilling at 1/s, with the deny cache on and off. Admitted requests are counted by wrk;
decisions by result come from the app's own meter (GET /stats); warnings from its console log.
client-kill: 64 connections on one bucket (capacity 100, 100/s) for 24 s, CLIENT KILL TYPE normal every 4 s.
cluster: three primaries with a replica each (cluster-node-timeout 1500, cluster-require-full-coverage no), one bucket
per primary under load, SIGKILL of one primary at 5 s.
fallback: three app instances with LocalFallback on one global bucket (capacity 100, 50/s), Redis stopped with SIGSTOP
from 5 s to 10 s of a 15 s run; every response is timed, to count admissions after each switch.
pause: Redis stopped with SIGSTOP and a 100 ms budget; requests one at a time, each timed by wall clock, with a request
to /plain after each as a control for the machine's own delays. The tests check the budget on the limiter's clock;
this is where the wall-clock figure comes from.
"""
import argparse, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "bench", "RateGuard.LoadApp", "bin", "Release", "net10.0", "RateGuard.LoadApp.dll")
COUNT_LUA = os.path.join(ROOT, "bench", "count.lua")
processes = []
workdir = tempfile.mkdtemp(prefix="rateguard-faults-")


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


def start_redis(port, *extra, cpu=None, cwd=None):
    prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
    p = start(prefix + ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", *extra],
              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd)
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


def start_wrk(url, duration, connections, threads=1, cpu=None, headers=()):
    prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
    extra = [a for h in headers for a in ("-H", h)]
    return start(prefix + ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s", "-s", COUNT_LUA, *extra, url],
                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


def finish_wrk(p, duration):
    out = p.communicate(timeout=duration + 60)[0]
    if p in processes:
        processes.remove(p)
    statuses = dict((int(k), int(v)) for k, v in re.findall(r"(\d+)=(\d+)", re.search(r"^statuses.*$", out, re.M).group(0)))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return requests, statuses


def wrk(url, duration, connections, threads=1, cpu=None, headers=()):
    return finish_wrk(start_wrk(url, duration, connections, threads, cpu, headers), duration)


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


def client_kill(duration, connections=64):
    """CLIENT KILL TYPE normal every 4 s under load: each reset fails every call in flight at once."""
    capacity, rate = 100, 100
    duration = max(duration, 24)
    redis_port = free_port()
    redis = start_redis(redis_port)
    app = App(f"--TokenBuckets:Redis=127.0.0.1:{redis_port}")
    try:
        for _ in range(3):
            app.get("/plain")
        redis_cli(redis_port, "FLUSHALL")
        app.get("/stats", method="DELETE")
        warnings_before = app.warnings()
        began = time.time()
        load = start_wrk(f"http://127.0.0.1:{app.port}/faults", duration, connections, threads=2, headers=["X-Client: kill"])
        kills = 0
        for at in range(2, duration - 1, 4):
            time.sleep(max(0, began + at - time.time()))
            redis_cli(redis_port, "CLIENT", "KILL", "TYPE", "normal")
            kills += 1
        requests, statuses = finish_wrk(load, duration)
        elapsed = time.time() - began
        stats = app.stats()
        warnings = app.warnings() - warnings_before
        if os.environ.get("FAULTS_LOG"):
            print("".join(app.lines), file=sys.stderr)
    finally:
        app.stop()
        stop(redis)
    bound = capacity + rate * elapsed
    admitted = statuses.get(200, 0)
    failed_open = sum(n for (bucket, result), n in stats.items() if bucket != "store" and result == "failed_open")
    print(f"  client kill: {admitted} admitted (bound {bound:.1f}), failed open {failed_open}; meter {sorted(stats.items())}", file=sys.stderr)
    return "\n".join([
        f"| CLIENT KILL TYPE normal | requests | admitted | exact bound | extra admissions | bucket capacity | failed open | 5xx | warnings logged |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {kills} kills in {elapsed:.0f} s, {connections} connections | {requests} | {admitted} | {bound:.1f} | {max(0, admitted - bound):.1f} | {capacity} | {failed_open} | "
        f"{sum(n for s, n in statuses.items() if s >= 500)} | {warnings} |"])


def cluster_kill(duration, connections=16):
    """A 3-master cluster (with a replica each) under load on one bucket per master; SIGKILL one master mid-run."""
    capacity, rate = 100, 100
    duration = max(duration, 15)
    ports = [free_port() for _ in range(6)]
    nodes = [start_redis(p, "--cluster-enabled", "yes", "--cluster-node-timeout", "1500", "--cluster-require-full-coverage", "no", "--repl-diskless-sync-delay", "0", "--cluster-config-file", f"nodes-{p}.conf", cwd=workdir) for p in ports]
    app = None
    try:
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "1", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        wait_cluster_ok(ports)
        masters = [p for p in ports if "role:master" in redis_cli(p, "INFO", "replication")]
        # One client value per master: the bucket key's hash tag is the value, so its slot picks the master.
        clients = {}
        for n in range(10000):
            value = f"c{n}"
            slot = int(redis_cli(masters[0], "CLUSTER", "KEYSLOT", value))
            owner = slot_owner(masters[0], slot)
            if owner in masters and owner not in clients:
                clients[owner] = value
            if len(clients) == len(masters):
                break
        victim = masters[0]
        replica_of_victim = next(p for p in ports if p not in masters and f"master_port:{victim}" in redis_cli(p, "INFO", "replication"))
        app = App("--TokenBuckets:Redis=" + ",".join(f"127.0.0.1:{p}" for p in masters))
        for _ in range(3):
            app.get("/plain")
        for p in masters:
            redis_cli(p, "FLUSHALL")
        began = time.time()
        loads = {owner: start_wrk(f"http://127.0.0.1:{app.port}/faults", duration, connections, headers=[f"X-Client: {value}"]) for owner, value in clients.items()}
        time.sleep(max(0, began + 5 - time.time()))
        killed_at = time.time()
        stop(nodes[ports.index(victim)])
        promoted_at = None
        while time.time() < began + duration:
            if promoted_at is None and "role:master" in redis_cli(replica_of_victim, "INFO", "replication"):
                promoted_at = time.time()
            time.sleep(0.05)
        results = {owner: finish_wrk(load, duration) for owner, load in loads.items()}
        elapsed = time.time() - began
        stats = app.stats()
        if os.environ.get("FAULTS_LOG"):
            print("".join(app.lines), file=sys.stderr)
    finally:
        if app is not None:
            app.stop()
        for node in nodes:
            stop(node)
    bound = capacity + rate * elapsed
    lines = ["| bucket's master | requests | admitted | exact bound | admitted − bound | 5xx |", "|---|---:|---:|---:|---:|---:|"]
    for owner, (requests, statuses) in results.items():
        label = f"killed at {killed_at - began:.1f} s, replica promoted {promoted_at - killed_at:.1f} s later" if owner == victim and promoted_at else ("killed" if owner == victim else "healthy")
        admitted = statuses.get(200, 0)
        lines.append(f"| {label} | {requests} | {admitted} | {bound:.1f} | {admitted - bound:+.1f} | {sum(n for s, n in statuses.items() if s >= 500)} |")
    print(f"  cluster: {lines[2:]}; meter {sorted(stats.items())}", file=sys.stderr)
    return "\n".join(lines)


async def timed_load(ports, path, duration, connections_per_port):
    """Keep-alive GETs on every port for duration seconds; returns (monotonic time, status) of every response."""
    import asyncio
    results = []
    stop_at = time.monotonic() + duration

    async def client(port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        request = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
        while time.monotonic() < stop_at:
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            results.append((time.monotonic(), int(status_line.split()[1])))
        writer.close()

    await asyncio.gather(*(client(p) for p in ports for _ in range(connections_per_port)))
    return results


def fallback(duration, instances=3, connections=8):
    """Three instances with LocalFallback; Redis stopped with SIGSTOP for 5 s under load, then continued."""
    import asyncio
    capacity, rate = 100, 50
    duration = max(duration, 15)
    redis_port = free_port()
    redis = start_redis(redis_port)
    apps = []
    try:
        apps = [App(f"--TokenBuckets:Redis=127.0.0.1:{redis_port}", "--TokenBuckets:LocalFallback=true") for _ in range(instances)]
        for app in apps:
            app.get("/plain")
        time.sleep(2)  # the heartbeats tell every instance how many there are
        redis_cli(redis_port, "FLUSHALL")
        began = time.monotonic()
        switches = {}

        def pause():
            time.sleep(5)
            switches["stop"] = time.monotonic()
            os.kill(redis.pid, signal.SIGSTOP)
            time.sleep(5)
            switches["cont"] = time.monotonic()
            os.kill(redis.pid, signal.SIGCONT)

        pauser = threading.Thread(target=pause)
        pauser.start()
        responses = asyncio.run(timed_load([a.port for a in apps], "/shared", duration, connections))
        pauser.join()
        elapsed = time.monotonic() - began
        stats = [a.stats() for a in apps]
        learned = [a.warnings() for a in apps]
    finally:
        for app in apps:
            app.stop()
        try:
            os.kill(redis.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        stop(redis)
    admitted = [t for t, status in responses if status == 200]
    bound = capacity + rate * elapsed
    window = 0.2
    after = {name: sum(1 for t in admitted if at <= t < at + window) for name, at in switches.items()}
    # The most admitted in any 200 ms window starting within a second of each switch.
    worst = {name: max(sum(1 for t in admitted if start <= t < start + window) for start in [at + i * 0.01 for i in range(100)]) for name, at in switches.items()}
    fallback_admitted = sum(n for st in stats for (b, r), n in st.items() if r == "fallback_acquired")
    print(f"  fallback: {len(admitted)} admitted of {len(responses)} (bound {bound:.1f}); after switches {after}, worst 200 ms {worst}; meter {stats}", file=sys.stderr)
    return "\n".join([
        "| instances | requests | admitted | exact bound | admitted / bound | admitted locally | in the 200 ms after the stop | after the continue | most in any 200 ms within 1 s of a switch | capacity | 5xx |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {instances} | {len(responses)} | {len(admitted)} | {bound:.1f} | {len(admitted) / bound:.3f} | {fallback_admitted} | {after['stop']} | {after['cont']} | "
        f"{max(worst.values())} | {capacity} | {sum(1 for _, s in responses if s >= 500)} |"])


def pause(duration, requests=200):
    """Redis stopped with SIGSTOP: how long each request waits for its decision, by wall clock, against /plain."""
    budget_ms = 100
    redis_port = free_port()
    redis = start_redis(redis_port)
    app = None
    try:
        app = App(f"--TokenBuckets:Redis=127.0.0.1:{redis_port}", f"--TokenBuckets:Timeout=00:00:00.{budget_ms:03d}",
                  "--TokenBuckets:DenyCache=false")
        for _ in range(50):
            app.get("/plain")
            get_with(app, "/faults", "warm-up")
        os.kill(redis.pid, signal.SIGSTOP)
        limited, plain = [], []
        for i in range(requests):
            began = time.perf_counter()
            get_with(app, "/faults", f"client-{i % 8}")
            limited.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            app.get("/plain")
            plain.append((time.perf_counter() - began) * 1000)
        os.kill(redis.pid, signal.SIGCONT)
        stats = app.stats()
    finally:
        if app is not None:
            app.stop()
        try:
            os.kill(redis.pid, signal.SIGCONT)
        except ProcessLookupError:
            pass
        stop(redis)
    failed_open = sum(n for (bucket, result), n in stats.items() if result == "failed_open")

    def pct(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    rows = [f"| limited (`/faults`) | {len(limited)} | {pct(limited, 0.5):.1f} | {pct(limited, 0.99):.1f} | {max(limited):.1f} | {failed_open} |",
            f"| control (`/plain`) | {len(plain)} | {pct(plain, 0.5):.1f} | {pct(plain, 0.99):.1f} | {max(plain):.1f} | – |"]
    return (f"Budget {budget_ms} ms; one request at a time while Redis is stopped, each followed by one to `/plain` as a control "
            "for the machine's own delays.\n\n"
            "| endpoint | requests | p50 ms | p99 ms | max ms | failed open |\n|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n")


def get_with(app, path, client):
    request = urllib.request.Request(f"http://127.0.0.1:{app.port}{path}", headers={"X-Client": client})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.read().decode()


def wait_cluster_ok(ports):
    deadline = time.time() + 30
    while not all("cluster_state:ok" in redis_cli(p, "CLUSTER", "INFO")
                  and any(s in redis_cli(p, "INFO", "replication") for s in ("role:master", "master_link_status:up")) for p in ports):
        if time.time() > deadline:
            raise RuntimeError("the cluster did not reach cluster_state:ok")
        time.sleep(0.1)


def slot_owner(port, slot):
    for line in redis_cli(port, "CLUSTER", "NODES").splitlines():
        parts = line.split()
        if "master" not in parts[2]:
            continue
        for part in parts[8:]:
            low, _, high = part.partition("-")
            if low.isdigit() and int(low) <= slot <= int(high or low):
                return int(parts[1].split(":")[1].split("@")[0])
    return None


SCENARIOS = {"overload": overload, "client-kill": client_kill, "cluster": cluster_kill, "fallback": fallback, "pause": pause}


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
        shutil.rmtree(workdir, ignore_errors=True)
