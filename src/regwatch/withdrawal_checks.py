"""Notices that left their list: is the page gone too?

A good poll marks the notices its list no longer shows, though they are dated within what the list
still shows (store/diff.py). Here each such notice's own page is asked for, politely: a 404 or 410
means possibly withdrawn — reported once to every instant subscription whose filters select it, as
`notice.withdrawn` — and an answer means it only moved off the list (pinned items, a reordered
column): it is not asked again while it stays off. A page that cannot be reached is asked again next
pass, for up to a week.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import clock
from .clock import iso
from .config import Config
from .fetch import Fetcher
from .parse.html_list import host_of
from .store.withdrawals import mark_withdrawn, missing_notices, settle_missing
from .watchlist import Source

log = logging.getLogger(__name__)
PER_PASS = 10  # pages asked for per pass
GIVE_UP = timedelta(days=7)


@dataclass
class WithdrawalReport:
    withdrawn: int = 0
    still_online: int = 0


async def check_missing(config: Config, fetcher: Fetcher, conn: sqlite3.Connection,
                        sources: list[Source]) -> WithdrawalReport:
    report = WithdrawalReport()
    by_id = {s.id: s for s in sources}
    subscriptions = [s.name for s in config.subscriptions("instant") if s.channel != "email"]
    for missing in missing_notices(conn, list(by_id), PER_PASS):
        source = by_id[missing.source_id]
        if host_of(missing.url) not in {host_of(source.url), host_of(source.page_url)}:
            settle_missing(conn, missing.notice_id, iso(clock.now()))  # another site's page is not ours to probe
            continue
        result = await fetcher.get(missing.url, headers={**dict(source.headers), "Referer": source.page_url})
        if result.status in (404, 410):
            text = (f"no longer listed at {source.id} since {missing.missing_since[:10]} although newer notices "
                    f"still are, and its page answers HTTP {result.status}")
            mark_withdrawn(conn, missing.notice_id, subscriptions, text, iso(clock.now()))
            log.warning("notice %d possibly withdrawn: %s (%s)", missing.notice_id, missing.title, text)
            report.withdrawn += 1
        elif result.status is not None and 200 <= result.status < 400:
            settle_missing(conn, missing.notice_id, iso(clock.now()))
            report.still_online += 1
        elif clock.now() - datetime.fromisoformat(missing.missing_since) > GIVE_UP:
            log.warning("notice %d left its list a week ago and its page still cannot be checked (%s): "
                        "no longer asked", missing.notice_id, result.error or f"HTTP {result.status}")
            settle_missing(conn, missing.notice_id, iso(clock.now()))
    return report
