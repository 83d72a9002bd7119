"""The watchlists are read back from the cache only while nothing they were made from has changed; a
broken or foreign cache entry is passed over, never trusted."""

from __future__ import annotations

import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from regwatch import load_cache, watchlist
from regwatch._schema import ConfigError
from regwatch.watchlist import load_watchlists

from .conftest import SHIPPED_WATCHLISTS

WATCHLIST = '''agency = "CAC"
[[source]]
id = "cac-news"
url = "https://www.cac.gov.cn/news/"
[source.parser]
kind = "html"
item = "ul.list li"
'''


def described(sources: dict) -> dict:
    """What a loaded source is, field by field (parsers by kind and options)."""
    return {i: (s.url, s.agency, s.set, type(s.parser).__name__, s.parser.options, s.detail,
                [d.name for d in s.waf]) for i, s in sources.items()}


@pytest.fixture
def watchlists(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    directory = tmp_path / "watchlists"
    directory.mkdir()
    (directory / "cac.toml").write_text(WATCHLIST, encoding="utf-8")
    return directory


def entries(directory: Path) -> list[Path]:
    return list((directory.parent / "cache" / "regwatch").glob("watchlists-*.pickle"))


def test_the_shipped_watchlists_read_back_are_what_loading_them_gives(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = load_watchlists(SHIPPED_WATCHLISTS, cache=True)  # loaded, and kept
    assert list((tmp_path / "regwatch").glob("watchlists-*.pickle"))
    with monkeypatch.context() as patch:
        patch.setattr(watchlist, "load_watchlist_file", lambda path, *_: pytest.fail(f"{path} parsed again"))
        again = load_watchlists(SHIPPED_WATCHLISTS, cache=True)  # read back
    assert len(first) > 40 and described(again) == described(first) == described(load_watchlists(SHIPPED_WATCHLISTS))
    assert all(a.parser is not b.parser for a, b in zip(first.values(), again.values(), strict=True))


def test_an_edited_watchlist_is_loaded_again(watchlists: Path) -> None:
    assert load_watchlists(watchlists, cache=True)["cac-news"].url == "https://www.cac.gov.cn/news/"
    (watchlists / "cac.toml").write_text(WATCHLIST.replace("/news/", "/wxzw/"), encoding="utf-8")
    assert load_watchlists(watchlists, cache=True)["cac-news"].url == "https://www.cac.gov.cn/wxzw/"
    (watchlists / "more.toml").write_text(WATCHLIST.replace("cac-news", "cac-more"), encoding="utf-8")
    assert set(load_watchlists(watchlists, cache=True)) == {"cac-news", "cac-more"}
    (watchlists / "_blockpages.toml").write_text("", encoding="utf-8")  # own block pages: none
    assert load_watchlists(watchlists, cache=True)["cac-news"].waf == ()


def test_a_broken_watchlist_is_an_error_every_time(watchlists: Path) -> None:
    load_watchlists(watchlists, cache=True)
    (watchlists / "cac.toml").write_text(WATCHLIST.replace('kind = "html"', 'kind = "htm"'), encoding="utf-8")
    for _ in range(2):
        with pytest.raises(ConfigError, match="kind"):
            load_watchlists(watchlists, cache=True)


def test_a_broken_or_foreign_entry_is_passed_over(watchlists: Path) -> None:
    expected = described(load_watchlists(watchlists))
    load_watchlists(watchlists, cache=True)
    [entry] = entries(watchlists)
    entry.write_bytes(b"not a pickle")
    assert described(load_watchlists(watchlists, cache=True)) == expected  # loaded again, and the entry rewritten
    key, _ = pickle.loads(entry.read_bytes())
    forged = {"cac-news": "not a source"}
    entry.write_bytes(pickle.dumps((key, forged)))
    os.chmod(entry, 0o666)  # anyone could have written it
    assert described(load_watchlists(watchlists, cache=True)) == expected
    entry.write_bytes(pickle.dumps((b"another key", forged)))
    os.chmod(entry, 0o600)
    assert described(load_watchlists(watchlists, cache=True)) == expected


def test_no_cache_directory_is_no_cache_and_no_error(watchlists: Path, monkeypatch) -> None:
    blocker = watchlists.parent / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the directory would go
    assert set(load_watchlists(watchlists, cache=True)) == {"cac-news"}


def test_no_home_is_no_cache(watchlists: Path, monkeypatch) -> None:
    """A user with no home (no passwd entry): no cache, and no directory named "~" where regwatch runs."""
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("CACHE_DIRECTORY", raising=False)
    monkeypatch.setenv("HOME", "~")  # what expanduser leaves when it finds no home
    monkeypatch.chdir(watchlists.parent)
    assert load_cache.cache_dir() is None
    assert set(load_watchlists(watchlists, cache=True)) == {"cac-news"}
    assert not (watchlists.parent / "~").exists()


def test_changed_code_is_loaded_again(watchlists: Path, tmp_path: Path, monkeypatch) -> None:
    package = tmp_path / "package"
    shutil.copytree(Path(load_cache.__file__).parent / "parse", package / "parse")
    for name in ("watchlist.py", "_schema.py", "health.py"):
        shutil.copy(Path(load_cache.__file__).parent / name, package / name)
    monkeypatch.setattr(load_cache, "_PACKAGE", package)
    load_watchlists(watchlists, cache=True)
    [entry] = entries(watchlists)
    kept = entry.stat().st_ino
    load_watchlists(watchlists, cache=True)
    assert entry.stat().st_ino == kept  # read back, not written again
    (package / "parse" / "html_list.py").write_text("# changed\n", encoding="utf-8")
    load_watchlists(watchlists, cache=True)
    assert entry.stat().st_ino != kept  # another key: loaded and kept anew


def test_an_upgraded_library_whose_objects_an_entry_keeps_is_loaded_again(tmp_path: Path, monkeypatch) -> None:
    """An entry that keeps a library's objects (the classifier keeps pyahocorasick's automaton) is made
    again once that library is replaced, as an upgrade replaces its files: its objects' pickled form is
    the library's own, and an old one may not load, or not load the same, in the new version."""
    library = tmp_path / "lib"
    library.mkdir()
    (library / "kept_library.py").write_text("FORM = 1\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(library))
    source = tmp_path / "made-from.txt"
    source.write_text("the same input\n", encoding="utf-8")
    cache = tmp_path / "cache"
    loads: list[int] = []

    def load() -> dict:
        loads.append(1)
        return {"made": len(loads)}

    def read() -> dict:
        return load_cache.cached(source, [source], load, where=cache, kind="test", code=("_schema.py", "kept_library"))

    assert read() == {"made": 1}
    assert read() == {"made": 1} and len(loads) == 1  # read back
    info = (library / "kept_library.py").stat()
    (library / "kept_library.py").write_text("FORM = 22\n", encoding="utf-8")  # the library upgraded
    os.utime(library / "kept_library.py", ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))
    assert read() == {"made": 2}  # made again, not read back
    assert read() == {"made": 2} and len(loads) == 2


def test_the_classifier_is_built_again_once_its_automaton_library_is_replaced(tmp_path: Path) -> None:
    """The classifier keeps pyahocorasick's automaton: a copy of that library replaced (as an upgrade
    replaces its file) makes the classifier's entry again; left as it is, the entry is read back."""
    import ahocorasick

    library = tmp_path / "lib"
    library.mkdir()
    copy = library / Path(ahocorasick.__file__).name
    shutil.copy2(ahocorasick.__file__, copy)
    load = ("import ahocorasick, pathlib, sys; from regwatch.classify import load_classifier; "
            "assert pathlib.Path(ahocorasick.__file__).parent == pathlib.Path(sys.argv[1]); load_classifier(None)")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONPATH": os.pathsep.join(
        [str(library), str(Path(load_cache.__file__).parent.parent)])}

    def entry_made() -> int:
        subprocess.run([sys.executable, "-c", load, str(library)], env=env, check=True)
        [entry] = (tmp_path / "cache" / "regwatch").glob("classifier-*.pickle")
        return entry.stat().st_ino

    first = entry_made()
    assert entry_made() == first  # read back, not written again
    info = copy.stat()
    os.utime(copy, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))  # the library upgraded
    assert entry_made() != first  # built and kept anew
