"""A notice that leaves its list while newer ones stay, and whose page then answers 404, is reported once
as possibly withdrawn; one that only moved off the list (its page still answers) is not."""

from __future__ import annotations

from regwatch.replay import ScriptedResponse
from regwatch.store.db import json_list, open_db
from regwatch.store.withdrawals import MISSING_QUERY

from .conftest import PBC_LIST_PATH, Install
from .test_deliver import add_notices, configure, receivers  # noqa: F401  (the fixture is used by name)

PAGE = '<html><head><meta charset="utf-8"></head><body><div id="zoom"><p>{}</p></div></body></html>'


def withdrawn_messages(hook) -> list[dict]:
    return [m.payload for m in hook.messages if m.payload["type"] == "notice.withdrawn"]


def test_a_notice_gone_from_its_list_and_its_page_is_reported_once(pbc_install: Install, receivers) -> None:  # noqa: F811
    hook = receivers("webhook")
    configure(pbc_install, [("team", hook, {})])
    site = pbc_install.replay
    assert pbc_install.cli("poll").exit_code == 0  # the baseline
    (kept,) = add_notices(pbc_install, ["中国人民银行公告〔2026〕第41号"], day="2026-11-27")
    site.set_page("www.pbc.gov.cn" + kept["href"], PAGE.format(kept["title"]).encode(), "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    without_them = site.page(PBC_LIST_PATH)  # the list as it will be again when two notices leave it
    moved, gone = add_notices(pbc_install, ["关于开展支付服务检查的通知", "中国人民银行公告〔2026〕第42号"],
                              day="2026-11-28")
    for item in (moved, gone):
        site.set_page("www.pbc.gov.cn" + item["href"], PAGE.format(item["title"]).encode(), "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    alerted = [n["title"] for m in hook.messages for n in m.payload["data"]["notices"]]
    assert sorted(alerted) == sorted(i["title"] for i in (kept, moved, gone)) and withdrawn_messages(hook) == []

    # The list drops two of them (older notices stay on it); one's page is gone, the other's still answers.
    site.set_page(PBC_LIST_PATH, without_them, "text/html; charset=utf-8")
    site.respond("www.pbc.gov.cn" + gone["href"], ScriptedResponse(404, b"not found", times=None))
    result = pbc_install.cli("poll", "--all")
    assert result.exit_code == 0, result.output
    assert "possibly withdrawn: 1" in result.output

    (message,) = withdrawn_messages(hook)
    notice = message["data"]["notices"][0]
    assert notice["title"] == gone["title"] and "its page answers HTTP 404" in notice["note"]
    assert "no longer listed at pbc-news" in notice["note"]
    with pbc_install.db() as conn:
        states = {r["title"]: (r["missing_since"] is not None, r["missing_checked_at"] is not None,
                               r["withdrawn_at"] is not None)
                  for r in conn.execute("SELECT title, missing_since, missing_checked_at, withdrawn_at FROM notices")}
    assert states[gone["title"]] == (True, False, True)
    assert states[moved["title"]] == (True, True, False)  # its page answered: only off the list, asked once
    assert all(state == (False, False, False) for title, state in states.items()
               if title not in (gone["title"], moved["title"]))  # the baseline, older than the window, untouched

    asked = len(site.requests("www.pbc.gov.cn" + moved["href"]))
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert len(withdrawn_messages(hook)) == 1  # once, however often it is still missing
    assert len(site.requests("www.pbc.gov.cn" + moved["href"])) == asked  # and the moved one is not asked again


def test_the_check_for_missing_notices_reads_their_index_not_every_notice_of_the_sources(tmp_path) -> None:
    """Each pass asks which of its sources' notices went missing; the few that did have an index of their
    own, and the query must use it — through the index by source it read all their notices every pass."""
    conn = open_db(tmp_path / "store.sqlite")
    plan = " ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + MISSING_QUERY,
                                                    (json_list(f"s{i}" for i in range(40)), 20)))
    assert "notices_missing" in plan and "notices_source" not in plan, plan
