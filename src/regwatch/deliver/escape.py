"""Make regulator text safe for each message format.

Titles and bodies come from web pages we do not control; a title with markup, mention syntax or a
fake link must arrive as the literal text it is. For the Markdown dialects (DingTalk, WeCom,
Teams cards) the characters that start markup are replaced by their full-width forms, which read
the same in Chinese text (where they are common anyway) and cannot form syntax. Slack gets the
three escapes its docs ask for. Long text is cut on a character boundary with an ellipsis.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

_MARKDOWN_TO_FULLWIDTH = str.maketrans({
    "[": "［", "]": "］", "(": "（", ")": "）", "*": "＊", "_": "＿", "#": "＃", ">": "＞", "<": "＜",
    "!": "！", "`": "｀", "~": "～", "|": "｜", "\\": "＼", "@": "＠",
})
_WHITESPACE = re.compile(r"\s+")


def one_line(text: str, limit: int) -> str:
    """Collapse white space and cut to `limit` characters (ending in …)."""
    text = _WHITESPACE.sub(" ", text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def markdown_text(text: str, limit: int = 300) -> str:
    """Text that no Markdown, HTML or mention syntax can be made from."""
    return one_line(text, limit).translate(_MARKDOWN_TO_FULLWIDTH)


def slack_text(text: str, limit: int = 300) -> str:
    """Slack: escape &, < and > (in that order), nothing else."""
    return one_line(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """An http(s) URL with the characters that end a Markdown or Slack link percent-encoded."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return quote(url.strip(), safe=":/?#&=%+,;~-._@!$'*")
