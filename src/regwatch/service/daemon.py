"""`regwatch run`: the long-running service, driven by APScheduler 3.

Jobs: one poll job per source (its own interval, jittered, first runs spread so the sites are not
all hit at once unless `spread_first_polls = false`, skipped in the source's quiet hours), the outbox
sender, detail-page retries, one cron job per email digest (a digest missed while the service was
down is sent at start), and the systemd watchdog. Every poll shares one Fetcher, so per-host limits
hold across jobs.

`misfire_grace_time` is set on purpose (APScheduler's default of 1 s silently drops a run that starts
late, e.g. after a suspend or a slow poll): a poll may run up to one interval late, a digest up to
six hours late; `coalesce` turns a backlog of missed runs into one run.

SIGTERM/SIGINT stop new work, cancel polls in flight at their next await (store transactions never
span an await, so a cancelled poll has either committed or not started its write) and exit 0.
SIGHUP reloads config and watchlists; a bad new config is rejected with a log line and the old one
keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
import sqlite3
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import zip_longest
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .. import clock
from .._schema import ConfigError
from ..attachment_files import fetch_attachments
from ..baseline_classifier import Helper
from ..classify import Classifier
from ..config import Config
from ..cron import cron_trigger, previous_fire
from ..deliver import http
from ..deliver.channels import channel_for
from ..deliver.sender import deliver_due, delivering, ops_message, send_message
from ..detail_pages import fetch_details
from ..digest import email_subscriptions, register_subscriptions, send_digest
from ..fetch import Fetcher
from ..ical import calendar, span
from ..poll import poll_sources
from ..store.db import StoreError, check_integrity, file_identity, open_db, open_reader, release_memory
from ..store.diff import is_deferred, without_baseline
from ..store.digests import last_sent_end, subscription_since
from ..store.search import index_pending
from ..store.views import dates_ahead, recent_notices
from ..watchlist import Source, in_quiet_hours
from ..withdrawal_checks import check_missing
from . import access, heap, httpd, systemd
from .httpd import Request, Response
from .status import metrics, stale_sources, status

log = logging.getLogger(__name__)
DIGEST_GRACE = 6 * 3600  # a digest may start up to six hours late (then the start-up catch-up takes over)
SHUTDOWN_WAIT = 4.0
HEARTBEAT_SECONDS = 2.0
BATCH_SECONDS = 0.05  # polls falling due within this long of the first share one pass (none more due: at once)
HELPER_IDLE_SECONDS = 10.0  # the baseline helper ends when no pass has used it for this long
SEARCH_INDEX_CHUNK = 2000  # queued notices indexed per step once the passes are done (~30 ms each)
INDEX_WAIT_SECONDS = 0.5  # how often the search indexing looks whether the passes are done
INDEX_MAX_WAIT = 60.0  # passes one after another for this long: index between them all the same
RELEASE_IDLE_SECONDS = 1.0  # no pass for this long: the store's page caches go back (see _release_when_idle)
CLOCK_JUMP_SECONDS = 30.0  # a wall-clock step bigger than this (either way) is a jump, not drift


class ServiceError(Exception):
    """The service cannot start (a busy port); one line for the user."""


@dataclass(frozen=True)
class Loaded:
    """Everything a config file and the watchlists produce; replaced as a whole on SIGHUP."""

    config: Config
    sources: dict[str, Source]
    classifier: Classifier


async def serve(load: Callable[[], Loaded], config: Config, database_was_lost: bool = False) -> int:
    """Start the service and run it until it is stopped; its exit code.

    On a first start the baseline helper starts before the watchlists are read and the classifier is
    built (`Helper.start_early`): it answers from the first pass on, instead of after this process has
    classified the pass's first pages itself."""
    helper = await Helper.start_early(config)
    try:
        return await Daemon(load, database_was_lost, helper).run()
    except BaseException:  # it did not start (a bad store, a busy port): the helper must not outlive it
        if helper is not None:
            await helper.stop()
        raise


class Daemon:
    def __init__(self, load: Callable[[], Loaded], database_was_lost: bool = False,
                 helper: Helper | None = None) -> None:
        self.load = load
        self.current = load()
        self.started = clock.now()
        self.stopping = asyncio.Event()
        self.running: set[asyncio.Task[Any]] = set()
        self.delivery_wanted: dict[str, bool] = {}
        self.delivery_tasks: dict[str, asyncio.Task[Any]] = {}
        self.translating: asyncio.Task[Any] | None = None  # the translation pass running, if any
        self.indexing: asyncio.Task[Any] | None = None  # the search indexing waiting or running, if any
        self.releasing: asyncio.Task[Any] | None = None  # the wait to give back the page caches, if any
        self.passes = 0  # poll passes running now
        self.pass_ended = 0.0  # when the last pass ended (monotonic)
        self.batch: dict[str, datetime] = {}  # polls waiting for the next pass: source id → when it fell due
        self.batch_done: asyncio.Future[None] | None = None  # that pass's end
        self.helper = helper  # classifies baselines beside the passes while many sources need one
        self.helper_users = 0  # passes using it now
        self.helper_starting = asyncio.Lock()
        self.helper_used = 0.0  # when a pass last finished with it (monotonic)
        self.scheduler = AsyncIOScheduler(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
        path = self.current.config.database_path
        self.started_afresh = database_was_lost
        self.conn = open_db(path)
        if (problem := check_integrity(self.conn)) is not None:
            self.conn.close()
            raise StoreError(f"the database {path} failed its integrity check ({problem}); restore it from a "
                             "backup, or move it aside to start a new one")
        self.db_identity = file_identity(path)
        self.store_fault: str | None = None  # what is wrong with the store now; fails /healthz
        self.store_fault_final = False  # the file was removed or replaced: only a restart helps
        self.last_fired = time.monotonic()  # when a scheduled job last ran (a scheduler that stops firing is ill)
        self.fetcher: Fetcher | None = None
        self.server: asyncio.AbstractServer | None = None
        self.reader: sqlite3.Connection | None = None  # the listener's read-only connection, opened when first asked

    # -- lifecycle ---------------------------------------------------------------------------------
    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, self.stopping.set)
        loop.add_signal_handler(signal.SIGINT, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self.reload)
        await self._start_http()  # first: a busy port stops the service before it polls anything
        self.fetcher = Fetcher(self.current.config.fetch)
        if self.helper is not None:  # started before the watchlists were read
            self.helper = await self.helper.kept_for(without_baseline(self.conn, list(self.current.sources)))
        self._track(self._start_helper_early())
        self._schedule()
        # What start-up loaded (modules, config, watchlists, the classifier) lives as long as the service:
        # the collector need not walk it at every collection of every pass.
        gc.freeze()
        self.scheduler.start()
        config = self.current.config
        log.info("regwatch running: %d sources, %d subscriptions, database %s", len(self.current.sources),
                 len(config.subscriptions()), config.database_path)
        systemd.notify(f"READY=1\nSTATUS=watching {len(self.current.sources)} sources")
        self._track(self._catch_up_digests())
        self._track(self._heartbeat())
        if self.started_afresh:
            problem = (f"the database {config.database_path} was missing at start (regwatch ran with it before): "
                       "a new, empty one was created; alerts queued in the old one are lost, and every source's "
                       "next poll is a silent baseline")
            log.error("%s", problem)
            self._track(self._tell_ops(f"regwatch: {problem}"))
        await self.stopping.wait()
        systemd.notify("STOPPING=1")
        await self._shutdown()
        return 0

    async def _shutdown(self) -> None:
        log.info("regwatch stopping")
        self.scheduler.shutdown(wait=False)
        for task in list(self.running):
            task.cancel()
        if self.running:
            await asyncio.wait(self.running, timeout=SHUTDOWN_WAIT)
        if self.server is not None:
            self.server.close()
        if self.fetcher is not None:
            await self.fetcher.__aexit__(None, None, None)
        if self.helper is not None:
            await self.helper.close()
        self._close_reader()
        self.conn.close()
        log.info("regwatch stopped")

    def reload(self) -> None:
        """SIGHUP: read config and watchlists again; keep the old ones if the new ones are bad."""
        try:
            loaded = self.load()
        except ConfigError as exc:
            log.error("reload rejected, still running the previous configuration: %s", exc)
            return
        if loaded.config.database_path != self.current.config.database_path:
            log.error("reload rejected: changing the database needs a restart")
            return
        old_fetch = self.current.config.fetch
        self.current = loaded
        if self.helper is not None:  # it classifies with the rules it started with: the next pass that
            helper, self.helper = self.helper, None  # needs one starts one with the rules just read
            self._track(helper.close())  # (a pass using it now classifies what it has not answered itself)
        if loaded.config.fetch != old_fetch and self.fetcher is not None:
            self._track(self.fetcher.__aexit__(None, None, None))
            self.fetcher = Fetcher(loaded.config.fetch)
        self.scheduler.remove_all_jobs()
        self._schedule()
        log.info("reloaded: %d sources, %d subscriptions", len(loaded.sources), len(loaded.config.subscriptions()))

    # -- jobs --------------------------------------------------------------------------------------
    def _schedule(self) -> None:
        config = self.current.config
        now = clock.now()
        ordered = _interleave_agencies(list(self.current.sources.values()))
        spread = config.service.spread_first_polls
        for index, source in enumerate(ordered):
            interval = 60 * (source.interval_minutes or config.poll.interval_minutes)
            spacing = min(interval / max(len(ordered), 1), 10.0) if spread else 0.0  # the first polls over time
            self.scheduler.add_job(
                self._job, IntervalTrigger(seconds=interval, jitter=min(interval * config.service.jitter, 60) or None),
                args=[self._poll, source.id], id=f"poll:{source.id}", misfire_grace_time=int(interval) or 1,
                next_run_time=now + timedelta(seconds=index * spacing))
        every = config.service.outbox_seconds
        self.scheduler.add_job(self._job, IntervalTrigger(seconds=every), args=[self._deliver], id="deliver",
                               misfire_grace_time=int(every) or 1)
        self.scheduler.add_job(self._job, IntervalTrigger(minutes=config.service.detail_minutes),
                               args=[self._details], id="details", misfire_grace_time=60)
        register_subscriptions(config, self.conn)  # a new subscription's first digest covers from now
        for sub in email_subscriptions(config):
            trigger = cron_trigger(sub.schedule, ZoneInfo(sub.timezone))
            self.scheduler.add_job(self._job, trigger, args=[self._digest, sub.name], id=f"digest:{sub.name}",
                                   misfire_grace_time=DIGEST_GRACE)
        every_check = config.service.store_check_seconds
        self.scheduler.add_job(self._job, IntervalTrigger(seconds=every_check), args=[self._check_store],
                               id="store-check", misfire_grace_time=int(every_check) or 1)
        if (ping := systemd.watchdog_interval()) is not None:
            self.scheduler.add_job(self._watchdog, IntervalTrigger(seconds=ping), id="watchdog",
                                   next_run_time=now, misfire_grace_time=int(ping) or 1)

    async def _job(self, work: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run one job as a tracked task, so shutdown can cancel it; a failing job is logged, not fatal."""
        if self.stopping.is_set():
            return
        self.last_fired = time.monotonic()
        task = self._track(work(*args))
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def _track(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        async def guarded() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except sqlite3.Error as exc:
                self._store_failed(f"{type(exc).__name__}: {exc}")
            except Exception:
                log.exception("job failed")

        task = asyncio.ensure_future(guarded())
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return task

    async def _poll(self, source_id: str) -> None:
        """A source's poll joins the pass that starts BATCH_SECONDS after the first of them fell due (or
        at once, when no other poll falls due by then): the polls due together share one pass (its
        commits, its baseline helper, one detail and attachment step) instead of one each. The job lasts
        until its pass is done (so it never runs twice at once)."""
        loaded = self.current
        source = loaded.sources.get(source_id)
        if source is None or in_quiet_hours(source, clock.now()) or is_deferred(self.conn, source_id):
            return
        self.batch.setdefault(source_id, clock.now())
        if self.batch_done is None:
            self.batch_done = asyncio.get_running_loop().create_future()
            self._track(self._poll_batch(self.batch_done))
        await asyncio.shield(self.batch_done)

    async def _poll_batch(self, done: asyncio.Future[None]) -> None:
        try:
            window_end = clock.now() + timedelta(seconds=BATCH_SECONDS)
            await asyncio.sleep(0)  # (the polls the scheduler fired with the first one join it meanwhile)
            if self._polls_due_by(window_end):  # else waiting would only delay this pass
                await asyncio.sleep(max((window_end - clock.now()).total_seconds(), 0.0))
            due, self.batch, self.batch_done = self.batch, {}, None
            loaded = self.current
            sources = [loaded.sources[i] for i in due if i in loaded.sources]  # a reload may have dropped one
            assert self.fetcher is not None
            helper = await self._baseline_helper(sources)
            shared = helper.active  # (it may die during the pass: the count must still come back down)
            self.helper_users += shared
            self.passes += 1
            try:
                reports = (await poll_sources(loaded.config, self.conn, sources, loaded.classifier, self.fetcher,
                                              due, helper)).sources
            finally:
                self.passes -= 1
                self.pass_ended = time.monotonic()
                if shared:
                    self.helper_users -= 1
                    self.helper_used = time.monotonic()
                    if not self.helper_users:
                        self._track(self._release_helper())
        finally:
            if self.batch_done is done:  # cancelled while it waited: the next poll starts a pass of its own
                self.batch, self.batch_done = {}, None
            done.set_result(None)
        for report in reports:
            if report.state == "store-error":
                self._store_failed(report.error or "store error")
            elif self.store_fault and not self.store_fault_final:
                self._store_recovered()
        if any(r.new or r.edited for r in reports) or any(r.failed for r in reports):
            self._start_deliveries()  # new alerts (or health alerts) go out now, without holding up this poll
        if loaded.config.translate.provider and any(r.new for r in reports) and (
                self.translating is None or self.translating.done()):  # one pass at a time: no notice twice
            self.translating = self._track(self._translate())
        if self.indexing is None or self.indexing.done():
            self.indexing = self._track(self._index_for_search())
        if self.releasing is None or self.releasing.done():
            self.releasing = self._track(self._release_when_idle())

    def _polls_due_by(self, moment: datetime) -> bool:
        """Whether a source's poll not in the waiting pass falls due by `moment` (it would join it)."""
        return any(job.id.startswith("poll:") and job.next_run_time is not None and job.next_run_time <= moment
                   and job.id.removeprefix("poll:") not in self.batch for job in self.scheduler.get_jobs())

    async def _release_when_idle(self) -> None:
        """Once no pass has run for RELEASE_IDLE_SECONDS, give back the store's page caches: a service
        polls a source every few minutes and idles in between, holding up to 2 MB of cached pages per
        connection for good otherwise (0.9 MB after the shipped sources' first polls). The next pass reads
        its few hundred pages from the system's file cache again, well under a millisecond."""
        while True:
            ended = self.pass_ended
            await asyncio.sleep(RELEASE_IDLE_SECONDS)
            if not self.passes and self.batch_done is None and self.pass_ended == ended:
                release_memory(self.conn)
                if self.reader is not None:
                    release_memory(self.reader)
                heap.give_back()
                return

    async def _index_for_search(self) -> None:
        """Index what the passes queued for search (store/search.py) once none is running — a first round
        over many sources is not slowed by it, searches scan the queue meanwhile — or after INDEX_MAX_WAIT
        of passes one after another; a chunk at a time, so the loop (alerts, the web view) is never held
        for long."""
        waited = 0.0
        try:
            while True:
                while (self.passes or self.batch_done is not None) and waited < INDEX_MAX_WAIT:
                    await asyncio.sleep(INDEX_WAIT_SECONDS)
                    waited += INDEX_WAIT_SECONDS
                if index_pending(self.conn, SEARCH_INDEX_CHUNK) < SEARCH_INDEX_CHUNK:
                    return
                await asyncio.sleep(0)
        except sqlite3.Error as exc:  # the next pass tries again; searches scan the queue meanwhile
            log.warning("search index not brought up to date: %s", exc)

    async def _baseline_helper(self, sources: list[Source]) -> Helper:
        """The helper that classifies baselines beside the passes: one for the service, started when many
        sources still need a baseline (the first start, a reload adding many), let go once idle."""
        if without_baseline(self.conn, [s.id for s in sources]) == 0:
            return Helper()  # none: this pass classifies as it stores
        async with self.helper_starting:  # two passes at once must not start two (one would be lost)
            if self.helper is None or not self.helper.active:
                self.helper = await Helper.start(self.current.config,
                                                 without_baseline(self.conn, list(self.current.sources)))
        return self.helper

    async def _start_helper_early(self) -> None:
        """Many sources without a baseline (a first start): start the helper now, so it has built its
        classifier (~0.15 s) by the time the first pass's pages come back; let go if no pass uses it."""
        await self._baseline_helper(list(self.current.sources.values()))
        self.helper_used = time.monotonic()
        await self._release_helper()

    async def _release_helper(self) -> None:
        """No pass used the helper for HELPER_IDLE_SECONDS: end it (its process holds ~40 MB)."""
        await asyncio.sleep(HELPER_IDLE_SECONDS)
        idle = time.monotonic() - self.helper_used
        if self.helper is not None and not self.helper_users and idle >= HELPER_IDLE_SECONDS:
            helper, self.helper = self.helper, None
            await helper.close()

    async def _translate(self) -> None:
        """Model-written English for the new notices; alerts that wait for it (hold_minutes) go out after."""
        config = self.current.config
        from ..translate.summaries import translate_pending  # (httpx) only where a model is configured

        report = await translate_pending(config, self.conn)
        if report.written and config.translate.hold_minutes:
            self._start_deliveries()

    async def _deliver(self) -> None:
        self._start_deliveries()

    def _start_deliveries(self) -> None:
        """Each subscription is delivered by its own task, one pass at a time: a receiver that hangs
        holds up its own subscription only. A request while a pass runs folds into one more pass."""
        for sub in delivering(self.current.config):
            self.delivery_wanted[sub.name] = True
            task = self.delivery_tasks.get(sub.name)
            if task is None or task.done():
                self.delivery_tasks[sub.name] = self._track(self._delivery_loop(sub.name))

    async def _delivery_loop(self, name: str) -> None:
        while self.delivery_wanted.get(name) and not self.stopping.is_set():
            self.delivery_wanted[name] = False
            await deliver_due(self.current.config, self.conn, only=name)

    async def _details(self) -> None:
        loaded = self.current
        if self.fetcher is None:
            return
        sources = list(loaded.sources.values())
        if loaded.config.detail.enabled:
            await fetch_details(loaded.config, self.fetcher, self.conn, sources, loaded.classifier.classify)
        await fetch_attachments(loaded.config, self.fetcher, self.conn, sources, loaded.classifier.classify)
        await check_missing(loaded.config, self.fetcher, self.conn, sources)

    async def _digest(self, name: str) -> None:
        loaded = self.current
        sub = next((s for s in email_subscriptions(loaded.config) if s.name == name), None)
        if sub is None:
            return

        def send() -> None:  # SMTP blocks: run it in a thread with its own connection
            conn = open_db(loaded.config.database_path)
            try:
                send_digest(loaded.config, conn, sub, loaded.sources)
            finally:
                conn.close()

        await asyncio.to_thread(send)

    async def _catch_up_digests(self) -> None:
        """A digest run that was due while the service was down (after the subscription began) is sent now."""
        for sub in email_subscriptions(self.current.config):
            due = previous_fire(cron_trigger(sub.schedule, ZoneInfo(sub.timezone)), clock.now())
            began, last = subscription_since(self.conn, sub.name), last_sent_end(self.conn, sub.name)
            if due is None or began is None or due <= datetime.fromisoformat(began):
                continue  # nothing was due since the subscription began: wait for its next scheduled time
            if last is None or datetime.fromisoformat(last) < due:
                log.info("digest %s: the run of %s was missed; sending it now", sub.name, due.isoformat())
                await self._digest(sub.name)

    # -- the clock ---------------------------------------------------------------------------------
    async def _heartbeat(self) -> None:
        """Keep the scheduler on time whatever the wall clock does.

        APScheduler plans in wall-clock time but sleeps in monotonic time: after the clock goes back
        an hour it would sleep an hour before the next poll, and would not notice the clock coming
        back. Every few seconds (monotonic) the heartbeat wakes the scheduler (so a forward jump, or
        the clock's return, is seen at once) and pulls in any interval job planned further ahead
        than its interval allows, which only a clock that went back can cause.
        """
        last_wall, last_mono = clock.now(), time.monotonic()
        while not self.stopping.is_set():
            await asyncio.sleep(HEARTBEAT_SECONDS)
            wall, mono = clock.now(), time.monotonic()
            jump = (wall - last_wall).total_seconds() - (mono - last_mono)
            if abs(jump) > CLOCK_JUMP_SECONDS:
                log.warning("the wall clock jumped %+.0f s; polls and deliveries keep their pace", jump)
            self._pull_in_interval_jobs(wall)
            if self.scheduler.running:
                self.scheduler.wakeup()
            last_wall, last_mono = wall, mono

    def _pull_in_interval_jobs(self, now: datetime) -> None:
        for job in self.scheduler.get_jobs():
            trigger = job.trigger
            if not isinstance(trigger, IntervalTrigger) or job.next_run_time is None:
                continue
            latest = now + trigger.interval + timedelta(seconds=(trigger.jitter or 0) + CLOCK_JUMP_SECONDS)
            if job.next_run_time > latest:
                job.modify(next_run_time=now + trigger.interval)

    def _stalled(self) -> bool:
        """No scheduled job has run for several of the shortest job intervals (monotonic time)."""
        limit = max(3 * self.current.config.service.outbox_seconds, 3 * HEARTBEAT_SECONDS, 10.0)
        return time.monotonic() - self.last_fired > limit

    # -- the store's health ------------------------------------------------------------------------
    async def _check_store(self) -> None:
        """Notice the database file being removed or replaced under the service (writes would go nowhere)."""
        path = self.current.config.database_path
        if file_identity(path) != self.db_identity:
            self.store_fault_final = True
            self._store_failed(f"the database file {path} was removed or replaced while the service ran; "
                               "restore it and restart regwatch (new notices are not being stored)")

    def _store_failed(self, problem: str) -> None:
        """A store error is the service's fault, not a site's: fail /healthz, log, tell ops once."""
        onset = self.store_fault is None
        self.store_fault = problem
        if onset:
            log.error("store error: %s", problem)
            systemd.notify(f"STATUS=store error: {problem[:200]}")
            self._track(self._tell_ops(f"regwatch cannot use its database: {problem}"))

    def _store_recovered(self) -> None:
        log.warning("store error cleared: the database takes writes again (was: %s)", self.store_fault)
        self.store_fault = None
        systemd.notify(f"STATUS=watching {len(self.current.sources)} sources")

    async def _tell_ops(self, text: str) -> None:
        """Straight to the ops channel: the outbox lives in the store that just failed."""
        config = self.current.config
        sub = next((s for s in config.subscriptions() if s.name == config.ops.subscription), None)
        if sub is None:
            return
        async with http.session(config.delivery.timeout) as client:
            outcome = await send_message(client, channel_for(sub), ops_message(sub, text), 1)
        if outcome.result != "ok":
            log.error("could not tell %s about the store error: %s", sub.name, outcome.detail)

    async def _watchdog(self) -> None:
        if self.scheduler.running and not self.stopping.is_set():
            systemd.notify("WATCHDOG=1")

    # -- the listener: health, metrics, feeds, calendar and the web view ---------------------------
    async def _start_http(self) -> None:
        address = self.current.config.service.http
        if not address:
            return
        host, _, port = address.rpartition(":")
        try:
            self.server = await httpd.serve(host, int(port), self._answer)
        except OSError as exc:
            raise ServiceError(f"cannot listen on {address} ([service] http): {exc.strerror}") from None
        log.info("web view on http://%s/ (and /healthz, /metrics, /feeds/all.atom, /calendar.ics)", address)

    def _answer(self, request: Request) -> Response:
        service = self.current.config.service
        if not access.allowed(request, service):
            return access.refusal(service)
        if request.path == "/healthz":
            return self._healthz()
        if request.path == "/metrics":
            return self._metrics()
        if self.store_fault is not None:
            return Response.text(503, f"the store cannot be read: {self.store_fault}")
        try:
            reader = self._reader()
            if request.path == "/calendar.ics":
                return self._calendar(reader)
            if request.path.startswith("/feeds/"):
                return self._feed(reader, request.path.removeprefix("/feeds/"))
            from ..web.pages import WebView  # Jinja2 and the templates load with the first page asked for

            loaded = self.current
            page = WebView(reader, loaded.config, loaded.sources, loaded.classifier.notes()).answer(request)
        except sqlite3.Error as exc:
            log.error("web view: the store cannot be read: %s", exc)
            self._close_reader()  # opened afresh by the next request
            return Response.text(503, "the store cannot be read just now")
        return page or Response.text(404, "not found (try / for the notices)")

    def _reader(self) -> sqlite3.Connection:
        """The listener's own read-only connection: it sees committed notices, never a poll's transaction."""
        if self.reader is None:
            self.reader = open_reader(self.current.config.database_path)
        return self.reader

    def _close_reader(self) -> None:
        if self.reader is not None:
            with contextlib.suppress(sqlite3.Error):
                self.reader.close()
            self.reader = None

    def _healthz(self) -> Response:
        if self.store_fault is None:
            try:
                report = status(self.current.config, self.conn, self.current.sources)
            except sqlite3.Error as exc:
                self._store_failed(f"{type(exc).__name__}: {exc}")
        if self.store_fault is not None:
            return Response(503, "application/json", json.dumps({"status": "store-error", "error": self.store_fault}))
        stale = stale_sources(report, self.current.config.service.stale_factor, self.started)
        alive = self.scheduler.running and not self.stopping.is_set()
        stalled = self._stalled()
        healthy = alive and not stale and not stalled
        state = "ok" if healthy else ("stopping" if not alive else "stalled" if stalled else "stale")
        body = {"status": state, "stale_sources": stale, "outbox": report["outbox"]}
        return Response(200 if healthy else 503, "application/json", json.dumps(body))

    def _calendar(self, reader: sqlite3.Connection) -> Response:
        """Comment deadlines and effective dates (30 days back, a year ahead), for a team to subscribe to."""
        return Response(200, "text/calendar; charset=utf-8", calendar(dates_ahead(reader, *span())))

    def _feed(self, reader: sqlite3.Connection, name: str) -> Response:
        """/feeds/NAME.atom: what subscription NAME selects; /feeds/all.atom: everything."""
        from ..deliver.atom import SCANNED, atom  # feedgen loads with the first feed asked for

        config = self.current.config
        wanted_name = name.removesuffix(".atom")
        sub = next((s for s in config.subscription if s.name == wanted_name), None)
        if not name.endswith(".atom") or (sub is None and wanted_name != "all"):
            return Response.text(404, "no such feed (all.atom, or a subscription's name)")
        feed = atom(recent_notices(reader, SCANNED), f"http://{config.service.http}/feeds/{name}", sub)
        return Response(200, "application/atom+xml; charset=utf-8", feed)

    def _metrics(self) -> Response:
        channels = {s.name: s.channel for s in self.current.config.subscription}
        up = self.scheduler.running and not self.stopping.is_set()
        return Response(200, "text/plain; version=0.0.4", metrics(self.conn, up, channels))


def _interleave_agencies(sources: list[Source]) -> list[Source]:
    """CAC, MIIT, PBC, SAMR, CAC, …: consecutive first polls go to different sites."""
    by_agency: dict[str, list[Source]] = {}
    for source in sorted(sources, key=lambda s: s.id):
        by_agency.setdefault(source.agency, []).append(source)
    return [s for group in zip_longest(*by_agency.values()) for s in group if s is not None]
