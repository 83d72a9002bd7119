"""What a hostile list page can put into a channel message: no bidi tricks, no invisible text, no
non-http(s) links, on any channel."""

from __future__ import annotations

import json

import pytest

from ..receivers import Receiver
from .hostile import FaultInstall, HostileServer, list_page, rows

SPOOF = "关于\u202e知通的\u202c网络安全\u200b检查\u2066结果\u2069的通报\ufeff"  # reads differently with the overrides
SPOOF_CLEAN = "关于知通的网络安全检查结果的通报"


@pytest.mark.parametrize("platform", ["webhook", "slack", "dingtalk", "feishu", "wecom", "teams"])
def test_channel_payloads_carry_visible_text_and_only_http_links(fault_install: FaultInstall,
                                                                hostile: HostileServer, platform: str) -> None:
    receiver = Receiver(platform).start()
    try:
        state = {"rows": rows("丁", 2)}
        hostile.routes["/list.html"] = lambda req: req.send(200, list_page(state["rows"]))
        sub = (f'[[subscription]]\nname = "team"\nchannel = "{platform}"\nurl = "{receiver.url}"\n'
               + (f'secret = "{receiver.secret}"\n' if receiver.secret else "")
               + '[delivery]\nhold_for_details_minutes = 0\n')
        fault_install.html_source(extra=sub)
        assert fault_install.cli("poll").exit_code == 0  # the baseline
        state["rows"] = [(SPOOF, "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==", "2026-11-30"),
                         ("普通通知", "javascript:alert(1)", "2026-11-30"), *state["rows"]]
        assert fault_install.cli("poll", "--all").exit_code == 0
        assert receiver.messages and not receiver.rejections
        sent = "".join(json.dumps(m.payload, ensure_ascii=False) for m in receiver.messages)
        for bad in ("\u202e", "\u202c", "\u200b", "\u2066", "\u2069", "\ufeff", "data:", "javascript:"):
            assert bad not in sent
        assert SPOOF_CLEAN in sent
    finally:
        receiver.stop()
