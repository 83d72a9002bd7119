"""A page that suddenly shows hundreds of 'new' notices floods nobody; a huge outbox stalls nothing;
a receiver that hangs holds up only its own subscription."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request

from ..receivers import Receiver
from .hostile import FaultInstall, HostileServer, free_port, list_page, rows, wait_until


def _webhook(name: str, receiver: Receiver) -> str:
    return (f'[[subscription]]\nname = "{name}"\nchannel = "webhook"\nurl = "{receiver.url}"\n'
            f'secret = "{receiver.secret}"\n')


def test_a_burst_sends_one_summary_and_holds_the_alerts(fault_install: FaultInstall, hostile: HostileServer) -> None:
    receiver = Receiver("webhook").start()
    try:
        state = {"rows": rows("己", 5)}
        hostile.routes["/list.html"] = lambda req: req.send(200, list_page(state["rows"]))
        fault_install.html_source(extra=_webhook("team", receiver) + "[delivery]\nhold_for_details_minutes = 0\n"
                                  + "[poll]\nflood_threshold = 20\n")
        assert fault_install.cli("poll").exit_code == 0
        state["rows"] = rows("庚", 300) + state["rows"]  # the site re-published its archive on page 1
        result = fault_install.cli("poll", "--all")
        assert result.exit_code == 0 and " 300 new" in result.stdout
        assert len(fault_install.titles()) == 305  # everything stored
        assert len(receiver.messages) == 1  # one summary, not 300 alerts (nor batches of them)
        summary = json.dumps(receiver.messages[0].payload, ensure_ascii=False)
        assert "300 new notices at test-list" in summary and "regwatch outbox release --source test-list" in summary
        assert "flood guard" in result.stderr
        status = json.loads(fault_install.cli("status", "--json").stdout)
        assert status["outbox"]["held"] == 300
        with fault_install.db() as conn:
            assert conn.execute("SELECT kind FROM source_notes").fetchone()[0] == "burst"
        released = fault_install.cli("outbox", "release", "--source", "test-list")
        assert "300 held alert(s) released" in released.stdout
        assert fault_install.cli("deliver").exit_code == 0
        delivered = [n for m in receiver.messages[1:] for n in m.payload["data"]["notices"]]
        assert len(delivered) == 300 and len({n["id"] for n in delivered}) == 300
    finally:
        receiver.stop()


def _get(port: int, path: str) -> int:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_a_huge_backlog_and_a_hanging_receiver_stall_nothing_else(fault_install: FaultInstall,
                                                                  hostile: HostileServer) -> None:
    """20,000 queued alerts for a receiver that never answers; another subscription still gets its
    alert, /healthz answers, polls go on, and SIGTERM stops the service promptly."""
    hanging = Receiver("webhook", delay=60).start()
    healthy = Receiver("webhook").start()
    state = {"rows": rows("辛", 3)}
    hostile.routes["/list.html"] = lambda req: req.send(200, list_page(state["rows"]))
    port = free_port()
    fault_install.html_source(extra=_webhook("stuck", hanging) + _webhook("team", healthy)
                              + f'[service]\nhttp = "127.0.0.1:{port}"\noutbox_seconds = 0.5\njitter = 0\n'
                              + "[delivery]\nhold_for_details_minutes = 0\ntimeout = 30\n"
                              + "[poll]\ninterval_minutes = 0.02\nflood_threshold = 0\n")
    try:
        assert fault_install.cli("poll").exit_code == 0
        with fault_install.db() as conn:  # a backlog for the hanging one, as a hostile 20,000-row page leaves
            conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)"
                         " INSERT INTO outbox (subscription, dedupe_key, kind, ops_text, next_attempt_at, created_at)"
                         " SELECT 'stuck', 'backlog:' || i, 'ops', 'old alert ' || i, '2026-01-01T00:00:00.000+00:00',"
                         " '2026-01-01T00:00:00.000+00:00' FROM n")
        proc = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(fault_install.config_path), "run"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_until(lambda: _get(port, "/healthz") in (200, 503))
            state["rows"] = [("关于加强个人信息保护的公告", "/n/pi-1.html", "2026-12-01"), *state["rows"]]
            message = wait_until(lambda: [m for m in healthy.messages if "个人信息" in json.dumps(
                m.payload, ensure_ascii=False)], timeout=30)
            assert message
            assert _get(port, "/healthz") == 200  # the scheduler runs, sources are polled
            polls_before = hostile.count("/list.html")
            wait_until(lambda: hostile.count("/list.html") > polls_before + 1, timeout=20)
        finally:
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=20)
            stopped_in = time.monotonic() - started
        assert proc.returncode == 0 and stopped_in < 10, stopped_in
        with fault_install.db() as conn:
            states = dict(conn.execute("SELECT state, count(*) FROM outbox WHERE subscription = 'stuck'"
                                       " GROUP BY state").fetchall())
        assert sum(states.values()) == 20001 and "dead" not in states  # nothing lost, nothing given up
    finally:
        hanging.stop()
        healthy.stop()
