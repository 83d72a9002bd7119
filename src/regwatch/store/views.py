"""What the commands, `status`, `/healthz` and `/metrics` read from the store: plain functions over SQLite.

Each returns dicts (or plain values), never a cursor, so callers need no SQL and no row factory.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from .alert_rows import ALERT_COLUMNS, ALERT_JOINS
from .db import dict_rows
from .filters import NoticeFilter, filter_sql
from .versions import versions_of

GOOD_STATES = ("ok", "ok-no-new")


def rows(conn: sqlite3.Connection, sql: str, params: tuple | list = ()) -> list[dict[str, Any]]:
    with dict_rows(conn):
        return [dict(r) for r in conn.execute(sql, params).fetchall()]


def notices(conn: sqlite3.Connection, where: NoticeFilter, limit: int,
            offset: int = 0) -> tuple[list[dict[str, Any]], bool]:
    """Stored notices, newest first, at most `limit` after skipping `offset`; and whether more matched."""
    clauses, params = filter_sql(where)
    found = rows(conn, "SELECT n.*, t.title_en AS written_title_en, t.summary_en AS summary_en FROM notices n"
                       " LEFT JOIN translations t ON t.notice_id = n.id"
                       f" WHERE {' AND '.join(['1 = 1', *clauses])}"
                       " ORDER BY COALESCE(n.published, '') DESC, n.id DESC LIMIT ? OFFSET ?",
                 [*params, limit + 1, offset])
    return found[:limit], len(found) > limit


def source_states(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Each polled source's stored state (health, validators, next poll, deferral), by id."""
    return {r["id"]: r for r in rows(conn, "SELECT * FROM sources")}


def notice_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT source_id, count(*) FROM notices GROUP BY source_id").fetchall())


def last_polls(conn: sqlite3.Connection) -> dict[str, dict[str, Any]]:
    """Each source's latest poll row, by source id."""
    return {r["source_id"]: r for r in rows(
        conn, "SELECT * FROM polls WHERE id IN (SELECT max(id) FROM polls GROUP BY source_id)")}


def last_error(conn: sqlite3.Connection) -> dict[str, Any] | None:
    found = rows(conn, "SELECT source_id, finished_at, state, error FROM polls WHERE error IS NOT NULL"
                       " ORDER BY id DESC LIMIT 1")
    return found[0] if found else None


def outbox_counts(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())


def oldest_pending(conn: sqlite3.Connection) -> str | None:
    return conn.execute("SELECT min(created_at) FROM outbox WHERE state IN ('pending', 'retrying', 'sending')"
                        ).fetchone()[0]


def outbox_open(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Deliveries not done (pending, sending, retrying, dead, held), with what each is about."""
    return rows(conn,
                "SELECT o.id, o.subscription, o.kind, o.state, o.attempts, o.next_attempt_at, o.last_error,"
                " o.created_at, COALESCE(n.title, o.ops_text, h.source_id) AS title FROM outbox o"
                " LEFT JOIN notices n ON n.id = o.notice_id LEFT JOIN health_events h ON h.id = o.health_event_id"
                " WHERE o.state IN ('pending', 'sending', 'retrying', 'dead', 'held') ORDER BY o.id")


def last_digest_attempt(conn: sqlite3.Connection, subscription: str) -> dict[str, Any] | None:
    found = rows(conn, "SELECT created_at, state, error FROM digests WHERE subscription = ? ORDER BY id DESC"
                       " LIMIT 1", (subscription,))
    return found[0] if found else None


def next_poll_times(conn: sqlite3.Connection) -> dict[str, str | None]:
    return dict(conn.execute("SELECT id, next_poll_at FROM sources").fetchall())


def poll_counts(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    """(source, state, polls) for /metrics."""
    return conn.execute("SELECT source_id, state, count(*) FROM polls GROUP BY source_id, state").fetchall()


def poll_failures(conn: sqlite3.Connection) -> list[tuple[str, int]]:
    marks = ",".join("?" * len(GOOD_STATES))
    return conn.execute(f"SELECT state, count(*) FROM polls WHERE state NOT IN ({marks}) GROUP BY state",
                        GOOD_STATES).fetchall()


def poll_durations(conn: sqlite3.Connection) -> tuple[float, int]:
    """Total seconds spent polling, and the number of polls."""
    total, count = conn.execute(
        "SELECT COALESCE(sum((julianday(finished_at) - julianday(started_at)) * 86400), 0), count(*) FROM polls"
    ).fetchone()
    return float(total), int(count)


def notices_by_agency_and_category(conn: sqlite3.Connection) -> list[tuple[str, str | None, int]]:
    return conn.execute("SELECT agency, category, count(*) FROM notices GROUP BY agency, category").fetchall()


def deliveries_by_outcome(conn: sqlite3.Connection) -> list[tuple[str, str, int]]:
    return conn.execute("SELECT subscription, outcome, count(*) FROM deliveries GROUP BY subscription, outcome"
                        ).fetchall()


def source_health_states(conn: sqlite3.Connection) -> list[tuple[str, str | None]]:
    return conn.execute("SELECT id, state FROM sources").fetchall()


def notice_in_full(conn: sqlite3.Connection, notice_id: int) -> dict[str, Any] | None:
    """One notice with everything stored about it: fields, attachments, earlier versions, replaced
    verdicts, the model's English, and each subscription's alert (state, attempts, message id, when sent)."""
    found = rows(conn, "SELECT * FROM notices WHERE id = ?", (notice_id,))
    if not found:
        return None
    notice = found[0]
    notice["attachments"] = rows(conn, "SELECT name, url, type, state, kind, size, sha256, pages, error,"
                                       " length(text) AS text_chars FROM attachments WHERE notice_id = ? ORDER BY id",
                                 (notice_id,))
    notice["versions"] = rows(conn, "SELECT version, title, published, replaced_at FROM notice_history"
                                    " WHERE notice_id = ? ORDER BY version", (notice_id,))
    notice["verdicts_replaced"] = rows(
        conn, "SELECT category, tags, doc_type, status, rules_version, replaced_at, reason"
              " FROM classification_history WHERE notice_id = ? ORDER BY id", (notice_id,))
    english = rows(conn, "SELECT state, title_en, summary_en, model, prompt_version, error, updated_at"
                         " FROM translations WHERE notice_id = ?", (notice_id,))
    notice["translation"] = english[0] if english else None
    notice.update(versions_of(conn, notice_id))
    notice["alerts"] = rows(
        conn, "SELECT o.subscription, o.kind, o.state, o.attempts, o.message_key, o.created_at,"
              " (SELECT max(d.sent_at) FROM deliveries d WHERE d.message_key = o.message_key"
              "  AND d.outcome = 'ok') AS sent_at"
              " FROM outbox o WHERE o.notice_id = ? ORDER BY o.id", (notice_id,))
    return notice


def dates_ahead(conn: sqlite3.Connection, start: str, end: str) -> list[dict[str, Any]]:
    """Comment periods closing and instruments taking effect between `start` and `end` (YYYY-MM-DD,
    inclusive), soonest first; a draft's proposed effective date is not a date that matters yet."""
    return rows(conn, """
        SELECT id, 'comments-close' AS kind, deadline AS day, deadline_sentence AS sentence, title, agency,
               source_id, url, status FROM notices WHERE deadline BETWEEN ? AND ?
        UNION ALL
        SELECT id, 'takes-effect', effective, effective_sentence, title, agency, source_id, url, status
        FROM notices WHERE effective BETWEEN ? AND ? AND status != 'draft'
        ORDER BY day, id""", (start, end, start, end))


def recent_notices(conn: sqlite3.Connection, limit: int) -> list[dict[str, Any]]:
    """The newest stored notices (not the baseline), with the model's English where there is some, for feeds."""
    return rows(conn, "SELECT n.*, t.title_en AS written_title_en, t.summary_en AS summary_en, " + ALERT_COLUMNS +
                      " FROM notices n LEFT JOIN translations t ON t.notice_id = n.id " + ALERT_JOINS +
                      " WHERE n.baseline = 0 ORDER BY n.id DESC LIMIT ?", (limit,))
