"""Two versions of an instrument compared article by article (第X条 by 第X条): which articles were
changed, added, removed or only renumbered — what a lawyer reads first when a final text follows its
draft.

Articles are aligned by what they say, not by their number: a final text that inserts an article
renumbers everything after it, and comparing 第十条 with 第十条 would then report every later article as
changed. Identical articles are matched first (in order), then, between them, each remaining article is
paired with the most similar one left (at least `SIMILAR` alike); what is left over was added or removed.
A text without articles is compared paragraph by paragraph the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import pairwise

SIMILAR = 0.5  # how alike two articles must be to count as one article changed
WINDOW = 12  # an article is looked for this many places either side of where it would stand
_NUMERAL = "零〇一二三四五六七八九十百千两"
_ARTICLE = re.compile(rf"(?:^|(?<=[\s。；：]))第([{_NUMERAL}\d]{{1,8}})条(?:之([{_NUMERAL}\d]{{1,3}}))?[\s\u3000　]*")
_HEADING = re.compile(rf"^\s*第[{_NUMERAL}\d]+[章节编](?:\s+\S{{1,30}})?\s*$", re.M)
_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0, "两": 2}
_UNITS = {"十": 10, "百": 100, "千": 1000}


def chinese_number(text: str) -> int:
    """二十三 → 23, 一百零五 → 105, 十 → 10, 12 → 12."""
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            total += (digit or 1) * _UNITS[char]
            digit = 0
    return total + digit


@dataclass(frozen=True)
class Article:
    number: str  # as written: 第二十三条, 第十条之一
    order: int  # its number as a count, for renumbering
    text: str  # the article's text without its heading, whitespace folded


def split_articles(body: str) -> list[Article]:
    """The 第X条 articles of a legal text, in order (chapter headings dropped); [] when it has none."""
    text = _HEADING.sub("", body or "")
    starts = list(_ARTICLE.finditer(text))
    articles = []
    for at, match in enumerate(starts):
        end = starts[at + 1].start() if at + 1 < len(starts) else len(text)
        number = match.group(0).strip()
        order = chinese_number(match.group(1)) * 100 + (chinese_number(match.group(2)) if match.group(2) else 0)
        articles.append(Article(number, order, " ".join(text[match.end():end].split())))
    # A stray "第三条" quoted in a sentence would break the sequence: keep only a text whose numbers rise.
    return articles if len(articles) >= 2 and _mostly_rising(articles) else []


def legal_text(body: str, attachment_text: str) -> str:
    """The text to compare: the page body where it holds the articles, else the attachments' text where
    they do (a draft's page often only announces the attached draft), else whichever there is."""
    if split_articles(body):
        return body
    if split_articles(attachment_text):
        return attachment_text
    return body or attachment_text


def _mostly_rising(articles: list[Article]) -> bool:
    rises = sum(b.order > a.order for a, b in pairwise(articles))
    return rises >= 0.8 * (len(articles) - 1)


def _paragraphs(body: str) -> list[Article]:
    lines = [" ".join(line.split()) for line in (body or "").splitlines() if line.strip()]
    return [Article(f"¶{i}", i, line) for i, line in enumerate(lines, 1)]


@dataclass(frozen=True)
class Change:
    kind: str  # changed | added | removed | renumbered | unchanged
    old: Article | None
    new: Article | None

    @property
    def renumbered(self) -> bool:
        return self.old is not None and self.new is not None and self.old.order != self.new.order


@dataclass(frozen=True)
class Comparison:
    by_article: bool  # False: the texts had no 第X条 articles and were compared by paragraph
    changes: list[Change]

    def count(self, kind: str) -> int:
        return sum(c.kind == kind for c in self.changes)

    @property
    def differs(self) -> bool:
        return any(c.kind != "unchanged" for c in self.changes)

    def summary(self, language: str = "en") -> str:
        """"12 articles changed, 3 added, 1 removed, 2 renumbered" (or paragraphs; "no change");
        in Chinese "修改 12 条，新增 3 条，删除 1 条，调整序号 2 条"."""
        unit = "articles" if self.by_article else "paragraphs"
        counts = [(kind, n) for kind in ("changed", "added", "removed", "renumbered") if (n := self.count(kind))]
        if language == "zh":
            measure = "条" if self.by_article else "段"
            words = {"changed": "修改", "added": "新增", "removed": "删除", "renumbered": "调整序号"}
            return "，".join(f"{words[k]} {n} {measure}" for k, n in counts) or "无改动"
        if not counts:
            return f"no change in {len(self.changes)} {unit}" if self.changes else "no text to compare"
        (first, number), *rest = counts
        head = f"{number} {unit if number != 1 else unit[:-1]} {first}"
        return ", ".join([head, *(f"{n} {kind}" for kind, n in rest)])


def compare(old_body: str, new_body: str) -> Comparison:
    """The article-aligned comparison of two versions' texts."""
    old, new = split_articles(old_body), split_articles(new_body)
    by_article = bool(old and new)
    if not by_article:
        old, new = _paragraphs(old_body), _paragraphs(new_body)
    changes: list[Change] = []
    matcher = SequenceMatcher(None, [a.text for a in old], [a.text for a in new], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            changes += [Change("renumbered" if a.order != b.order and by_article else "unchanged", a, b)
                        for a, b in zip(old[i1:i2], new[j1:j2], strict=True)]
        else:
            changes += _pair(old[i1:i2], new[j1:j2])
    return Comparison(by_article, changes)


def _pair(old: list[Article], new: list[Article]) -> list[Change]:
    """Between two matched stretches: pair each article with its most similar counterpart, in order."""
    scores = sorted(((_likeness(a.text, b.text), i, j) for i, a in enumerate(old) for j, b in enumerate(new)
                     if abs(i * len(new) - j * len(old)) <= WINDOW * max(len(old), len(new))), reverse=True)
    paired: dict[int, int] = {}
    for score, i, j in scores:
        if score < SIMILAR:
            break
        if i in paired or j in paired.values():
            continue
        if any((i < pi) != (j < pj) for pi, pj in paired.items()):  # keep the order: no crossing pairs
            continue
        paired[i] = j
    out: list[Change] = []
    old_left = [i for i in range(len(old)) if i not in paired]
    into = {j: i for i, j in paired.items()}
    for j, article in enumerate(new):  # in the new text's order, removals where they stood
        while old_left and (j in into and old_left[0] < into[j]):
            out.append(Change("removed", old[old_left.pop(0)], None))
        out.append(Change("changed", old[into[j]], article) if j in into else Change("added", None, article))
    out += [Change("removed", old[i], None) for i in old_left]
    return out


def _likeness(a: str, b: str) -> float:
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    return matcher.ratio() if matcher.quick_ratio() >= SIMILAR else 0.0


def inline_diff(old: str, new: str) -> str:
    """The new text with what went [-struck-] and what came {+in+}, character by character."""
    matcher = SequenceMatcher(None, old, new, autojunk=False)
    out = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out.append(new[j1:j2])
            continue
        if i2 > i1:
            out.append(f"[-{old[i1:i2]}-]")
        if j2 > j1:
            out.append(f"{{+{new[j1:j2]}+}}")
    return "".join(out)
