#!/usr/bin/env bash
# HTTP ingest benchmark: log batches of 100 entries x 200 B per request into one ForgeOne node
# (storage + edge roles, its own process), driven in turn by
#   1. wrk (Debian package, installed if missing) with loadtests/http-ingest/ingest.lua: JSON array
#      batches (POST /v1/logs/{topic}/batch), then the same entries as NDJSON bulk (POST /v1/bulk/logs);
#   2. our load runner (forgeone-load, its own process) through ForgeOneHttpClient;
#   3. the same runner through the actor client (remoting), the reference the HTTP path is held to.
# Every figure comes from the same node in the same run; ratios are what count on a shared machine.
# After each wrk phase the topics' counts are read back: every acknowledged entry must be stored.
#
#   loadtests/http-ingest.sh                      # 10 s warm-up per body, 20 s per phase, 64 connections / copies
#   loadtests/http-ingest.sh --quick              # 5 s warm-up, 8 s per phase
#   loadtests/http-ingest.sh --duration 30 --connections 128 --nosync
#
# Results: loadtests/results/http-ingest.md (and .csv). Targets (issue #13): >= 200,000 entries/s
# through HTTP, >= 0.6 x the actor client, NDJSON bulk >= the JSON array.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
duration=20
warmup=10
connections=64
nosync=false
batch=100
message_bytes=200
topics=16
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) duration=8; warmup=5 ;;
    --duration) duration="$2"; shift ;;
    --connections) connections="$2"; shift ;;
    --nosync) nosync=true ;;
    *) echo "usage: $0 [--quick] [--duration SECONDS] [--connections N] [--nosync]" >&2; exit 2 ;;
  esac
  shift
done

tmp="$(mktemp -d /tmp/forgeone-http-ingest.XXXXXX)"
node_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n "$node_pid" ]] && kill -0 "$node_pid" 2>/dev/null; then
    kill -TERM "$node_pid" 2>/dev/null || true   # the node's graceful stop
    for _ in $(seq 1 300); do kill -0 "$node_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$node_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! command -v wrk >/dev/null; then
  echo "installing wrk from Debian..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "building (Release)..."
dotnet build "$root/loadtests/ForgeOne.Load" -c Release -nologo -v quiet >/dev/null
node_dll="$root/src/ForgeOne.Node/bin/Release/net10.0/ForgeOne.Node.dll"
load_dll="$root/loadtests/ForgeOne.Load/bin/Release/net10.0/forgeone-load.dll"

port="$(free_port)"
http_port="$(free_port)"
seed="akka.tcp://forgeone@127.0.0.1:$port"
base="http://127.0.0.1:$http_port"
key_file="$tmp/keys/bootstrap-admin.key"
# The per-principal rate limit would cap one principal's load: off for the benchmark.
dotnet "$node_dll" \
  --ForgeOne:Hostname=127.0.0.1 --ForgeOne:Port="$port" --ForgeOne:SeedNodes:0="$seed" \
  --ForgeOne:Roles:0=storage --ForgeOne:Roles:1=edge \
  --ForgeOne:Edge:Hostname=127.0.0.1 --ForgeOne:Edge:Port="$http_port" --ForgeOne:Edge:RateLimit:Enabled=false \
  --ForgeOne:DataRoot="$tmp/data" --ForgeOne:KeysDirectory="$tmp/keys" \
  --ForgeOne:ShardCounts:Logs=8 --ForgeOne:ShardCounts:Events=8 --ForgeOne:ShardCounts:Blobs=4 \
  --ForgeOne:Shards:NoSync="$nosync" --Logging:LogLevel:Default=Warning \
  >"$tmp/node.log" 2>&1 &
node_pid=$!
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
  kill -0 "$node_pid" 2>/dev/null || { cat "$tmp/node.log" >&2; exit 3; }
  sleep 0.2
done
curl -fsS -o /dev/null "$base/readyz" || { echo "the node's edge was not ready" >&2; cat "$tmp/node.log" >&2; exit 3; }
key="$(head -n1 "$key_file" | tr -d '[:space:]')"
echo "node pid $node_pid: $seed, edge $base, fsync $([[ $nosync == true ]] && echo off || echo on); load average $(cut -d' ' -f1-3 /proc/loadavg)"

node_cpu() { awk '{print $14 + $15}' "/proc/$node_pid/stat"; }   # utime + stime, clock ticks
ticks="$(getconf CLK_TCK)"
results="$tmp/results.jsonl"

# Sum of the entry counts of topics {prefix}{first..first+topics-1} (what the node actually stored).
stored() {
  local prefix="$1" first="$2" total=0 n
  for t in $(seq "$first" $((first + topics - 1))); do
    n="$(curl -fsS -H "Authorization: Bearer $key" "$base/v1/logs/$prefix$t/count" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')"
    total=$((total + n))
  done
  echo "$total"
}

run_wrk() {
  local mode="$1" tag="$2"
  local cpu0 line cpu1 count
  cpu0="$(node_cpu)"
  line="$(wrk -t2 -c"$connections" -d"${duration}s" --timeout 30s -s "$root/loadtests/http-ingest/ingest.lua" "$base" -- "$mode" "$key" "$topics" "$batch" "$message_bytes" "$tag" | grep '^{"requests"')"
  cpu1="$(node_cpu)"
  count="$(stored "bench.$tag.$mode." 1)"
  python3 - "$line" "$mode" "$batch" "$count" "$((cpu1 - cpu0))" "$ticks" >>"$results" <<'PY'
import json, sys
w = json.loads(sys.argv[1]); mode = sys.argv[2]; batch = int(sys.argv[3]); stored = int(sys.argv[4])
cpu = int(sys.argv[5]) / int(sys.argv[6]); seconds = w["duration_us"] / 1e6
ok = w["requests"] - w["non2xx"]
entries = ok * batch
print(json.dumps({"name": f"wrk, {'JSON array' if mode == 'json' else 'NDJSON bulk'}", "driver": "wrk", "entries": entries,
  "eps": entries / seconds, "p50": w["p50_us"] / 1000, "p99": w["p99_us"] / 1000, "errors": w["non2xx"] + w["socket_errors"],
  "stored": stored, "node_cpu_us_per_entry": cpu * 1e6 / max(entries, 1)}))
PY
}

run_runner() {
  local name="$1" via="$2" folder="$tmp/reports-$1"
  cat >"$tmp/$name.yaml" <<YAML
name: $name
target:
  kind: cluster
  seeds: ["$seed"]
  http: "$base/"
  apiKeyFile: "$key_file"
  shardCounts: { logs: 8, events: 8, blobs: 4 }
run:
  maxInFlight: $((connections * 2))
  maxDuration: $((duration + 120))s
  reportFolder: "$folder"
scenarios:
  - name: $name
    type: log-append
    via: $via
    batch: $batch
    messageBytes: $message_bytes
    topics: $topics
    warmUp: 5s
    load:
      - keepConstant: { copies: $connections, during: ${duration}s }
    thresholds: ["fail == 0"]
YAML
  local cpu0 cpu1 count
  cpu0="$(node_cpu)"
  dotnet "$load_dll" run "$tmp/$name.yaml" >"$tmp/$name.log" 2>&1 || { cat "$tmp/$name.log" >&2; exit 1; }
  cpu1="$(node_cpu)"
  # The runner's topics are load.{scenario}.{0..}; its CPU window also covers its join and
  # warm-up, so the node's CPU is divided by everything stored (warm-up included).
  count="$(stored "load.$name." 0)"
  python3 - "$folder/$name.csv" "$name" "$via" "$batch" "$((cpu1 - cpu0))" "$ticks" "$count" >>"$results" <<'PY'
import csv, json, sys
path, name, via, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
row = next(r for r in csv.DictReader(open(path)) if r["scenario"] == name and r["step"] == "")
entries = int(row["ok"]) * batch
cpu = int(sys.argv[5]) / int(sys.argv[6]); stored = int(sys.argv[7])
print(json.dumps({"name": f"forgeone-load, {'HTTP (ForgeOneHttpClient)' if via == 'http' else 'actor client (remoting)'}", "driver": via,
  "entries": entries, "eps": float(row["rps"]) * batch, "p50": float(row["p50_ms"]), "p99": float(row["p99_ms"]),
  "errors": int(row["fail"]), "stored": stored, "node_cpu_us_per_entry": cpu * 1e6 / max(stored, 1)}))
PY
}

# Warm-up on other topics, both bodies (JIT tiering, shard opens, connection pools): whatever
# phase ran first would otherwise pay for it.
echo "warm-up: wrk, JSON array and NDJSON (${warmup} s each)"
for mode in json ndjson; do
  wrk -t2 -c"$connections" -d"${warmup}s" -s "$root/loadtests/http-ingest/ingest.lua" "$base" -- "$mode" "$key" "$topics" "$batch" "$message_bytes" "warm$$" >/dev/null
done
echo "phase 1/4: wrk, JSON array batches (${duration} s)"; run_wrk json "r$$"
echo "phase 2/4: wrk, NDJSON bulk (${duration} s)"; run_wrk ndjson "r$$"
echo "phase 3/4: forgeone-load through HTTP (${duration} s)"; run_runner http-batch http
echo "phase 4/4: forgeone-load through the actor client (${duration} s)"; run_runner actor-batch actor

mkdir -p "$root/loadtests/results"
python3 - "$results" "$root/loadtests/results/http-ingest" "$duration" "$connections" "$nosync" "$(cat /proc/loadavg)" "$batch" "$message_bytes" <<'PY'
import json, sys, datetime
rows = [json.loads(l) for l in open(sys.argv[1])]
out, duration, connections, nosync, load, batch, size = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7], sys.argv[8]
by = {r["name"]: r for r in rows}
json_ = next(r for r in rows if r["name"].startswith("wrk, JSON")); nd = next(r for r in rows if r["name"].startswith("wrk, NDJSON"))
http = next(r for r in rows if r["driver"] == "http"); actor = next(r for r in rows if r["driver"] == "actor")
best_http = max(json_["eps"], nd["eps"])
checks = [
  (">= 200,000 entries/s through HTTP (best of wrk JSON / NDJSON)", best_http >= 200_000, f"{best_http:,.0f}/s"),
  (">= 0.6 x the actor client (wrk JSON / actor)", json_["eps"] >= 0.6 * actor["eps"], f"{json_['eps'] / actor['eps']:.2f} x"),
  (">= 0.6 x the actor client (forgeone-load HTTP / actor)", http["eps"] >= 0.6 * actor["eps"], f"{http['eps'] / actor['eps']:.2f} x"),
  ("NDJSON bulk >= JSON array (wrk)", nd["eps"] >= json_["eps"], f"{nd['eps'] / json_['eps']:.2f} x"),
  ("every acknowledged entry stored", all(r["stored"] >= r["entries"] for r in rows), ", ".join(f"{r['stored']:,} >= {r['entries']:,}" for r in rows)),
  ("no errors", all(r["errors"] == 0 for r in rows), ", ".join(str(r["errors"]) for r in rows)),
]
now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
md = [f"# HTTP ingest benchmark ({now})", "",
  f"One node (storage + edge, own process, fsync {'off' if nosync == 'true' else 'on'}), {batch} entries x {size} B per request, "
  f"{connections} connections (wrk, 2 threads) or concurrent callers (forgeone-load), {duration} s per phase, "
  f"load average at the end: {load}. `loadtests/http-ingest.sh` reproduces it.", "",
  "| Driver | entries/s | p50 ms | p99 ms | errors | node CPU us/entry | vs actor client |", "|---|---:|---:|---:|---:|---:|---:|"]
for r in rows:
  md.append(f"| {r['name']} | {r['eps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['errors']} | {r['node_cpu_us_per_entry']:.2f} | {r['eps'] / actor['eps']:.2f} x |")
md += ["", "| Target | Met | Measured |", "|---|---|---|"] + [f"| {c} | {'yes' if ok else 'NO'} | {v} |" for c, ok, v in checks]
text = "\n".join(md) + "\n"
open(out + ".md", "w").write(text)
with open(out + ".csv", "w") as f:
  f.write("driver,entries_per_s,p50_ms,p99_ms,errors,node_cpu_us_per_entry\n")
  for r in rows:
    f.write(f"\"{r['name']}\",{r['eps']:.0f},{r['p50']:.3f},{r['p99']:.3f},{r['errors']},{r['node_cpu_us_per_entry']:.3f}\n")
print(text)
PY
