"""Store and diff: compare what a list shows with what the store knows, in one transaction.

Each item is new, unchanged or edited (same identity, other title or date; the old values go
to `notice_history`). A source's first good poll is its baseline: stored, never alerted. After
that, every new or edited notice gets an `events` row — marked for delivery — in the same
transaction that stores it, together with the source's conditional-GET validators, so a crash
can neither lose an alert nor cause it twice.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..clock import now_iso
from ..parse import Item
from .classification import Classify, TitleFacts, title_facts, write_verdict
from .db import ANY_OF, json_list, transaction
from .identity import notice_identity
from .outbox import Routing, queue_events, queue_health, queue_ops
from .search import index_notices, queue_new
from .versions import link_versions, queue_links
from .withdrawals import mark_missing

NO_ROUTING = Routing()  # no subscriptions: events are still recorded, nothing is queued


@dataclass
class SourcePoll:
    """What one poll of one source produced, ready to store."""

    source_id: str
    agency: str
    started_at: str
    state: str  # health state (see health.py)
    http_status: int | None = None
    error: str | None = None
    items: list[Item] = field(default_factory=list)
    pages: int = 0
    # Conditional-GET validators to remember; None leaves the stored ones alone (e.g. after a 304).
    validators: tuple[str | None, str | None] | None = None
    next_poll_at: str | None = None
    deferred_until: str | None = None  # put off past its interval at the site's request (Retry-After)
    retry_after: float | None = None
    decode_errors: int = 0  # bytes of page 1 invalid in its declared charset
    good: bool = True  # False for states that count towards a source's consecutive bad polls
    fetch_details: bool = False  # queue each new notice's detail page
    alert_after: int = 3  # consecutive bad polls that raise one health alert
    flood_threshold: int = 0  # more new notices than this in one poll: alerts held, one summary sent (0: off)
    facts: dict[str, TitleFacts] = field(default_factory=dict)  # by title; the rest are worked out here


@dataclass
class PollSummary:
    poll_id: int
    baseline: bool
    state: str
    new_ids: list[int] = field(default_factory=list)
    edited_ids: list[int] = field(default_factory=list)
    seen: int = 0
    held: bool = False  # a flood: the new notices' alerts are held, a summary went out instead
    health_event: str | None = None  # 'unhealthy' or 'recovered' when this poll raised one


def _same(a: str | None, b: str | None) -> bool:
    return a is None or b is None or a == b  # a value the list no longer shows is not an edit


def known_identities(conn: sqlite3.Connection, identities: list[str]) -> dict[str, tuple]:
    """id, source_id, title, published, version of each identity already stored."""
    return {row[0]: row[1:] for row in conn.execute(
        f"SELECT identity, id, source_id, title, published, version FROM notices WHERE identity IN {ANY_OF}",
        (json_list(identities),))}


def record_poll(
    conn: sqlite3.Connection, poll: SourcePoll, classify: Classify, routing: Routing = NO_ROUTING
) -> PollSummary:
    """Store one source poll: notices (classified), history, events and their outbox rows, the poll
    row and the source's state — all in one transaction."""
    with transaction(conn):
        now = now_iso()
        source = conn.execute("SELECT baseline_at, state, bad_polls FROM sources WHERE id = ?",
                              (poll.source_id,)).fetchone()
        if source is None:
            conn.execute("INSERT INTO sources (id, agency) VALUES (?, ?)", (poll.source_id, poll.agency))
            source = (None, None, 0)
        baseline_at, previous_state, bad_polls = source
        is_baseline = baseline_at is None and poll.good and bool(poll.items)

        # (a poll that brought no items — a 304, an error — is stored in one statement: most polls are)
        state = "ok-no-new" if poll.state == "ok" and not poll.items else poll.state
        cursor = conn.execute(
            "INSERT INTO polls (source_id, started_at, finished_at, http_status, state, pages, items_seen, error,"
            " decode_errors) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (poll.source_id, poll.started_at, now, poll.http_status, state, poll.pages,
             len(poll.items), poll.error, poll.decode_errors),
        )
        summary = PollSummary(poll_id=cursor.lastrowid or 0, baseline=is_baseline, state=state)
        if poll.items:
            _store_items(conn, poll, summary, now, classify, routing)
            if poll.state == "ok" and not (is_baseline or summary.new_ids or summary.edited_ids):
                summary.state = "ok-no-new"
            conn.execute(
                "UPDATE polls SET new = ?, edited = ?, state = ? WHERE id = ?",
                (len(summary.new_ids), len(summary.edited_ids), summary.state, summary.poll_id),
            )
        _update_source(conn, poll, summary.state, now, is_baseline, previous_state)
        summary.health_event = _health_event(conn, poll, summary.state, bad_polls, now, routing)
        return summary


def without_baseline(conn: sqlite3.Connection, source_ids: list[str]) -> int:
    """How many of these sources have no baseline yet (their next good poll stores one). The service asks
    at every pass, for that pass's few dozen: their rows only, not the whole table's."""
    ids = list(dict.fromkeys(source_ids))
    with_one = conn.execute(f"SELECT count(*) FROM sources WHERE baseline_at IS NOT NULL AND id IN {ANY_OF}",
                            (json_list(ids),)).fetchone()[0]
    return len(ids) - with_one


def poll_memory(conn: sqlite3.Connection, source_id: str) -> tuple[str | None, str | None, str | None]:
    """What a poll needs from the last one: the ETag, the Last-Modified, and when the baseline was taken."""
    row = conn.execute("SELECT etag, last_modified, baseline_at FROM sources WHERE id = ?", (source_id,)).fetchone()
    return (row[0], row[1], row[2]) if row else (None, None, None)


def is_deferred(conn: sqlite3.Connection, source_id: str) -> bool:
    """Whether the source's site asked (Retry-After) to be left alone until a time still to come."""
    row = conn.execute("SELECT deferred_until FROM sources WHERE id = ?", (source_id,)).fetchone()
    return bool(row and row[0] and row[0] > now_iso())


def record_store_failure(conn: sqlite3.Connection, source_id: str, started_at: str, http_status: int | None,
                         error: str) -> None:
    """Log a poll the store could not take, if the store takes that much; never raises."""
    try:
        with transaction(conn):
            conn.execute("INSERT INTO polls (source_id, started_at, finished_at, http_status, state, error)"
                         " VALUES (?, ?, ?, ?, 'store-error', ?)", (source_id, started_at, now_iso(), http_status,
                                                                    error))
    except sqlite3.Error:
        pass  # the store is down: the log line and the service's health carry the news


def _store_items(
    conn: sqlite3.Connection, poll: SourcePoll, summary: PollSummary, now: str, classify: Classify,
    routing: Routing,
) -> None:
    by_identity: dict[str, Item] = {}
    for item in poll.items:
        by_identity.setdefault(notice_identity(poll.source_id, item.url, item.title, item.published), item)
    summary.seen = len(by_identity)
    known = known_identities(conn, list(by_identity))
    unchanged: list[tuple[str, int]] = []
    fresh = [(identity, item) for identity, item in by_identity.items() if identity not in known]
    if fresh:
        _insert_new(conn, poll, summary, now, classify, routing, fresh)
    for identity, item in by_identity.items():
        row = known.get(identity)
        if row is None:
            continue
        notice_id, owner, title, published, version = row
        edited = owner == poll.source_id and not (title == item.title and _same(published, item.published))
        if not edited:
            unchanged.append((now, notice_id))
            continue
        conn.execute(
            "INSERT INTO notice_history (notice_id, version, title, published, replaced_at, poll_id, body)"
            " SELECT ?, ?, ?, ?, ?, ?, body FROM notices WHERE id = ?",
            (notice_id, version, title, published, now, summary.poll_id, notice_id),
        )
        # An edited notice's page is read again (its text may have changed too): its alert waits for it.
        conn.execute(
            "UPDATE notices SET title = ?, published = COALESCE(?, published), url = COALESCE(?, url),"
            " version = version + 1, last_seen = ?, detail_attempts = 0, detail_next_at = NULL,"
            " detail_state = CASE WHEN detail_state = 'done' AND ? THEN 'pending' ELSE detail_state END"
            " WHERE id = ?",
            (item.title, item.published, item.url, now, poll.fetch_details, notice_id),
        )
        index_notices(conn, [notice_id])
        body = conn.execute("SELECT COALESCE(body, '') FROM notices WHERE id = ?", (notice_id,)).fetchone()[0]
        write_verdict(conn, notice_id, classify(item.title, body, poll.source_id, poll.agency), "edit")
        link_versions(conn, [notice_id])  # a new title may name another instrument, or a final one
        _add_events(conn, [notice_id], "edited", version + 1, now, summary.poll_id, routing)
        summary.edited_ids.append(notice_id)
    if unchanged:
        conn.executemany("UPDATE notices SET last_seen = ? WHERE id = ?", unchanged)
    window = None if summary.baseline else _window_start(poll, now)  # (a baseline has nothing missing)
    if window is not None:
        listed = [row[0] for row in known_identities(conn, list(by_identity)).values()]
        mark_missing(conn, poll.source_id, listed, window, now)


MISSING_WINDOW_DAYS = 60  # a notice older than this that leaves its list has aged out, not been withdrawn


def _window_start(poll: SourcePoll, now: str) -> str | None:
    """The oldest date the list still shows (a notice dated since then that is gone from it is missing);
    None when the poll is not good or most rows have no date to tell. The oldest tenth is left out, so a
    pinned old item at the top does not stretch the window over months of notices that only scrolled on."""
    dates = sorted(item.published[:10] for item in poll.items if item.published)
    if poll.state != "ok" or not dates or len(dates) * 2 < len(poll.items):
        return None
    floor = (date.fromisoformat(now[:10]) - timedelta(days=MISSING_WINDOW_DAYS)).isoformat()
    return max(dates[len(dates) // 10], floor)


def _insert_new(conn: sqlite3.Connection, poll: SourcePoll, summary: PollSummary, now: str, classify: Classify,
                routing: Routing, fresh: list[tuple[str, Item]]) -> None:
    """Insert a page's new notices in one statement; queue their alerts unless this is the baseline."""
    detail_state = "pending" if poll.fetch_details else "skipped"
    rows = []
    for identity, item in fresh:
        extra = item.extra
        facts = poll.facts.get(item.title) or title_facts(item.title, poll.source_id, poll.agency, classify)
        rows.append((identity, poll.source_id, poll.agency, item.url, item.title, item.published, now, now,
                     int(summary.baseline), extra.get("published_at"), extra.get("issuer"), extra.get("doc_number"),
                     extra.get("deadline"), detail_state if item.url else "skipped", *facts.verdict,
                     facts.instrument))
    conn.executemany(
        "INSERT INTO notices (identity, source_id, agency, url, title, published, first_seen, last_seen,"
        " baseline, published_at, issuer, doc_number, deadline, detail_state,"
        " category, tags, doc_type, status, rules, rules_version, confidence, review, instrument)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    # One statement's rows take consecutive ids, in its order (each gets the largest id so far + 1, and
    # nothing else writes in this transaction): the page's new ids without a lookup of all of them — the
    # first one's identity is checked, and should SQLite ever have chosen otherwise they are looked up.
    last = conn.execute("SELECT last_insert_rowid()").fetchone()[0]
    inserted = list(range(last - len(rows) + 1, last + 1))
    first = conn.execute("SELECT identity FROM notices WHERE id = ?", (inserted[0],)).fetchone()
    if first is None or first[0] != fresh[0][0]:
        found = known_identities(conn, [identity for identity, _ in fresh])
        inserted = [found[identity][0] for identity, _ in fresh]
    queue_new(conn, inserted)
    if summary.baseline:
        queue_links(conn, inserted)  # linked once the pass has stored every baseline (link_pending)
        return
    link_versions(conn, inserted, named=True)
    summary.held = bool(poll.flood_threshold) and len(fresh) > poll.flood_threshold
    summary.new_ids = inserted  # in page order, newest first
    _add_events(conn, summary.new_ids, "new", 1, now, summary.poll_id, routing, held=summary.held)
    if summary.held:
        _flood_note(conn, poll, len(fresh), now, routing)


def _add_events(conn: sqlite3.Connection, notice_ids: list[int], kind: str, version: int, now: str, poll_id: int,
                routing: Routing, held: bool = False) -> None:
    """One event per notice (one statement for a page of them; an event already recorded is not made
    again) and its outbox rows, queued in the order given."""
    made: dict[int, int] = dict(conn.execute(
        "INSERT OR IGNORE INTO events (notice_id, kind, version, created_at, poll_id)"
        " SELECT value, ?, ?, ?, ? FROM json_each(?) RETURNING notice_id, id",
        (kind, version, now, poll_id, json_list(notice_ids))).fetchall())
    queue_events(conn, routing, [(made[notice_id], notice_id) for notice_id in notice_ids if notice_id in made],
                 kind, now, held)


def _flood_note(conn: sqlite3.Connection, poll: SourcePoll, count: int, now: str, routing: Routing) -> None:
    """One summary per subscription instead of `count` alerts, and a `burst` health note."""
    text = (f"{count} new notices at {poll.source_id} in one poll, more than the flood guard allows "
            f"({poll.flood_threshold}): possibly a site change or a re-published archive. All are stored "
            f"(regwatch notices --source {poll.source_id}); their alerts are held. To send them: "
            f"regwatch outbox release --source {poll.source_id}")
    cursor = conn.execute("INSERT INTO source_notes (source_id, kind, message, created_at) VALUES (?, 'burst', ?, ?)",
                          (poll.source_id, text, now))
    for name in dict.fromkeys([*routing.instant, *([routing.ops] if routing.ops else [])]):
        queue_ops(conn, name, f"burst:{cursor.lastrowid}", text)


def _update_source(
    conn: sqlite3.Connection, poll: SourcePoll, state: str, now: str, is_baseline: bool, previous_state: str | None
) -> None:
    state_changed = previous_state != state
    validators = poll.validators if poll.good and poll.items else None  # only with the items they cover
    keep = validators is not None
    etag, last_modified = validators or (None, None)
    conn.execute(
        "UPDATE sources SET agency = ?, last_poll_at = ?, next_poll_at = ?, deferred_until = ?, state = ?,"
        " state_since = CASE WHEN ? THEN ? ELSE COALESCE(state_since, ?) END,"
        " last_error = COALESCE(?, last_error),"
        " bad_polls = CASE WHEN ? THEN 0 ELSE bad_polls + 1 END,"
        " baseline_at = CASE WHEN ? THEN ? ELSE baseline_at END,"
        " etag = CASE WHEN ? THEN ? ELSE etag END, last_modified = CASE WHEN ? THEN ? ELSE last_modified END"
        " WHERE id = ?",
        (poll.agency, now, poll.next_poll_at, poll.deferred_until, state, state_changed, now, now, poll.error,
         poll.good, is_baseline, now, keep, etag, keep, last_modified, poll.source_id),
    )


def _health_event(conn: sqlite3.Connection, poll: SourcePoll, state: str, bad_before: int, now: str,
                  routing: Routing) -> str | None:
    """One 'unhealthy' event when a source reaches `alert_after` bad polls in a row, one 'recovered' after."""
    kind = None
    if not poll.good and bad_before + 1 == poll.alert_after:
        kind = "unhealthy"
    elif poll.good and bad_before >= poll.alert_after:
        kind = "recovered"
    if kind:
        cursor = conn.execute(
            "INSERT INTO health_events (source_id, kind, state, message, created_at) VALUES (?, ?, ?, ?, ?)",
            (poll.source_id, kind, state, poll.error, now),
        )
        queue_health(conn, routing, cursor.lastrowid or 0, now)
    return kind
