"""Benchmark: `regwatch classify --json` on 10,000 titles (target: under 2 s wall, start-up included).

Run by hand: `python benchmarks/bench_classify.py`. Titles are the labelled real titles, repeated
with a counter so no two lines are the same.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N = 10_000


def titles() -> bytes:
    rows = [line.split("\t")[3] for line in (ROOT / "tests" / "data" / "labelled_titles.tsv")
            .read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    return "".join(f"{rows[i % len(rows)]}（{i}）\n" for i in range(N)).encode()


def run() -> dict[str, float]:
    data = titles()
    times = []
    for _ in range(3):
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "regwatch", "classify", "--json"], input=data,
                              capture_output=True, check=True)
        times.append(time.perf_counter() - started)
        assert proc.stdout.count(b"\n") == N
    return {"classify_10k_titles_s": round(statistics.median(times), 3)}


if __name__ == "__main__":
    print(run())
