"""The pure format functions, table by table: what regulators write in, what regwatch reads out."""

from __future__ import annotations

from datetime import datetime

import pytest

from regwatch.clock import SHANGHAI
from regwatch.deliver.escape import markdown_text, one_line, safe_url, slack_text
from regwatch.deliver.model import http_url, visible_text
from regwatch.parse.dates import parse_date, parse_datetime
from regwatch.parse.detail import find_deadline, find_doc_number, normalise_doc_number


@pytest.mark.parametrize(("title", "body", "expected"), [
    ("中国人民银行公告〔2026〕第21号", "", "中国人民银行公告〔2026〕第21号"),
    ("国家互联网信息办公室令第18号", "", "国家互联网信息办公室令第18号"),
    ("关于印发《人民币跨境收付信息管理系统管理办法》的通知", "银发[2017]126号\n各分行：", "银发〔2017〕126号"),
    ("关于开展专项检查的通知", "各有关单位：\n工信部信管函﹝2026﹞12号\n", "工信部信管函〔2026〕12号"),
    ("关于开展专项检查的通知", "根据《关于加强管理的通知》（国办发〔2020〕1号）要求，", None),  # cited, not its own
    ("关于开展专项检查的通知", "为落实有关要求，现通知如下。", None),
])
def test_doc_numbers(title: str, body: str, expected: str | None) -> None:
    assert find_doc_number(title, body) == expected


@pytest.mark.parametrize(("raw", "normal"), [
    ("银发[2017]126号", "银发〔2017〕126号"), ("工信部信管函﹝2026﹞12号", "工信部信管函〔2026〕12号"),
    ("国办发〔2020〕1号", "国办发〔2020〕1号"),
])
def test_doc_number_brackets_are_one_kind(raw: str, normal: str) -> None:
    assert normalise_doc_number(raw) == normal


@pytest.mark.parametrize(("body", "deadline"), [
    ("请于2026年10月14日前反馈意见。", "2026-10-14"),
    ("意见反馈截止日期为2026年10月17日。", "2026-10-17"),
    ("欢迎提出意见，截至2026年9月30日。", "2026-09-30"),
    ("公众可在2026年11月1日至2026年11月30日期间通过电子邮件提出意见。", "2026-11-30"),  # a period: its end
    ("请于2026年11月1日至2026年11月30日期间反馈意见", "2026-11-30"),
    ("征求意见时间：2026-09-01至2026-09-30", "2026-09-30"),
    ("会议于2026年10月14日召开。", None),  # a date, but not about comments
    ("请在2026年2月30日前反馈意见。", None),  # no such day
    ("", None),
])
def test_comment_deadlines(body: str, deadline: str | None) -> None:
    assert find_deadline(body) == deadline


@pytest.mark.parametrize(("text", "moment"), [
    ("2026-08-12", datetime(2026, 8, 12, tzinfo=SHANGHAI)),
    ("2026年8月12日 09:30", datetime(2026, 8, 12, 9, 30, tzinfo=SHANGHAI)),
    ("发布时间：2026/08/12 9:05:07", datetime(2026, 8, 12, 9, 5, 7, tzinfo=SHANGHAI)),
    ("1723426200000", datetime(2024, 8, 12, 9, 30, tzinfo=SHANGHAI)),  # epoch milliseconds (MIIT's API)
    ("1723426200", datetime(2024, 8, 12, 9, 30, tzinfo=SHANGHAI)),  # epoch seconds
    ("20260812", datetime(2026, 8, 12, tzinfo=SHANGHAI)),
    ("2026-02-30", None), ("无日期", None), ("", None), (None, None),
])
def test_dates_are_read_as_beijing_time(text: str | None, moment: datetime | None) -> None:
    assert parse_datetime(text) == moment
    assert parse_date(text) == (moment.date().isoformat() if moment else None)


@pytest.mark.parametrize(("text", "markdown", "slack"), [
    ("[link](http://evil.example) *b* @all", "［link］（http://evil.example） ＊b＊ ＠all",
     "[link](http://evil.example) *b* @all"),
    ("<!channel> & <https://evil|x>", "＜！channel＞ & ＜https://evil｜x＞", "&lt;!channel&gt; &amp; &lt;https://evil|x&gt;"),
    ("a\n\nb   c", "a b c", "a b c"),
])
def test_regulator_text_cannot_become_markup(text: str, markdown: str, slack: str) -> None:
    assert markdown_text(text) == markdown
    assert slack_text(text) == slack


def test_long_text_is_cut_on_a_character_with_an_ellipsis() -> None:
    assert one_line("关于开展网络数据安全检查的通知", 6) == "关于开展网…"
    assert one_line("短", 6) == "短"


@pytest.mark.parametrize(("url", "safe"), [
    ("https://www.cac.gov.cn/a b.htm", "https://www.cac.gov.cn/a%20b.htm"),
    ("http://x.example/)]", "http://x.example/%29%5D"),  # cannot close a Markdown link
    ("javascript:alert(1)", None), ("ftp://x.example/", None), ("//x.example/y", None), (None, None),
])
def test_only_http_links_survive(url: str | None, safe: str | None) -> None:
    assert safe_url(url) == safe


@pytest.mark.parametrize(("url", "kept"), [
    ("https://www.cac.gov.cn/x", "https://www.cac.gov.cn/x"), ("HTTP://WWW.PBC.GOV.CN/", "HTTP://WWW.PBC.GOV.CN/"),
    ("data:text/html;base64,PHNjcmlwdD4=", None), ("javascript:alert(1)", None), ("http:///x", None),
])
def test_alert_links_are_http_only(url: str, kept: str | None) -> None:
    assert http_url(url) == kept


@pytest.mark.parametrize(("text", "visible"), [
    ("关于\u202e知通\u202c的通报", "关于知通的通报"), ("网络\u200b安全\ufeff", "网络安全"),
    ("\u2066隔离\u2069", "隔离"), ("行\x00内\x07", "行内"), ("第一行\n第二行\t", "第一行\n第二行\t"),
])
def test_invisible_and_bidi_characters_are_removed(text: str, visible: str) -> None:
    assert visible_text(text) == visible
