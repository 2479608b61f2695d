#!/usr/bin/env bash
# Measures the build of the generated client (fanvue-api): fully cold build,
# crate-only cold build (dependencies already built), rebuild after the spec
# is touched, and the size of the generated code. Prints a markdown table.
#
# Usage: scripts/bench-codegen.sh [TARGET_DIR]   (default: a fresh temp dir, removed after)
set -euo pipefail
cd "$(dirname "$0")/.."

target="${1:-}"
cleanup=""
if [[ -z "$target" ]]; then
  target="$(mktemp -d /tmp/fanvue-bench-XXXXXX)"
  cleanup="$target"
fi
trap '[[ -n "$cleanup" ]] && rm -rf "$cleanup"' EXIT
export CARGO_TARGET_DIR="$target"
unset FANVUE_API_SPEC

seconds() { # runs "$@" quietly, prints wall seconds
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}

cargo fetch -q
full=$(seconds cargo build -p fanvue-api)
cargo clean -q -p fanvue-api
crate_only=$(seconds cargo build -p fanvue-api)
touch openapi/fanvue.json
rebuild=$(seconds cargo build -p fanvue-api)
touch openapi/fanvue.json
rebuild_mock=$(seconds cargo build -p fanvue-api --features mock)
touch openapi/fanvue.json
rebuild_mock2=$(seconds cargo build -p fanvue-api --features mock)

out=$(ls -td "$target"/debug/build/fanvue-api-*/out | head -1)
client_lines=$(wc -l < "$out/client.rs")
enum_lines=$(wc -l < "$out/enums.rs")
mock_lines=$(wc -l < "$out/mock.rs")

cat <<TABLE
| measure | value |
| --- | --- |
| fully cold \`cargo build -p fanvue-api\` (fresh target dir) | ${full} s |
| crate-only cold build (deps built, \`cargo clean -p fanvue-api\` first) | ${crate_only} s |
| rebuild after \`touch openapi/fanvue.json\` | ${rebuild} s |
| same with \`--features mock\` (first build of the feature) | ${rebuild_mock} s |
| rebuild after touch, \`--features mock\` | ${rebuild_mock2} s |
| generated \`client.rs\` lines | ${client_lines} |
| generated \`enums.rs\` lines | ${enum_lines} |
| generated \`mock.rs\` lines (feature \`mock\`) | ${mock_lines} |
TABLE
