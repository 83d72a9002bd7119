"""Render the example digest shown in the README (run by hand: `python docs/make_example.py`).

Polls the fixture site (tests/fixtures/site) through the replay server into a scratch database,
treats the notices of the columns' latest weeks as new (a fresh install records them as its
baseline, which digests leave out), renders the digest as HTML and text, and screenshots the HTML
with headless Chromium (Debian's `chromium` package) into docs/digest.png.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from regwatch.replay import ReplayServer

ROOT = Path(__file__).resolve().parent.parent
PERIOD_START = "2026-06-01"


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="regwatch-example-"))
    with ReplayServer(ROOT / "tests" / "fixtures" / "site") as server:
        config = work / "config.toml"
        config.write_text(
            f'database = "{work / "db.sqlite"}"\n[fetch]\nrewrite_to = "{server.base_url}"\nper_host_delay = 0\n'
            'per_host_concurrency = 4\n[detail]\nmax_per_poll = 1000\n'
            '[[subscription]]\nname = "weekly"\nchannel = "email"\nmode = "digest"\nlanguage = "both"\n'
            'to = ["legal@example.org"]\nunsubscribe = "https://regwatch.example.org/u/example"\n',
            encoding="utf-8")
        run = [sys.executable, "-m", "regwatch", "--config", str(config)]
        subprocess.run([*run, "poll"], check=True, capture_output=True)
    week_ago = (datetime.now(UTC) - timedelta(days=6)).isoformat(timespec="milliseconds")
    with sqlite3.connect(work / "db.sqlite") as conn:  # the columns' latest notices count as this week's news
        conn.execute("UPDATE notices SET baseline = 0, first_seen = ? WHERE published >= ?", (week_ago, PERIOD_START))
    since = (datetime.now(UTC) - timedelta(days=7)).strftime("%Y-%m-%d")
    for fmt, out in (("html", work / "digest.html"), ("text", ROOT / "docs" / "digest.txt")):
        subprocess.run([*run, "digest", "preview", "--since", since, "--format", fmt, "-o", str(out)], check=True)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    f"--user-data-dir={work / 'chromium'}", "--hide-scrollbars", "--window-size=680,2600",
                    f"--screenshot={ROOT / 'docs' / 'digest.png'}", (work / "digest.html").as_uri()],
                   check=True, capture_output=True, env={**os.environ, "HOME": str(work)})
    print(f"wrote {ROOT / 'docs' / 'digest.png'} and {ROOT / 'docs' / 'digest.txt'}")


if __name__ == "__main__":
    main()
