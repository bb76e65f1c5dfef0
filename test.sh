#!/usr/bin/env bash
# Builds and runs every test project in Generator.sln against real Redis, installing redis-server first when
# it is missing, and ends with one line of totals across all projects: "tests: N passed, M failed[, K skipped]".
set -uo pipefail
cd "$(dirname "$0")"
# English tool output, whatever the machine's language: the totals below are read from it.
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1 DOTNET_CLI_UI_LANGUAGE=en

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
  echo "redis-server is missing: installing it from Debian packages"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools </dev/null \
    || { echo "could not install redis-server; the tests need a real Redis"; echo "tests: 0 passed, 1 failed"; exit 1; }
fi
echo "using $(redis-server --version)"

# The overload test opens 3,000 connections at once: raise the soft limit on open files as far as the hard one allows.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The overload test floods the sample with wrk; the TLS test makes its certificates with openssl.
for tool in wrk openssl; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool is missing: installing it from Debian packages"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
    $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$tool" </dev/null \
      || echo "could not install $tool; the tests that need it will fail"
  fi
done

# The admin page tests drive the page in headless Chromium over its DevTools protocol.
if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium is missing: installing it from Debian packages"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium </dev/null \
    || echo "could not install chromium; the admin page browser tests will fail"
fi

# Native AOT (checked by one of the tests) needs a C toolchain and zlib.
if ! command -v clang >/dev/null 2>&1 || [ ! -e /usr/include/zlib.h ]; then
  echo "clang or zlib1g-dev is missing: installing them for the Native AOT check"
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo -n"
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq clang zlib1g-dev </dev/null \
    || echo "could not install clang and zlib1g-dev; the Native AOT test will fail"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

dotnet build Generator.sln -c Release -warnaserror 2>&1 | tee -a "$log"
build=${PIPESTATUS[0]}
if [ "$build" -ne 0 ]; then
  echo "the build failed"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

# The build checks formatting and naming (.editorconfig, EnforceCodeStyleInBuild); the order of usings is the one rule
# of that file the compiler does not report, so dotnet format checks it here, with the rest of the style rules.
style=$(dotnet format style Generator.sln --verify-no-changes --no-restore --severity warn 2>&1)
if [ $? -ne 0 ]; then
  echo "$style" | grep -v '^Warnings were encountered'
  echo "the code style check failed: run dotnet format style Generator.sln --severity warn"
  echo "tests: 0 passed, 1 failed"
  exit 1
fi

# One project at a time: several suites hammer Redis or measure latency, and on a small machine running them side
# by side would measure the machine rather than the code. Each project still runs its own tests in parallel.
status=0
for project in tests/*/*.Tests.csproj; do
  # A hung project is stopped after 30 minutes; it then prints no summary and is counted as failed below.
  timeout --kill-after=60s 30m dotnet test "$project" -c Release --no-build --settings tests/all.runsettings "$@" 2>&1 | tee -a "$log"
  [ "${PIPESTATUS[0]}" -ne 0 ] && status=1
done

# Each test project prints: "Passed!  - Failed:     0, Passed:    84, Skipped:     0, Total:    84, ..."
read -r passed failed skipped < <(grep -E '^(Passed|Failed)! +- Failed: ' "$log" | awk -F'[:,]' '
  { f += $2; p += $4; s += $6 } END { printf "%d %d %d\n", p, f, s }')

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A test host that crashed prints no summary; count it so the total cannot look green.
  failed=1
fi
line="tests: $passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
