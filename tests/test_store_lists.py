"""Lists bound as one parameter (store/db.py: ANY_OF): the same answers as before for lists of any
length and any text — none, one, more than SQLite's 32,766 bound variables, titles and addresses with
quotes, backslashes, Chinese and line separators — so one prepared statement serves them all."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from regwatch.classify import Verdict
from regwatch.parse import Item
from regwatch.store.db import open_db
from regwatch.store.diff import SourcePoll, known_identities, record_poll, without_baseline
from regwatch.store.identity import canonical_url
from regwatch.store.outbox import already_told
from regwatch.store.withdrawals import mark_missing

NO_VERDICT = lambda *_: Verdict("News Reports", [], "news", "final", [], "none")  # noqa: E731
ODD = ['"', "\\", "'", "数据出境", "\u2028", "🙂", "a,b", "]"]


def stored(tmp_path: Path, items: list[Item]) -> sqlite3.Connection:
    conn = open_db(tmp_path / "store.sqlite")
    record_poll(conn, SourcePoll("s", "PBC", "2026-12-01T00:00:00+00:00", "ok", items=items), NO_VERDICT)
    return conn


def test_known_identities_finds_every_stored_one_among_many_of_any_text(tmp_path: Path) -> None:
    items = [Item(title=f"通知{i}{ODD[i % len(ODD)]}", url=f"https://www.pbc.gov.cn/a/{i}{ODD[i % len(ODD)]}.html",
                  published="2026-12-01") for i in range(200)]
    conn = stored(tmp_path, items)
    ids = dict(conn.execute("SELECT identity, id FROM notices").fetchall())
    assert len(ids) == 200
    asked = list(ids) + [f"https://www.pbc.gov.cn/never/{i}.html" for i in range(40_000)]
    found = known_identities(conn, asked)
    assert {identity: row[0] for identity, row in found.items()} == ids
    assert known_identities(conn, []) == {}
    assert set(known_identities(conn, [canonical_url(items[3].url or "")])) == {canonical_url(items[3].url or "")}


def test_without_baseline_counts_each_source_once_however_many_are_asked(tmp_path: Path) -> None:
    conn = stored(tmp_path, [Item(title="通知", url="https://www.pbc.gov.cn/a/1.html", published="2026-12-01")])
    asked = ["s", "s", *(f"other-{i}" for i in range(40_000))]
    assert without_baseline(conn, asked) == 40_000  # "s" has one; the rest none
    assert without_baseline(conn, ["s"]) == 0
    assert without_baseline(conn, []) == 0


def test_a_list_showing_none_of_the_stored_notices_marks_none_missing(tmp_path: Path) -> None:
    items = [Item(title=f"通知{i}", url=f"https://www.pbc.gov.cn/a/{i}.html", published="2026-12-0{i + 1}")
             for i in range(3)]
    conn = stored(tmp_path, items)
    ids = [row[0] for row in conn.execute("SELECT id FROM notices ORDER BY id")]
    assert mark_missing(conn, "s", [], "2026-11-01", "2026-12-05T00:00:00+00:00") == 0
    assert mark_missing(conn, "s", ids[:1], "2026-11-01", "2026-12-05T00:00:00+00:00") == 2
    missing = [row[0] for row in conn.execute("SELECT id FROM notices WHERE missing_since IS NOT NULL ORDER BY id")]
    assert missing == ids[1:]
    assert mark_missing(conn, "s", ids, "2026-11-01", "2026-12-06T00:00:00+00:00") == 0  # back on the list
    assert conn.execute("SELECT count(*) FROM notices WHERE missing_since IS NOT NULL").fetchone() == (0,)


def test_already_told_matches_agency_and_title_pairs_of_any_text(tmp_path: Path) -> None:
    conn = stored(tmp_path, [])
    titles = [f"关于{odd}的通知" for odd in ODD]
    for i, title in enumerate(titles):
        conn.execute("INSERT INTO notices (identity, source_id, agency, title, first_seen, last_seen)"
                     " VALUES (?, 's', 'PBC', ?, '2026-12-01', '2026-12-01')", (f"hash:{i}", title))
        conn.execute("INSERT INTO outbox (subscription, dedupe_key, kind, notice_id, state, created_at)"
                     " VALUES ('team', ?, 'new', last_insert_rowid(), 'sent', strftime('%Y-%m-%dT%H:%M:%S+00:00'))",
                     (f"event:{i}",))
    pairs = {("PBC", t) for t in titles} | {("CAC", titles[0])} | {("PBC", f"别的{i}") for i in range(500)}
    assert already_told(conn, "team", pairs) == {("PBC", t) for t in titles}
