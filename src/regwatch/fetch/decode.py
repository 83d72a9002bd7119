"""Bytes → text for Chinese government pages.

Order: a BOM, the HTTP charset, the page's own `<meta>` charset (or XML declaration), strict UTF-8, and GB18030 last.
GB2312 and GBK are read as GB18030 (a superset that also covers characters the smaller tables lack).
Latin-1 is never guessed: a page labelled ISO-8859-1 (a common server default) is treated as
unlabelled, which is what garbles GBK titles in tools that trust that label.
"""

from __future__ import annotations

import codecs
import re

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)|^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""",
    re.I,
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_WEAK_LABELS = {"iso8859-1", "latin-1", "ascii", "cp1252", "windows-1252", "us-ascii"}
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_SNIFF_BYTES = 4096


def normalise_label(label: str | None) -> str | None:
    """A charset label → the codec name we decode with (None for unknown or too weak to trust)."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().lower()).name
    except LookupError:
        return None
    if name in {"gb2312", "gbk", "cp936", "hz"}:
        return "gb18030"
    if name in _WEAK_LABELS or name == "latin_1" or name.startswith("iso8859-1"):
        return None
    return name


def header_charset(content_type: str) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def decode_body(content: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode a response body; returns (text, codec used). Never raises."""
    for bom, codec in _BOMS:
        if content.startswith(bom):
            return content.decode(codec, errors="replace"), codec
    candidates: list[str | None] = [normalise_label(header_charset(content_type))]
    meta = _META_CHARSET.search(content[:_SNIFF_BYTES])
    if meta:
        label = meta.group(1) or meta.group(2)
        candidates.append(normalise_label(label.decode("ascii", "replace")))
    candidates.append("utf-8")
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            return content.decode(candidate), candidate
        except UnicodeDecodeError:
            continue  # a wrong label: try the next clue rather than show mojibake
    return content.decode("gb18030", errors="replace"), "gb18030"


def strip_xml_declaration(text: str) -> str:
    """Drop `<?xml … encoding=…?>` from decoded text: parsers given str would trust its stale label."""
    return _XML_DECLARATION.sub("", text, count=1)
