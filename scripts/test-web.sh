#!/usr/bin/env bash
# The web app's end-to-end tests: installs Debian's chromium, chromium-driver (ChromeDriver) and
# Node.js (install-deps.sh), builds the neurona command, then drives the Playground, the dashboard and
# the explorer in headless Chromium over W3C WebDriver (tests/e2e/webdriver.mjs: Node.js built-ins
# only, no npm package). Idempotent; screenshots land in docs/images/. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
for bin in "${CHROMIUM:-/usr/bin/chromium}" "${CHROMEDRIVER:-/usr/bin/chromedriver}" node; do
  command -v "$bin" >/dev/null || { echo "test-web.sh: $bin is missing (scripts/install-deps.sh installs it)"; exit 1; }
done
build="${BUILD_DIR:-build}"
[ -f "$build/CMakeCache.txt" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j"$(nproc)" --target neurona_cli
cd tests/e2e
NEURONA_BIN="$PWD/../../$build/neurona" timeout 300 node --test --test-concurrency=1 web.test.mjs
