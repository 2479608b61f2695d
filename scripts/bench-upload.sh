#!/usr/bin/env bash
# Upload benchmark (see fanvue-api-ext/benches/upload.rs): a 1 GiB file to the
# fake Fanvue with 40 ms per-request latency and a 25 MB/s per-connection cap,
# SDK defaults vs a sequential 5 MiB-part loop vs one raw single-stream PUT,
# plus peak RSS of the SDK defaults at 256 MiB and 2 GiB.
#
# Knobs (environment): UPLOAD_BENCH_MIB (1024), UPLOAD_BENCH_FLAT_MIB ("256,2048"),
# UPLOAD_BENCH_SCENARIOS ("sdk,sequential,raw"), UPLOAD_BENCH_LATENCY_MS (40),
# UPLOAD_BENCH_BANDWIDTH (25000000 bytes/s), UPLOAD_BENCH_DIR (temp dir).
# Quick run: UPLOAD_BENCH_MIB=64 UPLOAD_BENCH_FLAT_MIB=32,128 scripts/bench-upload.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p fanvue-api-ext --bench upload "$@"
