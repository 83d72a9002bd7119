"""Parse: a decoded page → the notices it lists. One parser per website family.

html (generic CSS selectors), json (JSON APIs, paths as data), rss (feeds), eportal (PBC), trs (CAC,
with JsonList backfill), jpaas (MIIT and SAMR column units), miit-search (MIIT policy library); detail
pages in `detail`.
"""

from . import eportal, html_list, jpaas, json_list, miit_search, rss, trs  # noqa: F401  (importing registers them)
from ._base import PARSERS, Item, ListParser, Page, ParseResult, Request, SourceBroken, make_parser

__all__ = ["PARSERS", "Item", "ListParser", "Page", "ParseResult", "Request", "SourceBroken", "make_parser"]
