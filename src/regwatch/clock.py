"""Times for people: one format, always with its zone, in Beijing time unless `[display] timezone` says.

The store keeps UTC ISO 8601 strings (compared in SQL); what a person reads is converted here, so a
`last poll` in `regwatch sources` and a `published_at` in `check-source` are never two different clocks.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

DISPLAY_FORMAT = "%Y-%m-%d %H:%M"


def offset_text(moment: datetime) -> str:
    """`+08:00`, `-05:00`, `+00:00`: the offset, which (unlike `CST`) names one zone only."""
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign, minutes = ("-" if minutes < 0 else "+"), abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def shown(value: str | datetime | None, zone: ZoneInfo, missing: str = "never") -> str:
    """`2026-11-22 10:00 +08:00` for an aware ISO 8601 string or datetime (naive ones are UTC); `missing` for none."""
    if not value:
        return missing
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = moment.astimezone(zone)
    return f"{local.strftime(DISPLAY_FORMAT)} {offset_text(local)}"
