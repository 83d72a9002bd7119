"""Cron lines that mean what cron means, as APScheduler 3 triggers.

APScheduler's own `CronTrigger.from_crontab` counts the day of the week from Monday = 0, so
`0 9 * * 1` (Monday 09:00 in cron) would fire on Tuesday. Here each field is read the way cron(5)
reads it — 0 and 7 are Sunday, 1 is Monday, names (`mon`, `jan`) and ranges, lists and steps of
either, the `@daily`-style shorthands — and handed to APScheduler as explicit values and weekday
names, which it cannot misread. As in cron, when both the day of the month and the day of the week
are restricted, a day matching either one fires.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.combining import OrTrigger
from apscheduler.triggers.cron import CronTrigger

_SHORTHANDS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
               "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]  # cron's numbering: sun = 0 (and 7)
# name, lowest, highest, names for values from `lowest` on
_FIELDS: list[tuple[str, int, int, list[str]]] = [
    ("minute", 0, 59, []), ("hour", 0, 23, []), ("day of month", 1, 31, []), ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _WEEKDAYS),
]
_PART = re.compile(r"^(?:(\*)|([0-9a-z]+)(?:-([0-9a-z]+))?)(?:/([0-9]+))?$")


class CronError(ValueError):
    """A schedule that is not a valid cron line; the message says which field and why."""


def _value(token: str, field: tuple[str, int, int, list[str]]) -> int:
    name, low, high, names = field
    if token.isdigit():
        number = int(token)
    elif token[:3] in names and len(token) == 3:
        number = names.index(token) + (low if names is _MONTHS else 0)
    else:
        raise CronError(f"{name}: {token!r} is not a number" + (f" or a name ({', '.join(names)})" if names else ""))
    if not low <= number <= high:
        raise CronError(f"{name}: {number} is out of range {low}-{high}")
    return number


def _expand(text: str, field: tuple[str, int, int, list[str]]) -> set[int]:
    """Every value a cron field selects."""
    name, low, high, names = field
    values: set[int] = set()
    for part in text.lower().split(","):
        match = _PART.match(part)
        if not match:
            raise CronError(f"{name}: cannot read {part!r}")
        star, first, last, step = match.groups()
        if star:
            start, end = low, high
        else:
            start = _value(first, field)
            end = _value(last, field) if last else (high if step else start)
            if names is _WEEKDAYS and end == 0 < start:  # "fri-sun": Sunday ends a range as 7
                end = 7
        if start > end:
            raise CronError(f"{name}: range {part!r} runs backwards")
        if step is not None and int(step) == 0:
            raise CronError(f"{name}: a step of 0 in {part!r}")
        values.update(range(start, end + 1, int(step or 1)))
    return values


def cron_trigger(line: str, zone: ZoneInfo) -> BaseTrigger:
    """The APScheduler trigger for a five-field cron line (or a shorthand) in `zone`; raises CronError."""
    text = _SHORTHANDS.get(line.strip().lower(), line.strip())
    fields = text.split()
    if len(fields) != 5:
        raise CronError(f"expected five fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = (_expand(f, spec) for f, spec in zip(fields, _FIELDS, strict=True))
    if 7 in weekday:  # 7 is Sunday too
        weekday = (weekday - {7}) | {0}

    def listed(values: set[int], full: range) -> str:
        return "*" if values == set(full) else ",".join(str(v) for v in sorted(values))

    common = {"minute": listed(minute, range(60)), "hour": listed(hour, range(24)),
              "month": listed(month, range(1, 13)), "timezone": zone}
    days = listed(day, range(1, 32))
    weekdays = "*" if weekday == set(range(7)) else ",".join(_WEEKDAYS[d] for d in sorted(weekday))
    day_restricted, weekday_restricted = not fields[2].startswith("*"), not fields[4].startswith("*")
    if day_restricted and weekday_restricted:
        return OrTrigger([CronTrigger(day=days, **common), CronTrigger(day_of_week=weekdays, **common)])
    return CronTrigger(day=days, day_of_week=weekdays, **common)


def next_fire(trigger: BaseTrigger, after: datetime) -> datetime | None:
    """The first time strictly after `after` the trigger fires."""
    return trigger.get_next_fire_time(None, after + timedelta(microseconds=1))


def previous_fire(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The latest time ≤ now the trigger fired, within the last 400 days (None if it did not)."""
    for window in (timedelta(hours=1), timedelta(days=2), timedelta(days=35), timedelta(days=400)):
        moment, previous = next_fire(trigger, now - window), None
        while moment is not None and moment <= now:
            previous, moment = moment, next_fire(trigger, moment)
        if previous is not None:
            return previous
    return None
