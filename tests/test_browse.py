"""`regwatch browse`: the store in a real Datasette (the `browse` extra, in the test extra), read-only,
described table by table, with a search that finds what `regwatch search` finds, in Chinese too."""

from __future__ import annotations

import json
import signal
import sqlite3
import urllib.parse

import pytest

from regwatch.browse import TABLES, metadata
from regwatch.store.db import open_db

from .conftest import Install
from .smtp_server import free_port
from .test_service import get, wait_for
from .test_web import ALL_SETS


def test_the_metadata_describes_every_table_and_column_there_is(tmp_path) -> None:
    conn = open_db(tmp_path / "fresh.sqlite")
    shadow = ("notice_search_",)  # FTS5's own tables: Datasette hides them
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
              if not name.startswith(shadow)}
    assert set(TABLES) == tables
    for table, (description, columns) in TABLES.items():
        real = [row[1] for row in conn.execute(f"PRAGMA table_info('{table}')")]
        assert description and set(columns) == set(real), table
    described = metadata("fresh")["databases"]["fresh"]
    assert described["tables"]["notices"]["fts_table"] == "notice_search"
    for query in described["queries"].values():  # each canned query is valid SQL over this schema
        conn.execute("EXPLAIN " + query["sql"].replace("regwatch_match(:q)", "'x'"),
                     {"since": "2026-01-01"})


def test_metadata_to_a_file(site_install: Install, tmp_path) -> None:
    out = tmp_path / "metadata.json"
    result = site_install.cli("browse", "--metadata", str(out))
    assert result.exit_code == 0
    assert "regwatch" in json.loads(out.read_text(encoding="utf-8"))["databases"]  # named as Datasette names it
    missing = site_install.cli("browse", "--metadata", str(tmp_path / "no" / "such" / "m.json"))
    assert missing.exit_code == 2 and "does not exist" in missing.output


@pytest.fixture
def datasette(site_install: Install):
    site_install.write_config(ALL_SETS)
    assert site_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    port = free_port()
    proc = site_install.subprocess("browse", "--port", str(port))
    try:
        wait_for(lambda: get(port, "/-/versions.json")[0] == 200, timeout=30)
        yield site_install, port
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=15)


def _json(port: int, path: str, **query: str):
    status, body = get(port, path + "?" + urllib.parse.urlencode(query))
    assert status == 200, (path, body[:300])
    return json.loads(body)


def test_datasette_searches_like_regwatch_and_cannot_write(datasette) -> None:
    install, port = datasette
    for words in ("个人信息", "数据 出境", "ICO"):
        rows = _json(port, "/regwatch/search.json", q=words, _shape="array")
        ours = install.cli_json("search", *words.split(), "--limit", "200")["results"]
        assert rows and {r["id"] for r in rows} == {r["id"] for r in ours}, words
    found = _json(port, "/regwatch/notices.json", _search="ICO", _shape="array")
    assert found and all("ICO" in r["title"] or "ICO" in (r["body"] or "") for r in found)
    described = _json(port, "/-/metadata.json")["databases"]["regwatch"]
    assert "canonical URL" in described["tables"]["notices"]["description"] + json.dumps(
        described["tables"]["notices"]["columns"])
    assert _json(port, "/regwatch/source_health.json", _shape="array")
    assert _json(port, "/regwatch/alerts.json", since="2000-01-01", _shape="array") == []  # a baseline alerts no one

    with install.db() as conn:
        before = conn.execute("SELECT count(*) FROM notices").fetchone()[0]
    for sql in ("DELETE FROM notices", "WITH x AS (SELECT 1) DELETE FROM notices", "PRAGMA query_only = 0"):
        status, _ = get(port, "/regwatch.json?" + urllib.parse.urlencode({"sql": sql}))
        assert status in (400, 403), sql
    with install.db() as conn:
        assert conn.execute("SELECT count(*) FROM notices").fetchone()[0] == before


def test_browse_needs_a_database(install: Install) -> None:
    result = install.cli("browse")
    assert result.exit_code == 2 and "no database" in result.output
    with pytest.raises(sqlite3.Error):  # and made none
        sqlite3.connect(f"file:{install.db_path}?mode=ro", uri=True).execute("SELECT 1 FROM notices")
