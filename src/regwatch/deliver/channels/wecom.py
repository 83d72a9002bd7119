"""WeCom group robot: markdown (≤ 4,096 bytes of content), no signature (the key is the secret)."""

from __future__ import annotations

from typing import Any

from ..escape import markdown_text, safe_url
from ..model import Message
from ._base import Channel, Outcome, errcode_of, http_outcome

CONTENT_BYTES = 4096


class WeComChannel(Channel):
    name = "wecom"
    per_second = 5
    per_minute = 20
    max_bytes = CONTENT_BYTES - 96  # of markdown.content: the platform's limit is on that field

    def size(self, payload: dict[str, Any]) -> int:
        return len(payload["markdown"]["content"].encode("utf-8"))

    def payload(self, message: Message) -> dict[str, Any]:
        items = message.items
        lines = [f"**{markdown_text(self.heading(message), 60)}**"]
        for item in items:
            title = markdown_text(item.title, 300 if len(items) == 1 else 150)
            url = safe_url(item.url)
            lines.append(f"[{title}]({url})" if url else title)
            if item.kind in ("health", "ops"):
                continue
            if len(items) == 1:
                lines += [f'> <font color="comment">{markdown_text(k, 40)}</font>：{markdown_text(v, 200)}'
                          for k, v in self.facts(item)]
                if item.summary:
                    lines.append(markdown_text(item.summary, 300))
            else:
                lines.append(f'<font color="comment">{markdown_text(self.short_facts(item), 160)}</font>')
        return {"msgtype": "markdown", "markdown": {"content": "\n".join(lines)}}

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
        if code in (45009, -1):
            return Outcome("retry", detail, 60.0)
        return Outcome("permanent", detail)
