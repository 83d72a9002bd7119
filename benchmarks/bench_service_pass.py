"""Benchmark: a pass over N sources inside `regwatch run`, from the scheduler's trigger to the last poll
stored, against the reference client's floor measured in the same run.

Run by hand: `python benchmarks/bench_service_pass.py [N]` (default 1,000), beside a checkout of `shared`
(the peer harness's server and reference client). The service gets one source per list page, all with
one interval and no jitter, and `spread_first_polls = false`: every poll job fires at the same instant,
at start and then once per interval, so each tick is one pass over all N sources (the polls falling due
within 50 ms share a pass: the service's batching), as `regwatch poll --all` is one pass in a process of
its own. The interval is long enough that no source is polled twice inside a round; the polls that
were are counted in `repolls_in_round` (0 unless the round overran the interval: then the figures do
not compare). Cold is the first tick; changed the next one, after 100 pages gained a notice. A pass's
time is read from the `polls` table the service writes: from the first poll's start (when the
scheduler ran its job) to the last poll's end. The floor is the harness's reference client
(`shared/bench/tools/refclient.py`) over the same server, cold and changed.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loopback import HARNESS, start_harness_server

ROOT = Path(__file__).resolve().parent.parent
LATENCY_MS = 50


def control(base: str, action: str) -> None:
    urllib.request.urlopen(f"{base}/_control/{action}", timeout=10).read()


def floor(base: str, pages: int, work: Path) -> tuple[float, float]:
    """The reference client's cold and changed pass over the same server (its own timing of each)."""
    urls = work / "ref-urls.txt"
    urls.write_text("".join(f"{base}/list/{i}.html\n" for i in range(pages)), encoding="utf-8")
    state = work / "ref-state.json"
    times = []
    for step in ("cold", "changed"):
        if step == "changed":
            control(base, "mutate?k=1&m=100")
        started = time.perf_counter()
        subprocess.run([sys.executable, str(HARNESS / "tools" / "refclient.py"), "--urls", str(urls), "--state",
                        str(state), "--concurrency", "50"], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - started)
    return times[0], times[1]


def interval_seconds(pages: int) -> float:
    """Long enough for a slow cold round (about 2 s at 1,000 sources here) to end well inside it."""
    return 10.0 + pages / 200


def configure(work: Path, base: str, pages: int) -> Path:
    (work / "watchlists").mkdir()
    with (work / "watchlists" / "bench.toml").open("w", encoding="utf-8") as fh:
        fh.write('agency = "BENCH"\n')
        minutes = interval_seconds(pages) / 60
        for i in range(pages):
            fh.write(f'[[source]]\nid = "list-{i}"\nurl = "{base}/list/{i}.html"\ninterval_minutes = {minutes}\n'
                     '[source.parser]\nkind = "html"\nitem = "ul.list li"\n')
    config = work / "config.toml"
    config.write_text(f'database = "{work}/regwatch.sqlite"\nwatchlists = "{work}/watchlists"\nlog_level = "warning"\n'
                      "[fetch]\nconcurrency = 50\nper_host_concurrency = 50\nper_host_delay = 0\ntimeout = 60\n"
                      "[poll]\nbackfill_pages = 1\n[detail]\nenabled = false\n[attachments]\nenabled = false\n"
                      "[service]\njitter = 0\nspread_first_polls = false\n", encoding="utf-8")
    return config


def round_seconds(db: Path, pages: int, after: str = "") -> float | None:
    """First start to last finish of the first poll of every source started after `after`; None until all."""
    try:  # (the service may not have created the store yet)
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        return None
    try:
        rows = conn.execute("SELECT source_id, min(started_at), min(finished_at) FROM polls WHERE started_at > ?"
                            " GROUP BY source_id", (after,)).fetchall()
    except sqlite3.OperationalError:
        return None
    finally:
        conn.close()
    if len(rows) < pages:
        return None
    first = min(datetime.fromisoformat(r[1]) for r in rows)
    last = max(datetime.fromisoformat(r[2]) for r in rows)
    return (last - first).total_seconds()


def repolls_during(db: Path, after: str = "") -> int:
    """Polls of sources already polled in the round (started after `after`) made before its last first
    poll finished: none, unless the round overran the interval (then it was not one pass)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(
            "WITH firsts AS (SELECT source_id, min(started_at) AS first, min(finished_at) AS done FROM polls"
            " WHERE started_at > ? GROUP BY source_id)"
            " SELECT count(*) FROM polls p JOIN firsts f ON f.source_id = p.source_id"
            " WHERE p.started_at > f.first AND p.started_at < (SELECT max(done) FROM firsts)", (after,)).fetchone()[0]
    finally:
        conn.close()


def run(pages: int = 1000) -> dict:
    """The pass inside the service against the floor, both measured now (see the module's docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        server, base = start_harness_server(pages, LATENCY_MS)
        try:
            floor_cold, floor_changed = floor(base, pages, work)
            control(base, "reset_stats")
            config = configure(work, base, pages)
            service = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(config), "run"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            db = work / "regwatch.sqlite"
            cold = None
            while cold is None:
                time.sleep(0.5)
                cold = round_seconds(db, pages)
            cold_repolls = repolls_during(db)
            mark = datetime.now().astimezone().isoformat()  # (the next tick is most of an interval away)
            control(base, "mutate?k=1&m=100")
            changed = None
            while changed is None:
                time.sleep(0.5)
                changed = round_seconds(db, pages, mark)
            changed_repolls = repolls_during(db, mark)
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=30)
        finally:
            server.terminate()
            server.wait()
    return {"sources": pages, "latency_ms": LATENCY_MS,
            "floor_s": {"cold": round(floor_cold, 2), "changed": round(floor_changed, 2)},
            "service_s": {"cold": round(cold, 2), "changed": round(changed, 2)},
            "repolls_in_round": {"cold": cold_repolls, "changed": changed_repolls},
            "ratio": {"cold": round(cold / floor_cold, 2), "changed": round(changed / floor_changed, 2)}}


def main() -> None:
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000), indent=2))


if __name__ == "__main__":
    main()
