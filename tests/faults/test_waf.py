"""Block and challenge pages of the WAFs in front of Chinese government sites are `blocked`, named,
never 'layout changed' or 'nothing new'; the detectors are data a user can extend."""

from __future__ import annotations

import pytest

from .hostile import FaultInstall, HostileServer, list_page, rows

PAGES = {
    "wzws": (200, {}, "<html><script>var wzwschallenge='x';</script>请开启JavaScript并刷新该页</html>"),
    "Jiasule": (521, {"Set-Cookie": "__jsluid_h=0123456789abcdef; path=/"},
                "<html><script>document.cookie=('_')+('_jsl_clearance_s=1700000000.1|0|x');"
                "location.href=location.pathname+location.search</script></html>"),
    "Ruishu": (412, {}, "<html><head><meta http-equiv='Content-Type' content='text/html; charset=utf-8'>"
                        "<script type='text/javascript'>$_ts=window['$_ts'];if(!$_ts)$_ts={};$_ts.nsd=12345;"
                        "$_ts.cd='qxrcr';</script></head><body></body></html>"),
    "Knownsec": (403, {}, "<html><head><title>网站防火墙</title></head><body>您的访问被创宇盾拦截"
                          "<a href='https://www.yunaq.com'>知道创宇云防御</a></body></html>"),
    "SafeDog": (200, {"X-Powered-By": "WAF/2.0"},
                "<html><title>网站防火墙</title>您的请求带有不合法参数，已被网站管理员设置拦截！"
                "<a href='http://www.safedog.cn'>safedog</a></html>"),
    "Aliyun": (405, {}, "<html><body>很抱歉，由于您访问的URL有可能对网站造成安全威胁，您的访问被阻断。"
                        "<img src='https://errors.aliyun.com/images/TB15QGaHpXXXXXXaXXXXXXXXXXX-144-144.png'>"
                        "</body></html>"),
    "Tencent": (403, {}, "<html><body>当前访问疑似黑客攻击，已被网站管理员设置为拦截"
                         "<a href='https://waf.tencent-cloud.com'>腾讯云Web应用防火墙</a></body></html>"),
    "Cloudflare": (503, {"cf-mitigated": "challenge"},
                   "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>"
                   "<script src='/cdn-cgi/challenge-platform/h/b/orchestrate/jsch/v1'></script></body></html>"),
}


@pytest.mark.parametrize("waf", sorted(PAGES))
def test_each_waf_page_is_blocked_and_named(fault_install: FaultInstall, hostile: HostileServer, waf: str) -> None:
    status, headers, body = PAGES[waf]
    hostile.routes["/list.html"] = lambda req: req.send(status, body, headers)
    fault_install.html_source()
    result = fault_install.cli("poll")
    assert result.exit_code == 1
    poll = fault_install.last_poll()
    assert poll["state"] == "blocked" and waf in poll["error"], poll["error"]
    assert fault_install.titles() == set()


def test_a_list_that_mentions_a_waf_vendor_is_still_a_list(fault_install: FaultInstall,
                                                           hostile: HostileServer) -> None:
    titles = [("知道创宇等12家企业入选网络安全技术应用试点示范项目（safedog 安全狗）", "/n/1.html", "2026-11-30"),
              *rows("戊", 40)]  # a full page: bigger than any block page
    hostile.routes["/list.html"] = lambda req: req.send(200, list_page(titles) + "<!--" + "说明" * 20000 + "-->")
    fault_install.html_source()
    assert fault_install.cli("poll").exit_code == 0
    assert len(fault_install.titles()) == 41


def test_a_new_waf_is_an_edit_of_the_watchlist_folder(fault_install: FaultInstall, hostile: HostileServer) -> None:
    hostile.routes["/list.html"] = lambda req: req.send(200, "<html>NewShield 正在验证您的浏览器</html>")
    fault_install.html_source()
    (fault_install.root / "watchlists" / "_blockpages.toml").write_text(
        '[[waf]]\nname = "NewShield challenge"\nmarkers = ["NewShield 正在验证"]\n', encoding="utf-8")
    fault_install.cli("poll")
    poll = fault_install.last_poll()
    assert poll["state"] == "blocked" and "NewShield challenge" in poll["error"]


def test_a_bad_blockpage_file_is_a_config_error(fault_install: FaultInstall, hostile: HostileServer) -> None:
    fault_install.html_source()
    (fault_install.root / "watchlists" / "_blockpages.toml").write_text('[[waf]]\nname = "x"\n', encoding="utf-8")
    result = fault_install.cli("check-config")
    assert result.exit_code == 2 and "_blockpages.toml: waf[0]" in result.stderr




def test_a_short_list_page_with_waf_words_is_still_a_list(fault_install: FaultInstall, hostile: HostileServer) -> None:
    """A page that yields its rows is the list, however small, whatever its scripts say (the markers
    are only looked for when a page yields nothing)."""
    titles = [("知道创宇、安全狗（safedog）等企业入选试点示范项目", "/n/1.html", "2026-11-30"), *rows("己", 2)]
    page = list_page(titles).replace("</body>", "<script>document.cookie='v=1'</script></body>")
    assert len(page) < 30_000 and "document.cookie" in page
    hostile.routes["/list.html"] = lambda req: req.send(200, page)
    fault_install.html_source()
    assert fault_install.cli("poll").exit_code == 0
    assert fault_install.last_poll()["state"] == "ok" and len(fault_install.titles()) == 3


def test_a_json_api_answered_by_a_challenge_page_is_blocked_and_named(fault_install: FaultInstall,
                                                                      hostile: HostileServer) -> None:
    """The parser fails on the HTML it got instead of JSON: the poll says which WAF, not 'parser error'."""
    status, headers, body = PAGES["wzws"]
    hostile.routes["/api/list"] = lambda req: req.send(status, body, headers)
    fault_install.configure(f'agency = "TEST"\n[[source]]\nid = "test-api"\nurl = "{hostile.base}/api/list"\n'
                            '[source.parser]\nkind = "json"\nitems = "rows"\ntitle = "title"\n'
                            '[source.detail]\nenabled = false\n')
    assert fault_install.cli("poll").exit_code == 1
    poll = fault_install.last_poll()
    assert poll["state"] == "blocked" and "wzws" in poll["error"], poll["error"]
