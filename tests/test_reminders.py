"""Reminders before comment deadlines and effective dates: on the right day (calendar or mainland working
days, across a public holiday), at the right local time, once, through a real receiver."""

from __future__ import annotations

import json
from datetime import date, datetime
from zoneinfo import ZoneInfo

from regwatch.config import load_config
from regwatch.deliver.reminders import WorkCalendar, days_left, queue_reminders, remind_on, wording
from regwatch.store.db import open_db

from .conftest import Install
from .test_deliver import add_notices, configure, receivers  # noqa: F401  (the fixture is used by name)

SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
NATIONAL_DAY_DEADLINE = date(2026, 10, 8)  # the first working day after the 2026 National Day holiday


def test_working_days_skip_the_national_day_holiday() -> None:
    calendar = WorkCalendar()
    # 1–7 October 2026 are holidays: three working days before the 8th are the 30th, 29th and 28th.
    assert remind_on(NATIONAL_DAY_DEADLINE, 3, calendar) == date(2026, 9, 28)
    assert remind_on(NATIONAL_DAY_DEADLINE, 3, None) == date(2026, 10, 5)  # calendar days: inside the holiday
    assert remind_on(NATIONAL_DAY_DEADLINE, 0, calendar) == NATIONAL_DAY_DEADLINE
    assert days_left(date(2026, 9, 28), NATIONAL_DAY_DEADLINE, calendar) == 3
    assert days_left(date(2026, 9, 28), NATIONAL_DAY_DEADLINE, None) == 10
    assert not calendar.uncovered


def test_a_year_the_calendar_does_not_cover_is_counted_monday_to_friday_and_said(caplog) -> None:
    calendar = WorkCalendar()
    day = date(2099, 3, 9)  # a Monday, in a year no holiday table covers
    assert remind_on(day, 1, calendar) == date(2099, 3, 6)  # the Friday before
    assert calendar.uncovered == {2099} and "no holidays for 2099" in caplog.text
    assert wording("comment-deadline", 1, day, True, "en", uncovered=True) == \
        "Comments close in 1 working day (on 2099-03-09); 2099 holidays not yet known, weekdays counted"


def test_wording_in_both_languages() -> None:
    assert wording("comment-deadline", 3, NATIONAL_DAY_DEADLINE, True, "en") == \
        "Comments close in 3 working days (on 2026-10-08)"
    assert wording("comment-deadline", 1, NATIONAL_DAY_DEADLINE, False, "en") == \
        "Comments close tomorrow (on 2026-10-08)"
    assert wording("effective", 0, NATIONAL_DAY_DEADLINE, False, "en") == "Takes effect today (2026-10-08)"
    assert wording("comment-deadline", 3, NATIONAL_DAY_DEADLINE, False, "zh") == "意见征集3 天后截止（2026-10-08）"
    assert wording("effective", 0, NATIONAL_DAY_DEADLINE, False, "zh") == "今天起施行（2026-10-08）"


def _draft_due_after_the_holiday(install: Install) -> int:
    """A draft stored in September whose comments close on 8 October 2026."""
    title = "关于《金融数据出境安全管理办法（征求意见稿）》公开征求意见的通知"
    item = add_notices(install, [title], day="2026-09-10")[0]
    page = (f'<html><head><meta charset="utf-8"></head><body><div id="zoom"><p>{title}</p>'
            "<p>公众可在2026年10月8日前提出意见。</p></div></body></html>").encode()
    install.replay.set_page("www.pbc.gov.cn" + item["href"], page, "text/html; charset=utf-8")
    assert install.cli("poll", "--all", "--no-deliver").exit_code == 0
    with install.db() as conn:
        notice_id, deadline = conn.execute("SELECT id, deadline FROM notices WHERE title = ?", (title,)).fetchone()
        conn.execute("UPDATE notices SET first_seen = '2026-09-10T02:00:00.000+00:00' WHERE id = ?", (notice_id,))
    assert deadline == "2026-10-08"
    return notice_id


def test_a_reminder_goes_out_once_at_the_local_time_of_its_day(pbc_install: Install, receivers) -> None:  # noqa: F811
    hook = receivers("webhook")
    configure(pbc_install, [
        ("beijing", hook, {"reminders": ["comment-deadline:3"], "working_days": True, "language": "en"}),
        ("berlin", hook, {"reminders": ["comment-deadline:3"], "working_days": True, "timezone": "Europe/Berlin",
                          "reminder_time": "09:30"}),
        ("quiet", hook, {})])
    assert pbc_install.cli("poll", "--no-deliver").exit_code == 0  # the baseline
    notice_id = _draft_due_after_the_holiday(pbc_install)
    config = load_config(pbc_install.config_path)
    conn = open_db(pbc_install.db_path)

    def queue(moment: datetime) -> int:
        return queue_reminders(conn, config, moment)

    assert queue(datetime(2026, 9, 25, 9, 0, tzinfo=SHANGHAI)) == 0  # too early: four working days before
    assert queue(datetime(2026, 9, 28, 8, 59, tzinfo=SHANGHAI)) == 0  # its day, before reminder_time
    assert queue(datetime(2026, 9, 28, 9, 0, tzinfo=SHANGHAI)) == 1  # Beijing's; Berlin is at 03:00
    assert queue(datetime(2026, 9, 28, 12, 0, tzinfo=SHANGHAI)) == 0  # once
    assert queue(datetime(2026, 9, 28, 9, 30, tzinfo=BERLIN)) == 1  # Berlin's, at 09:30 there
    with pbc_install.db() as conn2:
        rows = conn2.execute("SELECT subscription, kind, notice_id, ops_text FROM outbox WHERE kind = 'reminder'"
                             " ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [
        ("beijing", "reminder", notice_id, "Comments close in 3 working days (on 2026-10-08)"),
        ("berlin", "reminder", notice_id, "意见征集3 个工作日后截止（2026-10-08） / Comments close in 3 working days "
                                          "(on 2026-10-08)")]
    result = pbc_install.cli("deliver")
    assert result.exit_code == 0, result.output
    reminders = [m.payload for m in hook.messages if m.payload["type"] == "notice.reminder"]
    assert len(reminders) == 2  # the two subscriptions are delivered side by side: in either order
    sent = [r["data"]["notices"][0] for r in reminders]
    assert all(n["id"] == notice_id and n["deadline"] == "2026-10-08" for n in sent)
    assert sorted(n["note"] for n in sent) == [
        "Comments close in 3 working days (on 2026-10-08)",
        "意见征集3 个工作日后截止（2026-10-08） / Comments close in 3 working days (on 2026-10-08)"]
    assert pbc_install.cli("deliver").exit_code == 0 and len(
        [m for m in hook.messages if m.payload["type"] == "notice.reminder"]) == 2  # never twice
    assert "quiet" not in json.dumps([m.payload for m in hook.messages])  # no reminders unasked


def test_a_reminder_missed_while_regwatch_was_down_comes_late_with_the_days_left(pbc_install: Install,
                                                                                  receivers) -> None:  # noqa: F811
    hook = receivers("webhook")
    configure(pbc_install, [("team", hook, {"reminders": ["comment-deadline:3"], "language": "en"})])
    assert pbc_install.cli("poll", "--no-deliver").exit_code == 0
    _draft_due_after_the_holiday(pbc_install)
    config = load_config(pbc_install.config_path)
    conn = open_db(pbc_install.db_path)
    assert queue_reminders(conn, config, datetime(2026, 10, 7, 10, 0, tzinfo=SHANGHAI)) == 1
    text = conn.execute("SELECT ops_text FROM outbox WHERE kind = 'reminder'").fetchone()[0]
    assert text == "Comments close tomorrow (on 2026-10-08)"
    assert queue_reminders(conn, config, datetime(2026, 10, 9, 10, 0, tzinfo=SHANGHAI)) == 0  # passed: none


def test_bad_reminder_settings_are_refused(install: Install) -> None:
    install.write_config('[[subscription]]\nname = "t"\nchannel = "webhook"\nurl = "http://127.0.0.1:9/x"\n'
                         'reminders = ["deadline:3"]\n')
    result = install.cli("check-config")
    assert result.exit_code == 2 and "comment-deadline:DAYS" in result.output
    install.write_config('[[subscription]]\nname = "t"\nchannel = "webhook"\nurl = "http://127.0.0.1:9/x"\n'
                         'reminder_time = "9am"\n')
    result = install.cli("check-config")
    assert result.exit_code == 2 and "HH:MM" in result.output
