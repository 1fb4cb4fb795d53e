#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan+UBSan) and runs each for a bounded time.
#
#   bash tests/fuzz/run.sh [SECONDS]     default 20 s per target (scripts/test.sh runs this)
#   TENURE_FUZZ_BUILD=DIR                build tree (default ~/.cache/tenure/build/fuzz-<clone>)
#
# A longer hunt: bash tests/fuzz/run.sh 3600, or run one target by hand with
#   BUILD/tests/fuzz/fuzz_url -dict=tests/fuzz/url.dict -jobs=2 NEWCORPUS tests/fuzz/corpus/url
# New inputs go to a temporary directory, never into the checked-in seed corpus; a crash
# leaves its input as crash-* in the current directory: add it to the seeds once fixed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds=${1:-20}
if ! command -v clang++ >/dev/null; then
  echo "tests/fuzz/run.sh: clang++ not found (scripts/bootstrap.sh installs clang)" >&2
  exit 2
fi
key=$(printf '%s' "$root" | sha1sum | cut -c1-10)
build=${TENURE_FUZZ_BUILD:-${TENURE_BUILD_ROOT:-$HOME/.cache/tenure/build}/$key-fuzz}
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DTENURE_BUILD_FUZZ=ON \
  -DTENURE_BUILD_TESTS=OFF -DTENURE_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build" --target fuzz_targets -j"${TENURE_JOBS:-$(nproc)}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
work=$(mktemp -d /tmp/tenure-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=()
for t in url records resp capi; do
  echo "== fuzz_$t: ${seconds} s"
  mkdir -p "$work/$t"
  if ! (cd "$work" && "$build/tests/fuzz/fuzz_$t" -max_total_time="$seconds" -print_final_stats=1 \
      -dict="$root/tests/fuzz/$t.dict" "$work/$t" "$root/tests/fuzz/corpus/$t"); then
    failed+=("fuzz_$t")
    cp "$work"/crash-* "$work"/leak-* "$work"/timeout-* . 2>/dev/null || true
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "== fuzz FAILED: ${failed[*]} (inputs copied to $(pwd))"
  exit 1
fi
echo "== fuzz: every target ran ${seconds} s without a finding"
