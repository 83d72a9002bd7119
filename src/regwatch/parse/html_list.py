"""Lists in plain HTML, read with CSS selectors from the watchlist (lxml: ~0.4 ms a 14 KB page).

The generic parser every static list page can use; site families with quirks subclass it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from urllib.parse import urljoin, urlsplit

import lxml.html
from cssselect import SelectorError
from lxml import etree
from lxml.cssselect import CSSSelector

from .._schema import checked, valid_regex
from ..fetch.decode import strip_xml_declaration
from ._base import Item, ListParser, Page, ParseResult, register
from .dates import parse_date


@cache
def css(selector: str) -> CSSSelector:
    return CSSSelector(selector, translator="html")


def valid_css(selector: str) -> str | None:
    if not selector:
        return None
    try:
        css(selector)
    except SelectorError as exc:
        return f"invalid CSS selector {selector!r}: {exc}"
    return None


def required_css(selector: str) -> str | None:
    return valid_css(selector) if selector else "expected a CSS selector"


_CJK = "\u2e80-\u9fff\u3000-\u303f\uff00-\uffef"
_BREAK_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}])[ \\t]*[\\r\\n]\\s*(?=[{_CJK}])")


def clean_text(text: str | None) -> str:
    """Collapse white space; a line break between Chinese characters (SAMR titles) is dropped, not a space."""
    if not text:
        return ""
    if "\n" in text or "\r" in text:
        text = _BREAK_BETWEEN_CJK.sub("", text)
    return " ".join(text.split())


def text_of(element: etree._Element) -> str:
    """`element.text_content()` — its text and its descendants', without its tail — serialized by libxml2
    (0.6 µs against 2.4 µs through XPath's string(); the same text over the 32,000 elements of the fixture
    pages, comments and scripts included: a list page reads two or three per row)."""
    return etree.tostring(element, method="text", encoding=str, with_tail=False)


def parse_html(text: str) -> lxml.html.HtmlElement:
    """Parse a page; lxml refuses str input that keeps an XML encoding declaration, so drop it."""
    return lxml.html.fromstring(strip_xml_declaration(text) or "<html></html>")


# A list page's tree is made of plain elements: lxml.html picks each element's class with a call into
# Python (0.05 of a 14 KB page's 0.45 ms), for methods (text_content, …) a list parser does not use.
_LIST_TREE = etree.HTMLParser()


def parse_list_html(text: str) -> etree._Element:
    """A list page's whole document (its <html>), of plain lxml elements; an empty page is an empty one."""
    root = etree.fromstring(strip_xml_declaration(text) or "<html></html>", _LIST_TREE)
    return root if root is not None else etree.fromstring("<html></html>", _LIST_TREE)


def valid_row_css(selector: str) -> str | None:
    return valid_css(selector[1:].strip() if selector.startswith("+") else selector)


# Row-relative selectors may start with "+": the first following sibling of the row that matches
# (for lists that put the date in the element after the row, as SAMR's do).
@dataclass(frozen=True)
class HtmlListOptions:
    item: str = checked("", required_css)  # one element per notice row
    title: str = checked("a", valid_row_css)  # in the row; its `title` attribute wins over its text
    link: str = checked("a[href]", valid_row_css)  # in the row; the `href` attribute
    date: str = checked("", valid_row_css)  # in the row; empty: the first date in the row's text
    deadline: str = checked("", valid_row_css)  # in the row; the last date in it is the comment deadline
    row_marker: str = checked("", valid_css)  # page-wide count of notice markers, for layout checks
    next_page: str = checked("", valid_css)  # link to the next (older) page
    next_page_attr: str = "href"
    same_host_only: bool = False  # skip rows linking to other sites (e.g. reposts on www.gov.cn)
    include: str = checked("", valid_regex)  # keep only rows whose title matches (case-insensitive)
    date_in_url: bool = False  # the date is in the link (TRS /t20260102_123.shtml): read it there first



@register
class HtmlListParser(ListParser):
    kind = "html"
    Options = HtmlListOptions
    options: HtmlListOptions

    def __init__(self, options: HtmlListOptions) -> None:
        super().__init__(options)
        self._title = _finder(options.title)
        # (the defaults, "a" and "a[href]": the first link is the title's, when it has an href)
        self._link_is_title = options.link == f"{options.title}[href]"
        self._link = _finder(options.link)
        self._date = _finder(options.date)
        self._deadline = _finder(options.deadline)
        self._next_page = _finder(options.next_page)

    def parse(self, page: Page) -> ParseResult:
        return self.parse_tree(page, parse_list_html(page.text))

    def parse_tree(self, page: Page, root: etree._Element) -> ParseResult:
        opts = self.options
        rows = [item for row in css(opts.item)(root) if (item := self.read_row(page, row)) is not None]
        items = rows
        if opts.include:
            wanted = re.compile(opts.include, re.I)
            items = [item for item in rows if wanted.search(item.title)]
        markers = len(css(opts.row_marker)(root)) if opts.row_marker else None
        return ParseResult(items=items, rows=len(rows), row_markers=markers,
                           next_page_url=self.next_page(page, root))

    def read_row(self, page: Page, row: etree._Element) -> Item | None:
        opts = self.options
        title_el = self._title(row) if self._title else row
        if title_el is not None and self._link_is_title and title_el.get("href") is not None:
            link_el = title_el
        else:
            link_el = self._link(row) if self._link else row
        title = ""
        if title_el is not None:
            title = clean_text(title_el.get("title")) or clean_text(text_of(title_el))
        href = (link_el.get("href") or "").strip() if link_el is not None else ""
        url = absolute(page.url, href) if href and not href.lower().startswith("javascript:") else None
        if not title:
            return None  # header and spacer rows
        if opts.same_host_only and url and host_of(url) != host_of(page.url):
            return None
        published = None
        if opts.date_in_url and url:
            published = parse_date(urlsplit(url).path)  # the CMS's own date, never one a title happens to mention
        if published is None:
            date_el = self._date(row) if self._date else row
            published = parse_date(text_of(date_el)) if date_el is not None else None
        extra = {}
        if self._deadline and (deadline_el := self._deadline(row)) is not None:
            found = [d for part in re.split(r"至|到|~|－|—", text_of(deadline_el)) if (d := parse_date(part))]
            if found:
                extra["deadline"] = found[-1]
        return Item(title=title, url=url, published=published, extra=extra)

    def next_page(self, page: Page, root: etree._Element) -> str | None:
        if not self._next_page:
            return None
        link = self._next_page(root)
        target = (link.get(self.options.next_page_attr) or "").strip() if link is not None else ""
        if not target or target.lower().startswith("javascript:"):
            return None
        return urljoin(page.url, target)


def absolute(base: str, href: str) -> str:
    """urljoin, with a fast path for the common site-absolute links ("/a/b.html") of list pages."""
    if href.startswith(("http://", "https://")):
        return href
    if href.startswith("/") and not href.startswith("//") and "/../" not in href and "/./" not in href:
        return _origin(base) + href
    return urljoin(base, href)


@lru_cache(maxsize=256)
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


_SIMPLE = re.compile(r"([a-z][a-z0-9]*)(?:\[([a-z-]+)\])?")

Find = Callable[[etree._Element], etree._Element | None]


def _finder(selector: str) -> Find | None:
    """What finds the first element (the row itself included) that a row-relative selector names, chosen
    once per parser (a list page asks two or three per row); None for an empty selector. (Partials of
    module functions, not closures: parsers are kept in the watchlist cache, a pickle.)"""
    if not selector:
        return None
    if selector.startswith("+"):
        return partial(_first_sibling, selector[1:].strip())
    simple = _SIMPLE.fullmatch(selector)
    if simple is None:
        return partial(_first_match, selector)
    tag, attribute = simple.group(1), simple.group(2)  # "a", "span", "a[href]": a walk in document order
    return partial(_first_tag, tag) if attribute is None else partial(_first_tag_with, tag, attribute)


def _first_tag(tag: str, row: etree._Element) -> etree._Element | None:
    return next(row.iter(tag), None)


def _first_tag_with(tag: str, attribute: str, row: etree._Element) -> etree._Element | None:
    return next((element for element in row.iter(tag) if element.get(attribute) is not None), None)


def _first_match(selector: str, row: etree._Element) -> etree._Element | None:
    found = css(selector)(row)
    return found[0] if found else None


def _first_sibling(selector: str, row: etree._Element) -> etree._Element | None:
    match = css(selector)
    return next((sibling for sibling in row.itersiblings() if sibling in match(sibling)), None)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
