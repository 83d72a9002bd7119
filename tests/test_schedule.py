"""Digests go out when the user asked: cron lines mean what cron means, and a new install sends nothing early."""

from __future__ import annotations

import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from regwatch.cron import CronError, cron_trigger, next_fire, previous_fire
from regwatch.store.db import open_db

from .conftest import REGWATCH, Install
from .smtp_server import PASSWORD, SmtpServer

SHANGHAI = ZoneInfo("Asia/Shanghai")


def fires(line: str, start: datetime, count: int = 30, zone: ZoneInfo = SHANGHAI) -> list[datetime]:
    trigger, moments, moment = cron_trigger(line, zone), [], start
    for _ in range(count):
        moment = next_fire(trigger, moment)
        assert moment is not None
        moments.append(moment)
    return moments


@pytest.mark.parametrize(("line", "weekdays"), [
    ("0 9 * * 1", {"Monday"}), ("0 9 * * 0", {"Sunday"}), ("0 9 * * 7", {"Sunday"}),
    ("0 9 * * 1-5", {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}),
    ("0 9 * * mon,fri", {"Monday", "Friday"}), ("0 9 * * SAT-SUN", {"Saturday", "Sunday"}),
    ("0 9 * * 5-7", {"Friday", "Saturday", "Sunday"}), ("0 9 * * */3", {"Sunday", "Wednesday", "Saturday"}),
    ("@weekly", {"Sunday"}),
])
def test_weekdays_are_counted_as_cron_counts_them(line: str, weekdays: set[str]) -> None:
    moments = fires(line, datetime(2026, 1, 1, tzinfo=SHANGHAI), 40)
    assert {m.strftime("%A") for m in moments} == weekdays  # strftime: the real calendar, not a formula


def test_monday_nine_in_beijing_and_in_berlin_across_a_clock_change() -> None:
    (first,) = fires("0 9 * * 1", datetime(2026, 11, 29, 12, 0, tzinfo=SHANGHAI), 1)  # a Sunday
    assert first == datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI) and first.strftime("%A") == "Monday"
    berlin = ZoneInfo("Europe/Berlin")
    for moment in fires("30 8 * * 1", datetime(2026, 3, 1, tzinfo=berlin), 8, berlin):  # CET → CEST on 29 March
        assert (moment.strftime("%A %H:%M"), moment.tzinfo) == ("Monday 08:30", berlin)


def test_day_of_month_and_weekday_together_fire_on_either() -> None:
    moments = fires("0 9 1 * 1", datetime(2026, 11, 29, tzinfo=SHANGHAI), 6)
    assert all(m.day == 1 or m.strftime("%A") == "Monday" for m in moments)
    assert datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI) in moments  # a Tuesday, but the 1st
    assert datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI) in moments  # a Monday, not the 1st


def test_previous_run_is_the_last_one_before_now() -> None:
    now = datetime(2026, 12, 2, 12, 0, tzinfo=SHANGHAI)  # a Wednesday
    assert previous_fire(cron_trigger("0 9 * * 1", SHANGHAI), now) == datetime(2026, 11, 30, 9, 0, tzinfo=SHANGHAI)
    assert previous_fire(cron_trigger("*/10 * * * *", SHANGHAI), now) == now


@pytest.mark.parametrize(("line", "problem"), [
    ("0 9 * * 8", "day of week: 8 is out of range 0-7"), ("60 9 * * 1", "minute: 60 is out of range"),
    ("0 9 * *", "expected five fields"), ("0 9 * * monday", "not a number or a name"),
    ("0 9 5-1 * *", "runs backwards"), ("0 9 * * */0", "a step of 0"),
])
def test_bad_schedules_say_which_field(line: str, problem: str) -> None:
    with pytest.raises(CronError, match=problem):
        cron_trigger(line, SHANGHAI)


def test_a_bad_schedule_stops_check_config_with_one_line(install: Install) -> None:
    install.write_config('[[subscription]]\nname = "weekly"\nchannel = "email"\nmode = "digest"\n'
                         'to = ["legal@example.org"]\nschedule = "0 9 * * 8"\n')
    result = install.cli("check-config")
    assert result.exit_code == 2
    assert "subscription[0].schedule" in result.stderr and "day of week: 8 is out of range" in result.stderr


def test_status_shows_each_digest_next_send_in_its_zone(install: Install) -> None:
    install.write_config(
        '[[subscription]]\nname = "weekly"\nchannel = "email"\nmode = "digest"\nto = ["legal@example.org"]\n'
        '[[subscription]]\nname = "berlin"\nchannel = "email"\nmode = "digest"\nto = ["eu@example.org"]\n'
        'schedule = "30 18 * * 0"\ntimezone = "Europe/Berlin"\n')
    report = install.cli_json("status")
    by_name = {d["subscription"]: d for d in report["digests"]}
    now = datetime.now(UTC)
    weekly = datetime.fromisoformat(by_name["weekly"]["next_send"])
    assert (weekly.strftime("%A %H:%M"), weekly.utcoffset()) == ("Monday 09:00", timedelta(hours=8))
    berlin = datetime.fromisoformat(by_name["berlin"]["next_send"])
    assert berlin.strftime("%A %H:%M") == "Sunday 18:30" and berlin.utcoffset() in (timedelta(hours=1),
                                                                                     timedelta(hours=2))
    for moment in (weekly, berlin):
        assert now < moment <= now + timedelta(days=7)
    text = install.cli("status").stdout
    assert f"digest weekly: next send {weekly:%Y-%m-%d} 09:00 +08:00 (Asia/Shanghai)" in text


def test_first_start_sends_no_digest_but_a_missed_run_is_caught_up(pbc_install: Install, smtp: SmtpServer) -> None:
    """'new' was never run before: nothing goes out. 'old' began ten days ago and missed Monday's run: it does."""
    digest = 'channel = "email"\nmode = "digest"\nschedule = "0 9 * * 1"\n'
    pbc_install.write_config(
        'sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[detail]\nenabled = false\n' + smtp.config()
        + f'[[subscription]]\nname = "new"\nto = ["new@example.org"]\n{digest}'
        + f'[[subscription]]\nname = "old"\nto = ["old@example.org"]\n{digest}')
    conn = open_db(pbc_install.db_path)
    began = (datetime.now(UTC) - timedelta(days=10)).isoformat(timespec="milliseconds")
    conn.execute("INSERT INTO digest_subscriptions (subscription, since) VALUES ('old', ?)", (began,))
    conn.close()
    proc = pbc_install.subprocess("run")
    try:
        deadline = time.monotonic() + 20
        while not smtp.mailbox.messages and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.5)  # 'new' comes first in the config: had it been sent, it would be here by now
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert [m["To"] for m in smtp.mailbox.messages] == ["old@example.org"]
    with pbc_install.db() as db:
        rows = {r["subscription"]: r["since"] for r in db.execute("SELECT * FROM digest_subscriptions")}
        assert set(rows) == {"new", "old"} and rows["old"] == began
        assert [r[0] for r in db.execute("SELECT subscription FROM digests")] == ["old"]


def test_notify_test_mails_the_recipients_and_records_no_digest(pbc_install: Install, smtp: SmtpServer) -> None:
    pbc_install.write_config(smtp.config() + '[[subscription]]\nname = "weekly"\nchannel = "email"\n'
                             'mode = "digest"\nto = ["legal@example.org", "gc@example.org"]\n')
    assert pbc_install.cli("poll", "--source", "pbc-news").exit_code == 0
    result = pbc_install.cli("notify", "test", "weekly")
    assert result.exit_code == 0, result.output
    assert "weekly (email): ok" in result.stdout and PASSWORD not in result.output
    other = pbc_install.cli("notify", "test", "weekly", "--to", "me@example.org")
    assert other.exit_code == 0, other.output
    first, second = smtp.mailbox.messages
    assert first["To"] == "legal@example.org, gc@example.org" and second["To"] == "me@example.org"
    assert "test message" in first["Subject"] and "weekly" in first.get_body(("plain",)).get_content()
    with pbc_install.db() as db:
        assert db.execute("SELECT count(*) FROM digests").fetchone()[0] == 0
    smtp.mailbox.refuse_with = "554 5.7.1 relay denied"
    refused = pbc_install.cli("notify", "test", "weekly")
    assert refused.exit_code == 1 and "failed — SMTP 554" in refused.stdout


def test_run_with_a_digest_subscription_does_not_start_with_an_empty_bulletin(tmp_path, smtp: SmtpServer) -> None:
    """The whole README flow on defaults plus one digest: no '0 new notices, 18 sources not polled' mail at start."""
    config = tmp_path / "config.toml"
    config.write_text(f'database = "{tmp_path}/db.sqlite"\nsources = ["pbc-news"]\n[fetch]\n'
                      'rewrite_to = "http://127.0.0.1:9"\ntimeout = 1\n' + smtp.config()
                      + '[[subscription]]\nname = "weekly"\nchannel = "email"\nmode = "digest"\n'
                      'to = ["a@example.org"]\n'
                      'schedule = "@hourly"\n', encoding="utf-8")
    proc = subprocess.Popen([REGWATCH, "--config", str(config), "run"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    proc.terminate()
    _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err and proc.returncode == 0, err
    assert smtp.mailbox.messages == []
    status = json.loads(subprocess.run([REGWATCH, "--config", str(config), "status", "--json"],
                                       capture_output=True, text=True, check=True).stdout)
    assert status["digests"][0]["last_sent_until"] is None and status["digests"][0]["next_send"]
