"""Benchmark: does `regwatch run` give memory back after rounds over 1,000 sources?

Run by hand: `python benchmarks/bench_after_passes.py` (about 45 s), beside a checkout of `shared` (the
peer harness's server). The service polls 1,000 list pages with bench_service_pass's schedule (every
source at once, once an interval): a cold round (20,000 baseline notices), then the next round, after
100 pages gained a notice. Then every source is put in quiet hours (a watchlist edit and SIGHUP), so
no pass runs, and RSS is read 12 s later. The same service started with its sources in quiet hours
from the first (never polled) is the floor.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loopback import start_harness_server
from bench_idle import rss_mb
from bench_service_pass import LATENCY_MS, configure, round_seconds

QUIET = 'quiet_hours = "00:00-23:59"\n'
PAGES = 1000


def quieten(work: Path) -> None:
    watchlist = work / "watchlists" / "bench.toml"
    text = re.sub(r"(?m)^(interval_minutes = .*\n)", lambda line: line.group(1) + QUIET, watchlist.read_text())
    watchlist.write_text(text)


def idle_rss(service: subprocess.Popen, seconds: float = 12.0) -> float:
    """RSS of a service that has run no pass for `seconds` (it gives memory back after one)."""
    time.sleep(seconds)
    return rss_mb(service.pid)


def run() -> dict:
    results = {}
    for polled in (False, True):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            server, base = start_harness_server(PAGES, LATENCY_MS)
            try:
                config = configure(work, base, PAGES)
                if not polled:
                    quieten(work)
                service = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(config), "run"],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                try:
                    if polled:
                        db = work / "regwatch.sqlite"
                        while round_seconds(db, PAGES) is None:
                            time.sleep(0.5)
                        mark = datetime.now().astimezone().isoformat()
                        urllib.request.urlopen(f"{base}/_control/mutate?k=1&m=100", timeout=10).read()
                        while round_seconds(db, PAGES, mark) is None:  # the changed round, at the next tick
                            time.sleep(0.5)
                        results["busy_rss_mb"] = round(rss_mb(service.pid), 1)
                        quieten(work)
                        service.send_signal(signal.SIGHUP)
                    results["idle_after_rounds_rss_mb" if polled else "idle_never_polled_rss_mb"] = round(
                        idle_rss(service), 1)
                finally:
                    service.send_signal(signal.SIGTERM)
                    service.wait(timeout=30)
            finally:
                server.terminate()
                server.wait()
    return {"sources": PAGES, **results}


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
