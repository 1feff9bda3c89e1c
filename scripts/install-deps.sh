#!/usr/bin/env bash
# Installs everything Neurona needs to build, test and run its examples on Debian 12 (as root).
set -euo pipefail
packages=(
  build-essential cmake          # g++ 12, CMake 3.25
  libopenblas-dev                # the GEMM library
  zlib1g-dev                     # gzip-compressed data files
  nlohmann-json3-dev             # JSON headers of safetensors files
  libyaml-cpp-dev                # config files of the neurona command
  libgtest-dev                   # the test suite
  protobuf-compiler              # tests decode event files with `protoc --decode`
  dataset-fashion-mnist          # Fashion-MNIST for the image examples
  libcpp-httplib-dev pkg-config  # the web app's HTTP server (`neurona serve`)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
