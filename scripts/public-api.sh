#!/usr/bin/env bash
# Rewrites the PublicAPI.Shipped.txt of every packed project from its source, as a release does: the public API as it
# stands becomes the shipped baseline, and PublicAPI.Unshipped.txt is left empty. Between releases, leave Shipped alone
# and let the analyzer's code fix (or this script with --unshipped) add new members to Unshipped.
# Run it from a clean tree and review the diff: every line that changes or goes is a breaking change.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-}
header='#nullable enable'
for project in src/Attributes/RateGuard.Attributes.csproj src/Runtime/RateGuard.csproj src/OpenApi/RateGuard.OpenApi.csproj src/Swashbuckle/RateGuard.Swashbuckle.csproj src/Yarp/RateGuard.Yarp.csproj; do
  dir=$(dirname "$project")
  if [ "$mode" != "--unshipped" ]; then
    echo "$header" > "$dir/PublicAPI.Shipped.txt"
  fi
  echo "$header" > "$dir/PublicAPI.Unshipped.txt"
  # RS0016 (a public member missing from the files) and its code fix add every member to Unshipped.
  dotnet format analyzers "$project" --diagnostics RS0016 --severity info --no-restore >/dev/null
  if [ "$mode" != "--unshipped" ]; then
    { echo "$header"; grep -v "^$header\$" "$dir/PublicAPI.Unshipped.txt" | LC_ALL=C sort; } > "$dir/PublicAPI.Shipped.txt"
    echo "$header" > "$dir/PublicAPI.Unshipped.txt"
  fi
  echo "$dir: $(($(wc -l < "$dir/PublicAPI.Shipped.txt") - 1)) shipped, $(($(wc -l < "$dir/PublicAPI.Unshipped.txt") - 1)) unshipped"
done
