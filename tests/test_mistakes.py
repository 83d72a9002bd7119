"""A user's mistakes get one clear line and exit 2 (a failure of the machine: exit 1), never a traceback
or a silent empty result. Each case runs the installed console script, as a user would."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from .conftest import REGWATCH, SHIPPED_WATCHLISTS, Install


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGWATCH_")}
    return subprocess.run([REGWATCH, "--config", str(config), *args], capture_output=True, text=True, env=env,
                          timeout=60)


def one_line(proc: subprocess.CompletedProcess[str], code: int, *fragments: str) -> str:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("regwatch: note:")]
    assert len(lines) == 1, proc.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f'database = "{tmp_path}/regwatch.sqlite"\n', encoding="utf-8")
    return path


SLACK = 'channel = "slack"\nurl = "https://hooks.slack.com/services/T0000/B0000/abcdefabcdefabcdefabcdef"\n'


@pytest.mark.parametrize(("table", "fragments"), [
    ('categories = ["Legislaton"]', ["subscription[0].categories[0]", "unknown category 'Legislaton'",
                                     "did you mean 'Legislation'?"]),
    ('tags = ["personal-info"]', ["subscription[0].tags[0]", "did you mean 'personal-information'?"]),
    ('agencies = ["MITT"]', ["subscription[0].agencies[0]", "unknown agency 'MITT'", "did you mean 'MIIT'?"]),
    ('sources = ["pbc-new"]', ["subscription[0].sources[0]", "did you mean 'pbc-news'?"]),
    ('events = ["created"]', ["subscription[0].events[0]", "expected one of 'new', 'edited'"]),
])
def test_a_filter_typo_stops_check_config_and_run(config: Path, table: str, fragments: list[str]) -> None:
    config.write_text(config.read_text() + f'[[subscription]]\nname = "team"\n{SLACK}{table}\n', encoding="utf-8")
    for command in ("check-config", "run"):
        one_line(run(config, command), 2, str(config), *fragments)


def test_filters_that_name_real_things_are_accepted_in_any_case(config: Path) -> None:
    config.write_text(config.read_text() + f'[[subscription]]\nname = "team"\n{SLACK}'
                      'categories = ["law enforcement"]\nagencies = ["miit", "PBC"]\nsources = ["samr-drafts"]\n'
                      'tags = ["apps"]\n', encoding="utf-8")
    assert run(config, "check-config").returncode == 0


@pytest.mark.parametrize(("args", "fragments"), [
    (["notices", "--since", "2026/09/01"], ["--since", "YYYY-MM-DD", "'2026/09/01'"]),
    (["notices", "--since", "yesterday"], ["--since", "'yesterday'"]),
    (["notices", "--since", "2026-02-30"], ["--since", "'2026-02-30'"]),
    (["notices", "--category", "Legislaton"], ["--category", "did you mean 'Legislation'?"]),
    (["notices", "--tag", "pi"], ["--tag", "unknown value 'pi'"]),
    (["notices", "--source", "pbc-new"], ["--source", "did you mean 'pbc-news'?"]),
    (["notices", "--agency", "CACC"], ["--agency", "did you mean 'CAC'?"]),
    (["digest", "preview", "--since", "yesterday"], ["--since", "'yesterday'"]),
    (["digest", "preview", "-o", "/nonexistent-dir/digest.html"], ["-o", "/nonexistent-dir", "does not exist"]),
    (["poll", "--source", "pbc-new"], ["unknown source id 'pbc-new'", "did you mean 'pbc-news'?"]),
    (["notify", "test", "tema"], ["no subscription is named 'tema'"]),
])
def test_bad_command_line_input_is_exit_2(config: Path, args: list[str], fragments: list[str]) -> None:
    one_line(run(config, *args), 2, *fragments)


def test_an_empty_result_says_so_and_a_full_page_says_it_stopped(pbc_install: Install) -> None:
    assert pbc_install.cli("poll").exit_code == 0
    empty = pbc_install.cli("notices", "--since", "2099-01-01")
    assert empty.exit_code == 0 and empty.stdout.strip() == "0 notices"
    few = pbc_install.cli("notices", "--limit", "3")
    assert few.exit_code == 0 and few.stdout.strip().endswith("3 notices — stopped at the limit of 3; more match "
                                                              "(use --limit)")
    everything = pbc_install.cli("notices", "--limit", "1000").stdout.strip().splitlines()
    assert everything[-1] == "15 notices"
    data = pbc_install.cli_json("notices", "--limit", "3")
    assert (data["count"], data["truncated"]) == (3, True)
    assert pbc_install.cli_json("notices", "--limit", "15")["truncated"] is False  # exactly all of them


def test_read_commands_do_not_create_a_database(config: Path) -> None:
    database = config.parent / "regwatch.sqlite"
    for args in (["status"], ["sources"], ["notices"], ["outbox"]):
        proc = run(config, *args)
        assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
        assert f"no database at {database} yet" in proc.stderr
    assert not database.exists()


def _listening_socket() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    return sock


def test_a_busy_port_is_one_line(config: Path, tmp_path: Path) -> None:
    with _listening_socket() as busy:
        port = busy.getsockname()[1]
        one_line(run(config, "replay", str(tmp_path), "--port", str(port)), 1, f"127.0.0.1:{port}", "in use")
        config.write_text(config.read_text() + f'[service]\nhttp = "127.0.0.1:{port}"\n', encoding="utf-8")
        one_line(run(config, "run"), 1, f"127.0.0.1:{port} ([service] http)", "in use")


def test_an_unusable_database_path_is_one_line(tmp_path: Path, config: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    config.write_text(f'database = "{tmp_path}/a-file/regwatch.sqlite"\n', encoding="utf-8")
    one_line(run(config, "poll", "--source", "pbc-news"), 1, f"{tmp_path}/a-file")
    corrupt = tmp_path / "corrupt.sqlite"
    corrupt.write_bytes(b"this is not a database" * 100)
    config.write_text(f'database = "{corrupt}"\n', encoding="utf-8")
    one_line(run(config, "notices"), 1, f"cannot use the database {corrupt}")


@pytest.mark.parametrize(("where", "text", "fragments"), [
    ("config", b'database = "x"\n# \xff\xfe\n', ["not UTF-8 text", "byte 0xff"]),
    ("watchlist", b'agency = "X"\n# \xc3\x28\n', ["not UTF-8 text"]),
    ("config", b'[fetch]\nrewrite_to = "http://127.0.0.1:99999"\n', ["fetch.rewrite_to", "Port out of range"]),
    ("watchlist", b'agency = "X"\n[[source]]\nid = "x-list"\nurl = "https://x.example.org:123456/list.html"\n'
                  b'[source.parser]\nkind = "rss"\n', ["source[0].url", "Port out of range"]),
    ("config", b'[service]\nhttp = "127.0.0.1:70000"\n', ["service.http", "1 to 65535"]),
    ("config", b'[[subscription]]\nname = "a"\nchannel = "wecom"\n'
               b'url = "https://qyapi.weixin.qq.com:0x1/cgi-bin/webhook/send?key=abc"\n', ["subscription[0].url"]),
])
def test_bad_bytes_and_bad_ports_in_files_are_config_errors(tmp_path: Path, where: str, text: bytes,
                                                           fragments: list[str]) -> None:
    watchlists = tmp_path / "watchlists"
    watchlists.mkdir()
    (watchlists / "pbc.toml").write_bytes((SHIPPED_WATCHLISTS / "pbc.toml").read_bytes())
    config = tmp_path / "config.toml"
    head = f'watchlists = "{watchlists}"\n'.encode()
    if where == "config":
        config.write_bytes(head + text)
    else:
        config.write_bytes(head)
        (watchlists / "x.toml").write_bytes(text)
    line = one_line(run(config, "check-config"), 2, *fragments)
    assert "abc" not in line  # a webhook URL's key never appears in an error
