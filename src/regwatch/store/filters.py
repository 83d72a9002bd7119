"""The notice filters every listing shares (`notices`, `search`, `export`, the web view), and their SQL."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class NoticeFilter:
    """Each filter is optional; values already checked by the caller."""

    since: str | None = None  # YYYY-MM-DD, compared with the publication date (or the day first seen)
    agency: str | None = None
    source_id: str | None = None
    category: str | None = None
    tag: str | None = None


def filter_sql(where: NoticeFilter, notices: str = "n") -> tuple[list[str], list[Any]]:
    """WHERE clauses and their parameters for the filters that are set, on the notices table as `notices`."""
    n = notices
    filters = ((where.since, f"COALESCE({n}.published, substr({n}.first_seen, 1, 10)) >= ?"),
               (where.agency, f"upper({n}.agency) = upper(?)"),
               (where.source_id, f"{n}.source_id = ?"),
               (where.category, f"lower({n}.category) = lower(?)"),
               (where.tag, f"EXISTS (SELECT 1 FROM json_each({n}.tags) WHERE value = ?)"))
    return [clause for value, clause in filters if value], [value for value, _ in filters if value]


def text_sql(notices: str = "") -> str:
    """A notice's whole text as SQL: its page's body, then its attachments' text."""
    n = f"{notices}." if notices else ""
    return f"COALESCE({n}body, '') || COALESCE(char(10) || {n}attachment_text, '')"
