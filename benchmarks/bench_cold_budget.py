"""Benchmark: what a cold pass's CPU allows on this machine, beside its ratio to the floor.

The cold pass (`regwatch poll --all --no-deliver` over the harness's N list pages, every one a
baseline) is CPU-bound, while the floor (the harness's reference client) mostly waits on the network:
so the cold ratio follows the machine's speed, and one run's ratio alone cannot say whether the code
or the hour moved it. This measures, in interleaved rounds, the floor's pass and regwatch's, and for
regwatch's the CPU seconds of its main process, of its baseline helper and of the load server. From
them: the least time those CPU seconds allow on this machine's cores (no pass of that much CPU can be
faster, however well it overlaps), the least time its main process alone allows (one event loop is
one core), and the CPU the 1.4× target leaves regwatch here, beside the server. And where regwatch's
wall time went, from the store's own poll times (milliseconds): its start-up before the first poll
began, the polls (first begun to last stored), and its end after the last one was stored.

Run by hand: `python benchmarks/bench_cold_budget.py [PAGES] [ROUNDS]` (1,000 and 3), beside a checkout of
`shared`; REGWATCH_BIN names the regwatch to run (default: the one beside this Python).
"""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _loopback import HARNESS, start_harness_server

ROOT = Path(__file__).resolve().parent
LATENCY_MS = 50
COLD_TARGET = 1.4
SAMPLE_SECONDS = 0.02  # how often the helper's CPU is read while it runs (its last reading is kept)
TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float | None:
    """A live process's own CPU seconds (user + system, not its children's), or None once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK


def _children_of(pid: int) -> list[int]:
    """The process's children: from /proc/PID/task/PID/children, or (a kernel without it) every process
    whose parent it is."""
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        found = []
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                    found.append(int(entry.name))
            except (OSError, IndexError):
                continue
        return found
    except OSError:
        return []


def _ended(pid: int) -> bool:
    """Whether the child ended, without reaping it (so that wait4 can still give its CPU)."""
    return os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def _pass(kind: str, pages: int, regwatch: str) -> dict[str, float]:
    server, base = start_harness_server(pages, LATENCY_MS)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            urls = urllib.request.urlopen(f"{base}/urls.txt", timeout=10).read().decode()
            (work / "urls.txt").write_text(urls, encoding="utf-8")
            if kind == "floor":
                figures = _run([sys.executable, str(HARNESS / "tools" / "refclient.py"), "--urls",
                                str(work / "urls.txt"), "--state", str(work / "state.json"), "--concurrency", "50"])
            else:
                subprocess.run(["bash", str(ROOT / "bench_adapter.sh"), "setup", str(work)], check=True,
                               env={**os.environ, "REGWATCH_BIN": regwatch})
                figures = _run([regwatch, "--config", str(work / "config.toml"), "poll", "--all", "--no-deliver"])
                figures.update(_phases(work / "regwatch.sqlite", figures))
            figures["server_cpu_s"] = _cpu_of(server.pid) or 0.0
    finally:
        server.terminate()
        server.wait()
    return figures


def _phases(database: Path, figures: dict[str, float]) -> dict[str, float]:
    """Start-up (the process's start to its first poll's), the polls (to the last one's storing) and the
    end (to the process's exit), from the polls the store recorded."""
    conn = sqlite3.connect(database)
    try:
        first, last = conn.execute("SELECT min(started_at), max(finished_at) FROM polls").fetchone()
    finally:
        conn.close()
    begun, stored = datetime.fromisoformat(first).timestamp(), datetime.fromisoformat(last).timestamp()
    return {"startup_s": begun - figures["started_at"], "polls_s": stored - begun,
            "end_s": figures["ended_at"] - stored}


def _run(command: list[str]) -> dict[str, float]:
    """Run a pass; its wall time, its CPU with its children's, and what its children (regwatch's helper)
    used, read from /proc while they live."""
    started, started_at = time.perf_counter(), time.time()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    helpers: dict[int, float] = {}
    while not _ended(child.pid):
        for pid in _children_of(child.pid):
            if (cpu := _cpu_of(pid)) is not None:
                helpers[pid] = cpu
        time.sleep(SAMPLE_SECONDS)
    wall, ended_at = time.perf_counter() - started, time.time()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise RuntimeError(f"{Path(command[0]).name} failed with {child.returncode}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "helper_cpu_s": sum(helpers.values()),
            "started_at": started_at, "ended_at": ended_at}


def run(pages: int = 1000, rounds: int = 3) -> dict:
    """Interleaved rounds of the floor's cold pass and regwatch's; medians, and what they allow."""
    regwatch = os.environ.get("REGWATCH_BIN") or str(Path(sys.executable).parent / "regwatch")
    floors, passes = [], []
    for _ in range(rounds):
        floors.append(_pass("floor", pages, regwatch))
        passes.append(_pass("regwatch", pages, regwatch))
    cores = os.cpu_count() or 1

    def median(rows: list[dict[str, float]], key: str) -> float:
        return round(statistics.median(row[key] for row in rows), 2)

    floor_s = median(floors, "wall_s")
    cpu, helper, server = median(passes, "cpu_s"), median(passes, "helper_cpu_s"), median(passes, "server_cpu_s")
    main = round(cpu - helper, 2)
    least = (cpu + server) / cores
    return {"pages": pages, "rounds": rounds, "cores": cores, "floor_s": floor_s,
            "floor_cpu_s": median(floors, "cpu_s"), "floor_server_cpu_s": median(floors, "server_cpu_s"),
            "cold_s": median(passes, "wall_s"), "ratio": round(median(passes, "wall_s") / floor_s, 2),
            "cpu_s": cpu, "main_cpu_s": main, "helper_cpu_s": helper, "server_cpu_s": server,
            "least_s": round(least, 2), "least_ratio": round(least / floor_s, 2),
            "main_least_ratio": round(main / floor_s, 2),
            "target_cpu_s": round(cores * COLD_TARGET * floor_s - server, 2),
            "startup_s": median(passes, "startup_s"), "polls_s": median(passes, "polls_s"),
            "end_s": median(passes, "end_s")}


def main() -> None:
    args = [int(a) for a in sys.argv[1:3]]
    print(json.dumps(run(*args), indent=2))


if __name__ == "__main__":
    main()
