#!/usr/bin/env bash
# Installs the dependencies, builds Neurona in Release and runs the default job: the course's
# early-stopping model on the red wine quality data shipped in data/ (examples/wine.yaml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$(nproc)"
./build/neurona train examples/wine.yaml --set fit.epochs="${EPOCHS:-500}"
