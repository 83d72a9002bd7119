"""Render a digest as text and HTML (Jinja2, autoescaped) and wrap both in one email message."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from functools import cache
from typing import Any

from .. import labels
from ..config import SubscriptionConfig
from ..deliver.escape import safe_url
from ..deliver.model import AlertItem
from ..labels import word
from .build import Digest

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]


@cache
def _environment() -> Any:
    import jinja2  # only when a digest is rendered: the service stays smaller until then

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("regwatch.digest", "templates"), autoescape=True,
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
    return f"{word('title', lang)} {period_text(digest)}: {digest.count} {_notices(digest, lang)}{tail}"


def _notices(digest: Digest, lang: str) -> str:
    return word("notice" if digest.count == 1 else "notices", lang)


def _date_of(item: AlertItem) -> str:
    return (item.published_at or item.published or "")[:16].replace("T", " ")


def render(digest: Digest, kind: str, unsubscribe: str = "") -> str:
    """`kind` is "html" (Jinja2, autoescaped) or "text"."""
    if kind == "text":
        return render_text(digest, unsubscribe)
    lang = digest.language
    template = _environment().get_template("digest.html.j2")
    safe_digest = _with_safe_urls(digest)
    return template.render(
        digest=safe_digest, lang=lang, subject=subject(digest), period=period_text(digest),
        w=lambda key, **kw: word(key, lang, **kw), agency_name=lambda code: labels.agency(code, lang),
        category_name=lambda name: labels.category(name, lang), tag_name=lambda t: labels.tag(t, lang),
        date_of=_date_of, unsubscribe=_first_web_or_mail(unsubscribe), review_label=labels.label("review", lang),
        lines_of=lambda item: headline_and_subline(item, lang), summaries_of=lambda item: summaries(item, lang),
        follows_label=labels.label("follows", lang),
    )


def summaries(item: AlertItem, language: str) -> list[str]:
    """The summary lines an item shows: the model's English first in English-first digests, beside the
    Chinese excerpt in bilingual ones, none of it in Chinese-only ones."""
    if language == "en":
        return [item.summary_en or item.summary] if (item.summary_en or item.summary) else []
    if language == "both":
        return [s for s in (item.summary, item.summary_en) if s]
    return [item.summary] if item.summary else []


def headline_and_subline(item: AlertItem, language: str) -> tuple[str, str]:
    """An item's bold line and the line under it: English-first digests lead with the English gloss and
    keep the Chinese title under it, as the seeds' items do; bilingual ones add the gloss under the title."""
    if language == "en" and item.title_en:
        return item.title_en, item.title
    if language == "both" and item.title_en:
        return item.title, item.title_en
    return item.title, ""


def render_text(digest: Digest, unsubscribe: str = "") -> str:
    """The plain-text part: the same bulletin, readable in any mail client."""
    lang = digest.language
    w = lambda key, **kw: word(key, lang, **kw)  # noqa: E731
    lines = [f"{w('title')} — {period_text(digest)}", f"{digest.count} {_notices(digest, lang)}", ""]
    if digest.count == 0:
        lines += [w("nothing_new"), ""]
    groups = [("drafts_open", digest.drafts_open), ("new_rules", digest.new_rules), ("enforcement", digest.enforcement)]
    if any(group for _, group in groups):
        lines += [f"== {w('highlights')} ==", ""]
        for key, group in groups:
            if group:
                lines.append(f"{w(key)}:")
                for item in group[:10]:
                    due = f" ({w('deadline')} {item.deadline})" if key == "drafts_open" and item.deadline else ""
                    lines.append(f"  * {item.title}{due}")
                lines.append("")
    for number, (category, items) in enumerate(digest.sections, start=1):
        heading = f"{ROMAN[number - 1]}. {labels.category(category, lang)}"
        lines += [heading, "=" * 40, ""]
        for item in items:
            facts = [labels.agency(item.agency, lang), _date_of(item)]
            if item.review:
                facts.append(labels.label("review", lang))
            if item.doc_number:
                facts.append(f"{w('doc_number')} {item.doc_number}")
            if item.deadline:
                facts.append(f"{w('deadline')} {item.deadline}")
            if item.attachments:
                facts.append(item.attachments_line())
            headline, subline = headline_and_subline(item, lang)
            lines += [f"* {headline}", *([f"  {subline}"] if subline else []), f"  {' · '.join(f for f in facts if f)}"]
            if item.tags:
                lines.append(f"  {w('tags')}: {', '.join(labels.tag(t, lang) for t in item.tags)}")
            lines += [f"  {summary}" for summary in summaries(item, lang)]
            if item.follows:
                lines.append(f"  {labels.label('follows', lang)}: {item.follows.line(lang)}")
            if item.url:
                lines.append(f"  {item.url}")
            lines.append("")
    lines += [w("health"), "-" * 40]
    if digest.unhealthy:
        lines.append(w("unhealthy_intro"))
        for s in digest.unhealthy:
            detail = f"{s.state}" + (f", {s.bad_polls} {w('bad_polls')}" if s.bad_polls else "")
            detail += (f"; {w('now')}: {s.current}" if s.current else "") + (f" — {s.error}" if s.error else "")
            lines.append(f"  ! {labels.agency(s.agency, lang)} · {s.name} ({s.id}): {detail}")
    else:
        lines.append(w("all_healthy", n=digest.sources_total))
    lines += ["", "--", w("footer")]
    if lang != "zh" and any(i.title_en for _, items in digest.sections for i in items):
        lines.append(w("gloss_note"))
    if link := _first_web_or_mail(unsubscribe):
        lines.append(f"{w('unsubscribe')}: {link}")
    return "\n".join(lines) + "\n"


def _with_safe_urls(digest: Digest) -> Digest:
    """Links only to http(s) addresses (a javascript: URL from a hostile page becomes no link)."""
    def fix(items: list[AlertItem]) -> list[AlertItem]:
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


def test_message(sub: SubscriptionConfig, sender: str, to: list[str]) -> EmailMessage:
    """What `regwatch notify test` sends to an email subscription: proof that mail gets through, not a bulletin."""
    message = EmailMessage()
    message["Subject"] = f"regwatch 测试邮件 / test message — {sub.name}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Date"] = format_datetime(datetime.now(UTC))
    domain = parseaddr(sender)[1].rpartition("@")[2] or "regwatch.localhost"
    message["Message-ID"] = make_msgid(idstring=f"test.{sub.name}", domain=domain)
    message.set_content(
        f"这是 regwatch 的测试邮件：订阅 {sub.name} 的周报将按计划（{sub.schedule}，{sub.timezone}）发送到这个地址。\n"
        f"This is a test message from regwatch: the digest of subscription {sub.name} will be sent to this "
        f"address on its schedule ({sub.schedule}, {sub.timezone}).\n", cte="quoted-printable")
    return message
