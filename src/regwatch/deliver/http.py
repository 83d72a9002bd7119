"""The channels' HTTP: one POST per message on the fetcher's HTTP/1.1 client (`fetch._http`: the
service carries one HTTP stack), with the delivery timeout on connect and on each read, no redirects,
certificates checked against the system's roots (`regwatch.tls`), the environment's proxy
(`https_proxy`, `no_proxy`), and a cap on what a receiver may answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .. import __version__
from ..fetch import _http
from ..tls import client_tls

MAX_ANSWER_BYTES = 65_536  # a receiver's answer is a status object; anything longer is cut
Client = _http.Client  # (what `session` gives the sender)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class NotConnected(Exception):
    """Nothing was sent: the receiver could not be reached (safe to retry)."""


class NoAnswer(Exception):
    """Sent, but no answer came back: the message may have arrived."""


def session(timeout: float) -> Client:
    """A client for a delivery pass (use `async with`)."""
    return Client(client_tls, connect_timeout=timeout, read_timeout=timeout, proxy_from_environment=True,
                  headers={"User-Agent": f"regwatch/{__version__}", "Accept": "*/*"})


async def post(client: Client, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """POST and read the answer; NotConnected or NoAnswer instead of the client's exceptions."""
    try:
        response = await client.request("POST", url, headers=headers, body=body)
        try:
            return Answer(response.status, response.headers, await response.read(MAX_ANSWER_BYTES))
        finally:
            response.close()
    except _http.HTTPError as exc:
        if not exc.sent:
            raise NotConnected(type(exc).__name__) from None
        raise NoAnswer(type(exc).__name__) from None
