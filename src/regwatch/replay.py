"""A replay server: saved agency pages served on 127.0.0.1, scriptable between polls.

Pages live at `<root>/<host>/<path>` (e.g. `www.pbc.gov.cn/goutongjiaoliu/113456/113469/index.html`),
which is exactly where `fetch.rewrite_to = "http://127.0.0.1:PORT"` sends regwatch's requests.
APIs that answer one path differently by parameter (JPaaS `pageId`, CAC's JsonList form) are
listed in `<root>/_routes.toml` as `[[route]]` tables of `path`, `params` (the exact query or form
parameters, or a JSON body's top-level fields), `file` and optional `content_type`.
Between polls a test (or a person, through the `/_replay/…` control endpoints) can add rows to a
list page, change text, or queue chosen answers: a status, a delay, a challenge page, headers.
Every page gets an ETag and Last-Modified and conditional requests get 304 until it changes.
"""

from __future__ import annotations

import copy
import hashlib
import json
import mimetypes
import sys
import threading
import time
import tomllib
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import lxml.html

from .fetch.decode import decode_body
from .parse.html_list import css


@dataclass
class ScriptedResponse:
    """One queued answer for a path: used instead of the page while `times` lasts (None: forever)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    times: int | None = 1


@dataclass
class RequestRecord:
    """One request the server answered, for tests to inspect."""

    method: str
    path: str
    status: int
    headers: dict[str, str]
    arrived: float  # time.monotonic() when the request line was read
    target: str = ""  # the request target as sent: path and query string
    form: str = ""  # a POST's form body


@dataclass
class _Page:
    body: bytes
    content_type: str
    modified: float = field(default_factory=time.time)

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha1(self.body).hexdigest()[:20] + '"'


class ReplayServer:
    """Serve pages from `root` (and pages set in code) on 127.0.0.1; use as a context manager."""

    def __init__(self, root: Path | None = None, port: int = 0, latency: float = 0.0) -> None:
        self.root = root
        self.latency = latency
        self._pages: dict[tuple[str, _Params], _Page] = {}
        self._scripts: dict[str, deque[ScriptedResponse]] = {}
        self._lock = threading.Lock()
        self.log: list[RequestRecord] = []
        self._httpd = _QuietServer(("127.0.0.1", port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
        self.load_routes()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="replay", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------------
    def set_page(self, path: str, body: bytes | str, content_type: str | None = None,
                 params: dict[str, str] | None = None) -> None:
        """Serve `body` at `path` (`host/path…`), for requests with exactly `params` if given."""
        path = _norm(path)
        data = body.encode() if isinstance(body, str) else body
        guessed = mimetypes.guess_type(path)[0] or "text/html"
        with self._lock:
            self._pages[(path, _params_key(params or {}))] = _Page(data, content_type or guessed)

    def page(self, path: str) -> bytes:
        return self._load(_norm(path)).body

    def load_routes(self) -> None:
        """Read `<root>/_routes.toml`: pages answered only for given query or form parameters."""
        if self.root is None or not (self.root / "_routes.toml").is_file():
            return
        with (self.root / "_routes.toml").open("rb") as fh:
            routes = tomllib.load(fh).get("route", [])
        for route in routes:
            self.set_page(route["path"], (self.root / route["file"]).read_bytes(), route.get("content_type"),
                          {str(k): str(v) for k, v in route.get("params", {}).items()})

    def respond(self, path: str, response: ScriptedResponse) -> None:
        """Queue a scripted answer for `path` (before the page itself)."""
        with self._lock:
            self._scripts.setdefault(_norm(path), deque()).append(response)

    def requests(self, path: str) -> list[RequestRecord]:
        return [r for r in self.log if r.path == _norm(path)]

    def clear_scripts(self) -> None:
        with self._lock:
            self._scripts.clear()

    def replace_text(self, path: str, old: str, new: str) -> None:
        """Change text in a page (every occurrence), keeping its encoding; a new ETag follows."""
        page = self._load(_norm(path))
        text, codec, _ = decode_body(page.body, page.content_type)
        if old not in text:
            raise KeyError(f"{old!r} is not in {path}")
        self.set_page(path, text.replace(old, new).encode(_encodable(codec)), page.content_type)

    def add_items(
        self, path: str, row_selector: str, items: list[dict[str, str]], date_selector: str = ""
    ) -> None:
        """Prepend rows (newest first) cloned from the page's first row, with new title, href and date.

        Each item is {"title": …, "href": …, "date": "YYYY-MM-DD"}; the clone's first link gets the
        href, the title attribute and the text; the element matching `date_selector` gets the date.
        """
        page = self._load(_norm(path))
        text, codec, _ = decode_body(page.body, page.content_type)
        root = lxml.html.fromstring(text)
        rows = css(row_selector)(root)
        if not rows:
            raise KeyError(f"no row matches {row_selector!r} in {path}")
        template = rows[0]
        table = _table_of(template) if template.tag == "td" else None  # PBC: one table per row
        for item in items:  # each goes just before the old first row, so page order is kept
            clone = _fill_row(copy.deepcopy(template), item, date_selector)
            if table is not None:
                new_table = copy.deepcopy(table)
                cell = css(row_selector)(new_table)[0]
                cell.getparent().replace(cell, clone)
                table.addprevious(new_table)
            else:
                template.addprevious(clone)
        html = lxml.html.tostring(root, encoding="unicode", doctype=_doctype(text))
        self.set_page(path, html.encode(_encodable(codec)), page.content_type)

    # -- serving -----------------------------------------------------------------------------------
    def _load(self, path: str, params: dict[str, str] | None = None) -> _Page:
        with self._lock:
            for key in ((path, _params_key(params or {})), (path, ())):
                if key in self._pages:
                    return self._pages[key]
            if params and any(p == path and key for p, key in self._pages):
                raise KeyError(path)  # a parameterised route, asked with parameters no route names
        if self.root is not None:
            candidate = (self.root / path).resolve()
            if candidate.is_dir():
                candidate = candidate / "index.html"
            if self.root.resolve() in candidate.parents and candidate.is_file():
                page = _Page(candidate.read_bytes(), mimetypes.guess_type(candidate.name)[0] or "text/html",
                             candidate.stat().st_mtime)
                with self._lock:
                    self._pages.setdefault((path, ()), page)
                return page
        raise KeyError(path)

    def _next_script(self, path: str) -> ScriptedResponse | None:
        with self._lock:
            queue = self._scripts.get(path)
            if not queue:
                return None
            script = queue[0]
            if script.times is not None:
                script.times -= 1
                if script.times <= 0:
                    queue.popleft()
            return script

    def control(self, action: str, payload: dict[str, Any]) -> Any:
        """The `/_replay/<action>` endpoints: the same scripting, over HTTP, for use from a shell."""
        if action == "respond":
            body = payload.get("body", "")
            self.respond(payload["path"], ScriptedResponse(
                status=int(payload.get("status", 200)), body=body.encode() if isinstance(body, str) else b"",
                headers=dict(payload.get("headers", {})), delay=float(payload.get("delay", 0)),
                times=payload.get("times", 1)))
        elif action == "add-items":
            self.add_items(payload["path"], payload["row_selector"], payload["items"],
                           payload.get("date_selector", ""))
        elif action == "replace":
            self.replace_text(payload["path"], payload["old"], payload["new"])
        elif action == "reset":
            self.clear_scripts()
        elif action == "log":
            return [[r.method, r.path, r.status] for r in self.log]
        else:
            raise KeyError(action)
        return {"ok": True}


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-answer (a timeout test, a killed poller) is expected here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


_Params = tuple[tuple[str, str], ...]


def _json_fields(text: str) -> list[tuple[str, str]]:
    """A JSON POST body's top-level fields as route parameters (non-strings in compact JSON)."""
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return []
    if not isinstance(body, dict):
        return []
    return [(k, v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, separators=(",", ":")))
            for k, v in body.items()]


def _params_key(params: dict[str, str]) -> _Params:
    return tuple(sorted(params.items()))


def _norm(path: str) -> str:
    path = unquote(path).lstrip("/")
    return path + "index.html" if path.endswith("/") or not path else path


def _encodable(codec: str) -> str:
    return "utf-8" if codec == "utf-8-sig" else codec


def _doctype(text: str) -> str | None:
    head = text.lstrip()[:200]
    return head[: head.index(">") + 1] if head.lower().startswith("<!doctype") else None


def _fill_row(row: lxml.html.HtmlElement, item: dict[str, str], date_selector: str) -> lxml.html.HtmlElement:
    link = next(iter(row.iter("a")), None)
    if link is not None:
        link.set("href", item["href"])
        if link.get("title") is not None:
            link.set("title", item["title"])
        link.text = item["title"]
    if date_selector and item.get("date"):
        for date_el in css(date_selector)(row):
            date_el.text = item["date"]
    return row


def _table_of(element: lxml.html.HtmlElement) -> lxml.html.HtmlElement | None:
    for ancestor in element.iterancestors():
        if ancestor.tag == "table":
            return ancestor
    return None


def _make_handler(server: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet: the log list keeps requests
            pass

        def do_GET(self) -> None:
            self._serve()

        def do_HEAD(self) -> None:
            self._serve(head=True)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            path = urlsplit(self.path).path
            if path.startswith("/_replay/"):
                try:
                    result = server.control(path[len("/_replay/"):], json.loads(raw or b"{}"))
                except (KeyError, ValueError, TypeError) as exc:
                    self._send(400, json.dumps({"error": str(exc)}).encode(), {"Content-Type": "application/json"})
                    return
                self._send(200, json.dumps(result).encode(), {"Content-Type": "application/json"})
                return
            self.form_text = raw.decode("utf-8", "replace")
            form = parse_qsl(self.form_text, keep_blank_values=True) if raw else []
            if "json" in (self.headers.get("Content-Type") or "") and raw:
                form = _json_fields(self.form_text)
            self._serve(form=form)

        def _serve(self, head: bool = False, form: list[tuple[str, str]] | None = None) -> None:
            self.arrived = time.monotonic()
            parts = urlsplit(self.path)
            path = _norm(parts.path)
            params = dict(parse_qsl(parts.query, keep_blank_values=True) + (form or []))
            if server.latency:
                time.sleep(server.latency)
            script = server._next_script(path)
            if script is not None:
                if script.delay:
                    time.sleep(script.delay)
                headers = {"Content-Type": "text/html; charset=utf-8", **script.headers}
                self._send(script.status, b"" if head else script.body, headers, path)
                return
            try:
                page = server._load(path, params)
            except KeyError:
                self._send(404, b"<html><body>404 Not Found</body></html>", {"Content-Type": "text/html"}, path)
                return
            validators = {"ETag": page.etag, "Last-Modified": formatdate(page.modified, usegmt=True)}
            if self.headers.get("If-None-Match") == page.etag or (
                not self.headers.get("If-None-Match")
                and self.headers.get("If-Modified-Since") == validators["Last-Modified"]
            ):
                self._send(304, b"", validators, path)
                return
            self._send(200, b"" if head else page.body, {"Content-Type": page.content_type, **validators}, path)

        def _send(self, status: int, body: bytes, headers: dict[str, str], path: str = "") -> None:
            arrived = getattr(self, "arrived", time.monotonic())
            server.log.append(RequestRecord(self.command, path, status, dict(self.headers.items()), arrived,
                                            self.path, getattr(self, "form_text", "")))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and status != 304:
                self.wfile.write(body)

    return Handler
