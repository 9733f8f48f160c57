#!/usr/bin/env bash
# Herald vs mosquitto, side by side in one run, with the independent load
# generator of the shared tools (mqttload) and its compare.sh: every scenario
# runs A B A B A B (RUNS pairs) and reports medians and the ratio A/B.
#
#   scripts/bench-compare.sh [OUT_DIR]
#
# Env: TOOLS (default ../shared/tools), RUNS (3), DURATION (10s), HERALD_PORT
# (21883), MOSQ_PORT (18830), SCENARIOS (space-separated subset of the names
# below). Herald runs with its defaults (durability sync) except
# mqtt.max_mqueue_len=infinity, mirroring the harness's mosquitto config
# (max_queued_messages 10000000). QoS 1 scenarios use -lowat 0 for both
# brokers (tools README: a broker whose send window is below the generator's
# 16 KiB low-water mark is otherwise paced by the generator's 1 ms max-wait).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
tools=${TOOLS:-$here/../shared/tools}
out=${1:-/tmp/herald-bench/$(date +%Y%m%d-%H%M%S)}
runs=${RUNS:-3}; dur=${DURATION:-10s}
hp=${HERALD_PORT:-21883}; mp=${MOSQ_PORT:-18830}
export PATH="$PATH:/usr/local/go/bin"
mkdir -p "$out"
(cd "$here" && go build -o "$out/herald" ./cmd/herald)
(cd "$tools/mqttload" && go build -o /tmp/mqtt-harness/bin/mqttload .)
export MQTTLOAD=/tmp/mqtt-harness/bin/mqttload

hpid=""; mpid=""
port_busy() { (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; }
start_herald() {
  if port_busy $hp; then echo "bench-compare: 127.0.0.1:$hp is already in use" >&2; exit 1; fi
  rm -rf "$out/data"
  "$out/herald" --set node.data_dir="$out/data" --set listeners.tcp.default.bind=127.0.0.1:$hp \
    --set listeners.ws.default.bind=off --set mqtt.max_mqueue_len=infinity --set log.level=warning \
    >>"$out/herald.log" 2>&1 &
  hpid=$!
  for _ in $(seq 100); do
    kill -0 "$hpid" 2>/dev/null || { echo "herald exited; log:" >&2; tail -5 "$out/herald.log" >&2; exit 1; }
    port_busy $hp && return
    sleep 0.05
  done
  echo "herald did not start" >&2; exit 1
}
start_mosq() { mpid=$("$tools/peers/start.sh" mosquitto $mp); }
stop_all() {
  [ -n "$hpid" ] && kill "$hpid" 2>/dev/null && wait "$hpid" 2>/dev/null || true
  [ -n "$mpid" ] && "$tools/peers/stop.sh" "$mpid" || true
  hpid=""; mpid=""
}
trap stop_all EXIT

declare -A S=(
  [pairs-q0]="-s pairs -pairs 8 -qos 0"
  [fanout-q0]="-s fanout -subs 16 -qos 0"
  [fanin-q0]="-s fanin -pubs 8 -qos 0"
  [pairs-q1]="-s pairs -pairs 8 -qos 1 -lowat 0"
  [fanout-q1]="-s fanout -subs 16 -qos 1 -lowat 0"
  [fanin-q1]="-s fanin -pubs 8 -qos 1 -lowat 0"
  [latency]="-s latency -rate 1000"
)
order=${SCENARIOS:-"pairs-q0 fanout-q0 fanin-q0 pairs-q1 fanout-q1 fanin-q1 latency conns"}
for name in $order; do
  echo "== $name"
  if [ "$name" = conns ]; then
    # Fresh brokers for every pair of runs: RSS growth is only meaningful
    # on a process that has not yet grown.
    for i in $(seq "$runs"); do
      for b in herald mosquitto; do
        if [ $b = herald ]; then start_herald; addr=127.0.0.1:$hp; pid=$hpid; else start_mosq; addr=127.0.0.1:$mp; pid=$mpid; fi
        sleep 1
        # Output to a file first: a pipeline's python3 would start (and
        # take CPU) during the half second the connect storm lasts.
        "$MQTTLOAD" -addr "$addr" -pid "$pid" -label $b -s conns -conns 10000 -hold 5s >"$out/conns.last" 2>/dev/null
        tail -n1 "$out/conns.last" \
          | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); d["spec"]="conns"; print(json.dumps(d))' >>"$out/conns.jsonl"
        stop_all
      done
    done
    python3 "$tools/bench/summarize.py" medians "$out/conns.jsonl" | tee "$out/conns.txt"
    continue
  fi
  start_herald; start_mosq
  "$tools/compare.sh" -n "$runs" -o "$out/$name.jsonl" herald=127.0.0.1:$hp@$hpid mosquitto=127.0.0.1:$mp@$mpid -- ${S[$name]} -duration "$dur" | tee "$out/$name.txt"
  stop_all
done
cat "$out"/*.jsonl > "$out/all.jsonl"
python3 "$tools/bench/summarize.py" markdown "$out/all.jsonl" | tee "$out/summary.md"
echo "results in $out"
