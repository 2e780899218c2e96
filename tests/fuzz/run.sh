#!/usr/bin/env bash
# Builds a codec fuzzer with clang (libFuzzer + ASan + UBSan) and runs it for a bounded time.
# Usage: tests/fuzz/run.sh <build-dir> [seconds] [target]   (CI: a short run, so a target cannot rot)
# Targets: codec_fuzzer (JSON protocol, the default), msgpack_fuzzer (MessagePack protocol).
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?build dir}/fuzz
seconds=${2:-20}
target=${3:-codec_fuzzer}
corpus_src=$src/tests/fuzz/corpus
[[ $target == codec_fuzzer ]] || corpus_src=$src/tests/fuzz/corpus_${target%_fuzzer}
mkdir -p "$out/corpus_$target"
bin=$out/$target
sources=("$src"/shared/src/signalr/*.cpp "$src/tests/fuzz/$target.cpp")
newest=$(ls -t "${sources[@]}" "$src"/shared/include/clickrace/signalr/*.hpp | head -1)
if [[ ! -x "$bin" || "$newest" -nt "$bin" ]]; then
  clang++ -std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src/shared/include" "${sources[@]}" -o "$bin"
fi
cp -n "$corpus_src"/* "$out/corpus_$target/" 2>/dev/null || true
"$bin" -max_total_time="$seconds" -max_len=8192 -timeout=5 -rss_limit_mb=1024 \
  -print_final_stats=1 "$out/corpus_$target" 2>&1 | tail -n 12
