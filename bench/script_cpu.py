#!/usr/bin/env python3
"""Redis CPU per decision of the token-bucket script, one request per call against batches, measured on an otherwise
idle redis-server with redis-benchmark (no app, no wrk competing for the cores).

    python3 bench/script_cpu.py [--calls 100000] [--sizes 1 10 30]

For each batch size it runs EVALSHA in the script's requests form with that many requests per call, over 1,000
distinct bucket keys (a different one for each request, redis-benchmark's __rand_int__) and over one key for all, and
reports Redis's own time per call and per decision from INFO commandstats. Starts its own redis-server on a free
loopback port and stops it by process id.
"""
import argparse, os, re, socket, subprocess, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100000)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 30])
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                              stdout=subprocess.DEVNULL)
    try:
        time.sleep(0.5)

        def cli(*parts):
            return subprocess.run(["redis-cli", "-p", str(port), *parts], capture_output=True, text=True, check=True).stdout.strip()

        with open(os.path.join(ROOT, "src", "Runtime", "Lua", "token-bucket.lua")) as f:
            sha = cli("SCRIPT", "LOAD", f.read())
        print("| requests per call | keys | µs per call | µs per decision |")
        print("|---:|---|---:|---:|")
        for size in args.sizes:
            for shared in (False, True):
                keys = ["hot"] * size if shared else [f"k{i}:__rand_int__" for i in range(size)]
                # Each request: no deadline, one bucket of a billion tokens at a million a second, cost 1, no debt.
                request = ["0", "1", "1000", "1000000000", "1", "0"]
                command = ["EVALSHA", sha, str(size), *keys, "rg2", "", str(size), *(request * size)]
                cli("CONFIG", "RESETSTAT")
                subprocess.run(["redis-benchmark", "-p", str(port), "-n", str(args.calls), "-c", "8", "-r", "1000", "-q", *command],
                               check=True, capture_output=True)
                stats = re.search(r"cmdstat_evalsha:calls=(\d+),usec=(\d+)", cli("INFO", "commandstats"))
                calls, usec = int(stats.group(1)), int(stats.group(2))
                print(f"| {size} | {'one for all' if shared else '1,000 distinct'} | {usec / calls:.2f} | {usec / calls / size:.2f} |")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
