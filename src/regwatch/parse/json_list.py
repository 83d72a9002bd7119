"""Lists served as JSON (NPC's flcaw and flk, gov.cn's 最新政策, provincial APIs): where things are is data.

A watchlist names where the list of items is and where each item's title, link (or a link template
filled from the item's fields), date, deadline, 文号 and issuing body are, with a small path syntax:
`searchVO.listVO` walks objects, `rows.0.title` indexes a list, "" is the document itself. The request
(method, a JSON or form body, a `{page}` placeholder for paging) is data too, so a new JSON endpoint is
a watchlist edit, not code.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from .._schema import checked, valid_regex
from ._base import Item, ListParser, Page, ParseResult, Request, register
from .dates import parse_date
from .html_list import clean_text

_TAG = re.compile(r"<[^>]+>")
_FIELD = re.compile(r"\{([A-Za-z0-9_.]+)\}")


def _valid_method(method: str) -> str | None:
    return None if method in ("GET", "POST") else "expected GET or POST"


def _valid_body_format(body_format: str) -> str | None:
    return None if body_format in ("json", "form") else "expected json or form"


def _valid_body(body: str) -> str | None:
    if not body:
        return None
    try:
        json.loads(body.replace("{page}", "1"))
    except json.JSONDecodeError as exc:
        return f"expected a JSON object (with {{page}} where the page number goes): {exc}"
    return None


@dataclass(frozen=True)
class JsonListOptions:
    items: str = ""  # path to the array of items ("" = the document is the array)
    title: str = "title"  # path, in an item, of its title (HTML highlight tags are stripped)
    url: str = ""  # path of its link (relative links resolve against the list's address)
    url_template: str = ""  # or a link built from its fields: "https://flk.npc.gov.cn/detail?id={bbbs}"
    date: str = ""  # path of its publication date (a date string, or epoch seconds or milliseconds)
    deadline: str = ""  # path of the end of its comment period
    doc_number: str = ""  # path of its 文号
    issuer: str = ""  # path of its issuing body
    issuer_name: str = ""  # the issuing body when the API names none (NPC's flcaw: 全国人大常委会法制工作委员会)
    method: str = checked("GET", _valid_method)
    body: str = checked("", _valid_body)  # a JSON object; "{page}" in it (or in the URL) is the page number
    body_format: str = checked("json", _valid_body_format)  # send the body as JSON or as a form
    first_page: int = 1  # the number the API gives the newest page
    headers: dict[str, str] = field(default_factory=dict)  # sent with every list request (Origin, Referer …)
    ok_path: str = ""  # path of a status field that must equal ok_value (e.g. code = 200), else the source is broken
    ok_value: str = ""
    include: str = checked("", valid_regex)  # keep only items whose title matches (case-insensitive)


def lookup(document: Any, path: str) -> Any:
    """The value at a dot path (`a.b.0.c`), or None when any step is missing."""
    value = document
    for step in path.split(".") if path else ():
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _text(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    return clean_text(_TAG.sub("", str(value)))


@register
class JsonListParser(ListParser):
    kind = "json"
    Options = JsonListOptions
    options: JsonListOptions

    def page_request(self, source_url: str, page_no: int, previous: ParseResult | None) -> Request | None:
        opts = self.options
        pages = "{page}" in source_url or "{page}" in opts.body
        if page_no > 1 and (not pages or previous is None or not previous.items):
            return None
        number = str(opts.first_page + page_no - 1)
        url = source_url.replace("{page}", number)
        headers = dict(opts.headers) or None
        if opts.method == "GET":
            return Request(url, headers=headers)
        body = opts.body.replace("{page}", number) if opts.body else "{}"
        if opts.body_format == "form":
            fields = json.loads(body)
            return Request(url, method="POST", data={k: str(v) for k, v in fields.items()}, headers=headers)
        return Request(url, method="POST", content=body.encode(),
                       headers={"Content-Type": "application/json;charset=UTF-8", **opts.headers})

    def parse(self, page: Page) -> ParseResult:
        opts = self.options
        try:
            document = json.loads(page.text)
        except json.JSONDecodeError as exc:
            return ParseResult(items=[], rows=0, problem=f"not JSON ({exc.msg} at character {exc.pos})")
        if opts.ok_path and _text(lookup(document, opts.ok_path)) != opts.ok_value:
            found = _text(lookup(document, opts.ok_path)) or "nothing"
            return ParseResult(items=[], rows=0, problem=f"the API answered {opts.ok_path} = {found}, "
                                                         f"not {opts.ok_value}")
        rows = lookup(document, opts.items)
        if not isinstance(rows, list):
            return ParseResult(items=[], rows=0, problem=f"no list of items at {opts.items or 'the top level'!r}")
        wanted = re.compile(opts.include, re.I) if opts.include else None
        items = []
        for row in rows:
            if not isinstance(row, dict) or not (title := _text(lookup(row, opts.title))):
                continue
            if wanted and not wanted.search(title):
                continue
            items.append(Item(title=title, url=self._link(page, row), published=self._date(row, opts.date),
                              extra=self._extra(row)))
        return ParseResult(items=items, rows=len(rows))

    def _link(self, page: Page, row: dict[str, Any]) -> str | None:
        opts = self.options
        if opts.url_template:
            values = {name: _text(lookup(row, name)) for name in _FIELD.findall(opts.url_template)}
            if not all(values.values()):
                return None
            return _FIELD.sub(lambda m: values[m.group(1)], opts.url_template)
        href = _text(lookup(row, opts.url)) if opts.url else ""
        return urljoin(page.url, href) if href and not href.lower().startswith("javascript:") else None

    @staticmethod
    def _date(row: dict[str, Any], path: str) -> str | None:
        return parse_date(_text(lookup(row, path))) if path else None

    def _extra(self, row: dict[str, Any]) -> dict[str, Any]:
        opts = self.options
        extra: dict[str, Any] = {}
        if opts.deadline and (deadline := self._date(row, opts.deadline)):
            extra["deadline"] = deadline
        if opts.doc_number and (number := _text(lookup(row, opts.doc_number))):
            extra["doc_number"] = number
        if issuer := (_text(lookup(row, opts.issuer)) if opts.issuer else "") or opts.issuer_name:
            extra["issuer"] = issuer
        return extra
