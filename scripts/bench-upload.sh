#!/usr/bin/env bash
# Upload benchmark (see fanvue-api-ext/benches/upload.rs): a 1 GiB file to the
# fake Fanvue with 40 ms per-request latency and a 25 MB/s per-connection cap:
# SDK defaults, 8 MiB parts forced, the defaults at 100 ms latency, 64 parts in
# flight, a sequential 5 MiB-part loop and one raw single-stream PUT; peak RSS
# of the defaults at 256 MiB and 2 GiB; a batch of 10 files of 100 MiB through
# upload_many vs one upload after another. The last line is
# `link utilization: X.XX` (SDK defaults at 1 GiB: MB/s / (8 × per-connection cap)).
#
# Knobs (environment): UPLOAD_BENCH_MIB (1024), UPLOAD_BENCH_FLAT_MIB ("256,2048"),
# UPLOAD_BENCH_SCENARIOS ("sdk,sdk8,sdk100,c64,sequential,raw"), UPLOAD_BENCH_BATCH ("10x100"),
# UPLOAD_BENCH_LATENCY_MS (40), UPLOAD_BENCH_BANDWIDTH (25000000 bytes/s), UPLOAD_BENCH_DIR (temp dir).
# Quick run: UPLOAD_BENCH_MIB=64 UPLOAD_BENCH_FLAT_MIB=32,128 UPLOAD_BENCH_BATCH=2x16 scripts/bench-upload.sh
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo bench -p fanvue-api-ext --bench upload "$@"
