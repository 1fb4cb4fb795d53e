#!/usr/bin/env bash
# Runs the file, Redis and PostgreSQL benchmarks of two build trees back to back, on the same
# servers and the same machine, so a refactor's before/after figures come from one run.
#
#   bash bench/compare.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [OUTDIR]
#
# Each build dir must hold bench/{file,redis,postgres}_bench and tools/tenure_elector_child
# (cmake -DCMAKE_BUILD_TYPE=Release -DTENURE_BUILD_BENCH=ON; build those targets). Servers are
# started here in a scratch state dir and stopped at the end. The two trees alternate per
# benchmark, the order swapping every round, so a change in machine load hits both alike.
# Counts are smaller than the benchmarks' defaults; set BENCH_ROUNDS for more alternations.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
before=${1:?usage: compare.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [OUTDIR]}
after=${2:?usage: compare.sh BEFORE_BUILD_DIR AFTER_BUILD_DIR [OUTDIR]}
out=${3:-$(mktemp -d /tmp/tenure-compare-XXXXXX)}
rounds=${BENCH_ROUNDS:-1}
mkdir -p "$out"

for d in "$before" "$after"; do
  for b in bench/file_bench bench/redis_bench bench/postgres_bench tools/tenure_elector_child; do
    [ -x "$d/$b" ] || { echo "compare.sh: $d/$b is missing: build it first" >&2; exit 2; }
  done
done

state=$(mktemp -d /tmp/tenure-compare-servers-XXXXXX)
cleanup() {
  for s in redis postgres; do bash "$root/tests/servers/$s.sh" stop "$state" >/dev/null 2>&1 || true; done
  rm -rf "$state"
}
trap cleanup EXIT
for s in redis postgres; do
  bash "$root/tests/servers/$s.sh" start "$state" >/dev/null
  # shellcheck disable=SC1090
  source "$state/$s.env"
done

run() {  # run LABEL BUILD_DIR NAME ARGS...
  local label=$1 dir=$2 name=$3
  shift 3
  local log="$out/$name-$label.txt"
  echo "== $name ($label: $dir), load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$log"
  "$dir/bench/$name" --holder "$dir/tools/tenure_elector_child" "$@" 2>&1 | tee -a "$log"
}

for ((i = 1; i <= rounds; i++)); do
  # The second of two back-to-back file runs was measured slower whichever build it was, so the
  # order swaps every round: before-after, then after-before.
  pairs=("before $before" "after $after")
  ((i % 2 == 1)) || pairs=("after $after" "before $before")
  for pair in "${pairs[@]}"; do
    set -- $pair
    run "$1" "$2" file_bench --acquire 100 --handover 100 --sigterm 20 --crash 40 --electors 1000 --idle-seconds 10
  done
  for pair in "${pairs[@]}"; do
    set -- $pair
    run "$1" "$2" redis_bench --url "$TENURE_TEST_REDIS_URL" --acquire 200 --handover 100 --crash 30 --electors 2000 --window 5
  done
  for pair in "${pairs[@]}"; do
    set -- $pair
    run "$1" "$2" postgres_bench "$TENURE_TEST_POSTGRES_URL" --acquire 200 --handover 100 --crash 30
  done
done
echo "== results in $out"
