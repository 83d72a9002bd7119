"""A notice's identity: its canonical URL, or a hash where the list gives no link."""

from __future__ import annotations

import hashlib
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PARAMS = {
    "spm", "from", "share", "share_token", "sharesource", "isappinstalled", "fbclid", "gclid",
    "mc_cid", "mc_eid", "wxshare", "scene", "source", "ref", "_t", "t", "timestamp",
}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Already canonical but for the scheme: no default port, user, query, fragment, upper case in the host
# or spaces (a non-default port stays: it is part of the address).
_PLAIN = re.compile(r"https?://[a-z0-9.-]+[a-z0-9](:[1-9][0-9]{0,4})?(?:/[^?#\s%]*)?\Z")


def canonical_url(url: str) -> str:
    """Normalise a notice URL so one notice has one key.

    http and https count as the same (the sites serve both and link both), the host is
    lower-cased, default ports, fragments and tracking parameters are dropped, and the
    remaining query parameters are sorted.
    """
    if (plain := _PLAIN.match(url)) and plain.group(1) not in (":80", ":443"):  # most list links
        url = "https" + url[url.index(":"):] if url.startswith("http:") else url
        return url if url.count("/") > 2 else url + "/"
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    if scheme in _DEFAULT_PORTS:
        if port == _DEFAULT_PORTS[scheme]:
            port = None
        scheme = "https"
    netloc = f"{host}:{port}" if port else host
    query = sorted(
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in _TRACKING_PARAMS and not k.lower().startswith("utm_")
    )
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def notice_identity(source_id: str, url: str | None, title: str, published: str | None) -> str:
    """The store key of a notice: canonical URL, else a hash of source, title and date."""
    if url:
        return canonical_url(url)
    digest = hashlib.sha256(f"{source_id}\x1f{title}\x1f{published or ''}".encode()).hexdigest()
    return f"hash:{digest[:32]}"
