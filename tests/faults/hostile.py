"""A small hostile web server on 127.0.0.1, and a regwatch install pointed at it.

Each route is a function that gets the request and writes the raw answer itself, so a test can
send what a real broken or hostile site sends: a body that stops half-way, one byte every few
seconds, a gzip bomb, a redirect to somewhere else, a WAF block page, a `Retry-After` of a day.
"""

from __future__ import annotations

import gzip
import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from click.testing import CliRunner, Result

from regwatch.cli import main

Route = Callable[["Request"], None]


@dataclass
class Request:
    handler: BaseHTTPRequestHandler
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def send(self, status: int, body: bytes | str = b"", headers: dict[str, str] | None = None) -> None:
        data = body.encode() if isinstance(body, str) else body
        h = self.handler
        h.send_response(status)
        merged = {"Content-Type": "text/html; charset=utf-8", **(headers or {})}
        for name, value in merged.items():
            h.send_header(name, value)
        if "Content-Length" not in merged and status not in (204, 304):
            h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if data and status not in (204, 304):
            h.wfile.write(data)

    def head(self, status: int, headers: dict[str, str]) -> None:
        """The status line and headers only: the test writes the body itself (or fails to)."""
        self.handler.send_response(status)
        for name, value in {"Content-Type": "text/html; charset=utf-8", **headers}.items():
            self.handler.send_header(name, value)
        self.handler.end_headers()

    def raw(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()


@dataclass
class HostileServer:
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[tuple[str, str]] = field(default_factory=list)  # (path, query string)

    def __post_init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                server.hits.append((parts.path, parts.query))
                route = server.routes.get(parts.path)
                request = Request(self, parts.path, parse_qs(parts.query), dict(self.headers.items()))
                try:
                    if route is None:
                        request.send(404, "<html>not found</html>")
                    else:
                        route(request)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            do_POST = do_GET

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass

        self._httpd = Quiet(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def count(self, path: str) -> int:
        return sum(1 for p, _ in self.hits if p == path)


def list_page(rows: list[tuple[str, str, str]], next_href: str = "", charset: str = "utf-8") -> str:
    """A plain notice list: (title, href, date) rows in <li>, and an optional link to the older page."""
    items = "".join(f'<li><a href="{href}" title="{title}">{title}</a><span>{date}</span></li>'
                    for title, href, date in rows)
    more = f'<a class="next" href="{next_href}">下一页</a>' if next_href else ""
    return (f'<html><head><meta charset="{charset}"><title>通知公告</title></head><body>'
            f'<ul class="list">{items}</ul>{more}</body></html>')


def rows(prefix: str, count: int, start: int = 0, date: str = "2026-11-30") -> list[tuple[str, str, str]]:
    return [(f"{prefix}关于第{start + i}批网络数据安全检查情况的通报", f"/n/{prefix}-{start + i}.html", date)
            for i in range(count)]


HTML_SOURCE = """
agency = "TEST"
agency_en = "Test agency"
[[source]]
id = "{id}"
url = "{url}"
backfill_pages = {backfill}
[source.parser]
kind = "html"
item = "ul.list > li"
title = "a"
link = "a"
date = "span"
next_page = "a.next"
[source.detail]
enabled = false
"""


@dataclass
class FaultInstall:
    """regwatch configured against a hostile server: its own config, watchlists and database."""

    root: Path
    server: HostileServer

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def db_path(self) -> Path:
        return self.root / "regwatch.sqlite"

    def configure(self, watchlist: str, extra: str = "", fetch: str = "") -> None:
        (self.root / "watchlists").mkdir(exist_ok=True)
        (self.root / "watchlists" / "test.toml").write_text(watchlist, encoding="utf-8")
        self.config_path.write_text(
            f'database = "{self.db_path}"\nwatchlists = "{self.root / "watchlists"}"\n{extra}\n'
            f'[fetch]\nper_host_delay = 0\ntimeout = 5\n{fetch}\n', encoding="utf-8")

    def html_source(self, path: str = "/list.html", source_id: str = "test-list", backfill: int = 1,
                    extra: str = "", fetch: str = "") -> None:
        self.configure(HTML_SOURCE.format(id=source_id, url=self.server.base + path, backfill=backfill), extra, fetch)

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, ["--config", str(self.config_path), *args], catch_exceptions=False)

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        return conn

    def titles(self) -> set[str]:
        with self.db() as conn:
            return {r[0] for r in conn.execute("SELECT title FROM notices")}

    def last_poll(self) -> dict[str, Any]:
        with self.db() as conn:
            return dict(conn.execute("SELECT * FROM polls ORDER BY id DESC LIMIT 1").fetchone())

    def source_state(self, source_id: str = "test-list") -> dict[str, Any]:
        with self.db() as conn:
            return dict(conn.execute("SELECT * FROM sources WHERE id = ?", (source_id,)).fetchone())


def gzip_bomb(size: int) -> bytes:
    """`size` bytes of zeros, gzipped (about a thousandth of the size on the wire)."""
    return gzip.compress(b"\0" * size, compresslevel=9)


def json_body(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
