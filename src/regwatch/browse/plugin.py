"""regwatch's Datasette plugin (registered as an entry point, loaded only by Datasette): the SQL function
`regwatch_match(query)` turns a user's words into the search index's expression, so a Chinese query
matches the index's character pairs exactly as `regwatch search` does."""

from __future__ import annotations

import sqlite3

from datasette import hookimpl

from ..store.search import fts_query


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("regwatch_match", 1, lambda query: fts_query(query or "") or '""', deterministic=True)
