#!/usr/bin/env bash
# A user's crate that depends on fanvue-api-ext and on the newest progenitor-client
# 0.15.x (or openapiv3 2.x) must resolve: fanvue-api's requirements on them must
# not be exact pins. Builds nothing: `cargo generate-lockfile` on a temporary
# consumer crate with a path dependency (needs the crates.io index, nothing else).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
offline=()
if [ "${CARGO_NET_OFFLINE:-}" = "true" ]; then offline=(--offline); fi

consumer() { # $1: extra [dependencies] lines
  mkdir -p "$tmp/consumer/src"
  : >"$tmp/consumer/src/lib.rs"
  cat >"$tmp/consumer/Cargo.toml" <<TOML
[package]
name = "consumer"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
$1
TOML
  rm -f "$tmp/consumer/Cargo.lock"
  (cd "$tmp/consumer" && cargo generate-lockfile "${offline[@]}" --quiet)
}

locked() { # the version of crate $1 in the consumer's lockfile
  awk -v name="$1" '$1 == "name" && $3 == "\"" name "\"" { getline; gsub(/"/, "", $3); print $3 }' \
    "$tmp/consumer/Cargo.lock" | sort -V | tail -1
}

# fanvue-api asks for them with caret requirements (an exact pin would fail to
# resolve as soon as another crate needs a newer patch).
reqs="$(cd "$root" && cargo metadata --format-version 1 --no-deps "${offline[@]}" |
  python3 -c 'import json,sys
m=json.load(sys.stdin)
p=[p for p in m["packages"] if p["name"]=="fanvue-api"][0]
print("\n".join(d["name"]+" "+d["req"] for d in p["dependencies"] if d["name"] in ("progenitor-client","openapiv3")))')"
echo "$reqs"
if grep -q ' =' <<<"$reqs"; then
  echo "fanvue-api pins progenitor-client or openapiv3 exactly: a user's lockfile may not resolve" >&2
  exit 1
fi

# The newest versions the registry offers, found by resolving them alone.
consumer 'progenitor-client = ">=0.15, <0.16"
openapiv3 = "2"'
client="$(locked progenitor-client)"
model="$(locked openapiv3)"
echo "newest progenitor-client 0.15.x: $client; newest openapiv3 2.x: $model"

# With fanvue-api-ext beside them (its build dependencies share the lockfile).
consumer "fanvue-api-ext = { path = \"$root/fanvue-api-ext\" }
progenitor-client = \"=$client\"
openapiv3 = \"=$model\""
echo "a consumer of fanvue-api-ext with progenitor-client $client and openapiv3 $model resolves"
