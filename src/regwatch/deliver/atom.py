"""Atom feeds of what the subscriptions select, so people follow regwatch in Outlook, Feedly or Miniflux.

One feed per subscription (its filters, newest first) and one of everything. Written with feedgen, so
escaping, dates and ids follow the format; categories carry the bulletin category and the tags.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from feedgen.feed import FeedGenerator

from ..config import SubscriptionConfig
from .model import http_url, notice_item, wanted

ENTRIES = 100
SCANNED = 2000  # newest notices looked at to fill a subscription's feed


def atom(rows: list[dict[str, Any]], feed_url: str, sub: SubscriptionConfig | None = None) -> str:
    """The Atom document of the newest ENTRIES rows the subscription selects (all of them without one)."""
    feed = FeedGenerator()
    name = sub.name if sub else "all"
    feed.id(f"urn:regwatch:feed:{name}")
    feed.title(f"regwatch — {name}")
    feed.link(href=feed_url, rel="self")
    feed.language("zh-CN")
    feed.generator("regwatch")
    chosen = []
    for row in rows:
        item = notice_item(row, "new", row["id"])
        if sub is None or wanted(sub, item, row["body"] or ""):
            chosen.append((row, item))
        if len(chosen) == ENTRIES:
            break
    newest = max((row["first_seen"] for row, _ in chosen), default="2000-01-01T00:00:00+00:00")
    feed.updated(datetime.fromisoformat(newest))
    for row, item in reversed(chosen):  # feedgen prepends: add the oldest first, the newest ends on top
        entry = feed.add_entry()
        entry.id(f"urn:regwatch:notice:{row['id']}")
        entry.title(item.title + (f" — {item.title_en}" if item.title_en else ""))
        if (link := http_url(item.url)) is not None:
            entry.link(href=link)
        entry.updated(datetime.fromisoformat(row["first_seen"]))
        if row["published_at"]:
            entry.published(datetime.fromisoformat(row["published_at"]))
        entry.author(name=item.agency)
        for term in [item.category, *item.tags]:
            if term:
                entry.category(term=term)
        summary = "\n".join(s for s in (item.summary_en, item.summary) if s)
        if summary:
            entry.summary(summary)
    return feed.atom_str(pretty=True).decode("utf-8")
