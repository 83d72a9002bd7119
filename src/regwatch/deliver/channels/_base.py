"""What every channel does: build a payload within its byte budget, sign a request, read the answer."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ... import labels
from ...config import SubscriptionConfig
from ..model import AlertItem, Message

Result = Literal["ok", "retry", "permanent", "ambiguous"]


@dataclass(frozen=True)
class Outcome:
    result: Result
    detail: str  # for logs and `regwatch outbox`: never holds the URL or a secret
    retry_after: float | None = None


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Channel:
    """One platform. Subclasses set the class attributes and implement `payload` and `interpret`."""

    name: ClassVar[str]
    per_second: ClassVar[int]
    per_minute: ClassVar[int]
    max_bytes: ClassVar[int]  # of the encoded payload (or of the part the platform limits)
    max_items: ClassVar[int] = 40
    content_type: ClassVar[str] = "application/json"

    def __init__(self, subscription: SubscriptionConfig) -> None:
        self.sub = subscription
        self.language = subscription.language

    # -- building ----------------------------------------------------------------------------------
    def payload(self, message: Message) -> dict[str, Any]:
        raise NotImplementedError

    def size(self, payload: dict[str, Any]) -> int:
        return len(encode(payload))

    def fits(self, message: Message) -> bool:
        return len(message.items) <= self.max_items and self.size(self.payload(message)) <= self.max_bytes

    # -- sending -----------------------------------------------------------------------------------
    def request(self, payload: dict[str, Any], message: Message, now: float) -> tuple[str, dict[str, str], bytes]:
        """URL, headers and body of one attempt (signed now: every retry is signed afresh)."""
        return self.sub.url, {"Content-Type": f"{self.content_type}; charset=utf-8"}, encode(payload)

    def interpret(self, status: int, headers: Any, body: bytes, attempt: int) -> Outcome:
        raise NotImplementedError

    # -- shared wording ----------------------------------------------------------------------------
    def heading(self, message: Message) -> str:
        items = message.items
        if message.kind in ("health", "ops"):
            return labels.label("ops", self.language)
        if len(items) == 1:
            if items[0].kind == "new" and items[0].follows and items[0].follows.relation == "final":
                return labels.label("final", self.language)
            own = ("edited", "sample", "reminder", "withdrawn")  # the kinds with a heading of their own
            return labels.label(items[0].kind if items[0].kind in own else "new", self.language)
        return f"{len(items)} {labels.label('batch', self.language)}"

    def facts(self, item: AlertItem) -> list[tuple[str, str]]:
        """(label, value) pairs a notice message shows, in order; values are raw (escape per format)."""
        lang = self.language
        category = labels.category(item.category, lang)
        if item.review:
            category += f" ({labels.label('review', lang)})"
        pairs = [(labels.label(item.kind, lang), item.note)] if item.note else []
        pairs += [(labels.label("title_en", lang), item.title_en)] if item.title_en and lang != "zh" else []
        pairs += [(labels.label("agency", lang), labels.agency(item.agency, lang)),
                  (labels.label("category", lang), category)]
        if item.tags:
            pairs.append((labels.label("tags", lang), ", ".join(labels.tag(t, lang) for t in item.tags)))
        if item.published_at or item.published:
            pairs.append((labels.label("published", lang), (item.published_at or item.published or "")[:16]
                          .replace("T", " ")))
        if item.doc_number:
            pairs.append((labels.label("doc_number", lang), item.doc_number))
        if item.deadline:
            pairs.append((labels.label("deadline", lang), item.deadline))
        if item.changes:
            pairs.append((labels.label("changes", lang), item.changes))
        if item.follows:
            pairs.append((labels.label("follows", lang), item.follows.line(lang)))
        if item.attachments:
            pairs.append((labels.label("attachments", lang), item.attachments_line()))
        return pairs

    def short_facts(self, item: AlertItem) -> str:
        """One line for a batch entry: agency · category · date [· 文号] [· deadline]."""
        lang = self.language
        parts = [item.note] if item.note else []
        parts += [labels.agency(item.agency, lang), labels.category(item.category, lang), (item.published or "")]
        if item.doc_number:
            parts.append(item.doc_number)
        if item.deadline:
            parts.append(f"{labels.label('deadline', lang)} {item.deadline}")
        return " · ".join(p for p in parts if p)


def json_body(body: bytes) -> dict[str, Any] | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def errcode_of(body: bytes) -> tuple[int, str] | None:
    """DingTalk's and WeCom's `{"errcode": n, "errmsg": "…"}` (HTTP 200 either way) → (code, detail)."""
    data = json_body(body)
    if data is None or "errcode" not in data:
        return None
    return int(data["errcode"]), f"errcode {data['errcode']}: {str(data.get('errmsg', ''))[:120]}"


def http_outcome(status: int, headers: Any, body: bytes, ok: tuple[int, ...] = (200,)) -> Outcome | None:
    """The common reading of HTTP status codes; None means 'look at the body'."""
    from ...fetch import parse_retry_after

    if status in ok:
        return None
    if status == 429 or status >= 500:
        return Outcome("retry", f"HTTP {status}", parse_retry_after(headers.get("retry-after")))
    return Outcome("permanent", f"HTTP {status}: {body[:200].decode('utf-8', 'replace')}")
