"""The optional health listener: GET /healthz and GET /metrics on a local address (off by default)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)
Handler = Callable[[], tuple[int, str, str]]  # → status, content type, body


async def serve(host: str, port: int, routes: dict[str, Handler]) -> asyncio.AbstractServer:
    """A tiny HTTP/1.0 server: GET only, one response per connection."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            method, _, rest = request.decode("latin-1").partition(" ")
            path = rest.split(" ", 1)[0].split("?", 1)[0]
            if method != "GET":
                status, kind, body = 405, "text/plain", "only GET\n"
            elif path in routes:
                status, kind, body = routes[path]()
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
