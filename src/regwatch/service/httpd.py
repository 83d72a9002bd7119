"""The optional listener behind `[service] http`: a small HTTP/1.0 server for GET and HEAD.

One response per connection, bounded request size and read time, and the headers every answer
carries (no sniffing, no framing, no referrer, a strict content policy for pages). What each path
answers is the caller's `app`; it runs on the event loop, so it must be quick (reads of the store).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 16_384  # request line and headers; a GET has no body
READ_SECONDS = 5.0
REASONS = {200: "OK", 301: "Moved Permanently", 304: "Not Modified", 400: "Bad Request", 401: "Unauthorized",
           404: "Not Found", 405: "Method Not Allowed", 500: "Internal Server Error", 503: "Service Unavailable"}
# Pages run no script, load nothing from elsewhere, post forms only here and cannot be framed.
PAGE_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
               "base-uri 'none'; frame-ancestors 'none'")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # percent-decoded, without the query
    query: dict[str, str]  # the first value of each parameter
    headers: dict[str, str]  # names in lower case


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: str | bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def text(cls, status: int, text: str) -> Response:
        return cls(status, "text/plain; charset=utf-8", text if text.endswith("\n") else text + "\n")


App = Callable[[Request], Response]


def parse_request(head: bytes) -> Request | None:
    """The request line and headers, or None when they are not HTTP."""
    first, _, rest = head.partition(b"\r\n")
    lines = [first.decode("utf-8", "replace"), *rest.decode("latin-1").split("\r\n")]  # a raw 法 in a URL too
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/") or not parts[1].startswith("/"):
        return None
    target, _, query = parts[1].partition("?")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    values: dict[str, str] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        values.setdefault(key, value)
    return Request(parts[0], unquote(target), values, headers)


def encode(response: Response, head_only: bool) -> bytes:
    data = response.body.encode() if isinstance(response.body, str) else response.body
    headers = {"Content-Type": response.content_type, "Content-Length": str(len(data)),
               "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
               "X-Frame-Options": "DENY", "Connection": "close"}
    if response.content_type.startswith("text/html"):
        headers["Content-Security-Policy"] = PAGE_POLICY
    headers.update(response.headers)
    lines = [f"HTTP/1.0 {response.status} {REASONS.get(response.status, '')}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if head_only else data)


async def serve(host: str, port: int, app: App) -> asyncio.AbstractServer:
    """Listen on host:port and answer each GET or HEAD with `app`; a failing `app` answers 500."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=READ_SECONDS)
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        request = parse_request(head)
        if request is None:
            response = Response.text(400, "not an HTTP request")
        elif request.method not in ("GET", "HEAD"):
            response = Response(405, "text/plain; charset=utf-8", "only GET and HEAD\n", {"Allow": "GET, HEAD"})
        else:
            try:
                response = app(request)
            except Exception as exc:  # a broken page must not take the service down
                log.exception("http listener: %s", request.path)
                response = Response(500, "application/json", json.dumps({"error": type(exc).__name__}))
        writer.write(encode(response, request is not None and request.method == "HEAD"))
        try:
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port, limit=MAX_REQUEST_BYTES)
