"""`regwatch browse`: the store in Datasette, read-only, for analysts who want SQL.

The metadata describes every table and column, points Datasette's table search at the full-text index,
and ships canned queries for the questions people ask (search in Chinese or English, what was alerted to
whom and when, open comment periods, source health). Datasette is an optional extra (`regwatch[browse]`).
"""

from __future__ import annotations

from typing import Any

from .. import __version__

SEARCH_SQL = """SELECT n.id, n.published, n.agency, n.category, n.title, n.url
FROM notice_search JOIN notices n ON n.id = notice_search.rowid
WHERE notice_search MATCH regwatch_match(:q)
ORDER BY n.published DESC, n.id DESC LIMIT 200"""

ALERTS_SQL = """SELECT o.subscription, o.kind, o.state, o.attempts, n.id AS notice_id, n.agency, n.title,
       o.created_at AS queued_at, o.sent_at, o.message_key, o.last_error
FROM outbox o LEFT JOIN notices n ON n.id = o.notice_id
WHERE o.created_at >= :since
ORDER BY o.id DESC"""

OPEN_COMMENTS_SQL = """SELECT deadline, agency, title, url, deadline_sentence, id
FROM notices WHERE deadline >= date('now') ORDER BY deadline, id"""

SOURCE_HEALTH_SQL = """SELECT s.id, s.agency, s.state, s.state_since, s.last_poll_at, s.bad_polls, s.last_error,
       (SELECT count(*) FROM notices WHERE source_id = s.id) AS notices
FROM sources s ORDER BY s.state IN ('ok', 'ok-no-new'), s.id"""

BY_AGENCY_SQL = """SELECT agency, COALESCE(category, 'unclassified') AS category, count(*) AS notices
FROM notices GROUP BY agency, category ORDER BY agency, notices DESC"""

TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "notices": ("Every notice regwatch has seen, one row per item of a regulator's list (its identity is the "
                "canonical URL). Search box: English words; for Chinese use the `search` query.", {
        "id": "regwatch's number for the notice (`regwatch show ID`)",
        "identity": "what makes the notice one item: its canonical URL, or a hash of source, title and date",
        "source_id": "the watched column it was listed in (see `sources`)",
        "agency": "the publishing body's code (CAC, MIIT, PBC, SAMR, NPC …)",
        "url": "the notice's own page, as the list linked it",
        "title": "the title as published (Chinese for Chinese bodies)",
        "published": "publication date shown in the list (YYYY-MM-DD, Beijing)",
        "first_seen": "when regwatch first saw it (ISO 8601, UTC)",
        "last_seen": "when a poll last listed it",
        "version": "1, then +1 each time its title or date was edited (earlier ones in notice_history)",
        "baseline": "1: already listed at the source's first poll, never alerted",
        "published_at": "exact publication time from the notice's page, where it gives one",
        "issuer": "issuing body named on the notice's page",
        "doc_number": "document number (文号), brackets normalised to 〔〕",
        "deadline": "comment deadline (YYYY-MM-DD) of a draft for comment",
        "body": "clean text of the notice's page",
        "detail_state": "reading the notice's page: pending, done, failed or skipped",
        "detail_attempts": "attempts at the notice's page so far",
        "detail_next_at": "when the page is tried again",
        "detail_error": "why reading the page failed, if it did",
        "category": "bulletin section: Legislation, Law Enforcement, Court Rulings, News Reports, Foreign Trends",
        "tags": "topic tags (JSON list) in the bulletin's vocabulary",
        "doc_type": "kind of document (law, departmental rule, standard, penalty decision …)",
        "status": "draft or final",
        "rules": "the classification rules that fired (JSON list; `regwatch show` explains them)",
        "rules_version": "version of the rules that classified it",
        "confidence": "how sure the classifier is (0–1)",
        "review": "1: the category should be checked by a person",
        "deadline_sentence": "the sentence the comment deadline was read from",
        "effective": "date it takes effect (YYYY-MM-DD), where stated",
        "effective_sentence": "the sentence the effective date was read from",
        "instrument": "the instrument's normalised name (drafts, finals and amendments of it share it)",
        "follows": "the earlier version of the same instrument this notice follows (its draft, say)",
        "attachment_text": "the text of its attachments, in their order",
        "missing_since": "when its list stopped showing it although newer notices stayed",
        "withdrawn_at": "when its page then answered 404: reported as possibly withdrawn",
        "missing_checked_at": "when its page answered after it left its list (not withdrawn; not asked again)",
    }),
    "sources": ("Each watched column's health and polling state.", {
        "id": "the source's id in the watchlists", "agency": "the publishing body's code",
        "etag": "validator for conditional GET", "last_modified": "validator for conditional GET",
        "baseline_at": "when its first (silent) poll was stored", "last_poll_at": "when it was last polled",
        "next_poll_at": "when it is polled next", "state": "health: ok, ok-no-new, blocked, unreachable, "
        "layout-changed, too-large, misconfigured, store-error", "state_since": "since when that state holds",
        "last_error": "what the last bad poll said", "bad_polls": "bad polls in a row",
        "deferred_until": "a Retry-After the site asked for",
    }),
    "polls": ("Every poll of every source: when, what came back, what was found.", {
        "id": "poll number", "source_id": "the source polled", "started_at": "start (UTC)",
        "finished_at": "end (UTC)", "http_status": "status of the first page", "state": "health state",
        "pages": "list pages read", "items_seen": "items on them", "new": "new notices", "edited": "edited notices",
        "error": "what went wrong, if anything", "decode_errors": "bytes replaced while decoding",
    }),
    "outbox": ("Every alert queued for a subscription: its delivery state (the audit trail of what was sent).", {
        "id": "queue number", "subscription": "the subscription it is for", "dedupe_key": "what makes it one alert",
        "kind": "what it is about: a new or edited notice, a reminder, a source's health, an ops message",
        "notice_id": "the notice it is about",
        "event_id": "the event that queued it", "health_event_id": "the health event it is about",
        "ops_text": "text of an operations message, or a reminder's wording",
        "state": "pending, sending, retrying, sent, dead, held (flood guard) or filtered",
        "attempts": "delivery attempts so far", "next_attempt_at": "when it is tried next",
        "sending_since": "when the attempt in flight began", "message_key": "the message id sent to the channel",
        "last_error": "what the channel last answered", "created_at": "when it was queued", "sent_at": "when it went",
    }),
    "deliveries": ("Each message sent to a channel and how the channel answered.", {
        "id": "number", "subscription": "the subscription", "message_key": "message id (the outbox's)",
        "sent_at": "when (UTC)", "outcome": "ok, or how the attempt failed", "detail": "the channel's answer",
        "items": "notices the message carried",
    }),
    "attachments": ("Files linked from a notice's page, downloaded and read.", {
        "id": "number", "notice_id": "the notice", "name": "link text", "url": "file URL",
        "type": "file type the link gives", "kind": "what the file turned out to be (pdf, docx, xlsx, ofd, doc …)",
        "state": "pending, done, text-unavailable, too-large, failed or skipped", "size": "bytes",
        "sha256": "SHA-256 of the file", "content_type": "as the server declared it",
        "pages": "PDF/OFD pages, XLSX sheets read", "text": "the file's text", "error": "why there is no text",
        "attempts": "download attempts", "next_at": "when it is tried again",
    }),
    "notice_history": ("Earlier versions of edited notices.", {
        "id": "number", "notice_id": "the notice", "version": "the version this was", "title": "its title then",
        "published": "its date then", "replaced_at": "when the edit was seen", "poll_id": "the poll that saw it",
        "body": "its text then",
    }),
    "classification_history": ("Earlier verdicts, kept when new rules reclassified a notice.", {
        "id": "number", "notice_id": "the notice", "category": "the earlier category", "tags": "earlier tags",
        "doc_type": "earlier document type", "status": "earlier status", "rules_version": "rules then",
        "replaced_at": "when replaced", "reason": "why",
    }),
    "translations": ("English titles and summaries a configured model wrote (glosses are not stored).", {
        "notice_id": "the notice",
        "state": "where writing it stands (done, retrying, failed …)",
        "title_en": "English title",
        "summary_en": "English summary", "model": "the model", "prompt_version": "prompt used",
        "attempts": "attempts", "error": "why it failed", "updated_at": "when",
    }),
    "events": ("New and edited notices, as queued for delivery.", {
        "id": "number", "notice_id": "the notice", "kind": "new or edited", "version": "the notice's version",
        "created_at": "when", "poll_id": "the poll that found it",
    }),
    "health_events": ("A source going bad and recovering, as alerted to ops.", {
        "id": "number", "source_id": "the source", "kind": "unhealthy or recovered", "state": "health state",
        "message": "what was said", "created_at": "when",
    }),
    "digests": ("Weekly digests sent (or attempted) per subscription.", {
        "id": "number", "subscription": "the subscription", "period_start": "from", "period_end": "until",
        "state": "sent, or how it failed", "notices": "notices in it", "message_id": "the email's Message-ID",
        "error": "why it failed", "created_at": "when",
    }),
    "digest_subscriptions": ("When each digest subscription began.", {
        "subscription": "the subscription", "since": "when first seen",
    }),
    "source_notes": ("Notes about a source's pages (a parser's warnings).", {
        "id": "number",
        "source_id": "the source",
        "kind": "kind of note (burst: more new items than a page holds)",
        "message": "the note",
        "created_at": "when",
    }),
    "translation_usage": ("Tokens the translation model used, per month (the budget).", {
        "month": "YYYY-MM", "tokens": "tokens used", "calls": "requests made",
    }),
    "notice_search": ("The full-text index of titles and bodies (Chinese as character pairs); use the "
                      "`search` query rather than this table.", {
        "title": "title as indexed", "body": "body as indexed",
    }),
    "search_pending": ("Notices stored but not yet in the full-text index (regwatch browse and search, and "
                       "the service once its passes are done, index them).", {
        "notice_id": "the notice",
    }),
    "versions_pending": ("First-poll notices not yet linked to the versions they follow (`follows`): their "
                         "pass links them once it has stored every baseline.", {
        "notice_id": "the notice",
    }),
}

QUERIES = {
    "search": ("Search titles and bodies", "Every word must appear; Chinese matches where its characters stand "
               "together (个人信息 出境), English words in any case, \"quoted phrases\" as written.", SEARCH_SQL),
    "alerts": ("What was alerted, to whom, and when", "Every queued alert since a date (YYYY-MM-DD): its "
               "subscription, state, attempts, the message id and when it was sent.", ALERTS_SQL),
    "open_comment_periods": ("Open comment periods", "Drafts whose comment deadline has not passed.",
                             OPEN_COMMENTS_SQL),
    "source_health": ("Source health", "Every source, the broken ones first.", SOURCE_HEALTH_SQL),
    "by_agency_and_category": ("Notices by agency and category", "", BY_AGENCY_SQL),
}


def metadata(database: str) -> dict[str, Any]:
    """Datasette metadata for the store opened under the name `database` (its file name's stem)."""
    tables: dict[str, Any] = {name: {"description": text, "columns": columns}
                              for name, (text, columns) in TABLES.items()}
    tables["notices"].update({"fts_table": "notice_search", "fts_pk": "id", "sort_desc": "id",
                              "label_column": "title"})
    tables["notice_search"]["hidden"] = True
    return {
        "title": "regwatch",
        "description": f"What regwatch {__version__} has stored: notices, sources, polls and alerts (read-only).",
        "databases": {database: {
            "tables": tables,
            "queries": {name: {"title": title, "description": text, "sql": sql}
                        for name, (title, text, sql) in QUERIES.items()},
        }},
    }
