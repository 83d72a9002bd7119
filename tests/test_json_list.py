"""The generic JSON list family: paths as data, a JSON POST as the NPC law database wants it, clear errors."""

from __future__ import annotations

import json

from regwatch.parse import Page, make_parser
from regwatch.replay import ScriptedResponse

from .conftest import Install

FLK = "flk.npc.gov.cn/law-search/search/list"


def parser(**options: object):  # type: ignore[no-untyped-def]
    return make_parser({"kind": "json", **options}, "test.toml", "source[0].parser")


def test_paths_templates_and_dates_are_read_as_the_watchlist_says() -> None:
    answer = {"searchVO": {"listVO": [
        {"title": "国务院关于<em>数据</em>安全的通知", "url": "/zhengce/content/202611/content_1.htm",
         "pubtime": 1764547200000, "pcode": "国发〔2026〕9号", "puborg": "国务院"},
        {"title": "", "url": "/x"},  # no title: not a notice
    ]}}
    p = parser(items="searchVO.listVO", title="title", url="url", date="pubtime", doc_number="pcode",
               issuer="puborg")
    result = p.parse(Page("https://sousuo.www.gov.cn/search-gov/data?p=1", json.dumps(answer, ensure_ascii=False)))
    (item,) = result.items
    assert item.title == "国务院关于数据安全的通知"  # highlight tags stripped
    assert item.url == "https://sousuo.www.gov.cn/zhengce/content/202611/content_1.htm"
    assert item.published == "2025-12-01"  # epoch milliseconds, read in Beijing time
    assert item.extra == {"doc_number": "国发〔2026〕9号", "issuer": "国务院"}
    assert result.rows_read == 2

    template = parser(items="rows", title="flxxmc", url_template="http://www.npc.gov.cn/flcaw/userIndex.html?lid={flxxId}",
                      date="ksrq", deadline="jsrq", issuer_name="全国人大常委会法制工作委员会")
    (draft,) = template.parse(Page("http://www.npc.gov.cn/flcaw/flca-list", json.dumps(
        {"rows": [{"flxxId": "ff80", "flxxmc": "网络安全法（修正草案）", "ksrq": "2026-11-01", "jsrq": "2026-11-30"}]},
        ensure_ascii=False))).items
    assert draft.url == "http://www.npc.gov.cn/flcaw/userIndex.html?lid=ff80"
    assert draft.extra == {"deadline": "2026-11-30", "issuer": "全国人大常委会法制工作委员会"}


def test_a_broken_answer_says_what_is_wrong_instead_of_an_empty_list() -> None:
    p = parser(items="rows", ok_path="code", ok_value="200")
    page = "https://flk.npc.gov.cn/law-search/search/list"
    assert "not JSON" in (p.parse(Page(page, "<html>登录</html>")).problem or "")
    assert p.parse(Page(page, '{"code": 500, "msg": "busy"}')).problem == "the API answered code = 500, not 200"
    assert "no list of items at 'rows'" in (p.parse(Page(page, '{"code": 200, "data": {}}')).problem or "")


def test_the_law_database_is_asked_with_a_json_post_and_paged(site_install: Install) -> None:
    """npc-laws: POST with a JSON body, its Origin/Referer headers; the baseline reads page 2 as well."""
    site_install.write_config('sources = ["npc-laws"]\n[detail]\nenabled = false')
    assert site_install.cli("poll").exit_code == 0
    posts = [r for r in site_install.replay.log if r.path == FLK]
    assert [r.method for r in posts] == ["POST", "POST"]
    bodies = [json.loads(r.form) for r in posts]
    assert [b["pageNum"] for b in bodies] == [1, 2] and bodies[0]["flfgCodeId"] == [102, 195, 200]
    assert all("json" in r.headers["Content-Type"] and r.headers["Origin"] == "https://flk.npc.gov.cn"
               for r in posts)
    with site_install.db() as conn:
        laws = {r[0] for r in conn.execute("SELECT title FROM notices WHERE source_id = 'npc-laws'")}
    assert "中华人民共和国能源法" in laws and len(laws) == 5


def test_an_api_error_is_a_health_state_not_silence(site_install: Install) -> None:
    site_install.write_config('sources = ["npc-laws"]\n[detail]\nenabled = false')
    site_install.replay.respond(FLK, ScriptedResponse(status=200, body=b'{"code": 500, "msg": "system busy"}',
                                                      headers={"Content-Type": "application/json"}, times=None))
    result = site_install.cli("poll")
    assert "layout-changed" in result.stdout
    (source,) = site_install.cli_json("sources")["sources"]
    assert source["state"] == "layout-changed" and "code = 500" in source["last_error"]

