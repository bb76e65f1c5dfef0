#!/usr/bin/env bash
# Publishes samples/MinimalApi with Native AOT and checks it: no trim or AOT warning (IL2xxx/IL3xxx) from RateGuard's
# assemblies, and the native binary serves the seed's /ping limit (10 admitted, then 429) in memory and over Redis.
# Installs clang and zlib1g-dev (which Native AOT needs) and redis-server when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
missing=()
command -v clang >/dev/null 2>&1 || missing+=(clang)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" </dev/null
fi

work=$(mktemp -d)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

dotnet publish samples/MinimalApi -c Release -r linux-x64 -p:PublishAot=true -o "$work/out" --artifacts-path "$work/artifacts" -nologo > "$work/publish.log" 2>&1 \
  || { cat "$work/publish.log"; echo "aot: publish failed"; exit 1; }
if grep -E "(warning|error) IL[23][0-9]{3}" "$work/publish.log" | grep -q "RateGuard"; then
  grep -E "(warning|error) IL[23][0-9]{3}" "$work/publish.log" | grep "RateGuard"
  echo "aot: RateGuard has trim or AOT warnings"
  exit 1
fi
echo "aot: published $(du -h "$work/out/MinimalApi" | cut -f1) native binary, no IL2xxx/IL3xxx warning from RateGuard"

port() { python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
wait_for() { for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$1/reports/health" && return 0; sleep 0.1; done; echo "aot: the app on $1 did not start"; return 1; }
burst() { # the statuses of 11 requests, spread over the given ports in turn
  # One curl for all of them, on kept-alive connections: the bucket refills a token every 200 ms, so eleven curl
  # processes started one after another on a slow machine could see a refill and legitimately admit an eleventh.
  local args=() ports=("$@")
  for i in $(seq 0 10); do args+=(-o /dev/null "http://127.0.0.1:${ports[$((i % ${#ports[@]}))]}/ping"); done
  curl -s -w '%{http_code} ' "${args[@]}"
}
expected="200 200 200 200 200 200 200 200 200 200 429 "

app=$(port); "$work/out/MinimalApi" --urls "http://127.0.0.1:$app" > "$work/memory.log" 2>&1 & pids+=($!)
wait_for "$app"
got=$(burst "$app")
[ "$got" = "$expected" ] || { echo "aot: in memory got: $got"; exit 1; }
echo "aot: in memory: $got"
# Limits per client in the native binary: the sample's API-key directory (a plan resolver) and its deny list.
plans=$(curl -s -w '%{http_code} ' -H 'X-Api-Key: free-aot' -o /dev/null "http://127.0.0.1:$app/plans" -o /dev/null "http://127.0.0.1:$app/plans" \
  -o /dev/null "http://127.0.0.1:$app/plans" -o /dev/null "http://127.0.0.1:$app/plans")
denied=$(curl -s -w '%{http_code}' -H 'X-Api-Key: banned-1' -o /dev/null "http://127.0.0.1:$app/plans")
[ "$plans$denied" = "200 200 200 429 403" ] || { echo "aot: plans got: $plans$denied"; exit 1; }
echo "aot: plans in memory: $plans$denied"
# Counting by outcome in the native binary: good logins give their token back, bad ones keep it; a chat's tokens are
# charged after its answer, so the third of 80 waits for the debt.
login() { curl -s -o /dev/null -w '%{http_code} ' -X POST -H 'Content-Type: application/json' -d "{\"user\":\"aot\",\"password\":\"$2\"}" "http://127.0.0.1:$1/login"; }
chat() { curl -s -o /dev/null -w '%{http_code} ' -X POST -H 'Content-Type: application/json' -H 'X-Api-Key: aot' -d '{"tokens":80}' "http://127.0.0.1:$1/chat"; }
outcomes=""
for password in secret secret secret secret wrong wrong wrong secret; do outcomes+=$(login "$app" "$password"); done
for _ in 1 2 3; do outcomes+=$(chat "$app"); done
[ "$outcomes" = "200 200 200 200 401 401 401 429 200 200 429 " ] || { echo "aot: outcomes got: $outcomes"; exit 1; }
echo "aot: counting by outcome in memory: $outcomes"

redis=$(port); redis-server --port "$redis" --bind 127.0.0.1 --save '' --appendonly no > "$work/redis.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do redis-cli -p "$redis" ping 2>/dev/null | grep -q PONG && break; sleep 0.1; done
# A generous time budget, so a first decision slowed by a loaded machine is decided, not failed open; and a slow
# refill, so alternating between two fresh processes (each loading the script on its first call) cannot see a token
# come back within the burst. The capacity stays the seed's 10.
over_redis=(--TokenBuckets:Redis=127.0.0.1:"$redis" --TokenBuckets:Timeout=00:00:05 --TokenBuckets:Buckets:GET/ping:Rate=0.01)
a=$(port); "$work/out/MinimalApi" --urls "http://127.0.0.1:$a" "${over_redis[@]}" > "$work/a.log" 2>&1 & pids+=($!)
b=$(port); "$work/out/MinimalApi" --urls "http://127.0.0.1:$b" "${over_redis[@]}" > "$work/b.log" 2>&1 & pids+=($!)
wait_for "$a"; wait_for "$b"
got=$(burst "$a" "$b")
[ "$got" = "$expected" ] || { echo "aot: over Redis got: $got"; exit 1; }
echo "aot: two native copies over one Redis: $got"
echo "aot: ok"
