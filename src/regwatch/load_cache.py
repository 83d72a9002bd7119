"""What a command loads from files — the watchlists, the classifier — as last loaded, kept in the user's
cache directory, so a command does not parse and validate unchanged files again: 1,000 sources take
~80 ms to load and ~10 ms to read back, the shipped rules and model ~0.3 s to build (their expressions
compiled) and ~0.02 s to read back (compiled as a text needs them).

An entry is used only when it was made from the very same files (their names and bytes) by the very
same code (regwatch's version, the Python version, and the size and time of every module whose objects
it holds: regwatch's own, and a library's whose objects it keeps, as the classifier keeps pyahocorasick's
automaton), and only from a file this user owns that nobody else can write — it is a pickle. Anything
else (no cache directory, a stale, foreign or broken entry) loads the watchlists as usual: the cache can
make a start faster, never different.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
import pickle
import stat
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__

log = logging.getLogger(__name__)
_PACKAGE = Path(__file__).resolve().parent
# the modules whose classes a loaded watchlist holds: sources, their parsers and options, block pages
WATCHLIST_CODE = ("watchlist.py", "_schema.py", "health.py", "parse")
CLASSIFIER_CODE = ("_schema.py", "classify", "ahocorasick")  # the classifier, its rules, model, automaton


def cache_dir() -> Path | None:
    """systemd's CacheDirectory, else the XDG cache directory; None where there is no home to hold one
    (a user with no passwd entry: "~" would become a directory named "~" wherever regwatch runs)."""
    if os.environ.get("CACHE_DIRECTORY"):
        return Path(os.environ["CACHE_DIRECTORY"].split(":")[0])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "regwatch"
    try:
        home = Path.home()
    except RuntimeError:
        return None
    return home / ".cache" / "regwatch" if home.is_absolute() else None


def cached(directory: Path, files: list[Path], load: Callable[[], Any], where: Path | None = None,
           kind: str = "watchlists", code: tuple[str, ...] = WATCHLIST_CODE) -> Any:
    """What `load()` returns for `directory` (the watchlists', or a rules file) made of these `files`: read
    back from the cache when they and the `code` (modules of the package) are unchanged, else loaded (its
    errors raised as ever) and kept for next time."""
    where = where or cache_dir()
    if where is None:
        return load()
    try:
        key = _key(files, code)
    except OSError:
        return load()  # a file that cannot be read: the loader says which
    name = hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]
    entry = where / f"{kind}-{name}.pickle"
    found = _read(entry, key)
    if found is not None:
        return found
    value = load()
    _write(entry, key, value)
    return value


def _key(files: list[Path], modules: tuple[str, ...]) -> bytes:
    """The entry's key: what made it. `modules` are files and packages of regwatch's (`parse`, `watchlist.py`)
    and names of libraries (no `.py`, not in the package), by their file: an upgrade replaces it."""
    digest = hashlib.sha256(f"{__version__}\0{sys.version}\0".encode())
    code = [_PACKAGE / name if name.endswith(".py") or (_PACKAGE / name).is_dir() else _library_file(name)
            for name in modules]
    for path in sorted(p for c in code for p in (sorted(c.glob("*.py")) if c.is_dir() else [c])):
        info = path.stat()
        digest.update(f"{path.name}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    for path in files:
        digest.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _library_file(name: str) -> Path:
    """The file a library module is loaded from (its extension module, say); OSError if it has none."""
    try:
        module = sys.modules.get(name) or importlib.import_module(name)
    except ImportError as exc:
        raise FileNotFoundError(f"module {name}: {exc}") from None
    file: str | None = getattr(module, "__file__", None)  # (a built-in module has none)
    if not file:
        raise FileNotFoundError(f"module {name} has no file")
    return Path(file)


def _read(entry: Path, key: bytes) -> Any:
    try:
        with entry.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
                log.debug("cache %s is not this user's alone: not used", entry)
                return None
            stored_key, value = pickle.load(handle)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a broken entry, or one naming code since removed: load afresh
        log.debug("cache %s not used: %r", entry, exc)
        return None
    return value if stored_key == key else None


def _write(entry: Path, key: bytes, value: Any) -> None:
    temporary: Path | None = None
    try:
        entry.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with tempfile.NamedTemporaryFile(dir=entry.parent, prefix=f".{entry.stem}-", delete=False) as handle:
            temporary = Path(handle.name)  # (made 0600)
            pickle.dump((key, value), handle, pickle.HIGHEST_PROTOCOL)
        os.replace(temporary, entry)
    except Exception as exc:  # no cache directory, a full disk, an object that does not pickle: no cache
        log.debug("cache not written to %s: %r", entry.parent, exc)
        if temporary is not None:
            temporary.unlink(missing_ok=True)
