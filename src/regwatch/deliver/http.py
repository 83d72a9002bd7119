"""The channels' HTTP: one POST per message on aiohttp (the stack the fetcher already loads, so the
service carries one HTTP library, not two), with the delivery timeout on connect and on each read, no
redirects, certificates checked against the system's roots (`regwatch.tls`), and a cap on what a receiver may answer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import aiohttp

from ..tls import client_tls

MAX_ANSWER_BYTES = 65_536  # a receiver's answer is a status object; anything longer is cut


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class NotConnected(Exception):
    """Nothing was sent: the receiver could not be reached (safe to retry)."""


class NoAnswer(Exception):
    """Sent, but no answer came back: the message may have arrived."""


def session(timeout: float) -> aiohttp.ClientSession:
    """A session for a delivery pass (use `async with`)."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=client_tls()),
        timeout=aiohttp.ClientTimeout(total=None, sock_connect=timeout, sock_read=timeout),
        trust_env=True,  # an HTTPS_PROXY in the service's environment applies to the channels, as before
    )


async def post(client: aiohttp.ClientSession, url: str, headers: Mapping[str, str], body: bytes) -> Answer:
    """POST and read the answer; NotConnected or NoAnswer instead of the library's exceptions."""
    try:
        async with client.post(url, data=body, headers=dict(headers), allow_redirects=False) as response:
            return Answer(response.status, response.headers, await response.content.read(MAX_ANSWER_BYTES))
    except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError, aiohttp.InvalidURL) as exc:
        raise NotConnected(type(exc).__name__) from None
    except aiohttp.ClientError as exc:
        raise NoAnswer(type(exc).__name__) from None
