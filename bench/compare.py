#!/usr/bin/env python3
"""Throughput of RateGuard revisions side by side: each revision's runtime, built with today's load app, serves the
same endpoints in alternating rounds against one redis-server, so machine noise falls on every revision alike.

    python3 bench/compare.py REV [REV ...] [--rounds 3] [--seconds 8] [--paths /rg /rg2 /seed]

Each revision is checked out into a temporary git worktree (removed afterwards), with bench/RateGuard.LoadApp replaced
by the working tree's, and built in Release. The seed-style middleware (/seed) is the same code in every build, so the
ratio of each endpoint to /seed is the figure to compare across revisions. Every process is stopped by its id.
"""
import argparse, os, re, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(rev, workdir):
    tree = os.path.join(workdir, rev)
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", "-f", tree, rev], check=True, capture_output=True)
    shutil.rmtree(os.path.join(tree, "bench", "RateGuard.LoadApp"))
    shutil.copytree(os.path.join(ROOT, "bench", "RateGuard.LoadApp"), os.path.join(tree, "bench", "RateGuard.LoadApp"),
                    ignore=shutil.ignore_patterns("bin", "obj"))
    subprocess.run(["dotnet", "build", os.path.join(tree, "bench", "RateGuard.LoadApp"), "-c", "Release", "-v", "q", "-nologo"],
                   check=True, stdout=subprocess.DEVNULL)
    return os.path.join(tree, "bench", "RateGuard.LoadApp", "bin", "Release", "net10.0", "RateGuard.LoadApp.dll")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("revisions", nargs="+")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--paths", nargs="+", default=["/rg", "/rg2", "/seed"])
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="rateguard-compare-")
    processes = []
    try:
        apps = {rev: build(rev, workdir) for rev in args.revisions}
        redis_port = free_port()
        processes.append(subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                                          stdout=subprocess.DEVNULL))
        time.sleep(0.5)
        results = {}
        for _ in range(args.rounds):
            for rev, dll in apps.items():
                port = free_port()
                app = subprocess.Popen(["dotnet", dll, "--urls", f"http://127.0.0.1:{port}", f"--TokenBuckets:Redis=127.0.0.1:{redis_port}"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                processes.append(app)
                for _ in range(150):
                    try:
                        urllib.request.urlopen(f"http://127.0.0.1:{port}/plain", timeout=1).read()
                        break
                    except Exception:
                        time.sleep(0.2)
                for path in args.paths:
                    url = f"http://127.0.0.1:{port}{path}"
                    subprocess.run(["wrk", "-t1", "-c8", "-d2s", url], capture_output=True)
                    out = subprocess.run(["wrk", "-t2", "-c32", f"-d{args.seconds}s", url], capture_output=True, text=True).stdout
                    results.setdefault((rev, path), []).append(float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)))
                app.kill()
                app.wait()
                processes.remove(app)
        print(f"| revision | " + " | ".join(f"{p} req/s" for p in args.paths) + " | " + " | ".join(f"{p} ÷ /seed" for p in args.paths if p != "/seed") + " |")
        print("|---|" + "---:|" * (2 * len(args.paths) - 1))
        for rev in args.revisions:
            medians = {p: statistics.median(results[(rev, p)]) for p in args.paths}
            print(f"| {rev} | " + " | ".join(f"{medians[p]:.0f}" for p in args.paths) + " | "
                  + " | ".join(f"{medians[p] / medians['/seed']:.2f}" for p in args.paths if p != "/seed") + " |")
    finally:
        for p in processes:
            p.kill()
        for rev in args.revisions:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", os.path.join(workdir, rev)], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
