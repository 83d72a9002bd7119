"""Model-written English in the store: which notices still need it, what came back, what it cost."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..clock import now_iso
from .db import transaction

MAX_ATTEMPTS = 3  # then the glossary's gloss stands for good


@dataclass(frozen=True)
class PendingTranslation:
    notice_id: int
    title: str
    body: str
    issuer: str | None
    attempts: int


def pending_translations(conn: sqlite3.Connection, limit: int) -> list[PendingTranslation]:
    """Alerted notices (not the baseline) whose detail stage is over and that have no English yet, newest first."""
    rows = conn.execute(
        "SELECT n.id, n.title, COALESCE(n.body, ''), n.issuer, COALESCE(t.attempts, 0) FROM notices n"
        " LEFT JOIN translations t ON t.notice_id = n.id"
        " WHERE n.baseline = 0 AND n.detail_state IN ('done', 'skipped', 'failed')"
        " AND (t.notice_id IS NULL OR (t.state = 'retrying' AND t.attempts < ?))"
        " ORDER BY n.id DESC LIMIT ?", (MAX_ATTEMPTS, limit)).fetchall()
    return [PendingTranslation(*row) for row in rows]


def record_translation(conn: sqlite3.Connection, notice_id: int, state: str, title_en: str | None,
                       summary_en: str | None, model: str, prompt_version: str, error: str | None,
                       tokens: int) -> None:
    """Store one answer (or failure) and count its tokens against the month, in one transaction."""
    with transaction(conn):
        conn.execute(
            "INSERT INTO translations (notice_id, state, title_en, summary_en, model, prompt_version, attempts,"
            " error, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)"
            " ON CONFLICT(notice_id) DO UPDATE SET state = excluded.state, title_en = excluded.title_en,"
            " summary_en = excluded.summary_en, model = excluded.model, prompt_version = excluded.prompt_version,"
            " attempts = translations.attempts + 1, error = excluded.error, updated_at = excluded.updated_at",
            (notice_id, state, title_en, summary_en, model, prompt_version, error, now_iso()))
        if state == "retrying":  # the last try gives the gloss for good
            conn.execute("UPDATE translations SET state = 'failed' WHERE notice_id = ? AND attempts >= ?",
                         (notice_id, MAX_ATTEMPTS))
        if tokens:
            conn.execute("INSERT INTO translation_usage (month, tokens, calls) VALUES (?, ?, 1)"
                         " ON CONFLICT(month) DO UPDATE SET tokens = tokens + excluded.tokens, calls = calls + 1",
                         (now_iso()[:7], tokens))


def tokens_this_month(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT tokens FROM translation_usage WHERE month = ?", (now_iso()[:7],)).fetchone()
    return int(row[0]) if row else 0
