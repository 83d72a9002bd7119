"""Shared test parts: a replay server on 127.0.0.1 and a throwaway regwatch installation."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from regwatch.cli import main
from regwatch.replay import ReplayServer

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
REAL = FIXTURES / "real"
REPO = HERE.parent
SHIPPED_WATCHLISTS = REPO / "watchlists"
REGWATCH = str(Path(sys.executable).parent / "regwatch")  # the console script of the venv the tests run in

PBC_LIST_PATH = "www.pbc.gov.cn/goutongjiaoliu/113456/113469/index.html"


@pytest.fixture(autouse=True, scope="session")
def _own_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """The tests' regwatch (and the services they start) keep their watchlist cache in a directory of
    the test run's, not in the user's home."""
    previous = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if previous is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = previous
PBC_LIST_P1 = REAL / "pbc" / "list_goutongjiaoliu-113469_index-p1_fetched-2026-08-12.html"
PBC_LIST_P2 = REAL / "pbc" / "list_goutongjiaoliu-113469_11040-2_fetched-2026-08-12.html"


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server on 127.0.0.1 (STARTTLS + AUTH); its password in $SMTP_PASSWORD."""
    from .smtp_server import PASSWORD, SmtpServer

    server = SmtpServer(tmp_path).start()
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    yield server
    server.stop()


@pytest.fixture
def replay() -> ReplayServer:
    with ReplayServer() as server:
        yield server


@dataclass
class Install:
    """A regwatch set-up in a temporary directory: config file, watchlist dir, database."""

    root: Path
    replay: ReplayServer

    @property
    def config_path(self) -> Path:
        return self.root / "config.toml"

    @property
    def watchlists(self) -> Path:
        return self.root / "watchlists"

    @property
    def db_path(self) -> Path:
        return self.root / "regwatch.sqlite"

    def write_config(self, extra: str = "", fetch_extra: str = "") -> None:
        self.config_path.write_text(
            f'database = "{self.db_path}"\nwatchlists = "{self.watchlists}"\n{extra}\n'
            f'[fetch]\nrewrite_to = "{self.replay.base_url}"\nper_host_delay = 0\ntimeout = 5\n{fetch_extra}\n',
            encoding="utf-8",
        )

    def add_watchlist(self, name: str, text: str) -> None:
        (self.watchlists / name).write_text(text, encoding="utf-8")

    def cli(self, *args: str) -> Result:
        """Run a command in-process (real config, store and HTTP)."""
        return CliRunner().invoke(main, ["--config", str(self.config_path), *args], catch_exceptions=False)

    def cli_json(self, *args: str) -> dict:
        result = self.cli(*args, "--json")
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def subprocess(self, *args: str, **kwargs) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "regwatch", "--config", str(self.config_path), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ}, **kwargs,
        )

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.db_path)
        conn.row_factory = sqlite3.Row
        return conn


@pytest.fixture
def install(tmp_path: Path, replay: ReplayServer) -> Install:
    inst = Install(tmp_path, replay)
    inst.watchlists.mkdir()
    inst.write_config()
    return inst


@pytest.fixture
def pbc_install(install: Install) -> Install:
    """The shipped PBC watchlist, only pbc-news, one page of baseline, the real page 1 on the replay server."""
    shutil.copy(SHIPPED_WATCHLISTS / "pbc.toml", install.watchlists / "pbc.toml")
    install.write_config('sources = ["pbc-news"]\n[poll]\nbackfill_pages = 1')
    install.replay.set_page(PBC_LIST_PATH, PBC_LIST_P1.read_bytes(), "text/html; charset=utf-8")
    return install


@pytest.fixture
def site_install(tmp_path: Path) -> Install:
    """Every shipped watchlist against the replay copy of every watched column (tests/fixtures/site)."""
    with ReplayServer(FIXTURES / "site") as server:
        inst = Install(tmp_path, server)
        inst.watchlists.mkdir()
        for path in SHIPPED_WATCHLISTS.glob("*.toml"):
            shutil.copy(path, inst.watchlists / path.name)
        inst.write_config('[watch]\nsets = ["core", "national", "courts", "provinces", "foreign"]\n'
                          "[detail]\nmax_per_poll = 1000", fetch_extra="per_host_concurrency = 4")
        yield inst
