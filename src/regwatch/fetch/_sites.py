"""Which hosts are one site: redirects stay within a source's site, and a cookie may be set for its
site but not for a whole public suffix (gov.cn)."""

from __future__ import annotations

import ipaddress

# Registrable domains under these suffixes have three labels (www.pbc.gov.cn → pbc.gov.cn), not two.
_TWO_LABEL_SUFFIXES = {"gov.cn", "com.cn", "org.cn", "net.cn", "edu.cn", "ac.cn", "gov.uk", "co.uk", "org.uk",
                       "ac.uk", "gov.au", "com.au", "gov.sg", "com.sg", "go.jp", "co.jp", "go.kr", "gov.hk",
                       "gov.mo", "gov.tw"}


def site_of(host: str) -> str:
    """The registrable domain of a host (an IP address is its own site)."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    labels = host.split(".")
    keep = 3 if ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])
