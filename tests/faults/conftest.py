"""Fixtures of the fault suite: a hostile server and a regwatch install that polls it."""

from __future__ import annotations

from pathlib import Path

import pytest

from .hostile import FaultInstall, HostileServer


@pytest.fixture
def hostile():
    with HostileServer() as server:
        yield server


@pytest.fixture
def fault_install(tmp_path: Path, hostile: HostileServer) -> FaultInstall:
    return FaultInstall(tmp_path, hostile)
