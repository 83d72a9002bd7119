"""Slack incoming webhooks: Block Kit with plain-text header and rich-text links (no mrkdwn from titles)."""

from __future__ import annotations

from typing import Any

from ..escape import one_line, safe_url, slack_text
from ..model import Message
from ._base import Channel, Outcome, http_outcome


class SlackChannel(Channel):
    name = "slack"
    per_second = 1
    per_minute = 60
    max_bytes = 12_000
    max_items = 45  # 50 blocks, with header and context

    def payload(self, message: Message) -> dict[str, Any]:
        items = message.items
        heading = self.heading(message)
        blocks: list[dict[str, Any]] = []
        if len(items) == 1:
            item = items[0]
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": one_line(item.title, 150),
                                                      "emoji": False}})
            blocks.append(self._rich(item, long=True))
            blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": slack_text(heading, 100)}]})
        else:
            blocks.append({"type": "header", "text": {"type": "plain_text", "text": one_line(heading, 150)}})
            blocks.extend(self._rich(item, long=False) for item in items)
        fallback = f"{heading}: {items[0].title}" + (f" (+{len(items) - 1})" if len(items) > 1 else "")
        return {"text": slack_text(fallback, 300), "blocks": blocks}

    def _rich(self, item: Any, long: bool) -> dict[str, Any]:
        elements: list[dict[str, Any]] = []
        url = safe_url(item.url)
        title = one_line(item.title, 300)
        elements.append({"type": "link", "url": url, "text": title, "style": {"bold": True}} if url
                        else {"type": "text", "text": title, "style": {"bold": True}})
        if item.kind in ("health", "ops"):
            return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}
        if long:
            lines = "".join(f"\n{label}: {value}" for label, value in self.facts(item))
            elements.append({"type": "text", "text": lines})
            if item.summary:
                elements.append({"type": "text", "text": "\n" + one_line(item.summary, 400)})
        else:
            elements.append({"type": "text", "text": "\n" + self.short_facts(item)})
        return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}

    def interpret(self, status: int, headers: Any, body: bytes, attempt: int) -> Outcome:
        outcome = http_outcome(status, headers, body)
        if outcome is not None:
            return outcome
        return Outcome("ok", "ok") if body.strip() == b"ok" else Outcome("ambiguous", f"HTTP 200: {body[:100]!r}")
