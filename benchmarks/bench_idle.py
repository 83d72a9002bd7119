"""Benchmark: RSS of an idle `regwatch run` with the shipped sources of the default sets (target ≤ 50 MB).

Run by hand: `python benchmarks/bench_idle.py` (about two and a half minutes). The service polls the
fixture site (replay server) with a one-minute interval, so its first polls are spread over a minute
(the service spaces them by interval ÷ sources, at most 10 s). RSS is read once every source has been
polled — its baseline, its detail pages — and again after a second round of polls (the steady state:
304s and unchanged pages), between polls. Read earlier, it says little: with the default 30-minute
interval the first polls take seven minutes, and at 25 s only three sources had been polled (that was
this benchmark until 2026-12-02, and the figure it gave, 53.3 MB, was 2.5 MB short of the steady state).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regwatch.app import App  # noqa: E402
from regwatch.replay import ReplayServer  # noqa: E402

INTERVAL_MINUTES = 1


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"process {pid} has no VmRSS: it has ended")


def sources_polled(db: Path) -> int:
    """How many sources have been polled (a source's row is written by its first poll)."""
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.OperationalError:
        return 0
    try:
        return conn.execute("SELECT count(last_poll_at) FROM sources").fetchone()[0]
    except sqlite3.OperationalError:  # (before the service has made its store)
        return 0
    finally:
        conn.close()


def run() -> dict[str, float | str]:
    with tempfile.TemporaryDirectory() as tmp, ReplayServer(ROOT / "tests" / "fixtures" / "site") as server:
        db = Path(tmp) / "db.sqlite"
        config = Path(tmp) / "config.toml"
        config.write_text(f'database = "{db}"\nlog_level = "warning"\n[poll]\ninterval_minutes = {INTERVAL_MINUTES}\n'
                          f'[fetch]\nrewrite_to = "{server.base_url}"\nper_host_delay = 0\n'
                          '[detail]\nmax_per_poll = 1000\n', encoding="utf-8")
        watched = len(App(str(config)).sources)
        proc = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(config), "run"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            started = time.monotonic()
            while (polled := sources_polled(db)) < watched:
                if proc.poll() is not None or time.monotonic() - started > 10 * 60 * INTERVAL_MINUTES:
                    raise RuntimeError(f"the service did not poll every source: {polled} of {watched}")
                time.sleep(1)
            time.sleep(3)  # the last source's detail pages
            after_first_round = rss_mb(proc.pid)
            time.sleep(60 * INTERVAL_MINUTES)
            after_second_round = rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
    return {"idle_rss_mb": round(after_second_round, 1), "idle_rss_mb_first_round": round(after_first_round, 1),
            "sources": f"the default sets' {watched} shipped sources: core, national, courts, foreign"}


if __name__ == "__main__":
    print(run())
