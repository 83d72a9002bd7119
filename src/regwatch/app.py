"""The composition root: config, watchlists, classifier and store, built once and on demand.

The CLI builds an `App` for each command and the service builds a fresh one on SIGHUP, so both read
config and watchlists the same way and check them the same way. Nothing here knows about click.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from ._schema import ConfigError, did_you_mean
from .classify import Classifier, load_classifier
from .config import Config, check_subscription_filters, find_config_file, load_config

if TYPE_CHECKING:
    from .service.daemon import Loaded
    from .watchlist import Source


class UnknownSource(ValueError):
    """A source id that no watchlist defines; the message names the nearest one."""


class App:
    """What the commands and the service share, loaded on first use so a bad file fails only what needs it."""

    def __init__(self, config_option: str | None, warn: Callable[[str], None] | None = None) -> None:
        self.config_file = find_config_file(config_option)
        self.warn = warn or (lambda text: None)

    @cached_property
    def config(self) -> Config:
        config = load_config(self.config_file)
        # the English glosses of alerts, digests and JSON read it; with no glossary of the user's and none
        # loaded yet, the shipped one is what `english` reads, and a command that shows no English never
        # loads the translate module (its patterns take ~10 ms to compile)
        if config.translate.glossary or "regwatch.translate" in sys.modules:
            from .translate import use_glossary

            use_glossary(config.translate.glossary)
        return config

    @cached_property
    def watchlist_dir(self) -> Path:
        from .watchlist import shipped_watchlists

        return Path(self.config.watchlists).expanduser() if self.config.watchlists else shipped_watchlists()

    @cached_property
    def all_sources(self) -> dict[str, Source]:
        """Every enabled source of the watchlists, whatever its set (a command may name any of them)."""
        from .watchlist import load_watchlists

        return load_watchlists(self.watchlist_dir, cache=True)

    @cached_property
    def sources(self) -> dict[str, Source]:
        """The watched sources: those of the `[watch] sets`, or exactly the ones `sources` names."""
        from .watchlist import load_watchlists, shipped_watchlists

        sources = self.all_sources
        agencies = {s.agency for s in sources.values()}
        if self.config.watchlists and any(a.upper() not in agencies for s in self.config.subscription
                                          for a in s.agencies):
            shipped = load_watchlists(shipped_watchlists(), cache=True)
            agencies |= {s.agency for s in shipped.values()}  # known, if not watched
        check_subscription_filters(self.config, agencies, set(sources), self.config_file)
        if self.config.sources:
            unknown = [s for s in self.config.sources if s not in sources]
            if unknown:
                raise ConfigError(self.config_file, "sources",
                                  f"unknown source id {unknown[0]!r}{did_you_mean(unknown[0], sources)}")
            return {k: v for k, v in sources.items() if k in self.config.sources}  # named: whatever their set
        return {k: v for k, v in sources.items() if v.set in self.config.watch.sets}

    @cached_property
    def classifier(self) -> Classifier:
        return load_classifier(Path(self.config.classify.rules).expanduser() if self.config.classify.rules else None)

    @cached_property
    def conn(self) -> sqlite3.Connection:
        from .store.db import open_db

        return open_db(self.config.database_path)

    @cached_property
    def reader(self) -> sqlite3.Connection:
        """The store for commands that only read it: never creates a database where none is.

        With no database yet (nothing polled with this config, or the wrong config), an empty
        in-memory store answers and a note on stderr says where regwatch looked.
        """
        from .store.db import open_db

        path = self.config.database_path
        if path.exists():
            return open_db(path)
        where = f"config {self.config_file}" if self.config_file else "no config file found"
        self.warn(f"no database at {path} yet ({where}): nothing has been polled with this configuration")
        return open_db(":memory:")

    def pick_sources(self, ids: tuple[str, ...]) -> list[Source]:
        """The named sources, watched or not (all watched ones for none); UnknownSource for an id no watchlist has."""
        unknown = [i for i in ids if i not in self.all_sources]
        if unknown:
            raise UnknownSource(f"unknown source id {unknown[0]!r}{did_you_mean(unknown[0], self.all_sources)}")
        return [self.all_sources[i] for i in ids] if ids else list(self.sources.values())

    def loaded(self) -> Loaded:
        """Everything the service runs on, checked (what `regwatch run` starts with and SIGHUP reloads)."""
        from .service.daemon import Loaded

        return Loaded(self.config, self.sources, self.classifier)
