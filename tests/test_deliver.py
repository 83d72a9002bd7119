"""Instant alerts through loopback receivers that behave like each platform."""

from __future__ import annotations

import json
import signal
import sqlite3
import time
from collections import Counter
from datetime import datetime

import pytest

from .conftest import PBC_LIST_PATH, REAL, Install
from .receivers import Receiver

PLATFORMS = ["slack", "teams", "dingtalk", "feishu", "wecom", "webhook"]
ROW = 'td[height="22"]'
DETAIL = (REAL / "pbc" / "detail_goutongjiaoliu_2025-annual-financial-statistics-report.html").read_bytes()


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def make(platform: str) -> Receiver:
        receiver = Receiver(platform).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


def configure(install: Install, subs: list[tuple[str, Receiver, dict]], ops: str = "", delivery: str = "") -> None:
    text = ""
    for name, receiver, options in subs:
        text += f'\n[[subscription]]\nname = "{name}"\nchannel = "{receiver.platform}"\nurl = "{receiver.url}"\n'
        if receiver.secret:
            text += f'secret = "{receiver.secret}"\n'
        text += "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in options.items())
    install.write_config(
        'sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[detail]\nbaseline = false\nretry_minutes = 60\n'
        f'[delivery]\nhold_for_details_minutes = 0\nretry_base_seconds = 0.2\nsending_timeout_minutes = 0.0005\n'
        f'{delivery}\n[ops]\nsubscription = "{ops}"\n{text}')


def add_notices(install: Install, titles: list[str], day: str = "2026-08-14") -> list[dict]:
    items = [{"title": t, "href": f"/goutongjiaoliu/113456/113469/{5900000 + i + len(install.replay.log)}/index.html",
              "date": day} for i, t in enumerate(titles)]
    install.replay.add_items(PBC_LIST_PATH, ROW, items, date_selector="span.hui12")
    return items


def outbox(install: Install) -> list[sqlite3.Row]:
    with install.db() as conn:
        return conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()


def make_due(install: Install) -> None:
    """Time travel for waits of minutes (DingTalk's 10-minute throttle): the next attempt is now."""
    with install.db() as conn:
        conn.execute("UPDATE outbox SET next_attempt_at = '2000-01-01' WHERE state IN ('pending', 'retrying')")
        conn.execute("DELETE FROM deliveries")


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_new_notice_arrives_correctly_formatted_and_signed(pbc_install: Install, receivers, platform: str) -> None:
    receiver = receivers(platform)
    configure(pbc_install, [("team", receiver, {"language": "both"})])
    assert pbc_install.cli("poll").exit_code == 0
    assert receiver.messages == []  # the baseline alerts no one
    item = add_notices(pbc_install, ["中国人民银行公告〔2026〕第21号"])[0]
    pbc_install.replay.set_page("www.pbc.gov.cn" + item["href"], DETAIL, "text/html; charset=utf-8")
    result = pbc_install.cli("poll", "--all")
    assert result.exit_code == 0, result.output
    assert receiver.rejections == []
    (message,) = receiver.messages
    text = json.dumps(message.payload, ensure_ascii=False)
    assert "中国人民银行公告〔2026〕第21号" in text
    assert "https://www.pbc.gov.cn" + item["href"] in text
    assert "中国人民银行" in text and ("立法动态" in text or "Legislation" in text)
    assert "2026-01-15" in text and "14:59" in text  # the detail page's exact time
    assert "People's Bank of China Announcement" in text and "2026" in text  # the English gloss under the title
    assert [r["state"] for r in outbox(pbc_install)] == ["sent"]
    if platform == "webhook":
        assert message.headers["webhook-id"].startswith("rw_")
        notice = message.payload["data"]["notices"][0]
        assert message.payload["type"] == "notice.created" and notice["doc_number"] == "中国人民银行公告〔2026〕第21号"
        assert notice["title_en"] == "People's Bank of China Announcement [2026] No. 21"


TRANSIENT = {
    "slack": ((429, {"Retry-After": "1"}, b'{"ok":false,"error":"ratelimited"}'), 1),
    "teams": ((503, {"Retry-After": "1"}, b""), 1),
    "dingtalk": ((200, {}, b'{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}'), 600),
    "feishu": ((200, {}, b'{"code":11232,"msg":"frequency limited psm[lark.oapi]"}'), 10),
    "wecom": ((200, {}, b'{"errcode":45009,"errmsg":"api freq out of limit"}'), 60),
    "webhook": ((429, {"Retry-After": "1"}, b""), 1),
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_transient_errors_and_rate_limits_are_retried_after_the_wait(
    pbc_install: Install, receivers, platform: str
) -> None:
    receiver = receivers(platform)
    configure(pbc_install, [("team", receiver, {})])
    assert pbc_install.cli("poll").exit_code == 0
    add_notices(pbc_install, ["关于侵害用户权益行为的APP通报"])
    answer, wait = TRANSIENT[platform]
    receiver.script.append(answer)
    started = time.time()
    assert pbc_install.cli("poll", "--all").exit_code == 0
    (row,) = outbox(pbc_install)
    assert row["state"] == "retrying" and row["attempts"] == 1
    scheduled = datetime.fromisoformat(row["next_attempt_at"]).timestamp()
    assert scheduled >= started + wait - 1.5  # the platform's wait is honoured, not a blind retry
    assert pbc_install.cli("deliver").exit_code == 0 or wait > 1  # not due yet unless the wait was short
    if wait > 1:
        assert receiver.messages == []
        make_due(pbc_install)
    else:
        time.sleep(1.1)
    result = pbc_install.cli("deliver")
    assert result.exit_code == 0, result.output
    assert len(receiver.messages) == 1 and receiver.rejections == []
    assert [r["state"] for r in outbox(pbc_install)] == ["sent"]


PERMANENT = {
    "slack": (404, {}, b"channel_not_found"),
    "teams": (404, {}, b'{"error":{"code":"WorkflowNotFound"}}'),
    "dingtalk": (200, {}, b'{"errcode":400102,"errmsg":"robot disabled"}'),
    "feishu": (200, {}, b'{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}'),
    "wecom": (200, {}, b'{"errcode":93000,"errmsg":"invalid webhook url"}'),
    "webhook": (410, {}, b""),
}


@pytest.mark.parametrize("platform", PLATFORMS)
def test_permanent_errors_are_not_retried_and_raise_an_ops_alert(
    pbc_install: Install, receivers, platform: str
) -> None:
    receiver, ops = receivers(platform), receivers("webhook")
    configure(pbc_install, [("team", receiver, {}), ("ops", ops, {"mode": "digest"})], ops="ops")
    assert pbc_install.cli("poll").exit_code == 0
    add_notices(pbc_install, ["关于侵害用户权益行为的APP通报"])
    receiver.script.extend([PERMANENT[platform]] * 3)
    pbc_install.cli("poll", "--all")
    make_due(pbc_install)
    assert pbc_install.cli("deliver").exit_code == 0  # nothing left to try for `team`
    rows = [r for r in outbox(pbc_install) if r["subscription"] == "team"]
    assert [(r["state"], r["attempts"]) for r in rows] == [("dead", 1)]
    assert len(receiver.script) == 2  # exactly one request was made
    (alert,) = ops.messages
    assert alert.payload["type"] == "regwatch.ops" and "team" in alert.payload["data"]["notices"][0]["title"]
    listing = pbc_install.cli("outbox")
    assert "dead" in listing.stdout and receiver.url not in listing.stdout
    receiver.script.clear()  # the channel is fixed
    assert "1 dead deliveries queued again" in pbc_install.cli("outbox", "retry").stdout
    assert pbc_install.cli("deliver").exit_code == 0
    assert len(receiver.messages) == 1  # the channel was fixed: the dead alert arrives


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_burst_of_50_notices_is_batched_within_limits(pbc_install: Install, receivers, platform: str) -> None:
    receiver = receivers(platform)
    configure(pbc_install, [("team", receiver, {})])
    pbc_install.config_path.write_text(pbc_install.config_path.read_text(encoding="utf-8").replace(
        "backfill_pages = 1", "backfill_pages = 1\nmax_catchup_pages = 1"), encoding="utf-8")
    assert pbc_install.cli("poll").exit_code == 0
    titles = [f"中国人民银行关于《金融数据安全管理办法（征求意见稿）》第{i}次公开征求意见的通知" for i in range(50)]
    add_notices(pbc_install, titles)
    result = pbc_install.cli("poll", "--all")
    assert result.exit_code == 0, result.output
    assert receiver.rejections == []
    assert 1 <= len(receiver.messages) <= 10  # batched, and within DingTalk's and WeCom's 20 a minute
    text = "".join(json.dumps(m.payload, ensure_ascii=False) for m in receiver.messages)
    assert all(title in text for title in titles)
    assert Counter(r["state"] for r in outbox(pbc_install)) == {"sent": 50}


HOSTILE = ("<!channel> <@U024BE7LH> **紧急** [点此查看](https://evil.example/x) <https://evil.example|官方通知> "
           "<at user_id=\"all\">所有人</at> <@all> # 标题 > 引用 `代码` " + "长" * 3400)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_hostile_title_arrives_escaped_and_within_limits(pbc_install: Install, receivers, platform: str) -> None:
    receiver = receivers(platform)
    configure(pbc_install, [("team", receiver, {})])
    assert pbc_install.cli("poll").exit_code == 0
    add_notices(pbc_install, [HOSTILE, "中国人民银行公告〔2026〕第22号"])
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert receiver.rejections == []  # every receiver checks for forged links/mentions and its size limit
    assert len(receiver.messages) == 2
    hostile = next(m for m in receiver.messages if "紧急" in json.dumps(m.payload, ensure_ascii=False))
    if platform != "webhook":
        assert len(hostile.raw) < 20_000
    if platform in ("teams", "dingtalk", "feishu", "wecom"):  # Markdown dialects: no link can be formed
        assert "evil.example/x)" not in json.dumps(hostile.payload, ensure_ascii=False)
    if platform == "slack":  # the title sits only in plain_text and rich_text, which Slack never parses
        mrkdwn = [hostile.payload["text"]] + [e["text"] for b in hostile.payload["blocks"] if b["type"] == "context"
                                              for e in b["elements"]]
        assert not any("<!channel>" in t or "<https://evil" in t for t in mrkdwn)


def test_receiver_down_then_back_gets_every_alert_exactly_once(pbc_install: Install, receivers) -> None:
    receiver = receivers("webhook")
    configure(pbc_install, [("team", receiver, {"batch_over": 100})])
    assert pbc_install.cli("poll").exit_code == 0
    port = receiver.port
    receiver.stop()
    titles = [f"关于开展第{i}批APP侵害用户权益专项整治工作的通知" for i in range(5)]
    add_notices(pbc_install, titles)
    assert pbc_install.cli("poll", "--all").exit_code == 0
    for _ in range(3):  # down for a while: every pass fails to connect
        make_due(pbc_install)
        assert pbc_install.cli("deliver").exit_code == 1
    assert {r["state"] for r in outbox(pbc_install)} == {"retrying"}
    back = Receiver("webhook", port=port).start()
    try:
        make_due(pbc_install)
        assert pbc_install.cli("deliver").exit_code == 0
        make_due(pbc_install)
        assert pbc_install.cli("deliver").exit_code == 0
        got = [n["title"] for m in back.messages for n in m.payload["data"]["notices"]]
        assert sorted(got) == sorted(titles) and back.rejections == []
    finally:
        back.stop()


def test_sigkill_during_delivery_loses_nothing_and_repeats_only_with_the_same_key(
    pbc_install: Install, receivers
) -> None:
    receiver = receivers("webhook")
    configure(pbc_install, [("team", receiver, {"batch_over": 100})])
    assert pbc_install.cli("poll").exit_code == 0
    titles = [f"关于开展第{i}批APP侵害用户权益专项整治工作的通知" for i in range(12)]
    add_notices(pbc_install, titles)
    # Store the notices (and their outbox rows) without sending: the receiver refuses for now.
    receiver.script.extend([(503, {}, b"")] * 12)
    pbc_install.cli("poll", "--all")
    receiver.script.clear()
    receiver.delay = 0.15  # the answer comes late: a kill often falls between send and record
    kills = 0
    for delay in (0.45, 0.6, 0.75, 0.9, 1.05, 1.2, 1.4):
        make_due(pbc_install)
        proc = pbc_install.subprocess("deliver")
        time.sleep(delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    receiver.delay = 0
    for _ in range(3):
        make_due(pbc_install)
        pbc_install.cli("deliver")
    assert kills >= 4
    by_title: dict[str, set[str]] = {}
    for message in receiver.messages:
        for notice in message.payload["data"]["notices"]:
            by_title.setdefault(notice["title"], set()).add(message.headers["webhook-id"])
    assert sorted(by_title) == sorted(titles)  # nothing lost
    assert all(len(ids) == 1 for ids in by_title.values())  # a repeat carries the same webhook-id
    assert Counter(r["state"] for r in outbox(pbc_install)) == {"sent": 12}


def test_each_subscription_gets_exactly_what_its_filters_select(pbc_install: Install, receivers) -> None:
    all_r, enforcement, pi, keyword, pbc_only, other_agency = (receivers("webhook") for _ in range(6))
    configure(pbc_install, [
        ("all", all_r, {"batch_over": 100}),
        ("enforcement", enforcement, {"categories": ["Law Enforcement"], "batch_over": 100}),
        ("pi-legislation", pi, {"categories": ["Legislation"], "tags": ["personal-information"],
                                "batch_over": 100}),
        ("keyword", keyword, {"keywords": ["支付"], "exclude_keywords": ["征求意见"], "batch_over": 100}),
        ("pbc", pbc_only, {"agencies": ["PBC"], "batch_over": 100}),
        ("cac", other_agency, {"agencies": ["CAC"], "batch_over": 100}),
    ])
    assert pbc_install.cli("poll").exit_code == 0
    titles = {
        "app": "关于侵害用户权益行为的APP（SDK）通报（2026年第3批，总第56批）",
        "pi_draft": "中国人民银行关于《个人金融信息保护管理办法（征求意见稿）》公开征求意见的通知",
        "pay_rule": "中国人民银行令〔2026〕第3号（非银行支付机构客户备付金存管办法）",
        "pay_draft": "中国人民银行关于《支付结算办法（征求意见稿）》公开征求意见的通知",
        "news": "中国人民银行召开2026年第三季度工作会议",
    }
    add_notices(pbc_install, list(titles.values()))
    assert pbc_install.cli("poll", "--all").exit_code == 0

    def got(receiver: Receiver) -> set[str]:
        assert receiver.rejections == []
        return {n["title"] for m in receiver.messages for n in m.payload["data"]["notices"]}

    t = titles
    assert got(all_r) == set(t.values())
    assert got(enforcement) == {t["app"]}
    assert got(pi) == {t["pi_draft"]}
    assert got(keyword) == {t["pay_rule"]}
    assert got(pbc_only) == set(t.values())
    assert got(other_agency) == set()
    assert Counter(r["state"] for r in outbox(pbc_install)) == {"sent": 5 + 1 + 1 + 1 + 5, "filtered": 30 - 13}


@pytest.mark.parametrize("platform", ["dingtalk", "feishu", "webhook"])
def test_notify_test_prints_the_platform_verdict_and_no_secret(pbc_install: Install, receivers, platform: str) -> None:
    receiver = receivers(platform)
    configure(pbc_install, [("team", receiver, {"language": "en"})])
    ok = pbc_install.cli("notify", "test", "team")
    assert ok.exit_code == 0 and f"team ({platform}): ok" in ok.stdout
    assert receiver.rejections == [] and len(receiver.messages) == 1
    if platform == "webhook":  # a receiver must be able to tell a test from a notice it should act on
        assert receiver.messages[0].payload["type"] == "regwatch.test"
    receiver.script.append(PERMANENT[platform])
    failed = pbc_install.cli("notify", "test", "team")
    assert failed.exit_code == 1 and "permanent" in failed.stdout
    for output in (ok.output, failed.output, pbc_install.cli("check-config").output):
        assert receiver.secret not in output and "test-token" not in output and "test-hook-id" not in output


def test_source_health_alerts_reach_the_ops_subscription(pbc_install: Install, receivers) -> None:
    from regwatch.replay import ScriptedResponse

    ops = receivers("wecom")
    configure(pbc_install, [("ops", ops, {"language": "en"})], ops="ops")
    pbc_install.config_path.write_text(pbc_install.config_path.read_text(encoding="utf-8").replace(
        "[delivery]", "[health]\nalert_after = 2\n[delivery]"), encoding="utf-8")
    assert pbc_install.cli("poll").exit_code == 0
    pbc_install.replay.respond(PBC_LIST_PATH, ScriptedResponse(status=503, times=3))
    for _ in range(3):
        pbc_install.cli("poll", "--all")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    contents = [m.payload["markdown"]["content"] for m in ops.messages]
    assert len(contents) == 2 and ops.rejections == []
    assert "pbc-news is unreachable" in contents[0] and "HTTP 503" in contents[0]
    assert "pbc-news recovered" in contents[1]


def test_one_notice_posted_in_two_columns_is_alerted_once(install: Install, receivers) -> None:
    """PBC posts its announcements both in 新闻发布 and 公告信息, under two addresses."""
    receiver = receivers("webhook")
    page = (REAL / "pbc" / "list_goutongjiaoliu-113469_index-p1_fetched-2026-08-12.html").read_bytes()
    watchlist = 'agency = "PBC"\n'
    for column in ("news", "announcements"):
        install.replay.set_page(f"{column}.pbc.example/list.html", page, "text/html; charset=utf-8")
        watchlist += (f'[[source]]\nid = "pbc-{column}"\nurl = "https://{column}.pbc.example/list.html"\n'
                      '[source.parser]\nkind = "eportal"\n')
    install.add_watchlist("pbc.toml", watchlist)
    configure(install, [("team", receiver, {"batch_over": 100})])
    install.config_path.write_text(install.config_path.read_text(encoding="utf-8").replace(
        'sources = ["pbc-news"]\n', ""), encoding="utf-8")
    assert install.cli("poll").exit_code == 0
    for column in ("news", "announcements"):
        install.replay.add_items(f"{column}.pbc.example/list.html", ROW, [
            {"title": "中国人民银行公告〔2026〕第41号", "href": f"/{column}/7100001/index.html", "date": "2026-08-21"}],
            date_selector="span.hui12")
    assert install.cli("poll", "--all").exit_code == 0
    got = [n["title"] for m in receiver.messages for n in m.payload["data"]["notices"]]
    assert got == ["中国人民银行公告〔2026〕第41号"]
    assert sorted(r["state"] for r in outbox(install)) == ["filtered", "sent"]
