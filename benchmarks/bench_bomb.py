"""Benchmark: peak memory of fetching a gzip bomb (by hand: `python benchmarks/bench_bomb.py`).

A loopback server answers with 1 GB of zeros gzipped (about 1 MB on the wire). regwatch's fetcher
inflates as the body arrives and stops at `max_body_bytes` (5 MB by default), so the process's peak
RSS stays near what it was before the request; the report gives both, and the fetch's verdict.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from regwatch.config import FetchConfig  # noqa: E402
from regwatch.fetch import Fetcher  # noqa: E402
from regwatch.health import assess_response  # noqa: E402


def _bomb(megabytes: int) -> bytes:
    """`megabytes` MB of zeros, gzipped a megabyte at a time (this process never holds them inflated)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * 1_000_000
    return b"".join(packer.compress(chunk) for _ in range(megabytes)) + packer.flush()


BOMB = _bomb(1000)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(BOMB)))
        self.end_headers()
        self.wfile.write(BOMB)

    def log_message(self, *args: object) -> None:
        pass


def peak_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> dict:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    before = peak_mb()

    async def fetch() -> tuple:
        async with Fetcher(FetchConfig(per_host_delay=0)) as fetcher:
            result = await fetcher.get(f"http://127.0.0.1:{server.server_address[1]}/bomb.html")
            return result.error_kind, assess_response(result)

    kind, verdict = asyncio.run(fetch())
    server.shutdown()
    return {"bomb_inflated_mb": 1000, "bomb_on_wire_kb": len(BOMB) // 1024, "peak_rss_before_mb": before,
            "peak_rss_after_mb": peak_mb(), "error_kind": kind, "state": verdict[0] if verdict else None}


if __name__ == "__main__":
    print(json.dumps(main()))
