#!/usr/bin/env bash
# Installs everything Neurona needs to build, test and run its examples and web tests on Debian 12
# (as root). Only what is missing is installed, so it is quick on a machine that already has it all.
set -euo pipefail
packages=(
  build-essential cmake          # g++ 12, CMake 3.25
  clang-format                   # the formatting gate in scripts/test.sh
  libopenblas-dev                # the GEMM library
  zlib1g-dev                     # gzip-compressed data files
  libpng-dev libturbojpeg0-dev   # PNG and JPEG images (data.images)
  nlohmann-json3-dev             # JSON headers of safetensors files
  libyaml-cpp-dev                # config files of the neurona command
  libgtest-dev                   # the test suite
  protobuf-compiler              # tests decode event files with `protoc --decode` ...
  libprotobuf-dev                # ... which needs google/protobuf/*.proto from here
  python3-torch python3-numpy    # the tests that compare against PyTorch
  dataset-fashion-mnist          # Fashion-MNIST for the image examples
  libcpp-httplib-dev pkg-config  # the web app's HTTP server (`neurona serve`)
  chromium chromium-driver       # the web app's browser tests (scripts/test-web.sh), over WebDriver
)
# The browser tests run on Node.js (built-in modules only, no npm). A machine may already have a
# node from another source, so Debian's nodejs is installed only when node is missing.
command -v node >/dev/null || packages+=(nodejs)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
