"""The sender: drain the outbox, one subscription at a time per platform rules.

For each subscription: drop rows its filters do not select (filters run at send time, when the
detail page has added body, 文号 and deadline), wait a little for pending detail pages, batch a
burst into as few messages as fit the platform's size limit, respect the platform's rate limit,
mark rows `sending` before the request and record the answer after it. Transient failures retry
with exponential backoff and full jitter (or the platform's Retry-After); permanent ones are dead
and raise an operations alert.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .. import clock
from ..clock import iso, now_iso
from ..config import Config, SubscriptionConfig
from ..store.db import transaction
from ..store.outbox import (
    already_told,
    attempts_so_far,
    due_rows,
    mark_filtered,
    mark_sending,
    messages_since,
    postpone,
    queue_ops,
    record_outcome,
    recover_interrupted,
)
from . import http
from .channels import Channel, Outcome, channel_for
from .model import AlertItem, Message, item_from_row, wanted
from .reminders import queue_reminders

log = logging.getLogger(__name__)
_SHORT_WAIT = 2.0  # a rate-limit wait up to this long is slept through; longer ones wait for the next pass


@dataclass
class DeliveryReport:
    sent: int = 0  # messages
    items: int = 0  # outbox rows delivered
    retrying: int = 0
    dead: int = 0
    filtered: int = 0


def delivering(config: Config) -> list[SubscriptionConfig]:
    """The subscriptions the sender serves: instant ones, and the ops target."""
    return [s for s in config.subscriptions() if s.channel != "email" and
            (s.mode == "instant" or s.name == config.ops.subscription)]


async def deliver_due(config: Config, conn: sqlite3.Connection, only: str | None = None) -> DeliveryReport:
    """One pass over every subscription's (or just `only`'s) due outbox rows."""
    report = DeliveryReport()
    recover_interrupted(conn, timedelta(minutes=config.delivery.sending_timeout_minutes))
    queue_reminders(conn, config, clock.now())
    subs = [s for s in delivering(config) if only is None or s.name == only]
    async with http.session(config.delivery.timeout) as client:
        await asyncio.gather(*(_deliver_subscription(config, conn, client, s, report) for s in subs))
    return report


async def _deliver_subscription(config: Config, conn: sqlite3.Connection, client: http.Client,
                                sub: SubscriptionConfig, report: DeliveryReport) -> None:
    channel = channel_for(sub)
    now = clock.now()
    rows = due_rows(conn, sub.name, iso(now))
    hold_until = now - timedelta(minutes=config.delivery.hold_for_details_minutes)
    ready: list[tuple[Any, AlertItem]] = []
    unwanted: list[int] = []
    items = [(row, item_from_row(row)) for row in rows]
    told = already_told(conn, sub.name, {(row["agency"], row["title"]) for row, i in items if i.kind == "new"})
    titles_now: set[tuple[str, str]] = set()
    for row, item in items:
        same = (row["agency"], row["title"])
        if not wanted(sub, item, row["body"] or ""):
            unwanted.append(row["id"])
        elif item.kind == "new" and (same in titles_now or same in told):
            unwanted.append(row["id"])  # one notice posted in two columns: one alert
        elif (row["detail_state"] == "pending" or row["attachments_pending"]) and row["created_at"] > iso(hold_until):
            continue  # the detail page may still add 文号 and deadline, the files their text: wait a little
        elif (item.kind == "new" and config.translate.provider and row["translation_state"] is None
              and row["created_at"] > iso(now - timedelta(minutes=config.translate.hold_minutes))):
            continue  # the model's English may come within [translate] hold_minutes (0: never wait)
        else:
            ready.append((row, item))
            if item.kind == "new":
                titles_now.add(same)
    if unwanted:
        mark_filtered(conn, unwanted)
        report.filtered += len(unwanted)
    messages = _messages(channel, sub, ready)
    for index, message in enumerate(messages):
        if not await _wait_for_rate(conn, channel, sub.name):
            break
        retry_at = await _send(config, conn, client, channel, sub, message, report)
        if retry_at is not None:  # the receiver is failing or hanging: the rest waits with this one
            rest = [row_id for later in messages[index + 1:] for row_id in later.row_ids]
            postpone(conn, rest, retry_at, f"not tried: {sub.name} failed earlier in the same pass")
            report.retrying += len(rest)
            break


def _messages(channel: Channel, sub: SubscriptionConfig, ready: list[tuple[Any, AlertItem]]) -> list[Message]:
    """Resends first (same rows, same key), then single notices or packed batches."""
    messages: list[Message] = []
    resend: dict[str, Message] = {}
    fresh: dict[str, list[tuple[Any, AlertItem]]] = {}
    for row, item in ready:
        if row["message_key"]:
            message = resend.setdefault(row["message_key"], Message([], sub.language, row["message_key"]))
            message.items.append(item)
            message.row_ids.append(row["id"])
        else:
            fresh.setdefault(item.kind, []).append((row, item))
    messages.extend(resend.values())
    for group in fresh.values():
        if len(group) <= sub.batch_over:
            messages.extend(Message([item], sub.language, _new_key(), [row["id"]]) for row, item in group)
            continue
        current = Message([], sub.language, _new_key())
        for row, item in group:
            trial = Message([*current.items, item], sub.language, current.key)
            if current.items and not channel.fits(trial):
                messages.append(current)
                current = Message([], sub.language, _new_key())
            current.items.append(item)
            current.row_ids.append(row["id"])
        messages.append(current)
    return messages


def _new_key() -> str:
    return f"rw_{uuid.uuid4().hex}"


async def _wait_for_rate(conn: sqlite3.Connection, channel: Channel, name: str) -> bool:
    """Sleep through a short rate-limit wait; False when the minute's budget is spent."""
    if messages_since(conn, name, 60) >= channel.per_minute:
        return False
    waited = 0.0
    while messages_since(conn, name, 1) >= channel.per_second:
        if waited >= _SHORT_WAIT:
            return False
        await asyncio.sleep(0.25)
        waited += 0.25
    return True


async def _send(config: Config, conn: sqlite3.Connection, client: http.Client, channel: Channel,
                sub: SubscriptionConfig, message: Message, report: DeliveryReport) -> str | None:
    """Send one message and record the answer; when the channel should be tried again later, when."""
    attempts = attempts_so_far(conn, message.row_ids)
    if not mark_sending(conn, message.row_ids, message.key):
        return None  # another sender took these rows
    outcome = await send_message(client, channel, message, (attempts[0] or 0) + 1)
    dead = outcome.result == "permanent"
    next_at = None
    if outcome.result in ("retry", "ambiguous"):
        age = clock.now() - datetime.fromisoformat(attempts[1])
        dead = age > timedelta(hours=config.delivery.give_up_after_hours)
        delay = outcome.retry_after if outcome.retry_after is not None else random.uniform(
            0, min(config.delivery.retry_max_seconds, config.delivery.retry_base_seconds * 2 ** (attempts[0] or 0)))
        next_at = iso(clock.now() + timedelta(seconds=delay))
    record_outcome(conn, sub.name, message.row_ids, message.key, outcome.result, outcome.detail, next_at, dead)
    if outcome.result == "ok":
        report.sent += 1
        report.items += len(message.row_ids)
        log.info("subscription %s: delivered %d item(s) as %s", sub.name, len(message.row_ids), message.key)
        return None
    if dead:
        report.dead += len(message.row_ids)
        log.error("subscription %s: delivery failed for good (%s); %d item(s) are dead",
                  sub.name, outcome.detail, len(message.row_ids))
        if config.ops.subscription and config.ops.subscription != sub.name:
            with transaction(conn):
                queue_ops(conn, config.ops.subscription, f"dead:{sub.name}:{message.row_ids[0]}",
                          f"Delivery to subscription {sub.name} failed permanently ({outcome.detail}); "
                          f"{len(message.row_ids)} alert(s) are dead. Fix the channel, then run "
                          "`regwatch outbox retry`.")
        return None  # this message failed for good; the next one may not
    else:
        report.retrying += len(message.row_ids)
        log.warning("subscription %s: %s, will retry", sub.name, outcome.detail)
    return next_at


async def send_message(client: http.Client, channel: Channel, message: Message, attempt: int) -> Outcome:
    """Sign and send one message; classify the answer (network trouble never raises)."""
    payload = channel.payload(message)
    url, headers, body = channel.request(payload, message, time.time())
    try:
        answer = await http.post(client, url, headers, body)
    except http.NotConnected as exc:
        return Outcome("retry", f"could not connect ({exc})")
    except http.NoAnswer as exc:  # sent, but no answer: it may have arrived
        return Outcome("ambiguous", f"no answer ({exc})")
    return channel.interpret(answer.status, answer.headers, answer.body, attempt)


def ops_message(sub: SubscriptionConfig, text: str) -> Message:
    """An operations note sent outside the outbox (when the store itself is what failed)."""
    return Message([AlertItem(kind="ops", title=text)], sub.language, _new_key())


def sample_message(sub: SubscriptionConfig) -> Message:
    """What `regwatch notify test` sends."""
    item = AlertItem(
        kind="sample", title="regwatch 测试消息 / test message: 国家互联网信息办公室关于《个人信息出境认证办法"
        "（征求意见稿）》公开征求意见的通知", url="https://www.cac.gov.cn/", agency="CAC", source="cac-notices",
        category="Legislation", tags=("personal-information", "cross-border-data"), doc_type="draft for comment",
        status="draft", published=now_iso()[:10], deadline=None,
        summary="This is a test message from regwatch. 这是一条测试消息。")
    return Message([item], sub.language, _new_key())
