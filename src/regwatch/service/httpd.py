"""The optional listener: GET /healthz, /metrics, /calendar.ics and /feeds/… on a local address (off by default)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable
from urllib.parse import unquote

log = logging.getLogger(__name__)
Handler = Callable[[], tuple[int, str, str]]  # → status, content type, body
PathHandler = Callable[[str], tuple[int, str, str]]  # the rest of the path → status, content type, body


async def serve(host: str, port: int, routes: dict[str, Handler],
                prefixes: dict[str, PathHandler] | None = None) -> asyncio.AbstractServer:
    """A tiny HTTP/1.0 server: GET only, one response per connection; `prefixes` answer whole path trees
    (/feeds/NAME.atom) with the rest of the path."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method != "GET":
                status, kind, body = 405, "text/plain", "only GET\n"
            elif path in routes:
                status, kind, body = routes[path]()
            elif (prefix := next((p for p in prefixes or {} if path.startswith(p)), None)) is not None:
                status, kind, body = (prefixes or {})[prefix](unquote(path[len(prefix):]))
            else:
                status, kind, body = 404, "text/plain", "not found\n"
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        except Exception as exc:  # a broken handler must not take the service down
            log.exception("health listener")
            status, kind, body = 500, "application/json", json.dumps({"error": type(exc).__name__})
        data = body.encode()
        reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed", 503: "Service Unavailable"}.get(status, "")
        writer.write(f"HTTP/1.0 {status} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {len(data)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + data)
        try:
            await writer.drain()
        finally:
            writer.close()

    return await asyncio.start_server(handle, host, port)
