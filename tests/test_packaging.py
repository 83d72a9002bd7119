"""What users install: the sdist and the wheel built from it carry the whole program and its data.

An editable install hides a missing package (the tests import from the source tree), so this
builds the distributions the way `pip install .` does and looks inside them.
"""

from __future__ import annotations

import email
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from .conftest import REPO

SRC = REPO / "src" / "regwatch"
SKIP = {"__pycache__"}


def _files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not SKIP & set(p.parts) and p.suffix != ".pyc")


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist, and the wheel built from that sdist (python -m build's default), offline."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (sdist,), (wheel,) = out.glob("*.tar.gz"), out.glob("*.whl")
    return sdist, wheel


def test_every_folder_with_modules_is_a_package() -> None:
    missing = [str(d.relative_to(REPO)) for d in SRC.rglob("*")
               if d.is_dir() and d.name not in SKIP and any(d.glob("*.py")) and not (d / "__init__.py").is_file()]
    assert not missing, f"folders with modules but no __init__.py (not found by setuptools): {missing}"


def test_wheel_holds_every_module_and_data_file(dists: tuple[Path, Path]) -> None:
    names = set(zipfile.ZipFile(dists[1]).namelist())
    expected = {f"regwatch/{p.relative_to(SRC).as_posix()}" for p in _files_under(SRC)}
    expected |= {f"regwatch/watchlists/{p.name}" for p in (REPO / "watchlists").glob("*.toml")}
    assert any(n.endswith(".py") for n in expected) and "regwatch/service/daemon.py" in expected
    assert not expected - names, f"missing from the wheel: {sorted(expected - names)}"
    data = {n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n}
    assert {"share/regwatch/regwatch.service", "share/regwatch/config.example.toml", "share/regwatch/README.md"} <= data


def test_license_file_matches_the_metadata(dists: tuple[Path, Path]) -> None:
    wheel = zipfile.ZipFile(dists[1])
    metadata = email.message_from_bytes(wheel.read("regwatch-0.1.0.dist-info/METADATA"))
    assert metadata["License-Expression"] == "MIT"
    shipped = wheel.read("regwatch-0.1.0.dist-info/licenses/LICENSE").decode()
    assert shipped.startswith("MIT License") and shipped == (REPO / "LICENSE").read_text(encoding="utf-8")


def test_sdist_holds_what_the_tests_and_the_service_need(dists: tuple[Path, Path]) -> None:
    with tarfile.open(dists[0]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    wanted = {p.relative_to(REPO).as_posix() for folder in ("src", "watchlists", "systemd", "tests", ".ci")
              for p in _files_under(REPO / folder)}
    wanted |= {"LICENSE", "README.md", "config.example.toml", "pyproject.toml", "setup.py"}
    assert not wanted - names, f"missing from the sdist: {sorted(wanted - names)[:20]}"
