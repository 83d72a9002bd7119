"""The SQLite store: opening it (WAL), schema versions and forward migrations, transactions.

Transactions are explicit (`BEGIN IMMEDIATE` … `COMMIT`) on an autocommit connection, so a
poll's items, its alerts-to-send and its conditional-GET state land together or not at all.
"""

from __future__ import annotations

import json
import os
import pwd
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

Migration = Callable[[sqlite3.Connection], None]

# sqlite3 binds exact str, int, float and bytearray values as they are; any other value (None, a bool)
# first goes through its adaptation protocol, which on CPython 3.11 looks up `__adapt__` on the protocol
# class and formats the AttributeError it gets — about 1 µs a value, and a notice row binds a handful of
# NULLs (8 % of the instructions of storing a baseline page). Adapters for them answer at once, with what sqlite3 would
# bind anyway: NULL for None (`{}.get` is a C-level callable that returns None), 1 and 0 for booleans.
sqlite3.register_adapter(type(None), cast("Callable[[None], None]", {}.get))
sqlite3.register_adapter(bool, int)


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the caller's transaction (executescript would COMMIT first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


def _v1(conn: sqlite3.Connection) -> None:
    _run_script(conn, """
        CREATE TABLE sources (
            id TEXT PRIMARY KEY,
            agency TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            baseline_at TEXT,             -- when the first successful poll recorded the baseline
            last_poll_at TEXT,
            next_poll_at TEXT,
            state TEXT,                   -- health state of the last poll
            state_since TEXT,
            last_error TEXT,
            bad_polls INTEGER NOT NULL DEFAULT 0  -- consecutive polls in a bad state
        );
        CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,  -- canonical URL, or hash:… for rows without links
            source_id TEXT NOT NULL,
            agency TEXT NOT NULL,
            url TEXT,
            title TEXT NOT NULL,
            published TEXT,               -- YYYY-MM-DD, Asia/Shanghai, as the list says
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            baseline INTEGER NOT NULL DEFAULT 0  -- 1: recorded by a source's first poll, never alerted
        );
        CREATE INDEX notices_source ON notices(source_id, published);
        CREATE INDEX notices_published ON notices(published);
        CREATE TABLE notice_history (
            id INTEGER PRIMARY KEY,
            notice_id INTEGER NOT NULL REFERENCES notices(id),
            version INTEGER NOT NULL,     -- the version these values belonged to
            title TEXT NOT NULL,
            published TEXT,
            replaced_at TEXT NOT NULL,
            poll_id INTEGER
        );
        CREATE INDEX notice_history_notice ON notice_history(notice_id);
        -- A change to deliver: the deliver stage turns each event into one outbox row per subscription.
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            notice_id INTEGER NOT NULL REFERENCES notices(id),
            kind TEXT NOT NULL CHECK (kind IN ('new', 'edited')),
            version INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            poll_id INTEGER,
            UNIQUE (notice_id, kind, version)
        );
        CREATE TABLE polls (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT NOT NULL,
            http_status INTEGER,
            state TEXT NOT NULL,
            pages INTEGER NOT NULL DEFAULT 0,
            items_seen INTEGER NOT NULL DEFAULT 0,
            new INTEGER NOT NULL DEFAULT 0,
            edited INTEGER NOT NULL DEFAULT 0,
            error TEXT
        );
        CREATE INDEX polls_source ON polls(source_id, id);
    """)


def _v2(conn: sqlite3.Connection) -> None:
    """Detail-page fields and their fetch state, attachments, and source-health alerts."""
    _run_script(conn, """
        ALTER TABLE notices ADD COLUMN published_at TEXT;  -- exact time (ISO, Asia/Shanghai) from the detail page
        ALTER TABLE notices ADD COLUMN issuer TEXT;
        ALTER TABLE notices ADD COLUMN doc_number TEXT;    -- 文号, brackets normalised to 〔〕
        ALTER TABLE notices ADD COLUMN deadline TEXT;      -- comment deadline, YYYY-MM-DD
        ALTER TABLE notices ADD COLUMN body TEXT;
        -- pending: to fetch; done; failed: gave up after retries; skipped: off-site or detail disabled
        ALTER TABLE notices ADD COLUMN detail_state TEXT NOT NULL DEFAULT 'skipped';
        ALTER TABLE notices ADD COLUMN detail_attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE notices ADD COLUMN detail_next_at TEXT;
        ALTER TABLE notices ADD COLUMN detail_error TEXT;
        CREATE INDEX notices_detail_pending ON notices(detail_state, source_id) WHERE detail_state = 'pending';
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            notice_id INTEGER NOT NULL REFERENCES notices(id),
            name TEXT NOT NULL,
            url TEXT NOT NULL,
            type TEXT NOT NULL,
            UNIQUE (notice_id, url)
        );
        -- A source turned bad for N polls in a row, or came back: for the ops channel.
        CREATE TABLE health_events (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('unhealthy', 'recovered')),
            state TEXT NOT NULL,
            message TEXT,
            created_at TEXT NOT NULL
        );
    """)


def _v3(conn: sqlite3.Connection) -> None:
    """The classification of each notice, the rules behind it, and how it changed."""
    _run_script(conn, """
        ALTER TABLE notices ADD COLUMN category TEXT;
        ALTER TABLE notices ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';   -- JSON list
        ALTER TABLE notices ADD COLUMN doc_type TEXT;
        ALTER TABLE notices ADD COLUMN status TEXT;
        ALTER TABLE notices ADD COLUMN rules TEXT NOT NULL DEFAULT '[]';  -- JSON list of rule ids that fired
        ALTER TABLE notices ADD COLUMN rules_version TEXT;
        CREATE INDEX notices_category ON notices(category);
        CREATE TABLE classification_history (
            id INTEGER PRIMARY KEY,
            notice_id INTEGER NOT NULL REFERENCES notices(id),
            category TEXT, tags TEXT, doc_type TEXT, status TEXT, rules_version TEXT,  -- the replaced verdict
            replaced_at TEXT NOT NULL,
            reason TEXT NOT NULL  -- edit | detail | reclassify
        );
        CREATE INDEX classification_history_notice ON classification_history(notice_id);
    """)


def _v4(conn: sqlite3.Connection) -> None:
    """The outbox: one row per (subscription, thing to say), and a log of messages sent."""
    _run_script(conn, """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            subscription TEXT NOT NULL,
            dedupe_key TEXT NOT NULL,          -- event:<id> | health:<id> | dead:<subscription>:<row id>
            kind TEXT NOT NULL CHECK (kind IN ('new', 'edited', 'health', 'ops')),
            notice_id INTEGER REFERENCES notices(id),
            event_id INTEGER REFERENCES events(id),
            health_event_id INTEGER REFERENCES health_events(id),
            ops_text TEXT,                     -- the message of an 'ops' row
            -- pending | sending | retrying | sent | dead | filtered
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            sending_since TEXT,
            message_key TEXT,                  -- idempotency key of the message carrying this row
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (subscription, dedupe_key)
        );
        CREATE INDEX outbox_due ON outbox(subscription, state, next_attempt_at);
        CREATE TABLE deliveries (              -- one row per message a channel answered (rate limits, audit)
            id INTEGER PRIMARY KEY,
            subscription TEXT NOT NULL,
            message_key TEXT NOT NULL,
            sent_at TEXT NOT NULL,
            outcome TEXT NOT NULL,             -- ok | retry | permanent | ambiguous
            detail TEXT,
            items INTEGER NOT NULL
        );
        CREATE INDEX deliveries_subscription ON deliveries(subscription, sent_at);
    """)


def _v5(conn: sqlite3.Connection) -> None:
    """Digests sent (or tried): a subscription's next digest starts where its last sent one ended."""
    _run_script(conn, """
        CREATE TABLE digests (
            id INTEGER PRIMARY KEY,
            subscription TEXT NOT NULL,
            period_start TEXT NOT NULL,
            period_end TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('sent', 'failed')),
            notices INTEGER NOT NULL,
            message_id TEXT,
            error TEXT,
            created_at TEXT NOT NULL
        );
        CREATE INDEX digests_subscription ON digests(subscription, state, period_end);
    """)


def _v6(conn: sqlite3.Connection) -> None:
    """When each digest subscription began: its first digest covers from then, and no run before it is "missed"."""
    _run_script(conn, """
        CREATE TABLE digest_subscriptions (
            subscription TEXT PRIMARY KEY,
            since TEXT NOT NULL
        );
        INSERT INTO digest_subscriptions (subscription, since)
            SELECT subscription, min(period_start) FROM digests GROUP BY subscription;
    """)


def _v7(conn: sqlite3.Connection) -> None:
    """Bytes a page had that were invalid in its declared charset; a source put off by a Retry-After."""
    _run_script(conn, """
        ALTER TABLE polls ADD COLUMN decode_errors INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE sources ADD COLUMN deferred_until TEXT;
    """)


def _v8(conn: sqlite3.Connection) -> None:
    """Notes about a source that are not failures (a burst the flood guard held); indexes the sender
    needs so its work per pass follows what it sends, not how big the outbox has grown."""
    _run_script(conn, """
        CREATE TABLE source_notes (
            id INTEGER PRIMARY KEY,
            source_id TEXT NOT NULL,
            kind TEXT NOT NULL,             -- burst
            message TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX source_notes_source ON source_notes(source_id, id);
        CREATE INDEX notices_agency_title ON notices(agency, title);
        CREATE INDEX outbox_notice ON outbox(notice_id, subscription);
    """)


def _v9(conn: sqlite3.Connection) -> None:
    """How sure each notice's category is, and whether a person should check it."""
    _run_script(conn, """
        ALTER TABLE notices ADD COLUMN confidence REAL;
        ALTER TABLE notices ADD COLUMN review INTEGER NOT NULL DEFAULT 0;
    """)


def _v10(conn: sqlite3.Connection) -> None:
    """English titles and summaries written by a configured model ([translate] provider), and its spending."""
    _run_script(conn, """
        CREATE TABLE translations (
            notice_id INTEGER PRIMARY KEY REFERENCES notices(id),
            state TEXT NOT NULL,            -- done | ungrounded | failed | retrying
            title_en TEXT,                  -- the model's title (NULL: the glossary's gloss stands)
            summary_en TEXT,                -- 2-3 sentences, every number in it found in the source text
            model TEXT,
            prompt_version TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            updated_at TEXT NOT NULL
        );
        CREATE TABLE translation_usage (
            month TEXT PRIMARY KEY,         -- YYYY-MM (UTC)
            tokens INTEGER NOT NULL DEFAULT 0,
            calls INTEGER NOT NULL DEFAULT 0
        );
    """)


def _v11(conn: sqlite3.Connection) -> None:
    """Full-text search over titles and bodies (store/search.py), built for the notices already stored."""
    from .search import spaced

    _run_script(conn, "CREATE VIRTUAL TABLE notice_search USING fts5(title, body, tokenize = 'unicode61');")
    rows = conn.execute("SELECT id, title, COALESCE(body, '') FROM notices").fetchall()
    conn.executemany("INSERT INTO notice_search (rowid, title, body) VALUES (?, ?, ?)",
                     [(i, spaced(title), spaced(body)) for i, title, body in rows])


def _v12(conn: sqlite3.Connection) -> None:
    """Dates that matter, with the sentence each was read from: when comments close, when it takes effect."""
    _run_script(conn, """
        ALTER TABLE notices ADD COLUMN deadline_sentence TEXT;
        ALTER TABLE notices ADD COLUMN effective TEXT;           -- YYYY-MM-DD
        ALTER TABLE notices ADD COLUMN effective_sentence TEXT;
        CREATE INDEX notices_deadline ON notices(deadline);
        CREATE INDEX notices_effective ON notices(effective);
    """)


def _v13(conn: sqlite3.Connection) -> None:
    """Versions of one instrument: each notice's instrument name and the earlier version it follows
    (store/versions.py), worked out for the notices already stored."""
    from .versions import link_versions

    _run_script(conn, """
        ALTER TABLE notices ADD COLUMN instrument TEXT;         -- the instrument's normalised name
        ALTER TABLE notices ADD COLUMN follows INTEGER REFERENCES notices(id);  -- the earlier version
        CREATE INDEX notices_instrument ON notices(instrument, COALESCE(published, substr(first_seen, 1, 10)), id)
            WHERE instrument IS NOT NULL;  -- partial: most notices name no instrument and cost nothing here
        CREATE INDEX notices_follows ON notices(follows) WHERE follows IS NOT NULL;
    """)
    link_versions(conn, [row[0] for row in conn.execute("SELECT id FROM notices ORDER BY id")])


def _v14(conn: sqlite3.Connection) -> None:
    """Reminders are outbox rows too (kind 'reminder', the wording in ops_text): the table is rebuilt,
    as SQLite cannot change a CHECK constraint in place."""
    _run_script(conn, """
        CREATE TABLE outbox_new (
            id INTEGER PRIMARY KEY,
            subscription TEXT NOT NULL,
            dedupe_key TEXT NOT NULL,          -- event:<id> | health:<id> | reminder:… | dead:<subscription>:<row id>
            kind TEXT NOT NULL CHECK (kind IN ('new', 'edited', 'withdrawn', 'health', 'ops', 'reminder')),
            notice_id INTEGER REFERENCES notices(id),
            event_id INTEGER REFERENCES events(id),
            health_event_id INTEGER REFERENCES health_events(id),
            ops_text TEXT,                     -- the message of an 'ops' row, the wording of a 'reminder'
            -- pending | sending | retrying | sent | dead | filtered | held
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at TEXT,
            sending_since TEXT,
            message_key TEXT,                  -- idempotency key of the message carrying this row
            last_error TEXT,
            created_at TEXT NOT NULL,
            sent_at TEXT,
            UNIQUE (subscription, dedupe_key)
        );
        INSERT INTO outbox_new SELECT id, subscription, dedupe_key, kind, notice_id, event_id, health_event_id,
            ops_text, state, attempts, next_attempt_at, sending_since, message_key, last_error, created_at, sent_at
            FROM outbox;
        DROP TABLE outbox;
        ALTER TABLE outbox_new RENAME TO outbox;
        CREATE INDEX outbox_due ON outbox(subscription, state, next_attempt_at);
        CREATE INDEX outbox_notice ON outbox(notice_id, subscription);
    """)


def _v15(conn: sqlite3.Connection) -> None:
    """Attachment files: downloaded, hashed and read (attachment_files.py); their text beside the body.
    Attachments stored before regwatch read them are left unread (skipped), not all fetched at once."""
    _run_script(conn, """
        ALTER TABLE attachments ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
            -- pending | done | text-unavailable | too-large | failed | skipped
        ALTER TABLE attachments ADD COLUMN kind TEXT;          -- what the file turned out to be (pdf, docx …)
        ALTER TABLE attachments ADD COLUMN size INTEGER;       -- bytes
        ALTER TABLE attachments ADD COLUMN sha256 TEXT;
        ALTER TABLE attachments ADD COLUMN content_type TEXT;  -- as the server declared it
        ALTER TABLE attachments ADD COLUMN pages INTEGER;      -- PDF/OFD pages, XLSX sheets read
        ALTER TABLE attachments ADD COLUMN text TEXT;
        ALTER TABLE attachments ADD COLUMN error TEXT;         -- why there is no text
        ALTER TABLE attachments ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE attachments ADD COLUMN next_at TEXT;
        ALTER TABLE notices ADD COLUMN attachment_text TEXT;   -- the attachments' text, for search and classifying
        UPDATE attachments SET state = 'skipped', error = 'stored before regwatch read attachments';
        CREATE INDEX attachments_pending ON attachments(state, next_at);
    """)


def _v16(conn: sqlite3.Connection) -> None:
    """Withdrawn notices: when one went missing from its list's window, and when its page then answered
    404 (reported once, as an outbox row of kind 'withdrawn' per subscription); and the body an edited
    notice had before, so its alert can say what changed."""
    _run_script(conn, """
        ALTER TABLE notices ADD COLUMN missing_since TEXT;  -- gone from its list within the list's window
        ALTER TABLE notices ADD COLUMN withdrawn_at TEXT;   -- and its own page answered 404/410
        ALTER TABLE notices ADD COLUMN missing_checked_at TEXT;  -- or answered: off the list, not gone
        CREATE INDEX notices_missing ON notices(missing_since) WHERE missing_since IS NOT NULL;
        ALTER TABLE notice_history ADD COLUMN body TEXT;    -- the text before an edit, to say what changed
        CREATE INDEX notices_unclassified ON notices(id) WHERE rules_version IS NULL;  -- a baseline's queue
    """)


def _v17(conn: sqlite3.Connection) -> None:
    """A baseline is stored with its verdicts (the helper answers before the insert): no queue of
    unclassified notices to index any more. The drafts of each instrument get an index of their own: a
    notice's latest earlier draft is then one seek, not a walk over every earlier version of its name."""
    _run_script(conn, """
        DROP INDEX IF EXISTS notices_unclassified;
        CREATE INDEX notices_drafts ON notices(instrument, status, COALESCE(published, substr(first_seen, 1, 10)), id)
            WHERE status = 'draft';
    """)


def _v18(conn: sqlite3.Connection) -> None:
    """Deadlines and effective dates are indexed only where a notice has one (most have neither): every
    insert of a notice then updates two indexes fewer. `deadline BETWEEN ? AND ?` still uses them."""
    _run_script(conn, """
        DROP INDEX IF EXISTS notices_deadline;
        DROP INDEX IF EXISTS notices_effective;
        CREATE INDEX notices_deadline ON notices(deadline) WHERE deadline IS NOT NULL;
        CREATE INDEX notices_effective ON notices(effective) WHERE effective IS NOT NULL;
    """)


def _v19(conn: sqlite3.Connection) -> None:
    """The versions of an instrument that are not drafts get an index of their own, as its drafts have:
    the instrument in force for a new draft is then found in the first rows read, not after walking past
    every draft of the name (a name drafted thousands of times made storing a draft quadratic). The two
    together cover what notices_instrument did, which goes."""
    _run_script(conn, """
        DROP INDEX IF EXISTS notices_instrument;
        CREATE INDEX notices_in_force ON notices(instrument, COALESCE(published, substr(first_seen, 1, 10)), id)
            WHERE instrument IS NOT NULL AND status IS NOT 'draft';
    """)


def _v20(conn: sqlite3.Connection) -> None:
    """The repost check ("was this agency's title alerted in the last two weeks?") starts from the
    subscription's recent sent alerts — a few hundred rows — instead of an index of every notice's
    title, which every stored notice paid for (a third of a cold pass's insert time)."""
    _run_script(conn, """
        DROP INDEX IF EXISTS notices_agency_title;
        CREATE INDEX outbox_told ON outbox(subscription, created_at)
            WHERE kind = 'new' AND state IN ('sent', 'sending');
    """)


def _v21(conn: sqlite3.Connection) -> None:
    """Notices just inserted wait here for the search index (store/search.py): indexing a cold pass's
    20,000 titles as they were stored was a third of storing them."""
    _run_script(conn, "CREATE TABLE search_pending (notice_id INTEGER PRIMARY KEY);")


def _v22(conn: sqlite3.Connection) -> None:
    """No query reads notices by their bare date (listings sort and filter on COALESCE(published, …), which
    this index cannot serve), yet every stored notice paid for it: inserting a cold pass's 20,000 notices
    took 0.40 s with it and 0.28 s without (median of seven interleaved runs)."""
    _run_script(conn, "DROP INDEX IF EXISTS notices_published;")


def _v23(conn: sqlite3.Connection) -> None:
    """A first poll's notices wait here to be linked to the versions they follow (store/versions.py) until
    its pass has stored every baseline: linked as they were stored, a final text stored before its
    draft from another column followed nothing."""
    _run_script(conn, "CREATE TABLE versions_pending (notice_id INTEGER PRIMARY KEY);")


def _schema_version(conn: sqlite3.Connection) -> int:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database schema version {version} is newer than this regwatch ({SCHEMA_VERSION}); upgrade regwatch")
    return version


# index i migrates from version i to i+1; append, never edit
MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4, _v5, _v6, _v7, _v8, _v9, _v10, _v11, _v12, _v13, _v14, _v15,
                               _v16, _v17, _v18, _v19, _v20, _v21, _v22, _v23]
SCHEMA_VERSION = len(MIGRATIONS)


@contextmanager
def dict_rows(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """The one place rows become dicts: within the block, the connection yields `sqlite3.Row`s."""
    previous = conn.row_factory
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.row_factory = previous


@dataclass
class _Group:
    every: int
    seconds: float
    pending: int = 0
    since: float = field(default_factory=time.monotonic)
    passes: int = 0  # the group_commit blocks sharing it (the service's passes overlap)


_groups: dict[int, _Group] = {}  # id(connection) → the group commit it is in
WAL_AUTOCHECKPOINT = 1000  # pages (SQLite's default)


# A list bound as one parameter: `x IN ANY_OF`, with `json_list(values)` for it. Its statement is the same
# text for lists of every length; with `IN (?, ?, …)` each length was a statement of its own, prepared
# again and kept in the connection's statement cache (after rounds over 1,000 sources, 250 statements in
# it held 1.8 MB of the service's memory for good).
ANY_OF = "(SELECT value FROM json_each(?))"


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode  # one encoder, not one a call


def json_list(values: Iterable[object]) -> str:
    """The parameter for ANY_OF."""
    return _ENCODE(list(values))


@contextmanager
def transaction(conn: sqlite3.Connection, durable: bool = False) -> Iterator[sqlite3.Connection]:
    """One atomic unit of work. Inside `group_commit` it is a savepoint of the group's transaction:
    atomic all the same (it rolls back alone), durable once the group commits — or as it ends when
    `durable`: what must be on disk before something leaves the process (outbox rows claimed for a
    message about to be sent) commits the group there and then, the pass's finished units with it."""
    group = _groups.get(id(conn))
    if group is not None and conn.in_transaction:
        conn.execute("SAVEPOINT unit")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite may already have rolled the whole group back (disk full …)
                conn.execute("ROLLBACK TO unit")
                conn.execute("RELEASE unit")
            raise
        conn.execute("RELEASE unit")
        group.pending += 1
        if durable or group.pending >= group.every or time.monotonic() - group.since >= group.seconds:
            conn.execute("COMMIT")
            group.pending, group.since = 0, time.monotonic()
            conn.execute("BEGIN IMMEDIATE")
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


@contextmanager
def group_commit(conn: sqlite3.Connection, every: int, seconds: float = 1.0) -> Iterator[None]:
    """Let up to `every` transactions (or those of `seconds`) share one commit: a pass over many sources
    pays for far fewer commits. Each source's poll stays one unit — its notices and their alerts are
    stored together or not at all — so a crash costs at most the last group's polls, which the next pass
    simply makes again (nothing lost, nothing alerted twice). Passes that overlap (the service's) share
    one group, which ends with the last of them: the ones after the first used to store every poll in a
    commit of its own once the first had ended its group."""
    if every <= 1:
        yield
        return
    group = _groups.get(id(conn))
    if group is None:
        # The WAL is copied back into the database once, after the pass, not at every thousand pages: the
        # pass's commits rewrite the same index pages over and over (a checkpoint cost 0.25 s of a cold
        # pass). Each unit's savepoint journals the pages it changes; kept in memory (a few hundred KB,
        # freed at each release) instead of a temporary file, inserting a cold pass's notices takes 30 %
        # less time. Only for the pass: a migration's index build on a big store must not sort in memory.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        conn.execute("PRAGMA temp_store = MEMORY")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:
            _end_pass_settings(conn)
            raise
        group = _groups[id(conn)] = _Group(every, seconds)
    group.passes += 1
    try:
        yield
    finally:
        group.passes -= 1
        if not group.passes:
            del _groups[id(conn)]
            if conn.in_transaction:
                conn.execute("COMMIT")
            _end_pass_settings(conn)
            with suppress(sqlite3.Error):  # a reader in the way: the next commit's checkpoint copies it
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _end_pass_settings(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
    conn.execute("PRAGMA temp_store = DEFAULT")


class StoreError(Exception):
    """The database cannot be used (directory not writable, file unreadable, corrupt, owned by another user).

    The message is one line for the user, naming the file and what to do.
    """


def open_db(path: Path | str) -> sqlite3.Connection:
    """Open (creating if needed) the store and bring its schema up to date; raises StoreError.

    A plain connection; `store.views` turns rows into dicts where a caller wants them.
    """
    if str(path) != ":memory:":
        path = Path(path)
        _refuse_foreign_owner(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the database directory {path.parent}: {exc.strerror}") from None
    try:
        conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across process crashes
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
    except sqlite3.Error as exc:
        hint = " (can this user write to that directory?)" if "open" in str(exc) or "readonly" in str(exc) else ""
        raise StoreError(f"cannot use the database {path}: {exc}{hint}") from None
    return conn


def open_reader(path: Path) -> sqlite3.Connection:
    """A connection that can only read (the web view): it never creates, migrates or writes the store,
    and it sees only committed data, never the poll's transaction in progress."""
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=5)
        conn.execute("PRAGMA query_only=ON")
    except sqlite3.Error as exc:
        raise StoreError(f"cannot read the database {path}: {exc}") from None
    return conn


def release_memory(conn: sqlite3.Connection) -> None:
    """Free what the connection's page cache holds (SQLite keeps up to `cache_size` pages, 2 MB by
    default, until the connection closes); the pages are read again from the file when next needed."""
    conn.execute("PRAGMA shrink_memory")


def check_integrity(conn: sqlite3.Connection) -> str | None:
    """What `PRAGMA quick_check` finds wrong with the store (None: nothing)."""
    try:
        rows = [r[0] for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.Error as exc:
        return str(exc)
    if rows == ["ok"]:
        return None
    lines = [line for row in rows for line in str(row).splitlines() if not line.startswith("***")]
    return ("; ".join(lines[:2]) + (f"; … {len(lines) - 2} more problems" if len(lines) > 2 else ""))[:300]


def file_identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of the database file, to notice it being removed or replaced under a running service."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def _refuse_foreign_owner(path: Path) -> None:
    """Root must not open the service's database: the -wal/-shm files it leaves would lock the service out."""
    if os.geteuid() != 0 or not path.exists() or path.stat().st_uid == 0:
        return
    owner = path.stat().st_uid
    try:
        name = pwd.getpwuid(owner).pw_name
    except KeyError:
        name = str(owner)
    raise StoreError(f"the database {path} belongs to user {name}; run regwatch as that user "
                     f"(sudo -u {name} regwatch …) so that no file next to it ends up owned by root")


def migrate(conn: sqlite3.Connection) -> None:
    """Run the migrations this database has not had yet, each in its own transaction.

    An up-to-date store is only read: taking the write lock to look would keep every command waiting
    while the service's pass holds it (up to the 30 s timeout, then "database is locked")."""
    version = _schema_version(conn)
    if version == SCHEMA_VERSION:
        return
    with transaction(conn):
        version = _schema_version(conn)  # another process may have migrated it meanwhile
    for target in range(version, SCHEMA_VERSION):
        with transaction(conn):
            MIGRATIONS[target](conn)
            conn.execute(f"PRAGMA user_version = {target + 1}")
