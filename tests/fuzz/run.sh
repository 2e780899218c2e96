#!/usr/bin/env bash
# Builds the codec fuzzer with clang (libFuzzer + ASan + UBSan) and runs it for a bounded time.
# Usage: tests/fuzz/run.sh <build-dir> [seconds]   (CI: a short run, so the target cannot rot)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?build dir}/fuzz
seconds=${2:-20}
mkdir -p "$out/corpus"
bin=$out/codec_fuzzer
sources=("$src"/shared/src/signalr/*.cpp "$src/tests/fuzz/codec_fuzzer.cpp")
newest=$(ls -t "${sources[@]}" "$src"/shared/include/clickrace/signalr/*.hpp | head -1)
if [[ ! -x "$bin" || "$newest" -nt "$bin" ]]; then
  clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/shared/include" "${sources[@]}" -o "$bin"
fi
cp -n "$src"/tests/fuzz/corpus/* "$out/corpus/" 2>/dev/null || true
"$bin" -max_total_time="$seconds" -max_len=8192 -timeout=5 -rss_limit_mb=1024 \
  -print_final_stats=1 "$out/corpus" 2>&1 | tail -n 12
