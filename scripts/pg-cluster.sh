#!/usr/bin/env bash
# A throw-away PostgreSQL cluster with ssl=on, for trying pg over rustls-tls
# by hand (__test__/postgres.test.js makes its own the same way).
#
#   scripts/pg-cluster.sh start [DIR]   # prints PGPORT and the folder; default DIR: mktemp -d
#   scripts/pg-cluster.sh stop DIR      # stops the server and removes DIR
#
# The server certificate is __test__/fixtures/rsa-cert.pem (SAN localhost,
# 127.0.0.1), so a client trusts it with ca: __test__/fixtures/ca-cert.pem.
# Authentication is `trust`, TLS only (hostssl) on 127.0.0.1, user postgres.
# As root, the cluster belongs to the `postgres` user (initdb refuses root).
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
fixtures="$here/__test__/fixtures"

pgbin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$d" ] || [ ! -x "$d/initdb" ]; then
    echo "PostgreSQL not found in /usr/lib/postgresql/*/bin: apt-get install postgresql" >&2
    exit 1
  fi
  echo "$d"
}

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

free_port() {
  node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

cmd="${1:-}"
case "$cmd" in
  start)
    bin="$(pgbin)"
    dir="${2:-$(mktemp -d /tmp/rustls-tls-pg-XXXXXX)}"
    mkdir -p "$dir"
    chmod 700 "$dir"
    install -m 644 "$fixtures/rsa-cert.pem" "$dir/server.crt"
    install -m 600 "$fixtures/rsa-key.pem" "$dir/server.key"
    if [ "$(id -u)" = 0 ]; then chown -R postgres:postgres "$dir"; fi
    as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C --no-sync >/dev/null
    port="$(free_port)"
    cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
ssl = on
ssl_cert_file = '$dir/server.crt'
ssl_key_file = '$dir/server.key'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
    printf '%s\n' 'local all all trust' 'hostssl all all 127.0.0.1/32 trust' \
      'hostnossl all all 127.0.0.1/32 reject' >"$dir/data/pg_hba.conf"
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 start >/dev/null
    echo "PGPORT=$port"
    echo "DIR=$dir"
    ;;
  stop)
    dir="${2:?usage: $0 stop DIR}"
    bin="$(pgbin)"
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start [DIR] | stop DIR" >&2
    exit 2
    ;;
esac
