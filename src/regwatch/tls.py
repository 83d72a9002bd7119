"""The certificates regwatch trusts for HTTPS (polls, detail pages, attachments, webhooks).

The system's store where it has one — what the host's administrator keeps, a company proxy's CA
included — else certifi's bundle (a minimal container without ca-certificates, where the system store
is empty). One context for the process: loading a store costs ~30 ms and ~2 MB.
"""

from __future__ import annotations

import ssl
from functools import cache
from pathlib import Path


@cache
def client_tls() -> ssl.SSLContext:
    """A verifying client context (hostnames checked; Python's defaults) on the system store, else certifi's."""
    paths = ssl.get_default_verify_paths()
    if (paths.cafile and Path(paths.cafile).is_file()) or (paths.capath and Path(paths.capath).is_dir()
                                                           and any(Path(paths.capath).glob("*.0"))):
        return ssl.create_default_context()
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
