"""Assemble a digest: the period, the matching notices in bulletin order, highlights, source health."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from .. import clock
from ..classify import CATEGORIES
from ..config import SubscriptionConfig
from ..deliver.model import AlertItem, notice_item, wanted
from ..store.digests import last_sent_end, notices_first_seen, source_health, subscription_since
from ..watchlist import Source

PREVIEW_DAYS = 7  # a preview of a subscription regwatch has never run looks back this far
RULE_TYPES = {"law", "administrative regulation", "departmental rule"}


@dataclass
class SourceStatus:
    id: str
    name: str
    agency: str
    state: str  # the last bad state in the period, or "not polled"
    bad_polls: int
    polls: int
    error: str
    current: str | None


@dataclass
class Digest:
    subscription: str
    language: str
    zone: ZoneInfo
    start: datetime  # exclusive, UTC
    end: datetime  # inclusive, UTC
    sections: list[tuple[str, list[AlertItem]]]  # in the seeds' order; empty categories left out
    drafts_open: list[AlertItem]
    new_rules: list[AlertItem]
    enforcement: list[AlertItem]
    unhealthy: list[SourceStatus]
    sources_total: int

    @property
    def count(self) -> int:
        return sum(len(items) for _, items in self.sections)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


def period_for(conn: sqlite3.Connection, sub: SubscriptionConfig, now: datetime,
               since: datetime | None = None) -> tuple[datetime, datetime]:
    """From `since`, else the end of the last successful digest, else when the subscription began, to now.

    A subscription regwatch has never seen (a preview before the service first ran) looks back a week.
    """
    if since is not None:
        return since, now
    start = last_sent_end(conn, sub.name) or subscription_since(conn, sub.name)
    return (datetime.fromisoformat(start) if start else now - timedelta(days=PREVIEW_DAYS)), now


def build_digest(conn: sqlite3.Connection, sub: SubscriptionConfig, sources: dict[str, Source],
                 start: datetime, end: datetime, include_baseline: bool = False) -> Digest:
    """The digest of (start, end]; `include_baseline` (previews only) also lists what first polls recorded."""
    iso = (clock.iso(start), clock.iso(end))
    items: list[AlertItem] = []
    seen: set[tuple[str, str]] = set()
    for row in notices_first_seen(conn, *iso, include_baseline=include_baseline):
        if (row["agency"], row["title"]) in seen:
            continue  # the same notice posted in two columns of one site: list it once
        seen.add((row["agency"], row["title"]))
        item = notice_item(row, "new", row["id"], summary_chars=120)
        if wanted(sub, item, row["body"] or ""):
            items.append(item)
    today = end.astimezone(ZoneInfo(sub.timezone)).date().isoformat()
    sections = [(c, [i for i in items if i.category == c]) for c in CATEGORIES]
    return Digest(
        subscription=sub.name, language=sub.language, zone=ZoneInfo(sub.timezone), start=start, end=end,
        sections=[(c, group) for c, group in sections if group],
        drafts_open=sorted((i for i in items if i.status == "draft" and (i.deadline or "") >= today),
                           key=lambda i: i.deadline or ""),
        new_rules=[i for i in items if i.status == "final" and i.doc_type in RULE_TYPES],
        enforcement=[i for i in items if i.category == "Law Enforcement"],
        unhealthy=_unhealthy(conn, sources, *iso), sources_total=len(sources),
    )


def _unhealthy(conn: sqlite3.Connection, sources: dict[str, Source], start: str, end: str) -> list[SourceStatus]:
    """Sources with a bad poll in the period, or none at all: silence must not read as 'nothing happened'."""
    health = source_health(conn, start, end)
    out = []
    for source_id, source in sources.items():
        h = health.get(source_id)
        if h is None:
            out.append(SourceStatus(source_id, source.name_en, source.agency, "not polled", 0, 0,
                                    "no poll in this period", None))
        elif h["bad"]:
            state, _, error = (h["last_bad"] or "|").partition("|")
            out.append(SourceStatus(source_id, source.name_en, source.agency, state, h["bad"], h["polls"], error,
                                    h["current"]))
    return out
