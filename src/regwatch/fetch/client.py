"""Polite, bounded HTTP for polling: conditional GET, per-host limits, body cap, Retry-After.

One `Fetcher` serves a whole poll pass. Each host gets a gate: at most `per_host_concurrency`
requests in flight and `per_host_delay` seconds between request starts, and a `Retry-After`
from that host holds the gate shut until the time it names.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import time
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import IO, Literal
from urllib.parse import urljoin, urlsplit

from ..config import FetchConfig
from ..tls import client_tls
from . import _http
from ._sites import site_of
from .decode import decode_body

ErrorKind = Literal["timeout", "network", "tls", "too_large", "redirects", "redirect_refused", "bad_url",
                    "deferred"]
_REDIRECTS = {301, 302, 303, 307, 308}


@dataclass
class FetchResult:
    """What one request gave. `status` is None when no HTTP response arrived (see `error`)."""

    url: str
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""
    text: str = ""
    encoding: str = ""
    error: str | None = None
    error_kind: ErrorKind | None = None
    retry_after: float | None = None  # seconds the server asked us to wait (capped at fetch.retry_after_cap)
    decode_errors: int = 0  # bytes that were not valid in the charset the page declared (replaced)

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")


class _BodyTooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Body:
    """Where a response body goes: memory (file None) or a file, and at most how many bytes."""

    limit: int
    file: IO[bytes] | None = None


class _RedirectRefused(Exception):
    pass


def _is_private(host: str) -> bool:
    """Loopback, private, link-local and other non-public literal addresses (names are judged by site)."""
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return not address.is_global


class _HostGate:
    """Concurrency and pacing for one host (the connections themselves are the client's pool)."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.slots = asyncio.Semaphore(concurrency)
        self.delay = delay
        self.next_start = 0.0
        self.held_until = 0.0  # monotonic time until which the host asked (Retry-After) to be left alone
        self.lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        async with self.lock:
            wait = self.next_start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_start = max(self.next_start, time.monotonic()) + self.delay

    def hold_until(self, moment: float) -> None:
        self.next_start = max(self.next_start, moment)
        self.held_until = max(self.held_until, moment)

    def held_for(self) -> float:
        """Seconds this host asked (Retry-After) to be left alone from now."""
        return max(0.0, self.held_until - time.monotonic())


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now (it may be a number of seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class _TooManyRedirects(Exception):
    pass


class _UnsupportedEncoding(Exception):
    pass


class Fetcher:
    """Async HTTP client for one poll pass; use as `async with Fetcher(config) as f`.

    The transport is `_http` (HTTP/1.1 on h11: one keep-alive pool and cookie jar for the pass).
    Everything the poll relies on is done here, not left to it: redirects are followed by hand within
    the source's site, bodies are read raw and inflated under the size cap, and a whole request has a
    deadline.
    """

    def __init__(self, config: FetchConfig) -> None:
        self.config = config
        self._gates: dict[str, _HostGate] = {}
        self._slots = asyncio.Semaphore(config.concurrency)
        self._client = _http.Client(
            client_tls, connect_timeout=config.timeout, read_timeout=config.timeout,
            proxy=config.proxy,  # the config's, not the environment's
            cookies=True,  # a site's cookies (some WAFs set one)
            headers={
                "User-Agent": config.user_agent,
                "Accept": "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8",
                "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.6",
                "Accept-Encoding": "gzip, deflate",  # inflated in _read_capped, within the size cap
            })

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._client.aclose()

    def wire_url(self, url: str) -> str:
        """The address actually requested: `url`, or its rewrite onto `fetch.rewrite_to`."""
        if not self.config.rewrite_to:
            return url
        parts = urlsplit(url)
        query = f"?{parts.query}" if parts.query else ""
        return f"{self.config.rewrite_to.rstrip('/')}/{parts.netloc}{parts.path or '/'}{query}"

    def _gate(self, url: str) -> _HostGate:
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._gates:
            self._gates[host] = _HostGate(self.config.per_host_concurrency, self.config.per_host_delay)
        return self._gates[host]

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        data: Mapping[str, str] | bytes | None = None,
        redirect_hosts: Collection[str] = (),
        save_to: IO[bytes] | None = None,
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch `url`; never raises for network trouble, never sleeps long.

        With `save_to` the body is written to that file as it arrives (a download: `content` stays
        empty and nothing is decoded), up to `max_bytes` (default fetch.max_body_bytes).

        A short `Retry-After` (≤ max_retry_after) is waited out and the request made once more; a
        longer one (capped at retry_after_cap) is reported in `retry_after`, and the host's other
        requests in this fetcher's life are deferred until then without being sent. Redirects are
        followed only within the URL's own site (or to `redirect_hosts`).
        """
        request_headers = dict(headers or {})
        if etag:
            request_headers["If-None-Match"] = etag
        if last_modified:
            request_headers["If-Modified-Since"] = last_modified
        gate = self._gate(url)
        if (held := gate.held_for()) > self.config.max_retry_after:
            return self._deferred(url, held)
        body = _Body(max_bytes or self.config.max_body_bytes, save_to)
        result = await self._request(gate, url, method, request_headers, data, redirect_hosts, body)
        if result.retry_after is not None:
            result.retry_after = min(result.retry_after, self.config.retry_after_cap)
            gate.hold_until(time.monotonic() + result.retry_after)
            if result.retry_after <= self.config.max_retry_after:
                if save_to is not None:
                    save_to.seek(0)
                    save_to.truncate()
                result = await self._request(gate, url, method, request_headers, data, redirect_hosts, body)
                if result.retry_after is not None:
                    result.retry_after = min(result.retry_after, self.config.retry_after_cap)
                    gate.hold_until(time.monotonic() + result.retry_after)
        return result

    def _deferred(self, url: str, seconds: float) -> FetchResult:
        host = urlsplit(url).hostname or url
        return FetchResult(url=url, error_kind="deferred", retry_after=seconds,
                           error=f"not requested: {host} asked (Retry-After) to be left alone for {seconds:.0f} s more")

    async def _request(
        self, gate: _HostGate, url: str, method: str, headers: dict[str, str], data: Mapping[str, str] | bytes | None,
        redirect_hosts: Collection[str], body: _Body,
    ) -> FetchResult:
        # Wait for the host's turn holding only the host's slot: a host that asked us to slow down
        # must not hold one of the global slots the other hosts need.
        async with gate.slots:
            await gate.wait_turn()
            async with self._slots:
                try:
                    async with asyncio.timeout(self.config.deadline):
                        return await self._send(url, method, headers, data, redirect_hosts, body)
                except TimeoutError:
                    return FetchResult(url=url, error_kind="timeout",
                                       error=f"no complete answer within {self.config.deadline:g} s "
                                             "(fetch.deadline): the server sends too slowly")

    async def _send(
        self, url: str, method: str, headers: dict[str, str], data: Mapping[str, str] | bytes | None,
        redirect_hosts: Collection[str], sink: _Body,
    ) -> FetchResult:
        result = FetchResult(url=url)
        try:
            current, hops = url, 0
            while True:
                wire = self.wire_url(current)
                response = await self._client.request(method, wire, headers=headers, body=data,
                                                      replayable=True)  # (a list query: reads only)
                try:
                    location = response.headers.get("location")
                    if response.status in _REDIRECTS and location:
                        hops += 1
                        if hops > self.config.max_redirects:
                            raise _TooManyRedirects
                        current = self._follow(current, wire, location, url, redirect_hosts)
                        if response.status == 303 or (response.status in (301, 302) and method == "POST"):
                            method, data = "GET", None
                        continue
                    result.url = current
                    result.status = response.status
                    result.headers = response.headers
                    if response.status in (429, 503):
                        result.retry_after = parse_retry_after(response.headers.get("retry-after"))
                    result.content = await self._read_capped(response, sink)
                    break
                finally:
                    response.close()
        except _BodyTooLarge:
            result.error_kind = "too_large"
            what = "fetch.max_body_bytes" if sink.file is None else "the size cap"
            result.error = f"response larger than {what} ({sink.limit} bytes)"
            result.content = b""
            return result
        except _RedirectRefused as exc:
            result.error_kind = "redirect_refused"
            result.error = str(exc)
            return result
        except _TooManyRedirects:
            result.error_kind = "redirects"
            result.error = f"more than {self.config.max_redirects} redirects"
            return result
        except (_http.ConnectTimeout, _http.ReadTimeout) as exc:  # connect or read: no byte for fetch.timeout s
            result.error_kind = "timeout"
            result.error = f"timed out ({exc})" + (" while reading the body" if result.status else "")
            return result
        except _http.InvalidURL as exc:
            result.error_kind = "bad_url"
            result.error = f"invalid URL: {exc}"
            return result
        except (_http.HTTPError, zlib.error, _UnsupportedEncoding) as exc:
            text = str(exc).replace(self.config.proxy, "<fetch.proxy>") if self.config.proxy else str(exc)
            result.error_kind = "tls" if isinstance(exc, _http.TLSFailed) else "network"
            where = " while reading the body (cut off?)" if result.status else ""
            result.error = (f"{type(exc).__name__}: {text}" if text else type(exc).__name__) + where
            return result
        if result.content and result.status != 304 and sink.file is None:
            decoded = decode_body(result.content, result.headers.get("content-type", ""))
            result.text, result.encoding, result.decode_errors = decoded.text, decoded.codec, decoded.bad_bytes
        return result

    def _follow(self, current: str, wire: str, location: str, origin: str, redirect_hosts: Collection[str]) -> str:
        """The logical URL a redirect leads to, if it stays on the origin's site (or an allowed host)."""
        target = urljoin(wire, location)
        if self.config.rewrite_to and target.startswith(self.config.rewrite_to.rstrip("/") + "/"):
            rest = target[len(self.config.rewrite_to.rstrip("/")) + 1:]  # back from the replay server's address
            target = f"{urlsplit(current).scheme}://{rest}"
        parts = urlsplit(target)
        host = (parts.hostname or "").lower()
        allowed = {h.lower() for h in redirect_hosts}
        if parts.scheme not in ("http", "https") or not host:
            raise _RedirectRefused(f"refused a redirect to {target[:200]}: not an http(s) address")
        if site_of(host) != site_of(urlsplit(origin).hostname or "") and host not in allowed:
            raise _RedirectRefused(f"refused a redirect to {target[:200]}: another site than "
                                   f"{urlsplit(origin).hostname} (allow it with redirect_hosts in the watchlist)")
        if _is_private(host) and not _is_private(urlsplit(origin).hostname or "") and \
                not self.config.allow_private_redirects:
            raise _RedirectRefused(f"refused a redirect to {target[:200]}: a private or loopback address")
        return target

    async def _read_capped(self, response: _http.Response, sink: _Body) -> bytes:
        """The body, decompressed as it arrives, never holding more than the cap (a gzip bomb stops at
        the cap instead of filling memory); written to `sink.file` as it comes when there is one."""
        limit = sink.limit
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _BodyTooLarge
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        inflater = _inflater(encoding)
        chunks, size, wire = [], 0, 0
        async for raw in response.chunks():
            wire += len(raw)
            if wire > limit:
                raise _BodyTooLarge
            if inflater is None:
                size += len(raw)
                if size > limit:
                    raise _BodyTooLarge
                chunks.append(raw)
            else:
                pending = raw
                while pending:  # at most limit + 1 bytes out per call: a bomb never expands past the cap
                    piece = inflater.decompress(pending, limit + 1 - size)
                    size += len(piece)
                    if size > limit:
                        raise _BodyTooLarge
                    chunks.append(piece)
                    if not piece and inflater.unconsumed_tail == pending:
                        break
                    pending = inflater.unconsumed_tail
            if sink.file is not None:  # a download: to disk as it arrives, never all in memory
                sink.file.writelines(chunks)
                chunks.clear()
        if inflater is not None:
            tail = inflater.flush()
            if size + len(tail) > limit:
                raise _BodyTooLarge
            chunks.append(tail)
        if sink.file is not None:
            sink.file.writelines(chunks)
            return b""
        return b"".join(chunks)


def _inflater(encoding: str) -> zlib._Decompress | None:
    """A decompressor for a Content-Encoding we asked for (gzip, deflate), None for identity."""
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        return zlib.decompressobj(zlib.MAX_WBITS | 32)  # zlib or gzip header, auto-detected
    raise _UnsupportedEncoding(f"unsupported Content-Encoding {encoding!r}")
