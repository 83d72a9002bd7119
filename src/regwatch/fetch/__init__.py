"""Fetch: polite HTTP (per-host limits, conditional GET, body cap) and charset-aware decoding.

The client (asyncio, ssl and the HTTP/1.1 layer `_http`: ~30 ms and ~13 MB) is imported by what
fetches, on first use of its names, not by what only decodes or parses: `regwatch sources`, `notices`
or `show` never load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .decode import decode_body

if TYPE_CHECKING:
    from .client import Fetcher, FetchResult, parse_retry_after

__all__ = ["FetchResult", "Fetcher", "decode_body", "parse_retry_after"]
_CLIENT_NAMES = {"Fetcher", "FetchResult", "parse_retry_after"}


def __getattr__(name: str) -> Any:
    if name in _CLIENT_NAMES:
        from . import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
