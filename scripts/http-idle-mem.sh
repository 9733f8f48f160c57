#!/usr/bin/env bash
# Memory and connections of the HTTP API under idle keep-alive clients: the
# RSS of a herald process before, while N clients hold a keep-alive
# connection after one GET /status, and once the server has closed them
# (dashboard.listeners.http.idle_timeout) or WAIT has passed.
#
#   scripts/http-idle-mem.sh [OUT_DIR]
#   env: N (3000), WAIT (90, seconds to wait for the closes), PORT (24183,
#        the API), MQTT_PORT (24883), WS_PORT (24083), HERALD (a binary to
#        run instead of building this tree), SETS (extra --set key=value
#        flags, e.g. "dashboard.listeners.http.max_connections=4000")
#
# A measurement, not a test: the figures go to stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-/tmp/herald-http-idle}; n=${N:-3000}; wait_s=${WAIT:-90}
port=${PORT:-24183}; mqtt=${MQTT_PORT:-24883}; ws=${WS_PORT:-24083}
export PATH="$PATH:/usr/local/go/bin"
mkdir -p "$out"; rm -rf "$out/data"
bin=${HERALD:-}
if [ -z "$bin" ]; then (cd "$here" && go build -o "$out/herald" ./cmd/herald); bin="$out/herald"; fi
sets=(--set node.data_dir="$out/data" --set listeners.tcp.default.bind=127.0.0.1:$mqtt
  --set listeners.ws.default.bind=127.0.0.1:$ws --set dashboard.listeners.http.bind=127.0.0.1:$port --set log.level=warning)
for s in ${SETS:-}; do sets+=(--set "$s"); done
hp=""
trap '[ -n "$hp" ] && kill "$hp" 2>/dev/null || true' EXIT
"$bin" "${sets[@]}" >>"$out/herald.log" 2>&1 &
hp=$!
for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$hp/status"; }
fds() { ls "/proc/$hp/fd" | wc -l; }
sleep 1
echo "herald: $bin ${SETS:-}"
echo "before:             rss ${rss_kb:=$(rss)} KB, fds $(fds)"

# The client: N keep-alive connections, one GET /status each; then, on a
# line on stdin, it waits up to WAIT s for the server to close them.
cat >"$out/client.py" <<'PY'
import selectors, socket, sys, time
host, port, n, wait = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
req = b"GET /status HTTP/1.1\r\nHost: herald\r\n\r\n"
held, refused = [], 0
for _ in range(n):
    s = socket.create_connection((host, port))
    s.settimeout(30)
    try:
        s.sendall(req)
        data = b""
        while b"\r\n\r\n" not in data:
            d = s.recv(4096)
            if not d:
                raise ConnectionError("closed")
            data += d
        head, body = data.split(b"\r\n\r\n", 1)
        length = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0])
        while len(body) < length:
            body += s.recv(4096)
        held.append(s)
    except (ConnectionError, OSError):
        refused += 1
        s.close()
print(f"held {len(held)} refused {refused}")
sys.stdin.readline()
sel = selectors.DefaultSelector()
for s in held:
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
t0, closed = time.time(), 0
while closed < len(held) and time.time() - t0 < wait:
    for key, _ in sel.select(timeout=1):
        try:
            d = key.fileobj.recv(4096)
        except OSError:
            d = b""
        if not d:
            sel.unregister(key.fileobj)
            key.fileobj.close()
            closed += 1
print(f"closed {closed} of {len(held)} within {time.time() - t0:.1f}s")
sys.stdin.readline()  # holds what is still open until the script has measured
PY
coproc CLIENT { python3 -u "$out/client.py" 127.0.0.1 "$port" "$n" "$wait_s"; }
read -r line <&"${CLIENT[0]}"
sleep 2
held_rss=$(rss)
read -r _ held _ _ <<<"$line"
echo "$line:  rss $held_rss KB, fds $(fds), $(( (held_rss - rss_kb) * 1024 / (held > 0 ? held : 1) )) B per held connection"
echo go >&"${CLIENT[1]}"
read -r line <&"${CLIENT[0]}"
sleep 2
echo "$line:  rss $(rss) KB, fds $(fds)"
fd=${CLIENT[1]}
exec {fd}>&- # the client ends
wait "$CLIENT_PID" 2>/dev/null || true
