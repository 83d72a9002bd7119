"""The wall clock jumps (NTP stepping it, a VM resumed, an operator's mistake): polls keep their pace
both ways, and /healthz notices a scheduler that has stopped firing.

The system clock cannot be moved here, so the scheduler's and the service's wall clock is a
movable one (the monotonic clock, which real jumps do not touch either, is the real one).
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import apscheduler.executors.base
import apscheduler.schedulers.base
import apscheduler.triggers.interval
import pytest

import regwatch.clock
from regwatch.app import App
from regwatch.service.daemon import Daemon

from .hostile import FaultInstall, HostileServer, list_page, rows


class MovableClock(datetime):
    offset = timedelta(0)

    @classmethod
    def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
        return datetime.now(tz) + cls.offset


@pytest.fixture
def movable_clock(monkeypatch: pytest.MonkeyPatch):
    MovableClock.offset = timedelta(0)
    for module in (apscheduler.schedulers.base, apscheduler.executors.base, apscheduler.triggers.interval):
        monkeypatch.setattr(module, "datetime", MovableClock)  # the scheduler's clock
    monkeypatch.setattr(regwatch.clock, "now", lambda: MovableClock.now(UTC))  # regwatch's one clock
    yield MovableClock
    MovableClock.offset = timedelta(0)


def _daemon(fault_install: FaultInstall, hostile: HostileServer) -> Daemon:
    hostile.routes["/list.html"] = lambda req: req.send(200, list_page(rows("丑", 3)))
    fault_install.html_source(extra="[poll]\ninterval_minutes = 0.01\n[service]\njitter = 0\noutbox_seconds = 1\n")
    return Daemon(App(str(fault_install.config_path)).loaded)


async def _more_polls(hostile: HostileServer, count: int, timeout: float) -> bool:
    start, deadline = hostile.count("/list.html"), time.monotonic() + timeout
    while time.monotonic() < deadline:
        if hostile.count("/list.html") >= start + count:
            return True
        await asyncio.sleep(0.1)
    return False


@pytest.mark.parametrize("jump", [timedelta(hours=-1), timedelta(hours=1)], ids=["back-1h", "forward-1h"])
def test_polls_keep_going_when_the_clock_jumps_and_when_it_comes_back(fault_install: FaultInstall,
                                                                      hostile: HostileServer, movable_clock,
                                                                      jump: timedelta) -> None:
    daemon = _daemon(fault_install, hostile)

    async def scenario() -> dict[str, bool]:
        service = asyncio.create_task(daemon.run())
        seen = {"before": await _more_polls(hostile, 2, 15)}
        movable_clock.offset = jump
        seen["after the jump"] = await _more_polls(hostile, 3, 15)
        movable_clock.offset = timedelta(0)
        seen["after the clock came back"] = await _more_polls(hostile, 3, 15)
        health = daemon._healthz()
        seen["healthz ok"] = health.status == 200 and json.loads(health.body)["status"] == "ok"
        daemon.stopping.set()
        await service
        return seen

    seen = asyncio.run(scenario())
    assert all(seen.values()), seen


def test_healthz_fails_when_the_scheduler_stops_firing(fault_install: FaultInstall, hostile: HostileServer,
                                                       movable_clock) -> None:
    daemon = _daemon(fault_install, hostile)

    async def scenario() -> tuple[int, str]:
        service = asyncio.create_task(daemon.run())
        await _more_polls(hostile, 1, 15)
        assert daemon._healthz().status == 200
        daemon.scheduler.pause()  # jobs stop firing, as a wedged scheduler's would
        await asyncio.sleep(11)
        health = daemon._healthz()
        daemon.stopping.set()
        await service
        return health.status, json.loads(health.body)["status"]

    assert asyncio.run(scenario()) == (503, "stalled")


