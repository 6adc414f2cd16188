#!/usr/bin/env bash
# Starts, stops and reports a local ForgeOne cluster on 127.0.0.1: three storage nodes
# (ports 4053-4055) and one edge node (4056), sharing ./cluster-data under the repo root.
#
#   cluster-config/launch.sh start    build once, start every node, wait until each is ready
#   cluster-config/launch.sh stop     SIGTERM every node (graceful: shards hand off, files close)
#   cluster-config/launch.sh status   which nodes run, with their pid and readiness
#
# Env: FORGEONE_CONFIGURATION=Release|Debug (default Release), FORGEONE_READY_TIMEOUT (s, default 90).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
state="$root/cluster-data"
configuration="${FORGEONE_CONFIGURATION:-Release}"
ready_timeout="${FORGEONE_READY_TIMEOUT:-90}"
nodes=(storage-1 storage-2 storage-3 edge)
dll="$root/src/ForgeOne.Node/bin/$configuration/net10.0/ForgeOne.Node.dll"

pid_of() { cat "$state/pids/$1.pid" 2>/dev/null || true; }
alive() { local pid; pid="$(pid_of "$1")"; [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; }

wait_ready() {
  local node="$1" deadline=$((SECONDS + ready_timeout))
  until grep -q "ForgeOne node ready" "$state/logs/$node.log" 2>/dev/null; do
    if ! alive "$node"; then
      echo "  $node exited before it was ready; last log lines:" >&2
      tail -n 20 "$state/logs/$node.log" >&2 || true
      return 1
    fi
    if (( SECONDS > deadline )); then
      echo "  $node not ready after ${ready_timeout}s (log: $state/logs/$node.log)" >&2
      return 1
    fi
    sleep 0.5
  done
  echo "  $node ready (pid $(pid_of "$node"))"
}

start() {
  mkdir -p "$state/pids" "$state/logs"
  echo "building ForgeOne.Node ($configuration)..."
  dotnet build "$root/src/ForgeOne.Node" -c "$configuration" -nologo -v quiet >/dev/null
  cd "$root"
  for node in "${nodes[@]}"; do
    if alive "$node"; then
      echo "  $node already running (pid $(pid_of "$node"))"
      continue
    fi
    : > "$state/logs/$node.log"
    nohup dotnet "$dll" --config "$here/$node.json" >>"$state/logs/$node.log" 2>&1 &
    echo $! > "$state/pids/$node.pid"
    # The first seed must be up before the others join through it.
    if [[ "$node" == storage-1 ]]; then wait_ready "$node"; fi
  done
  for node in "${nodes[@]:1}"; do wait_ready "$node"; done
  key="$state/keys/bootstrap-admin.key"
  [[ -f "$key" ]] && echo "bootstrap admin API key: $key"
}

stop() {
  for node in "${nodes[@]}"; do
    if alive "$node"; then
      kill -TERM "$(pid_of "$node")"
    fi
  done
  for node in "${nodes[@]}"; do
    local deadline=$((SECONDS + 60))
    while alive "$node" && (( SECONDS < deadline )); do sleep 0.5; done
    if alive "$node"; then
      echo "  $node did not stop within 60s; killing" >&2
      kill -KILL "$(pid_of "$node")" || true
    fi
    rm -f "$state/pids/$node.pid"
    echo "  $node stopped"
  done
}

status() {
  local running=0
  for node in "${nodes[@]}"; do
    if alive "$node"; then
      running=$((running + 1))
      ready="$(grep -m1 -o 'ForgeOne node ready: [^ ]*' "$state/logs/$node.log" 2>/dev/null || echo 'starting')"
      echo "  $node  running  pid $(pid_of "$node")  $ready"
    else
      echo "  $node  stopped"
    fi
  done
  (( running > 0 ))
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 64 ;;
esac
