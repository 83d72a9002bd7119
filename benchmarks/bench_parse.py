"""Benchmark: parse one list page (the real PBC page, 35 KB; a bench-harness page, 14 KB) with the
parser the watchlist names. Run by hand: `python benchmarks/bench_parse.py`."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regwatch.parse import Page  # noqa: E402
from regwatch.parse.eportal import EportalOptions, EportalParser  # noqa: E402

PBC = ROOT / "tests" / "fixtures" / "real" / "pbc" / "list_goutongjiaoliu-113469_index-p1_fetched-2026-08-12.html"


def run() -> dict[str, float]:
    text = PBC.read_text(encoding="utf-8")
    parser = EportalParser(EportalOptions())
    page = Page(url="https://www.pbc.gov.cn/goutongjiaoliu/113456/113469/index.html", text=text)
    assert len(parser.parse(page).items) == 15
    times = []
    for _ in range(300):
        started = time.perf_counter()
        parser.parse(page)
        times.append(time.perf_counter() - started)
    return {"parse_pbc_list_page_ms": round(statistics.median(times) * 1000, 2)}


if __name__ == "__main__":
    print(run())
