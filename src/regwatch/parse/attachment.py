"""The text of a notice's attachment: PDF (pypdf), DOCX and OFD (zips of XML, read with lxml), XLSX
(openpyxl, the first sheets as rows). What cannot be read says why: binary Word/WPS/Excel, archives,
a scanned PDF without a text layer, an encrypted PDF — `text-unavailable`, never an empty success.

`extract` works on bytes and does no I/O. Run as `python -m regwatch.parse.attachment FILE TYPE
MAX_CHARS MEMORY_BYTES CPU_SECONDS`, it lowers its own memory and CPU limits, reads one downloaded file
and prints the result as JSON: the daemon runs it as a child process, so a 40 MB PDF or a
decompression bomb costs the child, not the service.
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from dataclasses import asdict, dataclass

from lxml import etree

MAX_PAGES = 1000  # pages read from one PDF
MAX_XML_BYTES = 60_000_000  # one XML part of a DOCX/OFD, uncompressed (a zip bomb stops here)
MAX_ROWS = 5000  # rows per sheet of an XLSX
MAX_SHEETS = 3
_SPACES = re.compile(r"[ \u3000\xa0\f\v]+")
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True)
UNREADABLE = {  # kinds no reader here handles, and why

    "doc": "a binary Word file (.doc): regwatch reads DOCX, PDF, XLSX and OFD, not the old binary formats",
    "wps": "a WPS file: regwatch reads DOCX, PDF, XLSX and OFD, not WPS's own format",
    "xls": "a binary Excel file (.xls): regwatch reads XLSX",
    "et": "a WPS spreadsheet (.et): regwatch reads XLSX",
    "ole": "a binary Office file (Word, Excel or WPS): regwatch reads DOCX, PDF, XLSX and OFD",
    "ppt": "a presentation: not read", "pptx": "a presentation: not read",
    "zip": "an archive: its files are not opened", "rar": "an archive: not opened", "7z": "an archive: not opened",
}


@dataclass(frozen=True)
class Extracted:
    state: str  # done | text-unavailable | failed
    kind: str  # what the file turned out to be: pdf, docx, xlsx, ofd, doc …
    text: str = ""
    pages: int | None = None  # PDF and OFD pages, XLSX sheets read
    reason: str = ""  # why there is no text (or what was wrong with the file)


def sniff(data: bytes, declared: str) -> str:
    """What the bytes are, whatever the link called them: a .doc link to a PDF is a PDF."""
    head = data[:2048]
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return declared if declared in ("doc", "xls", "wps", "et", "ppt") else "ole"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return "zip"
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "OFD.xml" in names or "ofd.xml" in {n.lower() for n in names}:
            return "ofd"
        if "ppt/presentation.xml" in names:
            return "pptx"
        return "zip"
    if re.match(rb"\s*(<!doctype html|<html|<head|<body|<script)", head, re.I):
        return "html"
    return declared or "unknown"


def extract(data: bytes, declared: str, max_chars: int = 200_000) -> Extracted:
    """The text of one file (at most `max_chars`), or why there is none."""
    kind = sniff(data, declared)
    if kind == "html":
        return Extracted("failed", kind, reason="the server answered with a web page, not the file "
                                                "(a login or anti-bot page, or a moved file)")
    if kind in UNREADABLE:
        return Extracted("text-unavailable", kind, reason=UNREADABLE[kind])
    if kind == "pdf" and _encrypted(data):
        return Extracted("text-unavailable", kind, reason="an encrypted PDF (it needs a password to read)")
    readers = {"pdf": _pdf, "docx": _docx, "xlsx": _xlsx, "ofd": _ofd}
    if kind not in readers:
        return Extracted("text-unavailable", kind, reason=f"an unknown file type ({kind}): not read")
    try:
        text, pages = readers[kind](data)
    except MemoryError:
        raise
    except Exception as exc:  # a malformed file is a state of the file, not a failure of regwatch
        return Extracted("failed", kind, reason=f"malformed {kind.upper()}: {type(exc).__name__}: {str(exc)[:200]}")
    text = _tidy(text)[:max_chars]
    if kind == "pdf" and len(text) < 5 * (pages or 1):  # a few stray characters per page: no text layer
        return Extracted("text-unavailable", kind, pages=pages,
                         reason="a scanned PDF (no text layer): regwatch does no OCR")
    if not text:
        return Extracted("text-unavailable", kind, pages=pages, reason=f"the {kind.upper()} holds no text")
    return Extracted("done", kind, text, pages)


def _tidy(text: str) -> str:
    """Runs of spaces folded, empty lines dropped; tabs (between a sheet's cells) kept."""
    lines = (_SPACES.sub(" ", line).strip(" ") for line in text.splitlines())
    return "\n".join(line for line in lines if line.strip())


def _encrypted(data: bytes) -> bool:
    """Whether a PDF needs a password (one with only an owner password opens with the empty one)."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        return bool(reader.is_encrypted and not reader.decrypt(""))
    except Exception:  # unreadable: the reader proper says how
        return False


def _pdf(data: bytes) -> tuple[str, int]:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(data))
    if reader.is_encrypted:
        reader.decrypt("")
    pages = len(reader.pages)
    texts = [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]
    return "\n".join(texts), pages


def _xml_part(archive: zipfile.ZipFile, name: str) -> etree._Element:
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise ValueError(f"{name} would unpack to {info.file_size} bytes")
    return etree.fromstring(archive.read(info), _XML)


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _docx(data: bytes) -> tuple[str, int | None]:
    """Paragraphs in document order, table cells included (each cell's paragraphs on their own lines)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    root = _xml_part(archive, "word/document.xml")
    lines = []
    for paragraph in root.iter():
        if _local(paragraph.tag) != "p":
            continue
        lines.append("".join(node.text or "" for node in paragraph.iter()
                             if _local(node.tag) == "t" and node.getparent() is not None))
    return "\n".join(lines), None


def _xlsx(data: bytes) -> tuple[str, int]:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    lines, sheets = [], 0
    for sheet in book.worksheets[:MAX_SHEETS]:
        sheets += 1
        lines.append(f"[{sheet.title}]")
        for row in sheet.iter_rows(max_row=MAX_ROWS, values_only=True):
            cells = ["" if value is None else str(value) for value in row]
            if any(cells):
                lines.append("\t".join(cells).rstrip("\t"))
    book.close()
    return "\n".join(lines), sheets


def _ofd(data: bytes) -> tuple[str, int]:
    """OFD (GB/T 33190): each page's Content.xml holds TextObjects with TextCode runs, in page order."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    pages = sorted((n for n in archive.namelist() if re.search(r"Pages/Page_?(\d+)/Content\.xml$", n, re.I)),
                   key=lambda n: (n.split("/Pages/")[0], int(re.findall(r"Page_?(\d+)", n, re.I)[-1])))
    lines = []
    for name in pages:
        root = _xml_part(archive, name)
        for text_object in root.iter():
            if _local(text_object.tag) == "TextObject":
                lines.append("".join(code.text or "" for code in text_object.iter()
                                     if _local(code.tag) == "TextCode"))
    return "\n".join(lines), len(pages)


def _main(argv: list[str]) -> int:
    import resource

    path, declared, max_chars, memory, seconds = argv[0], argv[1], int(argv[2]), int(argv[3]), int(argv[4])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))  # a bomb ends in MemoryError here …
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))  # … or in SIGXCPU
    with open(path, "rb") as fh:
        data = fh.read()
    try:
        result = extract(data, declared, max_chars)
    except MemoryError:
        result = Extracted("failed", sniff(data, declared), reason="reading it needs more memory than allowed "
                                                                  "([attachments] memory_mb): a very large or "
                                                                  "hostile file")
    # (its own buffered writer, not sys.stdout, which under PYTHONUNBUFFERED can drop the tail of a text
    # longer than the pipe writes at once: see baseline_child.answer_pipe)
    with open(sys.stdout.fileno(), "wb", closefd=False) as answer:
        answer.write(json.dumps(asdict(result), ensure_ascii=False).encode())
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
