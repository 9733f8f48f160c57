#!/usr/bin/env bash
# Log keys have one spelling across the code base (ARCHITECTURE.md, "The client log"):
# clientid, username, peername (ip:port; peerhost for an address without a
# port), node, reason_code, reason. This fails on the other spellings seen
# before they were unified, used as a key in a log call or its continuation
# lines; and slog's own keys (msg, time, level, source), which a JSON line
# would then hold twice. A cheap grep, not a parser: a key built at run
# time escapes it.
set -euo pipefail
bad='"(client|client_id|clientId|clientID|cid|peer|peer_name|peerName|remote|remote_addr|remoteAddr|ip|user|user_name|userName|rc|reasonCode|reason_string|msg|time|level|source)"'
call='(slog\.[A-Z][A-Za-z0-9]*\(|\.(Debug|Info|Warn|Error|Log|LogAttrs|With)\(|^[[:space:]]+")'
files=$(find cmd internal pkg -name '*.go' ! -name '*_test.go' 2>/dev/null)
hits=$(grep -nE "$call.*$bad[[:space:]]*," $files || true)
if [ -n "$hits" ]; then
  echo "checklogkeys: use clientid, username, peername, reason_code, reason as log keys:"
  echo "$hits" | sed 's/^/  /'
  exit 1
fi
echo "checklogkeys: ok"
