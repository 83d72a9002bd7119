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
    # How many rows the page itself marks as notices (e.g. PBC's istitle="true" links), counted
    # independently of the item selector; fewer parsed items than markers means a broken layout.
    row_markers: int | None = None
    next_page_url: str | None = None


class ListParser:
    """Base of the parsers of one website family; subclasses register under a `kind`."""

    kind: ClassVar[str]
    Options: ClassVar[type]

    def __init__(self, options: Any) -> None:
        self.options = options

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
    parser = cls(build(cls.Options, options, file, key))
    return parser
