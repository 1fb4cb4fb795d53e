#!/usr/bin/env bash
# tenure demo: three `tenure run` candidates on the embedded file backend, the leader is killed
# with SIGKILL, a successor takes over; prints a timeline and the measured failover in ms.
#
#   bash scripts/demo.sh [BUILD_DIR]      (default: ./build; JOBS=N limits build parallelism)
#
# Installs the build dependencies (scripts/bootstrap.sh), builds the `tenure` CLI (Release),
# runs the demo in a temporary directory and removes it afterwards.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-$ROOT/build}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
export LC_ALL=C

if [ -t 1 ]; then
  say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
else
  say() { printf '==> %s\n' "$*"; }
fi

say "installing build dependencies (scripts/bootstrap.sh)"
bash "$ROOT/scripts/bootstrap.sh"

say "building the tenure CLI in $BUILD (Release)"
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  cmake -S "$ROOT" -B "$BUILD" "${gen[@]}" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" --target tenure_cli -j "$JOBS" >/dev/null
TENURE=$(find "$BUILD" -path '*/cli/tenure' -type f -perm -u+x | head -n1)
[ -x "$TENURE" ] || { echo "demo: the tenure binary was not built" >&2; exit 1; }

# ------------------------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tenure-demo.XXXXXX")
STORE="file://$WORK/store"
ELECTION=demo
JOURNAL=$WORK/journal
declare -A PID
WATCH_PID=""

cleanup() {
  local p
  for p in "${PID[@]}" $WATCH_PID; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${PID[@]}" $WATCH_PID; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now_us() { echo "${EPOCHREALTIME/[.,]/}"; }  # forks when used as $(now_us): not for stamps

# Waits up to $1 seconds for the command in "$@:2" to succeed.
wait_for() {
  local limit=$1
  shift
  local deadline=$(($(now_us) + limit * 1000000))
  until "$@"; do
    if [ "$(now_us)" -ge "$deadline" ]; then return 1; fi
    sleep 0.01
  done
}

# The job each candidate runs while it leads: a line "<unix µs> <identity> <token>" every ~50 ms,
# and "<unix µs> <identity> <token> stopped" when it gets SIGTERM.
JOB='J=$1
stamp() { echo "${EPOCHREALTIME/[.,]/} $TENURE_IDENTITY $TENURE_TOKEN$1" >> "$J"; }
trap '"'"'stamp " stopped"; exit 0'"'"' TERM
stamp
while sleep 0.05; do stamp; done'

holder() { "$TENURE" status -b "$STORE" -e "$ELECTION" --json | sed -n 's/.*"holder":"\([^"]*\)".*/\1/p'; }
journal_has_token() { awk -v t="$1" '$3 == t { found = 1 } END { exit !found }' "$JOURNAL" 2>/dev/null; }
first_us_of_token() { awk -v t="$1" '$3 == t { print $1; exit }' "$JOURNAL"; }
last_us_of_token() { awk -v t="$1" '$3 == t { last = $1 } END { print last }' "$JOURNAL"; }
elected_us() { # identity token -> µs of "elected with fencing token N" in its log
  local iso
  iso=$(grep -m1 "elected with fencing token $2\$" "$WORK/$1.log" | cut -d' ' -f1)
  [ -n "$iso" ] && echo $(($(date -d "$iso" +%s%3N) * 1000))
}

say "demo: election '$ELECTION' on $STORE, 3 candidates"
T0=${EPOCHREALTIME/[.,]/}
"$TENURE" watch -b "$STORE" -e "$ELECTION" --json >"$WORK/watch.jsonl" 2>"$WORK/watch.log" &
WATCH_PID=$!
for id in alpha bravo charlie; do
  "$TENURE" run -b "$STORE" -e "$ELECTION" -i "$id" --grace 2000 -- \
    bash -c "$JOB" job "$JOURNAL" 2>"$WORK/$id.log" &
  PID[$id]=$!
done

wait_for 10 journal_has_token 1 || { echo "demo: no leader after 10 s" >&2; cat "$WORK"/*.log >&2; exit 1; }
LEADER=$(holder)
[ -n "$LEADER" ] || { echo "demo: tenure status shows no holder" >&2; exit 1; }
echo "tenure status --json:"
echo "  $("$TENURE" status -b "$STORE" -e "$ELECTION" --json)"
sleep 0.5  # let the leader's job run for a while

# Kill the leader's `tenure run` process with SIGKILL; its job dies with it (parent-death signal).
KILL_US=${EPOCHREALTIME/[.,]/}  # no fork between the stamp and the kill
kill -9 "${PID[$LEADER]}"
wait "${PID[$LEADER]}" 2>/dev/null || true
unset "PID[$LEADER]"

wait_for 10 journal_has_token 2 || { echo "demo: no successor after 10 s" >&2; cat "$WORK"/*.log >&2; exit 1; }
SUCCESSOR=$(awk '$3 == 2 { print $2; exit }' "$JOURNAL")
sleep 0.3

# Graceful handover: SIGTERM the new leader; it stops its job, releases, the last one takes over.
TERM_US=${EPOCHREALTIME/[.,]/}
kill -TERM "${PID[$SUCCESSOR]}"
wait_for 10 journal_has_token 3 || { echo "demo: no handover after 10 s" >&2; cat "$WORK"/*.log >&2; exit 1; }
wait "${PID[$SUCCESSOR]}" 2>/dev/null || true
unset "PID[$SUCCESSOR]"
THIRD=$(awk '$3 == 3 { print $2; exit }' "$JOURNAL")
sleep 0.3
for id in "${!PID[@]}"; do kill -TERM "${PID[$id]}"; wait "${PID[$id]}" 2>/dev/null || true; unset "PID[$id]"; done
sleep 0.1
kill -TERM "$WATCH_PID"; wait "$WATCH_PID" 2>/dev/null || true; WATCH_PID=""

# ------------------------------------------------------------------------------------------------
# Timeline: every source stamped with the wall clock (µs from the jobs, ms from tenure's logs).
EVENTS=$WORK/events
: >"$EVENTS"
ev() { echo "$1 $2" >>"$EVENTS"; }
ev "$T0" "3 candidates started (alpha, bravo, charlie), and tenure watch"
ev "$(elected_us "$LEADER" 1)" "$LEADER elected, fencing token 1"
ev "$(first_us_of_token 1)" "$LEADER's job running (TENURE_TOKEN=1)"
ev "$(last_us_of_token 1)" "$LEADER's job: its last line before the kill"
ev "$KILL_US" "kill -9 $LEADER's tenure run"
ev "$(elected_us "$SUCCESSOR" 2)" "$SUCCESSOR elected, fencing token 2"
ev "$(first_us_of_token 2)" "$SUCCESSOR's job running (TENURE_TOKEN=2)"
ev "$TERM_US" "SIGTERM to $SUCCESSOR's tenure run (graceful stop)"
ev "$(last_us_of_token 2)" "$SUCCESSOR's job stopped on SIGTERM from its tenure run (which then releases)"
ev "$(elected_us "$THIRD" 3)" "$THIRD elected, fencing token 3"
ev "$(first_us_of_token 3)" "$THIRD's job running (TENURE_TOKEN=3)"
while IFS= read -r line; do
  ms=$(sed -n 's/.*"time_unix_ms":\([0-9]*\).*/\1/p' <<<"$line")
  h=$(sed -n 's/.*"holder":"\([^"]*\)".*/\1/p' <<<"$line")
  t=$(sed -n 's/.*"token":\([0-9]*\).*/\1/p' <<<"$line")
  [ -n "$ms" ] || continue
  if [ -n "$h" ]; then ev "$((ms * 1000))" "  watch: leader $h (token $t)"; else ev "$((ms * 1000))" "  watch: no leader"; fi
done <"$WORK/watch.jsonl"

echo
echo "timeline (ms since start; the jobs' lines and the kill are stamped in µs, tenure's logs"
echo "and tenure watch in ms):"
sort -n -s -k1,1 "$EVENTS" | awk -v t0="$T0" '$1 != "" { us = $1; $1 = ""; printf "  t+%8.1f ms %s\n", (us - t0) / 1000, $0 }'

# Safety check: after a newer token's first line, no line of an older token.
if awk '{ if ($3 < max) bad = 1; if ($3 > max) max = $3 } END { exit bad }' "$JOURNAL"; then
  echo "jobs never overlapped: every line after a new token's first line carries that token"
else
  echo "demo: OVERLAP: an older job wrote after a newer one started" >&2
  exit 1
fi

fo_us=$(($(first_us_of_token 2) - KILL_US))
el_ms=$(($(elected_us "$SUCCESSOR" 2) / 1000 - KILL_US / 1000))
ho_us=$(($(first_us_of_token 3) - TERM_US))
echo
printf 'handover (SIGTERM -> next job running, incl. stopping the old job): %d.%d ms\n' $((ho_us / 1000)) $((ho_us % 1000 / 100))
printf 'successor elected after kill -9: %s ms (from its log, ms resolution)\n' "$el_ms"
printf 'failover: %d ms  (kill -9 of the leader -> successor'"'"'s job running, %d.%d ms)\n' \
  $(((fo_us + 500) / 1000)) $((fo_us / 1000)) $((fo_us % 1000 / 100))
