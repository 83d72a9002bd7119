"""Bytes → text for Chinese government pages.

Order: a BOM, the HTTP charset, the page's own `<meta>` charset (or XML declaration), strict UTF-8, and GB18030 last.
GB2312 and GBK are read as GB18030 (a superset that also covers characters the smaller tables lack).
Latin-1 is never guessed: a page labelled ISO-8859-1 (a common server default) is treated as
unlabelled, which is what garbles GBK titles in tools that trust that label.
"""

from __future__ import annotations

import codecs
import re
import threading
from typing import NamedTuple

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


class Decoded(NamedTuple):
    text: str
    codec: str
    bad_bytes: int  # bytes invalid in `codec`, each run shown as U+FFFD


# A declared charset keeps its word despite a few invalid bytes (one bad byte in a UTF-8 page);
# only when more than this share of the non-ASCII bytes are invalid is the label taken to be wrong.
MOSTLY_INVALID = 0.10
_counting = threading.local()


def _count_and_replace(exc: UnicodeError) -> tuple[str, int]:
    assert isinstance(exc, UnicodeDecodeError)
    _counting.bad += exc.end - exc.start
    return "\ufffd", exc.end


codecs.register_error("regwatch-count", _count_and_replace)


def _decode_counting(content: bytes, codec: str) -> tuple[str, int]:
    _counting.bad = 0
    text = content.decode(codec, errors="regwatch-count")
    return text, _counting.bad


def decode_body(content: bytes, content_type: str = "") -> Decoded:
    """Decode a response body; never raises.

    A BOM decides; then a declared charset (HTTP header, then `<meta>`) that decodes cleanly; then
    the first declared one that decodes with only a few bad bytes (replaced and counted, not a
    reason to re-guess: GB18030 decodes almost any bytes, into nonsense); then undeclared guesses.
    """
    for bom, codec in _BOMS:
        if content.startswith(bom):
            text, bad = _decode_counting(content, codec)
            return Decoded(text, codec, bad)
    declared: list[str] = []
    for label in (header_charset(content_type), _meta_label(content)):
        name = normalise_label(label)
        if name and name not in declared:
            declared.append(name)
    for codec in declared:
        try:
            return Decoded(content.decode(codec), codec, 0)
        except UnicodeDecodeError:
            continue
    non_ascii = sum(1 for byte in content if byte >= 0x80) or 1
    for codec in declared:
        text, bad = _decode_counting(content, codec)
        if bad <= MOSTLY_INVALID * non_ascii:
            return Decoded(text, codec, bad)
    for codec in ("utf-8", "gb18030"):  # nothing declared, or a label that is wrong for most of the page
        try:
            return Decoded(content.decode(codec), codec, 0)
        except UnicodeDecodeError:
            continue
    text, bad = _decode_counting(content, "gb18030")
    return Decoded(text, "gb18030", bad)


def _meta_label(content: bytes) -> str | None:
    meta = _META_CHARSET.search(content[:_SNIFF_BYTES])
    if not meta:
        return None
    return (meta.group(1) or meta.group(2)).decode("ascii", "replace")


def strip_xml_declaration(text: str) -> str:
    """Drop `<?xml … encoding=…?>` from decoded text: parsers given str would trust its stale label.
    (A match at the start only: `sub` would try the anchored pattern at every position of the page.)"""
    declaration = _XML_DECLARATION.match(text)
    return text[declaration.end():] if declaration else text
