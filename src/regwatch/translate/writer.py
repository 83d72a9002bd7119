"""A fluent English title and summary from a model the user configures (`[translate] provider`).

Any server that speaks the chat-completions API will do: a hosted one, or a local vLLM, llama.cpp or
Ollama server. The model is told the glossary's terms for the title, and what it writes is checked:
every number (dates, 文号, amounts) in its title and summary must appear in the notice's own text, or
that part is dropped and the glossary's gloss stands. It never stands in the way of an alert: the
caller decides how long an alert may wait, and a slow, failing or over-budget model leaves the gloss.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import httpx

from ..clock import MONTH_NUMBERS
from . import Glossary

PROMPT_VERSION = "2026.12.1"
_DIGITS = re.compile(r"\d+")
_MONTH_WORDS = re.compile(r"\b(" + "|".join(MONTH_NUMBERS) + r")\b", re.I)
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


class WriterError(Exception):
    """The model's server did not give a usable answer (the message never holds the API key)."""


@dataclass(frozen=True)
class Written:
    title: str | None  # None: not grounded (or missing), the gloss stands
    summary: str | None
    tokens: int
    problems: list[str]  # what was dropped and why


def messages(title: str, body: str, issuer: str | None, words: Glossary, body_chars: int) -> list[dict[str, str]]:
    """The request: the bulletin's voice, the glossary's terms for this title, then the notice itself."""
    terms = [(zh, en) for zh, en in {**words.words, **words.names}.items() if zh in title][:40]
    glossary_lines = "\n".join(f"{zh} = {en}" for zh, en in terms) or "(none)"
    system = (
        "You write English for a compliance bulletin about Chinese regulators, read by foreign lawyers. "
        "Given one notice, answer with JSON only: {\"title\": ..., \"summary\": ...}. The title is the notice's "
        "title in fluent English (official English names where they exist). The summary is 2-3 sentences on "
        "what the notice does and for whom, like a law-firm bulletin item. Use these glossary terms exactly:\n"
        f"{glossary_lines}\n"
        "Every number, date and document number you write must appear in the text given. Add no facts.")
    user = f"Title: {title}\nIssuer: {issuer or 'unknown'}\nText:\n{body[:body_chars] or '(no text)'}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_answer(content: str) -> tuple[str, str]:
    """(title, summary) from the model's answer (JSON, perhaps inside a ``` fence); WriterError if neither."""
    found = re.search(r"\{.*\}", content, re.S)
    try:
        data = json.loads(found.group(0)) if found else {}
    except json.JSONDecodeError:
        data = {}
    title, summary = data.get("title"), data.get("summary")
    if not isinstance(title, str) or not isinstance(summary, str) or not (title.strip() or summary.strip()):
        raise WriterError("the answer was not the JSON object asked for")
    return " ".join(title.split()), " ".join(summary.split())


def ungrounded(english: str, source: str) -> list[str]:
    """The numbers (and month names, as numbers) in `english` that the source text does not hold."""
    held = {n.lstrip("0") or "0" for n in _DIGITS.findall(source.translate(_FULL_WIDTH))}
    wanted = [n for n in _DIGITS.findall(english)]
    wanted += [str(MONTH_NUMBERS[m.lower()]) for m in _MONTH_WORDS.findall(english)]
    return [n for n in wanted if (n.lstrip("0") or "0") not in held]


def grounded_answer(title: str, summary: str, source: str, tokens: int) -> Written:
    problems = []
    kept_title: str | None = title or None
    kept_summary: str | None = summary or None
    if kept_title and (missing := ungrounded(kept_title, source)):
        problems.append(f"title dropped: {', '.join(missing)} not in the notice")
        kept_title = None
    if kept_summary and (missing := ungrounded(kept_summary, source)):
        problems.append(f"summary dropped: {', '.join(missing)} not in the notice")
        kept_summary = None
    return Written(kept_title, kept_summary, tokens, problems)


async def write(client: httpx.AsyncClient, base_url: str, model: str, api_key: str, request: list[dict[str, str]],
                max_tokens: int, source: str) -> Written:
    """One chat-completions call, checked; WriterError for an unusable answer (status, JSON, shape)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    url = base_url.rstrip("/") + "/chat/completions"
    try:
        response = await client.post(url, headers=headers, json={
            "model": model, "messages": request, "max_tokens": max_tokens, "temperature": 0})
    except httpx.TimeoutException:
        raise WriterError("no answer within [translate] timeout") from None
    except httpx.HTTPError as exc:
        raise WriterError(f"{type(exc).__name__} talking to {base_url}") from None
    if response.status_code != 200:
        raise WriterError(f"HTTP {response.status_code} from {base_url}")
    try:
        data = response.json()
        content = data["choices"][0]["message"]["content"]
        usage = data.get("usage") or {}
        tokens = int(usage.get("total_tokens") or 0) or (sum(len(m["content"]) for m in request) + len(content)) // 3
    except (ValueError, KeyError, IndexError, TypeError):
        raise WriterError("the answer is not a chat completion") from None
    title, summary = parse_answer(str(content))
    return grounded_answer(title, summary, source, tokens)
