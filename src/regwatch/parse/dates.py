"""Dates as the regulators write them → ISO dates and times in Asia/Shanghai.

List pages give `YYYY-MM-DD`; detail pages and APIs add `YYYY年MM月DD日 HH:MM`, `YYYY/MM/DD`,
epoch milliseconds, gov.cn's `YYYY-MM-DD-HH:MM:SS` and RFC 822 (feeds). Everything is read as Beijing time.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime

from ..clock import SHANGHAI

_DATE = re.compile(
    r"(?P<y>(?:19|20)\d\d)\s*(?:[-/.年])\s*(?P<m>\d{1,2})\s*(?:[-/.月])\s*(?P<d>\d{1,2})\s*日?"
    r"(?:(?:\s*|-|T)(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_COMPACT = re.compile(r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)")


def parse_datetime(text: str | None) -> datetime | None:
    """The first date (and time, if given) in `text`, as an aware datetime in Asia/Shanghai."""
    if not text:
        return None
    text = text.strip()
    if text.isdigit() and len(text) in (10, 13):  # epoch seconds or milliseconds
        seconds = int(text) / (1000 if len(text) == 13 else 1)
        return datetime.fromtimestamp(seconds, SHANGHAI)
    match = _DATE.search(text) or _COMPACT.search(text)
    if not match:
        return None
    parts = match.groupdict()
    try:
        return datetime(
            int(parts["y"]), int(parts["m"]), int(parts["d"]),
            int(parts.get("H") or 0), int(parts.get("M") or 0), int(parts.get("S") or 0),
            tzinfo=SHANGHAI,
        )
    except ValueError:  # 2026-02-30 and the like
        return None


def parse_date(text: str | None) -> str | None:
    """The first date in `text` as `YYYY-MM-DD`, or None: `parse_datetime`'s date, read without making
    the datetime (a list page reads one for each of its rows)."""
    if not text:
        return None
    stripped = text.strip()
    if stripped.isdigit() and len(stripped) in (10, 13):
        moment = parse_datetime(stripped)
        return moment.date().isoformat() if moment else None
    match = _DATE.search(stripped) or _COMPACT.search(stripped)
    if not match:
        return None
    written = match.group(0)
    if len(written) == 10 and written[4] == written[7] == "-":  # YYYY-MM-DD, as most lists write it
        try:
            return date.fromisoformat(written).isoformat()
        except ValueError:  # 2026-1-1日, 2026-02-30: read as below
            pass
    found = match.groupdict()
    if int(found.get("H") or 0) > 23 or int(found.get("M") or 0) > 59 or int(found.get("S") or 0) > 59:
        return None  # as parse_datetime: a time that is no time makes the date no date
    try:
        return date(int(found["y"]), int(found["m"]), int(found["d"])).isoformat()
    except ValueError:  # 2026-02-30 and the like
        return None


def from_struct_time(value: time.struct_time | None) -> datetime | None:
    """feedparser's UTC struct_time → Asia/Shanghai datetime."""
    if value is None:
        return None
    return datetime(*value[:6], tzinfo=UTC).astimezone(SHANGHAI)
