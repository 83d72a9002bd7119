"""English glosses of Chinese notice titles, from a reviewed glossary kept as data (`glossary.toml`).

Many readers of the bulletins read no Chinese. A gloss is built only from what the glossary holds:
whole-title frames (关于公开征求《X》意见的通知 → "Notice on Soliciting Public Comments on the X"),
instrument names with the English their issuer publishes, bodies, forms (《…办法》 → "Measures for …")
and terms; a Chinese run the glossary does not cover stays in Chinese, in square brackets, rather than
being guessed. No service is called and nothing is learned: the same title always reads the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .._schema import ConfigError, build, read_toml, valid_regex
from ..clock import MONTHS

_CJK = re.compile(r"[\u3400-\u9fff]")
_SMALL = {"of", "on", "for", "and", "the", "in", "to", "by", "a", "an", "or", "with", "from", "at", "as", "v."}
_DIGITS = "一二三四五六七八九"


def _count(numeral: str) -> int:
    """一 … 九十九 as a number (enough for 十三部门)."""
    if "十" not in numeral:
        return _DIGITS.index(numeral) + 1 if len(numeral) == 1 and numeral in _DIGITS else 0
    tens, _, units = numeral.partition("十")
    return (_DIGITS.index(tens) + 1 if tens else 1) * 10 + (_DIGITS.index(units) + 1 if units else 0)


# Dates, numbers and batches, read before the dictionary (so 2026年第3批 is "Batch 3 of 2026").
_PATTERNS: tuple[tuple[re.Pattern[str], Any], ...] = (
    (re.compile(r"令\s*[〔［\[(（]\s*(\d{4})\s*[〕］\])）]\s*第?\s*(\d+)\s*号"),
     lambda m: f"Order No. {m[2]} [{m[1]}]"),
    (re.compile(r"[〔［\[]\s*(\d{4})\s*[〕］\]]\s*第?\s*(\d+)\s*号"), lambda m: f"[{m[1]}] No. {m[2]}"),
    (re.compile(r"(\d{4})年第(\d+)批"), lambda m: f"Batch {m[2]} of {m[1]}"),
    (re.compile(r"(\d{4})年(上|下)半年"), lambda m: f"{'First' if m[2] == '上' else 'Second'} Half of {m[1]}"),
    (re.compile(r"总第(\d+)批"), lambda m: f"No. {m[1]} Overall"),
    (re.compile(r"第(\d+)批"), lambda m: f"Batch {m[1]}"),
    (re.compile(r"第([一二三四五六七八九十])批"), lambda m: f"Batch {'一二三四五六七八九十'.index(m[1]) + 1}"),
    (re.compile(r"(\d{4})年(\d{1,2})\s*[-—–~～至]\s*(\d{1,2})月份?"),
     lambda m: f"{MONTHS[int(m[2]) - 1]}–{MONTHS[int(m[3]) - 1]} {m[1]}" if 0 < int(m[2]) <= 12 and
     0 < int(m[3]) <= 12 else m[0]),
    (re.compile(r"(\d+(?:\.\d+)?)\s*亿元"), lambda m: f"RMB {float(m[1]) * 100:g} million"),
    (re.compile(r"(\d+(?:\.\d+)?)\s*万元"), lambda m: f"RMB {float(m[1]) * 10:g} thousand"),
    (re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"), lambda m: f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"),
    (re.compile(r"(\d{4})年第([一二三四])季度"), lambda m: f"Q{'一二三四'.index(m[2]) + 1} {m[1]}"),
    (re.compile(r"(\d{4})年(\d{1,2})月"), lambda m: f"{m[1]}-{int(m[2]):02d}"),
    (re.compile(r"(\d{4})年版"), lambda m: f"{m[1]} Edition"),
    (re.compile(r"指导(性)?案例\s*(\d+)\s*号"), lambda m: f"Guiding Case No. {m[2]}"),
    (re.compile(r"检例第?\s*(\d+)\s*号"), lambda m: f"Procuratorial Guiding Case No. {m[1]}"),
    (re.compile(r"(\d{1,2})\s*[-—–~～至]\s*(\d{1,2})月份?"),
     lambda m: f"{MONTHS[int(m[1]) - 1]}–{MONTHS[int(m[2]) - 1]}" if 0 < int(m[1]) <= 12 and
     0 < int(m[2]) <= 12 else m[0]),
    (re.compile(r"(\d{1,2})月(\d{1,2})日"), lambda m: f"{MONTHS[int(m[1]) - 1]} {int(m[2])}"
     if 0 < int(m[1]) <= 12 else m[0]),
    (re.compile(r"(\d{1,2})月份?"), lambda m: MONTHS[int(m[1]) - 1] if 0 < int(m[1]) <= 12 else m[0]),
    (re.compile(r"(\d{4})年(度)?"), lambda m: m[1]),
    (re.compile(r"第(\d+)号"), lambda m: f"No. {m[1]}"),
    (re.compile(r"第(\d+)期"), lambda m: f"Issue {m[1]}"),
    (re.compile(r"(\d+)款"), lambda m: m[1]),
    (re.compile(r"(\d+)家"), lambda m: m[1]),
    (re.compile(r"等([一二三四五六七八九十]{1,3})(个)?(部门|部委)"),
     lambda m: f"and {_count(m[1]) - 1} other departments" if _count(m[1]) > 1 else m[0]),
    (re.compile(r"([一二三四五六七八九十]{1,3})(个)?(部门|部委)"), lambda m: f"{_count(m[1])} departments"),
    (re.compile(r"[A-Za-z0-9][A-Za-z0-9 .,:/&+\-]*"), lambda m: m[0].strip()),
)
_PUNCTUATION = {"、": ",", "，": ",", "：": ":", "；": ";", "“": "\"", "”": "\"", "‘": "'", "’": "'", "—": "–",
                "——": ": ", "（": "(", "）": ")", "(": "(", ")": ")", "·": " ", " ": " ", "\u3000": " ",
                "《": "", "》": "", "「": "\"", "」": "\"", "【": "[", "】": "]"}
_PARTICLES = {"的": "", "和": "and", "及": "and", "与": "and", "以及": "and", "等": "etc.", "对": "on",
              "在": "in", "为": "for", "并": "and", "或": "or"}
_SUFFIX = re.compile(r"[（(]([^（()）]+)[）)]$")


def _valid_frames(frames: list[dict[str, str]]) -> str | None:
    for frame in frames:
        if set(frame) != {"pattern", "english"}:
            return "each [[frame]] needs exactly `pattern` and `english`"
        if problem := valid_regex(frame["pattern"]):
            return problem
    return None


@dataclass(frozen=True)
class GlossaryFile:
    version: str = ""
    names: dict[str, str] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)
    terms: dict[str, str] = field(default_factory=dict)
    forms: dict[str, list[str]] = field(default_factory=dict)
    suffixes: dict[str, str] = field(default_factory=dict)
    frame: list[dict[str, str]] = field(default_factory=list, metadata={"check": _valid_frames})


@dataclass(frozen=True)
class Gloss:
    """The English of a title, and how much of it the glossary covered."""

    text: str
    covered: float  # share of the title's Chinese characters the glossary read (1.0: nothing left in Chinese)
    unknown: list[str]  # the Chinese runs left as they are, in brackets in `text`


def shipped_glossary_path() -> Path:
    return Path(str(resources.files("regwatch.translate") / "glossary.toml"))


class Glossary:
    """The shipped glossary, with a user's own file over it (their entries and frames win)."""

    def __init__(self, extra: Path | None = None) -> None:
        files = [build(GlossaryFile, read_toml(shipped_glossary_path()), shipped_glossary_path())]
        if extra is not None:
            files.append(build(GlossaryFile, read_toml(extra), extra))
        self.version = "+".join(f.version for f in files if f.version)
        self.names: dict[str, str] = {}
        self.words: dict[str, str] = {}  # bodies and terms: read in the title's order
        self.forms: dict[str, tuple[str, str]] = {}
        self.suffixes: dict[str, str] = {}
        frames: list[tuple[re.Pattern[str], str]] = []
        for data in files:
            self.names.update(data.names)
            self.words.update(data.terms)
            self.words.update(data.bodies)
            for form, english in data.forms.items():
                if len(english) != 2:
                    raise ConfigError(extra, f"forms.{form}", "expected [English, preposition]")
                self.forms[form] = (english[0], english[1])
            self.suffixes.update(data.suffixes)
            frames[:0] = [(re.compile(f["pattern"]), f["english"]) for f in data.frame]  # later files first
        self.frames = frames
        self._longest = max(map(len, [*self.words, *self.names, *self.forms, *_PARTICLES]), default=1)
        self._forms_by_length = sorted(self.forms, key=len, reverse=True)

    def gloss(self, title: str) -> Gloss:
        """The English gloss of a title (a title with no Chinese is returned as it is)."""
        title = " ".join(title[:TITLE_CHARS].split())
        unknown: list[str] = []
        text = self._title(title, unknown)
        text = re.sub(r"\s+([,.;:)\]])", r"\1", re.sub(r"([(\[])\s+", r"\1", " ".join(text.split())))
        chinese = len(_CJK.findall(title))
        left = sum(len(_CJK.findall(u)) for u in unknown)
        return Gloss(text=_title_case(text), covered=round(1 - left / chinese, 3) if chinese else 1.0,
                     unknown=unknown)

    def _title(self, title: str, unknown: list[str]) -> str:
        if title in self.names:
            return self.names[title]
        for pattern, english in self.frames:
            match = pattern.fullmatch(title)
            if match:
                parts = {k: self._phrase(v or "", unknown) for k, v in match.groupdict().items()}
                return english.format(**parts).lstrip(": ")  # "{body}: Notice on …" with no body
        return self._phrase(title, unknown)

    def _phrase(self, text: str, unknown: list[str]) -> str:
        """A stretch of a title: 《names》 as instruments, the rest word by word."""
        out: list[str] = []
        for piece in re.split(r"(《[^》]+》)", text):
            if piece.startswith("《") and piece.endswith("》"):
                out.append(self._instrument(piece[1:-1], unknown))
            elif piece:
                instrument = self._bare_instrument(piece, unknown)
                out.append(instrument if instrument is not None else self._words(piece, unknown))
        return " ".join(out)

    def _bare_instrument(self, text: str, unknown: list[str]) -> str | None:
        """A title that is itself an instrument (网络数据安全管理条例, …办法（征求意见稿）)."""
        core = _SUFFIX.sub("", text).strip()
        if core in self.names or (any(core.endswith(f) for f in self.forms) and not re.search(r"[，。、]", core)):
            return self._instrument(text, unknown)
        return None

    def _instrument(self, name: str, unknown: list[str]) -> str:
        """《X办法（征求意见稿）》 → "Measures for X (Draft for Comment)"."""
        suffixes: list[str] = []
        while (found := _SUFFIX.search(name)) and found.start() > 0:
            suffixes.insert(0, self.suffixes.get(found[1]) or self._words(found[1], unknown))
            name = name[:found.start()].rstrip()
        if name in self.names:
            english = self.names[name]
        else:
            english = ""
            prc = name.startswith("中华人民共和国")
            core = name.removeprefix("中华人民共和国")
            form = next((f for f in self._forms_by_length if core.endswith(f) and len(core) > len(f)), None)
            if core in self.names:
                english = self.names[core]
            elif form is not None:
                head, preposition = self.forms[form]
                rest = self._words(core[: -len(form)], unknown)
                if preposition == "-":  # the form follows, as in "Energy Law"
                    english = f"{rest} {head}"
                else:
                    english = f"{head} {preposition} {rest}" if preposition else f"{head} {rest}"
            else:
                english = self._words(core, unknown)
            if prc and not english.endswith("People's Republic of China"):
                english += " of the People's Republic of China"
        return english + "".join(f" ({s})" for s in suffixes if s)

    def _words(self, text: str, unknown: list[str]) -> str:
        """Longest-match reading of a stretch with no 《》: numbers and dates, terms, bodies, particles."""
        out: list[str] = []
        pending = ""  # a Chinese run nothing covers yet
        i = 0

        def flush() -> None:
            nonlocal pending
            if pending:
                unknown.append(pending)
                out.append(f"[{pending}]")
                pending = ""

        while i < len(text):
            matched = None
            for pattern, render in _PATTERNS:
                if (m := pattern.match(text, i)) and m.end() > i:
                    matched = (m.end(), render(m))
                    break
            if matched is None:
                for size in range(min(self._longest, len(text) - i), 0, -1):
                    word = text[i:i + size]
                    english = self.words.get(word) or self.names.get(word)
                    if english is None and word in self.forms:
                        english = self.forms[word][0]
                    if english is None and word in _PARTICLES:
                        english = _PARTICLES[word]
                    if english is None and word in _PUNCTUATION:
                        english = _PUNCTUATION[word]
                    if english is not None:
                        matched = (i + size, english)
                        break
            if matched is None:
                char = text[i]
                if _CJK.match(char):
                    pending += char
                else:
                    flush()
                    out.append(char)
                i += 1
                continue
            flush()
            i, english = matched
            if english:
                out.append(english)
        flush()
        return " ".join(out)


def _title_case(text: str) -> str:
    """Headline case, leaving acronyms, bracketed Chinese and small words (after the first) alone."""
    words = text.split(" ")
    cased = []
    for index, word in enumerate(words):
        if index and word.lower() in _SMALL:
            cased.append(word.lower())
        elif word[:1].islower():
            cased.append(word[0].upper() + word[1:])
        else:
            cased.append(word)
    return " ".join(cased)


@cache
def glossary(extra: str = "") -> Glossary:
    """The glossary in use (the shipped one, with `[translate] glossary` over it); built once per file."""
    return Glossary(Path(extra).expanduser() if extra else None)


_active = {"glossary": ""}
TITLE_CHARS = 500  # glossed this far: real titles run to ~300; a hostile 50,000 would take seconds


def use_glossary(path: str) -> None:
    """Make `path` (plus the shipped glossary) the one `english` reads; the app calls this once per config.
    A user's file is read now, so a broken one is refused with the config (and a reload keeps the old);
    the shipped one only when first needed (~25 ms): commands that show no English never pay for it."""
    if path:
        glossary(path)
    _active["glossary"] = path


def english(title: str) -> str:
    """The English gloss of a title with the glossary in use ("" when the title has no Chinese in it)."""
    if not _CJK.search(title):
        return ""
    return glossary(_active["glossary"]).gloss(title).text
