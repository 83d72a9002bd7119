"""What a message says, independent of the platform it goes to."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from .. import labels
from ..articles import Comparison, compare, legal_text
from ..classify import split_tags
from ..config import SubscriptionConfig
from ..parse.instrument import relation
from ..translate import english

# Bidi embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069), marks, zero-width
# characters and the BOM, plus C0/C1 controls other than line breaks and tabs.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad"
                        "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def visible_text(text: str) -> str:
    """`text` without the characters that change how it reads but not what it shows."""
    return _INVISIBLE.sub("", text)


def http_url(url: str) -> str | None:
    """`url` if it is an absolute http(s) URL with a host, else None."""
    text = url.strip()
    scheme, _, rest = text.partition("://")
    return text if scheme.lower() in ("http", "https") and rest and not rest.startswith("/") else None


@dataclass(frozen=True)
class Followed:
    """The earlier version a notice follows (its draft, the draft before it, the instrument it amends)."""

    relation: str  # final | redraft | amendment | draft-amendment (parse.instrument.relation)
    notice_id: int
    title: str
    url: str | None
    published: str | None
    deadline: str | None  # the draft's comment deadline
    old_text: str = field(default="", repr=False)  # the two versions' texts (legal_text), compared when asked
    new_text: str = field(default="", repr=False)

    @cached_property
    def comparison(self) -> Comparison | None:
        """Article by article; None while either text is missing. Worked out only where an alert or a
        digest shows it (a feed of a hundred notices never compares a hundred laws)."""
        return compare(self.old_text, self.new_text) if self.old_text.strip() and self.new_text.strip() else None

    def note(self, language: str) -> str:
        """What the notice is to this version, and what changed."""
        changes = self.comparison
        return labels.version_note(self.relation, self.published, self.deadline,
                                   changes.summary() if changes else "", changes.summary("zh") if changes else "",
                                   language)

    def line(self, language: str) -> str:
        """In one line: the note, and where this version is."""
        return self.note(language) + (f" — {self.url}" if self.url else "")

    def as_json(self) -> dict[str, Any]:
        changes = self.comparison
        return {"relation": self.relation, "id": self.notice_id, "title": self.title, "url": self.url,
                "published": self.published, "deadline": self.deadline,
                "changes": None if changes is None else {
                    "summary": changes.summary(), "by_article": changes.by_article,
                    **{kind: changes.count(kind) for kind in ("changed", "added", "removed", "renumbered")}}}


@dataclass(frozen=True)
class AlertItem:
    """One notice (or one operations note) inside a message."""

    kind: str  # new | edited | reminder | withdrawn | health | ops
    title: str
    title_en: str = ""  # the English of a Chinese title: the model's if one wrote it, else the glossary's gloss
    summary_en: str = ""  # a model-written English summary, checked against the notice's text ("" without one)
    url: str | None = None
    agency: str = ""
    source: str = ""
    category: str | None = None
    tags: tuple[str, ...] = ()
    doc_type: str | None = None
    status: str | None = None
    published: str | None = None
    published_at: str | None = None
    doc_number: str | None = None
    deadline: str | None = None
    issuer: str | None = None
    summary: str = ""
    notice_id: int | None = None
    review: bool = False  # the category is uncertain: a person should check it
    follows: Followed | None = None  # the earlier version of the same instrument, if any
    note: str = ""  # why a reminder or a withdrawal alert is sent ("Comments close in 3 days (on …)")
    changes: str = ""  # an edited notice: what it was before ("title was …; text: 2 paragraphs changed")
    attachments: tuple[tuple[str, int | None], ...] = ()  # each file's kind (pdf, docx …) and pages

    def attachments_line(self) -> str:
        """"2 attachments (PDF, 12 pages; DOCX)"; "" without any."""
        if not self.attachments:
            return ""
        kinds = "; ".join(kind.upper() + (f", {pages} page{'s' if pages != 1 else ''}" if pages else "")
                          for kind, pages in self.attachments)
        count = len(self.attachments)
        return f"{count} attachment{'s' if count != 1 else ''} ({kinds})"

    def __post_init__(self) -> None:
        """Regulator text is cleaned once, here, for every channel and the digest: no bidi overrides
        or invisible characters (which can make a title read as something else), and only http(s)
        links (a `data:` or `javascript:` URL never reaches a payload)."""
        for name in ("title", "title_en", "summary", "summary_en", "issuer", "doc_number", "note", "changes"):
            value = getattr(self, name)
            if value:
                object.__setattr__(self, name, visible_text(value))
        if self.url is not None:
            object.__setattr__(self, "url", http_url(self.url))
        if self.follows is not None:
            object.__setattr__(self, "follows", replace(
                self.follows, title=visible_text(self.follows.title),
                url=http_url(self.follows.url) if self.follows.url else None))

    def as_json(self) -> dict[str, Any]:
        """The item in the generic webhook body (schema "regwatch/1", documented in the README)."""
        return {"event": self.kind, "id": self.notice_id, "title": self.title, "title_en": self.title_en or None,
                "summary_en": self.summary_en or None, "url": self.url,
                "agency": self.agency, "source": self.source, "category": self.category,
                "tags": split_tags(self.tags)[0], "topics": split_tags(self.tags)[1],
                "doc_type": self.doc_type, "status": self.status, "published": self.published,
                "published_at": self.published_at, "doc_number": self.doc_number, "deadline": self.deadline,
                "issuer": self.issuer, "summary": self.summary, "review": self.review,
                "follows": self.follows.as_json() if self.follows else None,
                "attachments": [{"kind": kind, "pages": pages} for kind, pages in self.attachments],
                **({"note": self.note} if self.kind in ("reminder", "withdrawn") else {}),
                **({"changes": self.changes} if self.kind == "edited" else {})}


@dataclass
class Message:
    """One message to send: its items, its language, and the key that makes a resend recognisable."""

    items: list[AlertItem]
    language: str
    key: str
    row_ids: list[int] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return self.items[0].kind if len({i.kind for i in self.items}) == 1 else "mixed"


_SENTENCE_END = re.compile(r"(?<=[。！？；])")


def summary_of(body: str | None, limit: int = 160) -> str:
    """The first sentences of a body, up to about `limit` characters."""
    text = " ".join((body or "").split())
    if len(text) <= limit:
        return text
    out = ""
    for sentence in _SENTENCE_END.split(text):
        if len(out) + len(sentence) > limit:
            break
        out += sentence
    return out or text[: limit - 1] + "…"


def item_from_row(row: Any) -> AlertItem:
    """An outbox row joined with its notice or health event → an AlertItem."""
    if row["kind"] == "health":
        verb = "recovered" if row["health_kind"] == "recovered" else f"is {row['health_state']}"
        text = f"Source {row['health_source']} {verb}"
        if row["health_kind"] != "recovered" and row["health_message"]:
            text += f": {row['health_message']}"
        return AlertItem(kind="health", title=text, source=row["health_source"] or "", published_at=row["health_at"])
    if row["kind"] == "ops":
        return AlertItem(kind="ops", title=row["ops_text"] or "")
    if row["kind"] in ("reminder", "withdrawn"):  # the sentence saying why was written when it was queued
        return replace(notice_item(row, row["kind"], row["notice_id"]), note=visible_text(row["ops_text"] or ""))
    return notice_item(row, row["kind"], row["notice_id"])


def notice_item(row: Any, kind: str, notice_id: int, summary_chars: int = 160) -> AlertItem:
    """The one way a stored notice (a row with the notices table's columns, and the model's English as
    `written_title_en` and `summary_en`) becomes an item of an alert, a digest or a feed."""
    return AlertItem(
        kind=kind, title=row["title"], title_en=row["written_title_en"] or english(row["title"]),
        summary_en=row["summary_en"] or "", url=row["url"], agency=row["agency"], source=row["source_id"],
        category=row["category"], tags=tuple(json.loads(row["tags"] or "[]")), doc_type=row["doc_type"],
        status=row["status"], published=row["published"], published_at=row["published_at"],
        doc_number=row["doc_number"], deadline=row["deadline"], issuer=row["issuer"],
        summary=summary_of(_summary_source(row), summary_chars), notice_id=notice_id, review=bool(row["review"]),
        follows=_followed(row), attachments=_attachments(row),
        changes=_changes(row) if kind == "edited" else "",
    )


def _changes(row: Any) -> str:
    """What an edited notice was before its last edit: title, date, and how its text changed."""
    if row["previous_title"] is None:
        return ""
    parts = []
    if row["previous_title"] != row["title"]:
        parts.append(f"title was «{row['previous_title']}»")
    if row["previous_published"] and row["previous_published"] != row["published"]:
        parts.append(f"date was {row['previous_published']}")
    before, now = row["previous_body"] or "", row["body"] or ""
    if before and now and before != now:
        parts.append(f"text: {compare(before, now).summary()}")
    return "; ".join(parts)


THIN_BODY = 80  # characters: a page that only says "see the attachment"; the summary comes from the files


def _summary_source(row: Any) -> str:
    body = row["body"] or ""
    files = row["attachment_text"] or ""
    return files if len(" ".join(body.split())) < THIN_BODY and files else body


def _attachments(row: Any) -> tuple[tuple[str, int | None], ...]:
    listed = json.loads(row["attachment_list"] or "[]")
    return tuple((str(a["kind"] or "file"), a["pages"]) for a in listed)


def _followed(row: Any) -> Followed | None:
    """The earlier version from a row carrying `store.alert_rows.ALERT_COLUMNS`, compared with this one."""
    if row["follows_id"] is None:
        return None
    old = legal_text(row["follows_body"] or "", row["follows_attachment_text"] or "")
    new = legal_text(row["body"] or "", row["attachment_text"] or "")
    return Followed(relation(row["follows_status"], row["status"], row["title"]), row["follows_id"],
                    row["follows_title"], row["follows_url"], row["follows_published"], row["follows_deadline"],
                    old, new)


def wanted(sub: SubscriptionConfig, item: AlertItem, body: str = "") -> bool:
    """Whether a subscription's filters select this item (operations notes always pass)."""
    if item.kind in ("health", "ops"):
        return True
    if item.kind in ("new", "edited") and item.kind not in sub.events:
        return False
    if sub.agencies and item.agency.upper() not in {a.upper() for a in sub.agencies}:
        return False
    if sub.sources and item.source not in sub.sources:
        return False
    if sub.categories and (item.category or "").lower() not in {c.lower() for c in sub.categories}:
        return False
    if sub.tags and not set(sub.tags) & set(item.tags):
        return False
    text = f"{item.title}\n{body}".lower()
    if sub.keywords and not any(k.lower() in text for k in sub.keywords):
        return False
    return not any(k.lower() in text for k in sub.exclude_keywords)
