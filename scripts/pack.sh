#!/usr/bin/env bash
# Packs RateGuard, RateGuard.Attributes, RateGuard.OpenApi, RateGuard.Swashbuckle and RateGuard.Yarp into artifacts/feed at the repository root, from any directory, and prints
# the version it gave them as the last line of standard output (the build's own output goes to standard error).
#
# Each run gets a version of its own, 0.1.0-dev.<UTC time>.g<commit>, later than any earlier run's: NuGet keeps every
# package version it has restored in its global cache and never reads it again, so a second build under one version
# would be shadowed by the first.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

base=$(sed -n 's|.*<Version>\(.*\)</Version>.*|\1|p' "$root/Directory.Build.props" | head -n 1)
[ -n "$base" ] || { echo "pack: no <Version> in Directory.Build.props" >&2; exit 1; }
# A prerelease identifier of digits only may not start with 0, so the commit is prefixed with g, as git describe does.
commit=$(git -C "$root" rev-parse --short=8 HEAD 2>/dev/null || od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
version="$base-dev.$(date -u +%Y%m%d%H%M%S).g$commit"

feed="$root/artifacts/feed"
mkdir -p "$feed"
# Built apart from the working tree's bin and obj, so packing never disturbs a build or a test run there.
for project in src/Attributes/RateGuard.Attributes.csproj src/Runtime/RateGuard.csproj src/OpenApi/RateGuard.OpenApi.csproj src/Swashbuckle/RateGuard.Swashbuckle.csproj src/Yarp/RateGuard.Yarp.csproj; do
  dotnet pack "$root/$project" -c Release -o "$feed" --artifacts-path "$root/artifacts/pack" \
    "-p:Version=$version" -nologo </dev/null >&2
done
echo "$version"
