"""Generic JSON webhooks signed per Standard Webhooks v1 (webhook-id / -timestamp / -signature).

Body (schema "regwatch/1"): {"type": "notice.created" | "notice.updated" | "notice.reminder" |
"notice.withdrawn" | "source.health" | "regwatch.ops" | "regwatch.test", "timestamp": RFC 3339 of the
event, "schema": "regwatch/1", "data": {"notices": [...]}} — see the README. `webhook-id` is the message
key: the same on every retry of the same message, so receivers can drop repeats.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from ..model import Message
from ._base import Channel, Outcome, encode, http_outcome

TYPES = {"new": "notice.created", "edited": "notice.updated", "reminder": "notice.reminder",
         "withdrawn": "notice.withdrawn", "health": "source.health", "ops": "regwatch.ops", "sample": "regwatch.test"}


def standard_webhooks_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` + base64(HMAC-SHA256(key=base64decode(secret without whsec_), "{id}.{timestamp}.{body}"))."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(Channel):
    name = "webhook"
    per_second = 10
    per_minute = 600
    max_bytes = 20_000

    def payload(self, message: Message) -> dict[str, Any]:
        first = message.items[0]
        when = first.published_at or datetime.now(UTC).isoformat(timespec="seconds")
        return {"type": TYPES.get(message.kind, "notice.created"), "timestamp": when, "schema": "regwatch/1",
                "data": {"notices": [item.as_json() for item in message.items]}}

    def request(self, payload: dict[str, Any], message: Message, now: float) -> tuple[str, dict[str, str], bytes]:
        body = encode(payload)
        timestamp = int(now)
        headers = {"Content-Type": "application/json", "webhook-id": message.key, "webhook-timestamp": str(timestamp)}
        if self.sub.secret:
            headers["webhook-signature"] = standard_webhooks_signature(self.sub.secret, message.key, timestamp, body)
            if self.sub.github_signature:
                headers["X-Hub-Signature-256"] = github_signature(self.sub.secret, body)
        return self.sub.url, headers, body

    def interpret(self, status: int, headers: Any, body: bytes, attempt: int) -> Outcome:
        if 200 <= status < 300:
            return Outcome("ok", f"HTTP {status}")
        if status == 410:
            return Outcome("permanent", "HTTP 410: the receiver asked for no more deliveries")
        if 300 <= status < 400:
            return Outcome("retry", f"HTTP {status}: redirects are not followed")
        return http_outcome(status, headers, body) or Outcome("retry", f"HTTP {status}")
