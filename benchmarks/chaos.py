"""Chaos run (by hand, a few minutes): `python benchmarks/chaos.py [seconds]`.

`regwatch run` polls 60 sources on six loopback "sites" every 3 s while notices are added at random.
Meanwhile two of the sites misbehave in turn (503 with Retry-After, a day-long Retry-After, a WAF
challenge page, answers that take longer than the whole-request deadline, 500s) and the daemon is
killed with SIGKILL at random moments and started again. A Standard Webhooks receiver on loopback
counts arrivals. At the end the faults stop and the run waits for the stragglers, then reports:
notices added vs stored exactly once, new-notice alerts delivered at least once, repeats (and whether
every repeat came under one webhook-id), the other alerts by type (a notice pushed off a full list
whose page answers 404 is reported withdrawn: not a repeat), and how often the four healthy sites'
sources were polled while the others were failing (their longest gap between two polls).
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regwatch.replay import ReplayServer, ScriptedResponse  # noqa: E402
from tests.receivers import Receiver  # noqa: E402

SITES, PER_SITE, FAULTY = 6, 10, (0, 1)
PAGE = ('<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul class="list">{rows}</ul>'
        "</body></html>")
ROW = '<li><a href="/art/{n}.html" title="{title}">{title}</a><span>2026-11-{day:02d}</span></li>'
CHALLENGE = "<html><script>var wzwschallenge='x';</script>请开启JavaScript并刷新该页</html>"
FAULTS = [
    ("503 + Retry-After 5", lambda: ScriptedResponse(status=503, headers={"Retry-After": "5"}, times=None)),
    ("429 + Retry-After one day", lambda: ScriptedResponse(status=429, headers={"Retry-After": "86400"}, times=None)),
    ("WAF challenge page", lambda: ScriptedResponse(status=200, body=CHALLENGE.encode(), times=None)),
    ("slower than the deadline", lambda: ScriptedResponse(status=200, body=b"<html></html>", delay=6, times=None)),
    ("500", lambda: ScriptedResponse(status=500, times=None)),
]


def path_of(site: int, k: int) -> str:
    return f"chaos{site}.example/list{k}.html"


def main(duration: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="regwatch-chaos-"))
    rng = random.Random(11)
    pages = {(s, k): [f"站点{s}栏目{k}的既有通知{j}" for j in range(15)] for s in range(SITES) for k in range(PER_SITE)}
    lock = threading.Lock()

    def publish(server: ReplayServer, key: tuple[int, int]) -> None:
        newest = list(enumerate(pages[key]))[-15:][::-1]
        rows = "".join(ROW.format(n=f"{key[0]}-{key[1]}-{i}", title=t, day=1 + i % 28) for i, t in newest)
        server.set_page(path_of(*key), PAGE.format(rows=rows), "text/html; charset=utf-8")

    receiver = Receiver("webhook").start()
    with ReplayServer() as server:
        for key in pages:
            publish(server, key)
        (work / "watchlists").mkdir()
        (work / "watchlists" / "chaos.toml").write_text('agency = "CHAOS"\n' + "".join(
            f'[[source]]\nid = "chaos-{s}-{k}"\nurl = "https://{path_of(s, k)}"\ninterval_minutes = 0.05\n'
            '[source.parser]\nkind = "html"\nitem = "ul.list li"\n' for s, k in pages), encoding="utf-8")
        config = work / "config.toml"
        config.write_text(
            f'database = "{work / "db.sqlite"}"\nwatchlists = "{work / "watchlists"}"\nlog_level = "warning"\n'
            f'[fetch]\nrewrite_to = "{server.base_url}"\nper_host_delay = 0\nconcurrency = 8\ndeadline = 4\n'
            'max_retry_after = 2\nretry_after_cap = 20\n'
            '[detail]\nenabled = false\n[service]\noutbox_seconds = 1\njitter = 0\n'
            '[delivery]\nhold_for_details_minutes = 0\nretry_base_seconds = 1\nretry_max_seconds = 5\n'
            f'[[subscription]]\nname = "chaos"\nchannel = "webhook"\nurl = "{receiver.url}"\n'
            f'secret = "{receiver.secret}"\nbatch_over = 1000\n', encoding="utf-8")
        log = (work / "run.log").open("w")

        def start() -> subprocess.Popen:
            return subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(config), "run"],
                                    stdout=subprocess.DEVNULL, stderr=log)

        proc = start()
        time.sleep(12)  # every source's baseline
        added: list[str] = []
        kills, faults_injected = 0, []
        fault_windows: list[tuple[float, float]] = []
        stop = threading.Event()

        def inject() -> None:
            while not stop.is_set():
                name, make = rng.choice(FAULTS)
                site = rng.choice(FAULTY)
                began = time.time()
                with lock:
                    for k in range(PER_SITE):
                        server.respond(path_of(site, k), make())
                faults_injected.append(f"site {site}: {name}")
                stop.wait(rng.uniform(8, 15))
                server.clear_scripts()
                fault_windows.append((began, time.time()))
                stop.wait(rng.uniform(3, 6))

        injector = threading.Thread(target=inject, daemon=True)
        injector.start()
        started = time.monotonic()
        next_kill = started + rng.uniform(15, 30)
        n = 0
        while time.monotonic() - started < duration:
            for _ in range(rng.randint(1, 3)):
                key = rng.choice(list(pages))
                title = f"站点{key[0]}栏目{key[1]}的新通知{n}"
                n += 1
                with lock:
                    pages[key].append(title)
                    publish(server, key)
                added.append(title)
            time.sleep(rng.uniform(0.3, 1.5))
            if time.monotonic() >= next_kill:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
                time.sleep(rng.uniform(0.2, 2.0))
                proc = start()
                next_kill = time.monotonic() + rng.uniform(15, 30)
        stop.set()
        injector.join()
        server.clear_scripts()
        deadline = time.monotonic() + 90  # the faulty sites are healthy again: let every notice arrive
        while time.monotonic() < deadline:
            got = {n["title"] for m in receiver.messages for n in m.payload["data"]["notices"]}
            if all(t in got for t in added):
                break
            time.sleep(1)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        log.close()
    receiver.stop()

    keys_by_title: dict[str, set[str]] = defaultdict(set)
    deliveries: dict[str, int] = defaultdict(int)
    reports: dict[str, int] = defaultdict(int)  # other alerts about a notice (withdrawn, updated), by type
    for message in receiver.messages:
        if message.payload.get("type") != "notice.created":
            reports[message.payload.get("type", "?")] += len(message.payload.get("data", {}).get("notices", []))
            continue
        for notice in message.payload["data"]["notices"]:
            deliveries[notice["title"]] += 1
            keys_by_title[notice["title"]].add(message.headers.get("webhook-id", ""))
    conn = sqlite3.connect(work / "db.sqlite")
    stored = defaultdict(int)
    for (title,) in conn.execute("SELECT title FROM notices"):
        stored[title] += 1
    healthy_gaps = []
    for s in range(SITES):
        if s in FAULTY:
            continue
        for k in range(PER_SITE):
            times = [datetime.fromisoformat(t).timestamp() for (t,) in conn.execute(
                "SELECT started_at FROM polls WHERE source_id = ? ORDER BY id", (f"chaos-{s}-{k}",))]
            healthy_gaps += [b - a for a, b in pairwise(times)]
    healthy_polls_in_faults = sum(1 for (t,) in conn.execute(
        "SELECT started_at FROM polls WHERE source_id NOT LIKE 'chaos-0-%' AND source_id NOT LIKE 'chaos-1-%'")
        if any(a <= datetime.fromisoformat(t).timestamp() <= b for a, b in fault_windows))
    repeated = [t for t in added if deliveries.get(t, 0) > 1]
    result = {
        "seconds": duration, "sources": len(pages), "kills": kills, "faults": len(faults_injected),
        "added": len(added),
        "stored_exactly_once": sum(1 for t in added if stored.get(t) == 1),
        "delivered_at_least_once": sum(1 for t in added if deliveries.get(t, 0) >= 1),
        "missing": sum(1 for t in added if not deliveries.get(t)),
        "repeated": len(repeated),
        "repeats_under_one_webhook_id": sum(1 for t in repeated if len(keys_by_title[t]) == 1),
        "other_alerts": dict(reports),  # e.g. notice.withdrawn: a notice that left a full list, its page a 404
        "healthy_polls_during_faults": healthy_polls_in_faults,
        "healthy_longest_gap_s": round(max(healthy_gaps, default=0), 1),
        "exit_code": code,
        "work_dir": str(work),
    }
    return result


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]) if len(sys.argv) > 1 else 300), ensure_ascii=False))
