"""Versions of one instrument: a draft and its final text linked by the instrument's name, the final's
alert saying so with what changed article by article, and `regwatch diff` showing it."""

from __future__ import annotations

import json
import shutil

import pytest

from regwatch.articles import chinese_number, compare, inline_diff, split_articles
from regwatch.parse.instrument import instrument_key, is_amendment, relation
from regwatch.store.versions import link_versions
from regwatch.watchlist import load_watchlists

from .conftest import PBC_LIST_PATH, Install
from .test_deliver import add_notices, configure, receivers  # noqa: F401  (the fixture is used by name)

# (title, the key it must have): drafts, finals, amendments, editions, across the bodies' title frames.
SAME_INSTRUMENT = [
    ("关于《网络数据安全管理条例（征求意见稿）》公开征求意见的通知", "网络数据安全管理条例"),
    ("网络数据安全管理条例", "网络数据安全管理条例"),
    ("国家互联网信息办公室关于《个人信息出境认证办法（征求意见稿）》公开征求意见的通知", "个人信息出境认证办法"),
    ("关于公开征求《数据出境安全评估办法（征求意见稿）》意见的通知", "数据出境安全评估办法"),
    ("《互联网信息服务管理办法（修订草案征求意见稿）》再次公开征求意见", "互联网信息服务管理办法"),
    ("工业和信息化部关于印发《工业和信息化领域数据安全管理办法（试行）》的通知",
     "工业和信息化领域数据安全管理办法（试行）"),
    ("中华人民共和国医疗保障法（草案二次审议稿）", "医疗保障法"),
    ("关于修改《中华人民共和国网络安全法》的决定", "网络安全法"),
    ("中华人民共和国网络安全法修正草案", "网络安全法"),
    ("国务院关于修改《信息网络传播权保护条例》的决定", "信息网络传播权保护条例"),
    ("司法部关于《网络数据安全管理条例（送审稿）》公开征求意见的通知", "网络数据安全管理条例"),
]
# Titles that are instruments of their own, or none: never keyed as the instrument they quote.
NOT_THAT_INSTRUMENT = [
    ("山东省实施《反不正当竞争法》办法", "反不正当竞争法"),
    ("最高人民法院关于适用《刑事诉讼法》的解释", "刑事诉讼法"),
    ("日本《个人信息保护法》修订案公布（令和8年法律第56号）", "个人信息保护法"),
    ("国务院办公厅关于做好施行《中华人民共和国政府信息公开条例》准备工作的通知", "政府信息公开条例"),
]


@pytest.mark.parametrize(("title", "key"), SAME_INSTRUMENT)
def test_the_versions_of_an_instrument_share_its_name(title: str, key: str) -> None:
    assert instrument_key(title) == key


@pytest.mark.parametrize(("title", "quoted"), NOT_THAT_INSTRUMENT)
def test_an_instrument_that_only_quotes_another_is_not_a_version_of_it(title: str, quoted: str) -> None:
    assert instrument_key(title) != quoted


@pytest.mark.parametrize(("title", "key"), SAME_INSTRUMENT)
def test_white_space_in_a_title_does_not_change_its_key(title: str, key: str) -> None:
    """Pages break and pad titles with every kind of space (full-width, no-break, line breaks, tabs)."""
    spaced = title.replace("《", " 《\u3000").replace("》", "\xa0》").replace("（", "\r\n（ ").replace("办法", "办\t法")
    assert instrument_key(spaced) == key


def test_titles_that_name_no_instrument_have_no_key() -> None:
    for title in ("中国人民银行召开2026年第三季度工作会议", "ICO fines software provider £3 million", "工作动态",
                  "关于开展2026年清朗专项行动的通知"):
        assert instrument_key(title) is None, title


def test_relations_and_amendments() -> None:
    assert relation("draft", "final", "X办法") == "final"
    assert relation("draft", "draft", "X办法（第二次征求意见稿）") == "redraft"
    assert relation("final", "final", "关于修改《X条例》的决定") == "amendment"
    assert relation("final", "draft", "X法修正草案") == "draft-amendment"
    assert is_amendment("关于修改《X条例》的决定") and not is_amendment("X条例")


DRAFT = """第一章 总则
第一条 为了规范金融数据处理活动，保障金融数据安全，制定本办法。
第二条 在中华人民共和国境内开展金融数据处理活动，适用本办法。
第三条 金融机构应当建立金融数据安全管理制度，明确责任部门。
第四条 中国人民银行负责金融数据安全的监督管理。
第二章 附则
第五条 本办法由中国人民银行负责解释。
第六条 本办法自公布之日起施行。"""
FINAL = """第一章 总则
第一条 为了规范金融数据处理活动，保障金融数据安全，促进金融数据依法合理有效利用，制定本办法。
第二条 在中华人民共和国境内开展金融数据处理活动，适用本办法。
第三条 金融机构应当每年至少开展一次金融数据安全风险评估，并向中国人民银行报送评估报告。
第四条 金融机构应当建立健全金融数据安全管理制度，明确责任部门和责任人。
第五条 中国人民银行负责金融数据安全的监督管理。
第二章 附则
第六条 本办法自2026年12月1日起施行。"""


def test_articles_are_aligned_by_what_they_say_not_by_their_number() -> None:
    assert [chinese_number(x) for x in ("一", "十", "十二", "二十三", "一百零五", "一百二十", "99")] == \
        [1, 10, 12, 23, 105, 120, 99]
    assert [a.number for a in split_articles(DRAFT)] == [f"第{n}条" for n in "一二三四五六"]
    comparison = compare(DRAFT, FINAL)
    kinds = [(c.kind, c.old.number if c.old else None, c.new.number if c.new else None) for c in comparison.changes]
    assert kinds == [("changed", "第一条", "第一条"), ("unchanged", "第二条", "第二条"), ("added", None, "第三条"),
                     ("changed", "第三条", "第四条"), ("renumbered", "第四条", "第五条"),
                     ("removed", "第五条", None), ("changed", "第六条", "第六条")]
    assert comparison.summary() == "3 articles changed, 1 added, 1 removed, 1 renumbered"
    assert comparison.summary("zh") == "修改 3 条，新增 1 条，删除 1 条，调整序号 1 条"
    first = comparison.changes[0]
    assert first.old and first.new
    assert inline_diff(first.old.text, first.new.text) == \
        "为了规范金融数据处理活动，保障金融数据安全，{+促进金融数据依法合理有效利用，+}制定本办法。"
    assert not compare(DRAFT, DRAFT).differs and compare(DRAFT, DRAFT).summary() == "no change in 6 articles"


def test_texts_without_articles_are_compared_by_paragraph() -> None:
    comparison = compare("一、总体要求\n二、主要任务\n三、保障措施",
                         "一、总体要求\n二、主要任务和分工\n三、保障措施\n四、附则")
    assert not comparison.by_article and comparison.summary() == "1 paragraph changed, 1 added"
    assert split_articles("依照本法第三条的规定处理。") == []  # one article quoted in a sentence is no structure


def _page(title: str, body: str) -> bytes:
    paragraphs = "".join(f"<p>{line}</p>" for line in body.splitlines())
    return (f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>'
            f'<h2>{title}</h2><div id="zoom">{paragraphs}</div></body></html>').encode()


def test_the_final_text_alert_names_its_draft_and_what_changed(pbc_install: Install, receivers) -> None:  # noqa: F811
    hook, slack = receivers("webhook"), receivers("slack")
    configure(pbc_install, [("hook", hook, {}), ("team", slack, {"language": "en"})])
    assert pbc_install.cli("poll").exit_code == 0  # the baseline
    draft_title = "关于《中国人民银行金融数据安全管理办法（征求意见稿）》公开征求意见的通知"
    draft = add_notices(pbc_install, [draft_title], day="2026-08-01")[0]
    pbc_install.replay.set_page("www.pbc.gov.cn" + draft["href"], _page(
        draft_title, "现向社会公开征求意见，公众可在2026年9月1日前提出意见。\n" + DRAFT), "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    final = add_notices(pbc_install, ["中国人民银行金融数据安全管理办法"], day="2026-11-20")[0]
    pbc_install.replay.set_page("www.pbc.gov.cn" + final["href"], _page("中国人民银行金融数据安全管理办法", FINAL),
                                "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0

    with pbc_install.db() as conn:
        rows = {r["title"]: r for r in conn.execute("SELECT id, title, follows, instrument, deadline FROM notices")}
    draft_row, final_row = rows[draft_title], rows["中国人民银行金融数据安全管理办法"]
    assert final_row["follows"] == draft_row["id"] and draft_row["follows"] is None
    assert draft_row["deadline"] == "2026-09-01"

    last = hook.messages[-1].payload["data"]["notices"][0]
    assert last["title"] == "中国人民银行金融数据安全管理办法"
    assert last["follows"] == {
        "relation": "final", "id": draft_row["id"], "title": draft_title,
        "url": "https://www.pbc.gov.cn" + draft["href"], "published": "2026-08-01", "deadline": "2026-09-01",
        "changes": {"summary": "3 articles changed, 1 added, 1 removed, 1 renumbered", "by_article": True,
                    "changed": 3, "added": 1, "removed": 1, "renumbered": 1}}
    text = json.dumps(slack.messages[-1].payload, ensure_ascii=False)
    assert "Final version published" in text
    assert ("final version of the draft published on 2026-08-01, comments closed 2026-09-01: "
            "3 articles changed, 1 added, 1 removed, 1 renumbered") in text

    shown = pbc_install.cli_json("diff", str(final_row["id"]))
    assert shown["relation"] == "final" and shown["old"]["id"] == draft_row["id"]
    assert shown["counts"] == {"changed": 3, "added": 1, "removed": 1, "renumbered": 1, "unchanged": 1}
    added = next(c for c in shown["changes"] if c["kind"] == "added")
    assert added["new"] == "第三条" and "风险评估" in added["new_text"]
    printed = pbc_install.cli("diff", str(final_row["id"])).output
    assert "第四条 → 第五条 renumbered" in printed and "{+促进金融数据依法合理有效利用，+}" in printed
    assert f"follows:   #{draft_row['id']}" in pbc_install.cli("show", str(final_row["id"])).output
    alone = pbc_install.cli("diff", str(draft_row["id"]))
    assert alone.exit_code == 2 and "follows no earlier version" in alone.output

    with pbc_install.db() as conn:  # an existing store gets the same links when first opened (the migration)
        conn.execute("UPDATE notices SET instrument = NULL, follows = NULL")
        link_versions(conn, [r[0] for r in conn.execute("SELECT id FROM notices")])
        again = dict(conn.execute("SELECT id, follows FROM notices WHERE follows IS NOT NULL").fetchall())
    assert again == {final_row["id"]: draft_row["id"]}


def test_an_edit_in_place_says_what_changed(pbc_install: Install, receivers) -> None:  # noqa: F811
    hook = receivers("webhook")
    configure(pbc_install, [("team", hook, {"events": ["new", "edited"]})])
    assert pbc_install.cli("poll").exit_code == 0
    old_title, new_title = "关于金融数据安全管理的通知", "关于加强金融数据安全管理的通知"
    item = add_notices(pbc_install, [old_title], day="2026-11-20")[0]
    page = "www.pbc.gov.cn" + item["href"]
    pbc_install.replay.set_page(page, _page(old_title, DRAFT), "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    pbc_install.replay.replace_text(PBC_LIST_PATH, old_title, new_title)  # the site corrects its title …
    pbc_install.replay.set_page(page, _page(new_title, FINAL), "text/html; charset=utf-8")  # … and its text
    assert pbc_install.cli("poll", "--all").exit_code == 0
    edited = [m.payload for m in hook.messages if m.payload["type"] == "notice.updated"]
    assert len(edited) == 1
    notice = edited[0]["data"]["notices"][0]
    assert notice["title"] == new_title and notice["changes"] == (
        f"title was «{old_title}»; text: 3 articles changed, 1 added, 1 removed, 1 renumbered")
    printed = pbc_install.cli("diff", str(notice["id"])).output
    assert "edited in place: 3 articles changed" in printed and "before its last edit" in printed


def _links(install: Install) -> dict[str, tuple | None]:
    """Each notice (by identity: ids follow the order notices were stored in) and the title and date of
    the earlier version it follows (a draft reposted in two columns on one day is one version)."""
    with install.db() as conn:
        return {identity: (title, published) if title else None for identity, title, published in conn.execute(
            "SELECT n.identity, e.title, e.published FROM notices n LEFT JOIN notices e ON e.id = n.follows")}


def test_a_first_pass_links_versions_whatever_order_its_pages_were_stored_in(site_install: Install) -> None:
    """The same columns polled for the first time in opposite orders: every notice follows the same version
    (linked page by page, a final text stored before its draft from another column followed nothing)."""
    site_install.write_config('[watch]\nsets = ["core", "national", "courts", "provinces", "foreign"]\n'
                              "[detail]\nenabled = false\n", fetch_extra="per_host_concurrency = 1")
    reverse = Install(site_install.root / "reverse", site_install.replay)
    shutil.copytree(site_install.watchlists, reverse.watchlists)
    reverse.write_config('[watch]\nsets = ["core", "national", "courts", "provinces", "foreign"]\n'
                         "[detail]\nenabled = false\n", fetch_extra="per_host_concurrency = 1")
    ids = sorted(load_watchlists(site_install.watchlists))
    assert site_install.cli("poll", *(a for i in ids for a in ("--source", i)), "--no-deliver").exit_code == 0
    assert reverse.cli("poll", *(a for i in reversed(ids) for a in ("--source", i)), "--no-deliver").exit_code == 0
    forward, backward = _links(site_install), _links(reverse)
    assert len(forward) > 200 and sum(f is not None for f in forward.values()) > 10
    assert forward == backward
    with site_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM versions_pending").fetchone()[0] == 0
        # the pass set aside the names that one title gives: searching for every notice's version finds the same
        linked = dict(conn.execute("SELECT id, follows FROM notices").fetchall())
        link_versions(conn, list(linked))
        assert dict(conn.execute("SELECT id, follows FROM notices").fetchall()) == linked
