"""Benchmarks of the store: diff a 20-item page against 1,000,000 stored notices; store 100,000 new ones.

Run by hand: `python benchmarks/bench_store.py`. Targets: diff ≤ 2 ms; store ≥ 20,000 notices/s.
The store figure is given with the shipped classifier (every stored notice is classified in the
same transaction) and without it (the store alone).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regwatch.classify import Classifier, Verdict  # noqa: E402
from regwatch.parse import Item  # noqa: E402
from regwatch.store.db import open_db, transaction  # noqa: E402
from regwatch.store.diff import SourcePoll, record_poll  # noqa: E402

TITLE = "中国人民银行关于《金融数据安全管理办法（征求意见稿）》公开征求意见的通知"
NO_CLASSIFY = Verdict("Legislation", [], "news", "final", [], "none")


def fill(conn, n: int) -> None:
    """n notices the fast way (one big insert), for the diff benchmark's background."""
    now = datetime.now(UTC).isoformat()
    with transaction(conn):
        conn.executemany(
            "INSERT INTO notices (identity, source_id, agency, url, title, published, first_seen, last_seen,"
            " category) VALUES (?, 'big', 'PBC', ?, ?, '2026-08-14', ?, ?, 'Legislation')",
            ((f"https://www.pbc.gov.cn/n/{i}.html", f"https://www.pbc.gov.cn/n/{i}.html", f"{TITLE}{i}", now, now)
             for i in range(n)))


def page(start: int, fresh: int) -> list[Item]:
    """20 items: `fresh` new ones on top of already stored ones."""
    return [Item(title=f"{TITLE}{i}", url=f"https://www.pbc.gov.cn/n/{i}.html", published="2026-08-14")
            for i in range(start - fresh, start - fresh + 20)]


def bench_diff(path: Path) -> float:
    conn = open_db(path)
    fill(conn, 1_000_000)
    classifier = Classifier()
    record_poll(conn, SourcePoll("big", "PBC", datetime.now(UTC).isoformat(), "ok", items=page(500_000, 0)),
                classifier.classify)  # the baseline poll of this source
    times = []
    for round_ in range(50):
        items = page(1_000_000 + round_ * 3, 3)  # 3 new notices, 17 known
        started = time.perf_counter()
        record_poll(conn, SourcePoll("big", "PBC", datetime.now(UTC).isoformat(), "ok", items=items),
                    classifier.classify)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def bench_store(path: Path, classify) -> float:
    conn = open_db(path)
    started = time.perf_counter()
    for batch in range(5_000):  # 5,000 pages of 20 new notices
        items = [Item(title=f"{TITLE}{batch}-{i}", url=f"https://www.pbc.gov.cn/s/{batch}/{i}.html",
                      published="2026-08-14") for i in range(20)]
        record_poll(conn, SourcePoll(f"s{batch % 50}", "PBC", "2026-08-14T00:00:00+00:00", "ok", items=items),
                    classify)
    return 100_000 / (time.perf_counter() - started)


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        diff_ms = bench_diff(Path(tmp) / "diff.sqlite")
        classifier = Classifier()
        with_rules = bench_store(Path(tmp) / "store1.sqlite", classifier.classify)
        without = bench_store(Path(tmp) / "store2.sqlite", lambda *_: NO_CLASSIFY)
    return {"diff_20_vs_1M_ms": round(diff_ms, 2), "store_per_s_with_classify": round(with_rules),
            "store_per_s_store_only": round(without)}


if __name__ == "__main__":
    print(run())
