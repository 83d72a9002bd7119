"""Detail-page results in the store: which notices still need their page, and what it said."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from .. import clock
from ..classify import Verdict
from ..clock import iso, now_iso
from ..parse.detail import Detail
from .classification import write_verdict
from .db import ANY_OF, json_list, transaction
from .search import index_notices

_MAX_RETRY = timedelta(hours=12)


@dataclass(frozen=True)
class PendingDetail:
    notice_id: int
    source_id: str
    agency: str
    url: str
    title: str
    attempts: int


def pending_details(conn: sqlite3.Connection, source_ids: list[str], limit: int) -> list[PendingDetail]:
    """Notices of these sources whose detail page is due: alerted notices first, then the newest."""
    if not source_ids:
        return []
    rows = conn.execute(
        "SELECT id, source_id, agency, url, title, detail_attempts FROM notices"
        f" WHERE detail_state = 'pending' AND source_id IN {ANY_OF}"
        " AND (detail_next_at IS NULL OR detail_next_at <= ?)"
        " ORDER BY baseline, id DESC LIMIT ?",
        (json_list(source_ids), now_iso(), limit),
    ).fetchall()
    return [PendingDetail(*row) for row in rows]


def record_detail(conn: sqlite3.Connection, notice_id: int, detail: Detail, verdict: Verdict,
                  read_new: bool = True, read_baseline: bool = False) -> None:
    """Store what a detail page said, and the verdict title and body now give.

    Values the list already gave (e.g. an API's 文号) are kept. Its attachments are to be read
    (`pending`) when `read_new` (for a new notice) or `read_baseline` (for a baseline one) says so.
    """
    with transaction(conn):
        conn.execute(
            "UPDATE notices SET published_at = COALESCE(published_at, ?), issuer = COALESCE(issuer, ?),"
            " doc_number = COALESCE(doc_number, ?), deadline = COALESCE(deadline, ?), body = ?,"
            " deadline_sentence = COALESCE(?, deadline_sentence), effective = ?, effective_sentence = ?,"
            " detail_state = 'done', detail_error = NULL, detail_next_at = NULL,"
            " detail_attempts = detail_attempts + 1 WHERE id = ?",
            (detail.published_at, detail.issuer, detail.doc_number, detail.deadline, detail.body,
             detail.deadline_sentence, detail.effective, detail.effective_sentence, notice_id),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO attachments (notice_id, name, url, type, state, error)"
            " SELECT ?, ?, ?, ?, CASE WHEN (baseline = 0 AND ?) OR (baseline = 1 AND ?) THEN 'pending'"
            " ELSE 'skipped' END, CASE WHEN (baseline = 0 AND ?) OR (baseline = 1 AND ?) THEN NULL"
            " ELSE 'not read: [attachments] enabled / baseline' END FROM notices WHERE id = ?",
            [(notice_id, a.name, a.url, a.type, read_new, read_baseline, read_new, read_baseline, notice_id)
             for a in detail.attachments],
        )
        write_verdict(conn, notice_id, verdict, "detail")
        index_notices(conn, [notice_id])  # the body is searchable from the same commit on


def backoff(attempts: int, max_attempts: int, retry_minutes: float) -> tuple[str, str]:
    """After `attempts` failed tries (a detail page, an attachment): still `pending`, next tried after
    `retry_minutes` doubled each time (at most 12 h), or `failed` once `max_attempts` is reached."""
    delay = min(timedelta(minutes=retry_minutes * 2 ** (attempts - 1)), _MAX_RETRY)
    return ("failed" if attempts >= max_attempts else "pending"), iso(clock.now() + delay)


def record_detail_failure(
    conn: sqlite3.Connection, item: PendingDetail, error: str, max_attempts: int, retry_minutes: float
) -> str:
    """Count a failed attempt and schedule the next (exponential backoff); returns the new state."""
    attempts = item.attempts + 1
    state, next_at = backoff(attempts, max_attempts, retry_minutes)
    with transaction(conn):
        conn.execute(
            "UPDATE notices SET detail_state = ?, detail_attempts = ?, detail_next_at = ?, detail_error = ?"
            " WHERE id = ?",
            (state, attempts, next_at, error, item.notice_id),
        )
    return state


def skip_detail(conn: sqlite3.Connection, notice_id: int, reason: str) -> None:
    with transaction(conn):
        conn.execute("UPDATE notices SET detail_state = 'skipped', detail_error = ? WHERE id = ?",
                     (reason, notice_id))
