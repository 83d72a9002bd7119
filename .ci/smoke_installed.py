"""Drive an installed `regwatch` (from a built wheel, in a clean venv) the way a new user would.

Usage: python3 .ci/smoke_installed.py VENV

Runs `regwatch --help` and the `--help` of every command and subcommand, `check-config`, then
`regwatch replay` on the fixture site and a few seconds of `regwatch run` against it: a notice
added to a list page while the service runs must be stored. Any traceback, any unexpected exit
status, fails the run. Standard library only: it runs with the system Python, outside the venv.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SITE = REPO / "tests" / "fixtures" / "site"
PBC_LIST = "www.pbc.gov.cn/goutongjiaoliu/113456/113469/index.html"
NEW_TITLE = "中国人民银行公告〔2026〕第99号（安装测试）"


def fail(message: str) -> None:
    print(f"smoke: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def run(regwatch: str, *args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([regwatch, *args], capture_output=True, text=True, timeout=120)
    if "Traceback" in done.stdout + done.stderr:
        fail(f"`regwatch {' '.join(args)}` printed a traceback:\n{done.stderr}")
    if done.returncode != expect:
        fail(f"`regwatch {' '.join(args)}` exited {done.returncode}, expected {expect}:\n{done.stderr}")
    return done


def commands_of(help_text: str) -> list[str]:
    """The command names listed under 'Commands:' in click's help."""
    names, listing = [], False
    for line in help_text.splitlines():
        if line.strip() == "Commands:":
            listing = True
        elif listing and (match := re.match(r"\s{2}(\S+)", line)):
            names.append(match.group(1))
        elif listing and line and not line.startswith(" "):
            listing = False
    return names


def check_help(regwatch: str, path: tuple[str, ...] = ()) -> int:
    """`--help` of this command and, recursively, of every subcommand; returns how many were checked."""
    text = run(regwatch, *path, "--help").stdout
    return 1 + sum(check_help(regwatch, (*path, name)) for name in commands_of(text))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, predicate, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    fail(f"timed out waiting for {what}")


def post(port: int, action: str, payload: dict) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/_replay/{action}", method="POST",
                                     data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 200:
            fail(f"replay {action} answered {response.status}")


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def main() -> None:
    venv = Path(sys.argv[1]).resolve()
    regwatch = str(venv / "bin" / "regwatch")
    print(f"smoke: {check_help(regwatch)} help pages without a traceback")
    run(regwatch, "--version")

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = Path(tmp) / "config.toml"
        config.write_text(
            f'database = "{tmp}/regwatch.sqlite"\n'
            f'[fetch]\nrewrite_to = "http://127.0.0.1:{port}"\nper_host_delay = 0\ntimeout = 5\n'
            '[poll]\ninterval_minutes = 0.05\nbackfill_pages = 1\n'
            '[detail]\nbaseline = false\n'
            '[service]\njitter = 0\n', encoding="utf-8")
        os.environ["REGWATCH_CONFIG"] = str(config)
        shown = run(regwatch, "check-config").stdout
        if "18 sources" not in shown:
            fail(f"check-config does not see the 18 shipped sources:\n{shown}")

        replay = subprocess.Popen([regwatch, "replay", str(SITE), "--port", str(port)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        service = None
        try:
            wait_for("the replay server", lambda: listening(port), 20)
            service = subprocess.Popen([regwatch, "run"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

            def pbc_notices() -> list[dict]:
                done = run(regwatch, "notices", "--source", "pbc-news", "--json")
                return json.loads(done.stdout)["notices"]

            wait_for("the baseline of pbc-news", pbc_notices)
            post(port, "add-items", {"path": PBC_LIST, "row_selector": 'td[height="22"]', "date_selector": "span.hui12",
                                     "items": [{"title": NEW_TITLE, "date": "2026-11-30",
                                                "href": "/goutongjiaoliu/113456/113469/9999999/index.html"}]})
            stored = wait_for("the added notice", lambda: [n for n in pbc_notices() if n["title"] == NEW_TITLE])
            if stored[0]["baseline"]:
                fail("the notice added during the run was recorded as baseline")
            status = json.loads(run(regwatch, "status", "--json").stdout)
            if not status["service"]["running"]:
                fail("status does not see the running service")
            print(f"smoke: notice added during the run stored (id {stored[0]['id']}); status sees the service")
        finally:
            for proc in (service, replay):
                if proc is not None and proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
            if service is not None:
                _, err = service.communicate(timeout=30)
                if "Traceback" in err:
                    fail(f"`regwatch run` logged a traceback:\n{err}")
                if service.returncode != 0:
                    fail(f"`regwatch run` exited {service.returncode} on SIGTERM:\n{err[-2000:]}")
            _, err = replay.communicate(timeout=10)
            if "Traceback" in err:
                fail(f"`regwatch replay` printed a traceback:\n{err}")
    print("smoke: ok")


if __name__ == "__main__":
    main()
