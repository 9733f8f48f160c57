#!/usr/bin/env bash
# Regenerates routes_v5.txt, the operations issue 3 requires, from the EMQX
# 5 spec: every operation of the core tags it names, plus the Prometheus
# stats and config operations of the Monitor tag.
#   bash test/api/testdata/routes_v5.sh [spec] > test/api/testdata/routes_v5.txt
set -euo pipefail
spec=${1:-/work/shared/spec/emqx-v5-api.md}
awk '
  BEGIN {
    n = split("Status|Nodes|Metrics|Monitor|Clients|Subscriptions|Topics|Publish|Retainer|Banned|Alarms|Listeners|Configs|API Keys|Dashboard", t, "|")
    for (i = 1; i <= n; i++) want[t[i]] = 1
  }
  /^### / { tag = $0; sub(/^### /, "", tag); sub(/ \(tier:.*$/, "", tag); next }
  /^- \*\*(GET|POST|PUT|DELETE|PATCH) `\/api\/v5\// {
    if (!(tag in want)) next
    line = $0; sub(/^- \*\*/, "", line)
    split(line, f, "`"); method = f[1]; gsub(/ /, "", method); path = f[2]
    if (tag == "Monitor" && path != "/api/v5/prometheus" && path != "/api/v5/prometheus/stats") next
    print method " " path
  }
' "$spec" | sort
