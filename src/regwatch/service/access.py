"""Who may read through the listener: anyone on loopback unless credentials are configured, else only
a caller presenting them (a bearer token, `?token=` for feed and calendar apps, or basic auth)."""

from __future__ import annotations

import base64
import binascii
import hmac

from ..config import ServiceConfig
from .httpd import Request, Response


def _same(given: str, wanted: str) -> bool:
    return hmac.compare_digest(given.encode(), wanted.encode())


def allowed(request: Request, service: ServiceConfig) -> bool:
    """Whether the request carries the configured credentials (always, when none are configured)."""
    if not service.access_token and not service.user:
        return True
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if service.access_token:
        if scheme.lower() == "bearer" and _same(value.strip(), service.access_token):
            return True
        if "token" in request.query and _same(request.query["token"], service.access_token):
            return True
    if service.user and scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return _same(user, service.user) & _same(password, service.password)
    return False


def refusal(service: ServiceConfig) -> Response:
    """401, asking a browser for the user and password where basic auth is configured."""
    headers = {"WWW-Authenticate": 'Basic realm="regwatch", charset="UTF-8"'} if service.user else {}
    return Response(401, "text/plain; charset=utf-8", "credentials required (see [service] in the config)\n",
                    headers)
