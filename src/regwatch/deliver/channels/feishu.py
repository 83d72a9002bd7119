"""Feishu / Lark custom bot: rich-text `post` (literal text nodes), signature in the JSON body."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from ..escape import markdown_text, one_line, safe_url
from ..model import Message
from ._base import Channel, Outcome, encode, http_outcome, json_body


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")) — the reverse of DingTalk's."""
    return base64.b64encode(hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()


class FeishuChannel(Channel):
    name = "feishu"
    per_second = 1  # the platform allows 5/s and 100/min; bursts at :00 and :30 get throttled
    per_minute = 60
    max_bytes = 19_000  # 20 KB with the signature fields

    def payload(self, message: Message) -> dict[str, Any]:
        items = message.items
        paragraphs: list[list[dict[str, Any]]] = []
        for item in items:
            title = markdown_text(item.title, 300 if len(items) == 1 else 200)
            url = safe_url(item.url)
            paragraphs.append([{"tag": "a", "text": title, "href": url} if url else {"tag": "text", "text": title}])
            if item.kind in ("health", "ops"):
                continue
            if len(items) == 1:
                paragraphs += [[{"tag": "text", "text": f"{k}：{markdown_text(v, 200)}"}] for k, v in self.facts(item)]
                if item.summary:
                    paragraphs.append([{"tag": "text", "text": markdown_text(item.summary, 400)}])
            else:
                paragraphs.append([{"tag": "text", "text": markdown_text(self.short_facts(item), 200)}])
        locale = "en_us" if self.language == "en" else "zh_cn"
        post = {locale: {"title": one_line(markdown_text(self.heading(message), 100), 100), "content": paragraphs}}
        return {"msg_type": "post", "content": {"post": post}}

    def request(self, payload: dict[str, Any], message: Message, now: float) -> tuple[str, dict[str, str], bytes]:
        if self.sub.secret:
            timestamp = int(now)
            payload = {"timestamp": str(timestamp), "sign": feishu_sign(self.sub.secret, timestamp), **payload}
        return self.sub.url, {"Content-Type": "application/json; charset=utf-8"}, encode(payload)

    def interpret(self, status: int, headers: Any, body: bytes, attempt: int) -> Outcome:
        outcome = http_outcome(status, headers, body)
        if outcome is not None:
            return outcome
        data = json_body(body)
        if data is None:
            return Outcome("ambiguous", "HTTP 200 without JSON")
        code = int(data.get("code", data.get("StatusCode", -1)))
        detail = f"code {code}: {str(data.get('msg', ''))[:120]}"
        if code == 0:
            return Outcome("ok", "code 0")
        if code in (11232, 99991400):
            return Outcome("retry", detail, 10.0)
        if code == 19021 and attempt <= 1:
            return Outcome("retry", detail, 1.0)  # timestamp window: re-sign once
        return Outcome("permanent", detail)
