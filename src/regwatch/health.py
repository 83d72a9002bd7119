"""Source health: what a poll's response says about the source, so silence is never mistaken for "nothing new".

States: ok (new or edited notices), ok-no-new, blocked (anti-bot challenge, 403, 429, 521),
unreachable (DNS, TLS, timeout, 5xx, a body cut off or too slow), too-large (a body over
fetch.max_body_bytes), layout-changed (a 200 page that yields no rows, or fewer rows than its own
row markers), misconfigured (a URL that no longer exists, a bad address, a refused redirect), and
store-error (regwatch's own database failed: the site is not to blame).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from ._schema import ConfigError

if TYPE_CHECKING:  # parsers use these checks too, so no import of the parse package at run time
    from .fetch import FetchResult
    from .parse import ParseResult

State = Literal["ok", "ok-no-new", "blocked", "unreachable", "too-large", "layout-changed", "misconfigured",
                "store-error"]
GOOD_STATES: frozenset[str] = frozenset({"ok", "ok-no-new"})

BLOCKING_STATUSES = {401, 403, 412, 429, 521}


@dataclass(frozen=True)
class WafDetector:
    """How one WAF's block or challenge page looks (see watchlists/_blockpages.toml)."""

    name: str = ""
    markers: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)  # "name: fragment"
    max_bytes: int = 30_000

    def matches(self, result: FetchResult, markers: bool = True) -> bool:
        """Its statuses and headers, then (unless `markers` is False) its markers in a small body."""
        if self.statuses and result.status not in self.statuses:
            return False
        for rule in self.headers:  # "name: fragment"; an empty fragment: the header is there at all
            name, _, fragment = rule.partition(":")
            value = result.headers.get(name.strip().lower())
            if value is not None and fragment.strip().lower() in value.lower():
                return True
        body = result.text
        return markers and len(body) <= self.max_bytes and any(marker in body for marker in self.markers)


@dataclass(frozen=True)
class _BlockpageFile:
    waf: list[WafDetector] = field(default_factory=list)


def load_blockpages(path: Path) -> tuple[WafDetector, ...]:
    """The WAF detectors of a `_blockpages.toml`; a mistake in it is a ConfigError like any watchlist's."""
    from ._schema import build, read_toml

    detectors = tuple(build(_BlockpageFile, read_toml(path), path).waf)
    for index, detector in enumerate(detectors):
        if not detector.name or not (detector.markers or detector.headers):
            raise ConfigError(path, f"waf[{index}]", "each detector needs a name and markers or headers")
        if any(":" not in rule for rule in detector.headers):
            raise ConfigError(path, f"waf[{index}].headers", "expected \"name: fragment\" (fragment may be empty)")
    return detectors


@functools.cache
def shipped_blockpages() -> tuple[WafDetector, ...]:
    from .watchlist import shipped_watchlists

    return load_blockpages(shipped_watchlists() / "_blockpages.toml")


def assess_response(result: FetchResult, detectors: tuple[WafDetector, ...] | None = None, *,
                    list_page: bool = False) -> tuple[State, str | None] | None:
    """The bad state a response is in before parsing, with a message; None if it is worth parsing.

    A `list_page` that answered 2xx is judged by its parse first: its body is searched for block-page
    markers only when it yields no rows (`blocked_instead`), not on every page of every poll (the search
    was 80 µs a page), and a list that merely mentions a WAF's name stays a list."""
    if result.error_kind is not None:  # no usable answer, whatever status line came first
        if result.error_kind in ("bad_url", "redirect_refused", "redirects"):
            return "misconfigured", result.error
        if result.error_kind == "too_large":
            return "too-large", result.error
        return "unreachable", result.error
    if result.status is None:
        return "unreachable", result.error
    if result.status == 304:
        return None
    if blocked := blocked_instead(result, detectors, markers=not (list_page and 200 <= result.status < 300)):
        return blocked
    if result.status in BLOCKING_STATUSES:
        return "blocked", f"HTTP {result.status}"
    if result.status >= 500:
        return "unreachable", f"HTTP {result.status}"
    if result.status >= 400:
        return "misconfigured", f"HTTP {result.status}: the list URL does not answer (moved?)"
    if not 200 <= result.status < 300:
        return "unreachable", f"unexpected HTTP {result.status}"
    return None


def blocked_instead(result: FetchResult, detectors: tuple[WafDetector, ...] | None = None, markers: bool = True
                    ) -> tuple[State, str | None] | None:
    """`blocked` (naming the WAF) when the response is a block page — for a list page that yielded no
    rows, by its markers too."""
    for detector in shipped_blockpages() if detectors is None else detectors:
        if detector.matches(result, markers):
            return "blocked", f"{detector.name} (HTTP {result.status}) instead of the list"
    return None


def assess_parse(parsed: ParseResult) -> tuple[State, str | None] | None:
    """layout-changed when a page that answered 200 yields no rows or fewer than it marks."""
    if parsed.problem:
        return "layout-changed", parsed.problem
    if parsed.row_markers is not None and parsed.row_markers > parsed.rows_read:
        return "layout-changed", (
            f"only {parsed.rows_read} of {parsed.row_markers} marked rows could be read (selectors out of date?)"
        )
    if not parsed.rows_read:
        return "layout-changed", "the page answered but no notice rows were found (selectors out of date?)"
    return None
