"""The outbox: what each subscription still has to be told, and what happened when we tried.

Rows are created in the transaction that stores the notice (or the health event), so nothing is
queued twice (UNIQUE per subscription and thing) and nothing stored is forgotten. The sender marks
rows `sending` and commits *before* it sends; a row found still `sending` after a crash is sent
again with the same message key, so a receiver can drop the repeat.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta

from .. import clock
from ..clock import iso, now_iso
from .alert_rows import ALERT_COLUMNS, ALERT_JOINS
from .db import ANY_OF, dict_rows, json_list, transaction


@dataclass(frozen=True)
class Routing:
    """Who hears about what: instant subscriptions get notice events, `ops` gets health events."""

    instant: tuple[str, ...] = ()
    ops: str | None = None


def queue_events(conn: sqlite3.Connection, routing: Routing, events: list[tuple[int, int]], kind: str,
                 now: str, held: bool = False) -> None:
    """One row per instant subscription for each (event id, notice id), queued in that order, in one
    statement for a page of them; `held` rows (a flood) wait for `regwatch outbox release`."""
    if not routing.instant:
        return
    state = "held" if held else "pending"
    conn.executemany(
        "INSERT OR IGNORE INTO outbox (subscription, dedupe_key, kind, notice_id, event_id, next_attempt_at,"
        " created_at, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(name, f"event:{event_id}", kind, notice_id, event_id, now, now, state)
         for event_id, notice_id in events for name in routing.instant],
    )


def release_held(conn: sqlite3.Connection, source_id: str | None = None, subscription: str | None = None) -> int:
    """Let held alerts (of one source, or one subscription) go out after all; returns how many."""
    with transaction(conn):
        return conn.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ? WHERE state = 'held'"
            " AND (? IS NULL OR subscription = ?)"
            " AND (? IS NULL OR notice_id IN (SELECT id FROM notices WHERE source_id = ?))",
            (now_iso(), subscription, subscription, source_id, source_id)).rowcount


def queue_health(conn: sqlite3.Connection, routing: Routing, health_event_id: int, now: str) -> None:
    if routing.ops:
        conn.execute(
            "INSERT OR IGNORE INTO outbox (subscription, dedupe_key, kind, health_event_id, next_attempt_at,"
            " created_at) VALUES (?, ?, 'health', ?, ?, ?)",
            (routing.ops, f"health:{health_event_id}", health_event_id, now, now),
        )


def queue_ops(conn: sqlite3.Connection, subscription: str, dedupe_key: str, text: str) -> None:
    now = now_iso()
    conn.execute(
        "INSERT OR IGNORE INTO outbox (subscription, dedupe_key, kind, ops_text, next_attempt_at, created_at)"
        " VALUES (?, ?, 'ops', ?, ?, ?)", (subscription, dedupe_key, text, now, now))


def recover_interrupted(conn: sqlite3.Connection, older_than: timedelta) -> int:
    """Rows left `sending` by a process that died: due again, keeping their message key."""
    cutoff = iso(clock.now() - older_than)
    with transaction(conn):
        return conn.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, last_error = 'interrupted while sending'"
            " WHERE state = 'sending' AND sending_since <= ?", (now_iso(), cutoff)).rowcount


def due_rows(conn: sqlite3.Connection, subscription: str, now: str, limit: int = 500) -> list[sqlite3.Row]:
    """Up to `limit` rows of a subscription that may be sent now, oldest first, with their notice's
    fields: a pass's work follows what it can send, however big the outbox has grown."""
    with dict_rows(conn):
        return conn.execute(
            "SELECT o.*, n.title, n.url, n.agency, n.source_id, n.category, n.tags, n.doc_type, n.status,"
            " n.published, n.published_at, n.doc_number, n.deadline, n.issuer, n.body, n.attachment_text,"
            " n.detail_state, n.review,"
            " t.state AS translation_state, t.title_en AS written_title_en, t.summary_en AS summary_en,"
            " h.source_id AS health_source, h.kind AS health_kind, h.state AS health_state,"
            " h.message AS health_message, h.created_at AS health_at, " + ALERT_COLUMNS +
            " FROM outbox o LEFT JOIN notices n ON n.id = o.notice_id " + ALERT_JOINS +
            " LEFT JOIN translations t ON t.notice_id = o.notice_id"
            " LEFT JOIN health_events h ON h.id = o.health_event_id"
            " WHERE o.subscription = ? AND o.state IN ('pending', 'retrying') AND o.next_attempt_at <= ?"
            " ORDER BY o.id LIMIT ?", (subscription, now, limit)).fetchall()


REPOST_WINDOW = timedelta(days=14)


def already_told(conn: sqlite3.Connection, subscription: str, pairs: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which (agency, title) pairs the subscription got a new-notice alert for in the last two weeks.

    The sites post one notice in two columns under two addresses (PBC's news and announcements);
    a team wants to hear about it once. The window keeps recurring generic titles (older APP
    circulars all had the same one) from being swallowed for good. The query walks the subscription's
    alerts of the window (index outbox_told) once, all pairs bound as one parameter.
    """
    since = iso(clock.now() - REPOST_WINDOW)
    return set(conn.execute(
        "SELECT DISTINCT n.agency, n.title FROM outbox o JOIN notices n ON n.id = o.notice_id"
        " WHERE o.subscription = ? AND o.created_at >= ? AND o.kind = 'new' AND o.state IN ('sent', 'sending')"
        " AND (n.agency, n.title) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]')"
        " FROM json_each(?))", (subscription, since, json_list(pairs))).fetchall())


def mark_filtered(conn: sqlite3.Connection, ids: list[int]) -> None:
    with transaction(conn):
        conn.executemany("UPDATE outbox SET state = 'filtered' WHERE id = ?", [(i,) for i in ids])


def attempts_so_far(conn: sqlite3.Connection, ids: list[int]) -> tuple[int, str]:
    """The most attempts any of these rows has had, and when the oldest was queued."""
    attempts, created = conn.execute(f"SELECT max(attempts), min(created_at) FROM outbox WHERE id IN {ANY_OF}",
                                     (json_list(ids),)).fetchone()
    return attempts or 0, created


def mark_sending(conn: sqlite3.Connection, ids: list[int], message_key: str) -> bool:
    """Claim rows for one message; False (and nothing changed) if any was claimed meanwhile."""
    # BEGIN IMMEDIATE: nobody can claim between the check and the update; durable: on disk before the send,
    # even while a pass's group commit is open on this connection (the service delivers during its passes)
    with transaction(conn, durable=True):
        free = conn.execute(f"SELECT count(*) FROM outbox WHERE id IN {ANY_OF} AND state IN ('pending', 'retrying')",
                            (json_list(ids),)).fetchone()[0]
        if free != len(ids):
            return False
        conn.executemany(
            "UPDATE outbox SET state = 'sending', sending_since = ?, message_key = ?, attempts = attempts + 1"
            " WHERE id = ?", [(now_iso(), message_key, i) for i in ids])
    return True


def record_outcome(conn: sqlite3.Connection, subscription: str, ids: list[int], message_key: str, outcome: str,
                   detail: str, next_attempt_at: str | None, dead: bool) -> None:
    """After a channel answered (or did not): sent, retrying (maybe keeping the key), or dead."""
    now = now_iso()
    with transaction(conn, durable=True):  # (what went out is known at once, a pass's group open or not)
        conn.execute(
            "INSERT INTO deliveries (subscription, message_key, sent_at, outcome, detail, items)"
            " VALUES (?, ?, ?, ?, ?, ?)", (subscription, message_key, now, outcome, detail, len(ids)))
        if outcome == "ok":
            conn.executemany("UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
                             [(now, i) for i in ids])
            return
        state = "dead" if dead else "retrying"
        # After an ambiguous attempt the same message must go again under the same key; after a
        # definite failure the rows may be regrouped, so the key is dropped.
        keep_key = outcome == "ambiguous"
        conn.executemany(
            "UPDATE outbox SET state = ?, next_attempt_at = ?, last_error = ?,"
            " message_key = CASE WHEN ? THEN message_key END WHERE id = ?",
            [(state, next_attempt_at, detail, keep_key, i) for i in ids])


def postpone(conn: sqlite3.Connection, ids: list[int], next_attempt_at: str, reason: str) -> None:
    """Rows not tried this pass (their channel just failed): due again with the failed one, no attempt spent."""
    if not ids:
        return
    with transaction(conn):
        conn.executemany("UPDATE outbox SET state = 'retrying', next_attempt_at = ?, last_error = ?"
                         " WHERE id = ? AND state IN ('pending', 'retrying')",
                         [(next_attempt_at, reason, i) for i in ids])


def messages_since(conn: sqlite3.Connection, subscription: str, seconds: float) -> int:
    since = iso(clock.now() - timedelta(seconds=seconds))
    return conn.execute("SELECT count(*) FROM deliveries WHERE subscription = ? AND sent_at > ?",
                        (subscription, since)).fetchone()[0]


def requeue_dead(conn: sqlite3.Connection, subscription: str | None = None) -> int:
    with transaction(conn):
        return conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = ?, message_key = NULL,"
            " created_at = ? WHERE state = 'dead' AND (? IS NULL OR subscription = ?)",
            (now_iso(), now_iso(), subscription, subscription)).rowcount
