"""The service's state, read from the store: for `regwatch status`, /healthz and /metrics."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .. import clock
from ..clock import now_iso
from ..config import Config
from ..cron import cron_trigger, next_fire
from ..store import views
from ..store.digests import last_sent_end
from ..watchlist import Source


def status(config: Config, conn: sqlite3.Connection, sources: dict[str, Source]) -> dict[str, Any]:
    """Each source's state and last poll, the outbox, the last digest per subscription, the last error."""
    state, last, now_text = views.source_states(conn), views.last_polls(conn), now_iso()
    out_sources = []
    for source in sources.values():
        s, p = state.get(source.id, {}), last.get(source.id)
        out_sources.append({
            "id": source.id, "agency": source.agency, "state": s.get("state") or "never-polled",
            "state_since": s.get("state_since"), "last_poll": p["started_at"] if p else None,
            "last_error": s.get("last_error") if s.get("state") not in views.GOOD_STATES else None,
            "interval_minutes": source.interval_minutes or config.poll.interval_minutes,
            "deferred_until": s.get("deferred_until") if (s.get("deferred_until") or "") > now_text else None,
        })
    counts = views.outbox_counts(conn)
    digests = []
    for sub in config.subscriptions("digest"):
        upcoming = next_fire(cron_trigger(sub.schedule, ZoneInfo(sub.timezone)), clock.now())
        digests.append({"subscription": sub.name, "schedule": sub.schedule, "timezone": sub.timezone,
                        "next_send": upcoming.isoformat() if upcoming else None,
                        "last_sent_until": last_sent_end(conn, sub.name),
                        "last_attempt": views.last_digest_attempt(conn, sub.name)})
    return {
        "sources": out_sources,
        "outbox": {"pending": counts.get("pending", 0) + counts.get("sending", 0),
                   "retrying": counts.get("retrying", 0), "dead": counts.get("dead", 0),
                   "held": counts.get("held", 0), "oldest_pending": views.oldest_pending(conn)},
        "digests": digests,
        "last_error": views.last_error(conn),
    }


def source_report(conn: sqlite3.Connection, sources: Mapping[str, Source]) -> list[dict[str, Any]]:
    """Each watched source with its health state, last poll and notice count (`regwatch sources`, the web view)."""
    state, counts, last_polls = views.source_states(conn), views.notice_counts(conn), views.last_polls(conn)
    out: list[dict[str, Any]] = []
    for s in sources.values():
        st, lp = state.get(s.id, {}), last_polls.get(s.id)
        out.append({
            "id": s.id, "agency": s.agency, "set": s.set, "name_en": s.name_en, "name_zh": s.name_zh,
            "url": s.url, "page_url": s.page_url,
            "state": st.get("state") or "never-polled", "state_since": st.get("state_since"),
            "last_error": st.get("last_error"), "next_poll_at": st.get("next_poll_at"),
            "baseline_at": st.get("baseline_at"), "deferred_until": st.get("deferred_until"),
            "notices": counts.get(s.id, 0),
            "last_poll": None if lp is None else {
                "started_at": lp["started_at"], "finished_at": lp["finished_at"],
                "http_status": lp["http_status"], "state": lp["state"], "pages": lp["pages"],
                "items_seen": lp["items_seen"], "new": lp["new"], "edited": lp["edited"], "error": lp["error"],
            },
        })
    return out


def stale_sources(report: dict[str, Any], factor: float, started: datetime) -> list[str]:
    """Sources whose last poll attempt is older than `factor` × their interval (the scheduler is not polling)."""
    now = clock.now()
    stale = []
    for s in report["sources"]:
        limit = timedelta(minutes=s["interval_minutes"] * factor)
        reference = datetime.fromisoformat(s["last_poll"]) if s["last_poll"] else started
        if now - max(reference, started) > limit:
            stale.append(s["id"])
    return stale


def metrics(conn: sqlite3.Connection, up: bool, channels: Mapping[str, str]) -> str:
    """Prometheus text format."""
    lines = ["# HELP regwatch_up 1 while the scheduler runs.", "# TYPE regwatch_up gauge", f"regwatch_up {int(up)}"]

    def family(name: str, kind: str, help_text: str, rows: list[tuple[dict[str, str], float]]) -> None:
        lines.extend([f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"])
        for labels, value in rows:
            label_text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            lines.append(f"{name}{{{label_text}}} {value:g}" if label_text else f"{name} {value:g}")

    family("regwatch_polls_total", "counter", "Polls by source and resulting state.",
           [({"source": s, "state": st}, n) for s, st, n in views.poll_counts(conn)])
    family("regwatch_poll_failures_total", "counter", "Failed polls by health state.",
           [({"state": st}, n) for st, n in views.poll_failures(conn)])
    total, count = views.poll_durations(conn)
    family("regwatch_poll_duration_seconds", "summary", "Time per poll of a source.", [])
    lines += [f"regwatch_poll_duration_seconds_sum {total:g}", f"regwatch_poll_duration_seconds_count {count}"]
    family("regwatch_notices", "gauge", "Stored notices by agency and category.",
           [({"agency": a, "category": c or "unclassified"}, n)
            for a, c, n in views.notices_by_agency_and_category(conn)])
    family("regwatch_deliveries_total", "counter", "Messages sent to channels, by channel, subscription and outcome.",
           [({"channel": channels.get(s, "unknown"), "subscription": s, "outcome": o}, n)
            for s, o, n in views.deliveries_by_outcome(conn)])
    family("regwatch_outbox", "gauge", "Outbox rows by state.",
           [({"state": st}, n) for st, n in views.outbox_counts(conn).items()])
    family("regwatch_source_healthy", "gauge", "1 if the source's last poll was good.",
           [({"source": s}, int(st in views.GOOD_STATES)) for s, st in views.source_health_states(conn)])
    return "\n".join(lines) + "\n"


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
