"""A first pass over many sources classifies its baseline in a helper process: every notice gets exactly
the verdict it would get inline, and none goes without one if the helper fails, talks nonsense or hangs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from regwatch import baseline_classifier
from regwatch.app import App
from regwatch.classify import Classifier, default_rules_path
from regwatch.parse.instrument import instrument_key
from regwatch.poll import poll_sources
from regwatch.store.search import spaced
from regwatch.watchlist import load_watchlists

from .conftest import SHIPPED_WATCHLISTS, Install

CONFIG = ('[watch]\nsets = ["core", "national", "courts", "provinces", "foreign"]\n'
          "[detail]\nenabled = false\n")  # list titles only: the verdict a baseline gets at first


def stored_verdicts(install: Install) -> dict[int, tuple]:
    with install.db() as conn:
        return {r["id"]: (r["title"], r["source_id"], r["agency"], r["category"], json.loads(r["tags"]),
                          r["doc_type"], r["status"], r["rules_version"])
                for r in conn.execute("SELECT * FROM notices")}


def assert_verdicts_as_inline(stored: dict[int, tuple]) -> None:
    """Every stored notice has exactly the verdict the classifier gives its title in this process."""
    classifier = Classifier()
    for title, source, agency, category, tags, doc_type, status, version in stored.values():
        verdict = classifier.classify(title, "", source, agency)
        assert (category, tags, doc_type, status, version) == (
            verdict.category, verdict.tags, verdict.doc_type, verdict.status, verdict.version), title


def prepare(install: Install) -> None:
    for path in SHIPPED_WATCHLISTS.glob("*.toml"):
        shutil.copy(path, install.watchlists / path.name)
    install.write_config(CONFIG, fetch_extra="per_host_concurrency = 4")


def test_the_helper_gives_every_baseline_notice_its_inline_verdict(site_install: Install, monkeypatch) -> None:
    prepare(site_install)
    answered: list[str] = []
    ask = baseline_classifier.Helper.facts

    async def counting(self, source_id, agency, titles):  # the titles go to the helper, and it answers
        facts = await ask(self, source_id, agency, titles)
        answered.extend(titles if facts is not None else [])
        return facts

    monkeypatch.setattr(baseline_classifier.Helper, "facts", counting)
    inline, build = Classifier.classify, Classifier.__init__
    built: list[object] = []
    monkeypatch.setattr(Classifier, "classify", lambda *args: pytest.fail(f"classified inline: {args[1]}"))
    monkeypatch.setattr(Classifier, "__init__", lambda self, *args: built.append(build(self, *args)))
    assert site_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    assert not built  # the helper loaded the rules: the pass never needed a classifier of its own
    monkeypatch.setattr(Classifier, "classify", inline)
    monkeypatch.setattr(Classifier, "__init__", build)
    stored = stored_verdicts(site_install)
    assert len(stored) > 200 and sorted({v[0] for v in stored.values()}) == sorted(set(answered))
    assert_verdicts_as_inline(stored)
    with site_install.db() as conn:  # the instrument's name as the store makes it; the titles queued for search
        for title, instrument in conn.execute("SELECT title, instrument FROM notices"):
            assert instrument == instrument_key(title), title
        queued = conn.execute("SELECT count(*) FROM search_pending").fetchone()[0]
        assert queued + conn.execute("SELECT count(*) FROM notice_search").fetchone()[0] == len(stored)
    assert site_install.cli("search", "数据").exit_code == 0  # indexes the queue first
    with site_install.db() as conn:
        indexed = conn.execute("SELECT n.title, s.title FROM notices n"
                               " JOIN notice_search s ON s.rowid = n.id").fetchall()
        assert len(indexed) == len(stored) and all(text == spaced(title) for title, text in indexed)
        assert conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0


@pytest.mark.parametrize("child", [
    (sys.executable, "-c", "import sys; sys.exit(3)"),  # dies at once
    (sys.executable, "-c", "import sys\nfor line in sys.stdin: print('not json', flush=True)"),  # talks nonsense
    (sys.executable, "-c", "import sys, time\nfor line in sys.stdin: time.sleep(60)"),  # hangs
    (sys.executable, "-c", "import json, sys\nprint(json.dumps({'ready': True}), flush=True)\n"  # wrong types
     "for line in sys.stdin:\n    page = json.loads(line)\n    print(json.dumps({'n': page['n'], 'facts': [[["
     "'Legislation', [], 'news', 'final', [], 'v', 1.0, True], None] for _ in page['titles']]}), flush=True)"),
], ids=["dies", "garbled", "hangs", "wrong-types"])
def test_a_failing_helper_leaves_no_notice_unclassified(site_install: Install, monkeypatch, child) -> None:
    prepare(site_install)
    monkeypatch.setattr(baseline_classifier, "CHILD", child)
    monkeypatch.setattr(baseline_classifier, "WAIT_SECONDS", 2.0)
    assert site_install.cli("poll", "--all", "--no-deliver").exit_code == 0
    stored = stored_verdicts(site_install)
    assert len(stored) > 200 and all(v[3] and v[7] for v in stored.values())  # a category and a rules version


def test_a_bad_rules_file_stops_a_helped_pass_before_anything_is_stored(site_install: Install, tmp_path: Path) -> None:
    """The helper cannot load it and says nothing; the pass then builds the classifier itself, which names
    the file (exit status 2), and stores nothing."""
    prepare(site_install)
    broken = tmp_path / "rules.toml"
    broken.write_text(default_rules_path().read_text(encoding="utf-8").replace(
        'patterns = ["解读"', 'patterns = ["解读(", "解读"', 1), encoding="utf-8")
    site_install.write_config(CONFIG + f'[classify]\nrules = "{broken}"\n', fetch_extra="per_host_concurrency = 4")
    result = site_install.cli("poll", "--all", "--no-deliver")
    assert result.exit_code == 2 and str(broken) in result.stderr, result.output
    with site_install.db() as conn:
        assert conn.execute("SELECT count(*) FROM notices").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM polls").fetchone()[0] == 0


def test_a_pass_with_its_classifier_at_hand_does_not_wait_for_a_helper_still_starting(
        site_install: Install, monkeypatch) -> None:
    """The service's case: its classifier is built before its first pass, so while the helper is still
    loading its rules a baseline page is classified inline (the same verdicts) instead of waiting."""
    prepare(site_install)
    started = time.monotonic()
    monkeypatch.setattr(baseline_classifier, "CHILD", (  # the real child, ready only after a long start-up
        sys.executable, "-c", "import runpy, sys, time; time.sleep(30); "
        "runpy.run_module('regwatch.baseline_child', run_name='__main__')"))
    app = App(str(site_install.config_path))
    sources = list(app.sources.values())

    async def one_pass() -> list:
        helper = await baseline_classifier.Helper.start(app.config, len(sources))
        try:
            assert helper.active and not helper.answering
            return (await poll_sources(app.config, app.conn, sources, app.classifier, helper=helper)).sources
        finally:
            await helper.close()

    reports = asyncio.run(one_pass())
    assert time.monotonic() - started < 25  # (it would have waited 30 s for the child's first answer)
    assert all(r.baseline for r in reports if r.state == "ok")
    stored = stored_verdicts(site_install)
    assert len(stored) > 200
    assert_verdicts_as_inline(stored)


def helper_processes(parent: int) -> list[int]:
    """The baseline helpers the service process has running (its children running the helper module)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and "regwatch.baseline_child" in cmdline:
            found.append(int(entry.name))
    return found


@contextmanager
def running_service(install: Install) -> Iterator[subprocess.Popen]:
    """`regwatch run` on the install, its output in service.log (a pipe nobody reads would fill up and
    stall the service), stopped with SIGTERM at the end."""
    with (install.root / "service.log").open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "regwatch", "--config", str(install.config_path), "run"],
                                stdout=log, stderr=log)
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)


def service_log(install: Install) -> str:
    return (install.root / "service.log").read_text()[-3000:]


def test_the_service_shares_one_helper_for_its_first_polls_and_lets_it_go(site_install: Install) -> None:
    prepare(site_install)
    site_install.write_config(CONFIG + "[poll]\ninterval_minutes = 0.05\n[service]\njitter = 0\n",
                              fetch_extra="per_host_concurrency = 4")
    seen: set[int] = set()
    most = 0
    with running_service(site_install) as proc:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            running = helper_processes(proc.pid)
            seen.update(running)
            most = max(most, len(running))
            try:
                with site_install.db() as conn:
                    waiting = conn.execute("SELECT count(*) FROM sources WHERE baseline_at IS NULL").fetchone()[0]
                    polled = conn.execute("SELECT count(*) FROM sources").fetchone()[0]
            except sqlite3.OperationalError:  # the service has not made its store yet
                waiting = polled = 0
            if polled > 20 and not waiting and seen and not running:
                break
            time.sleep(0.1)
    assert waiting == 0, service_log(site_install)
    assert len(seen) == 1 and most == 1  # one helper for all the first polls, not one per pass
    assert not running, "the helper was not let go once the baselines were done"
    stored = stored_verdicts(site_install)
    assert len(stored) > 200
    assert_verdicts_as_inline(stored)


def test_a_service_restarted_over_its_baselines_starts_no_helper(site_install: Install) -> None:
    prepare(site_install)
    assert site_install.cli("poll").exit_code == 0  # every source has its baseline
    with site_install.db() as conn:
        polls_before = conn.execute("SELECT count(*) FROM polls").fetchone()[0]
    site_install.write_config(CONFIG + "[service]\njitter = 0\nspread_first_polls = false\n",
                              fetch_extra="per_host_concurrency = 4")
    seen: set[int] = set()
    with running_service(site_install) as proc:
        deadline = time.monotonic() + 30
        polled_again = 0
        while time.monotonic() < deadline and polled_again < polls_before:  # every source polled once more
            seen.update(helper_processes(proc.pid))
            with site_install.db() as conn:
                polled_again = conn.execute("SELECT count(*) FROM polls").fetchone()[0] - polls_before
            time.sleep(0.05)
    assert polled_again >= polls_before, service_log(site_install)
    assert not seen  # nothing to classify beside the pass: no 40 MB process for it


def test_a_helper_whose_pass_has_gone_ends_quietly() -> None:
    child = subprocess.Popen([sys.executable, "-m", "regwatch.baseline_child", ""], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.close()  # the pass ended (or never started) before the child said it was ready
    child.stdout = None
    _, err = child.communicate(timeout=30)
    assert child.returncode == 1 and err == b""  # no traceback on the stderr it shares with the pass


def test_ctrl_c_is_left_to_the_pass_which_ends_the_helper() -> None:
    child = subprocess.Popen([sys.executable, "-m", "regwatch.baseline_child", ""], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stdin is not None
    assert json.loads(child.stdout.readline()) == {"ready": True}
    child.send_signal(signal.SIGINT)  # Ctrl-C in a terminal reaches the pass and its helper alike
    child.stdin.write(json.dumps({"n": 0, "source": "s", "agency": "PBC", "titles": ["数据安全管理办法"]}).encode()
                      + b"\n")
    out, err = child.communicate(timeout=30)  # the pass closes its stdin: the helper answers, then ends
    assert child.returncode == 0 and err == b"" and json.loads(out)["n"] == 0


def test_a_helper_stopped_again_and_again_as_it_answers_loses_no_byte_of_its_answers() -> None:
    """Answers longer than a pipe writes at once (4 KB), the child stopped and continued all the while, as a
    freeze, a debugger or py-spy does; under PYTHONUNBUFFERED, as the systemd unit runs it. Such a stop
    used to cut an answer short, and the pass gave its helper up."""
    titles = [f"关于印发《数据出境安全评估办法（第{i}号）》的通知" for i in range(40)]
    pages = 200
    child = subprocess.Popen([sys.executable, "-m", "regwatch.baseline_child", ""], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert child.stdin is not None and child.stdout is not None
    stdin, stdout, done = child.stdin, child.stdout, threading.Event()

    def ask() -> None:
        for n in range(pages):
            stdin.write(json.dumps({"n": n, "source": "s", "agency": "CAC", "titles": titles},
                                   ensure_ascii=False).encode() + b"\n")
        stdin.close()

    def stop_and_continue() -> None:
        while not done.is_set():
            child.send_signal(signal.SIGSTOP)
            child.send_signal(signal.SIGCONT)
            time.sleep(0.001)

    try:
        assert json.loads(stdout.readline()) == {"ready": True}
        threads = [threading.Thread(target=ask), threading.Thread(target=stop_and_continue)]
        for thread in threads:
            thread.start()
        answers = []
        for line in stdout:  # read slower than the child answers: it waits inside its writes, and is stopped there
            answers.append(line)
            time.sleep(0.01)
    finally:
        done.set()
        child.send_signal(signal.SIGCONT)
        child.wait(timeout=60)
    for thread in threads:
        thread.join()
    assert min(map(len, answers)) > 4096
    parsed = [json.loads(answer) for answer in answers]
    assert [answer["n"] for answer in parsed] == list(range(pages))
    assert all(answer["facts"] == parsed[0]["facts"] for answer in parsed)  # the same titles on every page
    assert [instrument for _, instrument in parsed[0]["facts"]] == [instrument_key(title) for title in titles]


def test_after_a_reload_with_new_rules_new_baselines_get_the_new_rules(site_install: Install) -> None:
    for path in SHIPPED_WATCHLISTS.glob("*.toml"):
        shutil.copy(path, site_install.watchlists / path.name)
    rules = site_install.root / "rules.toml"
    shipped = default_rules_path().read_text(encoding="utf-8")

    def configure(version: str, sets: str) -> None:
        rules.write_text(re.sub(r'(?m)^version = ".*"$', f'version = "{version}"', shipped, count=1), encoding="utf-8")
        site_install.write_config(f"[watch]\nsets = [{sets}]\n[detail]\nenabled = false\n"
                                  f'[classify]\nrules = "{rules}"\n[service]\njitter = 0\nspread_first_polls = false\n',
                                  fetch_extra="per_host_concurrency = 4")

    def baselined() -> int:
        try:
            with site_install.db() as conn:
                return conn.execute("SELECT count(*) FROM sources WHERE baseline_at IS NOT NULL").fetchone()[0]
        except sqlite3.OperationalError:  # (the service is still creating its tables)
            return 0

    configure("test-1", '"core", "national"')  # 28 sources: a helper classifies their baselines
    with running_service(site_install) as proc:
        deadline = time.monotonic() + 60
        while baselined() < 28 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert helper_processes(proc.pid)  # still there: it is let go 10 s after its last pass
        configure("test-2", '"core", "national", "courts", "foreign"')  # new rules, 14 more sources
        proc.send_signal(signal.SIGHUP)
        while baselined() < 42 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert baselined() == 42, service_log(site_install)
    added = {i for i, source in load_watchlists(site_install.watchlists).items() if source.set in ("courts", "foreign")}
    with site_install.db() as conn:
        versions = {(source in added, version) for source, version in conn.execute(
            "SELECT DISTINCT source_id, rules_version FROM notices")}
    assert versions == {(False, "test-1"), (True, "test-2")}  # each baseline by the rules of its time
