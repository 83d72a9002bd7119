"""A pass's cookies (RFC 6265, as far as a poller needs them): some sites' WAFs set one on the first
answer and want it back on the next request. Kept in memory for the pass, never written anywhere.

Domain cookies go to the domain and its subdomains, host-only ones to their host alone; a Domain the
answering host is not in, or one wider than the host's site (gov.cn for www.miit.gov.cn), is refused;
Path, Secure, Max-Age and Expires are honoured; IP-address hosts get cookies too (the replay and test
servers are 127.0.0.1).
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import time
from dataclasses import dataclass

from ._sites import site_of

MAX_COOKIES = 3000  # a jar this full stops taking new ones (a hostile site cannot fill memory)


@dataclass(frozen=True)
class _Cookie:
    name: str
    value: str
    domain: str
    host_only: bool
    path: str
    secure: bool
    expires: float | None  # epoch seconds; None: for the pass


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _default_path(request_path: str) -> str:
    path = request_path.split("?", 1)[0]
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


def _path_matches(request_path: str, cookie_path: str) -> bool:
    path = request_path.split("?", 1)[0] or "/"
    return path == cookie_path or (path.startswith(cookie_path)
                                   and (cookie_path.endswith("/") or path[len(cookie_path)] == "/"))


def _domain_matches(host: str, cookie: _Cookie) -> bool:
    return host == cookie.domain or (not cookie.host_only and host.endswith("." + cookie.domain))


class CookieJar:
    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], _Cookie] = {}

    def store(self, scheme: str, host: str, request_path: str, set_cookie: list[str]) -> None:
        """Take the cookies of an answer's Set-Cookie headers (ones that cannot be read are ignored)."""
        host = host.lower()
        for header in set_cookie:
            cookie = _parse(header, scheme, host, request_path)
            if cookie is None:
                continue
            key = (cookie.domain, cookie.path, cookie.name)
            if cookie.expires is not None and cookie.expires <= time.time():
                self._cookies.pop(key, None)  # (how a site deletes one)
            elif key in self._cookies or len(self._cookies) < MAX_COOKIES:
                self._cookies[key] = cookie

    def header_for(self, scheme: str, host: str, request_path: str) -> str:
        """The Cookie header for a request ("" for none): longest paths first, as browsers send them."""
        host = host.lower()
        now = time.time()
        chosen = [c for c in self._cookies.values()
                  if _domain_matches(host, c) and _path_matches(request_path, c.path)
                  and (scheme == "https" or not c.secure) and (c.expires is None or c.expires > now)]
        chosen.sort(key=lambda c: -len(c.path))
        return "; ".join(f"{c.name}={c.value}" if c.name else c.value for c in chosen)


def _parse(header: str, scheme: str, host: str, request_path: str) -> _Cookie | None:
    pair, *attributes = header.split(";")
    name, equals, value = pair.partition("=")
    name, value = name.strip(), value.strip()
    if not equals:  # a value without a name (RFC 6265 5.2: the name is empty)
        name, value = "", name
    if not (name or value) or any(c in name + value for c in "\r\n\0"):
        return None
    domain, path, secure, expires, max_age = "", "", False, None, None
    for attribute in attributes:
        key, _, argument = attribute.partition("=")
        key, argument = key.strip().lower(), argument.strip()
        if key == "domain" and argument:
            domain = argument.lstrip(".").lower()
        elif key == "path" and argument.startswith("/"):
            path = argument
        elif key == "secure":
            secure = True
        elif key == "max-age":
            with contextlib.suppress(ValueError):
                max_age = time.time() + int(argument)
        elif key == "expires":
            with contextlib.suppress(TypeError, ValueError, IndexError):
                expires = email.utils.parsedate_to_datetime(argument).timestamp()
    if domain:
        if _is_ip(domain) != _is_ip(host) or not (host == domain or (not _is_ip(host) and host.endswith("." + domain))):
            return None  # another site's
        if not domain.endswith(site_of(host)):
            return None  # a public suffix's, shared by other sites (cn, gov.cn): as browsers refuse them
        host_only = False
    else:
        domain, host_only = host, True
    if secure and scheme != "https":
        return None
    return _Cookie(name, value, domain, host_only, path or _default_path(request_path), secure,
                   max_age if max_age is not None else expires)
