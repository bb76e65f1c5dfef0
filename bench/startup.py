#!/usr/bin/env python3
"""Startup cost at scale: time from process start to the first response, and the managed heap after it, for apps of
N limited minimal-API endpoints with and without RateGuard, measured in one run with the modes interleaved.

    python3 bench/startup.py [--endpoints 500 2000] [--rounds 3] [--out bench/results/startup.md]

It builds bench/RateGuard.StartupApp in Release, starts each process on a free loopback port, polls its first endpoint
until it answers, reads GET /heap, and stops the process. Every process it starts is stopped on exit.
"""
import argparse, os, socket, statistics, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT = os.path.join(ROOT, "bench", "RateGuard.StartupApp")
APP = os.path.join(PROJECT, "bin", "Release", "net10.0", "RateGuard.StartupApp.dll")
MODES = [("off", "without RateGuard"), ("on", "with RateGuard"), ("unused", "AddTokenBuckets only, no UseTokenBuckets")]
processes = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(endpoints, mode):
    port = free_port()
    started = time.monotonic()
    p = subprocess.Popen(["dotnet", APP, "--urls", f"http://127.0.0.1:{port}", f"--Endpoints={endpoints}", f"--Mode={mode}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    processes.append(p)
    try:
        deadline = started + 120
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/items0/1", timeout=5).read()
                break
            except Exception:
                if p.poll() is not None:
                    raise RuntimeError(f"the app exited: {p.stderr.read().decode()}")
                if time.monotonic() > deadline:
                    raise RuntimeError("the app did not answer within 120 s")
                time.sleep(0.01)
        elapsed = time.monotonic() - started
        heap = int(urllib.request.urlopen(f"http://127.0.0.1:{port}/heap", timeout=30).read())
        return elapsed, heap
    finally:
        p.kill()
        p.wait()
        processes.remove(p)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, nargs="+", default=[500, 2000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "startup.md"))
    args = parser.parse_args()
    subprocess.run(["dotnet", "build", PROJECT, "-c", "Release", "-v", "q", "-nologo"], check=True, stdout=subprocess.DEVNULL)
    results = {}
    for n in args.endpoints:
        measure(n, "off")  # warm the disk cache and the runtime's files once
        for r in range(args.rounds):
            for mode, _ in MODES:
                elapsed, heap = measure(n, mode)
                results.setdefault((n, mode), []).append((elapsed, heap))
                print(f"  {n} endpoints, {mode}: {elapsed:.2f} s, heap {heap / 1e6:.1f} MB", file=sys.stderr)
    lines = [f"Median of {args.rounds} interleaved rounds; time from process start to the first response.", "",
             "| endpoints | " + " | ".join(label for _, label in MODES) + " | RateGuard adds | heap without | heap with | heap added per endpoint |",
             "|---:|" + "---:|" * (len(MODES) + 4)]
    for n in args.endpoints:
        times = {m: statistics.median(e for e, _ in results[(n, m)]) for m, _ in MODES}
        heaps = {m: statistics.median(h for _, h in results[(n, m)]) for m, _ in MODES}
        added = times["on"] / times["off"] - 1
        per_endpoint = (heaps["on"] - heaps["off"]) / n
        lines.append(f"| {n} | " + " | ".join(f"{times[m]:.2f} s" for m, _ in MODES)
                     + f" | {added * 100:+.1f}% | {heaps['off'] / 1e6:.1f} MB | {heaps['on'] / 1e6:.1f} MB | {per_endpoint:,.0f} B |")
    text = "\n".join(lines)
    print(text)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write(text + "\n")


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in processes:
            p.kill()
