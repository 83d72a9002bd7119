"""Drive an installed `regwatch` (from a built wheel, in a clean venv) the way a new user would.

Usage: python3 .ci/smoke_installed.py VENV

Runs `regwatch --help` and the `--help` of every command and subcommand, `check-config`, then
`regwatch replay` on the fixture site and a few seconds of `regwatch run` against it: a notice
added to a list page while the service runs must be stored. Then the README's first quick-start
command, exactly as written, in a fresh copy of the checkout (its own venv, `pip install .`), with
only $REGWATCH_CONFIG pointing it at the replay server: the service it starts must store the
baseline and stop cleanly on Ctrl-C. Any traceback, any unexpected exit status, fails the run.
Standard library only: it runs with the system Python, outside the venv.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
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


def readme_first_command() -> str:
    """The first shell block of the README's quick start: the command that installs and runs the service."""
    quick_start = (REPO / "README.md").read_text(encoding="utf-8").split("## Quick start", 1)[1]
    return quick_start.split("```sh\n", 1)[1].split("```", 1)[0].strip()


def check_readme_command(tmp: Path, port: int) -> None:
    checkout = Path(tmp) / "fresh-checkout"
    shutil.copytree(REPO, checkout, ignore=shutil.ignore_patterns(".venv", ".git", "build", "dist", "__pycache__",
                                                                   "*.egg-info", "*.sqlite*"))
    config = Path(tmp) / "readme.toml"
    config.write_text(f'database = "{tmp}/readme.sqlite"\nsources = ["pbc-news"]\n'
                      f'[fetch]\nrewrite_to = "http://127.0.0.1:{port}"\nper_host_delay = 0\n'
                      '[poll]\nbackfill_pages = 1\n[detail]\nenabled = false\n', encoding="utf-8")
    log = Path(tmp) / "readme.log"
    env = {**os.environ, "HOME": str(Path(tmp) / "home"), "REGWATCH_CONFIG": str(config)}
    command = readme_first_command()
    with log.open("w") as out:
        proc = subprocess.Popen(["sh", "-c", command], cwd=checkout, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_for("the README's command to start the service", lambda: "regwatch running" in log.read_text(), 300)
        regwatch = str(checkout / ".venv" / "bin" / "regwatch")
        wait_for("the README's service to store the baseline", lambda: json.loads(
            run(regwatch, "notices", "--json").stdout)["count"] > 0, 60)
    finally:
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C, as the README says
        code = proc.wait(timeout=30)
    text = log.read_text()
    # The shell running the `&&` chain dies of the Ctrl-C itself (-SIGINT); regwatch must have stopped cleanly.
    if "Traceback" in text or code not in (0, -signal.SIGINT) or "regwatch stopped" not in text:
        fail(f"the README's command `{command}` exited {code}:\n{text[-3000:]}")
    print(f"smoke: the README's first command works as written: {command}")


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
        watched, shipped = shipped_sources()
        if f"({watched} sources watched of {shipped};" not in shown:
            fail(f"check-config does not see the {shipped} shipped sources ({watched} watched by default):\n{shown}")

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
            service.send_signal(signal.SIGTERM)
            service.wait(timeout=30)
            check_readme_command(Path(tmp), port)
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


def shipped_sources() -> tuple[int, int]:
    """(watched by default, enabled) sources of the repository's watchlists: what the wheel must carry."""
    files = [tomllib.loads(p.read_text(encoding="utf-8")) for p in (REPO / "watchlists").glob("*.toml")
             if not p.name.startswith("_")]
    sets = [s.get("set", f.get("set", "national")) for f in files for s in f.get("source", [])
            if s.get("enabled", True)]
    return sum(1 for s in sets if s != "provinces"), len(sets)


if __name__ == "__main__":
    main()
