"""One poll pass: fetch → parse → store/diff for every due source, sources in parallel.

Each source is fetched (conditional GET on its first page), parsed by its website-family
parser, judged for health, and stored in one transaction. A source's first poll reads
`backfill_pages` pages as a silent baseline; later polls read the first page and, when it
holds nothing already known (a burst bigger than a page), older pages up to `max_catchup_pages`.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sqlite3
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from . import clock
from .attachment_files import AttachmentReport, fetch_attachments
from .baseline_classifier import Helper
from .classify import Classifier, Verdict
from .clock import iso
from .config import Config
from .detail_pages import DetailReport, fetch_details
from .fetch import Fetcher, FetchResult
from .health import GOOD_STATES, assess_parse, assess_response, blocked_instead
from .parse import Item, Page, ParseResult, Request, SourceBroken
from .store.classification import Classify
from .store.db import group_commit
from .store.diff import (
    PollSummary,
    SourcePoll,
    known_identities,
    poll_memory,
    record_poll,
    record_store_failure,
    without_baseline,
)
from .store.identity import notice_identity
from .store.outbox import Routing
from .store.versions import link_pending
from .store.views import next_poll_times
from .watchlist import Source
from .withdrawal_checks import WithdrawalReport, check_missing

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
    now_text = iso(now or clock.now())
    next_times = next_poll_times(conn)
    return [s for s in sources if (next_times.get(s.id) or "") <= now_text]


def routing(config: Config) -> Routing:
    """Which subscriptions get an outbox row for each new event, and where health alerts go."""
    instant = tuple(s.name for s in config.subscriptions("instant") if s.channel != "email")
    return Routing(instant=instant, ops=config.ops.subscription or None)


@dataclass
class PassReport:
    """What one pass did: each source's poll, then the detail pages and attachment files it read."""

    sources: list[SourceReport]
    details: DetailReport
    attachments: AttachmentReport
    withdrawals: WithdrawalReport


# A pass keeps tens of thousands of containers alive for a while (its polls, items, tasks, verdicts): at
# Python's default of a young-generation collection every 700 new ones, a 1,000-source cold pass made 45
# collections walking them (39-65 ms of its CPU, counted with gc.callbacks), every 5,000 it makes 2 (4-5 ms);
# peak RSS the same. Cyclic garbage waits a little longer to be freed; the default is back once no pass runs.
PASS_GC_YOUNG = 5000
_passes_running = 0  # passes now under PASS_GC_YOUNG (the service's overlap)
_threshold_before = gc.get_threshold()  # what the first of them found, put back by the last


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """PASS_GC_YOUNG as the young generation's threshold while any pass runs."""
    global _passes_running, _threshold_before
    if not _passes_running:
        _threshold_before = gc.get_threshold()
        gc.set_threshold(PASS_GC_YOUNG, *_threshold_before[1:])
    _passes_running += 1
    try:
        yield
    finally:
        _passes_running -= 1
        if not _passes_running:
            gc.set_threshold(*_threshold_before)


# Polls per request a host's gate admits while a baseline helper works titles out (below). Cold N=1000,
# interleaved: 1 against 2 gave 1.85 / 1.74 s and 1.76 / 1.68 s (medians of four); without a helper
# (a changed pass) 2 was slower, 1.42 / 1.50 s and 1.39 / 1.42 s: no poll waits, the extra ones only queue.
POLLS_PER_REQUEST = 2
BUILD_AFTER_SECONDS = 0.005  # the pass's first requests are on the wire by then; their answers are not back


async def poll_sources(
    config: Config, conn: sqlite3.Connection, sources: list[Source], classifier: Classifier | Callable[[], Classifier],
    fetcher: Fetcher | None = None, due: dict[str, datetime] | None = None, helper: Helper | None = None,
    close_helper: bool = False,
) -> PassReport:
    """Poll the given sources concurrently (within the fetch limits), store, then fetch detail pages
    and the attachments they list.

    The daemon passes its long-lived `fetcher` so per-host limits hold across all its jobs, and `due`:
    when the scheduler fired each source's poll (its poll started then, and its next one is due an
    interval after), and the baseline `helper` it keeps across passes (else a pass over many new sources
    starts one of its own; `close_helper`: the given one is this pass's, ended once its polls are done,
    as one it started would be). A one-off pass passes a function that builds the `classifier`: it is built
    while the first requests wait for their answers (~0.1 s of the pass otherwise spent before any) —
    or, when the pass has a helper process whose classifier loaded the same rules, only if this process
    ends up classifying anything itself — and a bad rules file still stops the pass before anything is
    stored.
    """
    if fetcher is None:
        async with Fetcher(config.fetch) as own:
            return await poll_sources(config, conn, sources, classifier, own, due, helper, close_helper)
    with _fewer_collections():
        return await _poll_pass(config, conn, sources, classifier, fetcher, due, helper, close_helper)


async def _poll_pass(
    config: Config, conn: sqlite3.Connection, sources: list[Source], classifier: Classifier | Callable[[], Classifier],
    fetcher: Fetcher, due: dict[str, datetime] | None, helper: Helper | None, close_helper: bool,
) -> PassReport:
    route = routing(config)
    own_helper = helper is None or close_helper
    if helper is None:
        helper = await Helper.start(config, without_baseline(conn, [s.id for s in sources]) if len(sources) > 1
                                    else 0)
    built: asyncio.Future[Classify] = asyncio.get_running_loop().create_future()
    build = None
    if isinstance(classifier, Classifier):
        built.set_result(classifier.classify)
    else:
        build = classifier
    try:
        with group_commit(conn, config.poll.commit_every if len(sources) > 1 else 1):
            per_host = config.fetch.per_host_concurrency * (POLLS_PER_REQUEST if helper.active else 1)
            polls = asyncio.ensure_future(_poll_each(sources, per_host, lambda source:
                                                     _poll_source(config, fetcher, conn, source, built, route, helper,
                                                                  (due or {}).get(source.id))))
            if build is not None:
                await _build_beside(polls, built, build, helper)
            reports = await polls
    finally:
        if own_helper:
            await helper.close()
    try:  # every baseline of the pass is stored: which version each follows no longer depends on the order
        link_pending(conn)
    except sqlite3.Error as exc:
        log.warning("versions of this pass's first notices not linked yet (the next pass links them): %s", exc)
    details = DetailReport()
    if config.detail.enabled:
        details = await fetch_details(config, fetcher, conn, sources, built.result())
    files = await fetch_attachments(config, fetcher, conn, sources, built.result())
    gone = await check_missing(config, fetcher, conn, sources)
    return PassReport(reports, details, files, gone)


def _when_needed(build: Callable[[], Classifier]) -> Classify:
    """A classify function that builds its classifier on its first call."""
    made: list[Classifier] = []

    def classify(title: str, body: str, source: str, agency: str) -> Verdict:
        if not made:
            made.append(build())
        return made[0].classify(title, body, source, agency)

    return classify


async def _build_beside(polls: asyncio.Future[list[SourceReport]], built: asyncio.Future[Classify],
                        build: Callable[[], Classifier], helper: Helper) -> None:
    """Build the classifier once the polls' first requests are out, in a thread: the ~0.1 s of compiling
    its rules then share the interpreter with the event loop (which takes it back within the switch
    interval whenever answers come in) instead of holding every answer until it is done. When the pass's
    helper has loaded the rules (and so will work the titles out), only on first use. If it cannot be
    built (a bad rules file), stop the polls — each waits for it before storing, so none has stored
    anything — and raise."""
    try:
        if helper.active and await helper.loaded_rules():
            built.set_result(_when_needed(build))  # (likely never: an edit, a detail page, a page unanswered)
            return
        await asyncio.sleep(BUILD_AFTER_SECONDS)
        built.set_result((await asyncio.to_thread(build)).classify)
    except BaseException:  # (cancelled while it waited, too: the polls go with it)
        polls.cancel()
        with suppress(asyncio.CancelledError):
            await polls
        raise


async def _poll_each(sources: list[Source], per_host: int,
                     poll: Callable[[Source], Awaitable[SourceReport]]) -> list[SourceReport]:
    """Every source's poll, in the sources' order; `per_host` of each host's sources at a time, all hosts
    at once. While a baseline helper works titles out that is twice as many as the host's gate lets
    requests in (POLLS_PER_REQUEST): while half wait for its verdicts or the store, the other half have
    their requests on the wire (the gate still admits no more requests than it did). A pass over
    thousands of sources then holds a hundred-odd polls in memory, not thousands of suspended ones
    (5,000 of them held ~25 MB)."""
    queues: dict[str, deque[int]] = {}
    for index, source in enumerate(sources):
        queues.setdefault((urlsplit(source.url).hostname or "").lower(), deque()).append(index)
    reports: dict[int, SourceReport] = {}

    async def worker(queue: deque[int]) -> None:
        while queue:
            index = queue.popleft()
            reports[index] = await poll(sources[index])

    await asyncio.gather(*(worker(queue) for queue in queues.values()
                           for _ in range(min(per_host, len(queue)))))
    return [reports[index] for index in range(len(sources))]


async def _poll_source(
    config: Config, fetcher: Fetcher, conn: sqlite3.Connection, source: Source,
    classifier_ready: asyncio.Future[Classify], route: Routing, helper: Helper | None = None,
    due: datetime | None = None,
) -> SourceReport:
    started = due or clock.now()
    etag, last_modified, baseline_at = poll_memory(conn, source.id)
    poll = SourcePoll(source_id=source.id, agency=source.agency, started_at=iso(started), state="ok",
                      alert_after=config.health.alert_after, flood_threshold=config.poll.flood_threshold)
    poll.fetch_details = config.detail.enabled and source.detail.enabled and (
        baseline_at is not None or config.detail.baseline)
    try:
        if baseline_at is None:  # no baseline yet: fetch in full, whatever validators were kept
            etag = last_modified = None
        await _read_pages(config, fetcher, conn, source, poll, first_poll=baseline_at is None,
                          etag=etag, last_modified=last_modified)
    except Exception as exc:  # a bug must not stop the other sources; nothing of this poll is kept
        log.exception("source %s: the poll failed", source.id)
        poll.state, poll.error, poll.good, poll.items = "layout-changed", f"poll error: {exc!r}"[:500], False, []
        poll.validators = None  # validators are only ever stored with the items they cover
    interval = source.interval_minutes or config.poll.interval_minutes
    next_poll = started + timedelta(minutes=interval)
    if poll.retry_after is not None and not poll.good:  # the site asked for a pause: put the source off
        deferred = clock.now() + timedelta(seconds=poll.retry_after)
        if deferred > next_poll:
            next_poll, poll.deferred_until = deferred, iso(deferred)
            log.warning("source %s: deferred until %s at the site's request (Retry-After)", source.id,
                        poll.deferred_until)
    poll.next_poll_at = iso(next_poll)
    if poll.error is None and poll.state not in GOOD_STATES:
        poll.error = poll.state
    # A baseline page is worked out beside the pass — unless the helper is still starting while this
    # process has its classifier at hand (the service's first passes): then here, not after its start-up.
    if baseline_at is None and poll.items and helper is not None and (helper.answering
                                                                       or not classifier_ready.done()):
        titles = [item.title for item in poll.items]
        facts = await helper.facts(source.id, source.agency, titles)
        if facts is not None:
            poll.facts = dict(zip(titles, facts, strict=True))
    classify = await classifier_ready  # (a one-off pass builds it while its first requests are out)
    try:
        summary: PollSummary = record_poll(conn, poll, classify, route)
    except sqlite3.Error as exc:  # the store failed, not the site: nothing of this poll was written
        return _store_failed(conn, source, poll, exc)
    if summary.health_event == "unhealthy":
        log.error("source %s is %s after %d bad polls in a row: %s", source.id, summary.state,
                  config.health.alert_after, poll.error)
    elif summary.health_event == "recovered":
        log.warning("source %s has recovered (%s)", source.id, summary.state)
    if summary.held:
        log.warning("source %s: %d new notices in one poll (flood guard %d): stored, alerts held, one summary "
                    "sent; release them with `regwatch outbox release --source %s`", source.id,
                    len(summary.new_ids), config.poll.flood_threshold, source.id)
    report = SourceReport(
        source_id=source.id, state=summary.state, http_status=poll.http_status, seen=summary.seen,
        new=len(summary.new_ids), edited=len(summary.edited_ids), baseline=summary.baseline, error=poll.error,
    )
    _log_report(report)
    return report


@dataclass
class PageRead:
    """One list page as a poll reads it: the response, and either what it holds or why it is unusable."""

    result: FetchResult | None  # None when discovery already failed
    parsed: ParseResult | None = None
    verdict: tuple[str, str | None] | None = None  # (bad health state, message); None when usable

    @property
    def not_modified(self) -> bool:
        return self.result is not None and self.result.not_modified


async def read_first_page(fetcher: Fetcher, source: Source, url: str | None = None, etag: str | None = None,
                          last_modified: str | None = None) -> PageRead:
    """Page 1 of a source's list exactly as a poll requests it: the parser's discovery step first (if it
    needs one), then its page-1 request (parameters, headers) with the conditional-GET validators.

    `regwatch check-source` calls this too, so what it shows is what a poll would see.
    """
    url = url or source.url
    parser = source.parser
    discovery = parser.discovery_request(url)
    if discovery is not None:
        found = await _fetch(fetcher, source, discovery)
        verdict = assess_response(found, source.waf or None)
        if verdict is not None:
            return PageRead(found, verdict=verdict)
        try:
            parser.discover(_page_of(found))
        except SourceBroken as exc:
            return PageRead(found, verdict=(exc.state, str(exc)))
    first = parser.page_request(url, 1, None)
    if first is None:
        return PageRead(None, verdict=("layout-changed", "the parser could not say how to request page 1"))
    result = await _fetch(fetcher, source, first, etag=etag, last_modified=last_modified)
    return read_page(source, result)


def read_page(source: Source, result: FetchResult) -> PageRead:
    """Judge a fetched page (status, challenge) and parse it, judging what the parser found; a page
    that yields no rows is checked for a block page then (one that does is the list)."""
    verdict = assess_response(result, source.waf or None, list_page=True)
    if verdict is not None or result.not_modified:
        return PageRead(result, verdict=verdict)
    try:
        parsed = source.parser.parse(_page_of(result))
    except Exception as exc:  # a parser bug or a hostile page (deep JSON, `null`) is this page's failure only
        log.warning("source %s: the parser failed on %s: %r", source.id, result.url, exc)
        return PageRead(result, verdict=blocked_instead(result, source.waf or None)
                        or ("layout-changed", f"parser error on {result.url}: {exc!r}"[:500]))
    problem = assess_parse(parsed)
    if problem is not None:
        problem = blocked_instead(result, source.waf or None) or problem
    return PageRead(result, parsed, problem)


def _page_of(result: FetchResult) -> Page:
    return Page(url=str(result.url), text=result.text, content_type=result.headers.get("content-type", ""))


async def _read_pages(
    config: Config, fetcher: Fetcher, conn: sqlite3.Connection, source: Source, poll: SourcePoll, *,
    first_poll: bool, etag: str | None, last_modified: str | None,
) -> None:
    """Fetch and parse the first page and as many older ones as needed; fills `poll`."""
    page = await read_first_page(fetcher, source, etag=etag, last_modified=last_modified)
    poll.http_status = page.result.status if page.result is not None else None
    if page.result is not None:
        poll.retry_after = page.result.retry_after
        poll.decode_errors = page.result.decode_errors
    if page.not_modified:
        poll.state = "ok-no-new"
        return
    if page.verdict is not None or page.parsed is None:
        poll.state, poll.error = page.verdict or ("layout-changed", None)
        poll.good = False
        return
    assert page.result is not None
    poll.validators = (page.result.etag, page.result.last_modified)
    parsed = _keep(poll, page.parsed)
    backfill = source.backfill_pages or config.poll.backfill_pages
    page_limit = backfill if first_poll else config.poll.max_catchup_pages
    while poll.pages < page_limit:
        # Catching up: go on only while a page shows nothing but new notices (a burst bigger than a page).
        if not first_poll and (not parsed.items or _page_has_known(conn, source, parsed.items)):
            break
        request = source.parser.page_request(source.url, poll.pages + 1, parsed)
        if request is None:
            break
        older = read_page(source, await _fetch(fetcher, source, request))
        if older.verdict is not None or older.parsed is None:
            _log_older_page(source, older)
            break
        parsed = _keep(poll, older.parsed)


async def _fetch(fetcher: Fetcher, source: Source, request: Request, etag: str | None = None,
                 last_modified: str | None = None) -> FetchResult:
    headers = {**dict(source.headers), **(request.headers or {})}  # the source's own (User-Agent …), then the parser's
    result = await fetcher.get(request.url, method=request.method, data=request.content or request.data,
                               headers=headers, etag=etag, last_modified=last_modified,
                               redirect_hosts=source.redirect_hosts)
    if result.decode_errors:
        log.warning("source %s: %s has %d byte(s) invalid in its declared charset %s (shown as U+FFFD)",
                    source.id, result.url, result.decode_errors, result.encoding)
    return result


def _keep(poll: SourcePoll, parsed: ParseResult) -> ParseResult:
    poll.pages += 1
    poll.items.extend(parsed.items)
    return parsed


def _log_older_page(source: Source, page: PageRead) -> None:
    """An older page that cannot be read ends the walk; past the end of the list is expected, not a warning."""
    assert page.result is not None
    parsed, url = page.parsed, page.result.url
    if page.result.status == 404 or (parsed is not None and not parsed.rows_read and not parsed.problem):
        log.debug("source %s: %s is past the end of the list", source.id, url)
    else:
        log.warning("source %s: older page %s unusable: %s", source.id, url, page.verdict[1] if page.verdict else "")


def _page_has_known(conn: sqlite3.Connection, source: Source, items: list[Item]) -> bool:
    identities = [notice_identity(source.id, i.url, i.title, i.published) for i in items]
    return bool(known_identities(conn, identities))


def _store_failed(conn: sqlite3.Connection, source: Source, poll: SourcePoll, exc: sqlite3.Error) -> SourceReport:
    """A store error is its own state: the poll's transaction rolled back (validators included, so the
    next poll reads the page again in full and loses nothing), and the site is not blamed."""
    error = f"store error: {type(exc).__name__}: {exc}"[:500]
    log.error("source %s: could not store the poll (%s); nothing of it was written, the next poll reads "
              "the page again", source.id, error)
    record_store_failure(conn, source.id, poll.started_at, poll.http_status, error)
    return SourceReport(source_id=source.id, state="store-error", http_status=poll.http_status,
                        seen=len(poll.items), new=0, edited=0, baseline=False, error=error)


def _log_report(report: SourceReport) -> None:
    if report.failed:
        log.warning("source %s: %s (%s)", report.source_id, report.state, report.error)
    else:
        log.info("source %s: %s, %d items, %d new, %d edited%s", report.source_id, report.state, report.seen,
                 report.new, report.edited, " (baseline)" if report.baseline else "")
