"""The HTTP/1.1 client under the fetcher and the channels (`fetch._http`), against small servers on
127.0.0.1 that write raw answers: keep-alive and a dropped kept-alive connection, broken framing,
oversized heads, an HTTP proxy (forwarding and CONNECT, with credentials) in front of a TLS site,
the environment's proxy for the channels, and cookies."""

from __future__ import annotations

import asyncio
import base64
import gzip
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from regwatch.config import FetchConfig
from regwatch.deliver import http as deliver_http
from regwatch.fetch import Fetcher, _http
from regwatch.fetch._cookies import CookieJar

Answer = Callable[["Exchange"], Awaitable[bool]]  # writes the answer; False: close the connection


@dataclass
class Exchange:
    request_line: str
    headers: dict[str, str]
    body: bytes
    writer: asyncio.StreamWriter
    connection: int  # which connection (1, 2, …) this request came on
    number: int  # its place on that connection (1, 2, …)

    async def answer(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bool:
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in {"Content-Length": str(len(body)),
                                                                      **(headers or {})}.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await self.writer.drain()
        return True


@dataclass
class RawServer:
    """An HTTP/1.1 server on 127.0.0.1 whose answers a test writes byte by byte."""

    answer: Answer
    seen: list[Exchange] = field(default_factory=list)
    connections: int = 0
    ended: int = 0  # connections over (either side closed)
    server: asyncio.Server | None = None

    async def start(self, tls: ssl.SSLContext | None = None) -> RawServer:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=tls)
        return self

    @property
    def port(self) -> int:
        assert self.server is not None
        return self.server.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        connection, number = self.connections, 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                number += 1
                request_line, *lines = head.decode("latin-1").split("\r\n")[:-2]
                headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                exchange = Exchange(request_line, headers, body, writer, connection, number)
                self.seen.append(exchange)
                if not await self.answer(exchange):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.ended += 1
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()


def config(**kwargs) -> FetchConfig:
    return FetchConfig(per_host_delay=0, timeout=5, allow_private_redirects=True, **kwargs)


async def fetch(fetcher: Fetcher, url: str):
    return await fetcher.get(url)


def test_requests_to_one_site_share_a_kept_alive_connection() -> None:
    async def go():
        server = await RawServer(lambda ex: ex.answer(200, b"<p>ok</p>")).start()
        async with Fetcher(config()) as fetcher:
            results = [await fetcher.get(f"http://127.0.0.1:{server.port}/{i}.html") for i in range(5)]
        await server.stop()
        return server, results

    server, results = asyncio.run(go())
    assert [r.status for r in results] == [200] * 5 and results[0].text == "<p>ok</p>"
    assert server.connections == 1 and [ex.number for ex in server.seen] == [1, 2, 3, 4, 5]


def test_an_unused_kept_alive_connection_is_closed_after_a_while(monkeypatch) -> None:
    """A long-lived fetcher (the service's) does not hold a socket open per site between passes."""
    monkeypatch.setattr(_http, "IDLE_SECONDS", 0.3)

    async def go():
        server = await RawServer(lambda ex: ex.answer(200, b"ok")).start()
        async with Fetcher(config()) as fetcher:
            await fetcher.get(f"http://127.0.0.1:{server.port}/a")
            await asyncio.sleep(0.1)
            still_open = server.ended
            await asyncio.sleep(0.8)
            closed = server.ended
            again = await fetcher.get(f"http://127.0.0.1:{server.port}/b")
        await server.stop()
        return still_open, closed, again.status, server.connections

    assert asyncio.run(go()) == (0, 1, 200, 2)


def test_a_kept_alive_connection_the_site_dropped_is_replaced_for_a_get_but_a_post_is_not_sent_twice() -> None:
    """A server that closes a kept-alive connection as the next request arrives (its idle timeout and
    our reuse crossing): the GET is made again on a new connection, and so is a list's POST query; the
    channel's POST is reported as possibly arrived (NoAnswer), never sent a second time by the client."""
    async def drop_second(ex: Exchange) -> bool:
        if ex.number == 2:
            return False  # closed without a byte of answer
        return await ex.answer(200, b"ok")

    async def go():
        server = await RawServer(drop_second).start()
        base = f"http://127.0.0.1:{server.port}"
        async with Fetcher(config()) as fetcher:
            first, second = await fetcher.get(f"{base}/a"), await fetcher.get(f"{base}/b")
        gets = (server.connections, [ex.request_line for ex in server.seen])
        async with Fetcher(config()) as fetcher:
            queries = [await fetcher.get(f"{base}/api", method="POST", data={"page": "1"}) for _ in range(2)]
        assert [q.status for q in queries] == [200, 200] and server.seen[-1].body == b"page=1"
        server.seen.clear()
        async with deliver_http.session(5) as client:
            await deliver_http.post(client, f"{base}/hook", {"Content-Type": "application/json"}, b"{}")
            with pytest.raises(deliver_http.NoAnswer):
                await deliver_http.post(client, f"{base}/hook", {"Content-Type": "application/json"}, b"{}")
        posts = [ex.request_line for ex in server.seen]
        await server.stop()
        return first, second, gets, posts

    first, second, (connections, lines), posts = asyncio.run(go())
    assert first.status == second.status == 200
    assert connections == 2 and lines == ["GET /a HTTP/1.1", "GET /b HTTP/1.1", "GET /b HTTP/1.1"]
    assert posts == ["POST /hook HTTP/1.1", "POST /hook HTTP/1.1"]  # the second one once, on the old connection


@pytest.mark.parametrize(("raw", "expected"), [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", "conflicting Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n", "illegal chunk header"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this", "complete message body"),
    (b"<html>not HTTP at all</html>", "not a valid HTTP answer"),
    (b"HTTP/1.1 200 OK\r\nX-Pad: " + b"x" * 70_000 + b"\r\n\r\n", "not a valid HTTP answer"),
])
def test_a_broken_answer_is_a_named_network_error(raw: bytes, expected: str) -> None:
    async def broken(ex: Exchange) -> bool:
        ex.writer.write(raw)
        await ex.writer.drain()
        return False

    async def go():
        server = await RawServer(broken).start()
        async with Fetcher(config()) as fetcher:
            result = await fetcher.get(f"http://127.0.0.1:{server.port}/list.html")
        await server.stop()
        return result

    result = asyncio.run(go())
    assert result.error_kind == "network" and expected in result.error and not result.text


def test_a_chunked_gzipped_answer_is_read_whole() -> None:
    page = ("<ul>" + "".join(f"<li>第{i}号通知</li>" for i in range(2000)) + "</ul>").encode("utf-8")
    packed = gzip.compress(page)

    async def chunked(ex: Exchange) -> bool:
        ex.writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                        b"Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n")
        for start in range(0, len(packed), 1000):
            piece = packed[start:start + 1000]
            ex.writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            await ex.writer.drain()
        ex.writer.write(b"0\r\n\r\n")
        return True

    async def go():
        server = await RawServer(chunked).start()
        async with Fetcher(config()) as fetcher:
            result = await fetcher.get(f"http://127.0.0.1:{server.port}/list.html")
            again = await fetcher.get(f"http://127.0.0.1:{server.port}/list.html")
        await server.stop()
        return result, again, server.connections

    result, again, connections = asyncio.run(go())
    assert result.status == 200 and result.text == page.decode("utf-8") and again.text == result.text
    assert connections == 1  # read to its last chunk, so kept alive


@dataclass
class Proxy:
    """An HTTP proxy on 127.0.0.1 that wants credentials: forwards absolute-form requests, tunnels CONNECT."""

    user: str = "ops"
    password: str = "s3cret-pw"
    seen: list[str] = field(default_factory=list)
    server: asyncio.Server | None = None

    async def start(self) -> Proxy:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://{self.user}:{self.password}@127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            line, *lines = head.split("\r\n")[:-2]
            headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in lines)}
            self.seen.append(line)
            wanted = "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            if headers.get("proxy-authorization") != wanted:
                writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
                return
            method, target, _ = line.split(" ")
            if method == "CONNECT":
                port = target.rsplit(":", 1)[1]
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(port))
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await writer.drain()
            else:
                rest = target.split("://", 1)[1]
                authority, _, path = rest.partition("/")
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", int(authority.rsplit(":", 1)[1]))
                up_writer.write(head.replace(f"{method} {target} ", f"{method} /{path} ", 1).encode("latin-1"))

            async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
                sink.close()

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def test_the_configured_proxy_carries_http_and_tunnels_https_with_its_credentials(monkeypatch) -> None:
    trustme = pytest.importorskip("trustme")
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost").configure_cert(server_tls)

    async def go():
        plain = await RawServer(lambda ex: ex.answer(200, b"plain page")).start()
        secure = await RawServer(lambda ex: ex.answer(200, b"secure page")).start(server_tls)
        proxy = await Proxy().start()
        trusting = ssl.create_default_context()
        authority.configure_trust(trusting)
        monkeypatch.setattr("regwatch.fetch.client.client_tls", lambda: trusting)
        async with Fetcher(config(proxy=proxy.url)) as fetcher:
            over_http = await fetcher.get(f"http://127.0.0.1:{plain.port}/list.html")
            over_https = await fetcher.get(f"https://localhost:{secure.port}/list.html")
        async with Fetcher(config(proxy=proxy.url.replace("s3cret-pw", "wrong-pw"))) as fetcher:
            refused = await fetcher.get(f"https://localhost:{secure.port}/list.html")
        for s in (plain, secure):
            await s.stop()
        return over_http, over_https, refused, proxy.seen

    over_http, over_https, refused, proxied = asyncio.run(go())  # (the proxy answers 407 without credentials)
    assert over_http.text == "plain page" and over_https.text == "secure page"
    assert proxied[0].startswith("GET http://127.0.0.1:") and proxied[1].startswith("CONNECT localhost:")
    assert refused.status is None and refused.error_kind == "network" and "407" in refused.error
    assert "wrong-pw" not in refused.error and "s3cret" not in refused.error


def test_https_to_a_site_whose_certificate_does_not_verify_is_a_tls_error() -> None:
    trustme = pytest.importorskip("trustme")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("localhost").configure_cert(server_tls)  # a CA this machine does not trust

    async def go():
        secure = await RawServer(lambda ex: ex.answer(200, b"secure page")).start(server_tls)
        async with Fetcher(config()) as fetcher:
            result = await fetcher.get(f"https://localhost:{secure.port}/list.html")
        await secure.stop()
        return result, secure.seen

    result, seen = asyncio.run(go())
    assert result.status is None and result.error_kind == "tls" and "certificate" in result.error.lower()
    assert seen == []  # nothing was asked of it


def test_the_channels_use_the_environments_proxy_unless_no_proxy_names_the_host(monkeypatch) -> None:
    async def go(no_proxy: str):
        receiver = await RawServer(lambda ex: ex.answer(200, b'{"ok":true}')).start()
        proxy = await Proxy().start()
        monkeypatch.setenv("http_proxy", proxy.url)
        monkeypatch.setenv("no_proxy", no_proxy)
        async with deliver_http.session(5) as client:
            answer = await deliver_http.post(client, f"http://127.0.0.1:{receiver.port}/hook", {}, b"{}")
        await receiver.stop()
        return answer, proxy.seen

    answer, proxied = asyncio.run(go("example.org"))
    assert answer.status == 200 and len(proxied) == 1 and proxied[0].startswith("POST http://127.0.0.1:")
    answer, proxied = asyncio.run(go("example.org, 127.0.0.1"))
    assert answer.status == 200 and proxied == []


def test_a_site_gets_its_cookie_back_and_no_other_sites() -> None:
    async def cookies(ex: Exchange) -> bool:
        return await ex.answer(200, ex.headers.get("cookie", "-").encode(), {
            "Set-Cookie": "__jsluid_h=abc123; path=/", "set-cookie": "other=1; Domain=example.org"})

    async def go():
        server = await RawServer(cookies).start()
        async with Fetcher(config()) as fetcher:
            first = await fetcher.get(f"http://127.0.0.1:{server.port}/list.html")
            second = await fetcher.get(f"http://127.0.0.1:{server.port}/list_2.html")
        async with Fetcher(config()) as fetcher:  # a new pass starts without them
            third = await fetcher.get(f"http://127.0.0.1:{server.port}/list.html")
        await server.stop()
        return first.text, second.text, third.text

    assert asyncio.run(go()) == ("-", "__jsluid_h=abc123", "-")


def test_cookie_scope() -> None:
    jar = CookieJar()
    jar.store("https", "www.miit.gov.cn", "/n/list.html", [
        "site=1; Domain=.miit.gov.cn; Path=/", "host=2", "deep=3; Path=/n/sub", "gone=4; Max-Age=0",
        "tld=5; Domain=cn", "elsewhere=6; Domain=samr.gov.cn", "safe=7; Secure", "suffix=8; Domain=gov.cn"])
    assert jar.header_for("https", "www.miit.gov.cn", "/n/sub/page.html") == "deep=3; host=2; safe=7; site=1"
    assert jar.header_for("https", "search.miit.gov.cn", "/") == "site=1"
    assert jar.header_for("http", "www.miit.gov.cn", "/n/a.html") == "host=2; site=1"
    assert jar.header_for("https", "www.samr.gov.cn", "/") == ""
    jar.store("https", "www.miit.gov.cn", "/",
              ["site=; Domain=miit.gov.cn; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT"])
    assert jar.header_for("https", "search.miit.gov.cn", "/") == ""


@pytest.mark.parametrize("url", ["ftp://example.org/x", "http:///nohost", "http://exa mple.org/",
                                 "http://example.org:99999/"])
def test_urls_that_cannot_be_requested_are_named(url: str) -> None:
    async def go():
        async with Fetcher(config()) as fetcher:
            return await fetcher.get(url)

    result = asyncio.run(go())
    assert result.status is None and result.error_kind == "bad_url"


def test_a_chinese_path_is_sent_percent_encoded() -> None:
    async def go():
        server = await RawServer(lambda ex: ex.answer(200, b"ok")).start()
        async with Fetcher(config()) as fetcher:
            await fetcher.get(f"http://127.0.0.1:{server.port}/通知/列表.html?q=数据")
        await server.stop()
        return server.seen[0].request_line

    assert asyncio.run(go()) == ("GET /%E9%80%9A%E7%9F%A5/%E5%88%97%E8%A1%A8.html?q=%E6%95%B0%E6%8D%AE HTTP/1.1")


def test_the_proxy_address_must_be_http() -> None:
    with pytest.raises(_http.InvalidURL):
        _http.Proxy.of("socks5://127.0.0.1:1080")
