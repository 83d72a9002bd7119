"""The translation pass: model-written English for new notices, within the month's budget, after their details.

Runs after a poll's detail stage (the body is known by then). A failure leaves the glossary's gloss in
place and is tried again on a later pass, at most `store.translations.MAX_ATTEMPTS` times; the API
key goes in a header only and never into a log line or a stored error.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass

import httpx

from ..config import Config
from ..store.translations import pending_translations, record_translation, tokens_this_month
from . import glossary
from .writer import PROMPT_VERSION, WriterError, messages, write

log = logging.getLogger(__name__)


@dataclass
class TranslationReport:
    written: int = 0
    ungrounded: int = 0
    failed: int = 0
    over_budget: bool = False


async def translate_pending(config: Config, conn: sqlite3.Connection) -> TranslationReport:
    """Write English for the notices that need it (nothing when no provider is configured)."""
    settings = config.translate
    report = TranslationReport()
    if not settings.provider:
        return report
    words = glossary(settings.glossary)
    async with httpx.AsyncClient(timeout=settings.timeout, follow_redirects=False) as client:
        for notice in pending_translations(conn, settings.max_per_pass):
            if tokens_this_month(conn) + settings.max_tokens > settings.monthly_token_budget:
                report.over_budget = True
                log.warning("translate: this month's token budget (%d) is spent; the glossary's glosses stand",
                            settings.monthly_token_budget)
                break
            request = messages(notice.title, notice.body, notice.issuer, words, settings.body_chars)
            source = f"{notice.title}\n{notice.issuer or ''}\n{notice.body[: settings.body_chars]}"
            try:
                written = await write(client, settings.base_url, settings.model, settings.api_key, request,
                                      settings.max_tokens, source)
            except WriterError as exc:
                error = str(exc).replace(settings.api_key, "****") if settings.api_key else str(exc)
                record_translation(conn, notice.notice_id, "retrying", None, None, settings.model, PROMPT_VERSION,
                                   error, 0)
                report.failed += 1
                log.warning("translate: notice %d: %s (the gloss stands; tried again later)", notice.notice_id, error)
                continue
            state = "done" if not written.problems else "ungrounded"
            record_translation(conn, notice.notice_id, state, written.title, written.summary, settings.model,
                               PROMPT_VERSION, "; ".join(written.problems) or None, written.tokens)
            if written.problems:
                report.ungrounded += 1
                log.warning("translate: notice %d: %s", notice.notice_id, "; ".join(written.problems))
            else:
                report.written += 1
    return report
