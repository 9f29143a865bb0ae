#!/usr/bin/env bash
# A throw-away PostgreSQL cluster on loopback for the tests.
#   scripts/postgres.sh start DIR   prints the database URL; the server's PID is in DIR/pid
#   scripts/postgres.sh stop DIR    stops that server by its PID and removes DIR
# Runs the server as the `postgres` user when started as root (initdb refuses
# root), so DIR must be reachable by that user (a fresh path under /tmp is).
set -euo pipefail
cmd=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "postgres.sh: no PostgreSQL server installed (Debian's postgresql package)" >&2; exit 1; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null
  head -1 "$dir/data/postmaster.pid" >"$dir/pid"
  as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres bench
  echo "postgres://postgres@127.0.0.1:$port/bench"
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill -INT "$pid" 2>/dev/null || true   # fast shutdown
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$dir"
  ;;
esac
