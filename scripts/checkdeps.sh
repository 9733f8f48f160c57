#!/usr/bin/env bash
# Enforces the import direction of DESIGN.md section 2 / ARCHITECTURE.md:
# dependencies point inward, toward the protocol and the broker core.
set -euo pipefail
mod=$(go list -m)
fail=0
deny() { # deny <package pattern> <forbidden import regexp> <why>
  local bad
  bad=$(go list -deps $1 2>/dev/null | grep -E "^$mod/internal/($2)(/|$)" || true)
  if [ -n "$bad" ]; then
    echo "checkdeps: $1 must not import ($2): $3"; echo "$bad" | sed 's/^/  /'; fail=1
  fi
}
deny "./internal/mqtt/..." "broker|bufpool|cluster|storage|auth|service|api|rule|connector|server|config|listener|testutil|loadgen|metrics" "the codec and topics know nothing of the broker"
deny "./internal/gctune" "mqtt|bufpool|broker|cluster|storage|auth|service|api|server|config|listener" "gctune is a leaf"
deny "./internal/metastore" "mqtt|bufpool|broker|cluster|storage|auth|service|api|server|config|listener" "metastore is a leaf"
deny "./internal/banned" "mqtt|bufpool|broker|cluster|storage|auth|service|api|server|config|listener" "the ban list is a leaf (metastore is reached through an interface)"
deny "./internal/sysmon" "mqtt|bufpool|broker|cluster|storage|auth|service|api|server|config|listener|metastore" "sysmon only reads the OS"
deny "./internal/httplimit" "mqtt|bufpool|broker|cluster|storage|auth|service|api|server|config|listener" "httplimit is a leaf (stdlib only)"
deny "./internal/bufpool" "mqtt|broker|cluster|storage|auth|service|api|server|config|listener" "bufpool is a leaf"
deny "./internal/lograte" "mqtt|bufpool|broker|cluster|storage|auth|service|api|server|config|listener|metastore" "the log rate limiter is a leaf (stdlib only)"
deny "./internal/broker/..." "cluster|storage|auth|service|api|rule|connector|server|config|listener|testutil|loadgen|metrics" "the core declares ports; outer layers implement them"
deny "./internal/listener/..." "broker|mqtt|cluster|storage|auth|service|api|server|config" "listeners hand net.Conn to a function"
deny "./internal/config/..." "broker|mqtt|cluster|storage|auth|service|api|server|listener" "config maps to components only in server"
deny "./internal/loadgen/..." "broker|mqtt|cluster|storage|auth|service|api|server|config|listener" "the load tool speaks MQTT on its own"
deny "./internal/storage/..." "cluster|auth|service|api|server|config|listener" "stores implement broker ports only"
deny "./internal/auth/..." "cluster|storage|service|api|server|config|listener" "auth implements broker ports only"
# denyDirect <package pattern> <forbidden import regexp> <why>: direct imports only
# (a face reaches the broker through service, which does import it).
denyDirect() {
  local bad
  bad=$(go list -f '{{join .Imports "\n"}}' $1 2>/dev/null | grep -E "^$mod/internal/($2)(/|$)" || true)
  if [ -n "$bad" ]; then
    echo "checkdeps: $1 must not import ($2) directly: $3"; echo "$bad" | sed 's/^/  /'; fail=1
  fi
}
denyDirect "./internal/api/..." "broker|cluster|storage|server|config|listener|auth" "API faces reach the core only through service"
deny "./internal/service/..." "api|server|storage|listener" "the service is called by the faces and implemented against ports"
if ls pkg >/dev/null 2>&1; then
  deny "./pkg/..." ".*" "the public client imports nothing internal"
fi
# Only the composition root (and tests, and the binary's bench wiring) may import concrete backends.
for p in $(go list ./internal/... | grep -v -E "/internal/(server|testutil)$"); do
  bad=$(go list -f '{{join .Imports "\n"}}' "$p" | grep -E "^$mod/internal/(storage/(pebble|memory)|server)$" || true)
  if [ -n "$bad" ]; then echo "checkdeps: $p imports a concrete backend: $bad"; fail=1; fi
done
[ $fail -eq 0 ] && echo "checkdeps: ok"
exit $fail
