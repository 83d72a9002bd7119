"""Atom feeds of what subscriptions select, checked by parsing them with feedparser."""

from __future__ import annotations

import signal

import feedparser

from .conftest import Install
from .test_deliver import add_notices
from .test_service import get, service_install, wait_for  # noqa: F401  (the fixture is used by name)

TITLES = ["关于侵害用户权益行为的APP（SDK）通报（2026年第3批，总第56批）", "中国人民银行召开2026年第三季度工作会议"]


def configure(install: Install) -> None:
    install.write_config(
        'sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[detail]\nenabled = false\n'
        '[[subscription]]\nname = "enforcement"\nchannel = "webhook"\nurl = "http://127.0.0.1:9/x"\n'
        'categories = ["Law Enforcement"]\n')


def test_a_feed_per_subscription_and_one_of_everything(pbc_install: Install, tmp_path) -> None:
    configure(pbc_install)
    assert pbc_install.cli("poll", "--no-deliver").exit_code == 0  # the baseline: not in any feed
    add_notices(pbc_install, TITLES)
    assert pbc_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    everything, enforcement = tmp_path / "all.atom", tmp_path / "enforcement.atom"
    assert pbc_install.cli("feed", "-o", str(everything)).exit_code == 0
    result = pbc_install.cli("feed", "--subscription", "enforcement", "-o", str(enforcement))
    assert result.exit_code == 0 and "1 entries written" in result.stdout
    parsed = feedparser.parse(everything.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    assert [e.title.split(" — ")[0] for e in parsed.entries] == list(reversed(TITLES))  # newest first
    first = next(e for e in parsed.entries if e.title.startswith("关于侵害用户权益"))
    assert "Circular on Apps (SDKs) Infringing Users' Rights" in first.title  # the English gloss
    assert {t.term for t in first.tags} >= {"Law Enforcement", "apps", "personal-information"}
    assert first.link.startswith("https://www.pbc.gov.cn/") and first.author == "PBC"
    only = feedparser.parse(enforcement.read_bytes())
    assert [e.title.split(" — ")[0] for e in only.entries] == [TITLES[0]]
    missing = pbc_install.cli("feed", "--subscription", "enforcment", "-o", str(enforcement))
    assert missing.exit_code != 0 and "did you mean 'enforcement'" in missing.output.lower()


def test_the_service_serves_the_feeds(service_install) -> None:  # noqa: F811
    install, _, port = service_install
    proc = install.subprocess("run")
    try:
        wait_for(lambda: get(port, "/healthz")[0] == 200)
        status, body = get(port, "/feeds/all.atom")
        assert status == 200 and not feedparser.parse(body).bozo
        status, body = get(port, "/feeds/team.atom")  # the fixture's subscription
        assert status == 200 and "urn:regwatch:feed:team" in body
        assert get(port, "/feeds/nobody.atom")[0] == 404
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
