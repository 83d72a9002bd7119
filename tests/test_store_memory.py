"""An idle service gives its store's page cache back (store/db.py: release_memory), and loses nothing."""

from __future__ import annotations

import _sqlite3
import ctypes
from pathlib import Path

from regwatch.store.db import open_db, release_memory

_sqlite_library = ctypes.CDLL(_sqlite3.__file__)  # the SQLite the sqlite3 module runs on
_memory_used = _sqlite_library.sqlite3_memory_used
_memory_used.restype = ctypes.c_int64


def test_release_memory_frees_the_page_cache_and_the_rows_read_back_the_same(tmp_path: Path) -> None:
    conn = open_db(tmp_path / "store.sqlite")
    conn.execute("CREATE TABLE filler (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    with conn:
        conn.executemany("INSERT INTO filler (text) VALUES (?)", ((f"{i:06d}" * 100,) for i in range(3000)))
    written = conn.execute("SELECT sum(length(text)) FROM filler").fetchone()  # every page read: cached
    cached = _memory_used()
    release_memory(conn)
    released = _memory_used()
    assert cached - released > 1_000_000  # the default cache (2 MB) was full of the table's 1.8 MB
    assert conn.execute("SELECT sum(length(text)) FROM filler").fetchone() == written == (1_800_000,)
