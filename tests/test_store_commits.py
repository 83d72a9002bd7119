"""A pass's polls share commits (store/db.py: group_commit), and that never weakens what must be on disk:
a message's claim is committed before the message goes out, whatever pass is storing meanwhile; and a
page of new notices stored in one statement gets each its own id."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from regwatch.classify import Verdict
from regwatch.parse import Item
from regwatch.store.db import group_commit, open_db, transaction
from regwatch.store.diff import SourcePoll, record_poll
from regwatch.store.outbox import mark_sending, queue_ops, record_outcome

NO_VERDICT = lambda *_: Verdict("News Reports", [], "news", "final", [], "none")  # noqa: E731


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


def test_new_notices_are_linked_to_their_own_ids_even_when_sqlite_picks_ids_at_random(tmp_path: Path) -> None:
    """A page's new ids are read as one consecutive run (what SQLite gives one statement's rows); once
    the largest id is taken SQLite picks ids at random, and every event and queue entry must still name
    its own notice."""
    conn = open_db(tmp_path / "store.sqlite")
    with transaction(conn):
        conn.execute("INSERT INTO notices (id, identity, source_id, agency, url, title, first_seen, last_seen)"
                     " VALUES (9223372036854775807, 'x', 'other', 'X', 'https://x.example/', 't', 'n', 'n')")
    baseline = [Item(title=f"旧通知{i}", url=f"https://www.pbc.gov.cn/old/{i}.html", published="2026-11-30")
                for i in range(3)]
    record_poll(conn, SourcePoll("s", "PBC", "2026-12-01T00:00:00+00:00", "ok", items=baseline), NO_VERDICT)
    fresh = [Item(title=f"新通知{i}", url=f"https://www.pbc.gov.cn/new/{i}.html", published="2026-12-01")
             for i in range(20)]
    summary = record_poll(conn, SourcePoll("s", "PBC", "2026-12-02T00:00:00+00:00", "ok", items=fresh + baseline),
                          NO_VERDICT)
    titles = dict(conn.execute("SELECT id, title FROM notices").fetchall())
    assert [titles[i] for i in summary.new_ids] == [item.title for item in fresh]  # in page order
    evented = conn.execute("SELECT n.title FROM events e JOIN notices n ON n.id = e.notice_id ORDER BY e.id").fetchall()
    assert [t for (t,) in evented] == [item.title for item in fresh]
    queued = {t for (t,) in conn.execute("SELECT n.title FROM search_pending q JOIN notices n ON n.id = q.notice_id")}
    assert queued == {item.title for item in fresh + baseline}
