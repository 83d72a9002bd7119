"""`regwatch check-source ID --from-file PATH` reads a saved page of every source the way a poll would."""

from __future__ import annotations

import json
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from .conftest import REAL, SHIPPED_WATCHLISTS
from .test_all_sources import EXPECTED, SITE, SOURCES

PBC = REAL / "pbc"


def check(*args: str) -> tuple[int, dict]:
    proc = subprocess.run([sys.executable, "-m", "regwatch", "check-source", *args, "--json"],
                          capture_output=True, text=True, timeout=60,
                          env={"XDG_CONFIG_HOME": "/nonexistent", "PATH": "/usr/bin:/bin"})  # built-in defaults
    return proc.returncode, json.loads(proc.stdout) if proc.stdout.strip() else {"stderr": proc.stderr}


def list_fixture(source_id: str) -> str:
    """The saved first page of a source's list: the HTML list, or the API answer behind the column."""
    api = SITE / "_api"
    for host in api.iterdir():
        candidate = host / f"{source_id}-p1.json"
        if candidate.exists():
            return str(candidate)
    for path in SHIPPED_WATCHLISTS.glob("*.toml"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(lines):
            if line == f'id = "{source_id}"':
                url = next(x.split('"')[1] for x in lines[i:] if x.startswith("url = "))
                path = urlsplit(url).path.lstrip("/")
                return str(SITE / urlsplit(url).netloc / (path + "index.html" if path.endswith("/") else path))
    raise KeyError(source_id)


@pytest.mark.parametrize("source_id", SOURCES)
def test_check_source_reads_the_list_fixture_of_every_source(source_id: str) -> None:
    code, result = check(source_id, "--from-file", list_fixture(source_id))
    assert code == 0, result
    assert result["source"] == source_id and result["state"] == "ok"
    expected = {e["url"]: e for e in EXPECTED if e["source"] == source_id}
    found = {item["url"]: item for item in result["items"]}
    assert found and set(found) <= set(expected)
    if source_id not in ("cac-notices", "miit-drafts", "pbc-news"):  # those have a second page
        assert set(found) == set(expected)
    for url, item in found.items():
        assert item["title"] == expected[url]["title"]
        assert item["published"] == expected[url]["published"]


def test_check_source_on_the_real_pbc_pages() -> None:
    page2 = PBC / "list_goutongjiaoliu-113469_11040-2_fetched-2026-08-12.html"
    code, result = check("pbc-news", "--from-file", str(page2))
    assert code == 0 and result["state"] == "ok" and len(result["items"]) == 15
    assert all(i["url"].startswith("https://www.pbc.gov.cn/") and i["published"] for i in result["items"])
    assert not [i for i in result["items"] if i["title"].endswith("...")]
    assert result["next_page"] == "https://www.pbc.gov.cn/goutongjiaoliu/113456/113469/11040-3.html"

    detail_page = PBC / "detail_goutongjiaoliu_2020-H1-financial-statistics-report.html"
    code, detail = check("pbc-news", "--from-file", str(detail_page))
    assert code == 0 and detail["page"] == "detail"
    (item,) = detail["items"]
    assert item["published"] == "2020-07-10" and item["published_at"] == "2020-07-10T15:30:20+08:00"
    assert "广义货币(M2)余额213.49万亿元" in item["body"] and "<" not in item["body"] and "function" not in item["body"]


def test_check_source_on_trimmed_real_detail_pages() -> None:
    page = (REAL / "miit" / "detail_gzcy-yjzj_art_ebc8c235df1b4582bcbdb5b54a1d0125_trimmed.html")
    code, result = check("miit-drafts", "--from-file", str(page), "--url",
                         "https://www.miit.gov.cn/gzcy/yjzj/art/2026/art_ebc8c235df1b4582bcbdb5b54a1d0125.html")
    assert code == 0
    (item,) = result["items"]
    assert item["published_at"] == "2026-09-14T20:26:00+08:00" and item["issuer"] == "无线电管理局"
    assert item["attachments"] == [{
        "name": "《中华人民共和国无线电频率划分规定（征求意见稿）》修订部分.pdf", "type": "pdf",
        "url": "https://www.miit.gov.cn/cms_files/filemanager/1226211233/attach/20269/2d8db4c8e8a940009b16a4fd0a6d68e7.pdf"}]
    code, result = check("samr-drafts", "--from-file",
                         str(REAL / "samr" / "detail_hd-zjdc_art_68686f054fe043b6b62c21f50e230b79_trimmed.html"))
    (item,) = result["items"]
    assert item["deadline"] == "2026-09-08" and item["issuer"] == "网络交易监督管理司"
    assert [a["type"] for a in item["attachments"]] == ["wps", "wps"]
    assert item["attachments"][0]["name"] == "附件1.网络交易小程序平台合规指引（征求意见稿）.wps"


def test_check_source_reports_a_challenge_as_blocked() -> None:
    code, result = check("pbc-news", "--from-file", str(PBC / "antibot_wzws-js-challenge_homepage_circa-2018.html"))
    assert code == 1 and result["state"] == "blocked" and result["items"] == []


def test_check_source_reports_removed_markup_as_layout_changed(tmp_path) -> None:
    page = (REAL / "pbc" / "list_goutongjiaoliu-113469_index-p1_fetched-2026-08-12.html").read_text(encoding="utf-8")
    broken = tmp_path / "broken.html"
    broken.write_text(page.replace('height="22"', 'height="24"'), encoding="utf-8")
    code, result = check("pbc-news", "--from-file", str(broken))
    assert code == 1 and result["state"] == "layout-changed"
    assert "15" in result["error"]  # the 15 row markers are still there: 0 of 15 rows read


def _requests(install, since: int) -> list[tuple[str, str, str, str | None]]:
    """What the replay server was asked since entry `since` of its log: method, target, form, Referer."""
    return [(r.method, r.target, r.form, r.headers.get("Referer")) for r in install.replay.log[since:]]


@pytest.mark.parametrize("source_id", SOURCES)
def test_check_source_live_sends_exactly_the_requests_of_a_poll(site_install, source_id: str) -> None:
    """No file: check-source fetches the list as a poll does (discovery, page parameters, headers), so a
    working source (miit-documents, behind a search API that needs its parameters) is reported ok."""
    start = len(site_install.replay.log)
    checked = site_install.cli("check-source", source_id, "--json")
    assert checked.exit_code == 0, checked.output
    result = json.loads(checked.stdout)
    assert result["state"] == "ok" and result["items"], result
    check_requests = _requests(site_install, start)
    start = len(site_install.replay.log)
    site_install.config_path.write_text(site_install.config_path.read_text(encoding="utf-8").replace(
        "[detail]\nmax_per_poll = 1000", "[detail]\nenabled = false\n[poll]\nbackfill_pages = 1"), encoding="utf-8")
    assert site_install.cli("poll", "--source", source_id).exit_code == 0
    poll_requests = _requests(site_install, start)
    assert check_requests == poll_requests[:len(check_requests)] and check_requests
    titles = {i["title"] for i in result["items"]}
    with site_install.db() as conn:
        stored = {r[0] for r in conn.execute("SELECT title FROM notices WHERE source_id = ?", (source_id,))}
    assert titles <= stored  # what check-source shows is what the poll stored
