"""Full-text search and `show`, over the store filled by polling the whole fixture site."""

from __future__ import annotations

import sqlite3
import time

from regwatch.store.db import MIGRATIONS, SCHEMA_VERSION, open_db, open_reader, transaction
from regwatch.store.filters import NoticeFilter
from regwatch.store.search import fts_query
from regwatch.store.search import search as store_search

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


def test_notices_a_poll_queued_for_the_index_are_found_before_it_is_built_and_after(site_install: Install) -> None:
    """A poll only queues its new notices for the index; a reader that cannot index (the service's web
    view) still finds them, and `regwatch search` indexes the queue first — the same answers either way."""
    assert site_install.cli("poll").exit_code == 0
    with site_install.db() as conn:
        queued = conn.execute("SELECT count(*) FROM search_pending").fetchone()[0]
        stored = conn.execute("SELECT count(*) FROM notices").fetchone()[0]
        indexed = conn.execute("SELECT count(*) FROM notice_search").fetchone()[0]  # those whose pages were read
        assert queued > 20 and queued + indexed == stored
    reader = open_reader(site_install.db_path)
    queries = [("个人信息 出境", NoticeFilter()), ("gdpr", NoticeFilter()), ("数据", NoticeFilter(agency="CAC"))]
    before = [[r["id"] for r in store_search(reader, q, where, 50)] for q, where in queries]
    assert all(before)
    assert search(site_install, "出境")  # the CLI indexes the queue, then searches the index
    with site_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM notice_search").fetchone()[0] == stored
    after = [[r["id"] for r in store_search(reader, q, where, 50)] for q, where in queries]
    assert after == before


def test_a_search_while_a_writer_holds_the_store_scans_the_queue_instead_of_waiting(site_install: Install) -> None:
    assert site_install.cli("poll").exit_code == 0
    writer = sqlite3.connect(site_install.db_path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # as a pass of the service does between its commits
    try:
        started = time.monotonic()
        found = search(site_install, "个人信息", "--limit", "50")
        waited = time.monotonic() - started
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert "个人信息出境标准合同办法" in [r["title"] for r in found]
    assert waited < 10  # two seconds for the lock, then the queue is scanned (the store's own timeout is 30 s)
    with site_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] > 0  # still queued


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


def test_a_store_from_before_search_gets_its_index_built(tmp_path) -> None:
    """A real schema-10 store (before the index, versions, reminders and attachment text) with a notice,
    an alert queued and an attachment: opened by this regwatch, it is migrated and nothing is lost."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:10]:
        with transaction(conn):
            migration(conn)
    conn.execute("PRAGMA user_version = 10")
    now = "2026-06-01T00:00:00.000+00:00"
    for number, title in ((1, "关于《数据出境安全办法（征求意见稿）》公开征求意见的通知"), (2, "数据出境安全办法")):
        conn.execute("INSERT INTO notices (id, identity, source_id, agency, url, title, published, first_seen,"
                     " last_seen, body, status) VALUES (?, ?, 'pbc-news', 'PBC', ?, ?, ?, ?, ?, ?, ?)",
                     (number, f"https://www.pbc.gov.cn/{number}", f"https://www.pbc.gov.cn/{number}", title,
                      f"2026-0{number}-01", now, now, "人民银行与境外央行签署货币互换协议",
                      "draft" if number == 1 else "final"))
    conn.execute("INSERT INTO outbox (subscription, dedupe_key, kind, notice_id, next_attempt_at, created_at)"
                 " VALUES ('team', 'event:1', 'new', 2, ?, ?)", (now, now))
    conn.execute("INSERT INTO attachments (notice_id, name, url, type) VALUES (2, '全文.pdf', 'https://www.pbc.gov.cn/a.pdf',"
                 " 'pdf')")
    conn.close()
    upgraded = open_db(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert [r[0] for r in upgraded.execute("SELECT rowid FROM notice_search WHERE notice_search MATCH ?",
                                           (fts_query("互换协议"),))] == [1, 2]
    assert upgraded.execute("SELECT follows FROM notices WHERE id = 2").fetchone()[0] == 1  # the final follows
    assert upgraded.execute("SELECT subscription, kind, state FROM outbox").fetchall() == [("team", "new", "pending")]
    assert upgraded.execute("SELECT state FROM attachments").fetchall() == [("skipped",)]  # not all fetched at once


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
