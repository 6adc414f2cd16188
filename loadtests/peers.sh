#!/usr/bin/env bash
# The peer benchmark in one command: ForgeOne (a node in its own process, driven through the
# actor client), PostgreSQL 15, SQLite and raw LMDB ingest the same log entries on this machine.
#
#   loadtests/peers.sh            # full run (1,000,000 entries, batches of 1,000 and 100)
#   loadtests/peers.sh --quick    # 200,000 entries; any other forgeone-load peers option passes through
#
# Installs PostgreSQL 15 from Debian if missing, starts it on a free loopback port in a temp
# directory (fsync and synchronous_commit on) in its own process group, and removes the server,
# its data and every other temp directory on exit, also on Ctrl-C or SIGTERM.
# Results: loadtests/results/peer-benchmark.md and .csv.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tmp="$(mktemp -d /tmp/forgeone-peers.XXXXXX)"
pg_pid=""
bench_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$bench_pid" ]] && kill -0 "$bench_pid" 2>/dev/null; then
    kill -TERM "$bench_pid" 2>/dev/null || true   # the benchmark stops its ForgeOne node on SIGTERM
    wait "$bench_pid" 2>/dev/null || true
  fi
  if [[ -n "$pg_pid" ]] && kill -0 "$pg_pid" 2>/dev/null; then
    kill -TERM -- "-$pg_pid" 2>/dev/null || true  # the server's whole process group
    for _ in $(seq 1 100); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pg_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

pgbin=/usr/lib/postgresql/15/bin
if [[ ! -x "$pgbin/postgres" ]]; then
  echo "installing PostgreSQL 15 from Debian..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql-15 >/dev/null
fi

# initdb and postgres refuse to run as root: run them as the postgres user the package created.
as_pg=()
if [[ "$(id -u)" == 0 ]]; then
  chown postgres "$tmp"
  as_pg=(runuser -u postgres --)
fi

port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as_pg[@]}" "$pgbin/initdb" -D "$tmp/pg" -U bench --auth=trust -E UTF8 >/dev/null
setsid "${as_pg[@]}" "$pgbin/postgres" -D "$tmp/pg" -k "$tmp" -p "$port" -c listen_addresses=127.0.0.1 \
  -c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=512MB -c max_wal_size=4GB \
  >"$tmp/postgres.log" 2>&1 &
pg_pid=$!
for _ in $(seq 1 100); do
  "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$port" && break
  kill -0 "$pg_pid" 2>/dev/null || { cat "$tmp/postgres.log" >&2; exit 3; }
  sleep 0.2
done
echo "PostgreSQL $("$pgbin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (fsync=on, synchronous_commit=on), data in $tmp/pg"

dotnet build "$root/loadtests/ForgeOne.Load" -c Release -nologo -v quiet >/dev/null
dotnet "$root/loadtests/ForgeOne.Load/bin/Release/net10.0/forgeone-load.dll" peers \
  --postgres "Host=127.0.0.1;Port=$port;Username=bench;Database=postgres;Pooling=false" --server-pid "$pg_pid" "$@" &
bench_pid=$!
wait "$bench_pid"
