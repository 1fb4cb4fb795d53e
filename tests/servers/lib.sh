# Helpers the test-server scripts (redis.sh, etcd.sh, postgres.sh) share; sourced, not run.

# free_ports N: N distinct free loopback ports on one line, from one python start (it is slow on
# a busy machine). The sockets are bound together, so the ports differ from one another.
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# make_test_certs DIR CA_NAME CLIENT_NAME [SERVER_EKU]: a test CA, a server certificate for
# 127.0.0.1/localhost and a client certificate in DIR (ca.crt, server.{crt,key},
# client.{crt,key}); nothing when DIR already holds them. SERVER_EKU, if given, is the server
# certificate's extendedKeyUsage (etcd wants serverAuth,clientAuth).
make_test_certs() {
  local d=$1 ca_name=$2 client_name=$3 server_eku=${4:-}
  [ -f "$d/client.crt" ] && return
  mkdir -p "$d"
  (
    cd "$d"
    openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 -subj "/CN=$ca_name" \
      -keyout ca.key -out ca.crt 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n' >server.ext
    [ -z "$server_eku" ] || printf 'extendedKeyUsage=%s\n' "$server_eku" >>server.ext
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=localhost" -keyout server.key \
      -out server.csr 2>/dev/null
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
      -extfile server.ext -out server.crt 2>/dev/null
    printf 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n' >client.ext
    openssl req -new -nodes -newkey rsa:2048 -subj "/CN=$client_name" -keyout client.key \
      -out client.csr 2>/dev/null
    openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 -sha256 \
      -extfile client.ext -out client.crt 2>/dev/null
    chmod 600 ./*.key
  )
}
