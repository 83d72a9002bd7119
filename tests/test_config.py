"""Bad config and watchlist files stop regwatch with one clear line; good ones work with defaults."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from .conftest import SHIPPED_WATCHLISTS


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "regwatch", *args], capture_output=True, text=True,
                          env=full_env, cwd=cwd, timeout=60)


def assert_one_line_error(proc: subprocess.CompletedProcess, *fragments: str) -> None:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr  # one line, no traceback
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


@pytest.mark.parametrize(("text", "fragments"), [
    ('[fetch]\ntimout = 5\n', ["fetch.timout", "unknown key"]),
    ('[fetch]\ntimeout = "fast"\n', ["fetch.timeout", "expected a number", "'fast'"]),
    ('[poll]\nbackfill_pages = 1.5\n', ["poll.backfill_pages", "expected an integer"]),
    ('[fetch]\nproxy = "http://u:${REGWATCH_TEST_UNSET_VAR}@proxy:3128"\n',
     ["fetch.proxy", "environment variable REGWATCH_TEST_UNSET_VAR is not set"]),
    ('[fetch\ntimeout = 5\n', ["TOML syntax error"]),
    ('log_level = "loud"\n', ["log_level", "expected one of"]),
    ('[fetch]\nconcurrency = 0\n', ["fetch.concurrency", "greater than 0"]),
    ('[fetch]\nproxy = "socks5://ops:pw-never-shown@proxy:1080"\n', ["fetch.proxy", "expected an http:// proxy"]),
    ('[fetch]\nproxy = "http://ops:pw-never-shown@proxy:port"\n', ["fetch.proxy", "port is not a number"]),
])
def test_bad_config_is_one_clear_line(tmp_path: Path, text: str, fragments: list[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    proc = run("--config", str(config), "check-config")
    assert_one_line_error(proc, str(config), *fragments)
    assert "pw-never-shown" not in proc.stderr + proc.stdout


def test_config_found_through_environment(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.toml"
    config.write_text("[fetch]\ntimeout = true\n", encoding="utf-8")
    proc = run("check-config", env={"REGWATCH_CONFIG": str(config)})
    assert_one_line_error(proc, str(config), "fetch.timeout", "expected a number")


def test_config_found_in_platform_dir(tmp_path: Path) -> None:
    (tmp_path / "regwatch").mkdir()
    (tmp_path / "regwatch" / "config.toml").write_text('[poll]\ninterval_minutes = 7\n', encoding="utf-8")
    proc = run("check-config", env={"XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)})
    assert proc.returncode == 0, proc.stderr
    assert "interval_minutes = 7.0" in proc.stdout
    assert str(tmp_path / "regwatch" / "config.toml") in proc.stdout


def test_no_config_file_runs_on_defaults_with_shipped_watchlists(tmp_path: Path) -> None:
    proc = run("check-config", env={"XDG_CONFIG_HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path)},
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "built-in defaults" in proc.stdout
    files = [tomllib.loads(p.read_text(encoding="utf-8")) for p in SHIPPED_WATCHLISTS.glob("*.toml")]
    enabled = [(s.get("set", f.get("set", "national"))) for f in files for s in f.get("source", [])
               if s.get("enabled", True)]
    watched = sum(1 for s in enabled if s != "provinces")  # a new install watches all sets but provinces
    assert f"({watched} sources watched of {len(enabled)}; sets core, national, courts, foreign)" in proc.stdout
    assert str(tmp_path / "regwatch" / "regwatch.sqlite") in proc.stdout


def test_env_secrets_are_used_but_masked(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[fetch]\nproxy = "http://user:${PROXY_PASSWORD}@proxy.internal:3128"\n', encoding="utf-8")
    proc = run("--config", str(config), "check-config", env={"PROXY_PASSWORD": "s3cr3t-pw"})
    assert proc.returncode == 0, proc.stderr
    assert 'proxy = "http://user:****@proxy.internal:3128"' in proc.stdout  # only the password is hidden
    assert "s3cr3t-pw" not in proc.stdout + proc.stderr


GOOD_SOURCE = """
agency = "TEST"
[[source]]
id = "test-list"
url = "https://gov.example/list.html"
[source.parser]
kind = "html"
item = "ul.list li"
"""


@pytest.mark.parametrize(("text", "fragments"), [
    (GOOD_SOURCE.replace('kind = "html"', 'kind = "html"\nitems = "li"'), ["source[0].parser.items", "unknown key"]),
    (GOOD_SOURCE.replace('id = "test-list"', "id = 7"), ["source[0].id", "expected a string"]),
    (GOOD_SOURCE.replace('"ul.list li"', '"ul..list"'), ["source[0].parser.item", "invalid CSS selector"]),
    (GOOD_SOURCE.replace('kind = "html"', 'kind = "htlm"'), ["source[0].parser.kind", "expected one of"]),
    (GOOD_SOURCE.replace('"https://gov.example/list.html"', '"${REGWATCH_TEST_UNSET_VAR}"'),
     ["source[0].url", "REGWATCH_TEST_UNSET_VAR is not set"]),
    (GOOD_SOURCE.replace("[[source]]", "[[source]\n"), ["TOML syntax error"]),
    (GOOD_SOURCE + '\n[[source]]\nid = "test-list"\nurl = "https://gov.example/b"\n[source.parser]\n'
     'kind = "rss"\n', ["test-list", "already used"]),
])
def test_bad_watchlist_is_one_clear_line(tmp_path: Path, text: str, fragments: list[str]) -> None:
    watchlists = tmp_path / "watchlists"
    watchlists.mkdir()
    (watchlists / "test.toml").write_text(text, encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text(f'watchlists = "{watchlists}"\ndatabase = "{tmp_path / "db.sqlite"}"\n', encoding="utf-8")
    for command in ("check-config", "poll"):
        proc = run("--config", str(config), command)
        assert_one_line_error(proc, str(watchlists / "test.toml"), *fragments)

