"""Full-text search and `show`, over the store filled by polling the whole fixture site."""

from __future__ import annotations

import sqlite3

from regwatch.store.db import open_db

from .conftest import REAL, Install
from .test_deliver import add_notices

DETAIL = (REAL / "pbc" / "detail_goutongjiaoliu_2025-annual-financial-statistics-report.html").read_bytes()


def search(install: Install, *args: str) -> list[dict]:
    return install.cli_json("search", *args)["results"]


def test_chinese_two_character_words_english_words_and_filters(site_install: Install) -> None:
    assert site_install.cli("poll").exit_code == 0
    found = search(site_install, "出境")  # two characters: shorter than a trigram
    assert found and all("出境" in r["title"] or "出境" in r["snippet"] for r in found)
    titles = [r["title"] for r in search(site_install, "个人信息", "--limit", "50")]
    assert "个人信息出境标准合同办法" in titles
    cac = search(site_install, "个人信息", "--agency", "CAC", "--limit", "50")
    assert cac and {r["agency"] for r in cac} == {"CAC"} and len(cac) < len(titles)
    both = search(site_install, "个人信息 出境", "--limit", "50")  # every word must appear
    assert both and len(both) < len(titles)
    assert all("个人信息" in r["title"] + r["snippet"] for r in both)
    english = search(site_install, "gdpr")  # case folded
    assert english and all("GDPR" in r["title"] for r in english)
    assert search(site_install, "easier", "compliance")  # both words, in any order
    assert [r["title"][:29] for r in search(site_install, '"compliance easier"')] == ["Making GDPR compliance easier"]
    assert search(site_install, '"easier compliance"') == []  # a quoted phrase, as written
    laws = search(site_install, "法", "--category", "Legislation", "--since", "2025-01-01", "--limit", "100")
    assert laws and all(r["category"] == "Legislation" for r in laws)
    assert all(r["published"] is None or r["published"] >= "2025-01-01" for r in laws)  # undated: first seen now


def test_a_title_hit_ranks_above_a_body_hit_and_snippets_mark_the_words(site_install: Install) -> None:
    assert site_install.cli("poll").exit_code == 0
    results = search(site_install, "征求意见", "--limit", "100")
    in_title = [i for i, r in enumerate(results) if "征求意见" in r["title"]]
    body_only = [i for i, r in enumerate(results) if "征求意见" not in r["title"]]
    assert in_title and body_only and max(in_title) < min(body_only)
    assert all("«征求意见»" in r["snippet"] for r in results)


def test_queries_with_search_syntax_or_nothing_to_find_answer_plainly(site_install: Install) -> None:
    assert site_install.cli("poll").exit_code == 0
    for hostile in ['" OR *', "NEAR(个人 信息)", "title:数据 AND", "; DROP TABLE notices --"]:
        result = site_install.cli("search", hostile)
        assert result.exit_code == 0, (hostile, result.output)
    none = site_install.cli("search", "不存在的词语组合")
    assert none.exit_code == 0 and "no notice matches" in none.stdout


def test_the_index_follows_edits_and_detail_bodies(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    item = add_notices(pbc_install, ["中国人民银行关于旧标题的通知"])[0]
    pbc_install.replay.set_page("www.pbc.gov.cn" + item["href"], DETAIL, "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert [r["title"] for r in search(pbc_install, "旧标题")] == ["中国人民银行关于旧标题的通知"]
    assert search(pbc_install, "社会融资规模")  # words of the detail page's body
    pbc_install.replay.replace_text("www.pbc.gov.cn/goutongjiaoliu/113456/113469/index.html", "旧标题", "新标题")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert search(pbc_install, "旧标题") == []
    assert [r["title"] for r in search(pbc_install, "新标题")] == ["中国人民银行关于新标题的通知"]


def test_a_store_from_before_search_gets_its_index_built(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    with sqlite3.connect(pbc_install.db_path) as conn:  # back to the schema before the index existed (v10)
        conn.execute("DROP TABLE notice_search")
        for index in ("notices_deadline", "notices_effective"):
            conn.execute(f"DROP INDEX {index}")
        for column in ("deadline_sentence", "effective", "effective_sentence"):
            conn.execute(f"ALTER TABLE notices DROP COLUMN {column}")
        conn.execute("PRAGMA user_version = 10")
    open_db(pbc_install.db_path).close()
    assert search(pbc_install, "互换协议")


def test_show_prints_everything_stored_about_a_notice(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    notice = pbc_install.cli_json("notices", "--limit", "1")["notices"][0]
    shown = pbc_install.cli("show", str(notice["id"]))
    assert shown.exit_code == 0
    text = shown.stdout
    assert notice["title"] in text and notice["url"] in text and "category:" in text
    assert "rules 2026." in text and " — " in text  # each rule with its note
    assert "alerts: none (baseline" in text
    full = pbc_install.cli_json("show", str(notice["id"]))
    assert full["id"] == notice["id"] and full["alerts"] == [] and isinstance(full["rules"], list)
    missing = pbc_install.cli("show", "999999")
    assert missing.exit_code != 0 and "no notice with id 999999" in missing.output
