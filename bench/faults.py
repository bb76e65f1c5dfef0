#!/usr/bin/env python3
"""RateGuard under overload and faults, against a real redis-server, in one run that starts and stops everything it
needs (every process by its id).

    python3 bench/faults.py [overload ...] [--duration 10] [--out bench/results/faults.md]

Decisions Redis did not make are counted together as "not decided by Redis": failed_open (failure mode AdmitAll,
admitted unchecked) and fallback_acquired / fallback_rejected (failure mode Open, the default: each instance enforces
its share of the limit), so the figures compare with those from before Open fell back to the share, when every such
decision was failed_open.

overload: the load app pinned to core 0, Redis and wrk on core 1, 3,000 connections for --duration seconds on one
bucket of capacity 10 refilling at 1/s, with the deny cache on and off. Admitted requests are counted by wrk;
decisions by result come from the app's own meter (GET /stats); warnings from its console log.
client-kill: 64 connections on one bucket (capacity 100, 100/s) for 24 s, CLIENT KILL TYPE normal every 4 s.
cluster: three primaries with a replica each (cluster-node-timeout 1500, cluster-require-full-coverage no), one bucket
per primary under load, SIGKILL of one primary at 5 s. Until the killed primary's replica is promoted, its bucket gets
the default failure mode: each instance's share of the limit (one instance here, so the whole limit, held in-process).
fallback: three app instances with the default failure mode (Open: each enforces its share of the limit, the instance
count learned from the heartbeats) on one global bucket (capacity 100, 50/s), Redis stopped with SIGSTOP from 5 s to
10 s of a 15 s run; every response is timed, to count admissions after each switch.
pause: Redis stopped with SIGSTOP and a 100 ms budget; requests one at a time, each timed by wall clock, with a request
to /plain after each as a control for the machine's own delays. The tests check the budget on the limiter's clock;
this is where the wall-clock figure comes from.

The last two run the minimal sample (samples/MinimalApi) with console logging at Warning (RateGuard's own lines at
Information, so that circuits closing are logged too):
slow: a TCP proxy in this script between the sample and Redis adds 150 ms to every chunk in each direction (the delay
taken when the chunk is read, order kept) from 10 s to 20 s of a 30 s run; wrk -t1 -c32 on /global (capacity 20,
0.2/s, one bucket for everyone), with the default settings and with FailureMode=AdmitAll.
failover: six nodes (cluster-node-timeout 2000, cluster-require-full-coverage no), three primaries with a replica
each; wrk -t1 -c32 on /global and a probe every 100 ms on /tenants/c/orders (capacity 4, 1/s), drained first. After
1 s of load the slot of /global's bucket moves to a primary that is not the probe's (SETSLOT IMPORTING / MIGRATING,
MIGRATE ... KEYS, SETSLOT NODE on every primary), and 1 s later that primary is killed with SIGKILL; the run ends a
few seconds after its replica is promoted. Run twice.
"""
import argparse, asyncio, http.client, os, re, shutil, signal, socket, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
APP = os.path.join(ROOT, "bench", "RateGuard.LoadApp", "bin", "Release", "net10.0", "RateGuard.LoadApp.dll")
SAMPLE = os.path.join(ROOT, "samples", "MinimalApi", "bin", "Release", "net10.0", "MinimalApi.dll")
COUNT_LUA = os.path.join(ROOT, "bench", "count.lua")
# Console logging of the sample: warnings and up, so that logging does not limit throughput, and RateGuard's own lines
# from Information, so that a circuit closing is logged as well as one opening.
SAMPLE_LOGGING = ["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:RateGuard=Information"]
# The results of decisions Redis did not make: AdmitAll's unchecked admissions, and Open's share of the limit.
NOT_DECIDED_BY_REDIS = ("failed_open", "fallback_acquired", "fallback_rejected")
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
    """The load app (or, with dll and ready, the minimal sample) with its console log captured, so warnings can be
    counted."""

    def __init__(self, *args, cpu=None, dll=APP, ready="/plain"):
        self.port = free_port()
        prefix = ["taskset", "-c", str(cpu)] if cpu is not None else []
        self.lines = []
        self.process = start(prefix + ["dotnet", dll, "--urls", f"http://127.0.0.1:{self.port}", *args],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        deadline = time.time() + 60
        while True:
            try:
                self.get(ready)
                return
            except Exception:
                if time.time() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"{os.path.basename(dll)} did not start:\n" + "".join(self.lines[-20:]))
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


def not_decided_by_redis(stats):
    """The decisions of the app's meter that Redis did not make, whichever failure mode made them."""
    return sum(n for (bucket, result), n in stats.items() if bucket != "store" and result in NOT_DECIDED_BY_REDIS)


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
                undecided = not_decided_by_redis(stats)
                decisions = sum(n for (bucket, _), n in stats.items() if bucket != "store")
                print(f"    meter: {sorted(stats.items())}", file=sys.stderr)
                rows.append((label, requests, statuses.get(200, 0), bound, undecided, decisions, calls, app.warnings() - warnings_before))
                print(f"  overload, {label}: {statuses.get(200, 0)} admitted of {requests} (bound {bound:.1f}), not decided by Redis {undecided}", file=sys.stderr)
            finally:
                app.stop()
    finally:
        stop(redis)
    lines = [f"| case | requests | admitted | exact bound | admitted − bound | not decided by Redis | not decided by Redis / requests | EVALSHA / request | warnings logged |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, requests, admitted, bound, undecided, decisions, calls, warnings in rows:
        lines.append(f"| {label} | {requests} | {admitted} | {bound:.1f} | {admitted - bound:+.1f} | {undecided} | {undecided / max(requests, 1):.4%} | {calls / max(requests, 1):.3f} | {warnings} |")
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
    undecided = not_decided_by_redis(stats)
    print(f"  client kill: {admitted} admitted (bound {bound:.1f}), not decided by Redis {undecided}; meter {sorted(stats.items())}", file=sys.stderr)
    return "\n".join([
        f"| CLIENT KILL TYPE normal | requests | admitted | exact bound | extra admissions | bucket capacity | not decided by Redis | 5xx | warnings logged |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {kills} kills in {elapsed:.0f} s, {connections} connections | {requests} | {admitted} | {bound:.1f} | {max(0, admitted - bound):.1f} | {capacity} | {undecided} | "
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
    """Three instances with the default failure mode (each its share of the limit); Redis stopped with SIGSTOP for 5 s
    under load, then continued."""
    capacity, rate = 100, 50
    duration = max(duration, 15)
    redis_port = free_port()
    redis = start_redis(redis_port)
    apps = []
    try:
        apps = [App(f"--TokenBuckets:Redis=127.0.0.1:{redis_port}") for _ in range(instances)]
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
    undecided = not_decided_by_redis(stats)

    def pct(values, q):
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    rows = [f"| limited (`/faults`) | {len(limited)} | {pct(limited, 0.5):.1f} | {pct(limited, 0.99):.1f} | {max(limited):.1f} | {undecided} |",
            f"| control (`/plain`) | {len(plain)} | {pct(plain, 0.5):.1f} | {pct(plain, 0.99):.1f} | {max(plain):.1f} | – |"]
    return (f"Budget {budget_ms} ms; one request at a time while Redis is stopped, each followed by one to `/plain` as a control "
            "for the machine's own delays.\n\n"
            "| endpoint | requests | p50 ms | p99 ms | max ms | not decided by Redis |\n|---|---:|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n")


class LatencyProxy:
    """A TCP proxy on loopback in front of a server, run by an event loop on a thread of this script: while delay is
    above zero, every chunk is held that long in each direction (the delay taken when the chunk is read), with nothing
    lost and each direction's order kept. stop() closes the listener and every connection it made."""

    def __init__(self, target_port):
        self.target = target_port
        self.delay = 0.0
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._writers = set()
        self._server = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10) or self._server is None:
            raise RuntimeError("the proxy did not start")

    def _run(self, ready):
        asyncio.set_event_loop(self._loop)
        try:
            self._server = self._loop.run_until_complete(asyncio.start_server(self._connect, "127.0.0.1", self.port))
        finally:
            ready.set()
        self._loop.run_forever()
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    async def _connect(self, client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target)
        except OSError:
            client_writer.close()
            return
        self._writers.update((client_writer, server_writer))
        try:
            await asyncio.gather(self._pump(client_reader, server_writer), self._pump(server_reader, client_writer))
        finally:
            for writer in (client_writer, server_writer):
                writer.close()
                self._writers.discard(writer)

    async def _pump(self, reader, writer):
        """One direction: chunks are read as they come and written once their delay is over, in order."""
        chunks = asyncio.Queue()

        async def write():
            while (chunk := await chunks.get()) is not None:
                data, due = chunk
                if due > time.monotonic():
                    await asyncio.sleep(due - time.monotonic())
                writer.write(data)
                await writer.drain()

        writing = asyncio.ensure_future(write())
        try:
            while data := await reader.read(65536):
                chunks.put_nowait((data, time.monotonic() + self.delay))
        except OSError:
            pass  # the connection ended
        chunks.put_nowait(None)
        try:
            await writing
        except OSError:
            pass  # the other side went away
        writer.close()

    def stop(self):
        def shutdown():
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            self._loop.stop()

        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(shutdown)
            self._thread.join(10)


def sample(redis, *extra):
    """The minimal sample on redis, its console log captured (warnings, and RateGuard's own lines)."""
    return App(f"--TokenBuckets:Redis={redis}", *SAMPLE_LOGGING, *extra, dll=SAMPLE, ready="/reports/health")


# The rows of the slow scenario: a label and the sample's settings.
SLOW_SETTINGS = [("default settings", []), ("FailureMode=AdmitAll", ["--TokenBuckets:FailureMode=AdmitAll"])]


def slow(duration, connections=32, length=30, slowed=(10, 20), delay=0.150):
    """Redis slowed past the budget through a proxy, 150 ms each way for 10 s of 30, under load on one global bucket."""
    capacity, rate = 20, 0.2
    redis_port = free_port()
    redis = start_redis(redis_port)
    proxy = None
    rows = []
    try:
        proxy = LatencyProxy(redis_port)
        for label, extra in SLOW_SETTINGS:
            app = sample(f"127.0.0.1:{proxy.port}", *extra)
            try:
                # The way to Redis warmed up on buckets the run does not use, then every bucket starts full.
                for i in range(3):
                    app.get(f"/tenants/warm-up-{i}/orders")
                redis_cli(redis_port, "FLUSHALL")
                lines_before = len(app.lines)
                proxy.delay = 0.0
                began = time.time()
                load = start_wrk(f"http://127.0.0.1:{app.port}/global", length, connections)
                time.sleep(max(0, began + slowed[0] - time.time()))
                proxy.delay = delay
                time.sleep(max(0, began + slowed[1] - time.time()))
                proxy.delay = 0.0
                requests, statuses = finish_wrk(load, length)
                elapsed = time.time() - began
                time.sleep(1)  # the last log lines reach the console
                lines = app.lines[lines_before:]
            finally:
                app.stop()
            opened = sum(1 for line in lines if "keeps failing" in line)
            closed = sum(1 for line in lines if "answers again" in line)
            warnings = sum(1 for line in lines if line.startswith(("warn:", "fail:", "crit:")))
            rows.append((label, requests, statuses, capacity + rate * elapsed, opened, closed, warnings))
            print(f"  slow, {label}: {statuses} of {requests} in {elapsed:.1f} s; circuits opened {opened}, closed {closed}", file=sys.stderr)
            if os.environ.get("FAULTS_LOG"):
                print("".join(lines), file=sys.stderr)
    finally:
        if proxy is not None:
            proxy.stop()
        stop(redis)
    table = [f"{delay * 1000:.0f} ms added each way from {slowed[0]} s to {slowed[1]} s of a {length} s run; wrk -t1 -c{connections} on "
             f"`/global` (capacity {capacity}, {rate}/s); bound = {capacity} + {rate} × elapsed.\n",
             "| settings | requests | 200 | 429 | other | exact bound | admitted − bound | circuit opened (lines) | circuit closed (lines) | warnings logged |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for label, requests, statuses, bound, opened, closed, warnings in rows:
        admitted = statuses.get(200, 0)
        other = sum(n for st, n in statuses.items() if st not in (200, 429)) + max(0, requests - sum(statuses.values()))
        table.append(f"| {label} | {requests} | {admitted} | {statuses.get(429, 0)} | {other} | {bound:.1f} | {admitted - bound:+.1f} | {opened} | {closed} | {warnings} |")
    return "\n".join(table)


def probe(port, path, interval, stopping, results):
    """One request every interval on one keep-alive connection until stopping is set: (monotonic time sent, status)."""
    connection = None
    next_at = time.monotonic()
    while not stopping.is_set():
        sent = time.monotonic()
        try:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            results.append((sent, response.status))
        except (OSError, http.client.HTTPException):
            results.append((sent, 0))
            if connection is not None:
                connection.close()
            connection = None
        next_at += interval
        stopping.wait(max(0, next_at - time.monotonic()))
    if connection is not None:
        connection.close()


def node_id(port):
    return redis_cli(port, "CLUSTER", "MYID")


def move_slot(slot, source, target, primaries):
    """Moves slot and its keys from source to target, as redis-cli's reshard does one slot at a time: importing and
    migrating, MIGRATE, then the new owner told to every primary."""
    redis_cli(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", node_id(source))
    redis_cli(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", node_id(target))
    keys = redis_cli(source, "CLUSTER", "GETKEYSINSLOT", slot, 1000).split()
    if keys:
        redis_cli(source, "MIGRATE", "127.0.0.1", target, "", 0, 5000, "KEYS", *keys)
    for primary in [target, source] + [p for p in primaries if p not in (target, source)]:
        redis_cli(primary, "CLUSTER", "SETSLOT", slot, "NODE", node_id(target))


def failover_run(connections, interval=0.1, after_promotion=3):
    """One run of the failover scenario: a fresh six-node cluster, the sample on all of its nodes."""
    capacity, rate = 20, 0.2
    probe_capacity, probe_rate = 4, 1
    ports = [free_port() for _ in range(6)]
    nodes = [start_redis(p, "--cluster-enabled", "yes", "--cluster-node-timeout", "2000", "--cluster-require-full-coverage", "no",
                         "--repl-diskless-sync-delay", "0", "--cluster-config-file", f"nodes-{p}.conf", cwd=workdir) for p in ports]
    app = load = prober = None
    stopping = threading.Event()
    probes = []
    try:
        subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "1", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        wait_cluster_ok(ports)
        primaries = [p for p in ports if "role:master" in redis_cli(p, "INFO", "replication")]
        app = sample(",".join(f"127.0.0.1:{p}" for p in ports))
        # The buckets' keys, as the app writes them, and their slots.
        app.get("/global")
        app.get("/tenants/c/orders")
        keys = [k for p in primaries for k in redis_cli(p, "--scan").split()]
        global_slot = int(redis_cli(primaries[0], "CLUSTER", "KEYSLOT", next(k for k in keys if "/global:" in k)))
        probe_slot = int(redis_cli(primaries[0], "CLUSTER", "KEYSLOT", next(k for k in keys if "orders:" in k and k.endswith("{c}"))))
        probes_primary, source = slot_owner(primaries[0], probe_slot), slot_owner(primaries[0], global_slot)
        target = next(p for p in primaries if p not in (probes_primary, source))
        replica = next(p for p in ports if p not in primaries and f"master_port:{target}" in redis_cli(p, "INFO", "replication"))
        for p in primaries:
            redis_cli(p, "FLUSHALL")
        for _ in range(100):
            if get_status(app, "/tenants/c/orders") != 200:
                break
        lines_before = len(app.lines)
        began = time.monotonic()
        load = start_wrk(f"http://127.0.0.1:{app.port}/global", 120, connections)
        prober = threading.Thread(target=probe, args=(app.port, "/tenants/c/orders", interval, stopping, probes))
        prober.start()
        time.sleep(max(0, began + 1 - time.monotonic()))
        move_slot(global_slot, source, target, primaries)
        time.sleep(max(0, began + 2 - time.monotonic()))
        killed_at = time.monotonic()
        stop(nodes[ports.index(target)])
        while "role:master" not in redis_cli(replica, "INFO", "replication"):
            if time.monotonic() > killed_at + 30:
                raise RuntimeError("the replica was not promoted within 30 s")
            time.sleep(0.05)
        promoted_at = time.monotonic()
        time.sleep(after_promotion)
        stopping.set()
        prober.join()
        os.kill(load.pid, signal.SIGINT)
        requests, statuses = finish_wrk(load, 120)
        elapsed = time.monotonic() - began
        time.sleep(1)  # the last log lines reach the console
        lines = app.lines[lines_before:]
    finally:
        stopping.set()
        if prober is not None:
            prober.join()
        if load is not None:
            stop(load)
        if app is not None:
            app.stop()
        for node in nodes:
            stop(node)
    roles = {}
    for port, role in [(probes_primary, "probe's primary"), (source, "/global's primary before the move"),
                       (target, "killed primary, took /global's slot"), (replica, "its replica, promoted")]:
        roles[port] = f"{roles[port]}, {role}" if port in roles else role

    def servers(phrase):
        """The servers the log lines saying phrase name, each with its role, the bucket if the line names one, and how
        many lines."""
        named = {}
        for line in lines:
            match = re.search(r"Redis (.+?) " + phrase + r"(?: for bucket '([^']*)')?", line)
            if match:
                named[match.groups()] = named.get(match.groups(), 0) + 1
        described = []
        for (server, bucket), n in sorted(named.items(), key=lambda item: (item[0][0], item[0][1] or "")):
            port = re.search(r":(\d+)$", server)
            role = roles.get(int(port.group(1)), "another node") if port else None
            described.append(f"{server}{f' ({role})' if role else ''}{f' for {bucket}' if bucket else ''} ×{n}")
        return "; ".join(described) or "none"

    admitted_at = [t for t, status in probes if status == 200]
    windows = [sum(1 for t in admitted_at if killed_at + i <= t < killed_at + i + 1) for i in range(int(probes[-1][0] - killed_at))]
    probe_bound = probe_capacity + probe_rate * (probes[-1][0] - probes[0][0])
    result = {
        "killed_at": killed_at - began, "promoted_after": promoted_at - killed_at, "windows": windows,
        "probe_requests": len(probes), "probe_admitted": len(admitted_at), "probe_bound": probe_bound,
        "probe_other": sum(1 for _, status in probes if status not in (200, 429)),
        "before_kill": sum(1 for t in admitted_at if t < killed_at),
        "undecided": servers("could not decide"), "opened": servers("keeps failing"),
        "closed": sum(1 for line in lines if "answers again" in line),
        "warnings": sum(1 for line in lines if line.startswith(("warn:", "fail:", "crit:"))),
        "requests": requests, "admitted": statuses.get(200, 0), "bound": capacity + rate * elapsed,
        "other": sum(n for st, n in statuses.items() if st not in (200, 429)) + max(0, requests - sum(statuses.values())),
        "slot": f"{global_slot}: {source} → {target}", "probe_slot": f"{probe_slot} on {probes_primary}",
    }
    print(f"  failover: {result}", file=sys.stderr)
    if os.environ.get("FAULTS_LOG"):
        print("".join(lines), file=sys.stderr)
    return result


def failover(duration, connections=32, runs=2):
    """A primary that took the /global slot killed under load; a probe on another primary's bucket."""
    results = [failover_run(connections) for _ in range(runs)]
    lines = [f"wrk -t1 -c{connections} on `/global` (capacity 20, 0.2/s); a probe every 100 ms on `/tenants/c/orders` (capacity 4, 1/s), "
             "drained first, bound 4 + 1/s over the probe's run. Servers are named by port.\n",
             "| run | /global's slot moved | probe's slot | killed at | replica promoted after | probe admitted in each 1 s after the kill | probe admitted before the kill | probe requests | probe admitted | probe bound | probe admitted − bound | probe other |",
             "|---:|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for n, r in enumerate(results, 1):
        lines.append(f"| {n} | {r['slot']} | {r['probe_slot']} | {r['killed_at']:.1f} s | {r['promoted_after']:.1f} s | {', '.join(map(str, r['windows']))} | {r['before_kill']} | "
                     f"{r['probe_requests']} | {r['probe_admitted']} | {r['probe_bound']:.1f} | {r['probe_admitted'] - r['probe_bound']:+.1f} | {r['probe_other']} |")
    lines += ["", "| run | \"could not decide\" lines, by server | circuits opened (lines), by server | circuit closed (lines) | warnings logged |",
              "|---:|---|---|---:|---:|"]
    for n, r in enumerate(results, 1):
        lines.append(f"| {n} | {r['undecided']} | {r['opened']} | {r['closed']} | {r['warnings']} |")
    lines += ["", "| run | /global requests | /global admitted | exact bound | admitted − bound | other |", "|---:|---:|---:|---:|---:|---:|"]
    for n, r in enumerate(results, 1):
        lines.append(f"| {n} | {r['requests']} | {r['admitted']} | {r['bound']:.1f} | {r['admitted'] - r['bound']:+.1f} | {r['other']} |")
    return "\n".join(lines)


def get_status(app, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{app.port}{path}", timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as e:
        return e.code


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


SCENARIOS = {"overload": overload, "client-kill": client_kill, "cluster": cluster_kill, "fallback": fallback, "pause": pause,
             "slow": slow, "failover": failover}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "faults.md"))
    args = parser.parse_args()
    subprocess.run(["dotnet", "build", os.path.join(ROOT, "bench", "RateGuard.LoadApp"), "-c", "Release", "-nologo", "-v", "q", "-warnaserror"],
                   check=True, stdout=subprocess.DEVNULL)
    if {"slow", "failover"} & set(args.scenarios):
        subprocess.run(["dotnet", "build", os.path.join(ROOT, "samples", "MinimalApi"), "-c", "Release", "-nologo", "-v", "q", "-warnaserror"],
                       check=True, stdout=subprocess.DEVNULL)
    sections = []
    for name in args.scenarios:
        print(f"{name}:", file=sys.stderr)
        sections.append(f"### {name}\n\n" + SCENARIOS[name](args.duration).rstrip("\n"))
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
