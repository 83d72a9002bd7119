"""End to end on the real PBC list page: baseline, new notices, an edit, a 304."""

from __future__ import annotations

import lxml.html

from .conftest import PBC_LIST_P1, PBC_LIST_PATH, Install

PBC_ROW = 'td[height="22"]'
NEW_ITEMS = [
    {"title": "中国人民银行公告〔2026〕第21号", "href": "/goutongjiaoliu/113456/113469/2026081209000000001/index.html",
     "date": "2026-08-12"},
    {"title": "2026年7月金融统计数据报告", "href": "/goutongjiaoliu/113456/113469/2026081209000000002/index.html",
     "date": "2026-08-12"},
    {"title": "中国人民银行、国家外汇管理局召开2026年下半年工作会议", "href":
     "/goutongjiaoliu/113456/113469/5868999/index.html", "date": "2026-08-11"},
]


def real_titles() -> list[str]:
    root = lxml.html.fromstring(PBC_LIST_P1.read_text(encoding="utf-8"))
    return [a.get("title") for a in root.cssselect('a[istitle="true"]')]


def events(install: Install) -> list[tuple[str, str]]:
    with install.db() as conn:
        return [(r["kind"], r["title"]) for r in conn.execute(
            "SELECT e.kind, n.title FROM events e JOIN notices n ON n.id = e.notice_id ORDER BY e.id")]


def test_baseline_then_new_then_edit_then_304(pbc_install: Install) -> None:
    replay = pbc_install.replay

    # 1. First poll: a silent baseline of the 15 real notices.
    first = pbc_install.cli("poll")
    assert first.exit_code == 0, first.output
    stored = pbc_install.cli_json("notices", "--limit", "100")
    assert stored["count"] == 15
    assert sorted(n["title"] for n in stored["notices"]) == sorted(real_titles())
    assert all(n["baseline"] for n in stored["notices"])
    assert all(n["url"].startswith("https://www.pbc.gov.cn/goutongjiaoliu/113456/113469/")
               for n in stored["notices"])
    assert events(pbc_install) == []

    # 2. Three notices appear on the page: exactly those three are new and marked for delivery.
    replay.add_items(PBC_LIST_PATH, PBC_ROW, NEW_ITEMS, date_selector="span.hui12")
    second = pbc_install.cli("poll", "--all")
    assert second.exit_code == 0, second.output
    assert "3 new" in second.stdout
    assert events(pbc_install) == [("new", item["title"]) for item in NEW_ITEMS]
    stored = pbc_install.cli_json("notices", "--since", "2026-08-11")
    new = {n["title"]: n for n in stored["notices"] if not n["baseline"]}
    assert set(new) == {item["title"] for item in NEW_ITEMS}
    assert new["2026年7月金融统计数据报告"]["published"] == "2026-08-12"
    assert new["2026年7月金融统计数据报告"]["url"] == (
        "https://www.pbc.gov.cn/goutongjiaoliu/113456/113469/2026081209000000002/index.html")

    # 3. One title is corrected on the site: one edit, the old title kept in history.
    old_title = "中国人民银行与马来西亚国家银行续签双边本币互换协议"
    fixed_title = "中国人民银行与马来西亚国家银行续签双边本币互换协议（更新）"
    replay.replace_text(PBC_LIST_PATH, old_title, fixed_title)
    third = pbc_install.cli("poll", "--all")
    assert third.exit_code == 0, third.output
    assert "0 new, 1 edited" in third.stdout
    with pbc_install.db() as conn:
        notice = conn.execute("SELECT id, title, version FROM notices WHERE title = ?", (fixed_title,)).fetchone()
        history = conn.execute("SELECT title, version FROM notice_history WHERE notice_id = ?",
                               (notice["id"],)).fetchall()
        assert notice["version"] == 2
        assert [(h["title"], h["version"]) for h in history] == [(old_title, 1)]
        assert conn.execute("SELECT count(*) FROM notices").fetchone()[0] == 18
    assert events(pbc_install)[-1] == ("edited", fixed_title)

    # 4. Nothing changed: the server answers 304 and nothing is parsed or stored.
    fourth = pbc_install.cli("poll", "--all")
    assert fourth.exit_code == 0, fourth.output
    assert replay.log[-1].status == 304
    sources = pbc_install.cli_json("sources")["sources"]
    last = sources[0]["last_poll"]
    assert (last["http_status"], last["pages"], last["items_seen"], last["state"]) == (304, 0, 0, "ok-no-new")
    assert len(events(pbc_install)) == 4


def test_poll_skips_sources_not_due(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    again = pbc_install.cli("poll")
    assert again.exit_code == 0
    assert "no source is due" in again.stdout
    assert len(pbc_install.replay.requests(PBC_LIST_PATH)) == 1


def test_burst_larger_than_a_page_reads_older_pages(pbc_install: Install) -> None:
    """More new notices than fit on page 1 must not be missed: regwatch reads on until it meets known ones."""
    replay = pbc_install.replay
    replay.set_page("www.pbc.gov.cn/goutongjiaoliu/113456/113469/11040-2.html",
                    PBC_LIST_P1.read_bytes(), "text/html; charset=utf-8")
    assert pbc_install.cli("poll").exit_code == 0  # baseline: page 1 only (backfill_pages = 1)
    # 15 new notices push the whole old page 1 to page 2.
    burst = [{"title": f"测试通知第{i}号", "href": f"/goutongjiaoliu/113456/113469/77{i:05d}/index.html",
              "date": "2026-08-13"} for i in range(15)]
    page1 = PBC_LIST_P1.read_text(encoding="utf-8")
    replay.set_page(PBC_LIST_PATH, page1.encode(), "text/html; charset=utf-8")
    replay.add_items(PBC_LIST_PATH, PBC_ROW, burst, date_selector="span.hui12")
    # keep only the 15 burst rows on page 1, as the site would
    text = replay.page(PBC_LIST_PATH).decode()
    root = lxml.html.fromstring(text)
    for cell in root.cssselect(PBC_ROW)[15:]:
        table = next(cell.iterancestors("table"))
        table.getparent().remove(table)
    replay.set_page(PBC_LIST_PATH, lxml.html.tostring(root, encoding="unicode").encode(), "text/html; charset=utf-8")

    result = pbc_install.cli("poll", "--all")
    assert result.exit_code == 0, result.output
    assert "15 new" in result.stdout
    assert {t for _, t in events(pbc_install)} == {b["title"] for b in burst}
    assert [r.status for r in replay.requests("www.pbc.gov.cn/goutongjiaoliu/113456/113469/11040-2.html")] == [200]
