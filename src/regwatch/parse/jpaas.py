"""The Hanweb/TRS "JPaaS page unit" API behind MIIT's and SAMR's column pages.

The column page is an empty shell: a `<script … url="/api-gateway/…/build/unit" querydata="{…}">`
says which unit fills it. We read that (single-quoted pseudo-JSON; `parseType` is `buildstatic` at
MIIT and the misspelt `bulidstatic` at SAMR — passed on as found), call the API with it, and read
the rows from `data.html`. Older pages take `paramJson={"pageNo":N,"pageSize":S}` (bare `pageNo` is
ignored by the server). The discovered parameters are kept for a day and dropped when the API fails.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urljoin

import lxml.html

from .._schema import checked, positive
from ._base import Page, ParseResult, Request, SourceBroken, register
from .html_list import HtmlListOptions, HtmlListParser, css, parse_html, valid_css

_DISCOVERY_TTL = 24 * 3600


@dataclass(frozen=True)
class JpaasOptions(HtmlListOptions):
    item: str = checked("ul > li", valid_css)
    script: str = checked("script[querydata]", valid_css)  # the unit loader on the column page
    page_size: int = checked(20, positive)
    tag_id: str = ""  # override the unit's tagId when a page holds several units


@dataclass
class _Unit:
    column_url: str  # rows link relative to the column page, not to the API
    api_url: str
    query: dict[str, str]
    found_at: float


def read_querydata(text: str) -> dict[str, str]:
    """`{'parseType':'buildstatic','webId':'…'}` → a dict (single quotes turned into JSON's)."""
    data = json.loads(text.replace("'", '"'))
    return {str(k): str(v) for k, v in data.items()}


@register
class JpaasParser(HtmlListParser):
    kind = "jpaas"
    Options = JpaasOptions
    options: JpaasOptions

    def __init__(self, options: Any) -> None:
        super().__init__(options)
        self._unit: _Unit | None = None

    def discovery_request(self, source_url: str) -> Request | None:
        if self._unit and time.monotonic() - self._unit.found_at < _DISCOVERY_TTL:
            return None
        return Request(source_url)

    def discover(self, page: Page) -> None:
        """Find the unit loader on a column page and read its API address and parameters."""
        root = parse_html(page.text)
        for script in css(self.options.script)(root):
            try:
                query = read_querydata(script.get("querydata", ""))
            except ValueError:
                continue
            if self.options.tag_id:
                query["tagId"] = self.options.tag_id
            api = script.get("url") or "/api-gateway/jpaas-publish-server/front/page/build/unit"
            self._unit = _Unit(page.url, urljoin(page.url, api), query, time.monotonic())
            return
        raise SourceBroken("layout-changed", "no JPaaS unit loader (script[querydata]) on the column page")

    def is_discovery_page(self, page: Page) -> bool:
        return not page.text.lstrip().startswith("{")  # the API answers JSON; the column page is HTML

    def page_request(self, source_url: str, page_no: int, previous: ParseResult | None) -> Request | None:
        if self._unit is None:
            return None
        query = dict(self._unit.query)
        if page_no > 1:
            if previous is not None and not previous.rows_read:
                return None
            query["paramJson"] = json.dumps({"pageNo": page_no, "pageSize": self.options.page_size},
                                            separators=(",", ":"))
        return Request(f"{self._unit.api_url}?{urlencode(query)}", headers={"Referer": source_url})

    def parse(self, page: Page) -> ParseResult:
        try:
            data = json.loads(page.text)
        except (ValueError, RecursionError):
            self._unit = None
            return ParseResult(items=[], problem="the JPaaS API did not answer JSON")
        if not isinstance(data, dict):
            self._unit = None
            return ParseResult(items=[], problem=f"the JPaaS API answered a JSON {type(data).__name__}, not an object")
        if not data.get("success") or not isinstance(data.get("data"), dict) or "html" not in data["data"]:
            self._unit = None  # parameters may be stale: discover again next time
            return ParseResult(items=[], problem=f"the JPaaS API answered success={data.get('success')!r}"
                                                 f" code={data.get('code')!r}")
        fragment = data["data"]["html"] or "<div></div>"
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
        column = Page(url=self._unit.column_url if self._unit else page.url, text="")
        result = self.parse_tree(column, root)
        result.next_page_url = None  # paging goes through paramJson, not links
        return result
