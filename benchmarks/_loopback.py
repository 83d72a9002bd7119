"""What the benchmarks that need a server share: a free loopback port, and the peer harness's load
server (`shared/bench/server.py`, beside this checkout) started in a process of its own, so its CPU is
never counted as regwatch's."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent.parent / "shared" / "bench"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_listening(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)


def start_harness_server(pages: int, latency_ms: int, lifetime: int = 900) -> tuple[subprocess.Popen, str]:
    """The harness's server (~14 KB list pages, half GBK) on a free port; (process, base URL)."""
    port = free_port()
    child = subprocess.Popen([sys.executable, str(HARNESS / "server.py"), "--pages", str(pages), "--latency-ms",
                              str(latency_ms), "--port", str(port), "--max-lifetime", str(lifetime)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port)
    return child, f"http://127.0.0.1:{port}"
