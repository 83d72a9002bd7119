"""Generic HTML lists whose rows are known by what they link to (TC260, SPP), and dates taken from links."""

from __future__ import annotations

from pathlib import Path

import lxml.html

from regwatch.parse import Page, make_parser
from regwatch.parse.html_list import text_of


def parser(**options: object):  # type: ignore[no-untyped-def]
    return make_parser({"kind": "html", **options}, "test.toml", "source[0].parser")


PAGE = """<html><body>
<ul class="menu"><li>栏目<ul><li><a href="/spp/sfjs/202611/t20261105_700001.shtml">（2024年8月19日）最高人民法院、
最高人民检察院关于办理洗钱刑事案件适用法律若干问题的解释</a><span>2026-11-05</span></li></ul></li>
<li><a href="/spp/index.shtml">首页</a></li></ul>
<div><ul><li><a href="/spp/sfjs/202610/t20261030_700002.shtml">关于办理拒不执行判决、裁定刑事案件的解释</a>
</li></ul></div>
</body></html>"""


def test_rows_are_the_items_that_hold_an_article_link_and_the_link_dates_them() -> None:
    p = parser(item='li:has(a[href*="/t20"][href$=".shtml"]):not(:has(li))',
               title='a[href*="/t20"][href$=".shtml"]', link='a[href*="/t20"][href$=".shtml"]', date_in_url=True)
    result = p.parse(Page("https://www.spp.gov.cn/spp/sfjs/index.shtml", PAGE))
    assert [(i.url, i.published) for i in result.items] == [
        ("https://www.spp.gov.cn/spp/sfjs/202611/t20261105_700001.shtml", "2026-11-05"),  # not the title's 2024
        ("https://www.spp.gov.cn/spp/sfjs/202610/t20261030_700002.shtml", "2026-10-30")]
    assert result.items[0].title.startswith("（2024年8月19日）最高人民法院、最高人民检察院")  # one line, whole
    assert result.rows == 2  # the menu's outer item and the 首页 link are not notices


def test_without_date_in_url_the_rows_own_date_is_read() -> None:
    p = parser(item='li:has(a[href*="/t20"]):not(:has(li))', title="a", link="a[href]", date="span")
    (first, second) = p.parse(Page("https://www.spp.gov.cn/spp/sfjs/index.shtml", PAGE)).items
    assert first.published == "2026-11-05" and second.published is None


def test_a_rows_text_is_what_text_content_gives() -> None:
    """Rows are read with libxml2's text serialization (4x cheaper than text_content's XPath): the same
    text for every element of the saved agency pages, and for comments, scripts, entities and breaks."""
    pages = sorted((Path(__file__).parent / "fixtures").rglob("*.htm*"))
    markup = ['<ul><li>关于<!-- 注 -->通知<script>x()</script>&nbsp;<br/>2026-08-14<?pi x?></li></ul>',
              '<div><p>一<b>二</b>三</p>尾</div>']
    roots = [lxml.html.fromstring(page.read_bytes()) for page in pages] + [lxml.html.fromstring(m) for m in markup]
    elements = [el for root in roots for el in root.iter() if isinstance(el.tag, str)]
    assert len(pages) >= 50 and len(elements) > 10_000
    assert [text_of(el) for el in elements] == [el.text_content() for el in elements]


def test_a_list_page_is_read_as_a_whole_document_whatever_it_starts_with() -> None:
    """A list is the same list with or without its <html> (some CMS list endpoints answer a bare fragment,
    some pages start with a comment or an XML declaration): selectors that name the page's structure
    from its root find the same rows, and a next-page link outside the list is still found."""
    rows = '<ul class="list"><li><a href="/a/1.html">关于一的通知</a> 2026-11-05</li>' \
           '<li><a href="/a/2.html" title="关于二的公告">关于二…</a> 2026-11-04</li></ul>'
    pages = [f"<html><body>{rows}<a class='next' href='?p=2'>下一页</a></body></html>",
             f"{rows}<a class='next' href='?p=2'>下一页</a>",
             f"<!-- 栏目 -->\n{rows}<a class='next' href='?p=2'>下一页</a>",
             f"<?xml version='1.0' encoding='gbk'?>\n<div>{rows}</div><a class='next' href='?p=2'>下一页</a>"]
    p = parser(item="body ul.list > li", next_page="a.next")
    for text in pages:
        result = p.parse(Page("https://www.example.gov.cn/a/index.html", text))
        assert [(i.title, i.url, i.published) for i in result.items] == [
            ("关于一的通知", "https://www.example.gov.cn/a/1.html", "2026-11-05"),
            ("关于二的公告", "https://www.example.gov.cn/a/2.html", "2026-11-04")], text
        assert result.next_page_url == "https://www.example.gov.cn/a/index.html?p=2"
