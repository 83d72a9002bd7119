"""Attachment text: real-format files made here (a PDF by reportlab, an XLSX by openpyxl, a DOCX and an
OFD built to their specifications), read by the child process the daemon uses, and the whole stage
through the replay site: downloads, caps, states, the text in search and in the alert."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from openpyxl import Workbook
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from regwatch.attachment_files import _read_text
from regwatch.config import AttachmentsConfig
from regwatch.parse.attachment import extract, sniff
from regwatch.replay import ScriptedResponse

from .conftest import Install
from .test_deliver import add_notices, configure, receivers  # noqa: F401  (the fixture is used by name)

ARTICLE_1 = "第一条 为了规范金融数据处理活动，保障金融数据安全，制定本办法。"
ARTICLE_2 = "第二条 金融机构应当每年开展一次数据安全风险评估。"


def make_pdf(pages: list[str], password: str = "") -> bytes:
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    out = io.BytesIO()
    pdf = canvas.Canvas(out, encrypt=password or None)
    for text in pages:
        pdf.setFont("STSong-Light", 11)
        for line_number, line in enumerate(text.splitlines()):
            pdf.drawString(50, 780 - 16 * line_number, line)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def make_scanned_pdf() -> bytes:
    out = io.BytesIO()
    pdf = canvas.Canvas(out)
    pdf.rect(50, 50, 500, 700, fill=1)  # an image of a page, as a scanner makes it: no text layer
    pdf.showPage()
    pdf.save()
    return out.getvalue()


def make_docx(paragraphs: list[str], table: list[list[str]]) -> bytes:
    """A WordprocessingML package (ECMA-376): content types, the package relationship, the document."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    rows = "".join("<w:tr>" + "".join(f"<w:tc><w:p><w:r><w:t>{c}</w:t></w:r></w:p></w:tc>" for c in row) + "</w:tr>"
                   for row in table)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/'
                   'xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
                   '</Relationships>')
        z.writestr("word/document.xml", f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{w}"><w:body>'
                   f"{body}<w:tbl>{rows}</w:tbl></w:body></w:document>")
    return out.getvalue()


def make_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "清单"
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def make_ofd(pages: list[list[str]]) -> bytes:
    """An OFD package (GB/T 33190): OFD.xml → Doc_0/Document.xml → each page's Content.xml of TextObjects."""
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("OFD.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.0" DocType="OFD">'
                   "<ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>")
        page_list = "".join(f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages)))
        z.writestr("Doc_0/Document.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}>'
                   f"<ofd:Pages>{page_list}</ofd:Pages></ofd:Document>")
        for i, lines in enumerate(pages):
            objects = "".join(f'<ofd:TextObject ID="{i * 100 + n}" Boundary="0 {n * 10} 200 10" Font="1" Size="5">'
                              f'<ofd:TextCode X="0" Y="5">{line}</ofd:TextCode></ofd:TextObject>'
                              for n, line in enumerate(lines))
            z.writestr(f"Doc_0/Pages/Page_{i}/Content.xml", f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}>'
                       f"<ofd:Content><ofd:Layer ID=\"{i}\">{objects}</ofd:Layer></ofd:Content></ofd:Page>")
    return out.getvalue()


def make_pdf_bomb(inflated_mb: int) -> bytes:
    """A one-page PDF whose content stream inflates to `inflated_mb` MB of text operators."""
    squeeze = zlib.compressobj(9)
    chunk = b"BT /F1 12 Tf (abcdefgh) Tj ET " * (1024 * 1024 // 30)
    stream = b"".join(squeeze.compress(chunk) for _ in range(inflated_mb)) + squeeze.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 << /Type /Font"
               b" /Subtype /Type1 /BaseFont /Helvetica >> >> >> /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_each_format_gives_its_text() -> None:
    pdf = extract(make_pdf([ARTICLE_1, ARTICLE_2]), "pdf")
    assert (pdf.state, pdf.kind, pdf.pages) == ("done", "pdf", 2)
    assert pdf.text.splitlines() == [ARTICLE_1, ARTICLE_2]
    docx = extract(make_docx([ARTICLE_1, ARTICLE_2], [["机构", "期限"], ["银行", "30日"]]), "docx")
    assert docx.state == "done" and docx.text.splitlines() == [ARTICLE_1, ARTICLE_2, "机构", "期限", "银行", "30日"]
    xlsx = extract(make_xlsx([["序号", "应用名称", "问题"], ["1", "某某App", "违规收集个人信息"]]), "xlsx")
    assert xlsx.state == "done" and xlsx.pages == 1
    assert xlsx.text.splitlines() == ["[清单]", "序号\t应用名称\t问题", "1\t某某App\t违规收集个人信息"]
    ofd = extract(make_ofd([[ARTICLE_1], [ARTICLE_2, "附则"]]), "ofd")
    assert (ofd.state, ofd.pages) == ("done", 2) and ofd.text.splitlines() == [ARTICLE_1, ARTICLE_2, "附则"]


def test_files_that_cannot_be_read_say_why() -> None:
    cases = {
        "scanned": (make_scanned_pdf(), "pdf"),
        "encrypted": (make_pdf([ARTICLE_1], password="secret"), "pdf"),
        "ole": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "doc"),
        "truncated": (make_pdf([ARTICLE_1])[:400], "pdf"),
        "web page": (b"<!DOCTYPE html><html><body>Please log in</body></html>", "pdf"),
        "archive": (_zip({"a.txt": "x"}), "zip"),
    }
    got = {name: extract(data, declared) for name, (data, declared) in cases.items()}
    assert {name: r.state for name, r in got.items()} == {
        "scanned": "text-unavailable", "encrypted": "text-unavailable", "ole": "text-unavailable",
        "truncated": "failed", "web page": "failed", "archive": "text-unavailable"}
    assert "no OCR" in got["scanned"].reason and "password" in got["encrypted"].reason
    assert "binary Word" in got["ole"].reason and "malformed PDF" in got["truncated"].reason
    assert "web page" in got["web page"].reason
    assert sniff(make_pdf([ARTICLE_1]), "doc") == "pdf"  # a link that says .doc but serves a PDF


def _zip(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return out.getvalue()


def test_the_child_process_stops_at_its_limits(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(make_pdf_bomb(70))  # 180 KB that inflate to 70 MB of text to lay out
    assert bomb.stat().st_size < 1_000_000
    small = asyncio.run(_read_text(str(bomb), "pdf", AttachmentsConfig(memory_mb=150, timeout=20)))
    assert small["state"] == "failed" and "memory" in small["reason"]
    slow = asyncio.run(_read_text(str(bomb), "pdf", AttachmentsConfig(memory_mb=2000, timeout=2)))
    assert slow["state"] == "failed" and "limits" in slow["reason"]
    fine = tmp_path / "fine.pdf"
    fine.write_bytes(make_pdf([ARTICLE_1]))
    assert asyncio.run(_read_text(str(fine), "pdf", AttachmentsConfig()))["text"] == ARTICLE_1


def test_the_reader_stopped_again_and_again_as_it_answers_loses_no_byte_of_the_text(tmp_path: Path) -> None:
    """A text far longer than a pipe writes at once, the reader stopped and continued all the while (a
    freeze, a debugger), under PYTHONUNBUFFERED as the systemd unit runs it: the text used to be cut short."""
    paragraphs = [f"第{i}条 数据处理者应当按照本办法的规定开展数据出境安全评估。" for i in range(3000)]
    document = tmp_path / "long.docx"
    document.write_bytes(make_docx(paragraphs, []))
    reader = subprocess.Popen([sys.executable, "-m", "regwatch.parse.attachment", str(document), "docx", "200000",
                               str(2000 * 2**20), "60"], stdout=subprocess.PIPE,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert reader.stdout is not None
    done = threading.Event()

    def stop_and_continue() -> None:
        while not done.is_set():
            reader.send_signal(signal.SIGSTOP)
            reader.send_signal(signal.SIGCONT)
            time.sleep(0.001)

    stopper = threading.Thread(target=stop_and_continue)
    stopper.start()
    chunks = []
    try:
        while chunk := reader.stdout.read1(4096):  # slower than it writes: it waits inside its write
            chunks.append(chunk)
            time.sleep(0.002)
    finally:
        done.set()
        stopper.join()
        reader.send_signal(signal.SIGCONT)
        reader.wait(timeout=60)
    answer = b"".join(chunks)
    assert len(answer) > 100_000
    assert json.loads(answer)["text"] == extract(document.read_bytes(), "docx").text


DETAIL = """<html><head><meta charset="utf-8"></head><body><div id="zoom">
<p>现将《金融数据安全管理办法（征求意见稿）》全文公布，征求社会意见。</p>
<p><a href="/files/draft.pdf">附件1：征求意见稿.pdf</a></p>
<p><a href="/files/notes.docx">附件2：起草说明.docx</a></p>
<p><a href="/files/list.xlsx">附件3：机构清单.xlsx</a></p>
<p><a href="/files/old.doc">附件4：对照表.doc</a></p>
<p><a href="/files/broken.pdf">附件5：反馈表.pdf</a></p>
<p><a href="/files/huge.pdf">附件6：参考资料.pdf</a></p>
<p><a href="https://files.example.org/x.pdf">附件7：外链.pdf</a></p>
</div></body></html>"""


def test_a_notice_s_attachments_are_read_searched_and_announced(pbc_install: Install, receivers) -> None:  # noqa: F811
    hook = receivers("webhook")
    configure(pbc_install, [("team", hook, {})])
    with pbc_install.config_path.open("a", encoding="utf-8") as fh:
        fh.write("\n[attachments]\nmax_file_mb = 0.5\n")
    assert pbc_install.cli("poll").exit_code == 0
    title = "关于《金融数据安全管理办法（征求意见稿）》公开征求意见的通知"
    item = add_notices(pbc_install, [title])[0]
    site = pbc_install.replay
    site.set_page("www.pbc.gov.cn" + item["href"], DETAIL.encode(), "text/html; charset=utf-8")
    site.set_page("www.pbc.gov.cn/files/draft.pdf", make_pdf([ARTICLE_1, ARTICLE_2]), "application/pdf")
    site.set_page("www.pbc.gov.cn/files/notes.docx", make_docx(["起草说明：防范跨境传输风险。",
                                                                "请于2026年12月20日前将意见反馈至我行。"], []),
                  "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    site.set_page("www.pbc.gov.cn/files/list.xlsx", make_xlsx([["机构", "类型"], ["某银行", "全国性"]]),
                  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    site.set_page("www.pbc.gov.cn/files/old.doc", b"\xd0\xcf\x11\xe0" + b"\0" * 600, "application/msword")
    site.set_page("www.pbc.gov.cn/files/broken.pdf", b"%PDF-1.7\n% cut off", "application/pdf")
    site.set_page("www.pbc.gov.cn/files/huge.pdf", b"%PDF-1.4\n" + b"0" * 700_000, "application/pdf")
    result = pbc_install.cli("poll", "--all")
    assert result.exit_code == 0, result.output
    assert "attachments: 3 read, 4 without text" in result.output

    with pbc_install.db() as conn:
        notice_id, text, deadline, said = conn.execute(
            "SELECT id, attachment_text, deadline, deadline_sentence FROM notices WHERE title = ?", (title,)).fetchone()
        files = {r["name"]: r for r in conn.execute("SELECT * FROM attachments WHERE notice_id = ?", (notice_id,))}
    assert {name.split("：")[1][:3]: f["state"] for name, f in files.items()} == {
        "征求意": "done", "起草说": "done", "机构清": "done", "对照表": "text-unavailable", "反馈表": "failed",
        "参考资": "too-large", "外链.": "skipped"}
    draft = files["附件1：征求意见稿.pdf"]
    assert draft["kind"] == "pdf" and draft["pages"] == 2 and len(draft["sha256"]) == 64 and draft["size"] > 1000
    assert ARTICLE_2 in text and "防范跨境传输风险" in text and "某银行" in text
    assert deadline == "2026-12-20" and "2026年12月20日前" in said  # the page gave none: the file did
    assert [r["id"] for r in pbc_install.cli_json("search", "风险评估")["results"]] == [notice_id]  # only in the PDF
    sent = hook.messages[-1].payload["data"]["notices"][0]
    assert sent["id"] == notice_id
    assert sent["attachments"][:3] == [{"kind": "pdf", "pages": 2}, {"kind": "docx", "pages": None},
                                       {"kind": "xlsx", "pages": 1}]
    shown = pbc_install.cli("show", str(notice_id)).output
    assert "text: too-large" in shown and "text: failed: malformed PDF" in shown


@pytest.mark.parametrize("status", [500, 404])
def test_a_download_that_fails_is_retried_or_given_up(pbc_install: Install, receivers, status: int) -> None:  # noqa: F811
    hook = receivers("webhook")
    configure(pbc_install, [("team", hook, {})])
    assert pbc_install.cli("poll").exit_code == 0
    item = add_notices(pbc_install, ["中国人民银行公告〔2026〕第40号"])[0]
    pbc_install.replay.set_page("www.pbc.gov.cn" + item["href"], DETAIL.replace("/files/draft.pdf", "/files/gone.pdf")
                                .encode(), "text/html; charset=utf-8")
    pbc_install.replay.respond("www.pbc.gov.cn/files/gone.pdf", ScriptedResponse(status, b"no", times=None))
    assert pbc_install.cli("poll", "--all").exit_code == 0
    with pbc_install.db() as conn:
        state, attempts, error = conn.execute(
            "SELECT state, attempts, error FROM attachments WHERE url LIKE '%gone.pdf'").fetchone()
    assert (state, attempts) == (("pending", 1) if status == 500 else ("failed", 1)) and str(status) in error
