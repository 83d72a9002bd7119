"""Versions of one instrument in the store: the earlier notice a notice follows — the draft its final
text follows, the draft before a second draft, the instrument an amendment amends — in `notices.follows`,
found by the instrument's name (`parse.instrument`) across columns and agencies."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from ..parse.instrument import instrument_key, is_amendment
from .db import ANY_OF, dict_rows, json_list, transaction


def queue_links(conn: sqlite3.Connection, notice_ids: Iterable[int]) -> None:
    """Link these baseline notices once their pass has stored them all (`link_pending`), not one page at
    a time: which version a notice follows must not depend on which column's page was stored first."""
    conn.executemany("INSERT OR IGNORE INTO versions_pending (notice_id) VALUES (?)", [(i,) for i in notice_ids])


def link_pending(conn: sqlite3.Connection) -> int:
    """Link the queued notices (their names were set by the insert), oldest first, in one transaction;
    how many. A pass ends with it; one that crashed before leaves them to the next."""
    with transaction(conn):
        ids = [row[0] for row in conn.execute("SELECT notice_id FROM versions_pending ORDER BY notice_id")]
        if ids:
            link_versions(conn, ids, named=True, batch=True)
            conn.execute("DELETE FROM versions_pending")
    return len(ids)


def link_versions(conn: sqlite3.Connection, notice_ids: Iterable[int], named: bool = False,
                  batch: bool = False) -> None:
    """Set each notice's instrument name (`named`: the insert already did), then the earlier version it
    follows (in the storing transaction). One query a chunk finds each named notice's latest earlier
    draft, a second the instrument in force for the few drafts and amendments with none, and a row is
    written only where that changes: storing a page costs a few statements, not one per notice.

    `batch`: many notices at once (a pass's baselines), most of them of names that one title gives
    (`_VERSIONED`): those are set aside first."""
    ids = sorted(set(notice_ids))
    if not named:
        for start in range(0, len(ids), 500):
            for notice_id, title, stored_key in conn.execute(
                    f"SELECT id, title, instrument FROM notices WHERE id IN {ANY_OF}",
                    (json_list(ids[start:start + 500]),)).fetchall():
                key = instrument_key(title)
                if key != stored_key:
                    conn.execute("UPDATE notices SET instrument = ? WHERE id = ?", (key, notice_id))
    # (after every name is set: a page's own versions link to each other too)
    searched, names = "n.instrument IS NOT NULL", []  # which named notices are searched (and its parameter)
    if batch:  # only those of names that more than one title gives
        searched = f"n.instrument IN {ANY_OF}"
        names = [json_list(row[0] for row in conn.execute(_VERSIONED, (json_list(ids),)))]
    for start in range(0, len(ids), 500):
        chunk = json_list(ids[start:start + 500])
        found = conn.execute(f"SELECT n.id, n.title, n.status, n.follows, {_LATEST_DRAFT} FROM notices n"
                             f" WHERE n.id IN {ANY_OF} AND ({searched} OR n.follows IS NOT NULL)",
                             (chunk, *names)).fetchall()
        # no draft before it: a draft or an amendment follows the instrument in force, anything else nothing
        wanted = [row[0] for row in found if row[4] is None and (row[2] == "draft" or is_amendment(row[1]))]
        in_force = dict(conn.execute(f"SELECT n.id, {_LATEST_OTHER} FROM notices n WHERE n.id IN {ANY_OF}",
                                     (json_list(wanted),)).fetchall()) if wanted else {}
        changed = [(earlier, notice_id) for notice_id, _, _, follows, draft in found
                   if (earlier := draft if draft is not None else in_force.get(notice_id)) != follows]
        conn.executemany("UPDATE notices SET follows = ? WHERE id = ?", changed)


# The names of these notices' instruments that more than one title gives. A version has another title than
# the notice (the same title is a repost in another column), so a name only ever given by one title has no
# versions: its notices need no search for an earlier one (20 rows read each). A name with more than
# _NAME_ROWS drafts or other notices is taken to have several titles, unread (its notices are searched).
_NAME_ROWS = 1000
_VERSIONED = (
    "WITH names AS (SELECT DISTINCT instrument AS name FROM notices WHERE id IN " + ANY_OF
    + " AND instrument IS NOT NULL) SELECT name FROM names WHERE (SELECT count(*) >= {rows} OR min(title) != max(title)"
    " FROM (SELECT title FROM (SELECT title FROM notices WHERE instrument = name AND status = 'draft' LIMIT {rows})"
    " UNION ALL SELECT title FROM (SELECT title FROM notices WHERE instrument = name AND instrument IS NOT NULL"
    " AND status IS NOT 'draft' LIMIT {rows})))").format(rows=_NAME_ROWS)

# The latest earlier notice of the same instrument that is (`=`) or is not (`IS NOT`) a draft: a final
# text follows the latest earlier draft, a draft the latest earlier draft (a redraft); an amendment, or a
# draft with nothing before it but the instrument in force, follows that instrument. The same title
# elsewhere is a repost in another column, not a version: the newest of the latest 20 with another title
# (a name reposted hundreds of times is not walked to its end). The drafts have an index of their own
# (notices_drafts: its second equality column makes the planner pick it), the others too (notices_in_force).
_DAY = "COALESCE({t}.published, substr({t}.first_seen, 1, 10))"
_LATEST = ("(SELECT w.id FROM (SELECT e.id, e.title FROM notices e WHERE e.instrument = n.instrument"
           " AND e.id != n.id AND e.status {kind} 'draft' AND " + _DAY.format(t="e") + " <= " + _DAY.format(t="n")
           + " ORDER BY " + _DAY.format(t="e") + " DESC, e.id DESC LIMIT 20) w WHERE w.title != n.title LIMIT 1)")
_LATEST_DRAFT = _LATEST.format(kind="=")
_LATEST_OTHER = _LATEST.format(kind="IS NOT")


def versions_of(conn: sqlite3.Connection, notice_id: int) -> dict[str, Any]:
    """The version a notice follows and the later ones that follow it, for `show`, `diff` and the web view."""
    with dict_rows(conn):
        follows = conn.execute(
            "SELECT d.id, d.title, d.url, d.published, d.deadline, d.status, d.agency FROM notices n"
            " JOIN notices d ON d.id = n.follows WHERE n.id = ?", (notice_id,)).fetchone()
        later = conn.execute("SELECT id, title, url, published, deadline, status, agency FROM notices"
                             " WHERE follows = ? ORDER BY id", (notice_id,)).fetchall()
    return {"follows": dict(follows) if follows else None, "followed_by": [dict(r) for r in later]}


def texts(conn: sqlite3.Connection, notice_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Title, status, dates and body of these notices, for comparing two versions."""
    with dict_rows(conn):
        found = conn.execute(f"SELECT id, title, agency, url, published, deadline, status, follows,"
                             f" COALESCE(body, '') AS body, COALESCE(attachment_text, '') AS attachment_text"
                             f" FROM notices WHERE id IN {ANY_OF}", (json_list(notice_ids),))
        return {row["id"]: dict(row) for row in found.fetchall()}


def before_last_edit(conn: sqlite3.Connection, notice_id: int) -> dict[str, Any] | None:
    """What a notice was before its last edit in place (title, date, text), if it was edited."""
    with dict_rows(conn):
        row = conn.execute("SELECT notice_id AS id, version, title, published, COALESCE(body, '') AS body"
                           " FROM notice_history WHERE notice_id = ? ORDER BY version DESC LIMIT 1",
                           (notice_id,)).fetchone()
    return dict(row) if row else None
