#!/usr/bin/env bash
# Installs Neurona into a temporary prefix and builds a small consumer project against it with
# find_package(neurona), proving the CMake package config works.
set -euo pipefail
cd "$(dirname "$0")/.."
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake --install build --prefix "$work/prefix" >/dev/null
mkdir -p "$work/consumer"
cat > "$work/consumer/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(consumer CXX)
set(CMAKE_CXX_STANDARD 20)
find_package(neurona REQUIRED)
add_executable(consumer main.cpp)
target_link_libraries(consumer PRIVATE neurona::neurona)
CMAKE
cat > "$work/consumer/main.cpp" <<'CPP'
#include <neurona/neurona.hpp>
#include <cstdio>
int main() {
  neurona::Tensor a = neurona::Tensor::from({1, 2, 3, 4}, {2, 2});
  std::printf("%g\n", neurona::sum(neurona::matmul(a, a)).item());  // 7+10+15+22 = 54
}
CPP
cmake -S "$work/consumer" -B "$work/consumer/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer/build" >/dev/null
out="$("$work/consumer/build/consumer")"
[ "$out" = "54" ] || { echo "install check: consumer printed '$out', expected 54"; exit 1; }
echo "install check: find_package(neurona) consumer built and printed 54"
