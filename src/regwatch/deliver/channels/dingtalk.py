"""DingTalk custom robot: markdown message, HMAC-SHA256 signature in the query (re-signed per attempt)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any
from urllib.parse import quote

from ..escape import markdown_text, safe_url
from ..model import Message
from ._base import Channel, Outcome, encode, errcode_of, http_outcome

RATE_LIMITED = {130101, 410100, 660026}
THROTTLE_SECONDS = 600.0  # DingTalk throttles a robot for 10 minutes after 20 messages a minute


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), URL-encoded once."""
    mac = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote(base64.b64encode(mac).decode(), safe="")


class DingTalkChannel(Channel):
    name = "dingtalk"
    per_second = 5
    per_minute = 20
    max_bytes = 18_000

    def payload(self, message: Message) -> dict[str, Any]:
        items = message.items
        lines = [f"#### {markdown_text(self.heading(message), 60)}", ""]
        if len(items) == 1:
            item = items[0]
            lines.append(self._link(item.title, item.url, 300))
            lines.append("")
            if item.kind not in ("health", "ops"):
                lines += [f"- {markdown_text(k, 40)}：{markdown_text(v, 200)}" for k, v in self.facts(item)]
            if item.summary:
                lines += ["", f"> {markdown_text(item.summary, 400)}"]
        else:
            for item in items:
                lines.append(f"- {self._link(item.title, item.url, 200)}  ")
                lines.append(f"  {markdown_text(self.short_facts(item), 200)}")
        title = markdown_text(items[0].title if len(items) == 1 else self.heading(message), 60)
        return {"msgtype": "markdown", "markdown": {"title": title, "text": "\n".join(lines)}}

    @staticmethod
    def _link(text: str, url: str | None, limit: int) -> str:
        label = f"**{markdown_text(text, limit)}**"
        href = safe_url(url)
        return f"[{label}]({href})" if href else label

    def request(self, payload: dict[str, Any], message: Message, now: float) -> tuple[str, dict[str, str], bytes]:
        url = self.sub.url
        if self.sub.secret:
            timestamp = int(now * 1000)
            sign = dingtalk_sign(self.sub.secret, timestamp)
            url += ("&" if "?" in url else "?") + f"timestamp={timestamp}&sign={sign}"
        return url, {"Content-Type": "application/json; charset=utf-8"}, encode(payload)

    def interpret(self, status: int, headers: Any, body: bytes, attempt: int) -> Outcome:
        outcome = http_outcome(status, headers, body)
        if outcome is not None:
            return outcome
        parsed = errcode_of(body)
        if parsed is None:
            return Outcome("ambiguous", "HTTP 200 without errcode")
        code, detail = parsed
        if code == 0:
            return Outcome("ok", "errcode 0")
        if code in RATE_LIMITED:
            return Outcome("retry", detail, THROTTLE_SECONDS)
        if code == -1:
            return Outcome("retry", detail)
        if code == 310000 and "timestamp" in detail and attempt <= 1:
            return Outcome("retry", detail, 1.0)  # clock skew: re-sign once
        return Outcome("permanent", detail)
