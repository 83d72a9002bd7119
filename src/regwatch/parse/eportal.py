"""PBC's "easysite/eportal" list pages.

Rows are `td[height="22"]` cells holding `font.newslist_style > a[title][istitle="true"]`, with the
date in a sibling `span.hui12`. The page file for older pages (`11040-2.html`, `3b3662a6-2.html`, …)
differs per column, so it is read from the page — the 下一页 link's `tagname`, else the `jumpTo`
template — and never built. Article ids come in any length (7 and 19 digits seen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

from lxml import etree

from .._schema import checked
from ._base import Page, register
from .html_list import HtmlListOptions, HtmlListParser, css, text_of, valid_css, valid_row_css

_JUMP_TEMPLATE = re.compile(r"""jumpTo\(this,\s*'(\d+)',\s*'(\d+)',\s*'([^']*%1[^']*)'\)""")


@dataclass(frozen=True)
class EportalOptions(HtmlListOptions):
    item: str = checked('td[height="22"]', valid_css)
    title: str = checked('a[istitle="true"]', valid_row_css)
    link: str = checked('a[istitle="true"]', valid_row_css)
    date: str = checked("span.hui12", valid_row_css)
    row_marker: str = checked('a[istitle="true"]', valid_css)


@register
class EportalParser(HtmlListParser):
    kind = "eportal"
    Options = EportalOptions

    def next_page(self, page: Page, root: etree._Element) -> str | None:
        for link in css("a[tagname]")(root):
            if text_of(link).strip() == "下一页" and not link.get("tagname", "").startswith("["):
                return urljoin(page.url, link.get("tagname"))
        match = _JUMP_TEMPLATE.search(etree.tostring(root, encoding="unicode", method="html"))
        if match:
            total, current, template = int(match.group(1)), int(match.group(2)), match.group(3)
            if current < total:
                return urljoin(page.url, template.replace("%1", str(current + 1)))
        return None
