#!/usr/bin/env bash
# Data-parallel training on this machine (README, "Several processes"): one rank with 2 threads
# against 2 ranks with 1 thread each at the same global batch (W1 the wine MLP, W3 the first
# CNN), the gradient allreduce's time and bytes per step, and the ring model's projection to 8,
# 64 and 512 processes from the latency and bandwidth measured here. Short runs: about a minute.
# Usage: bash bench/ddp.sh [BUILD_DIR]   (after building Release with NEURONA_MPI=ON)
set -euo pipefail
build=${1:-build}
bench="$build/bench/bench_ddp"
[ -x "$bench" ] || { echo "bench/ddp.sh: $bench missing (cmake --build $build --target bench_ddp)"; exit 1; }
mpi=(mpirun --allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo
     --mca oob_tcp_if_include lo --bind-to none)
echo "# $(date -u +%F) on $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
for job in "W1 256 40" "W3 64 10"; do
  set -- $job
  NEURONA_NUM_THREADS=2 timeout 300 "$bench" train "$1" "$2" "$3"
  timeout 300 "${mpi[@]}" -np 2 -x NEURONA_NUM_THREADS=1 "$bench" train "$1" "$2" "$3"
done
# W1's and W3's gradients in bytes (float32 parameters).
timeout 300 "${mpi[@]}" -np 2 -x NEURONA_NUM_THREADS=1 "$bench" allreduce 2127876 1686568
