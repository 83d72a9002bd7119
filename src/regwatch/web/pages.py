"""The read-only web view the service serves beside its feeds: notices (filters and search), one notice
in full, sources and their health, coming deadlines.

Server-rendered with Jinja2 (autoescaped: a hostile title is shown, never run), no script; a link is
drawn only for an http(s) URL. Every page reads the store through a read-only connection.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2

from .. import __version__, labels
from ..articles import legal_text
from ..classify import CATEGORIES, TAGS, split_tags
from ..clock import shown
from ..config import Config
from ..deliver.model import Followed, http_url
from ..ical import span
from ..parse.instrument import relation
from ..service.httpd import Request, Response
from ..service.status import source_report
from ..store import views
from ..store.filters import NoticeFilter
from ..store.search import query_words, search, snippet
from ..store.versions import texts
from ..translate import english
from ..watchlist import Source

PAGE_SIZE = 50
MAX_PAGE = 100_000  # a page number past this (or absurdly long) is page 1, not an SQLite overflow
DEADLINE_DAYS = 90
_NOTICE_PATH = re.compile(r"/notices/(\d{1,12})")
_HTML = "text/html; charset=utf-8"


def link(value: object) -> str | None:
    """The URL when it is http(s) with a host, else None (a javascript: or data: link is never drawn)."""
    return http_url(value) if isinstance(value, str) else None


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.PackageLoader("regwatch.web", "templates"), autoescape=True,
                             undefined=jinja2.ChainableUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["http_url"] = link
    env.globals.update(w=labels.web_word, category_name=lambda name: _both(labels.CATEGORIES.get(name)),
                       agency_name=lambda code: _both(labels.AGENCIES.get(code)) or code,
                       tag_name=_tag_name, version=__version__)
    return env


def _both(pair: tuple[str, str] | None) -> str:
    return labels.english_first(pair) if pair else ""


def _tag_name(name: str) -> str:
    return _both((labels.TAGS.get(name) or name, name))


@cache
def _stylesheet() -> bytes:
    return resources.files("regwatch.web").joinpath("static/regwatch.css").read_bytes()


class BadFilter(ValueError):
    """A filter in the address names nothing that exists (shown on the page, answered 400)."""


class WebView:
    """Answers the web paths from the store; built per request, so a reload's config and sources apply."""

    def __init__(self, conn: sqlite3.Connection, config: Config, sources: Mapping[str, Source],
                 rule_notes: Mapping[str, str]) -> None:
        self.conn, self.config, self.sources, self.rule_notes = conn, config, sources, rule_notes

    def answer(self, request: Request) -> Response | None:
        """The page for this path, or None when the path is not the web view's."""
        if request.path == "/":
            return self._notices(request.query)
        if request.path == "/sources":
            listed = self._sources()
            return self._page("sources.html.j2", sources=listed, healthy=sum(e["healthy"] for e in listed))
        if request.path == "/deadlines":
            return self._deadlines(request.query)
        if request.path == "/static/regwatch.css":
            return Response(200, "text/css; charset=utf-8", _stylesheet(), {"Cache-Control": "max-age=3600"})
        if (match := _NOTICE_PATH.fullmatch(request.path)) is not None:
            return self._notice(int(match.group(1)))
        return None

    # -- pages -------------------------------------------------------------------------------------
    def _notices(self, query: Mapping[str, str]) -> Response:
        wanted = {key: query.get(key, "").strip() for key in ("q", "since", "agency", "source", "category", "tag")}
        asked = query.get("page", "")
        page = min(int(asked), MAX_PAGE) if asked.isdigit() and 0 < len(asked) <= 7 and int(asked) > 0 else 1
        form = {"chosen": wanted, "agencies": sorted({s.agency for s in self.sources.values()}),
                "sources": sorted(self.sources), "categories": CATEGORIES, "tags": TAGS}
        try:
            self._check_filters(wanted)
        except BadFilter as exc:
            return self._page("notices.html.j2", status=400, form=form, problem=str(exc), items=[])
        where = NoticeFilter(wanted["since"] or None, wanted["agency"] or None, wanted["source"] or None,
                             wanted["category"] or None, wanted["tag"] or None)
        if wanted["q"]:
            found = search(self.conn, wanted["q"], where, PAGE_SIZE)
            items = [self._item(row, pieces=snippet(wanted["q"], row["title"], row["body"])) for row in found]
            return self._page("notices.html.j2", form=form, items=items, searching=True)
        found, more = views.notices(self.conn, where, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        kept = {key: value for key, value in wanted.items() if value}
        older = "/?" + urlencode({**kept, "page": page + 1}) if more else None
        newer = ("/?" + urlencode({**kept, "page": page - 1}) if page > 2 else "/?" + urlencode(kept)) \
            if page > 1 else None
        return self._page("notices.html.j2", form=form, items=[self._item(row) for row in found],
                          older=older, newer=newer, page=page)

    def _notice(self, notice_id: int) -> Response:
        notice = views.notice_in_full(self.conn, notice_id)
        if notice is None:
            return self._page("missing.html.j2", status=404)
        tags, topics = split_tags(json.loads(notice["tags"] or "[]"))
        rules = [(rule, self.rule_notes.get(rule, "")) for rule in json.loads(notice["rules"] or "[]")]
        title_en = (notice["translation"] or {}).get("title_en") or english(notice["title"]) or None
        return self._page("notice.html.j2", notice=notice, tags=tags, topics=topics, rules=rules, title_en=title_en,
                          body=_paragraphs(notice["body"] or ""), earlier=self._earlier(notice),
                          attachment_text=_paragraphs(notice["attachment_text"] or ""))

    def _earlier(self, notice: Mapping[str, Any]) -> dict[str, Any] | None:
        """The version this notice follows, what this one is to it, and what changed (where both have text)."""
        earlier = notice["follows"]
        if earlier is None:
            return None
        old = texts(self.conn, [earlier["id"]])[earlier["id"]]
        followed = Followed(relation(old["status"], notice["status"], notice["title"]), old["id"], old["title"],
                            old["url"], old["published"], old["deadline"],
                            legal_text(old["body"], old["attachment_text"]),
                            legal_text(notice["body"] or "", notice["attachment_text"] or ""))
        return {**earlier, "note": followed.note("en")}

    def _deadlines(self, query: Mapping[str, str]) -> Response:
        days = int(query["days"]) if query.get("days", "").isdigit() and int(query["days"]) <= 3660 \
            else DEADLINE_DAYS
        start, end = span(days, days_back=0)
        dates = [{**row, "title_en": english(row["title"]) or None} for row in views.dates_ahead(self.conn, start, end)]
        return self._page("deadlines.html.j2", dates=dates, days=days)

    # -- helpers -----------------------------------------------------------------------------------
    def _check_filters(self, wanted: Mapping[str, str]) -> None:
        words = query_words(wanted["q"])
        if words and all(len(word) == 1 and not word.isascii() for word in words):
            # One Chinese character is no pair in the index: a scan of every stored text, which would hold
            # up the service for everyone on a large store (the command line still does it).
            raise BadFilter("q: one Chinese character matches nearly everything; type two or more (e.g. 法律)")
        if wanted["since"]:
            try:
                date.fromisoformat(wanted["since"])
            except ValueError:
                raise BadFilter(f"since: expected a date as YYYY-MM-DD, not {wanted['since']!r}") from None
        choices = {"category": CATEGORIES, "tag": TAGS, "source": tuple(self.sources),
                   "agency": tuple({s.agency for s in self.sources.values()})}
        for key, names in choices.items():
            value = wanted[key]
            if value and value.lower() not in {name.lower() for name in names}:
                raise BadFilter(f"{key}: no {key} is called {value!r}")

    def _item(self, row: Mapping[str, Any], pieces: list[tuple[str, bool]] | None = None) -> dict[str, Any]:
        tags, topics = split_tags(json.loads(row["tags"] or "[]"))
        return {**row, "tags": tags, "topics": topics, "snippet": pieces,
                "title_en": row.get("written_title_en") or english(row["title"]) or None}

    def _sources(self) -> list[dict[str, Any]]:
        """Broken sources first (what an operator came to see), then those never polled, then the healthy."""
        report = source_report(self.conn, self.sources)
        for entry in report:
            entry["healthy"] = entry["state"] in views.GOOD_STATES
        return sorted(report, key=lambda e: (e["healthy"], e["state"] == "never-polled"))

    def _page(self, template: str, status: int = 200, **values: Any) -> Response:
        zone = self.config.display.zone
        html = _environment().get_template(template).render(
            when=lambda value: shown(value, zone, missing="—"), **values)
        return Response(status, _HTML, html, {"Cache-Control": "no-store"})


def _paragraphs(body: str, limit: int = 50_000) -> list[str]:
    """The stored body as paragraphs (its line breaks), capped so a huge page stays readable."""
    text = body[:limit]
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]
