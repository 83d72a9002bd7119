"""The weekly email digest: a bulletin of what a subscription's filters select, per period.

A digest covers every matching notice first seen since the subscription's last *successful*
digest, so a digest missed while the service was down or SMTP failed is caught up next time,
with nothing lost and nothing sent twice.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from .. import clock
from ..config import Config, SubscriptionConfig
from ..store.digests import record_digest, register_subscription
from ..watchlist import Source

# The bulletin's parts (build.py, render.py with Jinja2, mail.py with SMTP) are imported where a digest
# is made, not here: `regwatch poll` registers subscriptions through this module and should not pay
# for them at start-up.

log = logging.getLogger(__name__)


@dataclass
class DigestResult:
    subscription: str
    sent: bool
    notices: int
    skipped: bool = False  # an empty period with send_empty = false
    error: str | None = None


def email_subscriptions(config: Config, name: str | None = None) -> list[SubscriptionConfig]:
    subs = [s for s in config.subscriptions("digest") if s.channel == "email"]
    return [s for s in subs if s.name == name] if name else subs


def register_subscriptions(config: Config, conn: sqlite3.Connection) -> None:
    """Note each email digest subscription not seen before as beginning now (its first digest covers from here).

    Called where notices start to flow for it: the service's start and reload, and `regwatch poll`.
    """
    now = clock.now_iso()
    for sub in email_subscriptions(config):
        register_subscription(conn, sub.name, now)


def send_digest(config: Config, conn: sqlite3.Connection, sub: SubscriptionConfig, sources: dict[str, Source],
                now: datetime | None = None) -> DigestResult:
    """Build, send and record one subscription's digest for the period since its last sent one."""
    from .build import build_digest, period_for
    from .mail import MailError, send_mail
    from .render import email_message

    end = now or clock.now()
    register_subscription(conn, sub.name, clock.iso(end))  # a first run covers from now
    start, end = period_for(conn, sub, end)
    digest = build_digest(conn, sub, sources, start, end)
    iso = clock.iso(start), clock.iso(end)
    if digest.count == 0 and not sub.send_empty and not digest.unhealthy:
        record_digest(conn, sub.name, *iso, True, 0, None, "empty period, not sent (send_empty = false)")
        return DigestResult(sub.name, False, 0, skipped=True)
    message = email_message(digest, sub, config.smtp.from_)
    try:
        send_mail(config.smtp, message)
    except MailError as exc:
        record_digest(conn, sub.name, *iso, False, digest.count, message["Message-ID"], str(exc))
        log.error("digest %s: not sent (%s); the next digest will cover this period too", sub.name, exc)
        return DigestResult(sub.name, False, digest.count, error=str(exc))
    record_digest(conn, sub.name, *iso, True, digest.count, message["Message-ID"], None)
    log.info("digest %s: sent %d notice(s) to %d recipient(s)", sub.name, digest.count, len(sub.to))
    return DigestResult(sub.name, True, digest.count)


def send_test_mail(config: Config, sub: SubscriptionConfig, to: list[str] | None = None) -> None:
    """A short test message to the subscription's recipients (or `to`); records no digest. Raises MailError."""
    from .mail import send_mail
    from .render import test_message

    send_mail(config.smtp, test_message(sub, config.smtp.from_, to or sub.to))


__all__ = ["DigestResult", "email_subscriptions", "register_subscriptions", "send_digest", "send_test_mail"]
