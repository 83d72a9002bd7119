"""A site that says 'come back tomorrow' must not stop the others; a redirect must not carry a poll off-site."""

from __future__ import annotations

import asyncio
import json

from regwatch.config import FetchConfig
from regwatch.fetch import Fetcher

from .hostile import HTML_SOURCE, FaultInstall, HostileServer, Request, list_page, rows


def test_a_long_retry_after_defers_the_source_and_is_capped(fault_install: FaultInstall,
                                                            hostile: HostileServer) -> None:
    hostile.routes["/list.html"] = lambda req: req.send(429, "<html>slow down</html>", {"Retry-After": "86400"})
    fault_install.html_source()
    result = fault_install.cli("poll")
    assert result.exit_code == 1 and "blocked" in result.stdout
    assert hostile.count("/list.html") == 1  # asked once, not waited out
    state = fault_install.source_state()
    assert state["deferred_until"] and state["next_poll_at"] == state["deferred_until"]
    status = json.loads(fault_install.cli("status", "--json").stdout)
    (source,) = status["sources"]
    assert source["deferred_until"] == state["deferred_until"]
    from datetime import UTC, datetime, timedelta
    until = datetime.fromisoformat(state["deferred_until"])
    assert timedelta(minutes=59) < until - datetime.now(UTC) <= timedelta(hours=1)  # capped at retry_after_cap
    assert "deferred until" in fault_install.cli("status").stdout
    assert "no source is due" in fault_install.cli("poll").stdout  # put off: not polled before then


def test_an_http_date_in_2099_is_capped_too(fault_install: FaultInstall, hostile: HostileServer) -> None:
    hostile.routes["/list.html"] = lambda req: req.send(503, "busy", {"Retry-After": "Thu, 01 Jan 2099 00:00:00 GMT"})
    fault_install.html_source(fetch="retry_after_cap = 2400\n")  # 40 minutes, past the 30-minute interval
    fault_install.cli("poll")
    from datetime import UTC, datetime, timedelta
    until = datetime.fromisoformat(fault_install.source_state()["deferred_until"])
    assert timedelta(minutes=39) < until - datetime.now(UTC) <= timedelta(minutes=40)


def test_a_host_that_asks_for_a_pause_holds_no_slot_the_others_need(hostile: HostileServer) -> None:
    """One global slot; host A answers 429 Retry-After 2 (waited out); host B must not wait behind it."""
    finished: list[str] = []
    hostile.routes["/a.html"] = lambda req: (req.send(200, "<p>a</p>") if hostile.count("/a.html") > 1
                                             else req.send(429, "wait", {"Retry-After": "2"}))
    hostile.routes["/b.html"] = lambda req: req.send(200, "<p>b</p>")

    async def go() -> None:
        config = FetchConfig(concurrency=1, per_host_delay=0, max_retry_after=5)
        async with Fetcher(config) as fetcher:
            async def one(url: str, name: str) -> None:
                result = await fetcher.get(url)
                assert result.status == 200
                finished.append(name)

            first = asyncio.create_task(one(f"http://127.0.0.1:{hostile.port}/a.html", "a"))
            await asyncio.sleep(0.3)  # A has had its 429 and is waiting its turn
            await asyncio.gather(first, one(f"http://localhost:{hostile.port}/b.html", "b"))

    asyncio.run(go())
    assert finished == ["b", "a"]


def test_redirects_stay_on_the_site(fault_install: FaultInstall, hostile: HostileServer) -> None:
    page = list_page(rows("乙", 3))
    hostile.routes["/old.html"] = lambda req: req.send(301, "", {"Location": "/list.html"})
    hostile.routes["/list.html"] = lambda req: req.send(200, page)
    fault_install.html_source("/old.html")
    assert fault_install.cli("poll").exit_code == 0 and len(fault_install.titles()) == 3


def test_a_redirect_to_another_site_is_refused_and_named(fault_install: FaultInstall, hostile: HostileServer) -> None:
    target = f"http://localhost:{hostile.port}/list.html"  # another host: a look-alike page elsewhere
    hostile.routes["/list.html"] = lambda req: req.send(302, "", {"Location": target})
    fault_install.html_source()
    result = fault_install.cli("poll")
    assert result.exit_code == 1
    poll = fault_install.last_poll()
    assert poll["state"] == "misconfigured" and f"refused a redirect to {target}" in poll["error"]
    assert hostile.count("/list.html") == 1 and fault_install.titles() == set()


def test_a_watchlist_can_allow_a_redirect_host(fault_install: FaultInstall, hostile: HostileServer) -> None:
    page = list_page(rows("丙", 2))

    def route(req: Request) -> None:
        if req.headers.get("Host", "").startswith("localhost"):
            req.send(200, page)
        else:
            req.send(302, "", {"Location": f"http://localhost:{hostile.port}/list.html"})

    hostile.routes["/list.html"] = route
    watchlist = HTML_SOURCE.format(id="test-list", url=hostile.base + "/list.html", backfill=1).replace(
        'backfill_pages = 1', 'backfill_pages = 1\nredirect_hosts = ["localhost"]')
    fault_install.configure(watchlist, fetch="allow_private_redirects = true\n")
    assert fault_install.cli("poll").exit_code == 0 and len(fault_install.titles()) == 2


def test_a_redirect_to_a_private_address_is_refused_unless_allowed(fault_install: FaultInstall,
                                                                  hostile: HostileServer) -> None:
    """A public site (reached through rewrite_to, as the replay server is) redirecting into a private network."""
    watchlist = HTML_SOURCE.format(id="test-list", url="http://www.example.gov.cn/list.html", backfill=1).replace(
        'backfill_pages = 1', 'backfill_pages = 1\nredirect_hosts = ["10.0.0.1"]')
    hostile.routes["/www.example.gov.cn/list.html"] = lambda req: req.send(
        302, "", {"Location": "http://10.0.0.1/intranet.html"})
    fault_install.configure(watchlist, fetch=f'rewrite_to = "{hostile.base}"\n')
    result = fault_install.cli("poll")
    assert result.exit_code == 1
    poll = fault_install.last_poll()
    assert poll["state"] == "misconfigured"
    assert "refused a redirect to http://10.0.0.1/intranet.html: a private or loopback address" in poll["error"]
