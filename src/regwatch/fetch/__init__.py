"""Fetch: polite HTTP (per-host limits, conditional GET, body cap) and charset-aware decoding."""

from .client import Fetcher, FetchResult, parse_retry_after
from .decode import decode_body

__all__ = ["FetchResult", "Fetcher", "decode_body", "parse_retry_after"]
