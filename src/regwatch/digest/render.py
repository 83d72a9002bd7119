"""Render a digest as text and HTML (Jinja2, autoescaped) and wrap both in one email message."""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache

import jinja2

from ..config import SubscriptionConfig
from ..deliver import labels
from ..deliver.escape import safe_url
from ..deliver.model import Item
from .build import Digest
from .labels import word

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


@cache
def _environment(kind: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("regwatch.digest", "templates"),
        autoescape=kind == "html", trim_blocks=kind == "text", lstrip_blocks=kind == "text",
        undefined=jinja2.StrictUndefined,
    )
    env.filters["roman"] = lambda n: ROMAN[n - 1] if 0 < n <= len(ROMAN) else str(n)
    return env


def period_text(digest: Digest) -> str:
    start, end = digest.local(digest.start), digest.local(digest.end)
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"


def subject(digest: Digest) -> str:
    lang = digest.language
    counts = ", ".join(f"{labels.category(c, 'zh' if lang != 'en' else 'en')} {len(items)}"
                       for c, items in digest.sections)
    tail = f" ({counts})" if counts else ""
    return f"{word('title', lang)} {period_text(digest)}: {digest.count} {word('notices', lang)}{tail}"


def render(digest: Digest, kind: str, unsubscribe: str = "") -> str:
    """`kind` is "html" or "text"."""
    lang = digest.language
    env = _environment(kind)
    env.filters["tag_label"] = lambda t: labels.tag(t, lang)
    template = env.get_template("digest.html.j2" if kind == "html" else "digest.txt.j2")

    def date_of(item: Item) -> str:
        return (item.published_at or item.published or "")[:16].replace("T", " ")

    safe_digest = _with_safe_urls(digest)
    return template.render(
        digest=safe_digest, lang=lang, subject=subject(digest), period=period_text(digest),
        w=lambda key, **kw: word(key, lang, **kw), agency_name=lambda code: labels.agency(code, lang),
        category_name=lambda name: labels.category(name, lang), tag_name=lambda t: labels.tag(t, lang),
        date_of=date_of, unsubscribe=_first_web_or_mail(unsubscribe),
    )


def _with_safe_urls(digest: Digest) -> Digest:
    """Links only to http(s) addresses (a javascript: URL from a hostile page becomes no link)."""
    def fix(items: list[Item]) -> list[Item]:
        return [dataclasses.replace(i, url=safe_url(i.url)) for i in items]

    return dataclasses.replace(
        digest, sections=[(c, fix(items)) for c, items in digest.sections], drafts_open=fix(digest.drafts_open),
        new_rules=fix(digest.new_rules), enforcement=fix(digest.enforcement))


def _first_web_or_mail(unsubscribe: str) -> str:
    for part in (p.strip() for p in unsubscribe.split(",")):
        if part.startswith(("https://", "mailto:")):
            return part
    return ""


def email_message(digest: Digest, sub: SubscriptionConfig, sender: str) -> EmailMessage:
    """multipart/alternative (text first, HTML last), quoted-printable so CJK survives any server."""
    message = EmailMessage()
    message["Subject"] = subject(digest)
    message["From"] = sender
    message["To"] = ", ".join(sub.to)
    message["Date"] = format_datetime(digest.end)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "regwatch.localhost"
    message["Message-ID"] = make_msgid(idstring=f"digest.{sub.name}", domain=domain)
    message["List-Id"] = f'"regwatch digest {sub.name}" <{sub.name}.digest.{domain}>'
    uris = [u.strip() for u in sub.unsubscribe.split(",") if u.strip().startswith(("https://", "mailto:"))]
    if uris:
        message["List-Unsubscribe"] = ", ".join(f"<{u}>" for u in uris)
        if any(u.startswith("https://") for u in uris):
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(render(digest, "text", sub.unsubscribe), cte="quoted-printable")
    message.add_alternative(render(digest, "html", sub.unsubscribe), subtype="html", cte="quoted-printable")
    return message
