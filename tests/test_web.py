"""The web view the service serves with `[service] http`: pages read over real HTTP from `regwatch run`
(every watched column of the replay site polled first), parsed as HTML the way a browser would."""

from __future__ import annotations

import base64
import http.client
import signal
import socket
import sqlite3
import urllib.parse

import lxml.html
import pytest

from regwatch.store.db import open_reader

from .conftest import PBC_LIST_PATH, Install
from .smtp_server import free_port
from .test_service import wait_for

ALL_SETS = '[watch]\nsets = ["core", "national", "courts", "provinces", "foreign"]\n[detail]\nmax_per_poll = 1000\n'
HOSTILE_TITLE = '<script>alert("x")</script>关于<b>个人信息</b>保护的通知'
HOSTILE_HREF = "data:text/html,<script>alert(1)</script>"
TOKEN = "t0ken-for-the-tests-0123456789"


def fetch(port: int, path: str, method: str = "GET", headers: dict[str, str] | None = None
          ) -> tuple[int, dict[str, str], str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read().decode()
    finally:
        conn.close()


def page(port: int, path: str) -> lxml.html.HtmlElement:
    status, headers, body = fetch(port, path)
    assert status == 200, (path, status, body[:300])
    assert headers["content-type"].startswith("text/html")
    return lxml.html.fromstring(body)


def quoted(path: str, **query: str) -> str:
    return path + "?" + urllib.parse.urlencode(query)


def start(install: Install, port: int, extra: str = ""):
    install.write_config(ALL_SETS + f'[service]\nhttp = "127.0.0.1:{port}"\njitter = 0\n{extra}',
                         fetch_extra="per_host_concurrency = 4")
    proc = install.subprocess("run")
    wait_for(lambda: _listening(port))
    return proc


def _listening(port: int) -> bool:
    try:
        return fetch(port, "/healthz")[0] in (200, 401, 503)
    except OSError:
        return False


def stop(proc) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    return err


@pytest.fixture
def web(site_install: Install):
    """The service over a store holding every column's baseline and one hostile notice published after it."""
    site_install.write_config(ALL_SETS, fetch_extra="per_host_concurrency = 4")
    assert site_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    site_install.replay.add_items(PBC_LIST_PATH, 'td[height="22"]', [
        {"title": HOSTILE_TITLE, "href": HOSTILE_HREF, "date": "2026-11-30"}], date_selector="span.hui12")
    assert site_install.cli("poll", "--source", "pbc-news", "--no-deliver").exit_code == 0
    port = free_port()
    proc = start(site_install, port)
    yield site_install, port
    stop(proc)


def items(doc: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    return doc.cssselect("li.notice")


def test_the_list_pages_through_every_notice_and_its_filters_narrow_it(web) -> None:
    install, port = web
    with install.db() as conn:
        stored = conn.execute("SELECT count(*) FROM notices").fetchone()[0]
        legislation = conn.execute("SELECT count(*) FROM notices WHERE category = 'Legislation'").fetchone()[0]
    seen: list[str] = []
    path: str | None = "/"
    while path:  # "Older" to the end: every stored notice once, newest first
        doc = page(port, path)
        seen += [a.get("href") for a in doc.cssselect("li.notice a.title")]
        older = doc.cssselect('nav.pages a[rel="next"]')
        path = older[0].get("href") if older else None
    assert len(seen) == stored > 100 and len(set(seen)) == stored
    first = page(port, "/")
    assert len(items(first)) == 50 and first.cssselect('a[rel="next"]') and not first.cssselect('a[rel="prev"]')
    dates = [d.text for d in first.cssselect("li.notice .date")]
    assert dates == sorted(dates, reverse=True)
    english = [e.text_content() for e in first.cssselect("li.notice .title-en")]
    assert len(english) > 20 and any("Measures" in e or "Notice" in e for e in english)  # English beside Chinese

    narrowed: list[lxml.html.HtmlElement] = []
    path = quoted("/", category="Legislation")
    while path:
        doc = page(port, path)
        narrowed += items(doc)
        older = doc.cssselect('nav.pages a[rel="next"]')
        path = older[0].get("href") if older else None
        assert not older or "category=Legislation" in older[0].get("href")  # the filter is kept across pages
    assert len(narrowed) == legislation > 0
    assert all("Legislation" in item.cssselect(".category")[0].text_content() for item in narrowed)

    cac = items(page(port, quoted("/", agency="CAC", since="2026-01-01")))
    assert cac and all(i.cssselect(".agency")[0].text == "CAC" for i in cac)
    assert all(i.cssselect(".date")[0].text >= "2026-01-01" for i in cac)
    tagged = items(page(port, quoted("/", tag="personal-information")))
    assert tagged and all("personal-information" in i.cssselect(".facts")[0].text_content() for i in tagged)


def test_a_bad_filter_says_what_is_wrong(web) -> None:
    _, port = web
    for query, said in (({"since": "2026-13-01"}, "since: expected a date"),
                        ({"category": "Legislaton"}, "category: no category"),
                        ({"source": "cac-nothing"}, "source: no source"),
                        ({"q": "法"}, "q: one Chinese character")):
        status, _, body = fetch(port, quoted("/", **query))
        doc = lxml.html.fromstring(body)
        assert status == 400 and said in doc.cssselect(".problem")[0].text_content()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:  # raw UTF-8 in the URL, as curl sends
        raw.sendall("GET /?q=个人信息 HTTP/1.0\r\nHost: x\r\n\r\n".encode())
        answer = b"".join(iter(lambda: raw.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.0 200") and 'value="个人信息"' in answer.decode()
    assert fetch(port, "/?page=99999999999999999999999")[0] == 200  # an absurd page number is page 1
    status, _, body = fetch(port, "/notices/99999999")
    assert status == 404 and "No such notice" in body
    assert fetch(port, "/nowhere")[0] == 404


def test_search_finds_marks_and_leads_to_the_notice_in_full(web) -> None:
    install, port = web
    doc = page(port, quoted("/", q="个人信息"))
    found = items(doc)
    assert found and doc.cssselect('input[name="q"]')[0].get("value") == "个人信息"
    for item in found:  # each result shows where the words are
        marked = [m.text for m in item.cssselect(".snippet mark")]
        assert (marked and all(m == "个人信息" for m in marked)) or "个人信息" in item.cssselect("a.title")[0].text
    narrowed = items(page(port, quoted("/", q="个人信息", agency="CAC")))
    assert narrowed and len(narrowed) < len(found) and all(i.cssselect(".agency")[0].text == "CAC" for i in narrowed)

    href = found[0].cssselect("a.title")[0].get("href")
    notice_id = int(href.rsplit("/", 1)[1])
    full = page(port, href)
    with install.db() as conn:
        row = conn.execute("SELECT title, url, category FROM notices WHERE id = ?", (notice_id,)).fetchone()
    assert full.cssselect("h1")[0].text_content() == row["title"]
    assert full.cssselect("a.source-link")[0].get("href") == row["url"]
    text = full.text_content()
    assert "Why this category" in text and row["category"] in text and "Alerts" in text
    assert full.cssselect("ul.rules code")  # the rules that decided it, by name


def test_a_hostile_notice_is_shown_as_text_and_its_link_is_not_drawn(web) -> None:
    install, port = web
    with install.db() as conn:
        notice_id, url = conn.execute("SELECT id, url FROM notices WHERE title = ?", (HOSTILE_TITLE,)).fetchone()
    assert url == HOSTILE_HREF  # stored as the site gave it …
    for path in ("/", quoted("/", q="个人信息 保护"), f"/notices/{notice_id}"):
        status, headers, body = fetch(port, path)
        assert status == 200 and "<script>" not in body and "&lt;script&gt;" in body
        doc = lxml.html.fromstring(body)
        assert not doc.cssselect("script") and not doc.cssselect("b")  # … but never run as markup
        assert all(a.get("href").startswith(("/", "http://", "https://")) for a in doc.cssselect("a[href]"))
        assert "default-src 'none'" in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    full = page(port, f"/notices/{notice_id}")
    assert full.cssselect("h1")[0].text_content() == HOSTILE_TITLE and not full.cssselect("a.source-link")


def test_sources_and_deadlines_pages(web) -> None:
    install, port = web
    doc = page(port, "/sources")
    rows = doc.cssselect("table.sources tbody tr")
    assert len(rows) == len(install.cli_json("sources")["sources"]) > 40
    assert "sources healthy" in doc.cssselect("p.summary")[0].text_content()
    ids = [r.cssselect("code")[0].text for r in rows]
    assert "cac-releases" in ids and "pbc-news" in ids
    with install.db() as conn:  # a source goes bad: it is listed first, with its error
        conn.execute("UPDATE sources SET state = 'blocked', last_error = 'HTTP 403 (a WAF block page)'"
                     " WHERE id = 'miit-drafts'")
    doc = page(port, "/sources")
    first = doc.cssselect("table.sources tbody tr")[0]
    assert first.cssselect("code")[0].text == "miit-drafts" and "bad" in first.get("class")
    assert "HTTP 403" in first.cssselect(".error")[0].text_content()

    expected = install.cli_json("deadlines", "--days", "3660")["dates"]
    doc = page(port, quoted("/deadlines", days="3660"))
    listed = [(li.cssselect(".date")[0].text, li.cssselect("a.title")[0].get("href"))
              for li in doc.cssselect("ol.dates li")]
    assert listed == [(d["day"], f"/notices/{d['id']}") for d in expected] and listed


def test_nothing_can_be_written_through_it(web) -> None:
    install, port = web
    for method in ("POST", "PUT", "DELETE"):
        status, headers, _ = fetch(port, "/", method=method)
        assert status == 405 and headers["allow"] == "GET, HEAD"
    status, headers, body = fetch(port, "/", method="HEAD")
    assert status == 200 and body == "" and int(headers["content-length"]) > 1000
    reader = open_reader(install.db_path)  # the connection the pages read through
    with pytest.raises(sqlite3.OperationalError):
        reader.execute("DELETE FROM notices")
    assert reader.execute("SELECT count(*) FROM notices").fetchone()[0] > 100


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_credentials_guard_every_path_and_never_show(site_install: Install) -> None:
    port = free_port()
    proc = start(site_install, port, f'access_token = "{TOKEN}"\nuser = "lawyer"\npassword = "s3cret-pass"\n')
    try:
        for path in ("/", "/notices/1", "/feeds/all.atom", "/calendar.ics", "/metrics", "/healthz"):
            status, headers, body = fetch(port, path)
            assert status == 401 and headers["www-authenticate"].startswith("Basic")
            assert TOKEN not in body and "s3cret" not in body
        assert fetch(port, "/", headers={"Authorization": f"Bearer {TOKEN}"})[0] == 200
        assert fetch(port, quoted("/feeds/all.atom", token=TOKEN))[0] == 200  # for feed and calendar apps
        assert fetch(port, "/", headers=_basic("lawyer", "s3cret-pass"))[0] == 200
        assert fetch(port, "/", headers=_basic("lawyer", "wrong"))[0] == 401
        assert fetch(port, "/", headers={"Authorization": f"Bearer {TOKEN}x"})[0] == 401
        assert fetch(port, "/", headers={"Authorization": "Basic !!notbase64"})[0] == 401
    finally:
        err = stop(proc)
    assert TOKEN not in err and "s3cret-pass" not in err
    shown = site_install.cli("check-config")
    assert shown.exit_code == 0 and TOKEN not in shown.output and "s3cret-pass" not in shown.output


def test_an_address_beyond_loopback_needs_credentials(site_install: Install) -> None:
    site_install.write_config('[service]\nhttp = "0.0.0.0:8787"\n')
    refused = site_install.cli("check-config")
    assert refused.exit_code == 2 and "service.http" in refused.output and "access_token" in refused.output
    site_install.write_config('[service]\nhttp = "0.0.0.0:8787"\nuser = "lawyer"\n')
    assert "user and password go together" in site_install.cli("check-config").output
    site_install.write_config(f'[service]\nhttp = "192.0.2.1:8787"\naccess_token = "{TOKEN}"\n')
    assert site_install.cli("check-config").exit_code == 0


def test_a_notice_page_names_the_version_it_follows(web) -> None:
    install, port = web
    with install.db() as conn:
        notice_id, earlier, status = conn.execute(
            "SELECT n.id, n.follows, d.status FROM notices n JOIN notices d ON d.id = n.follows"
            " WHERE n.status = 'final' ORDER BY n.id LIMIT 1").fetchone()
    assert status == "draft"  # the replay site's real titles hold final texts of earlier drafts
    section = page(port, f"/notices/{notice_id}").cssselect("section.versions")[0]
    assert section.cssselect(f'a[href="/notices/{earlier}"]')
    assert "Final version of the draft published on" in section.text_content()
    back = page(port, f"/notices/{earlier}").cssselect("section.versions")[0]  # and the draft names its final
    assert back.cssselect(f'a[href="/notices/{notice_id}"]') and "Later version" in back.text_content()
