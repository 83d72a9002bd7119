"""The weekly digest through a real SMTP server on 127.0.0.1 (STARTTLS + AUTH)."""

from __future__ import annotations

import re

import lxml.html

from .conftest import PBC_LIST_PATH, Install
from .smtp_server import PASSWORD, SmtpServer

ROW = 'td[height="22"]'
DRAFT = "中国人民银行关于《个人金融信息保护管理办法（征求意见稿）》公开征求意见的通知"
TITLES = {
    "Legislation": [DRAFT, "中国人民银行令〔2026〕第3号（非银行支付机构客户备付金存管办法）"],
    "Law Enforcement": ["关于侵害用户权益行为的APP（SDK）通报（2026年第3批，总第56批）"],
    "Court Rulings": ["最高人民法院发布个人信息保护典型案例"],
    "News Reports": ["中国人民银行召开2026年第三季度工作会议"],
    "Foreign Trends": ["欧盟《人工智能法》正式生效"],
}
HOSTILE = '<script>alert("x")</script><b>粗体</b> & <a href="javascript:alert(1)">链接</a>'
DRAFT_PAGE = ("<html><head><meta charset='utf-8'><meta name='PubDate' content='2026-08-14 10:30'></head><body>"
              "<div id='zoom'><p>为加强个人金融信息保护，我行起草了《个人金融信息保护管理办法（征求意见稿）》，"
              "现向社会公开征求意见。</p><p>意见反馈截止时间为2099年9月15日。</p></div></body></html>")


def setup_digest(install: Install, smtp: SmtpServer, language: str = "both", extra: str = "") -> None:
    install.write_config(
        'sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[detail]\nbaseline = false\nretry_minutes = 60\n'
        + smtp.config() +
        f'\n[[subscription]]\nname = "weekly"\nchannel = "email"\nmode = "digest"\nlanguage = "{language}"\n'
        'to = ["legal@example.org", "compliance@example.org"]\n'
        'unsubscribe = "https://regwatch.example.org/u/Zm9vYmFy, mailto:unsubscribe@example.org"\n' + extra)


def add(install: Install, titles: list[str], start: int) -> None:
    items = [{"title": t, "href": f"/goutongjiaoliu/113456/113469/{6100000 + start + i}/index.html",
              "date": "2026-08-14"} for i, t in enumerate(titles)]
    install.replay.add_items(PBC_LIST_PATH, ROW, items, date_selector="span.hui12")


def sections(html: str) -> dict[str, list[str]]:
    """Category heading → the titles listed under it, in order."""
    root = lxml.html.fromstring(html)
    result: dict[str, list[str]] = {}
    current = None
    for element in root.cssselect("div.rw-section, div.rw-item"):
        text = element.text_content().strip()
        if "rw-section" in element.get("class", ""):
            current = text.split(". ", 1)[1]
            result[current] = []
        elif current:
            result[current].append(text)
    return result


def test_digest_arrives_as_a_bulletin(pbc_install: Install, smtp: SmtpServer) -> None:
    setup_digest(pbc_install, smtp)
    assert pbc_install.cli("poll").exit_code == 0
    all_titles = [t for group in TITLES.values() for t in group] + [HOSTILE]
    add(pbc_install, all_titles, 0)
    pbc_install.replay.set_page("www.pbc.gov.cn/goutongjiaoliu/113456/113469/6100000/index.html", DRAFT_PAGE,
                                "text/html; charset=utf-8")
    assert pbc_install.cli("poll", "--all").exit_code == 0
    result = pbc_install.cli("digest", "send")
    assert result.exit_code == 0, result.output
    (message,) = smtp.mailbox.messages

    assert "监管动态周报" in message["Subject"] and "7 条新通知" in message["Subject"]
    assert message["To"] == "legal@example.org, compliance@example.org"
    assert message["From"] == "regwatch <digest@regwatch.example.org>"
    assert message["Date"] and re.match(r"<.+@regwatch\.example\.org>", message["Message-ID"].strip())
    assert message["List-Id"] == '"regwatch digest weekly" <weekly.digest.regwatch.example.org>'
    assert message["List-Unsubscribe"].strip() == (
        "<https://regwatch.example.org/u/Zm9vYmFy>, <mailto:unsubscribe@example.org>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.iter_parts()
    assert (text_part.get_content_type(), html_part.get_content_type()) == ("text/plain", "text/html")
    assert text_part["Content-Transfer-Encoding"] == "quoted-printable"
    text, html = text_part.get_content(), html_part.get_content()

    found = sections(html)
    assert list(found) == ["立法动态 / Legislation", "执法动态 / Law Enforcement", "司法案例 / Court Rulings",
                           "新闻资讯 / News Reports", "域外动态 / Foreign Trends"]  # the seeds' order
    assert sorted(found["立法动态 / Legislation"]) == sorted(TITLES["Legislation"])
    assert found["执法动态 / Law Enforcement"] == TITLES["Law Enforcement"]
    assert found["司法案例 / Court Rulings"] == TITLES["Court Rulings"]
    assert found["新闻资讯 / News Reports"] == [HOSTILE, *TITLES["News Reports"]]  # newest first
    assert found["域外动态 / Foreign Trends"] == TITLES["Foreign Trends"]
    # highlights: the open draft with its deadline, the new rule, the enforcement circular
    highlights = html.split("本期要点")[1].split("I. ")[0]
    assert DRAFT in highlights and "2099-09-15" in highlights
    assert TITLES["Law Enforcement"][0] in highlights and TITLES["Legislation"][1] in highlights
    assert "<script>" not in html and "&lt;script&gt;" in html and 'href="javascript' not in html
    for title in all_titles:
        assert title in text
    assert "意见截止 / comments due 2099-09-15" in text
    assert "全部 1 个信息源在本期均正常抓取" in text  # the health section
    assert "https://regwatch.example.org/u/Zm9vYmFy" in text and "https://regwatch.example.org/u/Zm9vYmFy" in html


def test_a_digest_missed_while_smtp_was_down_is_caught_up_once(pbc_install: Install, smtp: SmtpServer) -> None:
    setup_digest(pbc_install, smtp, language="en")
    assert pbc_install.cli("poll").exit_code == 0
    add(pbc_install, ["中国人民银行召开2026年第三季度工作会议"], 0)
    assert pbc_install.cli("poll", "--all").exit_code == 0
    smtp.mailbox.refuse_with = "451 4.3.0 mail system busy, try later"
    failed = pbc_install.cli("digest", "send")
    assert failed.exit_code == 1 and "NOT sent" in failed.stdout and PASSWORD not in failed.output
    smtp.mailbox.refuse_with = None
    add(pbc_install, ["关于侵害用户权益行为的APP（SDK）通报（2026年第3批，总第56批）"], 10)
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert pbc_install.cli("digest", "send").exit_code == 0
    (caught_up,) = smtp.mailbox.messages
    body = caught_up.get_body(("plain",)).get_content()
    assert "中国人民银行召开2026年第三季度工作会议" in body and "总第56批" in body  # both periods, once
    assert pbc_install.cli("digest", "send").exit_code == 0
    empty = smtp.mailbox.messages[1].get_body(("plain",)).get_content()
    assert "Nothing new in this period." in empty and "总第56批" not in empty
    with pbc_install.db() as conn:
        states = [r[0] for r in conn.execute("SELECT state FROM digests ORDER BY id")]
    assert states == ["failed", "sent", "sent"]


def test_an_unhealthy_source_is_reported_and_empty_periods_can_be_skipped(pbc_install: Install, smtp) -> None:
    from regwatch.replay import ScriptedResponse

    setup_digest(pbc_install, smtp, language="zh", extra="send_empty = false\n")
    assert pbc_install.cli("poll").exit_code == 0
    assert pbc_install.cli("digest", "send").exit_code == 0
    assert smtp.mailbox.messages == []  # nothing new and all healthy: not sent
    pbc_install.replay.respond(PBC_LIST_PATH, ScriptedResponse(status=503))
    pbc_install.cli("poll", "--all")
    assert pbc_install.cli("digest", "send").exit_code == 0
    (message,) = smtp.mailbox.messages
    text = message.get_body(("plain",)).get_content()
    assert "以下信息源在本期出现问题" in text and "pbc-news" in text and "HTTP 503" in text


def test_preview_renders_without_sending_or_recording(pbc_install: Install, smtp: SmtpServer, tmp_path) -> None:
    setup_digest(pbc_install, smtp)
    assert pbc_install.cli("poll").exit_code == 0
    add(pbc_install, ["中国人民银行召开2026年第三季度工作会议"], 0)
    assert pbc_install.cli("poll", "--all").exit_code == 0
    out = tmp_path / "digest.html"
    assert pbc_install.cli("digest", "preview", "--format", "html", "-o", str(out)).exit_code == 0
    assert "中国人民银行召开2026年第三季度工作会议" in out.read_text(encoding="utf-8")
    assert smtp.mailbox.messages == []
    with pbc_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM digests").fetchone()[0] == 0


def test_preview_on_a_new_install_can_show_the_baseline(pbc_install: Install, smtp: SmtpServer) -> None:
    """Right after install every stored notice is baseline (never news): --include-baseline shows the bulletin."""
    setup_digest(pbc_install, smtp, language="en")
    assert pbc_install.cli("poll").exit_code == 0
    with pbc_install.db() as conn:
        titles = [r[0] for r in conn.execute("SELECT title FROM notices WHERE baseline = 1")]
    assert len(titles) == 15
    plain = pbc_install.cli("digest", "preview")
    assert plain.exit_code == 0 and "Nothing new in this period." in plain.stdout
    assert not any(t in plain.stdout for t in titles)
    full = pbc_install.cli("digest", "preview", "--include-baseline")
    assert full.exit_code == 0 and all(t in full.stdout for t in titles)
    with pbc_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM digests").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM notices WHERE baseline = 1").fetchone()[0] == 15
