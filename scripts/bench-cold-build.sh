#!/usr/bin/env bash
# Cold build of a new binary crate that depends on fanvue-api-ext (and tokio) and calls
# `get_current_user` once: dev profile, --offline, a fresh target dir. Prints the number of
# crates compiled and the wall, user and system seconds. See BENCHMARKS.md, "Cold build".
#
# usage: scripts/bench-cold-build.sh [WORKSPACE] [FEATURES]
#   WORKSPACE  the workspace whose fanvue-api-ext is used (default: this one); e.g. a
#              `git worktree add --detach /tmp/before <commit>` to compare with an older commit
#   FEATURES   "" for the default features (default), or e.g. "rustls-aws-lc" (default
#              features off, those on)
#   CALL=call  for trees before the `.send()` redesign (they spelled it `.call()`)
set -euo pipefail
ws=$(cd "${1:-$(dirname "$0")/..}" && pwd)
features=${2:-}
call=${CALL:-send}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/crate/src"
if [ -n "$features" ]; then
  dep="{ path = \"$ws/fanvue-api-ext\", default-features = false, features = [\"$features\"] }"
else
  dep="{ path = \"$ws/fanvue-api-ext\" }"
fi
cat > "$dir/crate/Cargo.toml" <<EOT
[package]
name = "cold-build"
version = "0.1.0"
edition = "2024"

[dependencies]
fanvue-api-ext = $dep
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }

[workspace]
EOT
cat > "$dir/crate/src/main.rs" <<EOT
use fanvue_api_ext::prelude::*;

#[tokio::main]
async fn main() {
    let fanvue = fanvue_api_ext::Fanvue::builder()
        .base_url("https://127.0.0.1:9")
        .access_token("t")
        .build()
        .expect("client");
    let r = fanvue.api().get_current_user().$call().await;
    println!("{}", r.is_ok());
}
EOT
cp "$ws/Cargo.lock" "$dir/crate/Cargo.lock"
cd "$dir/crate"
cargo fetch -q
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
CARGO_TARGET_DIR="$dir/target" /usr/bin/time -f "wall %e s, user %U s, sys %S s" \
  cargo build --offline 2>&1 | tee "$dir/log" | grep -E "^(error|wall)" || true
echo "crates compiled: $(grep -c Compiling "$dir/log")"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
grep -q "^error" "$dir/log" && { echo "the build failed"; exit 1; } || true
