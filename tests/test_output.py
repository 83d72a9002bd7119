"""Output a person reads correctly: times with their zone in one format, secrets masked but hosts shown."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .conftest import Install

TIME = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} [+-]\d{2}:\d{2}"


def _times(text: str) -> list[str]:
    return re.findall(TIME, text)


def test_times_are_beijing_time_with_their_offset_unless_configured(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    with pbc_install.db() as conn:
        first_seen = datetime.fromisoformat(conn.execute("SELECT max(first_seen) FROM notices").fetchone()[0])
        finished = datetime.fromisoformat(conn.execute("SELECT max(finished_at) FROM polls").fetchone()[0])
    beijing = (finished + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M") + " +08:00"
    sources = pbc_install.cli("sources").stdout
    assert f"last poll {beijing}" in sources
    status = pbc_install.cli("status").stdout
    assert f"last poll {beijing}" in status
    notices = pbc_install.cli("notices").stdout
    assert f"first seen {(first_seen + timedelta(hours=8)):%Y-%m-%d %H:%M} +08:00" in notices
    for text in (sources, status, notices):
        assert _times(text) and all(t.endswith("+08:00") for t in _times(text))
        assert not re.search(r"\d{2}:\d{2}:\d{2}(?!\.)", text.replace(beijing, ""))  # no bare UTC timestamps

    pbc_install.config_path.write_text(pbc_install.config_path.read_text(encoding="utf-8")
                                       + '[display]\ntimezone = "Europe/London"\n', encoding="utf-8")
    london = _times(pbc_install.cli("sources").stdout)
    assert london and all(t.endswith(("+00:00", "+01:00")) for t in london)


def test_check_source_shows_a_detail_page_time_in_the_display_zone(pbc_install: Install) -> None:
    page = pbc_install.root / "detail.html"
    page.write_text("<html><head><meta charset='utf-8'><meta name='PubDate' content='2026-08-14 10:30'></head>"
                    "<body><div id='zoom'><p>为加强个人金融信息保护，我行起草了办法。</p></div></body></html>",
                    encoding="utf-8")
    result = pbc_install.cli("check-source", "pbc-news", "--from-file", str(page))
    assert result.exit_code == 0, result.output
    assert "published_at: 2026-08-14 10:30 +08:00" in result.stdout


def test_a_bad_display_zone_is_a_config_error(install: Install) -> None:
    install.write_config('[display]\ntimezone = "Beijing"\n')
    result = install.cli("check-config")
    assert result.exit_code == 2 and "display.timezone" in result.stderr and "unknown time zone" in result.stderr


def test_check_config_masks_only_the_secret_part_of_webhook_urls(install: Install, monkeypatch) -> None:
    token = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
    slack_secret = "kX2vQ8pL5nR7tY3wZ9aB4cD6"
    monkeypatch.setenv("DT_TOKEN", token)
    install.write_config(
        '[[subscription]]\nname = "legal"\nchannel = "dingtalk"\n'
        'url = "https://oapi.dingtalk.com/robot/send?access_token=${DT_TOKEN}"\nsecret = "SECabc123"\n'
        '[[subscription]]\nname = "team"\nchannel = "slack"\n'
        f'url = "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/{slack_secret}"\n'
        '[[subscription]]\nname = "hq"\nchannel = "wecom"\n'
        'url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa"\n')
    out = install.cli("check-config").stdout
    assert f'url = "https://oapi.dingtalk.com/robot/send?access_token=****{token[-4:]}"' in out
    assert f'url = "https://hooks.slack.com/services/T0ABCDEF1/B0ABCDEF2/****{slack_secret[-4:]}"' in out
    assert 'url = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=****5aaa"' in out
    assert token not in out and slack_secret not in out and "SECabc123" not in out
    assert 'secret = "********"' in out



def test_an_uncertain_category_is_marked_for_review_everywhere(pbc_install: Install) -> None:
    from .conftest import PBC_LIST_PATH
    from .receivers import Receiver

    receiver = Receiver("webhook").start()
    try:
        pbc_install.write_config(
            'sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[detail]\nenabled = false\n'
            '[delivery]\nhold_for_details_minutes = 0\n'
            f'[[subscription]]\nname = "team"\nchannel = "webhook"\nurl = "{receiver.url}"\n'
            f'secret = "{receiver.secret}"\n')
        assert pbc_install.cli("poll").exit_code == 0
        pbc_install.replay.add_items(PBC_LIST_PATH, 'td[height="22"]', [
            {"title": "关于征求意见的情况通报", "href": "/goutongjiaoliu/113456/113469/7100001/index.html",
             "date": "2026-11-30"}], date_selector="span.hui12")
        assert pbc_install.cli("poll", "--all").exit_code == 0
        (notice,) = [n for n in pbc_install.cli_json("notices")["notices"] if n["title"] == "关于征求意见的情况通报"]
        assert notice["review"] is True and notice["confidence"] < 0.8
        assert "category to check" in pbc_install.cli("notices").stdout
        (sent,) = [n for m in receiver.messages for n in m.payload["data"]["notices"]]
        assert sent["title"] == "关于征求意见的情况通报" and sent["review"] is True
    finally:
        receiver.stop()
