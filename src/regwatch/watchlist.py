"""Watchlists: which pages to watch and how to read them, one TOML file per agency.

Sources are data, not code: a ministry's redesign is fixed by editing its watchlist file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from ._schema import ConfigError, build, checked, positive, read_toml, valid_http_url
from .clock import SHANGHAI
from .health import WafDetector, load_blockpages, shipped_blockpages
from .parse import ListParser, make_parser
from .parse.detail import DetailOptions

_ID = re.compile(r"[a-z0-9][a-z0-9-]*")
# The sets a source belongs to; a new install watches DEFAULT_SETS (`[watch] sets` changes that).
SETS = ("core", "national", "courts", "provinces", "foreign")
DEFAULT_SETS = ("core", "national", "courts", "foreign")


def _valid_set(value: str) -> str | None:
    return None if not value or value in SETS else f"expected one of {', '.join(SETS)}"


def _valid_id(value: str) -> str | None:
    return None if _ID.fullmatch(value) else "expected lowercase letters, digits and dashes"


def _valid_quiet_hours(value: str) -> str | None:
    if not value:
        return None
    return None if re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", value) else \
        "expected HH:MM-HH:MM (Beijing time), e.g. \"00:30-06:00\""


@dataclass(frozen=True)
class SourceEntry:
    """A `[[source]]` table as written in a watchlist file."""

    id: str = checked("", _valid_id)
    name_en: str = ""
    name_zh: str = ""
    url: str = checked("", lambda v: valid_http_url(v) if v else None)  # the list page (or feed/API) that is polled
    page_url: str = ""  # the page a person opens; defaults to url
    interval_minutes: float | None = checked(None, positive)
    backfill_pages: int | None = checked(None, positive)
    quiet_hours: str = checked("", _valid_quiet_hours)  # no polls then (Beijing time), e.g. "00:30-06:00"
    redirect_hosts: list[str] = field(default_factory=list)  # other sites a redirect may lead to
    set: str = checked("", _valid_set)  # the set it belongs to (default: the file's)
    # Request headers of this source only, e.g. the User-Agent naming an organisation and a contact that
    # the SEC requires; they replace regwatch's own for this source's requests.
    headers: dict[str, str] = field(default_factory=dict)
    enabled: bool = True
    parser: dict[str, Any] = field(default_factory=dict)
    detail: DetailOptions = field(default_factory=DetailOptions)


@dataclass(frozen=True)
class WatchlistFile:
    agency: str = checked("", lambda v: None if v else "expected the agency's short name, e.g. 'PBC'")
    agency_en: str = ""
    agency_zh: str = ""
    set: str = checked("national", _valid_set)  # the set of every source in the file that names none
    source: list[SourceEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """A watched source, ready to poll."""

    id: str
    agency: str
    agency_en: str
    agency_zh: str
    name_en: str
    name_zh: str
    url: str
    page_url: str
    interval_minutes: float | None
    backfill_pages: int | None
    quiet_hours: str
    redirect_hosts: tuple[str, ...]
    parser: ListParser
    detail: DetailOptions
    file: str
    waf: tuple[WafDetector, ...] = ()  # block pages to recognise (the watchlist dir's _blockpages.toml)
    set: str = "national"
    headers: tuple[tuple[str, str], ...] = ()  # sent with every request of this source


def in_quiet_hours(source: Source, now: datetime) -> bool:
    """Whether `now` falls in the source's quiet hours (Beijing time; a range may span midnight)."""
    if not source.quiet_hours:
        return False
    start, end = source.quiet_hours.split("-")
    clock = now.astimezone(SHANGHAI).strftime("%H:%M")
    return start <= clock < end if start <= end else clock >= start or clock < end


def shipped_watchlists() -> Path:
    return Path(str(resources.files("regwatch.watchlists")))


def load_watchlist_file(path: Path, waf: tuple[WafDetector, ...] = ()) -> list[Source]:
    """The file's enabled sources, each recognising the block pages `waf` names."""
    data = build(WatchlistFile, read_toml(path), path)
    sources = []
    for index, entry in enumerate(data.source):
        key = f"source[{index}]"
        if not entry.id:
            raise ConfigError(path, f"{key}.id", "required key is missing (expected a source id)")
        if not entry.url:
            raise ConfigError(path, f"{key}.url", "required key is missing (expected an http(s) URL)")
        if not entry.enabled:
            continue
        sources.append(Source(
            id=entry.id, agency=data.agency, agency_en=data.agency_en, agency_zh=data.agency_zh,
            name_en=entry.name_en or entry.id, name_zh=entry.name_zh, url=entry.url,
            page_url=entry.page_url or entry.url, interval_minutes=entry.interval_minutes,
            backfill_pages=entry.backfill_pages, quiet_hours=entry.quiet_hours,
            redirect_hosts=tuple(entry.redirect_hosts),
            parser=make_parser(entry.parser, path, f"{key}.parser"), detail=entry.detail, file=str(path),
            set=entry.set or data.set, headers=tuple(entry.headers.items()), waf=waf,
        ))
    return sources


def load_watchlists(directory: Path | None, cache: bool = False) -> dict[str, Source]:
    """Every enabled source of every `*.toml` in `directory` (default: the shipped ones), by id; with
    `cache`, read back from the user's cache when no file changed (load_cache.py)."""
    directory = directory or shipped_watchlists()
    if not directory.is_dir():
        raise ConfigError(directory, "", "watchlist directory does not exist")
    own = directory / "_blockpages.toml"
    blockpages = own if own.is_file() else None
    files = sorted(directory.glob("*.toml"))
    if not cache:
        return _load(files, blockpages)
    from .load_cache import cached

    return cached(directory, [*files, *([] if blockpages else [shipped_watchlists() / "_blockpages.toml"])],
                  lambda: _load(files, blockpages))


def _load(files: list[Path], blockpages: Path | None) -> dict[str, Source]:
    waf = load_blockpages(blockpages) if blockpages else shipped_blockpages()
    sources: dict[str, Source] = {}
    for path in files:
        if path.name.startswith("_"):  # _blockpages.toml and the like: data beside the watchlists, not sources
            continue
        for source in load_watchlist_file(path, waf):  # (made with it: a copy of each cost 10 µs)
            if source.id in sources:
                raise ConfigError(path, source.id, f"source id already used in {sources[source.id].file}")
            sources[source.id] = source
    return sources
