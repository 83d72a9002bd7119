"""Dates that matter as an iCalendar file (RFC 5545), for a team to subscribe to in Outlook or Google.

One all-day event per comment period closing and per instrument taking effect, with the sentence the
date was read from. The format is small enough to write exactly: CRLF line ends, text escaped, lines
folded at 75 octets without splitting a character.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from . import clock
from .translate import english

_KINDS = {"comments-close": ("Comments close", "意见截止"), "takes-effect": ("Takes effect", "施行")}
DAYS_BACK = 30  # a calendar keeps the last month's dates too
DAYS_AHEAD = 365


def span(days_ahead: int = DAYS_AHEAD, days_back: int = DAYS_BACK) -> tuple[str, str]:
    """(first day, last day) of a calendar around today in Beijing, as `store.views.dates_ahead` takes them."""
    today = clock.now().astimezone(clock.SHANGHAI).date()
    return (today - timedelta(days=days_back)).isoformat(), (today + timedelta(days=days_ahead)).isoformat()


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", ""))


def _fold(line: str) -> list[str]:
    """Lines of at most 75 octets; continuation lines start with a space (RFC 5545 §3.1)."""
    out: list[str] = []
    current, size = "", 0
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += char
        size += width
    out.append(current)
    return [out[0], *(" " + part for part in out[1:])]


def calendar(dates: list[dict[str, Any]], now: datetime | None = None, name: str = "regwatch") -> str:
    """The iCalendar text of `store.views.dates_ahead` rows."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//regwatch//dates that matter//EN", "CALSCALE:GREGORIAN",
             "METHOD:PUBLISH", f"X-WR-CALNAME:{_escape(name)}"]
    for row in dates:
        day = date.fromisoformat(row["day"])
        label_en, label_zh = _KINDS[row["kind"]]
        title_en = english(row["title"])
        summary = f"{label_en} / {label_zh}: {row['title']}" + (f" — {title_en}" if title_en else "")
        description = "\n".join(part for part in (row.get("sentence"), row.get("url"), f"{row['agency']} · "
                                                  f"{row['source_id']} · regwatch #{row['id']}") if part)
        lines += ["BEGIN:VEVENT", f"UID:{row['kind']}-{row['id']}@regwatch", f"DTSTAMP:{stamp}",
                  f"DTSTART;VALUE=DATE:{day:%Y%m%d}", f"DTEND;VALUE=DATE:{day + timedelta(days=1):%Y%m%d}",
                  f"SUMMARY:{_escape(summary)}", f"DESCRIPTION:{_escape(description)}", "TRANSP:TRANSPARENT"]
        if row.get("url"):
            lines.append(f"URL:{row['url']}")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return "".join(part + "\r\n" for line in lines for part in _fold(line))
