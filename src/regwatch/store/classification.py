"""Verdicts in the store: write one, replace one (keeping the old in history), re-run the rules."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import NamedTuple

from ..classify import Verdict
from ..clock import now_iso
from ..parse.instrument import instrument_key
from .db import transaction
from .filters import text_sql

Classify = Callable[[str, str, str, str], Verdict]  # (title, body, source id, agency) → verdict


class TitleFacts(NamedTuple):
    """What a new notice's list title gives the store, worked out before the poll is stored (the baseline
    helper does it on the other core): its verdict as stored (`verdict_columns`) and its instrument's name.
    (A named tuple: a pass makes one for each of its baseline titles, at a fifth of a dataclass's cost.)"""

    verdict: tuple
    instrument: str | None


def title_facts(title: str, source_id: str, agency: str, classify: Classify) -> TitleFacts:
    """A list title's facts, as the store would work them out (the helper calls this too)."""
    return TitleFacts(verdict_columns(classify(title, "", source_id, agency)), instrument_key(title))


def verdict_columns(verdict: Verdict) -> tuple:
    """category, tags, doc_type, status, rules, rules_version, confidence, review: as stored."""
    return (verdict.category, _json_strings(verdict.tags), verdict.doc_type, verdict.status,
            _json_strings(verdict.rules), verdict.version, verdict.confidence, int(verdict.review))


def _json_strings(texts: list[str]) -> str:
    """`json.dumps(texts)` for a list of strings, the same text, made by the C function json.dumps uses
    for each string (json.dumps itself sets up an encoder per call: most of a baseline title's cost of
    being stored, twice per title)."""
    return f"[{', '.join(map(encode_basestring_ascii, texts))}]"


def write_verdict(conn: sqlite3.Connection, notice_id: int, verdict: Verdict, reason: str) -> bool:
    """Store a verdict (inside the caller's transaction); the old one goes to history if it differs.

    Returns whether the verdict (category, tags, type or status) changed.
    """
    old = conn.execute("SELECT category, tags, doc_type, status, rules_version, confidence, review FROM notices"
                       " WHERE id = ?", (notice_id,)).fetchone()
    changed = old is None or old[0] is None or (old[0], json.loads(old[1]), old[2], old[3]) != (
        verdict.category, verdict.tags, verdict.doc_type, verdict.status)
    if old is not None and old[0] is not None and changed:
        conn.execute(
            "INSERT INTO classification_history (notice_id, category, tags, doc_type, status, rules_version,"
            " replaced_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (notice_id, *old[:5], now_iso(), reason))
    if changed or tuple(old[4:]) != (verdict.version, verdict.confidence, int(verdict.review)):
        conn.execute("UPDATE notices SET category = ?, tags = ?, doc_type = ?, status = ?, rules = ?,"
                     " rules_version = ?, confidence = ?, review = ? WHERE id = ?",
                     (*verdict_columns(verdict), notice_id))
    return changed


@dataclass(frozen=True)
class Move:
    """One notice whose verdict a reclassification changed: what it was and what it is now."""

    notice_id: int
    title: str
    before: tuple[str | None, tuple[str, ...], str | None, str | None]  # category, tags, doc type, status
    after: tuple[str, tuple[str, ...], str, str]


def reclassify_all(conn: sqlite3.Connection, classify: Classify, batch: int = 500) -> list[Move]:
    """Re-run the rules over every notice; update exactly those whose verdict changes, and say how."""
    moves: list[Move] = []
    last_id = 0
    while True:
        rows = conn.execute(
            f"SELECT id, title, {text_sql()}, source_id, agency, category, tags, doc_type, status"
            " FROM notices WHERE id > ? ORDER BY id LIMIT ?", (last_id, batch)).fetchall()
        if not rows:
            return moves
        with transaction(conn):
            for notice_id, title, body, source_id, agency, category, tags, doc_type, status in rows:
                verdict = classify(title, body, source_id, agency)
                before = (category, tuple(json.loads(tags)), doc_type, status)
                after = (verdict.category, tuple(verdict.tags), verdict.doc_type, verdict.status)
                if before != after:
                    write_verdict(conn, notice_id, verdict, "reclassify")
                    moves.append(Move(notice_id, title, before, after))
        last_id = rows[-1][0]
