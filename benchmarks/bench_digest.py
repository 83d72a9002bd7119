"""Benchmark: build and render (HTML + text) a digest of 1,000 notices (target: under 1 s).

Run by hand: `python benchmarks/bench_digest.py`. The notices are the labelled real titles, stored
through the real store and classifier with a body each, all first seen inside the period.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regwatch.classify import Classifier  # noqa: E402
from regwatch.config import SubscriptionConfig  # noqa: E402
from regwatch.digest.build import build_digest  # noqa: E402
from regwatch.digest.render import render  # noqa: E402
from regwatch.parse import Item  # noqa: E402
from regwatch.store.db import open_db  # noqa: E402
from regwatch.store.diff import SourcePoll, record_poll  # noqa: E402
from tests.classify_eval import load  # noqa: E402

N = 1000


def make_store(path: Path) -> None:
    conn = open_db(path)
    classifier = Classifier()
    titles = [e.title for e in load()]
    start = datetime.now(UTC).isoformat()
    for batch in range(0, N, 100):
        poll = SourcePoll(source_id="bench", agency="PBC", started_at=start, state="ok")
        poll.items = [Item(title=f"{titles[i % len(titles)]}（{i}）", url=f"https://www.pbc.gov.cn/bench/{i}.html",
                           published="2026-08-14", extra={"deadline": "2099-01-01" if i % 7 == 0 else None})
                      for i in range(batch, batch + 100)]
        record_poll(conn, poll, classifier.classify)
    conn.execute("UPDATE notices SET baseline = 0, body = ? ", ("为加强管理，现将有关事项通知如下。" * 8,))


def run() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite"
        make_store(path)
        conn = open_db(path)
        sub = SubscriptionConfig(name="bench", channel="email", mode="digest", to=["a@example.org"])
        end = datetime.now(UTC) + timedelta(seconds=1)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            digest = build_digest(conn, sub, {}, end - timedelta(days=7), end)
            html, text = render(digest, "html"), render(digest, "text")
            times.append(time.perf_counter() - started)
        assert digest.count >= N * 0.9, digest.count
        return {"digest_1000_notices_s": round(statistics.median(times), 3), "html_kb": len(html) // 1024,
                "text_kb": len(text) // 1024}


if __name__ == "__main__":
    print(run())
