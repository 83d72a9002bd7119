"""Database faults are the service's own, told as such: store-error, /healthz fails, ops hears of it;
a corrupt database stops the start with one line; a database removed under the service is noticed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from ..receivers import Receiver
from .hostile import FaultInstall, HostileServer, free_port, list_page, rows, wait_until


def _health(port: int) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except OSError:
        return 0, {}


@pytest.fixture
def ops():
    receiver = Receiver("webhook").start()
    yield receiver
    receiver.stop()


def _service(fault_install: FaultInstall, hostile: HostileServer, ops: Receiver, port: int) -> dict:
    state = {"rows": rows("壬", 3)}
    hostile.routes["/list.html"] = lambda req: req.send(200, list_page(state["rows"]))
    fault_install.html_source(extra=(
        f'[[subscription]]\nname = "ops"\nchannel = "webhook"\nurl = "{ops.url}"\nsecret = "{ops.secret}"\n'
        '[ops]\nsubscription = "ops"\n'
        f'[service]\nhttp = "127.0.0.1:{port}"\njitter = 0\nstore_check_seconds = 0.5\noutbox_seconds = 0.5\n'
        "[poll]\ninterval_minutes = 0.02\n"))
    return state


def _run(fault_install: FaultInstall) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(fault_install.config_path), "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err, err
    return err


def _ops_texts(ops: Receiver) -> str:
    return json.dumps([m.payload for m in ops.messages], ensure_ascii=False)


def test_a_database_removed_under_the_service_is_noticed(fault_install: FaultInstall, hostile: HostileServer,
                                                         ops: Receiver) -> None:
    port = free_port()
    _service(fault_install, hostile, ops, port)
    proc = _run(fault_install)
    try:
        wait_until(lambda: _health(port)[0] == 200)
        os.remove(fault_install.db_path)
        _, body = wait_until(lambda: (r := _health(port))[0] == 503 and r)
        assert body["status"] == "store-error" and "was removed or replaced" in body["error"]
        wait_until(lambda: "cannot use its database" in _ops_texts(ops))
    finally:
        err = _stop(proc)
    assert "store error: the database file" in err
    restarted = _run(fault_install)  # a new, empty database now: said loudly, not silently
    try:
        wait_until(lambda: "was missing at start" in _ops_texts(ops))
    finally:
        assert "was missing at start" in _stop(restarted)


def test_a_store_error_during_polls_fails_healthz_until_it_clears(fault_install: FaultInstall,
                                                                 hostile: HostileServer, ops: Receiver) -> None:
    port = free_port()
    state = _service(fault_install, hostile, ops, port)
    assert fault_install.cli("poll").exit_code == 0
    proc = _run(fault_install)
    try:
        wait_until(lambda: _health(port)[0] == 200)
        with fault_install.db() as conn:
            conn.execute("CREATE TRIGGER boom BEFORE INSERT ON notices BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        state["rows"] = rows("癸", 2) + state["rows"]
        _, body = wait_until(lambda: (r := _health(port))[0] == 503 and r)
        assert body["status"] == "store-error" and "disk full" in body["error"]
        with fault_install.db() as conn:
            assert conn.execute("SELECT state FROM sources").fetchone()[0] != "layout-changed"
            conn.execute("DROP TRIGGER boom")
        wait_until(lambda: _health(port)[0] == 200)
        wait_until(lambda: len(fault_install.titles()) == 5)  # nothing was lost
    finally:
        _stop(proc)
    assert "disk full" in _ops_texts(ops)


def test_a_corrupt_database_stops_the_start_with_one_line(fault_install: FaultInstall, hostile: HostileServer,
                                                          ops: Receiver) -> None:
    _service(fault_install, hostile, ops, free_port())
    hostile.routes["/list.html"] = lambda req: req.send(200, list_page(rows("子", 400)))
    assert fault_install.cli("poll").exit_code == 0
    with fault_install.db() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    data = bytearray(fault_install.db_path.read_bytes())
    page = int.from_bytes(data[16:18], "big")
    for offset in range(page * 4, len(data), page * 3):  # scribble over b-tree page headers, keep page 1
        data[offset:offset + 12] = b"\x07" * 12
    fault_install.db_path.write_bytes(bytes(data))
    done = subprocess.run([sys.executable, "-m", "regwatch", "--config", str(fault_install.config_path), "run"],
                          capture_output=True, text=True, timeout=60, start_new_session=True)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("regwatch:")]
    assert len(lines) == 1 and str(fault_install.db_path) in lines[0]
    assert "integrity check" in lines[0] or "malformed" in lines[0] or "not a database" in lines[0]
