"""Parse: a decoded page → the notices it lists. One parser per website family."""

from . import html_list, rss  # noqa: F401  (importing registers the parsers)
from ._base import PARSERS, Item, ListParser, Page, ParseResult, Request, SourceBroken, make_parser

__all__ = ["PARSERS", "Item", "ListParser", "Page", "ParseResult", "Request", "SourceBroken", "make_parser"]
