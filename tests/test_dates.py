"""Dates that matter: comment deadlines and effective dates with their sentences, `deadlines`, the calendar."""

from __future__ import annotations

import signal
from datetime import date

import icalendar
import pytest

from regwatch.parse.dates import parse_date, parse_datetime
from regwatch.parse.detail import find_deadline_sentence, find_effective

from .conftest import Install
from .test_deliver import add_notices
from .test_service import get, service_install, wait_for  # noqa: F401  (the fixture is used by name)

RULE_PAGE = ("<html><head><meta charset='utf-8'><meta name='PubDate' content='2099-08-14 10:30'></head><body>"
             "<div id='zoom'><p>《支付机构客户信息保护办法》已经审议通过，现予公布。</p>"
             "<p>本办法自2099年10月1日起施行。</p></div></body></html>")
DRAFT_PAGE = ("<html><head><meta charset='utf-8'></head><body><div id='zoom'><p>现向社会公开征求意见。</p>"
              "<p>意见反馈截止时间为2099年9月15日。</p><p>本办法自2100年1月1日起施行。</p></div></body></html>")


@pytest.mark.parametrize(("body", "effective"), [
    ("本办法自2026年1月1日起施行。", "2026-01-01"),
    ("本规定自公布之日起施行。", "2026-08-14"),  # the publication date
    ("施行日期：2025年5月1日", "2025-05-01"),
    ("本标准于2026年11月1日实施。", "2026-11-01"),
    ("These Measures shall come into force on 1 January 2026.", "2026-01-01"),
    ("The Regulations take effect from March 1, 2025.", "2025-03-01"),
    ("请于2026年10月14日前反馈意见。", None),  # a deadline is not an effective date
])
def test_effective_dates_are_read_from_the_sentences_that_give_them(body: str, effective: str | None) -> None:
    found = find_effective(body, "2026-08-14T10:00:00+08:00")
    assert (found[0] if found else None) == effective
    if found:
        assert found[1] in body


@pytest.mark.parametrize("text", [
    "2026-08-14", " 2026-8-4 ", "发布时间：2026年08月14日 09:30", "2026/08/14", "2026.08.14", "20260814",
    "t20260814_1.html", "1786665600", "1786665600000", "2026-08-14-10:20:30", "2026-02-30", "2026-13-01",
    "2026-08-14 25:00", "2026-08-14 23:61", "2026年8月14日18时30分", "第2026-08-14期 2026-09-01", "", "   ", "无日期",
    "１２３", "2026—08—14", "2026-02-29", "2024-02-29", "2026-08-1日", "2026-8-14日", "2026-08-14 09:30",
    "关于发布第十批算法备案信息的公告 2026-11-30", "2026-00-10", "2026-08-00",
])
def test_a_list_rows_date_is_the_date_of_its_datetime(text: str) -> None:
    """parse_date reads a row's date without making its datetime; it must agree with parse_datetime."""
    moment = parse_datetime(text)
    assert parse_date(text) == (moment.date().isoformat() if moment else None)


def test_the_deadline_keeps_its_sentence() -> None:
    assert find_deadline_sentence("现予公布。意见反馈截止时间为2099年9月15日。") == (
        "2099-09-15", "意见反馈截止时间为2099年9月15日")


def test_deadlines_lists_open_comment_periods_and_coming_effective_dates(pbc_install: Install, tmp_path) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    rule, draft = add_notices(pbc_install, ["支付机构客户信息保护办法",
                                            "关于《数据安全办法（征求意见稿）》公开征求意见的通知"])
    pbc_install.replay.set_page("www.pbc.gov.cn" + rule["href"], RULE_PAGE, "text/html; charset=utf-8")
    pbc_install.replay.set_page("www.pbc.gov.cn" + draft["href"], DRAFT_PAGE, "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    dates = pbc_install.cli_json("deadlines", "--days", "40000")["dates"]
    assert [(d["kind"], d["day"], d["title"][:6]) for d in dates] == [
        ("comments-close", "2099-09-15", "关于《数据安"), ("takes-effect", "2099-10-01", "支付机构客户")]
    # the draft's proposed 2100 date is not a date that matters yet; each date says where it came from
    assert dates[1]["sentence"] == "本办法自2099年10月1日起施行" and dates[0]["title_en"]
    assert "comments close" in pbc_install.cli("deadlines", "--days", "40000").stdout
    assert pbc_install.cli_json("deadlines", "--days", "30")["dates"] == []

    out = tmp_path / "dates.ics"
    result = pbc_install.cli("calendar", "-o", str(out), "--days", "40000")
    assert result.exit_code == 0 and "2 dates written" in result.stdout
    raw = out.read_bytes()
    lines = raw.split(b"\r\n")
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only
    assert all(len(line) <= 75 for line in lines)  # folded at 75 octets
    text = raw.decode("utf-8").replace("\r\n ", "")  # unfolded
    assert text.count("BEGIN:VEVENT") == 2 == text.count("END:VEVENT")
    assert "DTSTART;VALUE=DATE:20990915" in text and "DTSTART;VALUE=DATE:20991001" in text
    assert "UID:takes-effect-" in text and "本办法自2099年10月1日起施行" in text
    events = icalendar.Calendar.from_ical(raw).walk("VEVENT")  # as a calendar application reads it
    assert [e.decoded("DTSTART") for e in events] == [date(2099, 9, 15), date(2099, 10, 1)]
    summaries = [str(e["SUMMARY"]) for e in events]
    assert summaries[0].startswith("Comments close / 意见截止: 关于《数据安全办法")
    assert "Draft for Comment" in summaries[0]
    assert "支付机构客户信息保护办法" in summaries[1]
    assert len({str(e["UID"]) for e in events}) == 2


def test_the_service_serves_the_calendar(service_install) -> None:  # noqa: F811
    install, _, port = service_install
    proc = install.subprocess("run")
    try:
        wait_for(lambda: get(port, "/healthz")[0] == 200)
        status, body = get(port, "/calendar.ics")
        assert status == 200 and body.startswith("BEGIN:VCALENDAR") and body.rstrip().endswith("END:VCALENDAR")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
