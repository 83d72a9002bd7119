"""Bodies that break: cut off, truncated, dripped, oversized, bombs, one bad byte. The cause is named
(unreachable or too-large, with the real error), never 'layout-changed … selectors out of date?'."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from .hostile import FaultInstall, HostileServer, Request, gzip_bomb, list_page, rows

PAGE = list_page(rows("甲", 4))


def reset_mid_body(req: Request) -> None:
    body = PAGE.encode()
    req.head(200, {"Content-Length": str(len(body))})
    req.raw(body[: len(body) // 3])
    req.handler.connection.shutdown(2)  # the server goes away half-way


def truncated_chunked(req: Request) -> None:
    body = PAGE.encode()
    req.head(200, {"Transfer-Encoding": "chunked"})
    req.raw(f"{len(body):x}\r\n".encode() + body[:200])  # a chunk that never ends, no terminating chunk
    req.handler.close_connection = True


def drip(req: Request) -> None:
    body = PAGE.encode()
    req.head(200, {"Content-Length": str(len(body))})
    for i in range(0, len(body), 20):  # 20 bytes a second: each read is quick, the whole is not
        req.raw(body[i:i + 20])
        time.sleep(1.0)


def bomb(req: Request) -> None:
    req.send(200, gzip_bomb(200_000_000), {"Content-Encoding": "gzip"})


def big(req: Request) -> None:
    req.send(200, PAGE + "<!--" + "x" * 3_000_000 + "-->")


@pytest.mark.parametrize(("route", "state", "words", "fetch"), [
    (reset_mid_body, "unreachable", "while reading the body", ""),
    (truncated_chunked, "unreachable", "while reading the body", ""),
    (drip, "unreachable", "fetch.deadline", "deadline = 2.5\n"),
    (bomb, "too-large", "max_body_bytes", "max_body_bytes = 1000000\n"),
    (big, "too-large", "max_body_bytes", "max_body_bytes = 1000000\n"),
], ids=["reset", "truncated-chunked", "drip", "gzip-bomb", "oversized"])
def test_a_body_that_breaks_is_named_for_what_it_is(fault_install: FaultInstall, hostile: HostileServer, route,
                                                    state: str, words: str, fetch: str) -> None:
    hostile.routes["/list.html"] = route
    fault_install.html_source(fetch=fetch)
    result = fault_install.cli("poll")
    assert result.exit_code == 1
    poll = fault_install.last_poll()
    assert poll["state"] == state and words in poll["error"], poll
    assert "selectors" not in poll["error"]
    assert f"{state:<15}" in result.stdout and words in result.stdout
    assert fault_install.source_state()["etag"] is None and fault_install.titles() == set()
    hostile.routes["/list.html"] = lambda req: req.send(200, PAGE)  # the site recovers: nothing was lost
    assert fault_install.cli("poll", "--all").exit_code == 0 and len(fault_install.titles()) == 4


def test_a_gzipped_page_is_read(fault_install: FaultInstall, hostile: HostileServer) -> None:
    import gzip

    hostile.routes["/list.html"] = lambda req: req.send(200, gzip.compress(PAGE.encode()), {"Content-Encoding": "gzip"})
    fault_install.html_source()
    assert fault_install.cli("poll").exit_code == 0 and len(fault_install.titles()) == 4


def test_one_bad_byte_does_not_garble_a_utf8_page(fault_install: FaultInstall, hostile: HostileServer) -> None:
    good = rows("网信", 6)
    body = list_page(good).encode()
    cut = body.index(good[2][0].encode()) + 6  # inside the third title: one byte that is not UTF-8
    broken = body[:cut] + b"\xff" + body[cut:]
    hostile.routes["/list.html"] = lambda req: req.send(200, broken, {"Content-Type": "text/html; charset=utf-8"})
    fault_install.html_source()
    result = fault_install.cli("poll")
    assert result.exit_code == 0
    titles = fault_install.titles()
    assert {good[i][0] for i in (0, 1, 3, 4, 5)} <= titles  # the others are untouched, not GB18030 mojibake
    (damaged,) = titles - {t for t, _, _ in good}
    assert "\ufffd" in damaged and damaged.replace("\ufffd", "") == good[2][0]
    assert fault_install.last_poll()["decode_errors"] == 1
    assert "1 byte(s) invalid in its declared charset utf-8" in result.stderr  # the log line
    with fault_install.db() as conn:
        (category,) = conn.execute("SELECT category FROM notices WHERE title = ?", (good[0][0],)).fetchone()
    assert category == "Law Enforcement"  # classified like any other, so filtered subscriptions see it


def test_a_page_mostly_invalid_in_its_label_is_read_as_what_it_is(fault_install: FaultInstall,
                                                                   hostile: HostileServer) -> None:
    good = rows("工信", 5)
    gbk = list_page(good, charset="utf-8").encode("gb18030")  # says UTF-8, is GBK throughout
    hostile.routes["/list.html"] = lambda req: req.send(200, gbk, {"Content-Type": "text/html; charset=utf-8"})
    fault_install.html_source()
    assert fault_install.cli("poll").exit_code == 0
    assert fault_install.titles() == {t for t, _, _ in good}


def test_hostile_titles_are_stored_whole_and_classified_without_a_stall(fault_install: FaultInstall,
                                                                       hostile: HostileServer) -> None:
    """Titles of 60,000 characters built to make patterns rescan them (a selector that caught a page, or a
    site that wants to stall its watcher): the poll finishes, each is stored as it came, with a verdict
    and an English gloss read from its head. (Before titles were read only so far, one took ~45 s.)"""
    titles = ["《" * 60_000 + "办法", "关于" * 30_000, "（" * 60_000 + "的通知）"]
    page = list_page([(title, f"/n/{i}.html", "2026-11-30") for i, title in enumerate(titles)])
    hostile.routes["/list.html"] = lambda req: req.send(200, page)
    fault_install.html_source(fetch="max_body_bytes = 5000000\n")
    done = subprocess.run([sys.executable, "-m", "regwatch", "--config", str(fault_install.config_path), "poll"],
                          capture_output=True, text=True, timeout=30)  # ~1 s; a stall fails here, not in CI's budget
    assert done.returncode == 0, done.stderr
    listed = json.loads(fault_install.cli("notices", "--json").stdout)["notices"]
    assert sorted(n["title"] for n in listed) == sorted(titles)
    assert all(n["category"] for n in listed)
    by_title = {n["title"]: n for n in listed}
    assert by_title["关于" * 30_000]["title_en"].startswith("On on")  # glossed from its head
