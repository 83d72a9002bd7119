"""Silent loss, the worst class: a failure after page 1 must keep what page 1 gave, and never leave
validators behind that make every later poll a 304 over notices that were never stored."""

from __future__ import annotations

import json

import pytest

from .hostile import FaultInstall, HostileServer, Request, rows

JPAAS_SOURCE = """
agency = "TEST"
[[source]]
id = "test-jpaas"
url = "{base}/col/index.html"
backfill_pages = 2
[source.parser]
kind = "jpaas"
item = "li"
title = "a"
date = "span"
[source.detail]
enabled = false
"""


def jpaas_site(server: HostileServer, page1: list, older: str) -> dict:
    """A JPaaS column (shell page + unit API); page 1 answers with an ETag, older pages with `older`."""
    state = {"rows": page1, "etag": '"v1"'}

    def column(req: Request) -> None:
        req.send(200, "<html><body><div id='u'></div><script querydata=\"{'webId':'w1','pageId':'p1'}\" "
                      "url='/api/unit'></script></body></html>")

    def unit(req: Request) -> None:
        if "paramJson" in req.query and json.loads(req.query["paramJson"][0])["pageNo"] > 1:
            req.send(200, older, {"Content-Type": "application/json"})
            return
        if req.headers.get("If-None-Match") == state["etag"]:
            req.send(304, headers={"ETag": state["etag"]})
            return
        html = "<ul>" + "".join(f"<li><a href='{h}' title='{t}'>{t}</a><span>{d}</span></li>"
                                for t, h, d in state["rows"]) + "</ul>"
        req.send(200, json.dumps({"success": True, "data": {"html": html}}, ensure_ascii=False),
                 {"Content-Type": "application/json", "ETag": state["etag"]})

    server.routes.update({"/col/index.html": column, "/api/unit": unit})
    return state


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("older", ["null", DEEP, '{"success": true, "data": {"html": null}}'],
                         ids=["null", "deeply-nested", "null-html"])
def test_an_older_page_that_breaks_the_parser_keeps_what_page_one_gave(fault_install: FaultInstall,
                                                                       hostile: HostileServer, older: str) -> None:
    site = jpaas_site(hostile, rows("A", 5), older)
    fault_install.configure(JPAAS_SOURCE.format(base=hostile.base))
    assert fault_install.cli("poll").exit_code == 0
    assert len(fault_install.titles()) == 5  # the baseline from page 1, page 2 being unusable

    site["rows"] = rows("B", 20) + site["rows"]  # a burst bigger than a page: the poll reads page 2 too
    site["etag"] = '"v2"'
    result = fault_install.cli("poll", "--all")
    assert result.exit_code == 0, result.output
    assert " 20 new" in result.stdout
    assert len(fault_install.titles()) == 25
    assert fault_install.source_state("test-jpaas")["etag"] == '"v2"'
    with fault_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM events WHERE kind = 'new'").fetchone()[0] == 20
    again = fault_install.cli("poll", "--all")
    assert "ok-no-new" in again.stdout and len(fault_install.titles()) == 25


def test_a_store_error_keeps_no_validators_and_the_next_poll_stores_everything(fault_install: FaultInstall,
                                                                               hostile: HostileServer) -> None:
    state = {"rows": rows("C", 3)}

    def page(req: Request) -> None:
        etag = f'"{len(state["rows"])}"'
        if req.headers.get("If-None-Match") == etag:
            req.send(304, headers={"ETag": etag})
        else:
            from .hostile import list_page
            req.send(200, list_page(state["rows"]), {"ETag": etag})

    hostile.routes["/list.html"] = page
    fault_install.html_source()
    assert fault_install.cli("poll").exit_code == 0
    with fault_install.db() as conn:  # the store starts failing on every new notice
        conn.execute("CREATE TRIGGER boom BEFORE INSERT ON notices BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    state["rows"] = rows("D", 2) + state["rows"]
    failed = fault_install.cli("poll", "--all")
    assert failed.exit_code == 1
    assert "store-error" in failed.stdout and "disk I/O error" in failed.stdout
    assert fault_install.last_poll()["state"] == "store-error"
    assert fault_install.source_state()["etag"] == '"3"'  # the old page's validators, not the new one's
    assert fault_install.source_state()["state"] != "layout-changed"
    with fault_install.db() as conn:
        conn.execute("DROP TRIGGER boom")
    fixed = fault_install.cli("poll", "--all")
    assert fixed.exit_code == 0 and " 2 new" in fixed.stdout
    assert {t for t, _, _ in state["rows"]} == fault_install.titles()
