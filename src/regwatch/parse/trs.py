"""CAC's TRS-style CMS: a static list page, and `POST /cms/JsonList` for older pages.

Page 1 is the static column page (`#loadingInfoPage > li`, `h5 > a[title]`, `div.times`); older
pages come from the JSON endpoint the page itself uses (form `channelCode`, `perPage`, `pageno`;
answer `{"totalRec": N, "list": [{"topic", "infourl", "pubtime", …}]}`), because the static
`index_2.htm` pages are missing for several columns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urljoin

from .._schema import checked, positive
from ._base import Item, Page, ParseResult, Request, register
from .dates import parse_date
from .html_list import HtmlListOptions, HtmlListParser, clean_text, valid_css, valid_row_css


@dataclass(frozen=True)
class TrsOptions(HtmlListOptions):
    item: str = checked("#loadingInfoPage > li, #loadingInfoPage li.clearfix", valid_css)
    title: str = checked("a[title], a", valid_row_css)
    link: str = checked("a[href]", valid_row_css)
    date: str = checked(".times", valid_row_css)
    channel_code: str = ""  # e.g. "A093802"; empty: no JSON backfill (page 1 only)
    json_list_url: str = "/cms/JsonList"  # resolved against the list URL
    per_page: int = checked(20, positive)


@register
class TrsParser(HtmlListParser):
    kind = "trs"
    Options = TrsOptions
    options: TrsOptions

    def page_request(self, source_url: str, page_no: int, previous: ParseResult | None) -> Request | None:
        if page_no == 1:
            return Request(source_url)
        if not self.options.channel_code:
            return None
        return Request(
            urljoin(source_url, self.options.json_list_url), method="POST",
            data={"channelCode": self.options.channel_code, "perPage": str(self.options.per_page),
                  "pageno": str(page_no)},
            headers={"Referer": source_url, "X-Requested-With": "XMLHttpRequest"},
        )

    def parse(self, page: Page) -> ParseResult:
        if page.text.lstrip().startswith("{"):
            return self.parse_json_list(page)
        return super().parse(page)

    def parse_json_list(self, page: Page) -> ParseResult:
        try:
            data = json.loads(page.text)
            rows = data["list"]
        except (ValueError, KeyError, TypeError):
            return ParseResult(items=[], problem="JsonList answered without a `list` of notices")
        items = []
        for row in rows:
            title = clean_text(row.get("topic"))
            if title:
                url = urljoin(page.url, row["infourl"]) if row.get("infourl") else None
                items.append(Item(title=title, url=url, published=parse_date(str(row.get("pubtime") or ""))))
        return ParseResult(items=items)
