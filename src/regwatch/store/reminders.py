"""Reminders in the store: the notices whose comment deadline or effective date falls in a window, and
one outbox row per (subscription, notice, rule, date) — a reminder is sent once, however often asked."""

from __future__ import annotations

import sqlite3

from .alert_rows import ALERT_COLUMNS, ALERT_JOINS
from .db import dict_rows, transaction

DATE_COLUMNS = {"comment-deadline": "deadline", "effective": "effective"}


def notices_dated(conn: sqlite3.Connection, kind: str, start: str, end: str) -> list[sqlite3.Row]:
    """Notices whose `kind` date (comment-deadline, effective) is in [start, end], with an alert's columns.
    A draft's proposed effective date is not one to remind of."""
    column = DATE_COLUMNS[kind]
    draft_rule = " AND n.status IS NOT 'draft'" if kind == "effective" else ""
    with dict_rows(conn):
        return conn.execute(
            "SELECT n.*, t.title_en AS written_title_en, t.summary_en AS summary_en, " + ALERT_COLUMNS +
            " FROM notices n LEFT JOIN translations t ON t.notice_id = n.id " + ALERT_JOINS +
            f" WHERE n.{column} BETWEEN ? AND ?{draft_rule} ORDER BY n.{column}, n.id", (start, end)).fetchall()


def queue_reminder(conn: sqlite3.Connection, subscription: str, notice_id: int, dedupe_key: str, text: str,
                   now: str) -> bool:
    """Queue one reminder (its wording in `ops_text`); False when it was queued before."""
    with transaction(conn):
        return conn.execute(
            "INSERT OR IGNORE INTO outbox (subscription, dedupe_key, kind, notice_id, ops_text, next_attempt_at,"
            " created_at) VALUES (?, ?, 'reminder', ?, ?, ?, ?)",
            (subscription, dedupe_key, notice_id, text, now, now)).rowcount == 1
