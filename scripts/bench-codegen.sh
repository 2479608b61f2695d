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

seconds() { # runs "$@" quietly, prints wall seconds (rounded to 0.1 s)
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1
  end=$(date +%s.%N)
  printf '%.1f' "$(echo "$end - $start" | bc)"
}

cargo fetch -q
full=$(seconds cargo build -p fanvue-api)
cargo clean -q -p fanvue-api
crate_only=$(seconds cargo build -p fanvue-api)
touch openapi/fanvue.json
rebuild=$(seconds cargo build -p fanvue-api)
# A real spec change (one operation summary edited, so the generated code
# changes): build from a copy of the spec, edit the copy, rebuild.
copy="$target/spec-copy.json"
cp openapi/fanvue.json "$copy"
FANVUE_API_SPEC="$copy" cargo build -q -p fanvue-api
python3 - "$copy" <<'PY'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
op = spec["paths"]["/users/me"]["get"]
op["summary"] = op.get("summary", "") + " (edited)"
json.dump(spec, open(path, "w"), indent=2)
PY
changed=$(seconds env FANVUE_API_SPEC="$copy" cargo build -p fanvue-api)
mock_deps=$(seconds cargo build -p fanvue-api --features mock)
touch openapi/fanvue.json
rebuild_mock=$(seconds cargo build -p fanvue-api --features mock)

out=$(ls -td "$target"/debug/build/fanvue-api-*/out | head -1)
client_lines=$(wc -l < "$out/client.rs")
enum_lines=$(wc -l < "$out/enums.rs")
mock_lines=$(wc -l < "$out/mock.rs")

cat <<TABLE
| measure | value |
| --- | --- |
| fully cold \`cargo build -p fanvue-api\` (fresh target dir) | ${full} s |
| crate-only cold build (deps built, \`cargo clean -p fanvue-api\` first) | ${crate_only} s |
| rebuild after \`touch openapi/fanvue.json\` (content unchanged) | ${rebuild} s |
| rebuild after a real spec change (one summary edited, generated code changes) | ${changed} s |
| first \`--features mock\` build (builds httpmock and its dependencies) | ${mock_deps} s |
| rebuild after touch, \`--features mock\` | ${rebuild_mock} s |
| generated \`client.rs\` lines | ${client_lines} |
| generated \`enums.rs\` lines | ${enum_lines} |
| generated \`mock.rs\` lines (feature \`mock\`) | ${mock_lines} |
TABLE
echo
echo "machine: $(nproc) cores, $(rustc --version); load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
