"""Soak test (run by hand, ~11 minutes): `python benchmarks/soak.py [seconds]`.

200 sources on a local replay server, each polled every 3 s by `regwatch run`, notices added at
random to random pages; a loopback Standard Webhooks receiver counts what arrives. Reports whether
every added notice arrived exactly once, and the daemon's RSS after the first minute and at the end.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from regwatch.replay import ReplayServer  # noqa: E402
from tests.receivers import Receiver  # noqa: E402

SOURCES = 200
PAGE = ('<html><head><meta charset="utf-8"><title>通知公告</title></head><body><ul class="list">{rows}</ul>'
        "</body></html>")
ROW = '<li><a href="/art/{n}.html" title="{title}">{title}</a><span>2026-08-{day:02d}</span></li>'


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main(duration: float) -> dict:
    work = Path(tempfile.mkdtemp(prefix="regwatch-soak-"))
    rng = random.Random(7)
    pages = {i: [f"第{i}号来源的既有通知{j}" for j in range(20)] for i in range(SOURCES)}

    def publish(server: ReplayServer, i: int) -> None:
        newest = list(enumerate(pages[i]))[-20:][::-1]  # (stable number, title), newest first
        rows = "".join(ROW.format(n=f"{i}-{k}", title=t, day=1 + k % 28) for k, t in newest)
        server.set_page(f"soak{i}.example/list.html", PAGE.format(rows=rows), "text/html; charset=utf-8")

    receiver = Receiver("webhook").start()
    with ReplayServer() as server:
        for i in range(SOURCES):
            publish(server, i)
        (work / "watchlists").mkdir()
        (work / "watchlists" / "soak.toml").write_text('agency = "SOAK"\n' + "".join(
            f'[[source]]\nid = "soak-{i}"\nurl = "https://soak{i}.example/list.html"\ninterval_minutes = 0.05\n'
            '[source.parser]\nkind = "html"\nitem = "ul.list li"\n' for i in range(SOURCES)), encoding="utf-8")
        config = work / "config.toml"
        config.write_text(
            f'database = "{work / "db.sqlite"}"\nwatchlists = "{work / "watchlists"}"\nlog_level = "warning"\n'
            f'[fetch]\nrewrite_to = "{server.base_url}"\nper_host_delay = 0\nconcurrency = 20\n'
            '[detail]\nenabled = false\n[service]\noutbox_seconds = 1\n[delivery]\nhold_for_details_minutes = 0\n'
            f'[[subscription]]\nname = "soak"\nchannel = "webhook"\nurl = "{receiver.url}"\n'
            f'secret = "{receiver.secret}"\nbatch_over = 1000\n', encoding="utf-8")
        log = (work / "run.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(config), "run"],
                                stdout=subprocess.DEVNULL, stderr=log)
        added: list[str] = []
        started = time.monotonic()
        rss_first_minute = None
        samples = []
        time.sleep(10)  # baseline of every source
        n = 0
        while time.monotonic() - started < duration:
            for _ in range(rng.randint(1, 3)):
                i = rng.randrange(SOURCES)
                title = f"第{i}号来源的新通知{n}"
                n += 1
                pages[i].append(title)
                added.append(title)
                publish(server, i)
            time.sleep(rng.uniform(0.5, 3.0))
            elapsed = time.monotonic() - started
            samples.append((round(elapsed), rss_kb(proc.pid)))
            if rss_first_minute is None and elapsed >= 60:
                rss_first_minute = rss_kb(proc.pid)
        time.sleep(20)  # let the last ones arrive
        rss_end = rss_kb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
        log.close()
    receiver.stop()
    received = [n["title"] for m in receiver.messages for n in m.payload["data"]["notices"]]
    counts: dict[str, int] = {}
    for title in received:
        counts[title] = counts.get(title, 0) + 1
    result = {
        "seconds": duration, "sources": SOURCES, "added": len(added),
        "arrived_once": sum(1 for t in added if counts.get(t) == 1),
        "missing": sum(1 for t in added if t not in counts), "duplicated": sum(1 for c in counts.values() if c > 1),
        "unexpected": sum(1 for t in counts if t not in set(added)),
        "rss_after_1_min_mb": round((rss_first_minute or 0) / 1024, 1), "rss_end_mb": round(rss_end / 1024, 1),
        "rss_growth_pct": round(100 * (rss_end - (rss_first_minute or rss_end)) / max(rss_first_minute or 1, 1), 1),
        "exit_code": code,
    }
    (work / "rss.json").write_text(json.dumps(samples))
    return result


if __name__ == "__main__":
    print(json.dumps(main(float(sys.argv[1]) if len(sys.argv) > 1 else 600)))
