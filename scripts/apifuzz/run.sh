#!/usr/bin/env bash
# Schema-driven fuzzing of a running node's /api/v5 with Schemathesis, all
# checks, positive and negative data, plus herald_checks.py's
# positive_data_acceptance (a request valid by the document must not be
# refused with a 4xx other than 401, 403, 404 or 409: Schemathesis 4's rule).
#
#   scripts/apifuzz/run.sh http://127.0.0.1:18083 /tmp/fuzz    # writes /tmp/fuzz.{positive,all}.txt
#   python3 scripts/apifuzz/summarize.py /tmp/fuzz.positive.txt /tmp/fuzz.all.txt
#
# ST is the Schemathesis command (default: st). Schemathesis 3.21 runs on
# Debian 12's python3-hypothesis, -jsonschema, -requests, -yaml, -werkzeug,
# -yarl, -click, -httpx, -starlette, -backoff, -tomli(-w), -colorama,
# -pytest(-subtests) plus hypothesis-jsonschema 0.22, hypothesis-graphql,
# graphql-core 3.2, pyrate-limiter 2.10, starlette-testclient 0.2 and
# junit-xml from their sources on PYTHONPATH. N is examples per operation
# (default 25), SEED the Hypothesis seed (default 1). Hypothesis's health
# checks are off: on a loaded machine they stop operations before any
# request is sent (too_slow, data_too_large). POST /logout is left
# out (it would end the token the run uses); the node is changed by the
# run (keys, users, bans, listeners, configuration), so use a scratch one.
set -euo pipefail
base=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
user=${HERALD_USER:-admin} pass=${HERALD_PASS:-public}
token=$(curl -fsS -X POST "$base/api/v5/login" -H 'Content-Type: application/json' \
  -d "{\"username\":\"$user\",\"password\":\"$pass\"}" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
curl -fsS "$base/api/v5/openapi.json" |
  python3 -c 'import sys, json; d = json.load(sys.stdin); d["paths"].pop("/logout"); json.dump(d, sys.stdout)' >"$out.openapi.json"
# Two passes: positive data only (it also calls the operations that take
# no input, which a pass with negative data skips), then positive and
# negative data.
set +e
for mode in positive all; do
  SCHEMATHESIS_HOOKS=herald_checks PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}" ${ST:-st} run "$out.openapi.json" \
    --base-url "$base/api/v5" -H "Authorization: Bearer $token" -c all -D "$mode" \
    --hypothesis-max-examples "${N:-25}" --hypothesis-seed "${SEED:-1}" --validate-schema false \
    --hypothesis-suppress-health-check data_too_large,filter_too_much,too_slow "$@" >"$out.$mode.txt" 2>&1
  echo "schemathesis -D $mode exit $?"
done
set -e
echo "findings: python3 $here/summarize.py $out.positive.txt $out.all.txt"
