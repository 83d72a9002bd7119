"""The `regwatch` command line.

Heavy parts (HTTP, HTML parsing, the store) are imported inside the commands that use them, so
quick commands such as `regwatch classify --json` start fast.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import select
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from zoneinfo import ZoneInfo

import click

from . import __version__, clock
from ._schema import ConfigError, did_you_mean, dump_toml, to_plain
from .app import App, UnknownSource
from .classify import Classifier, split_tags
from .clock import shown

if TYPE_CHECKING:
    from .poll import PassReport
    from .watchlist import Source

log = logging.getLogger("regwatch")


class UserError(click.ClickException):
    """A mistake in what the user typed or pointed us at: one line on stderr, exit status 2."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"regwatch: {self.message}", err=True)


class Failure(UserError):
    """Something the environment refused at run time (a busy port, an unusable database): exit status 1."""

    exit_code = 1


class _Group(click.Group):
    """Turns mistakes and failures into one line on stderr, never a traceback (`-v` shows one for a bug)."""

    def invoke(self, ctx: click.Context) -> Any:
        from .store.db import StoreError

        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            click.echo(f"regwatch: configuration error: {exc}", err=True)
            ctx.exit(2)
        except StoreError as exc:
            click.echo(f"regwatch: {exc}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:  # `regwatch notices | head`: the reader has seen enough
            sys.stderr.close()
            ctx.exit(0)
        except Exception as exc:
            if ctx.meta.get("verbose"):
                raise
            click.echo(f"regwatch: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback, "
                       "and please report it)", err=True)
            ctx.exit(1)


class _JsonFormatter(logging.Formatter):
    """One JSON object per line (for log shippers); secrets never reach log records in the first place."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname.lower(),
                 "logger": record.name, "message": record.getMessage()}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def english(title: str) -> str:
    """A title's English gloss (the glossary and its patterns load with the first: a poll shows none)."""
    from .translate import english as gloss

    return gloss(title)


def _setup_logging(level: str, fmt: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    # journald adds its own timestamps; a plain line per event reads well there and in a terminal
    handler.setFormatter(_JsonFormatter() if fmt == "json" else
                         logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler.executors.default", "apscheduler.scheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


# The `--json` flag the listing commands share (`classify --json` is a stream, with its own help).
json_option = click.option("--json", "as_json", is_flag=True,
                           help="Print one JSON document instead (its keys: see the README).")


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="regwatch")
@click.option("--config", "config_option", metavar="PATH", help="Config file (default: $REGWATCH_CONFIG, "
              "~/.config/regwatch/config.toml, /etc/regwatch/config.toml, else built-in defaults).")
@click.option("-v", "--verbose", is_flag=True, help="Log debug detail.")
@click.option("--log-format", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="Log lines on stderr as text or one JSON object each.")
@click.pass_context
def main(ctx: click.Context, config_option: str | None, verbose: bool, log_format: str) -> None:
    """Watch Chinese regulators' notice lists and report what is new."""
    ctx.obj = App(config_option, warn=lambda text: click.echo(f"regwatch: note: {text}", err=True))
    ctx.meta["verbose"] = verbose
    ctx.meta["log_format"] = log_format


def _run(work: Any) -> Any:
    """Run a coroutine to completion (asyncio is imported here: `classify` starts faster without it)."""
    import asyncio

    return asyncio.run(work)


def _date_option(name: str, value: str | None, times: bool = False) -> str | None:
    """A YYYY-MM-DD (or, where `times`, an ISO 8601 time) option, checked before anything runs."""
    import re
    from datetime import datetime

    if value is None:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) or (times and re.match(r"\d{4}-\d{2}-\d{2}[T ]\d", value)):
        try:
            datetime.fromisoformat(value)
            return value
        except ValueError:
            pass
    raise UserError(f"{name}: expected a date as YYYY-MM-DD{' (or an ISO 8601 time)' if times else ''},"
                    f" got {value!r}")


def _notice_record(r: dict[str, Any]) -> dict[str, Any]:
    """A stored notice as `notices --json` shows it (and `export` writes it)."""
    return {
        "id": r["id"], "source": r["source_id"], "agency": r["agency"], "title": r["title"],
        "title_en": r["written_title_en"] or english(r["title"]) or None, "summary_en": r["summary_en"],
        "url": r["url"], "published": r["published"], "published_at": r["published_at"],
        "first_seen": r["first_seen"], "version": r["version"], "baseline": bool(r["baseline"]),
        "category": r["category"], **_tags_and_topics(json.loads(r["tags"])), "doc_type": r["doc_type"],
        "status": r["status"], "issuer": r["issuer"], "doc_number": r["doc_number"],
        "deadline": r["deadline"], "detail_state": r["detail_state"],
        "confidence": r["confidence"], "review": bool(r["review"]),
    }


def _tags_and_topics(stored: list[str]) -> dict[str, list[str]]:
    """`tags` in the bulletin's vocabulary (labels.md) and `topics` for the other subjects, as JSON shows them."""
    tags, topics = split_tags(stored)
    return {"tags": tags, "topics": topics}


def _notice_filters(command: Any) -> Any:
    """The filter options `notices` and `export` share (they pass them on as a store.filters.NoticeFilter)."""
    for option in reversed((
        click.option("--since", metavar="DATE", callback=lambda ctx, param, value: _date_option("--since", value),
                     help="Published on or after DATE (YYYY-MM-DD)."),
        click.option("--agency", metavar="X", help="Only this agency (CAC, MIIT, PBC, SAMR, NPC …)."),
        click.option("--source", "source_id", metavar="ID", help="Only this source."),
        click.option("--category", help="Only this category (e.g. Legislation)."),
        click.option("--tag", help="Only notices with this tag or topic (e.g. personal-information)."),
    )):
        command = option(command)
    return command


def _known(name: str, value: str | None, choices: Any, fold: bool = False) -> None:
    """An option naming a category, tag, source or agency must name one that exists (not an empty result)."""
    if value is None:
        return
    names = list(choices)
    if (value.lower() in {c.lower() for c in names}) if fold else value in names:
        return
    raise UserError(f"{name}: unknown value {value!r}{did_you_mean(value, names)}")


def _pick_sources(app: App, ids: tuple[str, ...]) -> list[Source]:
    try:
        return app.pick_sources(ids)
    except UnknownSource as exc:
        raise UserError(f"{exc} (see `regwatch sources`)") from None


def _app(ctx: click.Context) -> App:
    app: App = ctx.obj
    _setup_logging("debug" if ctx.meta.get("verbose") else app.config.log_level, ctx.meta.get("log_format", "text"))
    return app


def _exclusive(ctx: click.Context, app: App, purpose: str) -> None:
    """Hold the database's instance lock for this command, or stop with who holds it."""
    from .service.lock import AlreadyRunning, InstanceLock

    try:
        lock = InstanceLock(app.config.database_path, purpose).acquire()
    except AlreadyRunning as exc:
        click.echo(f"regwatch: {exc}; stop it first (or let it do the work)", err=True)
        ctx.exit(1)
    ctx.call_on_close(lock.release)


@main.command()
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Poll this source now (repeatable).")
@click.option("--all", "poll_all", is_flag=True, help="Poll every source now, due or not.")
@click.option("--no-deliver", is_flag=True, help="Queue alerts in the outbox but do not send them now.")
@click.pass_context
def poll(ctx: click.Context, source_ids: tuple[str, ...], poll_all: bool, no_deliver: bool) -> None:
    """One pass over the due (or named) sources. Exit status 1 if any source failed."""
    app = _app(ctx)
    _exclusive(ctx, app, "regwatch poll")
    done = _run(_one_pass(app, source_ids, poll_all))
    if done is None:
        click.echo("no source is due (use --all to poll anyway)")
        return
    reports, details, files = done.sources, done.details, done.attachments
    delivery = _deliver(app) if app.config.subscriptions() and not no_deliver else None
    if app.config.translate.provider:  # after the alerts went out: a slow model never holds them up
        from .translate.summaries import translate_pending

        written = _run(translate_pending(app.config, app.conn))
        click.echo(f"English by {app.config.translate.model}: {written.written} written, "
                   f"{written.ungrounded} not grounded (gloss kept), {written.failed} to retry"
                   + (" — this month's token budget is spent" if written.over_budget else ""))
        if app.config.translate.hold_minutes and not no_deliver and app.config.subscriptions():
            delivery = _deliver(app)  # the alerts that waited for their English
    for r in sorted(reports, key=lambda r: r.source_id):
        detail = f"{r.seen} seen, {r.new} new, {r.edited} edited" + (" (baseline)" if r.baseline else "")
        line = f"{r.source_id:<24} {r.state:<15} {detail}"
        click.echo(line + (f" — {r.error}" if r.failed else ""))
    if details.done or details.retrying or details.failed:
        click.echo(f"detail pages: {details.done} read, {details.retrying} to retry, {details.failed} given up")
    if files.read or files.unreadable or files.retrying:
        click.echo(f"attachments: {files.read} read, {files.unreadable} without text, {files.retrying} to retry")
    if done.withdrawals.withdrawn:
        click.echo(f"possibly withdrawn: {done.withdrawals.withdrawn} notices left their lists and their pages "
                   "answer 404 (reported to the instant subscriptions)")
    if delivery is not None:
        _echo_delivery(delivery)
    if any(r.failed for r in reports):
        ctx.exit(1)


async def _one_pass(app: App, source_ids: tuple[str, ...], poll_all: bool) -> PassReport | None:
    """`regwatch poll`'s pass; None when no source is due. A first pass starts its baseline helper
    before anything else (`Helper.start_early`)."""
    from .baseline_classifier import Helper
    from .digest import register_subscriptions
    from .poll import due_sources, poll_sources

    helper = await Helper.start_early(app.config)
    try:
        register_subscriptions(app.config, app.conn)
        sources = _pick_sources(app, source_ids)
        if not source_ids and not poll_all:
            sources = due_sources(app.conn, sources)
        if helper is not None:
            helper = await helper.kept_for(len(sources))  # (a new database: every source needs a baseline)
        if not sources:
            return None
        # What is loaded by now (modules, config, watchlists) lives as long as the process: the collector need
        # not walk it again at every collection of the pass, nor at exit (N=1000: ~30 ms a pass, ~70 ms at exit).
        gc.freeze()
        return await poll_sources(app.config, app.conn, sources, lambda: app.classifier, helper=helper,
                                  close_helper=True)
    finally:
        if helper is not None:
            await helper.stop()  # (ended already, unless the pass failed first: no waiting for it then)


@main.command()
@click.argument("words", metavar="QUERY…", nargs=-1, required=True)
@click.option("--since", metavar="DATE", callback=lambda ctx, param, value: _date_option("--since", value),
              help="Published on or after DATE (YYYY-MM-DD).")
@click.option("--agency", metavar="X", help="Only this agency (CAC, MIIT, PBC, SAMR, NPC …).")
@click.option("--category", help="Only this category (e.g. Legislation).")
@click.option("--limit", default=20, show_default=True, help="At most this many, best first.")
@json_option
@click.pass_context
def search(ctx: click.Context, words: tuple[str, ...], since: str | None, agency: str | None,
           category: str | None, limit: int, as_json: bool) -> None:
    """Full-text search of stored titles and bodies, best match first (every word must appear;
    Chinese matches where its characters stand together, "quoted phrases" as they are)."""
    query = " ".join(words)
    import sqlite3

    from .classify import CATEGORIES
    from .store.db import StoreError
    from .store.filters import NoticeFilter
    from .store.search import index_pending
    from .store.search import search as run_search

    app = _app(ctx)
    _known("--category", category, CATEGORIES, fold=True)
    if limit < 1:
        raise UserError("--limit: expected a number of 1 or more")
    if app.config.database_path.exists():  # index what the polls queued; a user who cannot write still finds it
        with contextlib.suppress(StoreError, sqlite3.Error):
            app.conn.execute("PRAGMA busy_timeout = 2000")  # a pass of the service holds the lock: scan instead
            index_pending(app.conn)
    found = run_search(app.reader, query, NoticeFilter(since=since, agency=agency, category=category), limit)
    if as_json:
        click.echo(json.dumps({"query": query, "count": len(found), "results": [{
            "id": r["id"], "title": r["title"], "title_en": english(r["title"]) or None, "url": r["url"],
            "agency": r["agency"], "source": r["source_id"], "published": r["published"],
            "category": r["category"], **_tags_and_topics(json.loads(r["tags"])), "score": r["score"],
            "snippet": _snippet(query, r["title"], r["body"])} for r in found]}, ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo(f"no notice matches {query!r}")
        return
    for r in found:
        click.echo(f"#{r['id']:<6} {r['published'] or '':<10} {r['agency']:<5} {r['title']}")
        click.echo(f"        {_snippet(query, r['title'], r['body'])}")


def _snippet(query: str, title: str, body: str) -> str:
    """Where the query's words are, «marked»."""
    from .store.search import snippet

    return "".join(f"«{text}»" if hit else text for text, hit in snippet(query, title, body))


@main.command()
@click.argument("notice_id", metavar="ID", type=int)
@json_option
@click.pass_context
def show(ctx: click.Context, notice_id: int, as_json: bool) -> None:
    """One notice in full: fields, classification and why, attachments, versions, English, alerts."""
    from .store import views

    app = _app(ctx)
    notice = views.notice_in_full(app.reader, notice_id)
    if notice is None:
        raise UserError(f"no notice with id {notice_id} (see `regwatch notices` or `regwatch search`)")
    notice["title_en"] = (notice["translation"] or {}).get("title_en") or english(notice["title"]) or None
    for key in ("tags", "rules"):
        notice[key] = json.loads(notice[key] or "[]")
    if as_json:
        click.echo(json.dumps(notice, ensure_ascii=False, indent=2))
        return
    zone = app.config.display.zone
    notes = app.classifier.notes()
    tags, topics = split_tags(notice["tags"])
    lines = [notice["title"], *([notice["title_en"]] if notice["title_en"] else []), notice["url"] or "", "",
             f"agency:    {notice['agency']} · source {notice['source_id']}",
             f"published: {notice['published_at'] or notice['published'] or '—'} · first seen "
             f"{shown(notice['first_seen'], zone)}" + (" (baseline)" if notice["baseline"] else ""),
             f"文号:      {notice['doc_number'] or '—'} · issuer {notice['issuer'] or '—'}"
             + (f" · comments due {notice['deadline']}" if notice["deadline"] else ""),
             f"category:  {notice['category']} (confidence {notice['confidence']}"
             + (", to check" if notice["review"] else "") + f") · {notice['doc_type']} · {notice['status']}",
             f"tags:      {', '.join(tags) or '(none)'}" + (f" · topics {', '.join(topics)}" if topics else ""),
             f"rules {notice['rules_version']}:"]
    lines += [f"  {rule}" + (f" — {notes[rule]}" if notes.get(rule) else "") for rule in notice["rules"]]
    for verdict in notice["verdicts_replaced"]:
        lines.append(f"  earlier ({verdict['reason']}, {shown(verdict['replaced_at'], zone)}): {verdict['category']}")
    if notice["attachments"]:
        lines.append("attachments:")
        for a in notice["attachments"]:
            read = (f"{a['text_chars']} characters" + (f", {a['pages']} pages" if a["pages"] else "")
                    if a["state"] == "done" else a["state"] + (f": {a['error']}" if a["error"] else ""))
            size = f", {a['size'] / 1024:.0f} KB, sha256 {a['sha256'][:12]}" if a["size"] else ""
            lines.append(f"  {a['name']} ({a['kind'] or a['type']}{size}) {a['url']}\n    text: {read}")
    if notice["follows"]:
        earlier = notice["follows"]
        lines.append(f"follows:   #{earlier['id']} {earlier['title']} ({earlier['published'] or '?'}, "
                     f"{earlier['status']}) — `regwatch diff {notice['id']}` compares them")
    lines += [f"followed by: #{later['id']} {later['title']} ({later['published'] or '?'}, {later['status']})"
              for later in notice["followed_by"]]
    if notice["versions"]:
        lines.append(f"versions: now {notice['version']}; before:")
        lines += [f"  v{v['version']} until {shown(v['replaced_at'], zone)}: {v['title']}" for v in notice["versions"]]
    if notice["translation"]:
        tr = notice["translation"]
        lines.append(f"English ({tr['state']}, {tr['model']}, prompt {tr['prompt_version']}): "
                     f"{tr['summary_en'] or tr['error'] or ''}")
    lines.append("alerts:" if notice["alerts"] else "alerts: none (baseline, or no instant subscription)")
    lines += [f"  {a['subscription']}: {a['kind']} {a['state']} after {a['attempts']} attempt(s)"
              + (f", sent {shown(a['sent_at'], zone)}" if a["sent_at"] else "")
              + (f", message {a['message_key']}" if a["message_key"] else "") for a in notice["alerts"]]
    if notice["body"]:
        lines += ["", " ".join(notice["body"].split())[:2000]]
    click.echo("\n".join(lines))


@main.command("diff")
@click.argument("ids", metavar="ID [ID]", nargs=-1, type=int, required=True)
@json_option
@click.pass_context
def diff_command(ctx: click.Context, ids: tuple[int, ...], as_json: bool) -> None:
    """What changed between two versions of an instrument, article by article (第X条): with one ID, between
    the notice and the earlier version it follows (its draft), or what it was before its last edit; with
    two, from the first to the second."""
    from .articles import compare, inline_diff, legal_text
    from .parse.instrument import relation
    from .store.versions import before_last_edit, texts

    if len(ids) > 2:
        raise UserError("diff: give one notice id (compared with the version it follows) or two (OLD NEW)")
    app = _app(ctx)
    found = texts(app.reader, list(ids))
    for notice_id in ids:
        if notice_id not in found:
            raise UserError(f"no notice with id {notice_id} (see `regwatch notices` or `regwatch search`)")
    if len(ids) == 1:
        new = found[ids[0]]
        if new["follows"] is not None:
            old = texts(app.reader, [new["follows"]])[new["follows"]]
        elif (edited := before_last_edit(app.reader, ids[0])) is not None:  # the same notice before its edit
            old = {**new, **edited, "attachment_text": new["attachment_text"], "follows": None,
                   "title": f"{edited['title']} (v{edited['version']}, before its last edit)"}
        else:
            raise UserError(f"#{ids[0]} follows no earlier version and was never edited; "
                            "compare two notices with `regwatch diff OLD NEW`")
    else:
        old, new = found[ids[0]], found[ids[1]]
    for version in (old, new):
        version["text"] = legal_text(version["body"], version["attachment_text"])
        if not version["text"].strip():
            raise UserError(f"#{version['id']} has no text yet (its own page has not been read): nothing to compare")
    comparison = compare(old["text"], new["text"])
    link = "edit" if old["id"] == new["id"] else relation(old["status"], new["status"], new["title"])
    changes = [{"kind": c.kind, "old": c.old.number if c.old else None, "new": c.new.number if c.new else None,
                "old_text": c.old.text if c.old else None, "new_text": c.new.text if c.new else None,
                "diff": inline_diff(c.old.text, c.new.text) if c.kind == "changed" and c.old and c.new else None}
               for c in comparison.changes]
    if as_json:
        keep = ("id", "title", "agency", "url", "published", "deadline", "status")
        click.echo(json.dumps({"old": {k: old[k] for k in keep}, "new": {k: new[k] for k in keep}, "relation": link,
                               "by_article": comparison.by_article, "summary": comparison.summary(),
                               "counts": {k: comparison.count(k) for k in ("changed", "added", "removed",
                                                                             "renumbered", "unchanged")},
                               "changes": changes}, ensure_ascii=False, indent=2))
        return
    from . import labels

    for version in (old, new):
        click.echo(f"#{version['id']:<6} {version['published'] or '?':<10} {version['status'] or '':<6} "
                   f"{version['title']}")
    if link == "edit":
        click.echo(f"edited in place: {comparison.summary()}")
    else:
        click.echo(labels.version_note(link, old["published"], old["deadline"], comparison.summary(), "", "en")
                   if len(ids) == 1 or new["follows"] == old["id"] else comparison.summary())
    unit = "" if comparison.by_article else "paragraph "
    for change in comparison.changes:
        if change.kind == "unchanged":
            continue
        if change.kind == "added" and change.new:
            click.echo(f"\n{unit}{change.new.number} added:\n  + {change.new.text}")
        elif change.kind == "removed" and change.old:
            click.echo(f"\n{unit}{change.old.number} removed:\n  - {change.old.text}")
        elif change.kind == "renumbered" and change.old and change.new:
            click.echo(f"\n{change.old.number} → {change.new.number} renumbered, text unchanged")
        elif change.old and change.new:
            moved = f" → {change.new.number}" if change.renumbered else ""
            marked = inline_diff(change.old.text, change.new.text)
            click.echo(f"\n{unit}{change.old.number}{moved} changed:\n  {marked}")


@main.command()
@_notice_filters
@click.option("--limit", default=100, show_default=True, help="At most this many, newest first.")
@json_option
@click.pass_context
def notices(ctx: click.Context, since: str | None, agency: str | None, source_id: str | None,
            category: str | None, tag: str | None, limit: int, as_json: bool) -> None:
    """List stored notices, newest first."""
    from .classify import CATEGORIES, TAGS

    app = _app(ctx)
    _known("--category", category, CATEGORIES, fold=True)
    _known("--tag", tag, TAGS)
    _known("--source", source_id, app.sources)
    _known("--agency", agency, {s.agency for s in app.sources.values()}, fold=True)
    if limit < 1:
        raise UserError("--limit: expected a number of 1 or more")
    from .store import views
    from .store.filters import NoticeFilter

    rows, truncated = views.notices(app.reader, NoticeFilter(since, agency, source_id, category, tag), limit)
    if as_json:
        items = [_notice_record(r) for r in rows]
        click.echo(json.dumps({"count": len(items), "notices": items, "limit": limit, "truncated": truncated},
                              ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("0 notices")
        return
    zone = app.config.display.zone
    for r in rows:  # the list's date is the regulator's (Beijing) date; times are shown in the display zone
        click.echo(f"{r['published'] or '----------'}  {r['agency']:<5} {r['category'] or '':<16} {r['title']}")
        extras = [f"published {shown(r['published_at'], zone)}" if r["published_at"] else None, r["doc_number"],
                  f"deadline {r['deadline']}" if r["deadline"] else None, ", ".join(json.loads(r["tags"])) or None,
                  "category to check" if r["review"] else None,
                  f"first seen {shown(r['first_seen'], zone)}"]
        click.echo(f"{'':12}{r['url'] or ''}  {'  '.join(e for e in extras if e)}")
    click.echo(f"{len(rows)} notices" + (f" — stopped at the limit of {limit}; more match (use --limit)"
                                         if truncated else ""))


@main.command()
@json_option
@click.pass_context
def sources(ctx: click.Context, as_json: bool) -> None:
    """Each watched source with its last poll, health state and counts."""
    from .service.status import source_report

    app = _app(ctx)
    out = source_report(app.reader, app.sources)
    if as_json:
        click.echo(json.dumps({"sources": out}, ensure_ascii=False, indent=2))
        return
    zone = app.config.display.zone
    for entry in out:
        when = shown(entry["last_poll"]["finished_at"] if entry["last_poll"] else None, zone)
        click.echo(f"{entry['id']:<24} {entry['agency']:<5} {entry['set']:<9} {entry['state']:<15} last poll {when}"
                   f"  {entry['notices']} notices")
        if entry["state"] not in ("ok", "ok-no-new", "never-polled") and entry["last_error"]:
            click.echo(f"{'':24} since {shown(entry['state_since'], zone)}: {entry['last_error']}")


@main.command("check-source")
@click.argument("source_id", metavar="ID")
@click.option("--from-file", "from_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A saved page (list, API answer or detail page).")
@click.option("--url", help="Fetch this address live instead of the source's list URL.")
@json_option
@click.pass_context
def check_source(ctx: click.Context, source_id: str, from_file: Path | None, url: str | None,
                 as_json: bool) -> None:
    """Run one source's parser once and show what it finds; stores nothing. Exit 1 unless ok."""
    from .check import check_file, check_url

    app = _app(ctx)
    (source,) = _pick_sources(app, (source_id,))
    if from_file is not None:
        result = check_file(source, from_file.read_bytes(), url)
    else:
        result = _run(check_url(app.config, source, url))
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{result.source}: {result.state}" + (f" — {result.error}" if result.error else ""))
        click.echo(f"{result.page} page, {result.rows} rows read"
                   + (f", {result.row_markers} row markers" if result.row_markers is not None else ""))
        for item in result.items:
            click.echo(f"  {item.get('published') or '----------'}  {item['title']}")
            click.echo(f"  {'':10}  {item.get('url') or ''}")
            if item.get("published_at"):
                click.echo(f"  {'':10}  published_at: {shown(item['published_at'], app.config.display.zone)}")
            for key in ("issuer", "doc_number", "deadline"):
                if item.get(key):
                    click.echo(f"  {'':10}  {key}: {item[key]}")
            for attachment in item.get("attachments") or []:
                click.echo(f"  {'':10}  attachment ({attachment['type']}): {attachment['name']}")
            if item.get("body"):
                click.echo(f"  {'':10}  body: {' / '.join(item['body'].splitlines())[:120]}…")
        if result.next_page:
            click.echo(f"next page: {result.next_page}")
    if result.state != "ok":
        ctx.exit(1)


@main.command()
@click.argument("text", required=False)
@click.option("--body", "body_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A file with the notice's body text.")
@click.option("--source", "source_id", default="", metavar="ID", help="Classify as if from this source (priors).")
@click.option("--explain", is_flag=True, help="Show the scores and the rules that fired.")
@click.option("--json", "as_json", is_flag=True,
              help="Read one title (or a JSON object with title, body, source) per line on stdin; "
                   "write one JSON object per line.")
@click.pass_context
def classify(ctx: click.Context, text: str | None, body_file: Path | None, source_id: str, explain: bool,
             as_json: bool) -> None:
    """Classify a title (or, with --json, many) the way stored notices are classified."""
    app: App = ctx.obj
    classifier = app.classifier
    if as_json:
        _classify_stream(classifier, source_id)
        return
    if not text:
        raise click.UsageError("give a TEXT to classify, or --json to read titles from stdin")
    agency = source_id.split("-")[0].upper() if source_id else ""
    body = body_file.read_text(encoding="utf-8") if body_file else ""
    verdict = classifier.classify(text, body, source_id, agency)
    click.echo(f"category: {verdict.category} (confidence {verdict.confidence:.2f}"
               + (", to check by a person)" if verdict.review else ")"))
    tags, topics = split_tags(verdict.tags)
    click.echo(f"tags:     {', '.join(tags) or '(none)'}")
    if topics:
        click.echo(f"topics:   {', '.join(topics)}")
    click.echo(f"type:     {verdict.doc_type} ({verdict.status})")
    if explain:
        click.echo(f"rules {verdict.version} ({classifier.path}):")
        for category, score in sorted(verdict.scores.items(), key=lambda kv: -kv[1]):
            click.echo(f"  {category:<16} {score:+.2f}")
        notes = classifier.notes()
        for rule_id in verdict.rules:
            click.echo(f"  fired: {rule_id}" + (f" — {notes[rule_id]}" if notes.get(rule_id) else ""))


def _classify_stream(classifier: Classifier, source_id: str) -> None:
    """JSON lines in, JSON lines out; a bad line gets an error object and the run goes on. The answers to
    what one read of the input brought are written at once and flushed before the next read waits: a
    program that sends a line and waits for its answer gets it, and 10,000 titles piped in are not
    10,000 writes (under PYTHONUNBUFFERED, as in many containers, each was a write to the pipe, and
    the reader woken for each: 2.14 s for 10,000 titles here against 1.86 s). Its own buffered file,
    as the children's answers have (baseline_child.answer_pipe)."""
    out = _own_buffered_stdout()
    number = 0
    for lines in _lines_as_read(getattr(sys.stdin.buffer, "raw", sys.stdin.buffer)):  # (raw: what a read brings)
        answers = []
        for raw in lines:
            number += 1
            answers.append(_classify_line(classifier, source_id, number, raw))
        out.write("".join(answers).encode())
        out.flush()


def _own_buffered_stdout() -> BinaryIO:
    """Standard output as a buffered binary file of its own (sys.stdout's own buffer, where it has no file)."""
    try:
        return open(sys.stdout.fileno(), "wb", closefd=False)
    except (AttributeError, OSError):  # (io.UnsupportedOperation is an OSError)
        return sys.stdout.buffer


def _lines_as_read(stream: Any, size: int = 1 << 16) -> Iterator[list[bytes]]:
    """The complete lines each read of `stream` brings (a last line without its newline at the end). An
    unbuffered read returns what the pipe holds, not `size` bytes; a non-blocking one waits for some."""
    pending = b""
    while True:
        chunk = stream.read(size)
        if chunk is None:  # (a non-blocking input with nothing yet: wait for it, not take it for the end)
            select.select([stream], [], [])
            continue
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        if lines:
            yield lines
    if pending:
        yield [pending]


def _classify_line(classifier: Classifier, source_id: str, number: int, raw: bytes) -> str:
    """One input line's answer as a JSON line."""
    try:
        line = raw.decode("utf-8").strip()
        if not line:
            raise ValueError("empty line")
        record = json.loads(line) if line.startswith("{") else {"title": line}
        if not isinstance(record, dict) or not isinstance(record.get("title"), str) or not record["title"]:
            raise ValueError("a JSON line needs a non-empty string \"title\"")
        source = str(record.get("source") or source_id)
        verdict = classifier.classify(record["title"], str(record.get("body") or ""), source,
                                      source.split("-")[0].upper())
        result = {"title": record["title"], "category": verdict.category, **_tags_and_topics(verdict.tags),
                  "doc_type": verdict.doc_type, "status": verdict.status, "rules": verdict.rules,
                  "confidence": verdict.confidence, "review": verdict.review}
    except (UnicodeDecodeError, ValueError) as exc:
        result = {"line": number, "error": f"{type(exc).__name__}: {exc}"[:300]}
    return json.dumps(result, ensure_ascii=False) + "\n"


@main.command()
@click.argument("text", required=False)
@json_option
@click.pass_context
def translate(ctx: click.Context, text: str | None, as_json: bool) -> None:
    """The English gloss of a Chinese title (or of each line on stdin), from the glossary in use.

    Terms the glossary does not cover stay in Chinese, in [brackets]; `covered` is the share of the
    title's Chinese characters it read. Extend it with `[translate] glossary = "your.toml"`.
    """
    from .translate import glossary as load_glossary

    app: App = ctx.obj
    words = load_glossary(app.config.translate.glossary)
    titles = [text] if text else [line.strip() for line in sys.stdin if line.strip()]
    if not titles:
        raise click.UsageError("give a TEXT to translate, or titles on stdin")
    for title in titles:
        gloss = words.gloss(title)
        if as_json:
            click.echo(json.dumps({"title": title, "title_en": gloss.text, "covered": gloss.covered,
                                   "unknown": gloss.unknown, "glossary": words.version}, ensure_ascii=False))
        else:
            missing = f"   (not in the glossary: {', '.join(gloss.unknown)})" if gloss.unknown else ""
            click.echo(f"{gloss.text}{missing}")


@main.command()
@click.pass_context
def reclassify(ctx: click.Context) -> None:
    """Re-run the current rules over every stored notice and report what moved."""
    from .store.classification import reclassify_all

    app = _app(ctx)
    moves = reclassify_all(app.conn, app.classifier.classify)
    click.echo(f"rules {app.classifier.version}: {len(moves)} notice(s) changed")
    summary = Counter((m.before[0] or "unclassified", m.after[0]) for m in moves)
    for (before, after), count in sorted(summary.items(), key=lambda kv: -kv[1]):
        click.echo(f"  {count:>5}  {before} → {after}" if before != after else f"  {count:>5}  {before} (tags/type)")
    for move in moves:
        click.echo(f"#{move.notice_id} {move.title}")
        click.echo(f"    {_describe_move(move)}")


def _describe_move(move: Any) -> str:
    """`News Reports → Law Enforcement; tags +apps −telecom; type circular → penalty decision`."""
    (category, tags, doc_type, status), (new_category, new_tags, new_type, new_status) = move.before, move.after
    parts = [f"{category or 'unclassified'} → {new_category}" if category != new_category else new_category]
    added, removed = sorted(set(new_tags) - set(tags)), sorted(set(tags) - set(new_tags))
    if added or removed:
        parts.append("tags " + " ".join([*(f"+{t}" for t in added), *(f"−{t}" for t in removed)]))
    if doc_type != new_type:
        parts.append(f"type {doc_type} → {new_type}")
    if status != new_status:
        parts.append(f"status {status} → {new_status}")
    return "; ".join(parts)


def _deliver(app: App) -> Any:
    from .deliver.sender import deliver_due

    return _run(deliver_due(app.config, app.conn))


def _echo_delivery(report: Any) -> None:
    click.echo(f"delivery: {report.sent} message(s) with {report.items} alert(s) sent, {report.retrying} to retry, "
               f"{report.dead} dead, {report.filtered} filtered out")


@main.command()
@click.pass_context
def deliver(ctx: click.Context) -> None:
    """Send what the outbox holds that is due (poll does this after every pass). Exit 1 on failures."""
    app = _app(ctx)
    app.sources  # noqa: B018 -- loading them checks the subscriptions' filters against them
    _exclusive(ctx, app, "regwatch deliver")
    report = _deliver(app)
    _echo_delivery(report)
    if report.retrying or report.dead:
        ctx.exit(1)


@main.group()
def notify() -> None:
    """Channels: send a test message."""


@notify.command("test")
@click.argument("name")
@click.option("--to", "to", multiple=True, metavar="ADDR", help="Email only: send to this address instead "
              "of the subscription's recipients (repeatable).")
@click.pass_context
def notify_test(ctx: click.Context, name: str, to: tuple[str, ...]) -> None:
    """Send a test message through subscription NAME and print the platform's verdict.

    Chat and webhook subscriptions get a sample alert (a generic webhook's type is regwatch.test);
    email subscriptions get a short test mail. Nothing is recorded: no alert, no digest period.
    """
    app = _app(ctx.find_root())
    sub = next((s for s in app.config.subscription if s.name == name), None)
    if sub is None:
        names = [s.name for s in app.config.subscription]
        raise UserError(f"no subscription is named {name!r}{did_you_mean(name, names)}")
    if sub.channel == "email":
        from .digest import send_test_mail
        from .digest.mail import MailError

        if any("@" not in address for address in to):
            raise UserError("--to: expected an email address")
        recipients = list(to) or sub.to
        try:
            send_test_mail(app.config, sub, recipients)
        except MailError as exc:
            click.echo(f"{name} (email): failed — {exc}")
            ctx.exit(1)
        click.echo(f"{name} (email): ok — test message accepted by {app.config.smtp.host} for {', '.join(recipients)}")
        return
    if to:
        raise UserError("--to: only email subscriptions take --to")
    from .deliver import http
    from .deliver.channels import channel_for
    from .deliver.sender import sample_message, send_message

    async def go() -> Any:
        async with http.session(app.config.delivery.timeout) as client:
            return await send_message(client, channel_for(sub), sample_message(sub), 1)

    outcome = _run(go())
    click.echo(f"{name} ({sub.channel}): {outcome.result} — {outcome.detail}")
    if outcome.result != "ok":
        ctx.exit(1)


@main.group(invoke_without_command=True)
@json_option
@click.pass_context
def outbox(ctx: click.Context, as_json: bool) -> None:
    """Deliveries not yet done: pending, retrying and dead."""
    if ctx.invoked_subcommand is not None:
        return
    app = _app(ctx.find_root())
    from .store import views

    rows, counts = views.outbox_open(app.reader), views.outbox_counts(app.reader)
    if as_json:
        click.echo(json.dumps({"counts": counts, "outbox": rows}, ensure_ascii=False, indent=2))
        return
    click.echo("  ".join(f"{state}: {n}" for state, n in sorted(counts.items())) or "the outbox is empty")
    for r in rows:
        click.echo(f"{r['state']:<9} {r['subscription']:<20} attempts {r['attempts']:<3} {(r['title'] or '')[:50]}")
        if r["last_error"]:
            click.echo(f"{'':10}{r['last_error']}  (next try {r['next_attempt_at'] or '-'})")


@outbox.command("retry")
@click.option("--subscription", help="Only this subscription's dead deliveries.")
@click.pass_context
def outbox_retry(ctx: click.Context, subscription: str | None) -> None:
    """Queue dead deliveries again (after fixing the channel)."""
    from .store.outbox import requeue_dead

    app = _app(ctx.find_root())
    click.echo(f"{requeue_dead(app.conn, subscription)} dead deliveries queued again")


@outbox.command("release")
@click.option("--source", "source_id", metavar="ID", help="Only the alerts of this source's notices.")
@click.option("--subscription", help="Only this subscription's held alerts.")
@click.pass_context
def outbox_release(ctx: click.Context, source_id: str | None, subscription: str | None) -> None:
    """Send alerts the flood guard held (after checking the burst was real news)."""
    from .store.outbox import release_held

    app = _app(ctx.find_root())
    _known("--source", source_id, app.sources)
    _known("--subscription", subscription, [s.name for s in app.config.subscription])
    count = release_held(app.conn, source_id, subscription)
    click.echo(f"{count} held alert(s) released; they go out with the next delivery pass")


@main.group()
def digest() -> None:
    """The email digest: preview it, or send it now."""


def _digest_subscriptions(app: App, name: str | None) -> list[Any]:
    from .digest import email_subscriptions

    subs = email_subscriptions(app.config, name)
    if name and not subs:
        known = [s.name for s in email_subscriptions(app.config)]
        raise UserError(f"--subscription: no email digest subscription is named {name!r}{did_you_mean(name, known)}")
    return subs


@digest.command("preview")
@click.option("--subscription", "name", help="Render this subscription's digest (default: the first, or all notices).")
@click.option("--since", metavar="DATE", callback=lambda ctx, param, value: _date_option("--since", value, times=True),
              help="Start of the period, YYYY-MM-DD or an ISO 8601 time, Beijing time unless it says "
                   "(default: where the next digest would start).")
@click.option("--include-baseline", is_flag=True, help="Also list what sources' first polls recorded "
              "(what a bulletin will look like, on a new install).")
@click.option("--format", "fmt", type=click.Choice(["html", "text"]), default="text", show_default=True)
@click.option("-o", "output", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.pass_context
def digest_preview(ctx: click.Context, name: str | None, since: str | None, include_baseline: bool, fmt: str,
                   output: Path | None) -> None:
    """Render a digest without sending or recording it."""
    from datetime import datetime

    from .clock import SHANGHAI
    from .config import SubscriptionConfig
    from .digest.build import build_digest, period_for
    from .digest.render import render

    app = _app(ctx.find_root())
    if output is not None and not output.parent.is_dir():
        raise UserError(f"-o: the directory {output.parent} does not exist")
    subs = _digest_subscriptions(app, name)
    sub = subs[0] if subs else SubscriptionConfig(name="preview", channel="email", mode="digest")
    start = None
    if since:
        start = datetime.fromisoformat(since)
        start = start if start.tzinfo else start.replace(tzinfo=SHANGHAI)
    begin, end = period_for(app.reader, sub, clock.now(), start)
    text = render(build_digest(app.reader, sub, app.sources, begin, end, include_baseline), fmt, sub.unsubscribe)
    if output:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise Failure(f"-o: cannot write {output}: {exc.strerror}") from None
        click.echo(f"wrote {output}")
    else:
        click.echo(text)


@digest.command("send")
@click.option("--subscription", "name", help="Only this subscription (default: every email digest).")
@click.pass_context
def digest_send(ctx: click.Context, name: str | None) -> None:
    """Send the digest now and record its period. Exit 1 if any failed."""
    from .digest import send_digest

    app = _app(ctx.find_root())
    subs = _digest_subscriptions(app, name)
    if not subs:
        raise UserError("no email digest subscription is configured")
    _exclusive(ctx, app, "regwatch digest send")
    failed = False
    for sub in subs:
        result = send_digest(app.config, app.conn, sub, app.sources)
        if result.skipped:
            click.echo(f"{sub.name}: nothing new, not sent (send_empty = false)")
        elif result.sent:
            click.echo(f"{sub.name}: sent, {result.notices} notice(s)")
        else:
            failed = True
            click.echo(f"{sub.name}: NOT sent — {result.error}; the next digest will cover this period too")
    if failed:
        ctx.exit(1)


@main.command()
@click.pass_context
def run(ctx: click.Context) -> None:
    """Run as a service: poll on schedule, deliver alerts, send digests (see systemd/regwatch.service)."""
    from .service.daemon import Loaded, ServiceError, serve

    app = _app(ctx)
    database = app.config.database_path
    lost = not database.exists() and Path(f"{database}.lock").exists()  # regwatch ran with it here before
    _exclusive(ctx, app, "regwatch run")

    def load() -> Loaded:  # SIGHUP: everything read afresh, through the same App as at start
        return App(str(app.config_file) if app.config_file else None).loaded()

    try:
        code = _run(serve(load, app.config, database_was_lost=lost))
    except ServiceError as exc:
        raise Failure(str(exc)) from None
    ctx.exit(code)


@main.command("status")
@json_option
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Each source's state and last poll, the outbox, the last digest per subscription, the last error."""
    from .service.lock import InstanceLock
    from .service.status import status

    app = _app(ctx)
    lock = InstanceLock(app.config.database_path, "status")
    report = {"service": {"running": lock.is_held_elsewhere(), **({"holder": lock.holder()}
                                                                   if lock.is_held_elsewhere() else {})},
              **status(app.config, app.reader, app.sources)}
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    zone = app.config.display.zone
    service = report["service"]
    click.echo("service: " + (f"running (pid {service['holder'].get('pid')}, since "
                              f"{shown(service['holder'].get('since'), zone, 'unknown')})"
                              if service["running"] else "not running"))
    for s in report["sources"]:
        line = f"  {s['id']:<24} {s['state']:<15} last poll {shown(s['last_poll'], zone)}"
        if s["deferred_until"]:
            line += f"; deferred until {shown(s['deferred_until'], zone)} (the site asked: Retry-After)"
        click.echo(line + (f" — {s['last_error']}" if s["last_error"] else ""))
    box = report["outbox"]
    click.echo(f"outbox: {box['pending']} pending, {box['retrying']} retrying, {box['dead']} dead, "
               f"{box['held']} held by the flood guard"
               + (f"; oldest pending since {shown(box['oldest_pending'], zone)}" if box["oldest_pending"] else ""))
    for d in report["digests"]:
        attempt = d["last_attempt"]
        upcoming = shown(d["next_send"], ZoneInfo(d["timezone"])) + f" ({d['timezone']})" if d["next_send"] else "never"
        click.echo(f"digest {d['subscription']}: next send {upcoming}; sent up to {shown(d['last_sent_until'], zone)}"
                   + (f"; last try {attempt['state']} {attempt['error'] or ''}" if attempt else ""))
    if report["last_error"]:
        e = report["last_error"]
        click.echo(f"last error: {e['source_id']} {e['state']} at {shown(e['finished_at'], zone)}: {e['error']}")


@main.command()
@click.option("--days", default=60, show_default=True, help="Look this many days ahead.")
@json_option
@click.pass_context
def deadlines(ctx: click.Context, days: int, as_json: bool) -> None:
    """Comment periods still open and instruments taking effect soon, soonest first."""
    from .ical import span
    from .store import views

    app = _app(ctx)
    if days < 0:
        raise UserError("--days: expected 0 or more")
    start, end = span(days, days_back=0)
    found = views.dates_ahead(app.reader, start, end)
    if as_json:
        click.echo(json.dumps({"from": start, "days": days, "dates": [
            {**row, "title_en": english(row["title"]) or None} for row in found]}, ensure_ascii=False, indent=2))
        return
    if not found:
        click.echo(f"no comment period closes and nothing takes effect in the next {days} days")
    for row in found:
        what = "comments close" if row["kind"] == "comments-close" else "takes effect  "
        click.echo(f"{row['day']}  {what}  #{row['id']:<6} {row['agency']:<5} {row['title']}")


@main.command()
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write the iCalendar file here.")
@click.option("--days", default=365, show_default=True, help="Dates up to this many days ahead (and 30 back).")
@click.pass_context
def calendar(ctx: click.Context, output: Path, days: int) -> None:
    """Write comment deadlines and effective dates as an iCalendar file (.ics) to subscribe to."""
    from .ical import calendar as ical_calendar
    from .ical import span
    from .store import views

    app = _app(ctx)
    found = views.dates_ahead(app.reader, *span(days))
    try:
        output.write_text(ical_calendar(found), encoding="utf-8", newline="")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{len(found)} dates written to {output}")


@main.command()
@click.option("--subscription", "name", metavar="NAME", help="What this subscription's filters select (default: all).")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write the Atom feed here.")
@click.pass_context
def feed(ctx: click.Context, name: str | None, output: Path) -> None:
    """Write an Atom feed of the newest notices (a subscription's, or all); the service serves the same
    at /feeds/NAME.atom and /feeds/all.atom when [service] http is set."""
    from .deliver.atom import SCANNED, atom
    from .store import views

    app = _app(ctx)
    sub = None
    if name:
        sub = next((s for s in app.config.subscription if s.name == name), None)
        if sub is None:
            names = [s.name for s in app.config.subscription]
            raise UserError(f"no subscription named {name!r}{did_you_mean(name, names)}")
    text = atom(views.recent_notices(app.reader, SCANNED), output.resolve().as_uri(), sub)
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{text.count('<entry>')} entries written to {output}")


EXPORT_COLUMNS = ("id", "agency", "source", "title", "title_en", "url", "published", "published_at", "first_seen",
                  "category", "tags", "topics", "doc_type", "status", "doc_number", "issuer", "deadline",
                  "effective", "confidence", "review", "baseline")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "xlsx"]), default="csv", show_default=True)
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Write the export here.")
@_notice_filters
@click.pass_context
def export(ctx: click.Context, fmt: str, output: Path, since: str | None, agency: str | None,
           source_id: str | None, category: str | None, tag: str | None) -> None:
    """Every stored notice the filters select, newest first, as CSV (UTF-8 with a BOM, for Excel), JSON
    lines or an .xlsx workbook: for audit, and for teams that keep their own register."""
    from .classify import CATEGORIES, TAGS
    from .store import views
    from .store.filters import NoticeFilter

    app = _app(ctx)
    _known("--category", category, CATEGORIES, fold=True)
    _known("--tag", tag, TAGS)
    rows, _ = views.notices(app.reader, NoticeFilter(since, agency, source_id, category, tag), 10_000_000)
    records = []
    for r in rows:
        record = {**_notice_record(r), "effective": r["effective"]}
        records.append({column: record[column] for column in EXPORT_COLUMNS})
    try:
        _write_export(fmt, output, records)
    except OSError as exc:
        raise UserError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{len(records)} notices written to {output}")


def _cell(value: Any) -> Any:
    """A spreadsheet cell: lists joined, and text that a spreadsheet would run as a formula (=, +, -, @ first:
    a hostile title) kept as text."""
    if isinstance(value, list):
        value = "; ".join(value)
    return f"'{value}" if isinstance(value, str) and value[:1] in "=+-@" else value


def _write_export(fmt: str, output: Path, records: list[dict[str, Any]]) -> None:
    flat = [{k: _cell(v) for k, v in record.items()} for record in records]
    if fmt == "jsonl":
        output.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    elif fmt == "csv":
        import csv

        with output.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=EXPORT_COLUMNS)
            writer.writeheader()
            writer.writerows(flat)
    else:
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        sheet.title = "notices"
        sheet.append(list(EXPORT_COLUMNS))
        for r in flat:
            sheet.append([r[c] for c in EXPORT_COLUMNS])
        book.save(output)


@main.command()
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535),
              help="Listen on 127.0.0.1:PORT.")
@click.option("--open", "open_browser", is_flag=True, help="Open it in the web browser.")
@click.option("--metadata", "metadata_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Only write Datasette's metadata (descriptions, search, canned queries) to this file.")
@click.pass_context
def browse(ctx: click.Context, port: int, open_browser: bool, metadata_file: Path | None) -> None:
    """The database in Datasette, read-only, with every table and column described, search set up
    and canned queries (needs `pip install 'regwatch[browse]'`). It has no login: it listens on 127.0.0.1 only."""
    import importlib.util
    import subprocess
    import tempfile

    from .browse import metadata

    app = _app(ctx)
    path = app.config.database_path
    described = json.dumps(metadata(path.stem), ensure_ascii=False, indent=2)
    if metadata_file is not None:
        if not metadata_file.parent.is_dir():
            raise UserError(f"--metadata: the directory {metadata_file.parent} does not exist")
        metadata_file.write_text(described, encoding="utf-8")
        click.echo(f"Datasette metadata written to {metadata_file}")
        return
    if not path.exists():
        raise UserError(f"no database at {path} yet: nothing has been polled with this configuration")
    if importlib.util.find_spec("datasette") is None:
        raise Failure("regwatch browse needs Datasette: pip install 'regwatch[browse]'")
    import sqlite3

    from .store.db import StoreError
    from .store.search import index_pending

    with contextlib.suppress(StoreError, sqlite3.Error):  # Datasette reads the index as it is: complete it first
        index_pending(app.conn)
    with tempfile.TemporaryDirectory(prefix="regwatch-browse-") as work:
        metadata_path = Path(work) / "metadata.json"
        metadata_path.write_text(described, encoding="utf-8")
        command = [sys.executable, "-m", "datasette", "serve", str(path), "--metadata", str(metadata_path),
                   "--host", "127.0.0.1", "--port", str(port), "--setting", "sql_time_limit_ms", "3000",
                   *(["--open"] if open_browser else [])]
        click.echo(f"Datasette on http://127.0.0.1:{port}/{path.stem} (read-only; Ctrl-C stops it)", err=True)
        try:
            code = subprocess.call(command)
        except KeyboardInterrupt:
            code = 0
    ctx.exit(code)


@main.command("check-config")
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Validate the config and watchlists; print the effective config with secrets masked."""
    app: App = ctx.obj
    config, sources = app.config, app.sources
    where = app.config_file or "built-in defaults (no config file found)"
    click.echo(f"# config: {where}")
    click.echo(f"# watchlists: {app.watchlist_dir} ({len(sources)} sources watched of {len(app.all_sources)}; "
               f"sets {', '.join(config.watch.sets)})")
    click.echo(f"# database: {config.database_path}")
    click.echo(dump_toml(to_plain(config)))


@main.command()
@click.argument("root", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--port", default=8765, show_default=True)
@click.option("--latency", default=0.0, help="Seconds added to every answer.")
def replay(root: Path, port: int, latency: float) -> None:
    """Serve saved pages from ROOT/<host>/<path> on 127.0.0.1, for trying regwatch offline.

    Point regwatch at it with `[fetch] rewrite_to = "http://127.0.0.1:PORT"`.
    """
    from .replay import ReplayServer

    if not 0 < port < 65536:
        raise UserError(f"--port: expected a port from 1 to 65535, got {port}")
    try:
        server = ReplayServer(root, port=port, latency=latency)
    except OSError as exc:
        raise Failure(f"cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    click.echo(f"replaying {root} on {server.base_url} (Ctrl-C to stop)")
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
