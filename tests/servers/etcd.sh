#!/usr/bin/env bash
# Starts real etcd 3.6 servers on loopback for tenure's etcd tests and benchmarks.
#
#   etcd.sh build               build etcd (and etcdctl, the Go helpers) into the cache only
#   etcd.sh start   STATEDIR    build if not cached, start every instance, write STATEDIR/etcd.env
#   etcd.sh restart STATEDIR    restart the single server on its port; its data (and leases) stay
#   etcd.sh stop    STATEDIR    stop every instance and delete their data dirs
#   etcd.sh status  STATEDIR    exit 0 when every instance answers /health
#   etcd.sh down|up STATEDIR    kill -9 / start only the single server (outage tests)
#   etcd.sh kill-member  STATEDIR N   kill -9 cluster member N (1..3)
#   etcd.sh start-member STATEDIR N   start member N again (it rejoins with its data dir)
#
# Instances (all on 127.0.0.1, free ports chosen at start):
#   single   one plain member                     TENURE_TEST_ETCD_URL
#   cluster  three members m1..m3                  TENURE_TEST_ETCD_CLUSTER_URL (etcd://h:p,h:p,h:p)
#   auth     one member, auth enabled, user `tenure` with a password, token TTL 3 s
#                                                  TENURE_TEST_ETCD_AUTH_URL, _USER, _PASSWORD
#   tls      one member on https, client certificates required
#                                                  TENURE_TEST_ETCDS_URL, _CA, _CLIENT_CERT, _CLIENT_KEY
#
# etcd is built from the Go module go.etcd.io/etcd/server/v3 through a wrapper module (its own
# go.mod has replace directives, so `go install pkg@version` is refused) and cached outside the
# clone in ~/.cache/tenure/etcd-VERSION/ (TENURE_CACHE overrides ~/.cache/tenure). The Go programs
# of tests/etcd/interop (an elector on etcd's own concurrency.Election) are built there too.
set -euo pipefail
# shellcheck source=tests/servers/lib.sh
. "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/lib.sh"

ETCD_VERSION=${TENURE_ETCD_VERSION:-v3.6.16}
cache_root=${TENURE_CACHE:-$HOME/.cache/tenure}
bindir=$cache_root/etcd-${ETCD_VERSION#v}
self=$(readlink -f "$0")
root=$(cd "$(dirname "$self")/../.." && pwd)

usage() {
  echo "usage: $0 build | start|restart|stop|status|down|up STATEDIR | kill-member|start-member STATEDIR N" >&2
  exit 2
}
cmd=${1:-}
[ -n "$cmd" ] || usage

# etcd 3.6 needs Go 1.24 or newer; Debian 12's golang-go is 1.19, so Go comes from go.dev.
install_go() {
  if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then export PATH=$PATH:/usr/local/go/bin; fi
  local v
  v=$(go env GOVERSION 2>/dev/null || true)
  case "$v" in
    go1.2[4-9]* | go1.[3-9][0-9]* | go[2-9]*) return ;;
  esac
  echo "etcd.sh: etcd $ETCD_VERSION is built from its Go module and needs Go >= 1.24 (found: '${v:-none}');" \
    "install Go from https://go.dev/dl into /usr/local/go (Debian 12's golang-go 1.19 is too old)" >&2
  exit 1
}

# The wrapper module pins the server version; `go get -tool` records it as a tool dependency so
# `go build` of the server's main package resolves against the wrapper's go.mod.
build_etcd() {
  if [ -x "$bindir/etcd" ] && [ -x "$bindir/etcdctl" ]; then return; fi
  install_go
  local t0=$SECONDS w=$bindir/wrapper
  mkdir -p "$w"
  echo "etcd.sh: building etcd $ETCD_VERSION into $bindir (first time only)" >&2
  (
    cd "$w"
    [ -f go.mod ] || go mod init local/etcdbuild >/dev/null 2>&1
    go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "go.etcd.io/etcd/etcdctl/v3@$ETCD_VERSION" >&2
    nice go build -trimpath -o "$bindir/etcd.tmp" go.etcd.io/etcd/server/v3
    mv "$bindir/etcd.tmp" "$bindir/etcd"
    nice go build -trimpath -o "$bindir/etcdctl.tmp" go.etcd.io/etcd/etcdctl/v3
    mv "$bindir/etcdctl.tmp" "$bindir/etcdctl"
  )
  echo "etcd.sh: built etcd $ETCD_VERSION in $((SECONDS - t0)) s" >&2
}

# tests/etcd/interop holds small Go programs on go.etcd.io/etcd/client/v3; built into the cache,
# keyed by the version and a hash of their sources, so an edit rebuilds them.
build_go_tools() {
  local src=$root/tests/etcd/interop
  [ -f "$src/go.mod" ] || return 0
  install_go
  local h
  h=$(cat "$src"/go.mod "$src"/go.sum "$src"/*.go 2>/dev/null | sha1sum | cut -c1-12)
  gotools=$bindir/interop-$h
  if [ -x "$gotools/etcd_elect" ]; then return; fi
  local t0=$SECONDS
  mkdir -p "$gotools"
  (cd "$src" && nice go build -trimpath -o "$gotools/etcd_elect.tmp" . && mv "$gotools/etcd_elect.tmp" "$gotools/etcd_elect")
  echo "etcd.sh: built the Go election helper in $((SECONDS - t0)) s" >&2
}

if [ "$cmd" = build ]; then
  build_etcd
  build_go_tools
  exit 0
fi

state=${2:-}
[ -n "$state" ] || usage
mkdir -p "$state"
state=$(readlink -f "$state")

make_certs() { make_test_certs "$state/tls" "tenure etcd test CA" tenure-test-client serverAuth,clientAuth; }

load_ports() {
  if [ ! -f "$state/etcd.ports" ]; then
    echo "etcd.sh: $state/etcd.ports missing: run '$0 start $state' first" >&2
    exit 1
  fi
  # shellcheck disable=SC1091
  . "$state/etcd.ports"
}

# launch NAME CLIENTPORT PEERPORT INITIAL_CLUSTER [extra flags...]: starts one member in the
# background; its data dir, log and pid file live in STATEDIR/NAME.
launch() {
  local name=$1 cport=$2 pport=$3 initial=$4 scheme=http
  shift 4
  local extra=("$@")
  for a in "${extra[@]}"; do [ "$a" = --client-cert-auth ] && scheme=https; done
  local d=$state/$name
  mkdir -p "$d"
  local cstate=new token=tenure-$name
  case "$name" in m[123]) token=tenure-cluster ;; esac
  [ -d "$d/data/member" ] && cstate=existing
  # setsid: a member is its own process group, so a test's signals never reach it by accident.
  setsid "$bindir/etcd" --name "$name" --data-dir "$d/data" \
    --listen-client-urls "$scheme://127.0.0.1:$cport" --advertise-client-urls "$scheme://127.0.0.1:$cport" \
    --listen-peer-urls "http://127.0.0.1:$pport" --initial-advertise-peer-urls "http://127.0.0.1:$pport" \
    --initial-cluster "$initial" --initial-cluster-state "$cstate" \
    --initial-cluster-token "$token" --unsafe-no-fsync --log-level warn \
    --heartbeat-interval 50 --election-timeout 500 "${extra[@]}" \
    >"$d/etcd.log" 2>&1 </dev/null &
  echo $! >"$d/etcd.pid"
}

curl_tls() { curl -s --cacert "$state/tls/ca.crt" --cert "$state/tls/client.crt" --key "$state/tls/client.key" "$@"; }

wait_health() {  # port [tls]
  local i url=http://127.0.0.1:$1/health
  for i in $(seq 1 200); do
    if [ "${2:-}" = tls ]; then
      curl_tls -m 1 "https://127.0.0.1:$1/health" 2>/dev/null | grep -q '"health":"true"' && return 0
    else
      curl -s -m 1 "$url" 2>/dev/null | grep -q '"health":"true"' && return 0
    fi
    sleep 0.1
  done
  echo "etcd.sh: etcd on port $1 is not healthy; see $state/*/etcd.log" >&2
  return 1
}

kill_member() {  # NAME [signal]
  local pidfile=$state/$1/etcd.pid pid
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  local i
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

cluster_spec() {
  echo "m1=http://127.0.0.1:$M1_PEER,m2=http://127.0.0.1:$M2_PEER,m3=http://127.0.0.1:$M3_PEER"
}
start_single() { launch single "$SINGLE" "$SINGLE_PEER" "single=http://127.0.0.1:$SINGLE_PEER"; }
start_member() {  # N
  local c p
  eval "c=\$M$1; p=\$M${1}_PEER"
  launch "m$1" "$c" "$p" "$(cluster_spec)"
}
start_auth() {
  launch auth "$AUTH" "$AUTH_PEER" "auth=http://127.0.0.1:$AUTH_PEER" --auth-token "simple" \
    --auth-token-ttl 3
}
start_tls() {
  launch tls "$TLS" "$TLS_PEER" "tls=http://127.0.0.1:$TLS_PEER" --client-cert-auth \
    --trusted-ca-file "$state/tls/ca.crt" --cert-file "$state/tls/server.crt" \
    --key-file "$state/tls/server.key"
}

# Auth through the JSON gateway itself: root (needed to enable auth) and `tenure` with the root
# role's rights on every key (the backend needs leases, txns and watches).
setup_auth() {
  local u=http://127.0.0.1:$AUTH/v3/auth
  [ -f "$state/auth/.configured" ] && return
  curl -sf -X POST "$u/user/add" -d "{\"name\":\"root\",\"password\":\"$ROOT_PASSWORD\"}" >/dev/null
  curl -sf -X POST "$u/user/grant" -d '{"user":"root","role":"root"}' >/dev/null
  curl -sf -X POST "$u/user/add" -d "{\"name\":\"tenure\",\"password\":\"$USER_PASSWORD\"}" >/dev/null
  curl -sf -X POST "$u/user/grant" -d '{"user":"tenure","role":"root"}' >/dev/null
  curl -sf -X POST "$u/enable" -d '{}' >/dev/null
  touch "$state/auth/.configured"
}

write_env() {
  local tools=""
  [ -n "${gotools:-}" ] && tools=$gotools/etcd_elect
  cat >"$state/etcd.env" <<EOF
export TENURE_TEST_ETCD_URL=etcd://127.0.0.1:$SINGLE
export TENURE_TEST_ETCD_CLUSTER_URL=etcd://127.0.0.1:$M1,127.0.0.1:$M2,127.0.0.1:$M3
export TENURE_TEST_ETCD_AUTH_URL=etcd://127.0.0.1:$AUTH
export TENURE_TEST_ETCD_USER=tenure
export TENURE_TEST_ETCD_PASSWORD=$USER_PASSWORD
export TENURE_TEST_ETCDS_URL=etcds://127.0.0.1:$TLS
export TENURE_TEST_ETCD_CA=$state/tls/ca.crt
export TENURE_TEST_ETCD_CLIENT_CERT=$state/tls/client.crt
export TENURE_TEST_ETCD_CLIENT_KEY=$state/tls/client.key
export TENURE_TEST_ETCD_PIDFILE=$state/single/etcd.pid
export TENURE_TEST_ETCD_MEMBER_PORTS="$M1 $M2 $M3"
export TENURE_TEST_ETCD_PEER_PORT=$SINGLE_PEER
export TENURE_TEST_ETCD_RESTART="bash $self restart $state"
export TENURE_TEST_ETCD_CTL="bash $self"
export TENURE_TEST_ETCD_STATE=$state
export TENURE_TEST_ETCDCTL=$bindir/etcdctl
export TENURE_TEST_ETCD_GO_ELECT=$tools
EOF
}

case "$cmd" in
  start)
    build_etcd
    build_go_tools
    make_certs
    if [ -f "$state/etcd.ports" ]; then
      load_ports
      if curl -s -m 1 "http://127.0.0.1:$SINGLE/health" | grep -q '"health":"true"'; then
        echo "etcd.sh: already running (single on $SINGLE)" >&2
        write_env
        exit 0
      fi
    else
      read -r -a ports <<<"$(free_ports 12)"
      pw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
      rpw=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
      cat >"$state/etcd.ports" <<EOF
SINGLE=${ports[0]}
SINGLE_PEER=${ports[1]}
M1=${ports[2]}
M1_PEER=${ports[3]}
M2=${ports[4]}
M2_PEER=${ports[5]}
M3=${ports[6]}
M3_PEER=${ports[7]}
AUTH=${ports[8]}
AUTH_PEER=${ports[9]}
TLS=${ports[10]}
TLS_PEER=${ports[11]}
USER_PASSWORD=$pw
ROOT_PASSWORD=$rpw
EOF
      load_ports
    fi
    t0=$(date +%s.%N)
    start_single
    for n in 1 2 3; do start_member $n; done
    start_auth
    start_tls
    wait_health "$SINGLE"
    for n in 1 2 3; do eval "wait_health \$M$n"; done
    wait_health "$AUTH"
    wait_health "$TLS" tls
    setup_auth
    write_env
    printf 'etcd.sh: etcd %s up in %.1f s: single %s, cluster %s,%s,%s, auth %s, tls %s; source %s/etcd.env\n' \
      "$ETCD_VERSION" "$(echo "$(date +%s.%N) - $t0" | bc)" "$SINGLE" "$M1" "$M2" "$M3" "$AUTH" "$TLS" "$state" >&2
    ;;
  restart)
    load_ports
    kill_member single TERM
    start_single
    wait_health "$SINGLE"
    ;;
  down)
    load_ports
    kill_member single KILL
    ;;
  up)
    load_ports
    start_single
    wait_health "$SINGLE"
    ;;
  kill-member)
    load_ports
    n=${3:-}
    case "$n" in 1 | 2 | 3) ;; *) usage ;; esac
    kill_member "m$n" KILL
    ;;
  start-member)
    load_ports
    n=${3:-}
    case "$n" in 1 | 2 | 3) ;; *) usage ;; esac
    start_member "$n"
    eval "wait_health \$M$n"
    ;;
  stop)
    load_ports
    for m in single m1 m2 m3 auth tls; do kill_member "$m" TERM; done
    # The next start picks new ports, which a member's data dir (its peer URLs) would contradict.
    for m in single m1 m2 m3 auth tls; do rm -rf "${state:?}/$m"; done
    rm -f "$state/etcd.ports"
    ;;
  status)
    load_ports
    wait_health "$SINGLE" && wait_health "$M1" && wait_health "$M2" && wait_health "$M3" &&
      wait_health "$AUTH" && wait_health "$TLS" tls
    ;;
  *) usage ;;
esac
