#!/usr/bin/env bash
# Durable QoS 1 publishing into one offline persistent session with
# durability = sync (acknowledged after the group commit's fsync), then
# kill -9, restart, and count what the session receives.
#
#   scripts/bench-durable.sh [OUT_DIR]      env: PORT (21891), DURATION (3s)
#
# Needs mosquitto_sub (Debian mosquitto-clients).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/herald-durable}; port=${PORT:-21891}; dur=${DURATION:-3s}
export PATH="$PATH:/usr/local/go/bin"
mkdir -p "$out"; rm -rf "$out/data"
(cd "$here" && go build -o "$out/herald" ./cmd/herald)
hp=""
trap '[ -n "$hp" ] && kill "$hp" 2>/dev/null || true' EXIT
start() {
  "$out/herald" --set node.data_dir="$out/data" --set listeners.tcp.default.bind=127.0.0.1:$port \
    --set listeners.ws.default.bind=off --set mqtt.max_mqueue_len=infinity --set log.level=warning >>"$out/herald.log" 2>&1 &
  hp=$!
  for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return; sleep 0.1; done
  echo "herald did not start" >&2; exit 1
}
sub() { mosquitto_sub -h 127.0.0.1 -p $port -V mqttv311 -i durable-sub -c -q 1 -t 'dur/#' "$@"; }
start
sub -E # the persistent session subscribes and goes offline
total=0
for args in "-c 1 -inflight 1" "-c 8 -inflight 1" "-c 1 -inflight 1024" "-c 8 -inflight 1024"; do
  "$out/herald" bench pub -p $port $args -q 1 -t 'dur/%i' -duration "$dur" -warmup 0s -drain 10s >"$out/last.json" 2>/dev/null
  read -r rate acked cpu < <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["acked_per_s"], d["acked"], d["broker_cpu_pct"])' "$out/last.json")
  echo "publishers/inflight: $args   acked/s=$rate acked=$acked broker cpu%=$cpu"
  total=$((total + acked))
done
kill -9 "$hp"; wait "$hp" 2>/dev/null || true
t0=$(date +%s.%N); start
echo "restarted after kill -9 in $(python3 -c "import time; print(round(time.time()-$t0, 1))")s"
t0=$(date +%s.%N)
n=$(sub -C "$total" -W 300 -F '%t' 2>/dev/null | wc -l || true)
echo "delivered after the restart: $n of $total acknowledged, in $(python3 -c "import time; print(round(time.time()-$t0, 1))")s"
[ "$n" -eq "$total" ]
