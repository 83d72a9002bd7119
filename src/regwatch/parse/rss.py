"""RSS and Atom feeds, through feedparser."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from ..fetch.decode import strip_xml_declaration
from ._base import Item, ListParser, Page, ParseResult, register
from .dates import from_struct_time
from .html_list import clean_text


@dataclass(frozen=True)
class RssOptions:
    pass


@register
class RssParser(ListParser):
    kind = "rss"
    Options = RssOptions

    def parse(self, page: Page) -> ParseResult:
        import feedparser  # only for feeds (the foreign set's): a service without them never loads it

        feed = feedparser.parse(strip_xml_declaration(page.text))
        items = []
        for entry in feed.entries:
            title = clean_text(entry.get("title"))
            if not title:
                continue
            link = entry.get("link")
            moment = from_struct_time(entry.get("published_parsed") or entry.get("updated_parsed"))
            items.append(Item(
                title=title,
                url=urljoin(page.url, link) if link else None,
                published=moment.date().isoformat() if moment else None,
            ))
        return ParseResult(items=items)
