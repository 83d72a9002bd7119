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
from .health import assess_response
from .parse import Page, SourceBroken
from .parse.dates import parse_date
from .parse.detail import extract_detail
from .poll import PageRead, read_first_page, read_page
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
    page = Page(url=url, text=result.text, content_type=result.headers.get("content-type", ""))
    parser = source.parser
    if assess_response(result) is None and parser.is_discovery_page(page):
        try:  # a column page: show the API request it leads to
            parser.discover(page)
        except SourceBroken as exc:
            return _as_detail(source, page, url) or CheckResult(source=source.id, state=exc.state, error=str(exc))
        request = parser.page_request(url, 1, None)
        return CheckResult(source=source.id, state="ok", next_page=request.url if request else None)
    return _from_read(source, read_page(source, result), url)


def _from_read(source: Source, read: PageRead, url: str) -> CheckResult:
    """What a poll's reading of a page found, as check-source reports it (a 200 page with no list
    rows may be a notice's own page: then it is read with the detail extractor)."""
    parsed, result = read.parsed, read.result
    if read.verdict is not None and result is not None and assess_response(result) is None and (
            parsed is None or not parsed.rows_read):
        page = Page(url=url, text=result.text, content_type=result.headers.get("content-type", ""))
        if (detail := _as_detail(source, page, url)) is not None:
            return detail
    state, error = read.verdict if read.verdict is not None else ("ok", None)
    if parsed is None:
        return CheckResult(source=source.id, state=state, error=error)
    items = [{"title": i.title, "url": i.url, "published": i.published, **i.extra} for i in parsed.items]
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
    text, codec, _ = decode_body(content)
    return check_page(source, FetchResult(url=url or source.url, status=200, text=text, encoding=codec),
                      url or source.url)


async def check_url(config: Config, source: Source, url: str | None = None) -> CheckResult:
    """Page 1 of the source's list (or of `url`, read with the source's parser), fetched exactly as a
    poll fetches it (discovery step, page parameters, headers); a notice's own page is read as one."""
    async with Fetcher(config.fetch) as fetcher:
        read = await read_first_page(fetcher, source, url)
    return _from_read(source, read, str(read.result.url) if read.result is not None else (url or source.url))
