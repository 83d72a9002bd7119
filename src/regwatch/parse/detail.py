"""Detail pages: exact time, issuing body, document number (文号), comment deadline, attachments, body.

The defaults cover the four agencies' templates (PBC `#zoom`, MIIT `#con_con`, SAMR
`.Three_xilan_07`, CAC `#BodyLabel`, with their metas); a watchlist can override any selector in
`[source.detail]`. Bodies are cleaned with lxml (scripts, styles and comments dropped, block
elements on their own lines).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import lxml.html
from lxml import etree

from .._schema import checked
from ..clock import MONTH_NUMBERS, MONTHS
from ._base import Page
from .dates import _DATE, parse_datetime
from .html_list import clean_text, css, parse_html, valid_css

ATTACHMENT_TYPES = ("pdf", "doc", "docx", "wps", "xls", "xlsx", "et", "ppt", "pptx", "zip", "rar", "7z", "ofd",
                    "txt", "csv")

# 〔2026〕 is the standard; ﹝2026﹞, [2026], 【2026】, (2026) and （2026） are seen on the same sites.
_BRACKETS = re.compile(r"[﹝\[【(（〔]\s*((?:19|20)\d\d)\s*[﹞\]】)）〕]")
_NUMBER = r"[0-9一二三四五六七八九十百零〇]{1,6}"
# Joint documents name each issuing body: 中国人民银行 国家外汇管理局公告〔2025〕第12号
_ISSUERS = r"(?:[\u4e00-\u9fa5]{1,19}[部局委行办院会署室厅府] ){0,4}"
_DOC_NUMBER_TEXT = (
    rf"{_ISSUERS}[\u4e00-\u9fa5A-Za-z]{{1,20}}〔(?:19|20)\d\d〕\s*第?\s*{_NUMBER}\s*号"  # 银发〔2026〕12号
    rf"|{_ISSUERS}[\u4e00-\u9fa5]{{2,20}}令\s*第\s*{_NUMBER}\s*号"  # 国家互联网信息办公室令第11号, 主席令第九十一号
    rf"|[\u4e00-\u9fa5]{{0,20}}〔(?:19|20)\d\d年\s*第\s*{_NUMBER}\s*号〕"  # 〔2025年 第2号〕
)


# Compiled when a detail page is first read (their CJK classes take ~8 ms to compile: every command that
# loads a watchlist imports this module, most never read a page)
@cache
def _doc_number() -> re.Pattern[str]:
    return re.compile(_DOC_NUMBER_TEXT)


@cache
def _doc_line() -> re.Pattern[str]:
    """On a line of its own (an announcement's number under its title): 2022年第37号"""
    return re.compile(rf"^\s*(?:{_DOC_NUMBER_TEXT}|（?(?:19|20)\d\d年\s*第\s*{_NUMBER}\s*号）?)\s*$")


_DATE_TEXT = r"(?:19|20)\d\d\s*(?:年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|-\d{1,2}-\d{1,2})"
_DEADLINE = re.compile(
    rf"(?:截止(?:日期|时间)?\s*(?:为|是|至|：|:)?|截至|请于|并于|于)\s*({_DATE_TEXT})"
    rf"|({_DATE_TEXT})\s*(?:前|止|之前|24(?:时|点)前)"
)
_PERIOD = re.compile(rf"{_DATE_TEXT}\s*(?:至|到|—|–|~|－)\s*({_DATE_TEXT})")  # a comment period: its end
_FEEDBACK_WORDS = re.compile(r"意见|建议|反馈|征求")
_SENTENCE = re.compile(r"[^。；;！!\n]+")


@dataclass(frozen=True)
class DetailOptions:
    enabled: bool = True
    title: str = checked('meta[name="ArticleTitle"], .main-title h1.title, h1', valid_css)
    published: str = checked(
        'meta[name="PubDate"], span#pubtime, #con_time, td.hui12, meta[name="firstpublishedtime"]', valid_css)
    issuer: str = checked('meta[name="ContentSource"], span#source, .cinfo, span#laiyuan', valid_css)
    body: str = checked(
        "#BodyLabel, #zoom, #con_con, .Three_xilan_07, .TRS_Editor, .article_con, div.xxy_text, #UCAP-CONTENT",
        valid_css)
    attachments: str = checked("ul.contentLeft0102box a[href], iframe[fileurl]", valid_css)  # outside the body


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str
    type: str


@dataclass
class Detail:
    title: str | None = None
    published_at: str | None = None  # ISO datetime, Asia/Shanghai
    issuer: str | None = None
    doc_number: str | None = None
    deadline: str | None = None  # YYYY-MM-DD
    deadline_sentence: str | None = None  # the sentence it was read from
    effective: str | None = None  # YYYY-MM-DD it takes effect (施行, 实施, comes into force); None: not said
    effective_sentence: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    body: str = ""

    @property
    def found(self) -> bool:
        """A notice's own page has a body; a list page or an error page has none."""
        return bool(self.body)


def normalise_doc_number(text: str) -> str:
    """Bring every bracket style around a year to 〔YYYY〕; keep one space between issuing bodies only."""
    text = " ".join(_BRACKETS.sub(r"〔\1〕", text).split())
    return re.sub(r" (?=[〔〕第号\d])|(?<=[〔〕第号\d]) ", "", text)


def find_doc_number(title: str, body: str, other_title: str = "") -> str | None:
    """The notice's own 文号: in its title(s), else a line of its own near the top, else early in the body."""
    for text in (title, other_title):
        match = _doc_number().search(normalise_doc_number(text))
        if match:
            return normalise_doc_number(match.group(0))
    head_lines = body.splitlines()[:15]
    for line in head_lines:
        if _doc_line().match(normalise_doc_number(line)):
            return normalise_doc_number(line).strip("（）")
    head = _BRACKETS.sub(r"〔\1〕", body[:500])
    for match in _doc_number().finditer(head):
        before = head[max(0, match.start() - 1):match.start()]
        if before not in ("（", "(", "《"):  # a document cited in passing, not this one
            return normalise_doc_number(match.group(0))
    return None


def find_deadline(body: str) -> str | None:
    """The comment deadline from sentences like 「请于2026年10月14日前反馈意见」."""
    found = find_deadline_sentence(body)
    return found[0] if found else None


def find_deadline_sentence(body: str) -> tuple[str, str] | None:
    """(the comment deadline, the sentence it was read from)."""
    for sentence in _SENTENCE.findall(body):
        if not _FEEDBACK_WORDS.search(sentence):
            continue
        match = _PERIOD.search(sentence) or _DEADLINE.search(sentence)
        if match:
            moment = parse_datetime(next(g for g in match.groups() if g))
            if moment is not None:
                return moment.date().isoformat(), sentence.strip()
    return None


_EFFECTIVE = re.compile(
    rf"(?:自|从|于|将于|定于)?\s*({_DATE_TEXT})\s*(?:起)?\s*(?:正式)?(?:施行|实施|生效)"
    rf"|(?:施行|实施|生效)(?:日期|时间)\s*(?:为|是|：|:)?\s*({_DATE_TEXT})")
_ON_PUBLICATION = re.compile(r"自(?:公布|发布|印发|颁布)之日起(?:施行|实施|生效)")
_MONTH = "|".join(MONTHS)
_EFFECTIVE_EN = re.compile(
    r"(?:come|comes|came|enter|enters|entered|take|takes|took)\s+(?:into\s+)?(?:force|effect)\s+(?:on|from|as of)\s+"
    rf"((?:{_MONTH})\s+\d{{1,2}},?\s+(?:19|20)\d\d|\d{{1,2}}\s+(?:{_MONTH})\s+(?:19|20)\d\d)", re.I)


def find_effective(body: str, published: str | None) -> tuple[str, str] | None:
    """(the date it takes effect, the sentence that says so): 「本办法自2026年1月1日起施行」, 「施行日期：…」,
    「自公布之日起施行」 (the publication date), "shall come into force on 1 January 2026". Sentences about
    comments are skipped: 「…于2026年10月14日前反馈」 is a deadline, not an effective date."""
    for sentence in _SENTENCE.findall(body):
        if _FEEDBACK_WORDS.search(sentence) and not re.search(r"施行|生效|force|effect", sentence):
            continue
        if match := _EFFECTIVE.search(sentence):
            moment = parse_datetime(next(g for g in match.groups() if g))
            if moment is not None:
                return moment.date().isoformat(), sentence.strip()
        if _ON_PUBLICATION.search(sentence) and published:
            return published[:10], sentence.strip()
        if match := _EFFECTIVE_EN.search(sentence):
            words = match.group(1).replace(",", " ").split()
            day, month = (words[1], words[0]) if words[0].isalpha() else (words[0], words[1])
            return f"{words[-1]}-{MONTH_NUMBERS[month.lower()]:02d}-{int(day):02d}", sentence.strip()
    return None


def _value(element: lxml.html.HtmlElement) -> str:
    return clean_text(element.get("content") if element.tag == "meta" else element.text_content())


def _published_at(root: lxml.html.HtmlElement, selector: str) -> str | None:
    """The most precise time the page gives: a candidate with hours and minutes beats a bare date."""
    best: datetime | None = None
    for element in css(selector)(root):
        text = _value(element)
        match = _DATE.search(text)
        if not match:
            continue
        moment = parse_datetime(match.group(0))
        if moment is None:
            continue
        if best is None or (match.group("H") and moment.date() == best.date() and (best.hour, best.minute) == (0, 0)):
            best = moment
    return best.isoformat() if best else None


def _issuer(root: lxml.html.HtmlElement, selector: str) -> str | None:
    for element in css(selector)(root):
        text = re.sub(r"^(?:文章)?来源\s*[:：]\s*", "", _value(element)).strip()
        if text:
            return text
    return None


def _attachment_type(name: str, url: str) -> str:
    for candidate in (name, unquote(urlsplit(url).path)):
        match = re.search(r"\.([A-Za-z0-9]{1,5})$", candidate.strip())
        if match and match.group(1).lower() in ATTACHMENT_TYPES:
            return match.group(1).lower()
    return "unknown"


def _attachment(page_url: str, link: lxml.html.HtmlElement) -> Attachment | None:
    href = (link.get("href") or link.get("fileurl") or "").strip()
    if not href or href.lower().startswith(("javascript:", "mailto:", "#")):
        return None
    url = urljoin(page_url, href)
    params = parse_qs(urlsplit(url).query)
    named = (params.get("fileName") or params.get("fText") or params.get("filename") or [""])[0]
    text = clean_text(link.text_content()) if link.tag == "a" else ""
    name = clean_text(link.get("title")) or named or text
    name = re.sub(r"^附件\s*[:：]\s*", "", name)
    kind = _attachment_type(named or name, url)
    is_file = kind != "unknown" or "downloadfile" in url.lower() or bool(named) or link.tag == "iframe"
    if not is_file or not name:
        return None
    return Attachment(name=name, url=url, type=kind)


_BLOCKS = {"p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article",
           "blockquote", "pre", "ul", "ol", "dd", "dt"}


def body_text(element: lxml.html.HtmlElement) -> str:
    """Readable body text: block elements on their own lines, scripts and styles gone.

    Done with lxml rather than BeautifulSoup: the same result here, and the service stays ~4 MB
    smaller and faster (it reads every new notice's page).
    """
    body = copy.deepcopy(element)
    etree.strip_elements(body, "script", "style", "noscript", etree.Comment, with_tail=False)
    text = _text_with_tails(body)
    lines = (clean_text(line) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _text_with_tails(element: lxml.html.HtmlElement) -> str:
    """Depth-first text of an element with a line break before each block element."""
    out: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> None:
        if isinstance(node.tag, str) and node.tag in _BLOCKS:
            out.append("\n")
        if node.text:
            out.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                out.append(child.tail)
        if isinstance(node.tag, str) and node.tag in _BLOCKS:
            out.append("\n")

    walk(element)
    return "".join(out)


def extract_detail(page: Page, options: DetailOptions, list_title: str = "") -> Detail:
    """Read a detail page; fields the page does not give stay None. The list's title may hold the 文号."""
    root = parse_html(page.text)
    detail = Detail()
    title_el = next(iter(css(options.title)(root)), None)
    detail.title = _value(title_el) or None if title_el is not None else None
    detail.published_at = _published_at(root, options.published)
    detail.issuer = _issuer(root, options.issuer)
    body_el = next(iter(css(options.body)(root)), None)
    links: list[lxml.html.HtmlElement] = list(css(options.attachments)(root))
    if body_el is not None:
        detail.body = body_text(body_el)
        links = list(body_el.iter("a")) + links
    seen: set[str] = set()
    for link in links:
        attachment = _attachment(page.url, link)
        if attachment and attachment.url not in seen:
            seen.add(attachment.url)
            detail.attachments.append(attachment)
    detail.doc_number = find_doc_number(list_title, detail.body, detail.title or "")
    if deadline := find_deadline_sentence(detail.body):
        detail.deadline, detail.deadline_sentence = deadline
    if effective := find_effective(detail.body, detail.published_at):
        detail.effective, detail.effective_sentence = effective
    return detail
