#!/usr/bin/env bash
# The benchmark in one command: builds Neurona in Release, installs Debian's python3-torch when it
# is missing, runs every workload in Neurona and PyTorch side by side, prints the table and writes
# bench/RESULTS.md. Extra arguments go to bench/run.py (e.g. --quick, --repeats 7).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! /usr/bin/python3 -c "import torch" 2>/dev/null; then
  echo "bench: installing python3-torch (the PyTorch side of the comparison)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get install -y python3-torch
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" --target bench_workloads neurona_cli >/dev/null
exec /usr/bin/python3 bench/run.py --build build "$@"
