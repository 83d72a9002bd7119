"""Benchmark: CPU per request of the polling fetcher (the HTTP client's share of a pass).

Run by hand: `python benchmarks/bench_fetch_cpu.py [N]` (default 1,000), beside a checkout of `shared`
(the peer harness's load server, `shared/bench/server.py`, runs in a child process: ~14 KB list pages, half
GBK, no added latency). N pages are fetched through `regwatch.fetch.Fetcher` (and decoded, as a poll
does) with 50 in flight; the figure is this process's CPU time per request, median of 3 runs — what
`poll` spends in HTTP alone.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from regwatch.config import FetchConfig  # noqa: E402
from regwatch.fetch import Fetcher  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loopback import start_harness_server  # noqa: E402


async def fetch_all(base: str, n: int) -> None:
    config = FetchConfig(concurrency=50, per_host_concurrency=50, per_host_delay=0, allow_private_redirects=True)
    async with Fetcher(config) as fetcher:
        results = await asyncio.gather(*(fetcher.get(f"{base}/list/{i}.html") for i in range(n)))
    assert all(r.status == 200 and r.text for r in results), [r.error for r in results if r.status != 200][:3]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    server, base = start_harness_server(n, latency_ms=0, lifetime=600)
    try:
        asyncio.run(fetch_all(base, 50))  # warm-up: imports, TLS context
        runs = []
        for _ in range(3):
            started = time.process_time()
            asyncio.run(fetch_all(base, n))
            runs.append((time.process_time() - started) / n * 1000)
    finally:
        server.terminate()
        server.wait()
    print(json.dumps({"requests": n, "cpu_ms_per_request": round(statistics.median(runs), 3)}, indent=2))


if __name__ == "__main__":
    main()
