#!/usr/bin/env bash
# Installs everything Neurona needs to build, test and run its examples and web tests on Debian 12
# (as root). Only what is missing is installed, so it is quick on a machine that already has it all.
set -euo pipefail
packages=(
  build-essential cmake          # g++ 12, CMake 3.25
  clang-format                   # the formatting gate in scripts/test.sh
  ccache                         # scripts/test.sh reuses earlier runs' object files
  libopenblas-dev                # the GEMM library
  zlib1g-dev                     # gzip-compressed data files
  libpng-dev libturbojpeg0-dev   # PNG and JPEG images (data.images)
  nlohmann-json3-dev             # JSON headers of safetensors files
  libyaml-cpp-dev                # config files of the neurona command
  libgtest-dev                   # the test suite
  clang libclang-rt-dev          # the sanitized build and its libFuzzer targets (fuzz/, scripts/fuzz.sh)
  protobuf-compiler              # tests decode event files with `protoc --decode` ...
  libprotobuf-dev                # ... which needs google/protobuf/*.proto from here
  python3-torch python3-numpy    # the tests that compare against PyTorch
  python3-torchvision            # the model zoo's reference models (tests/nn/zoo_torchvision.py)
  dataset-fashion-mnist          # Fashion-MNIST for the image examples
  libcpp-httplib-dev pkg-config  # the web app's HTTP server (`neurona serve`)
  chromium chromium-driver       # the web app's browser tests (scripts/test-web.sh), over WebDriver
  python3-onnx                   # the ONNX checker the export tests run (tests/onnx/check.py)
  libonnx-testdata               # ONNX's test models, which the import sweep reads (test_onnx_import.cpp)
  libopenmpi-dev openmpi-bin     # data-parallel training (NEURONA_MPI) and its tests under mpirun
)
# The browser tests run on Node.js (built-in modules only); the ONNX export tests run onnxruntime
# from npm (below), so npm comes too when missing. A machine may already have a
# node from another source, so Debian's nodejs is installed only when node is missing.
command -v node >/dev/null || packages+=(nodejs)
command -v npm >/dev/null || packages+=(npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# onnxruntime for the ONNX export tests, at the version pinned in tests/onnx/package.json, into
# tests/onnx/node_modules. The CPU library ships inside the package; its install script would only
# download the CUDA one, so scripts are skipped.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [ ! -f "$root/tests/onnx/node_modules/onnxruntime-node/package.json" ]; then
  (cd "$root/tests/onnx" && ONNXRUNTIME_NODE_INSTALL=skip ONNXRUNTIME_NODE_INSTALL_CUDA=skip \
    npm install --ignore-scripts --no-audit --no-fund)
fi
