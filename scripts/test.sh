#!/usr/bin/env bash
# Installs the dependencies, then builds and runs the whole test suite twice: in Release (g++), and
# under AddressSanitizer + UndefinedBehaviorSanitizer (clang), where the fuzz targets run too.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs="$(nproc)"

# Two full builds (Release and sanitized Debug) are most of the run's time: ccache keeps the object
# files of earlier runs, so a run rebuilds only what changed. Paths are hashed relative to the
# checkout (base dir, no cwd in the hash) so a fresh clone elsewhere reuses them; a cold cache
# only costs the full build.
launcher=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi

# The code is formatted by .clang-format; a file that is not fails the run (fix: clang-format -i FILE).
git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "${launcher[@]}"
cmake --build build -j"$jobs"
# A test that skips hides a missing install step: in CI (CI=true) a skipped test fails the run.
run_ctest() {  # build dir, then environment assignments for ctest
  local dir=$1; shift
  (cd "$dir" && env "$@" ctest --output-on-failure -j"$jobs") | tee "$dir/ctest.log"
  if [ "${CI:-}" = true ] && grep -q '(Skipped)' "$dir/ctest.log"; then
    echo "test.sh: tests were skipped in $dir (see above); every test must run in CI"; return 1
  fi
}
run_ctest build

# The sanitized build is clang's, because it also builds the libFuzzer targets of fuzz/: the suite
# runs again under AddressSanitizer + UBSan, then every reader of user input replays its seed
# corpus and is fuzzed for a few seconds (scripts/fuzz.sh; `bash scripts/fuzz.sh 600` is the long run).
CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DNEURONA_FUZZ=ON \
  -DNEURONA_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="-O1" "${launcher[@]}"
cmake --build build-asan -j"$jobs"
run_ctest build-asan ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
bash scripts/fuzz.sh

bash scripts/check-install.sh

# The web app in a real browser (headless Chromium driven over WebDriver by Debian's ChromeDriver).
bash scripts/test-web.sh
