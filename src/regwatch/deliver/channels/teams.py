"""Microsoft Teams Workflows webhooks: one Adaptive Card 1.4 in a `message` envelope."""

from __future__ import annotations

from typing import Any

from ... import labels
from ..escape import markdown_text, safe_url
from ..model import Message
from ._base import Channel, Outcome, http_outcome


class TeamsChannel(Channel):
    name = "teams"
    per_second = 1
    per_minute = 30
    max_bytes = 20_000  # Teams counts ~28 KB of "message properties"; the raw body stays well under

    def payload(self, message: Message) -> dict[str, Any]:
        items = message.items
        body: list[dict[str, Any]] = [{"type": "TextBlock", "text": markdown_text(self.heading(message), 100),
                                       "weight": "Bolder", "size": "Small", "isSubtle": True, "wrap": True}]
        actions: list[dict[str, Any]] = []
        if len(items) == 1:
            item = items[0]
            body.append({"type": "TextBlock", "text": markdown_text(item.title, 300), "weight": "Bolder",
                         "size": "Medium", "wrap": True})
            if item.kind not in ("health", "ops"):
                facts = [{"title": markdown_text(k, 40), "value": markdown_text(v, 200)} for k, v in self.facts(item)]
                body.append({"type": "FactSet", "facts": facts})
            if item.summary:
                body.append({"type": "TextBlock", "text": markdown_text(item.summary, 400), "wrap": True})
            if url := safe_url(item.url):
                actions.append({"type": "Action.OpenUrl", "title": labels.label("open", self.language), "url": url})
        else:
            for item in items:
                url = safe_url(item.url)
                title = markdown_text(item.title, 200)
                body.append({"type": "Container", "separator": True, "items": [
                    {"type": "TextBlock", "text": f"[{title}]({url})" if url else title, "wrap": True},
                    {"type": "TextBlock", "text": markdown_text(self.short_facts(item), 200), "isSubtle": True,
                     "size": "Small", "wrap": True}]})
        card = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                "version": "1.4", "body": body, "msteams": {"width": "Full"}}
        if actions:
            card["actions"] = actions
        return {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}

    def interpret(self, status: int, headers: Any, body: bytes, attempt: int) -> Outcome:
        outcome = http_outcome(status, headers, body, ok=(200, 202))
        return outcome or Outcome("ok", f"HTTP {status}")
