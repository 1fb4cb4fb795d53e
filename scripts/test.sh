#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs build dependencies and test servers, starts
# every server on loopback, then builds and runs all tests three times: plain, under
# AddressSanitizer+UBSan, and under ThreadSanitizer; builds the Python wheel, repairs it with
# auditwheel and runs the Python suite from a fresh virtual environment (python/build_wheel.sh);
# then runs each libFuzzer target for 20 s (tests/fuzz/run.sh, clang). Exits non-zero on any
# failure.
#
#   bash scripts/test.sh                 all five stages
#   bash scripts/test.sh plain python    only some: plain, python, asan, tsan, fuzz
#
# Build trees live outside the clone (TENURE_BUILD_ROOT, default ~/.cache/tenure/build) and
# compiler output is cached by ccache, so a second run is fast.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Wall time of every stage, printed as it ends and again at the end, so the CI budget (90 min,
# aim: 60 on a fresh machine) stays visible as servers and bindings arrive.
stage_names=()
stage_secs=()
stage_t0=$SECONDS
stage_done() {
  local secs=$((SECONDS - stage_t0))
  stage_names+=("$1")
  stage_secs+=("$secs")
  echo "== stage '$1' took ${secs} s"
  stage_t0=$SECONDS
}
stage_summary() {
  echo "== wall time per stage:"
  for i in "${!stage_names[@]}"; do printf '   %-28s %5d s\n' "${stage_names[$i]}" "${stage_secs[$i]}"; done
  printf '   %-28s %5d s\n' total "$SECONDS"
}

bash "$root/scripts/bootstrap.sh"
stage_done bootstrap

variants=("$@")
[ ${#variants[@]} -gt 0 ] || variants=(plain python asan tsan fuzz)
build_root=${TENURE_BUILD_ROOT:-$HOME/.cache/tenure/build}
key=$(printf '%s' "$root" | sha1sum | cut -c1-10)  # one tree per clone path

state=$(mktemp -d /tmp/tenure-servers-XXXXXX)
servers=(redis postgres etcd)
cleanup() {
  for s in "${servers[@]}"; do bash "$root/tests/servers/$s.sh" stop "$state" >/dev/null 2>&1 || true; done
  rm -rf "$state"
}
trap cleanup EXIT
for s in "${servers[@]}"; do
  echo "== starting $s"
  bash "$root/tests/servers/$s.sh" start "$state"
  # shellcheck disable=SC1090
  source "$state/$s.env"
  stage_done "server $s"
done

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp:print_suppressions=0}

failed=()
failed_tests=()
for v in "${variants[@]}"; do
  if [ "$v" = fuzz ]; then
    # Its own clang build tree; a bounded run so a regression in a parser is caught.
    echo "== fuzz: building and running the libFuzzer targets"
    bash "$root/tests/fuzz/run.sh" "${TENURE_FUZZ_SECONDS:-20}" || failed+=("fuzz")
    stage_done "fuzz build and runs"
    continue
  fi
  if [ "$v" = python ]; then
    # The `tenure run` CLI for the interop test comes from the plain tree (built here if the
    # plain stage did not run); the wheel has a build tree of its own.
    dir="$build_root/$key-plain"
    cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTENURE_SANITIZE= \
      -DTENURE_BUILD_BENCH=ON "${launcher[@]}" >/dev/null
    cmake --build "$dir" -j"$(nproc)" --target tenure_cli
    echo "== python: wheel, auditwheel repair, fresh venv, pytest"
    TENURE_CLI="$dir/cli/tenure" TENURE_PY_WORK="$build_root/$key-python" TENURE_PY_JOBS="$(nproc)" \
      bash "$root/python/build_wheel.sh" --test || failed+=("python")
    stage_done "python"
    continue
  fi
  case $v in
    plain) sanitize="" ;;
    asan) sanitize=address ;;
    tsan) sanitize=thread ;;
    *) echo "unknown variant '$v' (plain, python, asan, tsan, fuzz)" >&2; exit 2 ;;
  esac
  dir="$build_root/$key-$v"
  echo "== $v: building in $dir"
  # The plain variant also compiles the benchmarks, so they cannot rot unseen (they do not run).
  bench=OFF
  [ "$v" = plain ] && bench=ON
  cmake -S "$root" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DTENURE_SANITIZE="$sanitize" -DTENURE_BUILD_BENCH="$bench" "${launcher[@]}" >/dev/null
  cmake --build "$dir" -j"$(nproc)"
  stage_done "$v build"
  echo "== $v: running tests"
  if ! ctest --test-dir "$dir" --output-on-failure --timeout 600 -j2; then
    failed+=("$v")
    # Named again at the very end: CI keeps only the tail of the log.
    log="$dir/Testing/Temporary/LastTestsFailed.log"
    [ -f "$log" ] && while read -r line; do failed_tests+=("$v: ${line#*:}"); done <"$log"
  fi
  stage_done "$v tests"
done

stage_summary

if [ ${#failed[@]} -gt 0 ]; then
  for t in "${failed_tests[@]}"; do echo "== failed test: $t"; done
  echo "== FAILED variants: ${failed[*]}"
  exit 1
fi
echo "== all variants passed: ${variants[*]}"
