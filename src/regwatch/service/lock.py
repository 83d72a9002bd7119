"""One running instance per database: an exclusive lock on `<database>.lock`, holding who has it."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from ..store.db import StoreError


class AlreadyRunning(Exception):
    """Another process holds the lock; the message says which."""


class InstanceLock:
    def __init__(self, database: Path, purpose: str) -> None:
        self.path = Path(f"{database}.lock")
        self.purpose = purpose
        self._fd: int | None = None

    def acquire(self) -> InstanceLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot create the lock file {self.path}: {exc.strerror}"
                             " (can this user write to that directory?)") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self.holder()
            os.close(fd)
            who = (f"pid {holder.get('pid')} on {holder.get('host')} ({holder.get('purpose')}, since "
                   f"{holder.get('since')})") if holder else "another process"
            raise AlreadyRunning(f"the database {self.path.with_suffix('')} is in use by {who}") from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "purpose": self.purpose,
                                 "since": datetime.now(UTC).isoformat(timespec="seconds")}).encode())
        self._fd = fd
        return self

    def holder(self) -> dict:
        try:
            return json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}

    def is_held_elsewhere(self) -> bool:
        """Whether some other process holds the lock now (without taking it)."""
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except OSError:  # no lock file (or no directory): nobody holds it
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()
