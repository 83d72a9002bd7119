"""English glosses from the glossary: frames, instrument names, unknown terms left in Chinese, a user's file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import Install
from .smtp_server import SmtpServer
from .test_digest import add, sections, setup_digest


def translate(*args: str, stdin: str = "", config: Path | None = None) -> subprocess.CompletedProcess:
    prefix = ["--config", str(config)] if config else []
    return subprocess.run([sys.executable, "-m", "regwatch", *prefix, "translate", *args], input=stdin,
                          capture_output=True, text=True, timeout=60,
                          env={"XDG_CONFIG_HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})


def test_title_frames_instruments_and_batches_read_as_a_bulletin_writes_them() -> None:
    titles = {
        "国家互联网信息办公室关于《个人信息出境认证办法（征求意见稿）》公开征求意见的通知":
            "Cyberspace Administration of China: Notice on Soliciting Public Comments on the Measures for "
            "Personal Information Outbound Transfer Certification (Draft for Comment)",
        "关于印发《人工智能生成合成内容标识办法》的通知":
            "Notice on Issuing the Measures for Labelling Artificial Intelligence-Generated Synthetic Content",
        "关于侵害用户权益行为的APP（SDK）通报（2026年第3批，总第56批）":
            "Circular on Apps (SDKs) Infringing Users' Rights (Batch 3 of 2026, No. 56 Overall)",
        "网络数据安全管理条例": "Regulations on Network Data Security Management",  # the official English name
        "中华人民共和国能源法": "Energy Law of the People's Republic of China",
        "国家互联网信息办公室等四部门公布《网络暴力信息治理规定》":
            "Cyberspace Administration of China and 3 Other Departments Publishes the Provisions on the "
            "Governance of Online Violence Information",
    }
    proc = translate("--json", stdin="\n".join(titles))
    assert proc.returncode == 0, proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {o["title"]: o["title_en"] for o in out} == titles
    assert all(o["covered"] == 1.0 and o["unknown"] == [] for o in out)


def test_what_the_glossary_does_not_hold_stays_in_chinese_and_is_reported() -> None:
    proc = translate("--json", "鄂尔多斯关于开展数据安全检查的通知")
    (out,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out["unknown"] == ["鄂尔多斯"] and "[鄂尔多斯]" in out["title_en"]
    assert "Data Security Inspection" in out["title_en"] and 0.5 < out["covered"] < 1.0
    plain = translate("鄂尔多斯关于开展数据安全检查的通知")
    assert "(not in the glossary: 鄂尔多斯)" in plain.stdout
    assert translate("--json", "FTC fines a data broker").stdout.count('"unknown": []') == 1  # English stays


def test_a_users_glossary_adds_terms_and_frames_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    own = tmp_path / "glossary.toml"
    own.write_text('version = "ours-1"\n[terms]\n"鄂尔多斯" = "Ordos"\n'
                   "[[frame]]\npattern = '^(?P<body>.*?)关于开展(?P<what>.+)的通知$'\n"
                   'english = "{body}: Notice on Carrying Out {what}"\n', encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'[translate]\nglossary = "{own}"\n', encoding="utf-8")
    proc = translate("--json", "鄂尔多斯关于开展数据安全检查的通知", config=config)
    (out,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert out["title_en"] == "Ordos: Notice on Carrying Out Data Security Inspection"
    assert out["covered"] == 1.0 and out["glossary"].endswith("+ours-1")
    own.write_text("[[frame]]\npattern = '(unclosed'\nenglish = \"x\"\n", encoding="utf-8")
    bad = translate("某某", config=config)
    assert bad.returncode == 2 and "glossary.toml" in bad.stderr and "Traceback" not in bad.stderr


def test_notices_json_carries_the_english_title(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    notices = pbc_install.cli_json("notices", "--limit", "3")["notices"]
    assert notices and all(n["title_en"] and "[" not in n["title_en"][:1] for n in notices)
    assert any("People's Bank of China" in n["title_en"] or "Financial" in n["title_en"] for n in notices)


def test_an_english_first_digest_leads_with_the_gloss_and_keeps_the_chinese_under_it(
    pbc_install: Install, smtp: SmtpServer
) -> None:
    setup_digest(pbc_install, smtp, language="en")
    assert pbc_install.cli("poll").exit_code == 0
    draft = "中国人民银行关于《个人金融信息保护管理办法（征求意见稿）》公开征求意见的通知"
    add(pbc_install, [draft], 0)
    assert pbc_install.cli("poll", "--all").exit_code == 0
    assert pbc_install.cli("digest", "send").exit_code == 0
    (message,) = smtp.mailbox.messages
    text_part, html_part = message.iter_parts()
    english = ("People's Bank of China: Notice on Soliciting Public Comments on the Administrative Measures for "
               "Personal Financial Information Protection (Draft for Comment)")
    assert sections(html_part.get_content())["Legislation"] == [english]  # the bold, linked line
    assert f"{draft}</div>" in html_part.get_content()  # the Chinese title right under it
    text = text_part.get_content().replace("\r\n", "\n")
    assert f"* {english}\n  {draft}\n" in text
