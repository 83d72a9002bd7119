"""Chinese pages decode right whatever they declare: header, BOM, <meta>, or nothing at all."""

from __future__ import annotations

import asyncio

import pytest

from regwatch.config import FetchConfig
from regwatch.fetch import Fetcher, decode_body

from .conftest import Install

TITLES = ["关于进一步加强个人信息保护工作的通知", "网络数据安全管理条例（征求意见稿）", "《数据出境安全评估办法》解读"]


def list_page(meta: str) -> str:
    rows = "".join(
        f'<li><a href="/art/{i}.html" title="{t}">{t}</a><span>2026-09-0{i + 1}</span></li>'
        for i, t in enumerate(TITLES)
    )
    return f"<html><head>{meta}<title>通知公告</title></head><body><ul class=list>{rows}</ul></body></html>"


def fetch_text(replay, path: str) -> tuple[str, str]:
    async def go():
        async with Fetcher(FetchConfig(rewrite_to=replay.base_url, per_host_delay=0)) as fetcher:
            result = await fetcher.get(f"http://gov.example/{path}")
            return result.text, result.encoding

    return asyncio.run(go())


@pytest.mark.parametrize(("meta", "content_type", "codec"), [
    ('<meta charset="gbk">', "text/html", "gbk"),  # charset only in <meta>
    ('<meta http-equiv="Content-Type" content="text/html; charset=gb2312">', "text/html", "gbk"),
    ("", "text/html", "gbk"),  # no declaration anywhere
    ('<meta charset="gbk">', "text/html; charset=ISO-8859-1", "gbk"),  # a lazy server default label
    ("", "text/html; charset=GBK", "gbk"),  # header only
    ("", "text/html", "utf-8"),  # UTF-8 with no declaration
    ('<meta charset="utf-8">', "text/html; charset=gbk", "utf-8"),  # wrong header label
])
def test_pages_decode_through_real_http(replay, meta: str, content_type: str, codec: str) -> None:
    replay.set_page("gov.example/list.html", list_page(meta).encode(codec), content_type)
    text, _ = fetch_text(replay, "list.html")
    for title in TITLES:
        assert title in text


def test_bom_wins() -> None:
    body = b"\xef\xbb\xbf" + list_page('<meta charset="gbk">').encode("utf-8")
    text, codec, _ = decode_body(body, "text/html")
    assert codec == "utf-8-sig" and TITLES[0] in text


def test_rare_characters_need_gb18030_not_gbk() -> None:
    # 䶮 (U+4DAE) is outside GBK; a page labelled gb2312 that uses it is really GB18030.
    body = list_page("<meta charset=gb2312>").replace(TITLES[0], "刘䶮").encode("gb18030")
    text, _, _ = decode_body(body, "text/html")
    assert "刘䶮" in text


def test_gbk_list_is_stored_with_correct_titles(install: Install) -> None:
    install.replay.set_page("gov.example/list.html", list_page('<meta charset="gbk">').encode("gbk"), "text/html")
    install.add_watchlist("test.toml", """
agency = "TEST"
[[source]]
id = "gbk-list"
url = "https://gov.example/list.html"
[source.parser]
kind = "html"
item = "ul.list li"
""")
    assert install.cli("poll").exit_code == 0
    stored = install.cli_json("notices")
    assert sorted(n["title"] for n in stored["notices"]) == sorted(TITLES)
    assert {n["published"] for n in stored["notices"]} == {"2026-09-01", "2026-09-02", "2026-09-03"}
