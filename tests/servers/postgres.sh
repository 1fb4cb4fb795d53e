#!/usr/bin/env bash
# Starts a throw-away PostgreSQL 15 cluster on loopback for tenure's tests and benchmarks.
#
#   postgres.sh start   STATEDIR   install (Debian) if missing, initdb, start, create roles; writes
#                                  STATEDIR/postgres.env (source it)
#   postgres.sh restart STATEDIR   fast restart on the same port (tests use it mid-leadership)
#   postgres.sh stop    STATEDIR   fast stop (data stays in STATEDIR; delete it yourself)
#
# Also starts pgbouncer (Debian) in front of it in *transaction* pooling mode, so the tests can check
# that session mode refuses a transaction pooler (TENURE_TEST_PGBOUNCER_URL).
#
# TLS is on (self-signed, CA in TENURE_TEST_POSTGRES_CA); libpq's default sslmode=prefer uses it.
# Roles: `tenure` (owns database `tenure`, may create tables) and `tenure_nocreate` (may connect and
# use the schema, may not create anything). Both log in with a password (scram-sha-256 over TCP).
# The system service is never started; the cluster listens on 127.0.0.1 only.
# TENURE_PG_MAX_CONNECTIONS (default 300) sets max_connections, for tests of the server's limit.
set -euo pipefail
# shellcheck source=tests/servers/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

usage() { echo "usage: $0 start|restart|stop STATEDIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
cmd=$1
state=$2
PGBIN=/usr/lib/postgresql/15/bin

install_if_missing() {
  if [ -x "$PGBIN/postgres" ] && [ -x "$PGBIN/initdb" ] && command -v psql >/dev/null &&
    command -v pgbouncer >/dev/null && command -v openssl >/dev/null; then
    return
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  # Keep the package's post-install from starting the system service.
  local made_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends postgresql-15 postgresql-client-15 pgbouncer openssl
  [ $made_policy -eq 0 ] || $sudo rm -f /usr/sbin/policy-rc.d
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    sudo -u postgres -- "$@"
  fi
}

start() {
  install_if_missing
  mkdir -p "$state"
  state=$(cd "$state" && pwd)
  chmod 755 "$state"
  local data=$state/data sock=$state/sock
  if [ -f "$state/postgres.env" ] && [ -f "$data/postmaster.pid" ] &&
    as_pg "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    echo "postgres already running (source $state/postgres.env)"
    return
  fi
  rm -rf "$data" "$sock"
  mkdir -p "$data" "$sock"
  chown postgres:postgres "$data" "$sock"
  chmod 700 "$data"
  as_pg "$PGBIN/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 ||
    { cat "$state/initdb.log" >&2; exit 1; }
  # TLS with a self-signed certificate for 127.0.0.1 (tests use sslmode=verify-full with it).
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=127.0.0.1" \
    -addext "subjectAltName=IP:127.0.0.1" -keyout "$state/server.key" -out "$state/server.crt" \
    >/dev/null 2>&1
  cp "$state/server.crt" "$state/ca.crt"
  chown postgres:postgres "$state/server.key" "$state/server.crt"
  chmod 600 "$state/server.key"
  local port
  port=$(free_ports 1)
  # Every statement commits durably (fsync on), as in production: bench numbers stay honest.
  as_pg "$PGBIN/pg_ctl" -D "$data" -l "$data/log" -w -t 60 \
    -o "-p $port -c listen_addresses=127.0.0.1 -k $sock -c max_connections=${TENURE_PG_MAX_CONNECTIONS:-300} -c ssl=on -c ssl_cert_file=$state/server.crt -c ssl_key_file=$state/server.key" start >/dev/null
  local i
  for i in $(seq 1 100); do
    as_pg "$PGBIN/pg_isready" -h 127.0.0.1 -p "$port" -q && break
    sleep 0.1
  done
  local pw pw2
  pw=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  pw2=$(python3 -c 'import secrets; print(secrets.token_hex(12))')
  as_pg psql -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d postgres <<SQL
CREATE ROLE tenure LOGIN PASSWORD '$pw';
CREATE DATABASE tenure OWNER tenure;
CREATE ROLE tenure_nocreate LOGIN PASSWORD '$pw2';
GRANT CONNECT ON DATABASE tenure TO tenure_nocreate;
SQL
  # PostgreSQL 15: only the database owner may create in schema public; make sure of it.
  as_pg psql -q -v ON_ERROR_STOP=1 -h "$sock" -p "$port" -U postgres -d tenure <<SQL
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO tenure_nocreate;
SQL
  # pgbouncer, transaction pooling, in front of the same database.
  local bdir=$state/pgbouncer bport
  bport=$(free_ports 1)
  mkdir -p "$bdir"
  cat >"$bdir/pgbouncer.ini" <<INI
[databases]
tenure = host=127.0.0.1 port=$port dbname=tenure
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir = $bdir
auth_type = scram-sha-256
auth_file = $bdir/userlist.txt
pool_mode = transaction
max_client_conn = 500
default_pool_size = 10
logfile = $bdir/pgbouncer.log
pidfile = $bdir/pgbouncer.pid
INI
  printf '"tenure" "%s"\n' "$pw" >"$bdir/userlist.txt"
  chown -R postgres:postgres "$bdir"
  chmod 600 "$bdir/userlist.txt"
  as_pg pgbouncer -d -q "$bdir/pgbouncer.ini"
  local self
  self=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
  umask 077
  cat >"$state/postgres.env" <<ENV
export TENURE_TEST_POSTGRES_URL=postgres://tenure:$pw@127.0.0.1:$port/tenure
export TENURE_TEST_POSTGRES_NOCREATE_URL=postgres://tenure_nocreate:$pw2@127.0.0.1:$port/tenure
export TENURE_TEST_POSTGRES_PORT=$port
export TENURE_TEST_POSTGRES_CA=$state/ca.crt
export TENURE_TEST_PGBOUNCER_URL=postgres://tenure:$pw@127.0.0.1:$bport/tenure
export TENURE_TEST_POSTGRES_DATADIR=$data
export TENURE_TEST_POSTGRES_SOCKETDIR=$sock
export TENURE_TEST_POSTGRES_LOG=$data/log
export TENURE_TEST_POSTGRES_CTL=$self
export TENURE_TEST_POSTGRES_RESTART="$self restart $state"
ENV
  echo "postgres 15 on 127.0.0.1:$port; source $state/postgres.env"
}

restart() {
  state=$(cd "$state" && pwd)
  as_pg "$PGBIN/pg_ctl" -D "$state/data" -m fast -w -t 60 restart -l "$state/data/log" >/dev/null
}

stop() {
  [ -d "$state/data" ] || return 0
  state=$(cd "$state" && pwd)
  if [ -f "$state/pgbouncer/pgbouncer.pid" ]; then
    kill "$(cat "$state/pgbouncer/pgbouncer.pid")" 2>/dev/null || true
  fi
  as_pg "$PGBIN/pg_ctl" -D "$state/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
}

case "$cmd" in
  start) start ;;
  restart) restart ;;
  stop) stop ;;
  *) usage ;;
esac
