"""What a digest needs from the store: its period, its notices, source health, and its record."""

from __future__ import annotations

import sqlite3

from ..clock import now_iso
from .alert_rows import ALERT_COLUMNS, ALERT_JOINS
from .db import dict_rows, transaction


def last_sent_end(conn: sqlite3.Connection, subscription: str) -> str | None:
    """Where the subscription's last *successful* digest ended (the next one starts there)."""
    return conn.execute("SELECT max(period_end) FROM digests WHERE subscription = ? AND state = 'sent'",
                        (subscription,)).fetchone()[0]


def subscription_since(conn: sqlite3.Connection, subscription: str) -> str | None:
    """When regwatch first saw this digest subscription (None: never)."""
    row = conn.execute("SELECT since FROM digest_subscriptions WHERE subscription = ?", (subscription,)).fetchone()
    return row[0] if row else None


def register_subscription(conn: sqlite3.Connection, subscription: str, now: str) -> str:
    """Record that the subscription exists from `now` on, unless it was seen before; returns its start."""
    with transaction(conn):
        conn.execute("INSERT OR IGNORE INTO digest_subscriptions (subscription, since) VALUES (?, ?)",
                     (subscription, now))
    since = subscription_since(conn, subscription)
    assert since is not None
    return since


def notices_first_seen(conn: sqlite3.Connection, start: str, end: str,
                       include_baseline: bool = False) -> list[sqlite3.Row]:
    """Notices first stored in (start, end] — not baselines (never news to anyone) unless asked for."""
    with dict_rows(conn):
        return conn.execute(
            "SELECT n.*, t.title_en AS written_title_en, t.summary_en AS summary_en, " + ALERT_COLUMNS +
            " FROM notices n LEFT JOIN translations t ON t.notice_id = n.id " + ALERT_JOINS +
            " WHERE n.first_seen > ? AND n.first_seen <= ? AND (n.baseline = 0 OR ?)"
            " ORDER BY COALESCE(n.published_at, n.published) DESC, n.id DESC",
            (start, end, include_baseline)).fetchall()


def source_health(conn: sqlite3.Connection, start: str, end: str) -> dict[str, dict]:
    """Per source: polls in the period, how many were bad, the last bad state and error, and its state now."""
    with dict_rows(conn):
        rows = conn.execute(
            "SELECT p.source_id, count(*) AS polls,"
            " sum(p.state NOT IN ('ok', 'ok-no-new')) AS bad,"
            " (SELECT state || '|' || COALESCE(error, '') FROM polls q WHERE q.source_id = p.source_id"
            "   AND q.started_at > ? AND q.started_at <= ? AND q.state NOT IN ('ok', 'ok-no-new')"
            "   ORDER BY q.id DESC LIMIT 1) AS last_bad,"
            " s.state AS current, s.state_since AS since"
            " FROM polls p LEFT JOIN sources s ON s.id = p.source_id"
            " WHERE p.started_at > ? AND p.started_at <= ? GROUP BY p.source_id",
            (start, end, start, end)).fetchall()
        return {r["source_id"]: dict(r) for r in rows}


def record_digest(conn: sqlite3.Connection, subscription: str, start: str, end: str, sent: bool, notices: int,
                  message_id: str | None, error: str | None) -> None:
    with transaction(conn):
        conn.execute(
            "INSERT INTO digests (subscription, period_start, period_end, state, notices, message_id, error,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (subscription, start, end, "sent" if sent else "failed", notices, message_id, error, now_iso()))
