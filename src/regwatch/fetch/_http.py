"""HTTP/1.1 for the fetcher and the channels: asyncio streams, with h11 framing every message.

Why not a client library: aiohttp, the client before this one, cost 0.10–0.15 s to import and ~10 MB
resident (with yarl, multidict and attrs) — the start-up of every one-off pass and a fifth of the idle
service. h11 (python-hyper's HTTP/1.1 state machine, here already under httpx) parses and checks each
message: status line, headers, Content-Length against chunked, chunk sizes, bodies cut short. What a
poller needs around it is here: a keep-alive pool per origin, TLS verified against `regwatch.tls`, an
HTTP proxy (CONNECT for https), connect and read timeouts, a size limit on what may be buffered, and a
cookie jar. The policy — redirects, the body cap, inflating, the deadline, per-host gates — is the
caller's (`fetch.client`, `deliver.http`): this module sends one request and hands back one answer.

Anything the server's answer breaks (framing, an early close) closes that connection; a connection goes
back to the pool only once its answer was read to the end.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import ssl
import time
from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode, urlsplit

import h11

from ._cookies import CookieJar

MAX_HEAD_BYTES = 65_536  # status line and headers: more is not a web server's answer
READ_BYTES = 65_536
IDLE_SECONDS = 30.0  # a kept-alive connection unused for longer is closed, not reused (servers drop them)
_IDEMPOTENT = {"GET", "HEAD", "OPTIONS"}
_UNSENDABLE = re.compile(r"[\s\x00-\x1f\x7f]")  # white space (any script's) or a control character


class HTTPError(Exception):
    """A request that got no complete answer. `sent`: whether the request may have reached the server."""

    sent = True


class InvalidURL(HTTPError):
    sent = False


class ConnectFailed(HTTPError):
    """No connection (refused, unknown host, unreachable): nothing was sent."""

    sent = False


class TLSFailed(ConnectFailed):
    """The TLS handshake failed (a certificate that does not verify, a protocol mismatch)."""


class ConnectTimeout(ConnectFailed):
    pass


class ReadTimeout(HTTPError):
    """No byte for the read timeout while waiting for (or reading) the answer."""


class ProtocolError(HTTPError):
    """The answer is not HTTP/1.x, or its framing is broken; or the server closed before it ended."""


class Headers(dict[str, str]):
    """Response headers by lower-case name; a repeated header's values joined by ", " (Set-Cookie's are
    kept apart in `set_cookie`, as they cannot be joined)."""

    def __init__(self) -> None:
        super().__init__()
        self.set_cookie: list[str] = []

    @classmethod
    def of(cls, raw: Iterable[tuple[bytes, bytes]]) -> Headers:
        headers = cls()
        for name, value in raw:  # (h11 gives names lower-cased)
            text = value.decode("latin-1")
            key = name.decode("ascii")
            if key == "set-cookie":
                headers.set_cookie.append(text)
            headers[key] = f"{headers[key]}, {text}" if key in headers else text
        return headers


@dataclass(frozen=True)
class _Target:
    """Where a URL's request goes: its origin, and the request target (path and query)."""

    scheme: str
    host: str  # as sent in Host and used for TLS (IDNA-encoded)
    port: int
    path: str

    @property
    def authority(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> _Target:
    """The request's target, or InvalidURL: http(s) only, a host, a valid port, no white space."""
    if _UNSENDABLE.search(url):
        raise InvalidURL("white space or a control character in the URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise InvalidURL(str(exc)) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise InvalidURL(f"not an http(s) URL: {scheme or 'no scheme'}")
    host = parts.hostname or ""
    if not host:
        raise InvalidURL("no host")
    try:
        host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError as exc:
        raise InvalidURL(f"host {host!r}: {exc}") from None
    path = _ascii(parts.path or "/")
    query = _ascii(parts.query)
    return _Target(scheme, host, port or (443 if scheme == "https" else 80), path + (f"?{query}" if query else ""))


def _ascii(text: str) -> str:
    """Non-ASCII characters percent-encoded as UTF-8 (a link as a page writes it, with Chinese in it)."""
    if text.isascii():
        return text
    return "".join(c if c.isascii() else "".join(f"%{b:02X}" for b in c.encode()) for c in text)


@dataclass(frozen=True)
class Proxy:
    """An HTTP proxy: http:// URLs are sent to it whole, https:// ones through a CONNECT tunnel."""

    host: str
    port: int
    authorization: str | None = None  # the Proxy-Authorization value, from the proxy URL's user:password

    @classmethod
    def of(cls, url: str) -> Proxy:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise InvalidURL(f"the proxy's address: {exc}") from None
        if parts.scheme.lower() != "http" or not parts.hostname:
            raise InvalidURL("the proxy must be an http:// address (host and port)")
        authorization = None
        if parts.username:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            authorization = "Basic " + base64.b64encode(pair).decode("ascii")
        return cls(parts.hostname, port or 80, authorization)


def environment_proxy(scheme: str, host: str) -> str | None:
    """The proxy the environment names for this scheme (`https_proxy`, `HTTP_PROXY` …), unless `no_proxy`
    lists the host (a name, a domain suffix such as `.example.com` or `example.com`, or `*`)."""
    proxy = os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY")
    if not proxy:
        return None
    bypass = os.environ.get("no_proxy") or os.environ.get("NO_PROXY") or ""
    host = host.lower().rstrip(".")
    for entry in (e.strip().lower().lstrip(".") for e in bypass.split(",")):
        entry = entry.rsplit(":", 1)[0] if entry.count(":") == 1 else entry  # (a port is ignored)
        if entry == "*" or (entry and (host == entry or host.endswith("." + entry))):
            return None
    return proxy


class _Connection:
    """One TCP (or TLS) connection and its h11 state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.idle_since = time.monotonic()
        self.received = 0  # bytes read since the current request was sent

    def usable(self) -> bool:
        """Whether a pooled connection may carry another request: not closed by the server, not stale."""
        return (not self.reader.at_eof() and not self.writer.is_closing()
                and time.monotonic() - self.idle_since < IDLE_SECONDS)

    def close(self) -> None:
        self.writer.close()


@dataclass
class Response:
    """The answer's status and headers; its body is read with `chunks()` or `read()`, then `close()`."""

    status: int
    headers: Headers
    _client: Client
    _key: tuple
    _connection: _Connection | None
    _done: bool = field(default=False)

    async def chunks(self) -> AsyncGenerator[bytes, None]:
        """The body as it arrives (de-chunked; still content-encoded: the caller inflates it)."""
        connection = self._connection
        if connection is None or self._done:
            return
        try:
            while True:
                event = await self._client._next_event(connection, self._client.read_timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self._done = True
                    return
                else:  # (ConnectionClosed inside a body: h11 says so as an error first)
                    raise ProtocolError("the server closed the connection before the body ended")
        except BaseException:
            self._discard()
            raise

    async def read(self, limit: int) -> bytes:
        """The body, at most `limit` bytes of it (the rest is not read; the connection is then closed)."""
        parts: list[bytes] = []
        size = 0
        body = self.chunks()
        try:
            async for chunk in body:
                parts.append(chunk[: limit - size])
                size += len(parts[-1])
                if size >= limit:
                    break
        finally:
            await body.aclose()
        return b"".join(parts)

    def close(self) -> None:
        """Done with the answer: its connection goes back to the pool if the body was read to the end."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._done and self._client._reusable(connection):
            self._client._give_back(self._key, connection)
        else:
            connection.close()

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


class Client:
    """A keep-alive pool and a cookie jar for one pass (the fetcher's) or one delivery run.

    It limits nothing: the callers' gates decide how many requests are in flight, per host and in all.
    `tls` gives the TLS context when a first HTTPS connection needs it: loading the certificates costs
    ~30-50 ms, which a pass over plain-HTTP sites (or a delivery to them) has no need to spend.
    """

    def __init__(self, tls: Callable[[], ssl.SSLContext], *, connect_timeout: float, read_timeout: float,
                 proxy: str = "", proxy_from_environment: bool = False, cookies: bool = False,
                 headers: Mapping[str, str] | None = None) -> None:
        self.tls = tls
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.proxy = Proxy.of(proxy) if proxy else None
        self.proxy_from_environment = proxy_from_environment
        self.cookies = CookieJar() if cookies else None
        self.headers = {name.lower(): (name, value) for name, value in (headers or {}).items()}
        self._idle: dict[tuple, list[_Connection]] = {}
        self._sweep: asyncio.TimerHandle | None = None
        self._closed = False

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._sweep is not None:
            self._sweep.cancel()
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    async def request(self, method: str, url: str, headers: Mapping[str, str] | None = None,
                      body: bytes | Mapping[str, str] | None = None, replayable: bool | None = None) -> Response:
        """Send one request and read its answer's head; the caller reads the body and closes the answer.

        `replayable`: whether the request may be sent again when a kept-alive connection turns out to be
        dropped before a byte of the answer came (default: for GET, HEAD and OPTIONS; the fetcher's POSTs
        are queries and say so; a channel's POST is never sent twice)."""
        replayable = method in _IDEMPOTENT if replayable is None else replayable
        target = parse_url(url)
        proxy = self._proxy_for(target)
        content, wire_headers = self._request_headers(method, target, proxy, headers, body)
        key = (target.scheme, target.host, target.port, proxy)
        request_target = f"{target.scheme}://{target.authority}{target.path}" \
            if proxy is not None and target.scheme == "http" else target.path  # (a proxy is sent the whole URL)
        while True:
            connection = self._pooled(key)
            fresh = connection is None
            if connection is None:
                connection = await self._connect(target, proxy)
            try:
                head = await self._exchange(connection, method, request_target, wire_headers, content)
            except (ProtocolError, ConnectionError) as exc:
                connection.close()
                # A kept-alive connection the server had dropped: not a byte of an answer came, so a
                # replayable request is made again on a new connection (once: that one is fresh).
                if not fresh and replayable and connection.received == 0:
                    continue
                if isinstance(exc, ConnectionError):
                    raise ProtocolError(f"the connection broke: {type(exc).__name__}") from None
                raise
            except BaseException:
                connection.close()
                raise
            break
        response_headers = Headers.of(head.headers)
        if self.cookies is not None and response_headers.set_cookie:
            self.cookies.store(target.scheme, target.host, target.path, response_headers.set_cookie)
        response = Response(head.status_code, response_headers, self, key, connection)
        if method == "HEAD" or head.status_code in (204, 304):
            try:
                response._done = await self._finish(connection)
            except BaseException:
                response._discard()
                raise
        return response

    def _proxy_for(self, target: _Target) -> Proxy | None:
        if self.proxy is not None:
            return self.proxy
        if self.proxy_from_environment and (address := environment_proxy(target.scheme, target.host)):
            return Proxy.of(address)
        return None

    def _request_headers(self, method: str, target: _Target, proxy: Proxy | None,
                         headers: Mapping[str, str] | None, body: bytes | Mapping[str, str] | None,
                         ) -> tuple[bytes | None, list[tuple[str, str]]]:
        merged = self.headers.copy()
        if headers:
            merged.update({name.lower(): (name, value) for name, value in headers.items()})
        content: bytes | None = None
        if isinstance(body, Mapping):
            content = urlencode(body).encode("ascii")
            merged.setdefault("content-type", ("Content-Type", "application/x-www-form-urlencoded"))
        elif body is not None:
            content = bytes(body)
        if content is not None or method in ("POST", "PUT", "PATCH"):
            merged["content-length"] = ("Content-Length", str(len(content or b"")))
        if self.cookies is not None and (cookie := self.cookies.header_for(target.scheme, target.host, target.path)):
            merged["cookie"] = ("Cookie", cookie)
        if proxy is not None and proxy.authorization and target.scheme == "http":
            merged["proxy-authorization"] = ("Proxy-Authorization", proxy.authorization)
        return content, [("Host", target.authority), *(pair for key, pair in merged.items() if key != "host")]

    def _pooled(self, key: tuple) -> _Connection | None:
        idle = self._idle.get(key)
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        return None

    def _reusable(self, connection: _Connection) -> bool:
        protocol = connection.protocol
        if self._closed or protocol.our_state is not h11.DONE or protocol.their_state is not h11.DONE:
            return False
        try:
            protocol.start_next_cycle()
        except h11.LocalProtocolError:
            return False
        return not connection.writer.is_closing()

    def _give_back(self, key: tuple, connection: _Connection) -> None:
        connection.idle_since = time.monotonic()
        self._idle.setdefault(key, []).append(connection)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._close_idle)

    def _close_idle(self) -> None:
        """Close the connections unused for IDLE_SECONDS (a long-lived client between passes holds none)."""
        self._sweep = None
        for key, connections in list(self._idle.items()):
            kept = [c for c in connections if c.usable()]
            for connection in connections:
                if connection not in kept:
                    connection.close()
            if kept:
                self._idle[key] = kept
            else:
                del self._idle[key]
        if self._idle and not self._closed:
            self._sweep = asyncio.get_running_loop().call_later(IDLE_SECONDS, self._close_idle)

    async def _connect(self, target: _Target, proxy: Proxy | None) -> _Connection:
        """A new connection to the target (through the proxy), TLS set up, within the connect timeout."""
        host, port = (proxy.host, proxy.port) if proxy is not None else (target.host, target.port)
        tls_now = target.scheme == "https" and proxy is None
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=self.tls() if tls_now else None, server_hostname=target.host if tls_now else None,
                    ssl_handshake_timeout=self.connect_timeout if tls_now else None, limit=READ_BYTES,
                    happy_eyeballs_delay=0.25)
                connection = _Connection(reader, writer)
                if proxy is not None and target.scheme == "https":
                    try:
                        await self._tunnel(connection, target, proxy)
                        await writer.start_tls(self.tls(), server_hostname=target.host,
                                               ssl_handshake_timeout=self.connect_timeout)
                    except BaseException:
                        connection.close()
                        raise
                    connection.protocol = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
                return connection
        except TimeoutError:
            raise ConnectTimeout(f"no connection within {self.connect_timeout:g} s") from None
        except (ssl.SSLError, ssl.CertificateError) as exc:
            raise TLSFailed(f"TLS: {exc}") from None
        except OSError as exc:
            raise ConnectFailed(f"{type(exc).__name__}: {exc.strerror or exc}") from None

    async def _tunnel(self, connection: _Connection, target: _Target, proxy: Proxy) -> None:
        """CONNECT through the proxy; the connection is the target's from then on."""
        authority = f"{target.host}:{target.port}"
        headers = [("Host", authority)] + ([("Proxy-Authorization", proxy.authorization)]
                                           if proxy.authorization else [])
        connection.writer.write(connection.protocol.send(h11.Request(method="CONNECT", target=authority,
                                                                     headers=headers)))
        await connection.writer.drain()
        while True:
            event = await self._next_event(connection, self.connect_timeout)
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                if not 200 <= event.status_code < 300:
                    raise ConnectFailed(f"the proxy refused the tunnel to {authority}: HTTP {event.status_code}")
                return
            raise ConnectFailed("the proxy closed the connection")

    async def _exchange(self, connection: _Connection, method: str, request_target: str,
                        headers: list[tuple[str, str]], content: bytes | None) -> h11.Response:
        """Send the request, then read up to the answer's head (1xx answers skipped)."""
        protocol = connection.protocol
        try:
            data = protocol.send(h11.Request(method=method, target=request_target, headers=headers))
            if content:
                data += protocol.send(h11.Data(data=content))
            data += protocol.send(h11.EndOfMessage())
        except h11.LocalProtocolError as exc:  # (a header value with a line break in it, and the like)
            raise InvalidURL(f"the request cannot be sent: {exc}") from None
        connection.received = 0
        connection.writer.write(data)
        try:
            async with asyncio.timeout(self.read_timeout):
                await connection.writer.drain()
        except TimeoutError:
            raise ReadTimeout("the server did not take the request") from None
        while True:
            event = await self._next_event(connection, self.read_timeout)
            if isinstance(event, h11.Response):
                if sum(len(name) + len(value) + 4 for name, value in event.headers) > MAX_HEAD_BYTES:
                    raise ProtocolError(f"not a valid HTTP answer: headers over {MAX_HEAD_BYTES} bytes")
                return event
            if isinstance(event, h11.ConnectionClosed):
                raise ProtocolError("the server closed the connection without answering")

    async def _next_event(self, connection: _Connection, timeout: float) -> object:
        """h11's next event, reading from the socket as it needs; errors as this module's exceptions."""
        protocol = connection.protocol
        while True:
            try:
                event = protocol.next_event()
            except h11.RemoteProtocolError as exc:
                raise ProtocolError(f"not a valid HTTP answer: {exc}") from None
            if event is not h11.NEED_DATA:
                return event
            try:
                async with asyncio.timeout(timeout):
                    data = await connection.reader.read(READ_BYTES)
            except TimeoutError:
                raise ReadTimeout(f"no data for {timeout:g} s") from None
            except (ssl.SSLError, OSError) as exc:
                raise ProtocolError(f"the connection broke: {type(exc).__name__}") from None
            connection.received += len(data)
            try:
                protocol.receive_data(data)  # (b"": the server closed its side)
            except h11.RemoteProtocolError as exc:
                raise ProtocolError(f"not a valid HTTP answer: {exc}") from None

    async def _finish(self, connection: _Connection) -> bool:
        """Read a body-less answer's end (HEAD, 204, 304): whether the connection may be reused."""
        event = await self._next_event(connection, self.read_timeout)
        return isinstance(event, h11.EndOfMessage)
