"""`regwatch check-source`: run one source's parser on a saved file or a live URL, store nothing.

This is how a user checks a watchlist edit after a site redesign: the items found and the health
verdict, exactly as a poll would judge them. A page that is not a list but a notice's own page is
read with the detail extractor instead.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from .config import Config
from .fetch import Fetcher, FetchResult, decode_body
from .health import assess_parse, assess_response
from .parse import Page, SourceBroken
from .parse.dates import parse_date
from .parse.detail import extract_detail
from .parse.jpaas import JpaasParser
from .watchlist import Source


@dataclass
class CheckResult:
    source: str
    state: str
    error: str | None = None
    page: str = "list"  # list | detail
    items: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0
    row_markers: int | None = None
    next_page: str | None = None

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def check_page(source: Source, result: FetchResult, url: str) -> CheckResult:
    """Judge and parse one fetched (or loaded) page the way a poll would."""
    verdict = assess_response(result)
    if verdict is not None:
        return CheckResult(source=source.id, state=verdict[0], error=verdict[1])
    page = Page(url=url, text=result.text, content_type=result.headers.get("content-type", ""))
    parser = source.parser
    if isinstance(parser, JpaasParser) and not page.text.lstrip().startswith("{"):
        try:  # a column page: show the API unit it would call
            return CheckResult(source=source.id, state="ok", next_page=parser.use_column_page(page).url)
        except SourceBroken as exc:
            return _as_detail(source, page, url) or CheckResult(source=source.id, state=exc.state, error=str(exc))
    parsed = parser.parse(page)
    verdict = assess_parse(parsed)
    if verdict is not None and not parsed.rows_read and (detail := _as_detail(source, page, url)):
        return detail
    items = [{"title": i.title, "url": i.url, "published": i.published, **i.extra} for i in parsed.items]
    state, error = verdict if verdict is not None else ("ok", None)
    return CheckResult(source=source.id, state=state, error=error, items=items, rows=parsed.rows_read,
                       row_markers=parsed.row_markers, next_page=parsed.next_page_url)


def _as_detail(source: Source, page: Page, url: str) -> CheckResult | None:
    """A notice's own page, read with the detail extractor; None if the page is not one."""
    detail = extract_detail(page, source.detail)
    if not detail.found:
        return None
    fields = dataclasses.asdict(detail)
    return CheckResult(source=source.id, state="ok", page="detail", rows=1,
                       items=[{"url": url, "published": parse_date(detail.published_at), **fields}])


def check_file(source: Source, content: bytes, url: str | None = None) -> CheckResult:
    text, codec = decode_body(content)
    return check_page(source, FetchResult(url=url or source.url, status=200, text=text, encoding=codec),
                      url or source.url)


async def check_url(config: Config, source: Source, url: str | None = None) -> CheckResult:
    """Fetch a list (running the parser's discovery step) or detail page live and check it."""
    url = url or source.url
    async with Fetcher(config.fetch) as fetcher:
        try:
            await source.parser.prepare(fetcher, url)
        except SourceBroken as exc:
            return CheckResult(source=source.id, state=exc.state, error=str(exc))
        request = source.parser.page_request(url, 1, None)
        if request is None or request.url == url or not isinstance(source.parser, JpaasParser):
            result = await fetcher.get(url)
        else:
            result = await fetcher.get(request.url, headers=request.headers)
        return check_page(source, result, url)
