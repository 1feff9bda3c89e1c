#!/usr/bin/env bash
# Measures OpenBLAS, BLIS and oneDNN on the MLP shapes with 1 and 2 threads (the numbers behind
# the GEMM choice in docs/ARCHITECTURE.md). Needs libopenblas-dev, libblis-dev and libdnnl-dev.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$(mktemp -d)"; trap 'rm -rf "$out"' EXIT
arch=x86_64-linux-gnu
g++ -O2 -std=c++20 "$here/probe.cpp" -I/usr/include/$arch/openblas-pthread \
  -L/usr/lib/$arch/openblas-pthread -Wl,-rpath,/usr/lib/$arch/openblas-pthread -lopenblas -o "$out/openblas"
g++ -O2 -std=c++20 -DUSE_BLIS "$here/probe.cpp" -I/usr/include/$arch/blis-openmp \
  -L/usr/lib/$arch/blis-openmp -Wl,-rpath,/usr/lib/$arch/blis-openmp -lblis -o "$out/blis"
g++ -O2 -std=c++20 -DUSE_DNNL "$here/probe.cpp" -ldnnl -o "$out/dnnl"
for t in 1 2; do
  for lib in openblas blis dnnl; do OMP_NUM_THREADS=$t "$out/$lib" $t; done
done
