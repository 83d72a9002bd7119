"""Benchmark: does `regwatch run` give memory back after rounds over 1,000 sources?

Run by hand: `python benchmarks/bench_after_passes.py` (about 40 s), beside a checkout of `shared` (the
peer harness's server). The service polls 1,000 list pages with bench_service_pass's 1.2 s interval: a
cold round (20,000 baseline notices), then a round after 100 pages gained a notice. Then every source
is put in quiet hours (a watchlist edit and SIGHUP), so no pass runs, and RSS is read 12 s later. The
same service started with its sources in quiet hours from the first (never polled) is the floor.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loopback import start_harness_server
from bench_idle import rss_mb
from bench_service_pass import LATENCY_MS, configure, round_seconds

QUIET = 'quiet_hours = "00:00-23:59"\n'
PAGES = 1000


def quieten(work: Path) -> None:
    watchlist = work / "watchlists" / "bench.toml"
    text = watchlist.read_text().replace("interval_minutes = 0.02\n", f"interval_minutes = 0.02\n{QUIET}")
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
                        while round_seconds(work / "regwatch.sqlite", PAGES) is None:
                            time.sleep(0.5)
                        urllib.request.urlopen(f"{base}/_control/mutate?k=1&m=100", timeout=10).read()
                        time.sleep(6)  # the changed round
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
