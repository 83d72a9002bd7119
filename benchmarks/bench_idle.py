"""Benchmark: RSS of an idle `regwatch run` with the shipped sources of the default sets (target ≤ 50 MB).

Run by hand: `python benchmarks/bench_idle.py`. The service polls the fixture site (replay server)
once — every source's baseline and its detail pages — then idles; RSS is read 25 s after start.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regwatch.replay import ReplayServer  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp, ReplayServer(ROOT / "tests" / "fixtures" / "site") as server:
        config = Path(tmp) / "config.toml"
        config.write_text(f'database = "{tmp}/db.sqlite"\nlog_level = "warning"\n[fetch]\n'
                          f'rewrite_to = "{server.base_url}"\nper_host_delay = 0\n[detail]\nmax_per_poll = 1000\n',
                          encoding="utf-8")
        proc = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(config), "run"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(25)
        rss = rss_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    return {"idle_rss_mb": round(rss, 1), "sources": "the default sets: core, national, courts, foreign"}


if __name__ == "__main__":
    print(run())
