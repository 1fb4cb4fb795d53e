#!/usr/bin/env bash
# Starts real redis-server instances on loopback for the tests, without the system service:
# one plain and one TLS instance (test CA and certificates made here with openssl).
#
#   redis.sh start STATEDIR    install redis-server if missing, start both, write STATEDIR/redis.env
#   redis.sh restart STATEDIR  stop and start both on the same ports (data is not kept)
#   redis.sh stop STATEDIR     stop both
#   redis.sh status STATEDIR   exit 0 when both answer PING
#   redis.sh down|up STATEDIR  stop / start only the plain instance (outage tests)
#
# STATEDIR/redis.env (source it before running the tests):
#   TENURE_TEST_REDIS_URL=redis://127.0.0.1:PORT      TENURE_TEST_REDISS_URL=rediss://127.0.0.1:TLSPORT
#   TENURE_TEST_REDIS_CA, TENURE_TEST_REDIS_CLIENT_CERT, TENURE_TEST_REDIS_CLIENT_KEY
#   TENURE_TEST_REDIS_PORT, TENURE_TEST_REDIS_TLS_PORT, TENURE_TEST_REDIS_PIDFILE
#   TENURE_TEST_REDIS_RESTART="bash /abs/redis.sh restart /abs/STATEDIR"
set -euo pipefail
# shellcheck source=tests/servers/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

cmd=${1:-}
state=${2:-}
if [ -z "$cmd" ] || [ -z "$state" ]; then
  echo "usage: $0 start|restart|stop|status|down|up STATEDIR" >&2
  exit 2
fi
self=$(readlink -f "$0")
mkdir -p "$state"
state=$(readlink -f "$state")

install_redis() {
  if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then return; fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "redis.sh: installing redis-server from Debian" >&2
  # policy-rc.d keeps the package from starting the system service while it installs.
  local prc=/usr/sbin/policy-rc.d made_prc=0
  if [ ! -e "$prc" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$prc" >/dev/null
    $sudo chmod +x "$prc"
    made_prc=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends redis-server redis-tools >/dev/null
  [ "$made_prc" -eq 0 ] || $sudo rm -f "$prc"
}

make_certs() { make_test_certs "$state/tls" "tenure test CA" "tenure test client"; }

wait_ping() {  # port [tls]
  local i
  for i in $(seq 1 100); do
    if [ "${2:-}" = tls ]; then
      redis-cli -h 127.0.0.1 -p "$1" --tls --cacert "$state/tls/ca.crt" ping 2>/dev/null | grep -q PONG && return 0
    else
      redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG && return 0
    fi
    sleep 0.1
  done
  echo "redis.sh: redis on port $1 did not answer PING; see $state/*.log" >&2
  return 1
}

start_plain() {
  mkdir -p "$state/plain"
  redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$state/plain" \
    --daemonize yes --pidfile "$state/plain/redis.pid" --logfile "$state/plain/redis.log" \
    --notify-keyspace-events '' >/dev/null
  wait_ping "$PORT"
}

start_tls() {
  mkdir -p "$state/tlsdata"
  redis-server --port 0 --tls-port "$TLSPORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$state/tlsdata" --daemonize yes --pidfile "$state/tlsdata/redis.pid" \
    --logfile "$state/tlsdata/redis.log" --tls-cert-file "$state/tls/server.crt" \
    --tls-key-file "$state/tls/server.key" --tls-ca-cert-file "$state/tls/ca.crt" \
    --tls-auth-clients optional >/dev/null
  wait_ping "$TLSPORT" tls
}

stop_one() {  # pidfile port [tls]
  local pidfile=$1 port=$2 pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ "${3:-}" = tls ]; then
    redis-cli -h 127.0.0.1 -p "$port" --tls --cacert "$state/tls/ca.crt" shutdown nosave \
      >/dev/null 2>&1 || true
  else
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  fi
  if [ -n "$pid" ]; then
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$pidfile"
}

write_env() {
  cat >"$state/redis.env" <<EOF
export TENURE_TEST_REDIS_URL=redis://127.0.0.1:$PORT
export TENURE_TEST_REDISS_URL=rediss://127.0.0.1:$TLSPORT
export TENURE_TEST_REDIS_CA=$state/tls/ca.crt
export TENURE_TEST_REDIS_CLIENT_CERT=$state/tls/client.crt
export TENURE_TEST_REDIS_CLIENT_KEY=$state/tls/client.key
export TENURE_TEST_REDIS_PORT=$PORT
export TENURE_TEST_REDIS_TLS_PORT=$TLSPORT
export TENURE_TEST_REDIS_PIDFILE=$state/plain/redis.pid
export TENURE_TEST_REDIS_RESTART="bash $self restart $state"
export TENURE_TEST_REDIS_CTL="bash $self"
export TENURE_TEST_REDIS_STATE=$state
EOF
}

load_ports() {
  if [ ! -f "$state/ports" ]; then
    echo "redis.sh: $state/ports missing: run '$0 start $state' first" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$state/ports"
}

case "$cmd" in
  start)
    install_redis
    make_certs
    if [ -f "$state/ports" ]; then
      . "$state/ports"
      if redis-cli -h 127.0.0.1 -p "$PORT" ping 2>/dev/null | grep -q PONG; then
        echo "redis.sh: already running on $PORT (tls $TLSPORT)" >&2
        write_env
        exit 0
      fi
    fi
    read -r PORT TLSPORT <<<"$(free_ports 2)"
    printf 'PORT=%s\nTLSPORT=%s\n' "$PORT" "$TLSPORT" >"$state/ports"
    start_plain
    start_tls
    write_env
    echo "redis.sh: redis on 127.0.0.1:$PORT, TLS on 127.0.0.1:$TLSPORT; source $state/redis.env" >&2
    ;;
  restart)
    load_ports
    stop_one "$state/plain/redis.pid" "$PORT"
    stop_one "$state/tlsdata/redis.pid" "$TLSPORT" tls
    start_plain
    start_tls
    ;;
  down)  # stop only the plain instance (outage tests); 'up' starts it again on the same port
    load_ports
    stop_one "$state/plain/redis.pid" "$PORT"
    ;;
  up)
    load_ports
    start_plain
    ;;
  stop)
    load_ports
    stop_one "$state/plain/redis.pid" "$PORT"
    stop_one "$state/tlsdata/redis.pid" "$TLSPORT" tls
    rm -f "$state/ports"
    ;;
  status)
    load_ports
    wait_ping "$PORT" && wait_ping "$TLSPORT" tls
    ;;
  *)
    echo "usage: $0 start|restart|stop|status|down|up STATEDIR" >&2
    exit 2
    ;;
esac
