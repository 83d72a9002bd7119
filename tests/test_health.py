"""A source that breaks says so: a challenge page, a broken layout or an outage is never "nothing new"."""

from __future__ import annotations

import lxml.html
import pytest

from regwatch.replay import ScriptedResponse

from .conftest import PBC_LIST_P1, PBC_LIST_PATH, REAL, Install

CHALLENGE = (REAL / "pbc" / "antibot_wzws-js-challenge_homepage_circa-2018.html").read_bytes()


def without_list_markup() -> bytes:
    root = lxml.html.fromstring(PBC_LIST_P1.read_text(encoding="utf-8"))
    for font in root.cssselect("font.newslist_style"):
        font.drop_tag()  # the redesign that drops the row markup but keeps the page
    for a in root.cssselect('a[istitle="true"]'):
        del a.attrib["istitle"]
    for td in root.cssselect('td[height="22"]'):
        del td.attrib["height"]
    return lxml.html.tostring(root, encoding="utf-8")


def one_row_broken() -> bytes:
    root = lxml.html.fromstring(PBC_LIST_P1.read_text(encoding="utf-8"))
    del root.cssselect('td[height="22"]')[3].attrib["height"]
    return lxml.html.tostring(root, encoding="utf-8")


@pytest.mark.parametrize(("response", "state", "message"), [
    (ScriptedResponse(status=200, body=CHALLENGE), "blocked", "wzws (网站卫士) JavaScript challenge"),
    (ScriptedResponse(status=200, body=without_list_markup()), "layout-changed", "no notice rows"),
    (ScriptedResponse(status=200, body=one_row_broken()), "layout-changed", "only 14 of 15"),
    (ScriptedResponse(status=503), "unreachable", "HTTP 503"),
    (ScriptedResponse(status=403), "blocked", "HTTP 403"),
    (ScriptedResponse(status=404), "misconfigured", "HTTP 404"),
])
def test_bad_answers_get_a_health_state_and_lose_nothing(
    pbc_install: Install, response: ScriptedResponse, state: str, message: str
) -> None:
    replay = pbc_install.replay
    assert pbc_install.cli("poll").exit_code == 0  # baseline

    replay.respond(PBC_LIST_PATH, response)
    bad = pbc_install.cli("poll", "--all")
    assert bad.exit_code == 1  # a failed source makes the poll fail
    assert state in bad.stdout and message in bad.stdout
    (source,) = pbc_install.cli_json("sources")["sources"]
    assert source["state"] == state and message in source["last_error"]

    # The site recovers with a new notice: it is found (the bad answer did not poison the ETag).
    replay.add_items(PBC_LIST_PATH, 'td[height="22"]', [
        {"title": "中国人民银行公告〔2026〕第22号", "href": "/goutongjiaoliu/113456/113469/5870001/index.html",
         "date": "2026-08-14"}], date_selector="span.hui12")
    good = pbc_install.cli("poll", "--all")
    assert good.exit_code == 0 and "1 new" in good.stdout
    (source,) = pbc_install.cli_json("sources")["sources"]
    assert source["state"] == "ok"


def test_failed_first_poll_is_not_a_baseline(pbc_install: Install) -> None:
    replay = pbc_install.replay
    replay.respond(PBC_LIST_PATH, ScriptedResponse(status=200, body=CHALLENGE))
    assert pbc_install.cli("poll").exit_code == 1
    assert pbc_install.cli_json("notices")["count"] == 0
    assert pbc_install.cli("poll", "--all").exit_code == 0
    stored = pbc_install.cli_json("notices")
    assert stored["count"] == 15 and all(n["baseline"] for n in stored["notices"])
    with pbc_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def health_events(install: Install) -> list[tuple[str, str]]:
    with install.db() as conn:
        return [(r["kind"], r["state"]) for r in conn.execute("SELECT kind, state FROM health_events ORDER BY id")]


@pytest.mark.parametrize(("body", "state"), [(CHALLENGE, "blocked"), (without_list_markup(), "layout-changed")])
def test_one_alert_after_n_bad_polls_and_one_recovery(pbc_install: Install, body: bytes, state: str) -> None:
    pbc_install.write_config('sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[health]\nalert_after = 3')
    replay = pbc_install.replay
    assert pbc_install.cli("poll").exit_code == 0
    replay.respond(PBC_LIST_PATH, ScriptedResponse(status=200, body=body, times=5))
    for n in range(5):
        result = pbc_install.cli("poll", "--all")
        assert result.exit_code == 1
        assert health_events(pbc_install) == ([] if n < 2 else [("unhealthy", state)])
    (source,) = pbc_install.cli_json("sources")["sources"]
    assert source["state"] == state and source["state_since"] <= source["last_poll"]["started_at"]
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert health_events(pbc_install) == [("unhealthy", state), ("recovered", "ok-no-new")]


def test_a_short_outage_raises_no_alert(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    pbc_install.replay.respond(PBC_LIST_PATH, ScriptedResponse(status=503, times=2))
    for _ in range(2):
        assert pbc_install.cli("poll", "--all").exit_code == 1
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert health_events(pbc_install) == []


def test_failed_detail_page_keeps_the_notice_and_is_retried(pbc_install: Install) -> None:
    pbc_install.write_config('sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n'
                             '[detail]\nbaseline = false\nretry_minutes = 0.0001')
    replay = pbc_install.replay
    assert pbc_install.cli("poll").exit_code == 0
    detail_path = "www.pbc.gov.cn/goutongjiaoliu/113456/113469/5870002/index.html"
    replay.add_items(PBC_LIST_PATH, 'td[height="22"]', [
        {"title": "中国人民银行公告〔2026〕第23号", "href": "/" + detail_path.split("/", 1)[1], "date": "2026-08-15"}],
        date_selector="span.hui12")
    replay.respond(detail_path, ScriptedResponse(status=503))
    replay.set_page(detail_path, (REAL / "pbc" / "detail_goutongjiaoliu_2025-annual-financial-statistics-report.html")
                    .read_bytes(), "text/html; charset=utf-8")

    first = pbc_install.cli("poll", "--all")
    assert first.exit_code == 0 and "1 new" in first.stdout and "1 to retry" in first.stdout
    with pbc_install.db() as conn:
        row = conn.execute("SELECT detail_state, detail_attempts, detail_error, body FROM notices "
                           "WHERE title = '中国人民银行公告〔2026〕第23号'").fetchone()
    assert (row["detail_state"], row["detail_attempts"], row["body"]) == ("pending", 1, None)
    assert "HTTP 503" in row["detail_error"]

    second = pbc_install.cli("poll", "--all")
    assert second.exit_code == 0 and "1 read" in second.stdout
    with pbc_install.db() as conn:
        row = conn.execute("SELECT detail_state, published_at, doc_number, body FROM notices "
                           "WHERE title = '中国人民银行公告〔2026〕第23号'").fetchone()
    assert row["detail_state"] == "done" and row["published_at"] == "2026-01-15T14:59:40+08:00"
    assert row["doc_number"] == "中国人民银行公告〔2026〕第23号"  # from the title
    assert "社会融资规模" in row["body"]
    with pbc_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1  # the retry raised no new alert
