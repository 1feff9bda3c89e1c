#!/usr/bin/env bash
# The course's three ways on the 500-image task (Fashion-MNIST classes 5-9, 100 images each), side
# by side: from scratch, feature extraction, fine-tuning (and fine-tuning by BackboneFinetuning).
# Each is one `neurona train`; the table gives its test accuracy on the 5,000 test images of those
# classes and its wall time. Run from the repository root after building:
#   bash examples/transfer_learning/run.sh [--set fit.epochs=5 ...]
set -euo pipefail
here=examples/transfer_learning
printf '%-22s %14s %10s\n' "way" "test accuracy" "time (s)"
for way in scratch feature_extraction fine_tuning backbone_finetuning; do
  start=$(date +%s.%N)
  out=$(./build/neurona train "$here/$way.yaml" --quiet "$@")
  end=$(date +%s.%N)
  acc=$(printf '%s\n' "$out" | sed -n 's/^test: accuracy=\([0-9.]*\).*/\1/p')
  [ -n "$acc" ] || { printf '%s\n' "$out" >&2; echo "run.sh: no test accuracy from $way.yaml" >&2; exit 1; }
  printf '%-22s %14s %10.1f\n' "$way" "$acc" "$(echo "$end - $start" | bc)"
done
