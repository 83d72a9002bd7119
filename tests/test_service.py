"""`regwatch run` as a real process: polls, delivers, answers health checks, stops cleanly."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from .conftest import PBC_LIST_PATH, REPO, Install
from .receivers import Receiver
from .smtp_server import free_port


def wait_for(predicate, timeout: float = 20.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out waiting")


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except urllib.error.URLError:  # not listening (yet)
        return 0, ""


@pytest.fixture
def service_install(pbc_install: Install):
    receiver = Receiver("webhook").start()
    port = free_port()
    pbc_install.write_config(
        'sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n[detail]\nbaseline = false\nretry_minutes = 60\n'
        f'[service]\nhttp = "127.0.0.1:{port}"\noutbox_seconds = 0.5\njitter = 0\n'
        '[delivery]\nhold_for_details_minutes = 0\n'
        f'[[subscription]]\nname = "team"\nchannel = "webhook"\nurl = "{receiver.url}"\nsecret = "{receiver.secret}"\n')
    text = (pbc_install.watchlists / "pbc.toml").read_text(encoding="utf-8")
    (pbc_install.watchlists / "pbc.toml").write_text(
        text.replace(
            'url = "https://www.pbc.gov.cn/goutongjiaoliu/113456/113469/index.html"',
            'url = "https://www.pbc.gov.cn/goutongjiaoliu/113456/113469/index.html"\ninterval_minutes = 0.01', 1),
        encoding="utf-8")
    yield pbc_install, receiver, port
    receiver.stop()


def test_run_polls_delivers_reports_health_and_stops_on_sigterm(service_install) -> None:
    install, receiver, port = service_install
    proc = install.subprocess("run")
    try:
        wait_for(lambda: any(r.status == 200 for r in install.replay.requests(PBC_LIST_PATH)))
        wait_for(lambda: install.cli_json("notices")["count"] == 15)  # the baseline
        install.replay.add_items(PBC_LIST_PATH, 'td[height="22"]', [
            {"title": "中国人民银行公告〔2026〕第30号", "href": "/goutongjiaoliu/113456/113469/6200001/index.html",
             "date": "2026-08-20"}], date_selector="span.hui12")
        message = wait_for(lambda: receiver.messages)[0]
        assert message.payload["data"]["notices"][0]["title"] == "中国人民银行公告〔2026〕第30号"
        status, body = get(port, "/healthz")
        assert status == 200 and json.loads(body)["status"] == "ok"
        status, text = get(port, "/metrics")
        assert status == 200 and "regwatch_up 1" in text
        assert 'regwatch_polls_total{source="pbc-news",state="ok"}' in text
        assert 'regwatch_deliveries_total{channel="webhook",subscription="team",outcome="ok"} 1' in text
        assert 'regwatch_notices{agency="PBC",category="Legislation"}' in text
        assert "regwatch_poll_duration_seconds_count" in text
        report = json.loads(install.cli("status", "--json").stdout)
        assert report["service"]["running"] and report["sources"][0]["state"] in ("ok", "ok-no-new")
        with install.db() as conn:  # the service indexes what its passes queued for search, by itself
            wait_for(lambda: conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0)
            assert conn.execute("SELECT count(*) FROM notice_search").fetchone()[0] == 16
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=10)
        stopped_in = time.monotonic() - started
    assert code == 0 and stopped_in < 5, proc.stderr.read()
    assert len(receiver.messages) == 1  # exactly once
    assert "regwatch stopped" in proc.stderr.read()


def test_a_second_instance_refuses_to_start(service_install) -> None:
    install, _, _ = service_install
    first = install.subprocess("run")
    try:
        wait_for(lambda: install.replay.requests(PBC_LIST_PATH))
        second = install.subprocess("run")
        assert second.wait(timeout=20) == 1
        err = second.stderr.read()
        assert "is in use by pid" in err and str(first.pid) in err and "regwatch run" in err
        assert first.poll() is None  # the first keeps running
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=10) == 0


def test_sighup_with_a_bad_config_keeps_the_old_one(service_install) -> None:
    install, _, port = service_install
    proc = install.subprocess("--log-format", "json", "run")
    try:
        wait_for(lambda: get(port, "/healthz")[0] == 200)
        good = install.config_path.read_text(encoding="utf-8")
        install.config_path.write_text(good + "\n[fetch\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert proc.poll() is None
        polls = len(install.replay.requests(PBC_LIST_PATH))
        wait_for(lambda: len(install.replay.requests(PBC_LIST_PATH)) > polls + 1)  # still polling
        assert get(port, "/healthz")[0] == 200
        install.config_path.write_text(good.replace('name = "team"\n', 'name = "team"\ncategories = ["Legislaton"]\n'),
                                       encoding="utf-8")  # a filter typo
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        assert proc.poll() is None and get(port, "/healthz")[0] == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    lines = [json.loads(line) for line in proc.stderr.read().splitlines() if line.startswith("{")]
    rejected = [entry for entry in lines if "reload rejected" in entry["message"]]
    assert rejected and rejected[0]["level"] == "error" and "TOML syntax error" in rejected[0]["message"]
    assert "subscription[0].categories[0]: unknown category 'Legislaton' (did you mean 'Legislation'?)" in \
        rejected[1]["message"]


def test_systemd_notify_ready_and_watchdog(service_install, tmp_path: Path) -> None:
    install, _, _ = service_install
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
    proc = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(install.config_path), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        received = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (not any("READY=1" in m for m in received)
                                               or sum("WATCHDOG=1" in m for m in received) < 3):
            received.append(sock.recv(4096).decode())
        assert any(m.startswith("READY=1") for m in received)
        assert sum("WATCHDOG=1" in m for m in received) >= 3
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        sock.close()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_unit_file_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    unit = (REPO / "systemd" / "regwatch.service").read_text(encoding="utf-8")
    for directive in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "User=regwatch", "StateDirectory=regwatch",
                      "EnvironmentFile=", "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                      "PrivateTmp=yes", "RestrictAddressFamilies=", "SystemCallFilter=@system-service"):
        assert directive in unit
    beside_python = Path(sys.executable).parent / "regwatch"  # the venv the tests run in
    regwatch = str(beside_python) if beside_python.exists() else shutil.which("regwatch")
    assert regwatch
    local = tmp_path / "regwatch.service"
    assert "ExecStart=/opt/regwatch/bin/regwatch --config /etc/regwatch/config.toml run" in unit
    local.write_text(unit.replace("/opt/regwatch/bin/regwatch", regwatch), encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(local)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "regwatch.service" not in result.stderr  # no warnings about the unit itself


def test_quiet_hours_are_beijing_time_and_may_span_midnight() -> None:
    from dataclasses import replace
    from datetime import UTC, datetime

    from regwatch.watchlist import in_quiet_hours, load_watchlists

    source = next(iter(load_watchlists(REPO / "watchlists").values()))
    night = replace(source, quiet_hours="23:30-06:00")
    assert in_quiet_hours(night, datetime(2026, 8, 14, 16, 0, tzinfo=UTC))  # 00:00 in Beijing
    assert not in_quiet_hours(night, datetime(2026, 8, 14, 2, 0, tzinfo=UTC))  # 10:00 in Beijing
    assert not in_quiet_hours(source, datetime(2026, 8, 14, 16, 0, tzinfo=UTC))


def test_the_service_sends_alerts_with_the_gloss_and_writes_the_english_afterwards(service_install) -> None:
    """[translate] provider with hold_minutes = 0: the alert does not wait for the model; the model's
    title and summary arrive in the store afterwards, from a task of their own."""
    from .test_translate_model import DETAIL, GOOD, TITLE, ChatServer

    install, receiver, _ = service_install
    chat = ChatServer()
    chat.answers.append(("delay", 1.5))  # a slow model
    try:
        install.config_path.write_text(install.config_path.read_text(encoding="utf-8") + (
            f'\n[translate]\nprovider = "openai-compatible"\nbase_url = "{chat.base_url}"\nmodel = "m"\n'
            'api_key = "sk-service-test"\nallow_private_base_url = true\ntimeout = 5\n'), encoding="utf-8")
        proc = install.subprocess("run")
        try:
            wait_for(lambda: install.cli_json("notices")["count"] == 15)
            href = "/goutongjiaoliu/113456/113469/6200009/index.html"
            install.replay.set_page("www.pbc.gov.cn" + href, DETAIL, "text/html; charset=utf-8")
            install.replay.add_items(PBC_LIST_PATH, 'td[height="22"]', [{"title": TITLE, "href": href,
                                                                          "date": "2026-08-20"}],
                                     date_selector="span.hui12")
            (message,) = wait_for(lambda: receiver.messages)
            assert message.payload["data"]["notices"][0]["title_en"] == "2025 Financial Statistics Report"
            written = wait_for(lambda: [n for n in install.cli_json("notices")["notices"] if n["summary_en"]])
            assert written[0]["title_en"] == GOOD["title"] and len(chat.requests) == 1
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
        assert "sk-service-test" not in proc.stderr.read()
        assert len(receiver.messages) == 1
    finally:
        chat.stop()


def first_polls(install: Install) -> dict[str, str]:
    """Each polled source's first poll start, read from the store the service writes."""
    if not install.db_path.exists():
        return {}
    with install.db() as conn:
        try:
            return dict(conn.execute("SELECT source_id, min(started_at) FROM polls GROUP BY source_id").fetchall())
        except sqlite3.OperationalError:  # (the service is still creating its tables)
            return {}


@pytest.mark.parametrize("spread", [True, False])
def test_first_polls_are_spread_out_unless_the_config_asks_for_one_pass_at_start(site_install: Install,
                                                                                 spread: bool) -> None:
    site_install.write_config('[watch]\nsets = ["core"]\n[detail]\nenabled = false\n[attachments]\nenabled = false\n'
                              f"[service]\njitter = 0\nspread_first_polls = {str(spread).lower()}\n")
    watched = site_install.cli_json("sources")["sources"]
    assert len(watched) > 10  # CAC, MIIT, PBC and SAMR: first polls 10 s apart when spread
    proc = site_install.subprocess("run")
    try:
        if spread:  # the second site is asked 10 s after the first, not with it
            wait_for(lambda: first_polls(site_install))
            time.sleep(1.0)
            assert len(first_polls(site_install)) == 1
        else:  # every source polled at start, together (per-host limits still apply)
            starts = wait_for(lambda: (found := first_polls(site_install)) and len(found) == len(watched) and found)
            moments = sorted(datetime.fromisoformat(moment) for moment in starts.values())
            assert (moments[-1] - moments[0]).total_seconds() < 2
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0, proc.stderr.read()
