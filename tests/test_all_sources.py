"""Every shipped source, polled through the replay site of full-size pages: every notice and its details."""

from __future__ import annotations

import json
import tomllib

from .conftest import FIXTURES, SHIPPED_WATCHLISTS, Install
from .test_digest import sections

SITE = FIXTURES / "site"
EXPECTED = json.loads((FIXTURES / "built" / "expected.json").read_text(encoding="utf-8"))
SOURCES = sorted({e["source"] for e in EXPECTED})


def stored(install: Install) -> dict[str, dict]:
    with install.db() as conn:
        rows = conn.execute(
            "SELECT n.*, (SELECT count(*) FROM attachments a WHERE a.notice_id = n.id) AS attachments FROM notices n")
        return {r["url"]: dict(r) for r in rows}


def test_every_shipped_source_has_fixtures() -> None:
    shipped, disabled = set(), set()
    for path in SHIPPED_WATCHLISTS.glob("*.toml"):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        shipped |= {s["id"] for s in data.get("source", []) if s.get("enabled", True)}
        disabled |= {s["id"] for s in data.get("source", []) if not s.get("enabled", True)}
    assert shipped == set(SOURCES)
    assert len(shipped) == 44 and disabled == {"mps-policies", "sec-press"}  # each disabled one says why in its file


def test_poll_of_all_sources_stores_every_notice_with_its_details(site_install: Install) -> None:
    result = site_install.cli("poll")
    assert result.exit_code == 0, result.output
    assert f"detail pages: {sum(e['details'] for e in EXPECTED)} read, 0 to retry, 0 given up" in result.stdout
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
    with_details = {e["url"] for e in EXPECTED if e["details"]}
    assert all(n["detail_state"] == "done" and n["body"] for u, n in notices.items() if u in with_details)
    assert all(n["detail_state"] == "skipped" for u, n in notices.items() if u not in with_details)  # feeds, JS shells
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


def test_a_week_of_every_source_fills_every_section_of_the_digest(site_install: Install, tmp_path) -> None:
    """With the other bodies watched, all five bulletin sections come from real columns, in the seeds' order,
    and foreign items in English sit in the same bulletin as Chinese ones."""
    site_install.write_config(
        '[watch]\nsets = ["core", "national", "courts", "provinces", "foreign"]\n[detail]\nmax_per_poll = 1000\n'
        '[smtp]\nhost = "127.0.0.1"\nport = 2525\nsecurity = "none"\nfrom = "digest@regwatch.example.org"\n'
        '[[subscription]]\nname = "weekly"\nchannel = "email"\nmode = "digest"\nlanguage = "both"\n'
        'to = ["legal@example.org"]\n', fetch_extra="per_host_concurrency = 4")
    assert site_install.cli("poll").exit_code == 0
    out = tmp_path / "digest.html"
    result = site_install.cli("digest", "preview", "--include-baseline", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    found = sections(out.read_text(encoding="utf-8"))
    assert list(found) == ["立法动态 / Legislation", "执法动态 / Law Enforcement", "司法案例 / Court Rulings",
                           "新闻资讯 / News Reports", "域外动态 / Foreign Trends"]
    assert all(found.values())
    courts = " ".join(found["司法案例 / Court Rulings"])
    assert "指导性案例225号：江某某正当防卫案" in courts and "检例第150号" in courts
    foreign = " ".join(found["域外动态 / Foreign Trends"])
    assert "FTC Fines DoNotPay" in foreign and "EDPB work programme 2026-2027" in foreign
    legislation = " ".join(found["立法动态 / Legislation"])
    assert "中华人民共和国能源法" in legislation and "司法部关于《商用密码管理条例（修订征求意见稿）》" in legislation
    assert "中国人民银行深圳市分行行政处罚信息公示表" in " ".join(found["执法动态 / Law Enforcement"])

