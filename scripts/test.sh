#!/usr/bin/env bash
# Installs the dependencies, then builds and runs the whole test suite twice: in Release, and
# under AddressSanitizer + UndefinedBehaviorSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs")

cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNEURONA_SANITIZE=ON -DNEURONA_BUILD_BENCH=OFF \
  -DNEURONA_BUILD_EXAMPLES=OFF -DCMAKE_CXX_FLAGS="-O1"
cmake --build build-asan -j"$jobs"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j"$jobs")

bash scripts/check-install.sh

# The web app in a real browser (headless Chromium driven by playwright-core).
bash scripts/test-web.sh
