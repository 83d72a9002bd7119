"""The documentation says what the code does: quick start, CI command, example config."""

from __future__ import annotations

import dataclasses
import re
import tomllib

from regwatch._schema import build
from regwatch.config import Config, SubscriptionConfig

from .conftest import REPO


def quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("python3 ")]


def test_quick_start_has_two_commands_and_ci_runs_the_test_one() -> None:
    run_command, test_command = quick_start_commands()
    assert "regwatch" in run_command and "pytest" in test_command
    ci_lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci_lines


def _keys(cls: type, prefix: str = "") -> set[str]:
    keys = set()
    for f in dataclasses.fields(cls):
        if not prefix and f.name == "subscription":  # a list of tables, documented in comments (see below)
            continue
        if dataclasses.is_dataclass(f.type) or (isinstance(f.type, str) and f.type.endswith("Config")):
            sub = getattr(cls(), f.name).__class__
            keys |= _keys(sub, f"{prefix}{f.name}.")
        else:
            keys.add(prefix + f.name.rstrip("_"))
    return keys


def _toml_keys(data: dict, prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        if isinstance(value, dict):
            keys |= _toml_keys(value, f"{prefix}{key}.")
        else:
            keys.add(prefix + key)
    return keys


def test_example_config_documents_every_key_with_its_default() -> None:
    data = tomllib.loads((REPO / "config.example.toml").read_text(encoding="utf-8"))
    assert _toml_keys(data) == _keys(Config)
    assert build(Config, data, "config.example.toml") == Config()


def test_example_config_documents_every_subscription_key() -> None:
    text = (REPO / "config.example.toml").read_text(encoding="utf-8")
    commented = [line[2:] for line in text.splitlines() if line.startswith("# ") and " = " in line]
    documented = {line.split("=")[0].strip() for line in commented}
    assert {f.name for f in dataclasses.fields(SubscriptionConfig)} <= documented


def test_readme_layout_names_every_module_and_package() -> None:
    """The Layout table is true: every top-level module and package of src/regwatch is in it, and
    everything it names exists."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("| `"))
    named = set(re.findall(r"`([\w/.]+)`", table))
    src = REPO / "src" / "regwatch"
    present = {p.name for p in src.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    present |= {f"{p.name}/" for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert present <= named, f"missing from the README's Layout: {sorted(present - named)}"
    paths = [p.relative_to(src).as_posix() for p in src.rglob("*") if "__pycache__" not in p.parts]
    for name in named:
        if name.endswith((".py", "/")):
            wanted = name.rstrip("/")
            assert any(p == wanted or p.endswith("/" + wanted) for p in paths), \
                f"the README's Layout names {name}, which is not in src/regwatch"
