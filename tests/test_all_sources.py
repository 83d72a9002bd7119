"""Every shipped source, polled through the replay site of full-size pages: every notice and its details."""

from __future__ import annotations

import json

from .conftest import FIXTURES, SHIPPED_WATCHLISTS, Install

SITE = FIXTURES / "site"
EXPECTED = json.loads((FIXTURES / "built" / "expected.json").read_text(encoding="utf-8"))
SOURCES = sorted({e["source"] for e in EXPECTED})


def stored(install: Install) -> dict[str, dict]:
    with install.db() as conn:
        rows = conn.execute(
            "SELECT n.*, (SELECT count(*) FROM attachments a WHERE a.notice_id = n.id) AS attachments FROM notices n")
        return {r["url"]: dict(r) for r in rows}


def test_every_shipped_source_has_fixtures() -> None:
    shipped = set()
    for path in SHIPPED_WATCHLISTS.glob("*.toml"):
        shipped |= {line.split('"')[1] for line in path.read_text(encoding="utf-8").splitlines()
                    if line.startswith("id = ")}
    assert shipped == set(SOURCES)
    assert len(shipped) == 18


def test_poll_of_all_sources_stores_every_notice_with_its_details(site_install: Install) -> None:
    result = site_install.cli("poll")
    assert result.exit_code == 0, result.output
    assert f"detail pages: {len(EXPECTED)} read, 0 to retry, 0 given up" in result.stdout
    notices = stored(site_install)
    assert set(notices) == {e["url"] for e in EXPECTED}  # nothing missing, nothing extra (off-site rows skipped)
    mismatches = []
    for e in EXPECTED:
        n = notices[e["url"]]
        got = {"source": n["source_id"], "title": n["title"], "published": n["published"],
               "published_at": n["published_at"], "issuer": n["issuer"], "doc_number": n["doc_number"],
               "deadline": n["deadline"], "attachments": n["attachments"]}
        want = {k: e[k] for k in got}
        if got != want:
            mismatches.append((e["title"], {k: (want[k], got[k]) for k in got if got[k] != want[k]}))
    assert mismatches == []
    assert all(n["detail_state"] == "done" and n["body"] for n in notices.values())
    # the document numbers and deadlines are really there to check, not all None
    assert sum(1 for e in EXPECTED if e["doc_number"]) >= 60
    assert sum(1 for e in EXPECTED if e["deadline"]) >= 50
    sources = {s["id"]: s for s in site_install.cli_json("sources")["sources"]}
    assert {s["state"] for s in sources.values()} == {"ok"}


def test_titles_are_full_not_truncated(site_install: Install) -> None:
    assert site_install.cli("poll").exit_code == 0
    titles = [n["title"] for n in stored(site_install).values()]
    assert not [t for t in titles if t.endswith("...")]
    assert max(len(t) for t in titles) > 38  # PBC cuts link text at 38 characters; titles come from the attribute


def test_jpaas_discovers_the_unit_from_the_column_page(site_install: Install) -> None:
    assert site_install.cli("poll", "--source", "samr-drafts").exit_code == 0
    paths = [r.path for r in site_install.replay.log]
    assert paths[0] == "www.samr.gov.cn/hd/zjdc/index.html"
    api = [r for r in site_install.replay.log if r.path.endswith("/front/page/build/unit")]
    assert api and api[0].status == 200
    assert api[0].headers.get("Referer") == "https://www.samr.gov.cn/hd/zjdc/index.html"
