"""On a server: shell commands read the service's config, secrets and database; the docs say one thing."""

from __future__ import annotations

import os
import re
import shutil

import pytest
from click.testing import CliRunner

import regwatch.config
from regwatch.cli import main

from .conftest import PBC_LIST_P1, PBC_LIST_PATH, REPO, SHIPPED_WATCHLISTS


@pytest.fixture
def server(tmp_path, replay, monkeypatch):
    """/etc and /var/lib/regwatch stand-ins: a system config dir with config.toml and env, a state dir."""
    etc, state = tmp_path / "etc", tmp_path / "var-lib-regwatch"
    (etc / "regwatch").mkdir(parents=True)
    monkeypatch.setattr(regwatch.config, "SYSTEM_CONFIG_DIR", etc)
    monkeypatch.setattr(regwatch.config, "SYSTEM_STATE_DIR", state)
    for name in ("REGWATCH_CONFIG", "STATE_DIRECTORY", "HOOK_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # an operator with no config of their own
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "home" / ".local" / "share"))
    watchlists = tmp_path / "watchlists"
    watchlists.mkdir()
    shutil.copy(SHIPPED_WATCHLISTS / "pbc.toml", watchlists)
    (etc / "regwatch" / "config.toml").write_text(
        f'watchlists = "{watchlists}"\nsources = ["pbc-news"]\n[poll]\nbackfill_pages = 1\n'
        '[detail]\nenabled = false\n'
        f'[fetch]\nrewrite_to = "{replay.base_url}"\nper_host_delay = 0\n'
        '[[subscription]]\nname = "legal"\nchannel = "dingtalk"\n'
        'url = "https://oapi.dingtalk.com/robot/send?access_token=${HOOK_TOKEN}"\n', encoding="utf-8")
    (etc / "regwatch" / "env").write_text("# secrets\nHOOK_TOKEN='a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4'\n",
                                          encoding="utf-8")
    replay.set_page(PBC_LIST_PATH, PBC_LIST_P1.read_bytes(), "text/html; charset=utf-8")
    return etc / "regwatch", state, tmp_path


def cli(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_shell_commands_find_the_service_config_its_secrets_and_its_database(server) -> None:
    config_dir, state, tmp_path = server
    shown = cli("check-config")
    assert shown.exit_code == 0, shown.output
    assert f"# config: {config_dir / 'config.toml'}" in shown.stdout
    assert f"# database: {state / 'regwatch.sqlite'}" in shown.stdout
    assert "a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4" not in shown.stdout  # the secret from the env file is masked
    assert cli("poll", "--no-deliver").exit_code == 0
    assert (state / "regwatch.sqlite").exists()
    assert not (tmp_path / "home" / ".local" / "share" / "regwatch").exists()  # no second, empty database
    listed = cli("notices", "--json")
    assert listed.exit_code == 0 and '"count": 15' in listed.stdout


def test_a_variable_set_nowhere_is_still_an_error(server) -> None:
    config_dir, _, _ = server
    (config_dir / "env").write_text("OTHER=1\n", encoding="utf-8")
    result = cli("check-config")
    assert result.exit_code == 2 and "environment variable HOOK_TOKEN is not set" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can be refused")
def test_root_does_not_touch_the_service_database(server) -> None:
    _, state, _ = server
    assert cli("poll", "--no-deliver").exit_code == 0
    nobody = 65534
    for path in state.iterdir():
        os.chown(path, nobody, nobody)
    os.chown(state, nobody, nobody)
    before = sorted(p.name for p in state.iterdir())
    result = cli("notices")
    assert result.exit_code == 1
    assert re.search(r"belongs to user \S+; run regwatch as that user \(sudo -u \S+ regwatch …\)", result.stderr)
    assert sorted(p.name for p in state.iterdir()) == before
    assert all(p.stat().st_uid == nobody for p in state.iterdir())


def test_readme_unit_and_packaging_give_the_same_install_steps() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    unit = (REPO / "systemd" / "regwatch.service").read_text(encoding="utf-8")
    block = readme.split("### systemd: installing on a server", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    steps = [line.split("#")[0].strip() for line in block.splitlines() if line.startswith("sudo install")]
    comment = [line.lstrip("# ").split("#")[0].strip() for line in unit.splitlines()
               if line.startswith("#   sudo install")]
    assert steps and steps == comment  # the same modes, owners and places in both
    exec_start = re.search(r"^ExecStart=(\S+)", unit, re.M)
    assert exec_start and exec_start.group(1) == "/opt/regwatch/bin/regwatch"
    assert "sudo python3 -m venv /opt/regwatch" in block and "ProtectHome=yes" in unit
    setup = (REPO / "setup.py").read_text(encoding="utf-8")
    assert '"share/regwatch", ["config.example.toml", "systemd/regwatch.service", "README.md"]' in setup
    for line in steps:
        assert "/opt/regwatch/share/regwatch/" in line or "/dev/null" in line
