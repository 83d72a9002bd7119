"""MIIT's policy-library search API (`/search-front-server/api/search/info`).

Unlike the column pages, it gives each document's number (`filenumbername`) and issuing
department (`publishgroupname`), and an exact time (`deploytime`, epoch ms). The watchlist URL
carries the whole query; pages are selected with the `p` parameter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import lxml.html

from ._base import Item, ListParser, Page, ParseResult, Request, register
from .dates import parse_datetime
from .html_list import clean_text


@dataclass(frozen=True)
class MiitSearchOptions:
    referer: str = "https://www.miit.gov.cn/search/zcwjk.html"


def _plain(text: Any) -> str:
    """Search results highlight matches with markup: keep the text only."""
    if not text:
        return ""
    return clean_text(lxml.html.fragment_fromstring(str(text), create_parent="span").text_content())


@register
class MiitSearchParser(ListParser):
    kind = "miit-search"
    Options = MiitSearchOptions
    options: MiitSearchOptions

    def page_request(self, source_url: str, page_no: int, previous: ParseResult | None) -> Request | None:
        if previous is not None and not previous.rows_read:
            return None
        parts = urlsplit(source_url)
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "p"]
        query.append(("p", str(page_no)))
        return Request(urlunsplit(parts._replace(query=urlencode(query))), headers={"Referer": self.options.referer})

    def parse(self, page: Page) -> ParseResult:
        try:
            results = json.loads(page.text)["data"]["searchResult"]["dataResults"]
        except (ValueError, KeyError, TypeError):
            return ParseResult(items=[], problem="the search API answered without data.searchResult.dataResults")
        items = []
        for result in results or []:
            group = result.get("groupData") or []
            row = (group[0].get("data") if group else None) or result.get("data") or {}
            title = _plain(row.get("title") or row.get("title_text"))
            if not title:
                continue
            moment = parse_datetime(str(row.get("deploytime") or row.get("jsearch_date") or ""))
            extra = {k: v for k, v in (("issuer", _plain(row.get("publishgroupname"))),
                                       ("doc_number", _plain(row.get("filenumbername")))) if v}
            if moment is not None:
                extra["published_at"] = moment.isoformat()
            url = row.get("url")
            items.append(Item(title=title, url=urljoin(page.url, url) if url else None,
                              published=moment.date().isoformat() if moment else None, extra=extra))
        return ParseResult(items=items)
