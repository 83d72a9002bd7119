#!/usr/bin/env bash
# regwatch adapter for the peer benchmark harness in ../shared/bench (contract: its README).
#   cd ../shared/bench && CONCURRENCY=50 ./run_tool.sh "$PWD/../../main/benchmarks/bench_adapter.sh" 1000
# One `regwatch poll` process per pass doing the full job per page: fetch (conditional GET), decode,
# parse items, diff against the store, store, classify, and queue alerts in the outbox
# (`--no-deliver`: the alerts are queued, not sent; the harness measures polling).
# Env: REGWATCH_BIN (default: regwatch on PATH), BENCH_CONCURRENCY (0/empty = 50).
set -euo pipefail
action=$1; W=$2; P=${3:-}
BIN=${REGWATCH_BIN:-$(command -v regwatch)}
C=${BENCH_CONCURRENCY:-}; [ -n "$C" ] && [ "$C" != "0" ] || C=50
case "$action" in
  setup)
    mkdir -p "$W/watchlists"
    python3 - "$W" "$C" <<'PYEOF'
import sys
W, C = sys.argv[1], int(sys.argv[2])
urls = [u.strip() for u in open(f"{W}/urls.txt") if u.strip()]
with open(f"{W}/watchlists/bench.toml", "w") as f:
    f.write('agency = "BENCH"\n')
    for i, url in enumerate(urls):
        f.write(f'[[source]]\nid = "list-{i}"\nurl = "{url}"\n[source.parser]\nkind = "html"\nitem = "ul.list li"\n')
with open(f"{W}/config.toml", "w") as f:
    f.write(f'database = "{W}/regwatch.sqlite"\nwatchlists = "{W}/watchlists"\nlog_level = "warning"\n'
            f'[fetch]\nconcurrency = {C}\nper_host_concurrency = {C}\nper_host_delay = 0\ntimeout = 60\n'
            '[poll]\nbackfill_pages = 1\n[detail]\nenabled = false\n'
            '[[subscription]]\nname = "bench"\nchannel = "webhook"\nurl = "http://127.0.0.1:9/never-sent"\n')
open(f"{W}/concurrency", "w").write(str(C))
PYEOF
    ;;
  poll)
    date -u +%Y-%m-%dT%H:%M:%S.000+00:00 > "$W/pass.$P.start"
    "$BIN" --config "$W/config.toml" poll --all --no-deliver > "$W/regwatch.$P.txt" || true
    ;;
  detect)
    exec python3 - "$W" "$P" <<'PYEOF'
import json, sqlite3, sys
W, P = sys.argv[1], sys.argv[2]
db = sqlite3.connect(f"{W}/regwatch.sqlite")
start = open(f"{W}/pass.{P}.start").read().strip()
sources = {f"list-{i}": u.strip() for i, u in enumerate(open(f"{W}/urls.txt")) if u.strip()}
rows = db.execute("SELECT n.source_id, n.title FROM outbox o JOIN notices n ON n.id = o.notice_id"
                  " WHERE o.created_at >= ?", (start,)).fetchall()
with open(f"{W}/alerts.{P}.txt", "w", encoding="utf-8") as f:
    f.write("\n".join(title for _, title in rows))
failed = db.execute("SELECT count(*) FROM polls WHERE started_at >= ? AND state NOT IN ('ok', 'ok-no-new')",
                    (start,)).fetchone()[0]
stored = db.execute("SELECT count(DISTINCT source_id) FROM notices").fetchone()[0]
print(json.dumps({"changed_urls": sorted({sources[s] for s, _ in rows}), "new_count": stored if P == "cold" else 0,
                  "error_count": failed, "text_files": [f"{W}/alerts.{P}.txt"],
                  "concurrency": int(open(f"{W}/concurrency").read()),
                  "notes": f"{len(rows)} alerts queued this pass"}))
PYEOF
    ;;
  teardown) : ;;
  *) echo "unknown action $action" >&2; exit 2;;
esac
