"""The fetch layer against a real server on 127.0.0.1: politeness, limits, Retry-After, conditional GET."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path

import pytest

from regwatch.config import FetchConfig
from regwatch.fetch import Fetcher, parse_retry_after
from regwatch.replay import ReplayServer, ScriptedResponse


def fetch_all(config: FetchConfig, urls: list[str], **kwargs) -> list:
    async def go():
        async with Fetcher(config) as fetcher:
            return await asyncio.gather(*(fetcher.get(u, **kwargs) for u in urls))

    return asyncio.run(go())


def test_per_host_delay_spaces_request_starts(replay: ReplayServer) -> None:
    replay.set_page("a.example/p.html", "<p>a</p>")
    config = FetchConfig(rewrite_to=replay.base_url, per_host_delay=0.2, per_host_concurrency=4)
    results = fetch_all(config, ["http://a.example/p.html"] * 4)
    assert [r.status for r in results] == [200] * 4
    starts = [r.arrived for r in replay.log]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # starts are 0.2 s apart on the client; arrival adds a little jitter (a new connection's set-up)
    assert len(gaps) == 3 and min(gaps) >= 0.1 and starts[-1] - starts[0] >= 0.55


def test_per_host_concurrency_is_bounded(replay: ReplayServer) -> None:
    replay.latency = 0.2
    replay.set_page("a.example/p.html", "<p>a</p>")
    config = FetchConfig(rewrite_to=replay.base_url, per_host_delay=0, per_host_concurrency=2, concurrency=10)
    results = fetch_all(config, ["http://a.example/p.html"] * 6)
    assert all(r.status == 200 for r in results)
    arrivals = sorted(r.arrived for r in replay.log)
    # two at a time: requests arrive in pairs, each pair one server latency after the last
    assert arrivals[2] - arrivals[0] >= 0.18 and arrivals[4] - arrivals[2] >= 0.18
    assert arrivals[1] - arrivals[0] < 0.15


def test_retry_after_is_honoured(replay: ReplayServer) -> None:
    replay.set_page("a.example/p.html", "<p>ok</p>")
    replay.respond("a.example/p.html", ScriptedResponse(status=429, headers={"Retry-After": "1"}))
    config = FetchConfig(rewrite_to=replay.base_url, per_host_delay=0)
    started = time.monotonic()
    (result,) = fetch_all(config, ["http://a.example/p.html"])
    assert result.status == 200 and "ok" in result.text
    assert time.monotonic() - started >= 1.0
    assert [r.status for r in replay.log] == [429, 200]


def test_long_retry_after_is_reported_not_waited(replay: ReplayServer) -> None:
    replay.respond("a.example/p.html", ScriptedResponse(status=503, headers={"Retry-After": "3600"}))
    (result,) = fetch_all(FetchConfig(rewrite_to=replay.base_url, max_retry_after=5), ["http://a.example/p.html"])
    assert result.status == 503 and result.retry_after == 3600


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("soon") is None


def test_body_size_is_capped(replay: ReplayServer) -> None:
    replay.set_page("a.example/big.html", "<p>" + "x" * 200_000 + "</p>")
    (result,) = fetch_all(FetchConfig(rewrite_to=replay.base_url, max_body_bytes=100_000), ["http://a.example/big.html"])
    assert result.error_kind == "too_large" and result.content == b""


def test_redirects_are_bounded(replay: ReplayServer) -> None:
    for i in range(4):
        replay.respond(f"a.example/r{i}", ScriptedResponse(status=302, headers={"Location": f"/a.example/r{i + 1}"},
                                                           times=None))
    (result,) = fetch_all(FetchConfig(rewrite_to=replay.base_url, max_redirects=2), ["http://a.example/r0"])
    assert result.error_kind == "redirects"


def test_timeout_is_an_error_not_a_hang(replay: ReplayServer) -> None:
    replay.respond("a.example/slow", ScriptedResponse(delay=2.0))
    (result,) = fetch_all(FetchConfig(rewrite_to=replay.base_url, timeout=0.3), ["http://a.example/slow"])
    assert result.status is None and result.error_kind == "timeout"


def test_conditional_get_and_user_agent(replay: ReplayServer) -> None:
    replay.set_page("a.example/p.html", "<p>a</p>")
    config = FetchConfig(rewrite_to=replay.base_url, user_agent="regwatch-test/1 (+mailto:ops@example.org)")
    (first,) = fetch_all(config, ["http://a.example/p.html"])
    (second,) = fetch_all(config, ["http://a.example/p.html"], etag=first.etag)
    (third,) = fetch_all(config, ["http://a.example/p.html"], last_modified=first.last_modified)
    assert (first.status, second.status, third.status) == (200, 304, 304)
    assert second.content == b"" and second.text == ""
    assert replay.log[1].headers["If-None-Match"] == first.etag
    assert replay.log[2].headers["If-Modified-Since"] == first.last_modified
    assert {r.headers["User-Agent"] for r in replay.log} == {"regwatch-test/1 (+mailto:ops@example.org)"}


def test_dead_endpoint_is_unreachable_not_an_exception() -> None:
    config = FetchConfig(rewrite_to="http://127.0.0.1:9", timeout=2)  # discard port: nothing listens
    (result,) = fetch_all(config, ["http://a.example/p.html"])
    assert result.status is None and result.error_kind == "network"


def test_https_trusts_the_system_store_and_falls_back_to_certifi_without_one(monkeypatch, tmp_path) -> None:
    """A host with a CA store: a verifying context on it. A container without one: certifi's bundle, so
    HTTPS still verifies instead of failing every request."""
    import ssl

    import certifi

    from regwatch import tls

    tls.client_tls.cache_clear()
    store = ssl.get_default_verify_paths()
    if not (store.cafile and Path(store.cafile).is_file()):
        pytest.skip("this machine has no system CA file")
    system = tls.client_tls()
    assert system.verify_mode == ssl.CERT_REQUIRED and system.check_hostname
    assert system.cert_store_stats() == ssl.create_default_context().cert_store_stats()
    missing = str(tmp_path / "none")
    monkeypatch.setattr(ssl, "get_default_verify_paths",
                        lambda: ssl.DefaultVerifyPaths(missing, missing, "SSL_CERT_FILE", missing, "SSL_CERT_DIR",
                                                       missing))
    tls.client_tls.cache_clear()
    try:
        context = tls.client_tls()
        assert context.cert_store_stats() == ssl.create_default_context(cafile=certifi.where()).cert_store_stats()
        assert context.cert_store_stats()["x509_ca"] > 100
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    finally:
        tls.client_tls.cache_clear()
