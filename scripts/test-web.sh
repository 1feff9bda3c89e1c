#!/usr/bin/env bash
# The web app's end-to-end tests: installs Debian's chromium (install-deps.sh) and playwright-core
# (npm ci), builds the neurona command, then drives the Playground and the dashboard in headless Chromium (tests/e2e).
# Idempotent; screenshots land in docs/images/. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build="${BUILD_DIR:-build}"
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target neurona_cli
(cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error)
cd tests/e2e
NEURONA_BIN="$PWD/../../$build/neurona" timeout 300 node --test --test-concurrency=1 .
