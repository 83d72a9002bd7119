"""Notices that left their list: marked missing when a good poll's window no longer holds them, then
withdrawn (reported once per subscription) when their own page answers 404, or cleared when it or the
list shows them again."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass

from .db import ANY_OF, json_list, transaction


def mark_missing(conn: sqlite3.Connection, source_id: str, listed_ids: Iterable[int], window_start: str,
                 now: str) -> int:
    """Inside a poll's transaction: this source's notices dated after `window_start` (the oldest date the
    list shows) that it no longer shows are missing from now on; those it shows again are not. Returns how
    many went missing."""
    listed = sorted(set(listed_ids))
    if not listed:  # a list showing none of the stored notices (all new) says nothing of the others
        return 0
    conn.execute(f"UPDATE notices SET missing_since = NULL, missing_checked_at = NULL WHERE id IN {ANY_OF}"
                 " AND missing_since IS NOT NULL", (json_list(listed),))
    return conn.execute(
        f"UPDATE notices SET missing_since = ? WHERE source_id = ? AND published > ? AND id NOT IN {ANY_OF}"
        " AND missing_since IS NULL AND withdrawn_at IS NULL",
        (now, source_id, window_start, json_list(listed))).rowcount


@dataclass(frozen=True)
class Missing:
    notice_id: int
    source_id: str
    url: str
    title: str
    published: str | None
    missing_since: str


def missing_notices(conn: sqlite3.Connection, source_ids: list[str], limit: int) -> list[Missing]:
    """Notices of these sources gone from their lists and not yet settled, the longest-missing first."""
    if not source_ids:
        return []
    rows = conn.execute(MISSING_QUERY, (json_list(source_ids), limit)).fetchall()
    return [Missing(*row) for row in rows]


# missing_notices' query. `+source_id` keeps the planner off the index by source: read through it, the
# query walked every notice of the pass's sources (18 ms a pass at 20,000 notices, and growing with the
# store) instead of the few missing ones in their own index.
MISSING_QUERY = ("SELECT id, source_id, url, title, published, missing_since FROM notices WHERE missing_since IS NOT"
                 " NULL AND withdrawn_at IS NULL AND missing_checked_at IS NULL AND url IS NOT NULL AND +source_id IN"
                 f" {ANY_OF} ORDER BY missing_since, id LIMIT ?")


def settle_missing(conn: sqlite3.Connection, notice_id: int, now: str) -> None:
    """Not withdrawn (its page still answers: it only moved off the list), or no longer asked: checked
    once, not again while it stays off the list (an unsorted list would otherwise cost a request a poll)."""
    with transaction(conn):
        conn.execute("UPDATE notices SET missing_checked_at = ? WHERE id = ?", (now, notice_id))


def mark_withdrawn(conn: sqlite3.Connection, notice_id: int, subscriptions: list[str], text: str, now: str) -> None:
    """Withdrawn: recorded, and one outbox row per subscription (never a second: the key is the notice's)."""
    with transaction(conn):
        conn.execute("UPDATE notices SET withdrawn_at = ? WHERE id = ?", (now, notice_id))
        conn.executemany(
            "INSERT OR IGNORE INTO outbox (subscription, dedupe_key, kind, notice_id, ops_text, next_attempt_at,"
            " created_at) VALUES (?, ?, 'withdrawn', ?, ?, ?, ?)",
            [(name, f"withdrawn:{notice_id}", notice_id, text, now, now) for name in subscriptions])
