"""The detail stage: fetch each new notice's own page and read its fields.

Runs after a poll's lists are stored, so a detail page that fails never costs the notice: it is
already stored from its list, and its page is retried later with backoff. Only pages on the same
host as the source's list are fetched (a repost on another site is not ours to crawl).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass

from .config import Config
from .fetch import Fetcher
from .health import assess_response
from .parse import Page
from .parse.detail import extract_detail
from .parse.html_list import host_of
from .store.classification import Classify
from .store.details import PendingDetail, pending_details, record_detail, record_detail_failure, skip_detail
from .watchlist import Source

log = logging.getLogger(__name__)


@dataclass
class DetailReport:
    done: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


async def fetch_details(
    config: Config, fetcher: Fetcher, conn: sqlite3.Connection, sources: list[Source], classify: Classify
) -> DetailReport:
    """Fetch the due detail pages of these sources, at most `detail.max_per_poll` of them."""
    by_id = {s.id: s for s in sources}
    todo = pending_details(conn, list(by_id), config.detail.max_per_poll)
    report = DetailReport()
    await asyncio.gather(*(_one(config, fetcher, conn, by_id[item.source_id], item, report, classify)
                           for item in todo))
    return report


async def _one(config: Config, fetcher: Fetcher, conn: sqlite3.Connection, source: Source,
               item: PendingDetail, report: DetailReport, classify: Classify) -> None:
    if host_of(item.url) not in {host_of(source.url), host_of(source.page_url)}:
        skip_detail(conn, item.notice_id, "detail page on another host")
        report.skipped += 1
        return
    result = await fetcher.get(item.url, headers={**dict(source.headers), "Referer": source.page_url})
    verdict = assess_response(result)
    error = verdict[1] if verdict else None
    if error is None:
        try:
            detail = extract_detail(Page(url=item.url, text=result.text), source.detail, item.title)
        except Exception as exc:  # a hostile page must not stop the others
            log.exception("detail %s: extraction failed", item.url)
            detail, error = None, f"extraction failed: {exc!r}"
        if detail is not None and not detail.found:
            error = "no body found on the detail page (selectors out of date?)"
        elif detail is not None:
            wanted = config.attachments
            record_detail(conn, item.notice_id, detail,
                          classify(item.title, detail.body, item.source_id, item.agency),
                          read_new=wanted.enabled, read_baseline=wanted.enabled and wanted.baseline)
            report.done += 1
            return
    state = record_detail_failure(conn, item, error or "unknown error", config.detail.max_attempts,
                                  config.detail.retry_minutes)
    if state == "failed":
        report.failed += 1
        log.warning("detail %s: giving up after %d attempts: %s", item.url, item.attempts + 1, error)
    else:
        report.retrying += 1
        log.info("detail %s: %s (will retry)", item.url, error)
