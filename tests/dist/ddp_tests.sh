#!/usr/bin/env bash
# Data-parallel training under mpirun, one case per ctest test (tests/CMakeLists.txt):
#   ddp_tests.sh CASE NEURONA DDP_CHECK MPIRUN
# Every rank runs on loopback TCP; every launch runs under a timeout.
#   collectives  allreduce and broadcast on 2, 3 and 4 ranks: exact sums, bit-identical results
#   mlp          the example MLP (examples/wine.yaml): 2 and 4 ranks with batch b/N end within 1e-5
#                (relative) of one process with batch b on the same data and initial weights
#   cnn          the same for the example CNN (examples/fashion_mnist_cnn.yaml, 640 images)
#   syncbn       BatchNorm with sync_batchnorm on 2 and 4 ranks follows one process (1e-5); with
#                per-rank statistics it does not
#   failure      an error aborts the job naming the rank; a rank killed mid-epoch ends the job
#                within 10 s, naming it, and the last checkpoint loads; a rank that hangs
#                (SIGSTOP) is caught by the watchdog within the same 10 s
#   resume       a 2-rank run resumed from its epoch-2 checkpoint ends with the same weights, bit
#                for bit, as the uninterrupted 2-rank run
set -euo pipefail
case_name=$1 neurona=$2 check=$3 mpirun=$4
tmp=$(mktemp -d /tmp/neurona-ddp.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mpi=("$mpirun" --allow-run-as-root --oversubscribe --mca btl self,tcp --mca btl_tcp_if_include lo
     --mca oob_tcp_if_include lo --bind-to none)
export NEURONA_NUM_THREADS=1  # ranks share the cores; one thread each keeps runs comparable
fail() { echo "FAIL: $*"; exit 1; }
# The pid of rank R of the job started in the background as LAUNCHER (timeout -> mpirun -> ranks).
rank_pid() {  # LAUNCHER R
  local pid
  for pid in $(pgrep -P "$(pgrep -P "$1" | head -1)" || true); do
    if tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2"; then echo "$pid"; fi
  done
}

# Trains CONFIG with N processes (0: alone, without mpirun) and batch B, saving the weights to OUT.
train() {  # N B OUT CONFIG [--set ...]
  local n=$1 b=$2 out=$3 config=$4; shift 4
  local cmd=("$neurona" train "$config" --set fit.batch_size="$b" --set logging.dir="$tmp/runs"
             --save-weights "$out" "$@")
  if [ "$n" = 0 ]; then
    timeout 60 "${cmd[@]}" > "$out.log" 2>&1 || { cat "$out.log"; fail "training alone failed"; }
  else
    timeout 60 "${mpi[@]}" -np "$n" "${cmd[@]}" > "$out.log" 2>&1 ||
      { cat "$out.log"; fail "training on $n ranks failed"; }
    grep -q "ddp: $n ranks, replicas identical" "$out.log" || { cat "$out.log"; fail "no replica check on $n ranks"; }
  fi
  grep -E "^(final|ddp):" "$out.log" | sed "s/^/  [$n ranks, batch $b] /"
}

# Batch b alone against b/2 on 2 ranks and b/4 on 4, from the same initial weights.
equivalence() {  # CONFIG B TOL [--set ...]
  local config=$1 b=$2 tol=$3; shift 3
  # Every run builds its net from the config's seed: the same initial weights (rank 0's are broadcast).
  train 0 "$b" "$tmp/single.safetensors" "$config" "$@"
  for n in 2 4; do
    train "$n" $((b / n)) "$tmp/ddp$n.safetensors" "$config" "$@"
    "$check" close "$tmp/ddp$n.safetensors" "$tmp/single.safetensors" "$tol" ||
      fail "$n ranks differ from one process by more than $tol"
  done
}

case $case_name in
  collectives)
    for n in 2 3 4; do
      timeout 30 "${mpi[@]}" -np "$n" "$check" collectives || fail "collectives on $n ranks"
    done
    ;;
  mlp)
    # 1280 rows: 1024 train (4 batches of 256, so every rank's share is whole), 256 validate.
    equivalence examples/wine.yaml 256 1e-5 --set data.limit=1280 --set data.split.val=0.2 --set fit.epochs=2
    ;;
  cnn)
    equivalence examples/fashion_mnist_cnn.yaml 64 1e-5 --set data.limit=640 --set data.split.val=0.2 \
      --set fit.epochs=1
    ;;
  syncbn)
    # BatchNorm (examples/batchnorm.yaml; SGD, whose steps do not magnify the rounding of the bias
    # before each BatchNorm, whose true gradient is zero): with sync_batchnorm, N ranks normalise
    # with the global batch's statistics and follow one process; without it they do not.
    bn=(examples/batchnorm.yaml --set data.synthetic.n=400 --set data.split.val=0.2 --set fit.epochs=3
        --set "compile.optimizer={sgd: {lr: 0.1, momentum: 0.9}}")
    train 0 32 "$tmp/single.safetensors" "${bn[@]}"
    for n in 2 4; do
      train "$n" $((32 / n)) "$tmp/sync$n.safetensors" "${bn[@]}" --set fit.sync_batchnorm=true
      "$check" close "$tmp/sync$n.safetensors" "$tmp/single.safetensors" 1e-5 ||
        fail "$n ranks with sync_batchnorm differ from one process by more than 1e-5"
    done
    train 2 16 "$tmp/own.safetensors" "${bn[@]}"
    if "$check" close "$tmp/own.safetensors" "$tmp/single.safetensors" 1e-3; then
      fail "per-rank statistics matched the global batch's: the comparison cannot tell them apart"
    fi
    ;;
  failure)
    # An error on the ranks (a missing file) ends the job at once, each rank naming itself.
    rc=0
    timeout 30 "${mpi[@]}" -np 2 "$neurona" train examples/wine.yaml --set data.csv="$tmp/missing.csv" \
      > "$tmp/err.log" 2>&1 || rc=$?
    [ "$rc" != 0 ] && [ "$rc" != 124 ] || { cat "$tmp/err.log"; fail "an error on every rank: exit $rc"; }
    grep -q "neurona: rank 1 of 2: error: .*missing.csv" "$tmp/err.log" || { cat "$tmp/err.log"; fail "no rank-1 error"; }
    echo "  an error on the ranks: mpirun exited with $rc"
    ckpt="$tmp/ckpt"
    common=(examples/wine.yaml --set fit.epochs=200 --set fit.batch_size=8 --set logging.dir="$tmp/runs"
            --set "callbacks=[{model_checkpoint: {dirpath: $ckpt, save_last: true, save_top_k: 0}}]")
    for signal in KILL STOP; do
      rm -rf "$ckpt"
      timeout 120 "${mpi[@]}" -np 2 "$neurona" train "${common[@]}" --set fit.ddp_timeout=3 \
        > "$tmp/run.log" 2>&1 &
      launcher=$!
      for _ in $(seq 300); do [ -f "$ckpt/last.safetensors" ] && break; sleep 0.1; done
      [ -f "$ckpt/last.safetensors" ] || { cat "$tmp/run.log"; fail "no checkpoint written"; }
      sleep 0.3  # into the next epoch
      victim=$(rank_pid "$launcher" 1)
      [ -n "$victim" ] || fail "rank 1 not found among mpirun's children"
      start=$(date +%s.%N)
      kill -"$signal" "$victim"
      rc=0
      wait "$launcher" || rc=$?
      took=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.2f", a - b }')
      echo "  SIG$signal to rank 1: mpirun exited with $rc after ${took} s"
      sed 's/^/    | /' "$tmp/run.log" | grep -iE "rank|abort" | head -5 || true
      [ "$rc" != 0 ] || fail "mpirun exited 0 after rank 1 got SIG$signal"
      awk -v t="$took" 'BEGIN { exit !(t < 10) }' || fail "mpirun took ${took} s (> 10 s) to end after SIG$signal"
      grep -qE "rank 1( |,|\)|$)|rank 1 " "$tmp/run.log" || { cat "$tmp/run.log"; fail "the message does not name rank 1"; }
      timeout 30 "$neurona" evaluate examples/wine.yaml --weights "$ckpt/last.safetensors" > "$tmp/eval.log" 2>&1 ||
        { cat "$tmp/eval.log"; fail "the last checkpoint does not load"; }
      grep -m1 "loss" "$tmp/eval.log" | sed 's/^/  last checkpoint: /'
    done
    ;;
  resume)
    # The uninterrupted 2-rank run, then the same run killed (SIGKILL to rank 1) once it has
    # written a checkpoint, resumed on 2 ranks from the last checkpoint it left.
    ckpt="$tmp/ckpt"
    common=(examples/wine.yaml --set data.limit=1280 --set data.split.val=0.2 --set fit.batch_size=8
            --set fit.epochs=4 --set logging.dir="$tmp/runs")
    with_ckpt() { echo "callbacks=[{model_checkpoint: {dirpath: $1, save_last: true, save_top_k: 0}}]"; }
    timeout 60 "${mpi[@]}" -np 2 "$neurona" train "${common[@]}" --set "$(with_ckpt "$tmp/ckpt-whole")" \
      --save-weights "$tmp/whole.safetensors" > "$tmp/whole.log" 2>&1 || { cat "$tmp/whole.log"; fail "4 epochs"; }
    timeout 60 "${mpi[@]}" -np 2 "$neurona" train "${common[@]}" --set "$(with_ckpt "$ckpt")" > "$tmp/cut.log" 2>&1 &
    launcher=$!
    for _ in $(seq 300); do [ -f "$ckpt/last.safetensors" ] && break; sleep 0.05; done
    sleep 0.1  # into the next epoch
    victim=$(rank_pid "$launcher" 1)
    [ -n "$victim" ] || fail "rank 1 not found among mpirun's children"
    kill -KILL "$victim"
    rc=0
    wait "$launcher" || rc=$?
    [ "$rc" != 0 ] || { cat "$tmp/cut.log"; fail "the run ended before rank 1 was killed"; }
    [ -f "$ckpt/last.safetensors" ] || { cat "$tmp/cut.log"; fail "no checkpoint before the kill"; }
    epochs=$(grep -o "Epoch [0-9]/4" "$tmp/cut.log" | tail -1 || true)
    echo "  interrupted run: mpirun exited with $rc during ${epochs:-?}; resuming from its last checkpoint"
    timeout 60 "${mpi[@]}" -np 2 "$neurona" train "${common[@]}" --set "$(with_ckpt "$ckpt")" \
      --resume "$ckpt/last.safetensors" --save-weights "$tmp/resumed.safetensors" > "$tmp/resumed.log" 2>&1 ||
      { cat "$tmp/resumed.log"; fail "resume"; }
    grep -E "^(final|ddp):" "$tmp/resumed.log" | sed 's/^/  resumed: /'
    "$check" same "$tmp/resumed.safetensors" "$tmp/whole.safetensors" || fail "the resumed run differs"
    ;;
  *) fail "unknown case '$case_name'" ;;
esac
echo "ddp.$case_name: ok"
