#!/usr/bin/env bash
# Checks the workspace's declared MSRV (`rust-version` in Cargo.toml) against its dependency tree:
# every package that `cargo metadata` resolves (normal, build and dev dependencies, all features,
# all targets) must declare a `rust-version` no newer than ours. Packages that declare none are
# listed as unknown but do not fail the check.
#
# We cannot install older toolchains here, so this is the check that can run anywhere: it catches
# a dependency bump that silently raises the MSRV. Building with the MSRV toolchain itself
# (`cargo +1.88 check --workspace`) remains the stronger test where rustup is available.
#
# Usage: scripts/check-msrv.sh            (from anywhere in the workspace)
# Exit status: 0 when every dependency fits, 1 when some need a newer Rust, 2 on usage errors.
set -euo pipefail

cd "$(dirname "$0")/.."

if ! command -v python3 >/dev/null; then
    echo "check-msrv: python3 is required" >&2
    exit 2
fi

metadata="$(mktemp)"
trap 'rm -f "$metadata"' EXIT
cargo metadata --format-version 1 --all-features --locked >"$metadata"

python3 - "$metadata" <<'PY'
import json
import sys


def parse(version):
    """'1.88' / '1.88.0' -> (1, 88, 0)."""
    parts = [int(p) for p in version.strip().split(".")]
    return tuple((parts + [0, 0, 0])[:3])


with open(sys.argv[1], encoding="utf-8") as f:
    meta = json.load(f)

packages = {p["id"]: p for p in meta["packages"]}
members = [packages[m] for m in meta["workspace_members"]]

declared = {p["rust_version"] for p in members if p.get("rust_version")}
missing = [p["name"] for p in members if not p.get("rust_version")]
if missing:
    print(f"check-msrv: workspace members without rust-version: {', '.join(missing)}")
    sys.exit(1)
if len(declared) != 1:
    print(f"check-msrv: workspace members declare different rust-versions: {sorted(declared)}")
    sys.exit(1)
msrv_text = declared.pop()
msrv = parse(msrv_text)

# Only what the resolver actually uses: walk the resolved graph from the members.
resolve = {node["id"]: node for node in meta["resolve"]["nodes"]}
seen, stack = set(), list(meta["workspace_members"])
while stack:
    pid = stack.pop()
    if pid in seen:
        continue
    seen.add(pid)
    stack.extend(dep["pkg"] for dep in resolve[pid]["deps"])

offenders, unknown, checked = [], [], 0
for pid in sorted(seen, key=lambda i: (packages[i]["name"], packages[i]["version"])):
    pkg = packages[pid]
    if pid in meta["workspace_members"]:
        continue
    checked += 1
    rv = pkg.get("rust_version")
    if not rv:
        unknown.append(f"{pkg['name']} {pkg['version']}")
    elif parse(rv) > msrv:
        offenders.append(f"{pkg['name']} {pkg['version']} needs Rust {rv}")

print(f"check-msrv: workspace rust-version {msrv_text}; {checked} dependencies checked")
if unknown:
    print(f"check-msrv: {len(unknown)} declare no rust-version (not checked): {', '.join(unknown)}")
if offenders:
    print(f"check-msrv: {len(offenders)} need a newer Rust than {msrv_text}:")
    for line in offenders:
        print(f"  {line}")
    sys.exit(1)
print("check-msrv: OK")
PY
