"""Attachment files in the store: which are still to read, what each turned out to be, and the notice's
text once all of its files are settled (for search, classification and thin-bodied summaries)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..classify import Verdict
from ..clock import now_iso
from .classification import write_verdict
from .db import ANY_OF, json_list, transaction
from .details import backoff
from .search import index_notices


@dataclass(frozen=True)
class PendingAttachment:
    id: int
    notice_id: int
    source_id: str
    notice_url: str | None
    name: str
    url: str
    type: str
    attempts: int
    notice_bytes: int  # what this notice's files already settled weigh


def pending_attachments(conn: sqlite3.Connection, source_ids: list[str], limit: int) -> list[PendingAttachment]:
    """Files of these sources still to read and due, oldest notice first (a notice's files together)."""
    if not source_ids:
        return []
    rows = conn.execute(
        "SELECT a.id, a.notice_id, n.source_id, n.url, a.name, a.url, a.type, a.attempts,"
        " (SELECT COALESCE(sum(b.size), 0) FROM attachments b WHERE b.notice_id = a.notice_id AND b.state = 'done')"
        " FROM attachments a JOIN notices n ON n.id = a.notice_id"
        f" WHERE a.state = 'pending' AND n.source_id IN {ANY_OF} AND (a.next_at IS NULL OR a.next_at <= ?)"
        " ORDER BY a.notice_id, a.id LIMIT ?", (json_list(source_ids), now_iso(), limit)).fetchall()
    return [PendingAttachment(*row) for row in rows]


def record_attachment(conn: sqlite3.Connection, attachment_id: int, state: str, *, kind: str | None = None,
                      size: int | None = None, sha256: str | None = None, content_type: str | None = None,
                      pages: int | None = None, text: str | None = None, error: str | None = None) -> None:
    """A file settled: read (`done`), or why not (`text-unavailable`, `too-large`, `failed`, `skipped`)."""
    with transaction(conn):
        conn.execute(
            "UPDATE attachments SET state = ?, kind = ?, size = ?, sha256 = ?, content_type = ?, pages = ?,"
            " text = ?, error = ?, attempts = attempts + 1, next_at = NULL WHERE id = ?",
            (state, kind, size, sha256, content_type, pages, text, error, attachment_id))


def record_attachment_failure(conn: sqlite3.Connection, item: PendingAttachment, error: str, max_attempts: int,
                              retry_minutes: float) -> str:
    """A download that failed for now: retried with backoff, given up after `max_attempts`; the new state."""
    attempts = item.attempts + 1
    state, next_at = backoff(attempts, max_attempts, retry_minutes)
    with transaction(conn):
        conn.execute("UPDATE attachments SET state = ?, attempts = ?, next_at = ?, error = ? WHERE id = ?",
                     (state, attempts, next_at, error, item.id))
    return state


def unsettled(conn: sqlite3.Connection, notice_id: int) -> int:
    return conn.execute("SELECT count(*) FROM attachments WHERE notice_id = ? AND state = 'pending'",
                        (notice_id,)).fetchone()[0]


@dataclass(frozen=True)
class NoticeText:
    title: str
    body: str
    attachment_text: str  # the files' text, each under its name, in their order
    source_id: str
    agency: str
    published: str | None


def notice_texts(conn: sqlite3.Connection, notice_id: int) -> NoticeText:
    """A notice's title, body and attachments' text, with what classifying and dating it needs."""
    title, body, source_id, agency, published = conn.execute(
        "SELECT title, COALESCE(body, ''), source_id, agency, published FROM notices WHERE id = ?",
        (notice_id,)).fetchone()
    parts = [f"{name}\n{text}" for name, text in conn.execute(
        "SELECT name, text FROM attachments WHERE notice_id = ? AND state = 'done' AND text != '' ORDER BY id",
        (notice_id,)).fetchall()]
    return NoticeText(title, body, "\n\n".join(parts), source_id, agency, published)


def settle_notice(conn: sqlite3.Connection, notice_id: int, attachment_text: str, verdict: Verdict,
                  deadline: tuple[str, str] | None, effective: tuple[str, str] | None) -> None:
    """All of a notice's files are settled: keep their text beside the body, index it, classify again, and
    take the comment deadline and effective date from the files where the page gave none."""
    with transaction(conn):
        conn.execute("UPDATE notices SET attachment_text = ? WHERE id = ?", (attachment_text or None, notice_id))
        if deadline:
            conn.execute("UPDATE notices SET deadline = ?, deadline_sentence = ? WHERE id = ? AND deadline IS NULL",
                         (*deadline, notice_id))
        if effective:
            conn.execute("UPDATE notices SET effective = ?, effective_sentence = ? WHERE id = ?"
                         " AND effective IS NULL", (*effective, notice_id))
        write_verdict(conn, notice_id, verdict, "attachments")
        index_notices(conn, [notice_id])
