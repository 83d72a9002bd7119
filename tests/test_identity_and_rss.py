"""Notice identity (canonical URLs, hashes for link-less rows) and RSS sources."""

from __future__ import annotations

from regwatch.store.identity import canonical_url, notice_identity

from .conftest import Install


def test_canonical_url_merges_variants_of_one_notice() -> None:
    variants = [
        "https://www.cac.gov.cn/2026-09/18/c_1791482017777471.htm",
        "http://WWW.CAC.GOV.CN/2026-09/18/c_1791482017777471.htm",
        "https://www.cac.gov.cn:443/2026-09/18/c_1791482017777471.htm#content",
        "https://www.cac.gov.cn/2026-09/18/c_1791482017777471.htm?utm_source=wechat&spm=a.b.c",
    ]
    assert {canonical_url(v) for v in variants} == {"https://www.cac.gov.cn/2026-09/18/c_1791482017777471.htm"}


def test_canonical_url_keeps_meaningful_query() -> None:
    a = canonical_url("https://x.gov.cn/download.jsp?fText=b&filepath=/a.pdf")
    b = canonical_url("https://x.gov.cn/download.jsp?filepath=/a.pdf&fText=b")
    c = canonical_url("https://x.gov.cn/download.jsp?filepath=/c.pdf&fText=b")
    assert a == b != c


def test_the_fast_path_for_plain_links_agrees_with_the_full_normalisation(monkeypatch) -> None:
    """Every link of the fixture site, and variants of them, get the same key with or without the fast path."""
    import json
    import re

    from regwatch.store import identity

    from .conftest import FIXTURES

    links = [e["url"] for e in json.loads((FIXTURES / "built" / "expected.json").read_text(encoding="utf-8"))]
    variants = [v for u in links for v in (u, u.replace("https://", "http://", 1), u.upper(), u + "#top",
                                            u + "?spm=1", u.replace(".gov.cn/", ".gov.cn:443/", 1), " " + u)]
    fast = [canonical_url(v) for v in variants]
    monkeypatch.setattr(identity, "_PLAIN", re.compile(r"(?!)"))  # never matches: always the full path
    assert fast == [canonical_url(v) for v in variants]


def test_rows_without_links_get_a_stable_hash() -> None:
    one = notice_identity("src", None, "关于开展专项行动的公告", "2026-09-01")
    assert one == notice_identity("src", None, "关于开展专项行动的公告", "2026-09-01")
    assert one.startswith("hash:")
    assert one != notice_identity("src", None, "关于开展专项行动的公告", "2026-09-02")
    assert one != notice_identity("other", None, "关于开展专项行动的公告", "2026-09-01")


RSS = """<?xml version="1.0" encoding="{enc}"?>
<rss version="2.0"><channel><title>通知公告</title><link>https://gov.example/</link>
{items}
</channel></rss>"""
ITEM = ("<item><title>{title}</title><link>https://gov.example/art/{n}.html</link>"
        "<pubDate>Mon, 31 Aug 2026 18:30:00 GMT</pubDate></item>")


def test_rss_source_baseline_then_new(install: Install) -> None:
    def feed(titles: list[str]) -> bytes:
        items = "".join(ITEM.format(title=t, n=i) for i, t in enumerate(titles))
        return RSS.format(enc="gb2312", items=items).encode("gb18030")

    install.replay.set_page("gov.example/rss.xml", feed(["征求意见稿一", "征求意见稿二"]), "application/rss+xml")
    install.add_watchlist("feed.toml", 'agency = "TEST"\n[[source]]\nid = "feed"\n'
                          'url = "https://gov.example/rss.xml"\n[source.parser]\nkind = "rss"\n')
    assert install.cli("poll").exit_code == 0
    install.replay.set_page("gov.example/rss.xml", feed(["征求意见稿一", "征求意见稿二", "征求意见稿三"]),
                            "application/rss+xml")
    result = install.cli("poll", "--all")
    assert result.exit_code == 0 and "1 new" in result.stdout
    notices = {n["title"]: n for n in install.cli_json("notices")["notices"]}
    assert set(notices) == {"征求意见稿一", "征求意见稿二", "征求意见稿三"}
    # 18:30 GMT on 31 August is 02:30 on 1 September in Beijing
    assert notices["征求意见稿三"]["published"] == "2026-09-01"
    assert not notices["征求意见稿三"]["baseline"]
