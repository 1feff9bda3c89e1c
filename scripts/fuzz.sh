#!/usr/bin/env bash
# Fuzzes every reader of user input with libFuzzer (fuzz/: CSV, configs, safetensors, IDX, .npy,
# event files, images, ONNX, the web server's requests) under AddressSanitizer + UBSan.
#   bash scripts/fuzz.sh                 # the CI smoke: each target replays its corpus, then 15 s
#   bash scripts/fuzz.sh 600             # the long run: 10 minutes per target
#   bash scripts/fuzz.sh 60 csv onnx     # chosen targets only
# Needs the clang build of scripts/test.sh (build-asan, NEURONA_FUZZ=ON); BUILD_DIR picks another.
# The mutations follow FUZZ_SEED (default 1, so CI's smoke run is repeatable; 0 picks a random one).
# Targets run two at a time. Each replays fuzz/corpus/<name> and keeps what it finds in
# $BUILD_DIR/corpus/<name> (not in the repository). A crash, a sanitizer report, an exception other
# than neurona::Error, a hang (over 10 s) or an allocation over 1 GiB stops the target and saves the
# input as $BUILD_DIR/artifacts/<name>/...: fix the defect, then copy the input into fuzz/corpus/<name>.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-15}
shift || true
build=${BUILD_DIR:-build-asan}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi
for t in "${targets[@]}"; do
  [ -x "$build/fuzz/fuzz_$t" ] || { echo "fuzz.sh: $build/fuzz/fuzz_$t is missing (build with NEURONA_FUZZ=ON)"; exit 2; }
done

run_one() {  # target: replays the seeds, fuzzes, then prints one line of figures
  local t=$1 work="$build/corpus/$t" art="$build/artifacts/$t"
  mkdir -p "$work" "$art"
  local log="$build/fuzz-$t.log"
  if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/fuzz/fuzz_$t" "$work" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=1024 -seed="${FUZZ_SEED:-1}" -print_final_stats=1 -artifact_prefix="$art/" >"$log" 2>&1; then
    local runs cov
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1 || echo 'cov: ?')
    echo "fuzz $t: $runs executions in ${seconds} s, $cov, corpus $(ls "$work" | wc -l) files, 0 crashes"
  else
    echo "fuzz $t: FAILED (log: $log)"
    grep -E 'ERROR|SUMMARY|==[0-9]+==|terminate|Test unit written|fuzz web' "$log" | head -20
    return 1
  fi
}

status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || status=1; done
[ $status -eq 0 ] && echo "fuzz.sh: ${#targets[@]} targets, no defect found"
exit $status
