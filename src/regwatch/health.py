"""Source health: what a poll's response says about the source, so silence is never mistaken for "nothing new".

States: ok (new or edited notices), ok-no-new, blocked (anti-bot challenge, 403, 429, 521),
unreachable (DNS, TLS, timeout, 5xx, a body cut off or too slow), too-large (a body over
fetch.max_body_bytes), layout-changed (a 200 page that yields no rows, or fewer rows than its own
row markers), misconfigured (a URL that no longer exists, a bad address, a refused redirect), and
store-error (regwatch's own database failed: the site is not to blame).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # parsers use these checks too, so no import of the parse package at run time
    from .fetch import FetchResult
    from .parse import ParseResult

State = Literal["ok", "ok-no-new", "blocked", "unreachable", "too-large", "layout-changed", "misconfigured",
                "store-error"]
GOOD_STATES: frozenset[str] = frozenset({"ok", "ok-no-new"})

# Text that anti-bot interstitials put in a 200 response instead of the page (PBC's "wzws" challenge).
CHALLENGE_MARKERS = ("请开启JavaScript并刷新该页", "wzwschallenge", "WZWSREL")
BLOCKING_STATUSES = {401, 403, 412, 429, 521}


def assess_response(result: FetchResult) -> tuple[State, str | None] | None:
    """The bad state a response is in before parsing, with a message; None if it is worth parsing."""
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
    if result.status in BLOCKING_STATUSES:
        return "blocked", f"HTTP {result.status}"
    if result.status >= 500:
        return "unreachable", f"HTTP {result.status}"
    if result.status >= 400:
        return "misconfigured", f"HTTP {result.status}: the list URL does not answer (moved?)"
    if not 200 <= result.status < 300:
        return "unreachable", f"unexpected HTTP {result.status}"
    if any(marker in result.text for marker in CHALLENGE_MARKERS):
        return "blocked", "anti-bot challenge page instead of the list (HTTP 200)"
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
