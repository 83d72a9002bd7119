"""SIGKILL in the middle of polls: the store stays consistent, nothing is lost or repeated."""

from __future__ import annotations

import signal
import time

from .conftest import PBC_LIST_P1, Install

SOURCES = 8
PARSER = """
[source.parser]
kind = "html"
item = 'td[height="22"]'
title = 'a[istitle="true"]'
link = 'a[istitle="true"]'
date = "span.hui12"
row_marker = 'a[istitle="true"]'
"""


def test_sigkill_during_polls_loses_and_repeats_nothing(install: Install) -> None:
    watchlist = 'agency = "PBC"\n'
    for i in range(SOURCES):
        install.replay.set_page(f"s{i}.example/list.html", PBC_LIST_P1.read_bytes(), "text/html; charset=utf-8")
        watchlist += f'\n[[source]]\nid = "s{i}"\nurl = "https://s{i}.example/list.html"\n{PARSER}'
    install.add_watchlist("pbc.toml", watchlist)
    install.write_config("[poll]\nbackfill_pages = 1", fetch_extra="concurrency = 3")

    baseline = install.subprocess("poll")
    assert baseline.wait(timeout=60) == 0, baseline.stderr.read()

    added = {}
    for i in range(SOURCES):
        items = [{"title": f"来源{i}的新通知{j}", "href": f"/new/{i}/{j}/index.html", "date": "2026-08-12"}
                 for j in range(3)]
        install.replay.add_items(f"s{i}.example/list.html", 'td[height="22"]', items, date_selector="span.hui12")
        added.update({item["title"]: i for item in items})

    install.replay.latency = 0.25  # each answer takes a while, so kills land mid-pass
    kills = 0
    for delay in (0.3, 0.5, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4, 1.6):
        proc = install.subprocess("poll", "--all")
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=60)
        with install.db() as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            dupes = conn.execute("SELECT count(*) FROM (SELECT notice_id, kind FROM events "
                                 "GROUP BY notice_id, kind HAVING count(*) > 1)").fetchone()[0]
            assert dupes == 0
    assert kills >= 5  # the test only means something if most runs were really killed

    final = install.subprocess("poll", "--all")
    assert final.wait(timeout=60) == 0, final.stderr.read()
    with install.db() as conn:
        new_events = [r[0] for r in conn.execute(
            "SELECT n.title FROM events e JOIN notices n ON n.id = e.notice_id WHERE e.kind = 'new'")]
        total = conn.execute("SELECT count(*) FROM notices").fetchone()[0]
    assert sorted(new_events) == sorted(added)  # every added notice exactly once
    assert total == SOURCES * 15 + len(added)
