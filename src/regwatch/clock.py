"""The one clock: "now", the timestamp format the store compares in SQL, Beijing time, and times for people.

Every timestamp regwatch stores is `iso(moment)`: UTC, ISO 8601, milliseconds (`2026-11-22T02:00:01.123+00:00`),
so strings compare in SQL as the moments they name. Regulators publish in Beijing time (`SHANGHAI`).
What a person reads is `shown(...)`: one format, always with its offset, in Beijing time unless
`[display] timezone` says otherwise. Tests move the clock by replacing `now`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # no DST since 1991: a fixed offset is exact
# English month names, for English sentences and English output; MONTH_NUMBERS["march"] == 3.
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
MONTH_NUMBERS = {name.lower(): number for number, name in enumerate(MONTHS, start=1)}


def now() -> datetime:
    """The current moment, aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """The stored form of a moment (UTC, milliseconds): the one format compared in SQL."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")


def now_iso() -> str:
    return iso(now())

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
