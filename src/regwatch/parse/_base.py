"""What every list parser takes and gives, and the registry that maps a watchlist `kind` to a parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from .._schema import ConfigError, build


@dataclass(frozen=True)
class Page:
    """A fetched, decoded page. `url` is the real address (links resolve against it)."""

    url: str
    text: str
    content_type: str = ""


@dataclass(frozen=True)
class Item:
    """One notice as a list shows it."""

    title: str
    url: str | None
    published: str | None  # YYYY-MM-DD, Asia/Shanghai
    extra: dict[str, Any] = field(default_factory=dict)  # fields some lists carry (deadline, 文号, …)


@dataclass
class ParseResult:
    items: list[Item]
    rows: int | None = None  # rows read before any title filter (None: same as len(items))
    # How many rows the page itself marks as notices (e.g. PBC's istitle="true" links), counted
    # independently of the item selector; fewer rows read than markers means a broken layout.
    row_markers: int | None = None
    next_page_url: str | None = None
    problem: str | None = None  # what a parser found wrong with a page that answered (API error …)

    @property
    def rows_read(self) -> int:
        return len(self.items) if self.rows is None else self.rows


@dataclass(frozen=True)
class Request:
    """One request a parser wants made to read a page of its list."""

    url: str
    method: str = "GET"
    data: dict[str, str] | None = None  # a form body
    headers: dict[str, str] | None = None
    content: bytes | None = None  # a raw body (a JSON API's query), sent as is


class SourceBroken(Exception):
    """A parser's preparation step found the source unusable; carries a health state."""

    def __init__(self, state: str, message: str) -> None:
        super().__init__(message)
        self.state = state


class ListParser:
    """Base of the parsers of one website family; subclasses register under a `kind`.

    Parsers do no I/O: they say what to fetch and read what they are given. A poll asks
    `discovery_request(url)` (a page to read first, e.g. the column page naming an API's
    parameters) and hands the fetched page to `discover`; then it fetches `page_request(url, 1,
    None)`, hands it to `parse`, and asks `page_request(url, n, previous)` for older pages.
    """

    kind: ClassVar[str]
    Options: ClassVar[type]

    def __init__(self, options: Any) -> None:
        self.options = options

    def discovery_request(self, source_url: str) -> Request | None:
        """A page to fetch and `discover` before page 1 can be requested; None when nothing is needed now."""
        return None

    def discover(self, page: Page) -> None:
        """Read what page 1's request needs from the discovery page; raise SourceBroken when it is not there."""

    def is_discovery_page(self, page: Page) -> bool:
        """Whether a saved page is this parser's discovery page rather than a list (for check-source files)."""
        return False

    def page_request(self, source_url: str, page_no: int, previous: ParseResult | None) -> Request | None:
        """How to fetch page `page_no` (1 = newest); None when there is no such page."""
        if page_no == 1:
            return Request(source_url)
        if previous is not None and previous.next_page_url:
            return Request(previous.next_page_url)
        return None

    def parse(self, page: Page) -> ParseResult:
        raise NotImplementedError


PARSERS: dict[str, type[ListParser]] = {}


def register(cls: type[ListParser]) -> type[ListParser]:
    PARSERS[cls.kind] = cls
    return cls


def make_parser(table: dict[str, Any], file: Any, key: str) -> ListParser:
    """Build the parser a watchlist's `[source.parser]` table asks for, validating its options."""
    options = dict(table)
    kind = options.pop("kind", None)
    if kind not in PARSERS:
        known = ", ".join(sorted(PARSERS))
        raise ConfigError(file, f"{key}.kind", f"expected one of {known}, got {kind!r}")
    cls = PARSERS[kind]
    return cls(build(cls.Options, options, file, key))
