"""One poll pass: fetch → parse → store/diff for every due source, sources in parallel.

Each source is fetched (conditional GET on its first page), parsed by its website-family
parser, judged for health, and stored in one transaction. A source's first poll reads
`backfill_pages` pages as a silent baseline; later polls read the first page and, when it
holds nothing already known (a burst bigger than a page), older pages up to `max_catchup_pages`.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from .classify import Classifier
from .config import Config
from .details import DetailReport, fetch_details
from .fetch import Fetcher, FetchResult
from .health import GOOD_STATES, assess_parse, assess_response
from .parse import Item, Page, ParseResult, Request, SourceBroken
from .store.diff import PollSummary, SourcePoll, known_identities, record_poll
from .store.identity import notice_identity
from .store.outbox import Routing
from .watchlist import Source

log = logging.getLogger(__name__)


@dataclass
class SourceReport:
    """The outcome of polling one source, for the CLI and logs."""

    source_id: str
    state: str
    http_status: int | None
    seen: int
    new: int
    edited: int
    baseline: bool
    error: str | None

    @property
    def failed(self) -> bool:
        return self.state not in GOOD_STATES


def due_sources(conn: sqlite3.Connection, sources: list[Source], now: datetime | None = None) -> list[Source]:
    """Sources never polled, or whose next poll time has come."""
    now_text = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    next_times = dict(conn.execute("SELECT id, next_poll_at FROM sources"))
    return [s for s in sources if not next_times.get(s.id) or next_times[s.id] <= now_text]


def routing(config: Config) -> Routing:
    """Which subscriptions get an outbox row for each new event, and where health alerts go."""
    instant = tuple(s.name for s in config.subscriptions("instant") if s.channel != "email")
    return Routing(instant=instant, ops=config.ops.subscription or None)


async def poll_sources(
    config: Config, conn: sqlite3.Connection, sources: list[Source], classifier: Classifier,
    fetcher: Fetcher | None = None,
) -> tuple[list[SourceReport], DetailReport]:
    """Poll the given sources concurrently (within the fetch limits), store, then fetch detail pages.

    The daemon passes its long-lived `fetcher` so per-host limits hold across all its jobs.
    """
    if fetcher is None:
        async with Fetcher(config.fetch) as own:
            return await poll_sources(config, conn, sources, classifier, own)
    route = routing(config)
    reports = list(await asyncio.gather(*(_poll_source(config, fetcher, conn, s, classifier, route)
                                          for s in sources)))
    details = DetailReport()
    if config.detail.enabled:
        details = await fetch_details(config, fetcher, conn, sources, classifier)
    return reports, details


async def _poll_source(
    config: Config, fetcher: Fetcher, conn: sqlite3.Connection, source: Source, classifier: Classifier,
    route: Routing,
) -> SourceReport:
    started = datetime.now(UTC)
    row = conn.execute("SELECT etag, last_modified, baseline_at FROM sources WHERE id = ?", (source.id,)).fetchone()
    etag, last_modified, baseline_at = row or (None, None, None)
    poll = SourcePoll(source_id=source.id, agency=source.agency, started_at=started.isoformat(), state="ok",
                      alert_after=config.health.alert_after)
    poll.fetch_details = config.detail.enabled and source.detail.enabled and (
        baseline_at is not None or config.detail.baseline)
    try:
        if baseline_at is None:  # no baseline yet: fetch in full, whatever validators were kept
            etag = last_modified = None
        await _read_pages(config, fetcher, conn, source, poll, first_poll=baseline_at is None,
                          etag=etag, last_modified=last_modified)
    except Exception as exc:  # a parser bug or hostile page must not stop the other sources
        log.exception("source %s: parsing failed", source.id)
        poll.state, poll.error, poll.good, poll.items = "layout-changed", f"parser error: {exc!r}", False, []
    interval = source.interval_minutes or config.poll.interval_minutes
    poll.next_poll_at = (started + timedelta(minutes=interval)).isoformat(timespec="milliseconds")
    if poll.error is None and poll.state not in GOOD_STATES:
        poll.error = poll.state
    summary: PollSummary = record_poll(conn, poll, classifier.classify, route)
    if summary.health_event == "unhealthy":
        log.error("source %s is %s after %d bad polls in a row: %s", source.id, summary.state,
                  config.health.alert_after, poll.error)
    elif summary.health_event == "recovered":
        log.warning("source %s has recovered (%s)", source.id, summary.state)
    report = SourceReport(
        source_id=source.id, state=summary.state, http_status=poll.http_status, seen=summary.seen,
        new=len(summary.new_ids), edited=len(summary.edited_ids), baseline=summary.baseline, error=poll.error,
    )
    _log_report(report)
    return report


async def _read_pages(
    config: Config, fetcher: Fetcher, conn: sqlite3.Connection, source: Source, poll: SourcePoll, *,
    first_poll: bool, etag: str | None, last_modified: str | None,
) -> None:
    """Fetch and parse the first page and as many older ones as needed; fills `poll`."""
    parser = source.parser
    try:
        await parser.prepare(fetcher, source.url)
    except SourceBroken as exc:
        poll.state, poll.error, poll.good = exc.state, str(exc), False
        return
    first = parser.page_request(source.url, 1, None)
    assert first is not None
    result = await _fetch(fetcher, first, etag=etag, last_modified=last_modified)
    poll.http_status = result.status
    if result.not_modified:
        poll.state = "ok-no-new"
        return
    parsed = _parse(source, result, poll)
    if parsed is None:
        return
    poll.validators = (result.etag, result.last_modified)
    backfill = source.backfill_pages or config.poll.backfill_pages
    page_limit = backfill if first_poll else config.poll.max_catchup_pages
    while poll.pages < page_limit:
        # Catching up: go on only while a page shows nothing but new notices (a burst bigger than a page).
        if not first_poll and (not parsed.items or _page_has_known(conn, source, parsed.items)):
            break
        request = parser.page_request(source.url, poll.pages + 1, parsed)
        if request is None:
            break
        older = _parse(source, await _fetch(fetcher, request), poll, required=False)
        if older is None:
            break
        parsed = older


async def _fetch(fetcher: Fetcher, request: Request, etag: str | None = None,
                 last_modified: str | None = None) -> FetchResult:
    return await fetcher.get(request.url, method=request.method, data=request.data, headers=request.headers,
                             etag=etag, last_modified=last_modified)


def _parse(source: Source, result: FetchResult, poll: SourcePoll, required: bool = True) -> ParseResult | None:
    """Judge and parse one page; on a bad first page, set the poll's state. Returns None when unusable."""
    verdict = assess_response(result)
    parsed = None
    if verdict is None:
        parsed = source.parser.parse(Page(url=str(result.url), text=result.text,
                                          content_type=result.headers.get("content-type", "")))
        verdict = assess_parse(parsed)
    if verdict is not None:
        if required:
            poll.state, poll.error = verdict
            poll.good = False
        elif result.status == 404 or (parsed is not None and not parsed.rows_read and not parsed.problem):
            log.debug("source %s: %s is past the end of the list", source.id, result.url)
        else:
            log.warning("source %s: older page %s unusable: %s", source.id, result.url, verdict[1])
        return None
    assert parsed is not None
    poll.pages += 1
    poll.items.extend(parsed.items)
    return parsed


def _page_has_known(conn: sqlite3.Connection, source: Source, items: list[Item]) -> bool:
    identities = [notice_identity(source.id, i.url, i.title, i.published) for i in items]
    return bool(known_identities(conn, identities))


def _log_report(report: SourceReport) -> None:
    if report.failed:
        log.warning("source %s: %s (%s)", report.source_id, report.state, report.error)
    else:
        log.info("source %s: %s, %d items, %d new, %d edited%s", report.source_id, report.state, report.seen,
                 report.new, report.edited, " (baseline)" if report.baseline else "")
