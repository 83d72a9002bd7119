"""Versions of one instrument in the store: the earlier notice a notice follows — the draft its final
text follows, the draft before a second draft, the instrument an amendment amends — in `notices.follows`,
found by the instrument's name (`parse.instrument`) across columns and agencies."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from ..parse.instrument import instrument_key, is_amendment
from .db import dict_rows


def link_versions(conn: sqlite3.Connection, notice_ids: Iterable[int], named: bool = False) -> None:
    """Set each notice's instrument name (`named`: the insert already did), then the earlier version it
    follows (in the storing transaction); a row is written only where either changes, so storing a page of
    unrelated notices costs one query each for the few that name an instrument."""
    ids = sorted(set(notice_ids))
    found: list[tuple[int, str | None, str, str | None, str, int | None]] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for notice_id, title, status, day, stored_key, follows in conn.execute(
                f"SELECT id, title, status, COALESCE(published, substr(first_seen, 1, 10)), instrument, follows"
                f" FROM notices WHERE id IN ({marks})", chunk).fetchall():
            key = stored_key if named else instrument_key(title)
            if key != stored_key:
                conn.execute("UPDATE notices SET instrument = ? WHERE id = ?", (key, notice_id))
            if key is not None or follows is not None:
                found.append((notice_id, key, title, status, day, follows))
    for notice_id, key, title, status, day, follows in found:  # after every name is set: a page's own versions
        earlier = _earlier_version(conn, notice_id, key, title, status, day) if key else None
        if earlier != follows:
            conn.execute("UPDATE notices SET follows = ? WHERE id = ?", (earlier, notice_id))


def _earlier_version(conn: sqlite3.Connection, notice_id: int, key: str, title: str, status: str | None,
                     day: str) -> int | None:
    """A final text follows the latest earlier draft; a draft the latest earlier draft (a redraft); an
    amendment, or a draft with nothing before it but the instrument in force, follows that instrument.
    The same title elsewhere is a repost in another column, not a version."""
    earlier = conn.execute(
        "SELECT id, status FROM notices WHERE instrument = ? AND id != ? AND title != ?"
        " AND COALESCE(published, substr(first_seen, 1, 10)) <= ?"
        " ORDER BY COALESCE(published, substr(first_seen, 1, 10)) DESC, id DESC LIMIT 20",
        (key, notice_id, title, day)).fetchall()
    drafts = [row_id for row_id, row_status in earlier if row_status == "draft"]
    finals = [row_id for row_id, row_status in earlier if row_status != "draft"]
    if drafts:
        return drafts[0]
    if finals and (status == "draft" or is_amendment(title)):
        return finals[0]
    return None


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
    marks = ",".join("?" * len(notice_ids))
    with dict_rows(conn):
        found = conn.execute(f"SELECT id, title, agency, url, published, deadline, status, follows,"
                             f" COALESCE(body, '') AS body, COALESCE(attachment_text, '') AS attachment_text"
                             f" FROM notices WHERE id IN ({marks})", notice_ids)
        return {row["id"]: dict(row) for row in found.fetchall()}


def before_last_edit(conn: sqlite3.Connection, notice_id: int) -> dict[str, Any] | None:
    """What a notice was before its last edit in place (title, date, text), if it was edited."""
    with dict_rows(conn):
        row = conn.execute("SELECT notice_id AS id, version, title, published, COALESCE(body, '') AS body"
                           " FROM notice_history WHERE notice_id = ? ORDER BY version DESC LIMIT 1",
                           (notice_id,)).fetchone()
    return dict(row) if row else None
