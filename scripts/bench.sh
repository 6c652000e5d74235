#!/usr/bin/env bash
# `make bench`: segmentation-net throughput per backbone and the data-pipeline
# overhead ratio. Extra arguments go to Google Benchmark (e.g. --benchmark_filter=Inference).
set -euo pipefail
build=${1:-build}
shift || true
"$build/bench/regal_bench" "$@"
