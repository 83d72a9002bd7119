"""Benchmark: `regwatch search` queries against 1,000,000 stored notices (target: under 100 ms each).

Run by hand: `python benchmarks/bench_search.py [N [DB]]` (DB: keep the built store there for reruns).
The store is built once in a temporary directory from the labelled real titles (with a counter so no
two are the same) and a short body; the figure is the median time of each query through store.search
(what the command runs), after one warm-up.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from regwatch.store.db import open_db  # noqa: E402
from regwatch.store.filters import NoticeFilter  # noqa: E402
from regwatch.store.search import search, spaced  # noqa: E402

QUERIES = ["个人信息", "出境", "数据安全 管理办法", "征求意见", "APP", "行政处罚 银行", "personal information"]


def titles() -> list[str]:
    return [line.split("\t")[3] for line in (ROOT / "tests" / "data" / "labelled_titles.tsv")
            .read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]


def build(path: Path, n: int) -> None:
    conn = open_db(path)
    rows = titles()
    batch = []
    conn.execute("BEGIN")
    for i in range(n):
        title = f"{rows[i % len(rows)]}（{i}）"
        body = f"第{i}号。{rows[(i * 7) % len(rows)]}。各有关单位认真贯彻落实。"
        batch.append((i + 1, f"id-{i}", "bench", "BENCH", title, f"2026-{1 + i % 12:02d}-01", body))
        if len(batch) == 10_000:
            _flush(conn, batch)
            batch = []
    _flush(conn, batch)
    conn.execute("COMMIT")
    conn.close()


def _flush(conn, batch) -> None:  # type: ignore[no-untyped-def]
    conn.executemany(
        "INSERT INTO notices (id, identity, source_id, agency, title, published, body, first_seen, last_seen,"
        " category, tags, doc_type, status, rules, rules_version)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, '2026-12-01', '2026-12-01', 'Legislation', '[]', 'news', 'final', '[]', 'b')",
        batch)
    conn.executemany("INSERT INTO notice_search (rowid, title, body) VALUES (?, ?, ?)",
                     [(row[0], spaced(row[4]), spaced(row[6])) for row in batch])


def run(n: int = 1_000_000, keep: Path | None = None) -> dict[str, float]:
    """`keep`: build the store there once and reuse it on later runs (a million notices take minutes)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = keep or Path(tmp) / "bench.sqlite"
        started = time.perf_counter()
        if not path.exists():
            build(path, n)
        built = time.perf_counter() - started
        conn = open_db(path)
        figures = {}
        for query in QUERIES:
            search(conn, query, NoticeFilter(), 20)
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                search(conn, query, NoticeFilter(), 20)
                times.append(time.perf_counter() - t0)
            figures[query] = round(statistics.median(times) * 1000, 1)
        size = path.stat().st_size // (1024 * 1024)
    return {"notices": n, "build_s": round(built, 1), "db_mb": size, "query_ms": figures}  # type: ignore[dict-item]


if __name__ == "__main__":
    keep = Path(sys.argv[2]) if len(sys.argv) > 2 else None
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000, keep), ensure_ascii=False))
