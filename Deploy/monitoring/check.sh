#!/usr/bin/env bash
# Checks Deploy/monitoring/ with Debian's promtool (package `prometheus`): the alert rules
# load and pass their unit tests, the example Prometheus configuration loads, the Grafana
# dashboard is valid JSON, and every query on the dashboard is valid PromQL (each is loaded
# as a recording rule, with Grafana's variables replaced by values of the same kind).
# Which series the rules and the dashboard may name is checked by MetricsConventionTests.
set -euo pipefail
cd "$(dirname "$0")"
promtool check rules --lint-fatal *.rules.yml
promtool test rules *.rules.test.yml
promtool check config prometheus.example.yml
python3 -m json.tool communesync-hub.dashboard.json > /dev/null
queries=$(mktemp --suffix=.rules.yml)
trap 'rm -f "$queries"' EXIT
python3 - communesync-hub.dashboard.json > "$queries" <<'PY'
import json, sys
dashboard = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard-queries\n    rules:")
for panel in dashboard["panels"]:
    for target in panel.get("targets", []):
        expr = target["expr"].replace("$__rate_interval", "5m").replace("$instance", ".*")
        print(f"      - record: dashboard:panel{panel['id']}_{target['refId']}")
        print("        expr: " + json.dumps(expr))
PY
promtool check rules --lint-fatal "$queries"
echo "Deploy/monitoring: rules, rule tests, example config, dashboard JSON and queries all pass"
