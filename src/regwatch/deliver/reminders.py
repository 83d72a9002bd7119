"""Reminders before the dates that matter: "comments on X close in 3 days (on …)", "X takes effect today".

A subscription asks for them (`reminders = ["comment-deadline:3", "effective:0"]`, days before the date).
Each is queued once, on its day at `reminder_time` in the subscription's time zone (or later that day and
until the date itself, if regwatch was not running then), as an outbox row the sender delivers like any
alert. With `working_days = true` the days are the mainland's working days: public holidays and make-up
working days come from the `chinese-calendar` package; a year it does not cover yet is counted Monday to
Friday, and the reminder says so.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .. import labels
from ..clock import iso
from ..config import Config, SubscriptionConfig
from ..store.reminders import notices_dated, queue_reminder
from .model import notice_item, wanted

log = logging.getLogger(__name__)
LOOKAHEAD_DAYS = 400  # reminders at most this far before a date (99 working days with the holidays in between)


@dataclass(frozen=True)
class Rule:
    kind: str  # comment-deadline | effective
    days: int  # before the date (working days where the subscription counts them)

    @classmethod
    def parse(cls, text: str) -> Rule:
        kind, _, days = text.partition(":")
        return cls(kind, int(days))


class WorkCalendar:
    """The mainland's working days (chinese-calendar), Monday to Friday for years it does not know yet."""

    def __init__(self) -> None:
        import chinese_calendar

        self._calendar = chinese_calendar
        self.uncovered: set[int] = set()  # years counted Monday to Friday

    def is_workday(self, day: date) -> bool:
        try:
            return bool(self._calendar.is_workday(day))
        except NotImplementedError:
            if day.year not in self.uncovered:
                log.warning("working days: chinese-calendar has no holidays for %d yet (upgrade it once the "
                            "State Council publishes them); counting Monday to Friday", day.year)
            self.uncovered.add(day.year)
            return day.weekday() < 5


def remind_on(day: date, days: int, calendar: WorkCalendar | None) -> date:
    """The day to remind on: `days` calendar days before `day`, or `days` working days before it."""
    if calendar is None:
        return day - timedelta(days=days)
    at, left = day, days
    while left > 0:
        at -= timedelta(days=1)
        left -= calendar.is_workday(at)
    return at


def days_left(today: date, day: date, calendar: WorkCalendar | None) -> int:
    """Calendar days, or working days, from today until `day` (0 on the day)."""
    if calendar is None:
        return (day - today).days
    return sum(calendar.is_workday(today + timedelta(days=i)) for i in range(1, (day - today).days + 1))


def wording(kind: str, left: int, day: date, working: bool, language: str, uncovered: bool = False) -> str:
    """The reminder's sentence, e.g. "Comments close in 3 working days (on 2026-10-08)"."""
    unit_en = "working day" if working else "day"
    when_en = ("today" if left == 0 else "tomorrow" if left == 1 and not working
               else f"in {left} {unit_en}{'s' if left != 1 else ''}")
    when_zh = "今天" if left == 0 else "明天" if left == 1 and not working else f"{left} 个工作日后" if working \
        else f"{left} 天后"
    if kind == "comment-deadline":
        en, zh = f"Comments close {when_en} (on {day})", f"意见征集{when_zh}截止（{day}）"
    else:
        en = f"Takes effect {when_en} (on {day})" if left else f"Takes effect today ({day})"
        zh = f"将于{when_zh}施行（{day}）" if left else f"今天起施行（{day}）"
    if uncovered:
        en += f"; {day.year} holidays not yet known, weekdays counted"
        zh += f"；{day.year} 年节假日安排尚未收录，按周一至周五计"
    return labels.pick((zh, en), language)


def queue_reminders(conn: sqlite3.Connection, config: Config, now: datetime) -> int:
    """Queue every reminder due by `now` for the instant subscriptions that ask for them; returns how many."""
    queued = 0
    calendar: WorkCalendar | None = None
    for sub in config.subscriptions("instant"):
        if not sub.reminders or not sub.enabled:
            continue
        if sub.working_days and calendar is None:
            calendar = WorkCalendar()
        for rule in map(Rule.parse, sub.reminders):
            queued += _queue_rule(conn, sub, rule, now, calendar if sub.working_days else None)
    return queued


def _queue_rule(conn: sqlite3.Connection, sub: SubscriptionConfig, rule: Rule, now: datetime,
                calendar: WorkCalendar | None) -> int:
    local = now.astimezone(ZoneInfo(sub.timezone))
    today = local.date()
    hour, minute = map(int, sub.reminder_time.split(":"))
    queued = 0
    for row in notices_dated(conn, rule.kind, today.isoformat(), (today + timedelta(LOOKAHEAD_DAYS)).isoformat()):
        day = date.fromisoformat(row["deadline" if rule.kind == "comment-deadline" else "effective"])
        due = remind_on(day, rule.days, calendar)
        if today < due or (today == due and local.time() < time(hour, minute)):
            continue  # not yet: on its day at reminder_time, or any time after that until the date
        if row["first_seen"][:10] >= due.isoformat() and not row["baseline"]:
            continue  # found after the reminder's day: its own alert, days ago at most, gave the date
        item = notice_item(row, "reminder", row["id"])
        if not wanted(sub, item, row["body"] or ""):
            continue
        left = days_left(today, day, calendar)
        uncovered = calendar is not None and bool({today.year, day.year} & calendar.uncovered)
        text = wording(rule.kind, left, day, calendar is not None, sub.language, uncovered)
        key = f"reminder:{rule.kind}:{rule.days}:{row['id']}:{day}"
        queued += queue_reminder(conn, sub.name, row["id"], key, text, iso(now))
    return queued
