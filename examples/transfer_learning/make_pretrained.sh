#!/usr/bin/env bash
# Trains pretrain.yaml (Fashion-MNIST classes 0-4) and keeps its weights as pretrained.safetensors.
# Run from the repository root after building: bash examples/transfer_learning/make_pretrained.sh
set -euo pipefail
here=examples/transfer_learning
./build/neurona train "$here/pretrain.yaml" --threads "${THREADS:-2}" --save-weights "$here/pretrained.safetensors"
