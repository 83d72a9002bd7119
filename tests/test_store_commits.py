"""A pass's polls share commits (store/db.py: group_commit), and that never weakens what must be on disk:
a message's claim is committed before the message goes out, whatever pass is storing meanwhile."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from regwatch.store.db import group_commit, open_db, transaction
from regwatch.store.outbox import mark_sending, queue_ops, record_outcome


def on_disk(path: Path, sql: str) -> list[tuple]:
    """What another process reading the store sees now."""
    other = sqlite3.connect(path)
    try:
        return other.execute(sql).fetchall()
    finally:
        other.close()


def test_a_message_claimed_while_a_pass_stores_is_on_disk_before_it_is_sent(tmp_path: Path) -> None:
    """The service delivers on the connection its passes store with: the rows claimed for a message (and
    its key) must be committed before the send — a crash after it must find them `sending`, to go again
    with the same key, not `pending`, to go again as a new message."""
    path = tmp_path / "store.sqlite"
    conn = open_db(path)
    with group_commit(conn, every=50):
        with transaction(conn):  # one poll of the pass: stored, not committed yet
            queue_ops(conn, "ops", "note:1", "a source broke")
        assert on_disk(path, "SELECT count(*) FROM outbox") == [(0,)]
        row_id = conn.execute("SELECT id FROM outbox").fetchone()[0]
        assert mark_sending(conn, [row_id], "message-key-1")
        assert on_disk(path, "SELECT state, message_key FROM outbox") == [("sending", "message-key-1")]
        record_outcome(conn, "ops", [row_id], "message-key-1", "ok", "200", None, dead=False)
        assert on_disk(path, "SELECT state FROM outbox") == [("sent",)]
        with transaction(conn):  # the pass goes on in its group
            queue_ops(conn, "ops", "note:2", "another")
        assert on_disk(path, "SELECT count(*) FROM outbox") == [(1,)]
    assert on_disk(path, "SELECT count(*) FROM outbox") == [(2,)]


def test_overlapping_passes_share_one_group_commit(tmp_path: Path) -> None:
    """The service's passes overlap; the second's polls stay grouped after the first has ended (they were
    committed one by one), and the group commits when the last pass ends."""
    path = tmp_path / "store.sqlite"
    conn = open_db(path)
    with group_commit(conn, every=50):
        with transaction(conn):
            queue_ops(conn, "ops", "first-pass", "x")
        second = group_commit(conn, every=50)
        second.__enter__()
    with transaction(conn):  # a poll of the second pass, after the first ended
        queue_ops(conn, "ops", "second-pass", "y")
    assert on_disk(path, "SELECT count(*) FROM outbox") == [(0,)]  # still one group, nothing committed alone
    second.__exit__(None, None, None)
    assert on_disk(path, "SELECT dedupe_key FROM outbox ORDER BY id") == [("first-pass",), ("second-pass",)]
    assert not conn.in_transaction
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000  # the pass's settings undone
