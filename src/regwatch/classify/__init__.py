"""Classify: put each notice in one bulletin category, with topic tags, document type and status.

Rules are data (`rules.toml`, or a user's own file): each rule names what it votes for
(`category`, `tag`, `doc_type` or `status`), regular expressions in Chinese and English, a weight,
exclusion contexts that are blanked out before matching (工业和信息化部 must not count as 信息化),
and optionally the sources or agencies it applies to (a prior: a drafts column leans to
Legislation). Title hits count fully, body hits at `body_weight`. Every verdict keeps the ids of
the rules that fired and the rule file's version, so it can be explained and recomputed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from operator import itemgetter
from pathlib import Path
from typing import Literal

import ahocorasick

from .._schema import ConfigError, build, read_toml, valid_regex
from .model import MODEL_PATH, FallbackModel, shipped_model

CATEGORIES = ("Legislation", "Law Enforcement", "Court Rulings", "News Reports", "Foreign Trends")
# The bulletin editor's topic tags (shared/reference/labels.md): what `tags` holds in every output.
BULLETIN_TAGS = (
    "personal-information", "data-security", "cybersecurity", "critical-information-infrastructure", "apps",
    "cryptography", "facial-recognition", "blockchain", "financial-consumer-protection", "telecom",
    "algorithms", "ai", "minors", "cross-border-data",
)
# Subjects the bulletins leave untagged (payments, competition, food and product quality) that regwatch
# still files so a subscription can follow them: shown as `topics`, beside the tags.
TOPICS = ("payments", "online-content", "e-commerce", "antitrust", "product-safety", "food-safety")
TAGS = BULLETIN_TAGS + TOPICS  # every value a tag rule can set and a filter can name
_TAG_ORDER = {tag: TAGS.index(tag) for tag in TAGS}


def split_tags(tags: list[str] | tuple[str, ...]) -> tuple[list[str], list[str]]:
    """(the bulletin's tags, the other topics) of a stored tag list."""
    return [t for t in tags if t in BULLETIN_TAGS], [t for t in tags if t not in BULLETIN_TAGS]
DOC_TYPES = (
    "law", "administrative regulation", "departmental rule", "normative document", "national standard",
    "draft for comment", "circular", "penalty decision", "announcement", "interpretation", "news",
)
STATUSES = ("draft", "final")
_VALUES = {"category": CATEGORIES, "tag": TAGS, "doc_type": DOC_TYPES, "status": STATUSES}


def _alternation(patterns: list[str] | tuple[str, ...]) -> re.Pattern[str]:
    """One rule's patterns as the one expression it is matched with (case-folded, ASCII word classes)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), re.I | re.A)


def _valid_patterns(patterns: list[str]) -> str | None:
    """Checked as the classifier compiles them, all in one (re caches it, so the build does not compile
    them twice); a failure is then pinned on the pattern at fault."""
    if not patterns:
        return None
    try:
        _alternation(patterns)
    except re.error as exc:
        return next((problem for pattern in patterns if (problem := valid_regex(pattern))),
                    f"these patterns do not combine into one expression ({exc}): {patterns!r}")
    return None


@dataclass(frozen=True)
class RuleEntry:
    """A `[[rule]]` table of the rule file."""

    id: str
    sets: Literal["category", "tag", "doc_type", "status"]
    value: str
    patterns: list[str] = field(default_factory=list, metadata={"check": _valid_patterns})  # empty: a pure prior
    weight: float = 1.0
    exclude: list[str] = field(default_factory=list, metadata={"check": _valid_patterns})  # blanked out first
    fields: Literal["title", "body", "both"] = "both"
    sources: list[str] = field(default_factory=list)  # only for these source ids or agencies (empty: all)
    overrides: list[str] = field(default_factory=list)  # ids of rules whose votes this rule's hit withdraws
    note: str = ""


@dataclass(frozen=True)
class Scoring:
    body_weight: float = 0.35  # a body hit counts this much of a title hit
    body_chars: int = 3000  # how much of the body is read
    category_min: float = 0.5  # below this the notice is filed as News Reports
    tag_min: float = 1.0  # a tag needs this much evidence
    default_category: str = "News Reports"
    default_doc_type: str = "news"
    # When no rule reaches category_min, the learned model's guess is taken if at least this sure
    # (1 or more: the model is never asked).
    model_min: float = 0.6
    # A verdict less sure than this is marked for review instead of passing as certain.
    review_below: float = 0.8
    # A category about where rather than what (Foreign Trends): once its evidence reaches where_min it
    # wins over the categories of acts (a foreign regulator's fine is a foreign trend, not enforcement).
    where_category: str = "Foreign Trends"
    where_min: float = 3.0


@dataclass(frozen=True)
class RuleFile:
    version: str
    scoring: Scoring = field(default_factory=Scoring)
    rule: list[RuleEntry] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    category: str
    tags: list[str]
    doc_type: str
    status: str
    rules: list[str]  # ids of the rules that fired, strongest first
    version: str
    scores: dict[str, float] = field(default_factory=dict, compare=False)  # category scores, for --explain
    confidence: float = 1.0  # how sure the category is, 0–1 (rules: their margin; the model: its probability)
    review: bool = False  # below [scoring] review_below: a person should check the category



# Real titles run to ~300 characters; a "title" of 50,000 (a hostile page, a selector that caught the
# whole page) is read this far, so no pattern's scan of it grows with the square of its length.
TITLE_CHARS = 500

# Full-width letters, digits and signs (ＡＰＰ, ＧＢ／Ｔ　３５２７３, ２０２４年) are matched as the ASCII they
# stand for, the ideographic space as a space; the full-width punctuation the rules are written with
# (（），：；？！) stays as it is. The stored title is never changed.
_KEPT_FULL_WIDTH = "（），：；？！"
_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) not in _KEPT_FULL_WIDTH}
_HALF_WIDTH[0x3000] = 0x20
_TO_HALF_WIDTH = re.compile(f"[{re.escape(''.join(map(chr, _HALF_WIDTH)))}]")


def half_width(text: str) -> str:
    """`text` with full-width letters, digits and signs as ASCII (a lookup per character, so only when
    the text holds one: most titles hold none, or only the punctuation that stays)."""
    return text.translate(_HALF_WIDTH) if _TO_HALF_WIDTH.search(text) else text

_META = set("\\.^$*+?{}[]()|")
_LOOKAROUND = re.compile(r"^\(\?<?[=!]")


def _split_alternatives(pattern: str) -> list[str] | None:
    """Top-level alternatives of a pattern (None if its brackets do not balance)."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i = _class_end(pattern, i) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    return None if depth else [*parts, pattern[start:]]


def _group_end(pattern: str) -> int:
    """The index of the `)` closing the group that opens at 0 (brackets inside classes do not count)."""
    depth, i = 0, 0
    while i < len(pattern):
        if pattern[i] == "\\":
            i += 2
            continue
        if pattern[i] == "[":
            i = _class_end(pattern, i) + 1
            continue
        depth += pattern[i] == "("
        depth -= pattern[i] == ")"
        if depth == 0:
            return i
        i += 1
    return -1


def _class_end(pattern: str, start: int) -> int:
    """The index of the `]` closing the character class that opens at `start`."""
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        i += 1
    if i < len(pattern) and pattern[i] == "]":
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        i += 2 if pattern[i] == "\\" else 1
    return i


def _quantifier_end(pattern: str, i: int) -> tuple[bool, int]:
    """(whether the atom before `i` may match nothing, the index after its quantifier)."""
    if i >= len(pattern):
        return False, i
    c = pattern[i]
    optional, end = False, i
    if c in "?*":
        optional, end = True, i + 1
    elif c == "+":
        end = i + 1
    elif c == "{" and (close := pattern.find("}", i)) > 0 and re.fullmatch(r"\d*(,\d*)?", pattern[i + 1:close]):
        optional, end = pattern[i + 1:close].split(",")[0] in ("", "0"), close + 1
    if end < len(pattern) and pattern[end] in "?+" and end > i:  # lazy or possessive
        end += 1
    return optional, end


_SCOPED_FLAGS = re.compile(r"\?[aiLmsux-]*:")  # a group's non-capturing or scoped-flags prefix


def _lower(text: str) -> str:
    """Lower case as the anchors and the texts they are looked for in both have it. str.lower makes a
    capital sigma final (ς) or not (σ) by what follows it, so `ΑΣ` alone and inside `ΑΣΒ` would differ:
    both are σ here, and an anchor is found wherever its pattern can match."""
    return text.lower().replace("ς", "σ")


def _required(alternative: str) -> set[str] | None:
    """The best set of literals one of which every match of this (alternation-free) sequence contains."""
    candidates: list[set[str]] = []
    run, i = "", 0

    def close_run() -> None:
        nonlocal run
        if run:
            candidates.append({_lower(run)})
        run = ""

    while i < len(alternative):
        c = alternative[i]
        if c == "(":
            end = _group_end(alternative[i:]) + i
            if end < i:
                return None
            inner = alternative[i + 1:end]
            optional, after = _quantifier_end(alternative, end + 1)
            if _LOOKAROUND.match(alternative[i:]):  # zero-width: the literal run goes on across it
                i = after
                continue
            close_run()
            if scoped := _SCOPED_FLAGS.match(inner):  # (?:…) and (?-i:…): a group like any other
                inner = inner[scoped.end():]
            if not optional and not inner.startswith("?") and (sub := anchors(inner)):
                candidates.append(sub)
            i = after
            continue
        if c == "[":
            end = _class_end(alternative, i)
            close_run()
            members = alternative[i + 1:end]
            optional, i = _quantifier_end(alternative, end + 1)
            if not optional and members and not any(m in members for m in "^-\\"):  # [$€£]: one of these
                candidates.append({_lower(m) for m in members})
            continue
        if c == "\\" and i + 1 < len(alternative):
            escaped = alternative[i + 1]
            literal = None if escaped.isalnum() else escaped  # \d \s \b \w \u… are not literals
            if escaped == "u":
                i += 6
                close_run()
                continue
            atom_end = i + 2
        elif c in "^$":
            close_run()
            i += 1
            continue
        elif c == ".":
            literal, atom_end = None, i + 1
        else:
            literal, atom_end = c, i + 1
        optional, after = _quantifier_end(alternative, atom_end)
        if literal is None or optional:
            close_run()
        else:
            run += literal
            if after != atom_end:  # a repeated character: the run cannot go on past it
                close_run()
        i = after
    close_run()
    if not candidates:
        return None
    return max(candidates, key=lambda found: (min(len(s) for s in found), -len(found)))


def anchors(pattern: str) -> set[str] | None:
    """Literal strings of which every match must contain one (lower-cased), or None if none can be derived.

    A cheap lookup of these (one Aho-Corasick pass over the text) skips most regular-expression
    searches: a title rarely holds the words of more than a handful of rules. Each alternative
    gives its best required literal, wherever it stands (`^[^，。]{2,80}(条例|办法)` needs 条例 or 办法).
    """
    alternatives = _split_alternatives(pattern)
    if alternatives is None:
        return None
    found: set[str] = set()
    for alt in alternatives:
        required = _required(alt)
        if not required:
            return None
        found |= required
    return found


_ASCII_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")  # \w under re.ASCII
# The only characters that are not ASCII word characters but lower-case to one (İ → i̇, the Kelvin sign →
# k): in a text holding one, the lower-cased text's neighbours of an anchor may not be the original's.
_LOWERS_TO_WORD = re.compile("[\u0130\u212a]")
# A pattern that refers to a group by its number or name (\1, (?P=name), (?(1)…)) means something else
# beside other patterns than alone: such a rule is always searched whole.
_NUMBERED = re.compile(r"\\[1-9]|\(\?P=|\(\?\(")


def _word_bounded_body(pattern: str) -> str | None:
    """The alternatives X of a pattern written \\b(X)\\b or \\b(?:X)\\b (either inside (?-i:…)), else None."""
    if pattern.startswith("(?-i:") and _group_end(pattern) == len(pattern) - 1:
        pattern = pattern[5:-1]
    if not (pattern.startswith("\\b(") and pattern.endswith(")\\b")):
        return None
    group = pattern[2:-2]
    if _group_end(group) != len(group) - 1:
        return None
    inner = group[1:-1]
    if inner.startswith("?:"):
        return inner[2:]
    return None if inner.startswith("?") else inner


def word_bounds(pattern: str) -> dict[str, tuple[bool, bool]]:
    """For a pattern \\b(A|B|…)\\b: the anchors that every match through them has a word boundary right
    before (left) and right after (right), as they are plain words (`SEC`, `NIST`): a title that holds
    `sec` only inside `security` cannot match them, and the rule need not be searched. An anchor that
    another alternative of the pattern also gives (`AGs?`: after `ag` may come an `s`) gets the bounds
    both share; the patterns of any other form give none."""
    body = _word_bounded_body(pattern)
    alternatives = _split_alternatives(body) if body is not None else None
    if not alternatives:
        return {}
    bounds: dict[str, tuple[bool, bool]] = {}
    for alternative in alternatives:
        plain = alternative and not _META.intersection(alternative)
        for needle in _required(alternative) or ():
            if plain and needle == _lower(alternative):
                _narrow(bounds, needle, (alternative[0] in _ASCII_WORD, alternative[-1] in _ASCII_WORD))
            else:
                _narrow(bounds, needle, (False, False))
    return _bounded(bounds)


def _rule_bounds(patterns: list[str], literal_sets: list[set[str] | None]) -> dict[str, tuple[bool, bool]]:
    """`word_bounds` over a rule's patterns (and the anchors each gives): an anchor that several patterns
    give keeps only the bounds all of them share."""
    bounds: dict[str, tuple[bool, bool]] = {}
    for pattern, literals in zip(patterns, literal_sets, strict=True):
        found = word_bounds(pattern)
        for needle in literals or ():
            _narrow(bounds, needle, found.get(needle, (False, False)))
    return _bounded(bounds)


def _narrow(bounds: dict[str, tuple[bool, bool]], needle: str, bound: tuple[bool, bool]) -> None:
    """Keep of the needle's bounds so far only those `bound` shares."""
    left, right = bounds.get(needle, (True, True))
    bounds[needle] = (left and bound[0], right and bound[1])


def _bounded(bounds: dict[str, tuple[bool, bool]]) -> dict[str, tuple[bool, bool]]:
    return {needle: bound for needle, bound in bounds.items() if bound != (False, False)}


@dataclass(frozen=True)
class _Compiled:
    """A rule ready to run (its patterns compiled when a text first needs them), and which shared exclusion
    mask (index) applies first."""

    entry: RuleEntry
    key: tuple[str, str]
    mask: int  # index into Classifier._masks; 0 is "no exclusion"
    on_title: bool
    on_body: bool
    anchors: frozenset[str] | None  # the rule cannot match unless one of these is in the text
    bounds: dict[str, tuple[bool, bool]]  # anchors that must stand after / before a word boundary to count
    needs: dict[str, int]  # each anchor's patterns (bits), when each pattern can be searched alone, else {}


def default_rules_path() -> Path:
    return Path(str(resources.files("regwatch.classify") / "rules.toml"))


def load_classifier(path: Path | None = None) -> Classifier:
    """The classifier of this rules file (None: the shipped one), read back from the user's cache while
    the file, the shipped model and the classifier's code are unchanged: built, it took a one-off pass
    ~0.3 s of its start-up (a changed pass over 1,000 sources 2.08 s against 1.70 s with no rules at
    all); read back, ~0.02 s. A file that does not load raises as ever, and is not kept."""
    from ..load_cache import CLASSIFIER_CODE, cached

    rules = path or default_rules_path()
    return cached(rules, [rules, MODEL_PATH], lambda: Classifier(path), kind="classifier", code=CLASSIFIER_CODE)


class Classifier:
    """Applies one rule file; build once, call `classify` for each notice."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_rules_path()
        data = build(RuleFile, read_toml(self.path), self.path)
        for i, entry in enumerate(data.rule):
            if entry.value not in _VALUES[entry.sets]:
                raise ConfigError(self.path, f"rule[{i}].value",
                                  f"expected one of {', '.join(_VALUES[entry.sets])} for {entry.sets}")
        known = {entry.id for entry in data.rule}
        for i, entry in enumerate(data.rule):
            if unknown := [rule_id for rule_id in entry.overrides if rule_id not in known]:
                raise ConfigError(self.path, f"rule[{i}].overrides", f"no rule has the id {', '.join(unknown)}")
        # A precise rule can withdraw a broader one's vote (a case named by an administrative wrong
        # is not a court's case, though it ends in 案): the shape of a title must not outvote what it says.
        self._overrides = {entry.id: frozenset(entry.overrides) for entry in data.rule if entry.overrides}
        self._keys = {entry.id: (entry.sets, entry.value) for entry in data.rule}
        self.version = data.version
        self.scoring = data.scoring
        self.model: FallbackModel | None = shipped_model() if self.scoring.model_min < 1 else None
        masks: dict[tuple[str, ...], int] = {(): 0}
        self._rules: list[_Compiled] = []
        for e in data.rule:
            exclusion = tuple(e.exclude)
            if exclusion not in masks:
                masks[exclusion] = len(masks)
            literal_sets = [anchors(p) for p in e.patterns]
            needles = None if not e.patterns or None in literal_sets else frozenset(
                n for literals in literal_sets if literals is not None for n in literals)
            bounds = _rule_bounds(e.patterns, literal_sets) if needles is not None else {}
            needs: dict[str, int] = {}
            if needles is not None and not _NUMBERED.search("".join(e.patterns)):
                for j, literals in enumerate(literal_sets):
                    for needle in literals or ():
                        needs[needle] = needs.get(needle, 0) | 1 << j
            self._rules.append(_Compiled(e, (e.sets, e.value), masks[exclusion],
                                         e.fields != "body", e.fields != "title", needles, bounds, needs))
        # An exclusion blanks something out only where one of its anchors stands: a text without any has
        # itself as its masked form (no substitution). A mask an alternative of which has none always runs.
        mask_needles: dict[str, list[int]] = {}
        always: set[int] = set()
        for exclusion, m in list(masks.items())[1:]:
            literal_sets = [anchors(x) for x in exclusion]
            if None in literal_sets:
                always.add(m)
                continue
            for literals in literal_sets:
                for needle in literals or ():
                    mask_needles.setdefault(needle, []).append(m)
        self._masks_always = frozenset(always)
        needle_list = sorted({n for r in self._rules if r.anchors for n in r.anchors} | mask_needles.keys())
        # Rules to try for a title: those without anchors always, the others only when an anchor is present.
        # One Aho-Corasick pass over the text finds every anchor present (a regex alternation of ~800
        # literals was a third of the time per title).
        self._always = tuple(i for i, r in enumerate(self._rules) if r.anchors is None)
        self._needles: ahocorasick.Automaton | None = None
        if needle_list:
            self._needles = ahocorasick.Automaton()
            for needle in needle_list:
                # (the rules the anchor makes candidates, each with which of its patterns (bits, -1: all),
                # its length, the rules it does only where it stands between the word boundaries they
                # need, grouped by which, and the masks it may make blank something)
                anywhere: list[tuple[int, int]] = []
                bounded: dict[tuple[bool, bool], list[tuple[int, int]]] = {}
                for i, r in enumerate(self._rules):
                    if r.anchors is not None and needle in r.anchors:
                        candidate = (i, r.needs.get(needle, -1))
                        if needle in r.bounds:
                            bounded.setdefault(r.bounds[needle], []).append(candidate)
                        else:
                            anywhere.append(candidate)
                self._needles.add_word(needle, (tuple(anywhere), len(needle), tuple(
                    (left, right, tuple(rules)) for (left, right), rules in bounded.items()),
                    tuple(mask_needles.get(needle, ()))))
            self._needles.make_automaton()
        # what the loop over a title's candidate rules reads of each, as one tuple (a title tries ~9)
        self._steps = tuple((bool(r.entry.patterns), r.mask, r.on_title, r.on_body, r.entry.weight, r.key,
                             r.entry.id) for r in self._rules)
        # Expressions are compiled when a text first needs them, not here: a pass that classifies a few
        # hundred new titles needs a third of the rules, and a classifier read back from the cache
        # (`load_classifier`) then costs ~0.02 s instead of ~0.3 s. The file was checked as it was built.
        self._mask_sources = list(masks)  # (in index order: 0 is the empty exclusion)
        self._masks: list[re.Pattern[str] | None] = [None] * len(masks)
        self._compiled: list[re.Pattern[str] | None] = [None] * len(self._rules)
        self._scoped = tuple((i, frozenset(r.entry.sources)) for i, r in enumerate(self._rules) if r.entry.sources)
        self._elsewhere: dict[tuple[str, str], frozenset[int]] = {}
        self._every = tuple((1 << len(r.entry.patterns)) - 1 for r in self._rules)  # all of a rule's patterns
        self._some: dict[tuple[int, int], tuple[re.Pattern[str], ...]] = {}  # (rule, which): those patterns
        self._alone: dict[str, re.Pattern[str]] = {}  # a pattern compiled alone, once a text needs it

    def __getstate__(self) -> dict[str, object]:
        """What is kept in the cache: the built classifier, without what is compiled or learnt in use."""
        state = dict(vars(self))
        state.update(_masks=[None] * len(self._masks), _compiled=[None] * len(self._compiled), _some={}, _alone={},
                     _elsewhere={})
        return state

    def _mask(self, mask: int) -> re.Pattern[str]:
        found = self._masks[mask] = self._masks[mask] or _alternation(self._mask_sources[mask])
        return found

    def _rule_pattern(self, index: int) -> re.Pattern[str]:
        found = self._compiled[index] = self._compiled[index] or _alternation(self._rules[index].entry.patterns)
        return found

    def _patterns(self, index: int, which: int) -> tuple[re.Pattern[str], ...]:
        """Of a rule, only the patterns whose anchors the text holds (bits of `which`), each compiled alone
        on first use: a rule of thirty patterns (tag-personal-information) is searched for the one or two
        a title can match, not all thirty at every position. (Alone, not as an alternation of the few: the
        choices are many, and a one-off `regwatch classify` would spend more compiling them than it saves.)"""
        found = self._some.get((index, which))
        if found is None:
            if len(self._some) >= 4096:  # (titles pick few choices; a flood of odd ones must not pile up)
                self._some.clear()
            found = self._some[(index, which)] = tuple(
                self._alone.get(pattern) or self._alone.setdefault(pattern, _alternation([pattern]))
                for j, pattern in enumerate(self._rules[index].entry.patterns) if which >> j & 1)
        return found

    def _scoped_elsewhere(self, source: str, agency: str) -> frozenset[int]:
        """The rules scoped to other sources and agencies than these: set aside in one step per title, not
        tested one by one (a third of a title's candidates were), and worked out once per source."""
        key = (source, agency)
        found = self._elsewhere.get(key)
        if found is None:
            if len(self._elsewhere) >= 4096:  # (sources are few; arbitrary ones from a file must not pile up)
                self._elsewhere.clear()
            found = self._elsewhere[key] = frozenset(
                i for i, scope in self._scoped if source not in scope and agency not in scope)
        return found

    def notes(self) -> dict[str, str]:
        """Each rule's note, for explanations."""
        return {rule.entry.id: rule.entry.note for rule in self._rules}

    def classify(self, title: str, body: str = "", source: str = "", agency: str = "") -> Verdict:
        """The verdict for one notice (title, optional body, and its source id and agency for priors)."""
        scores: dict[tuple[str, str], float] = {}
        fired: list[tuple[float, str]] = []
        title = half_width(title[:TITLE_CHARS])
        body = half_width(body[: self.scoring.body_chars])
        body_weight = self.scoring.body_weight
        texts: list[tuple[str, str] | None] = [(title, body)] + [None] * (len(self._masks) - 1)
        candidates = dict.fromkeys(self._always, -1)  # rule → which of its patterns can match (-1: all)
        blanking: set[int] | None = None  # the masks whose anchors the text holds (None: any may blank)
        if self._needles is not None:
            blanking = set(self._masks_always)
            text = _lower(f"{title}\n{body}")
            exact: bool | None = None  # whether the lower-cased text's characters stand as the original's
            inside_words: set[int] = set()  # rules whose bounded anchors this text holds only inside words
            for end, (anywhere, length, bounded, masks) in self._needles.iter(text):
                if masks:
                    blanking.update(masks)
                for index, which in anywhere:
                    candidates[index] = candidates.get(index, 0) | which
                for left, right, bounded_indexes in bounded:
                    start = end - length + 1
                    if (left and start and text[start - 1] in _ASCII_WORD) or (
                            right and end + 1 < len(text) and text[end + 1] in _ASCII_WORD):
                        if exact is None:
                            exact = not _LOWERS_TO_WORD.search(title) and not _LOWERS_TO_WORD.search(body)
                        if exact:  # inside a word: no match of these rules can be made of it …
                            inside_words.update(index for index, _ in bounded_indexes)
                            continue
                    for index, which in bounded_indexes:
                        candidates[index] = candidates.get(index, 0) | which
            for index in inside_words:  # … unless blanking an exclusion out makes a boundary: all its patterns
                mask = self._steps[index][1]
                if mask and candidates.get(index) != -1 and mask in blanking and (
                        (exclusion := self._mask(mask)).search(title) or (body and exclusion.search(body))):
                    candidates[index] = -1
        if self._scoped:
            for index in self._scoped_elsewhere(source, agency).intersection(candidates):
                del candidates[index]
        for index in sorted(candidates):
            patterned, mask, on_title, on_body, weight, key, rule_id = self._steps[index]
            if not patterned:
                score = weight
            else:
                masked = texts[mask]
                if masked is None:
                    if blanking is None or mask in blanking:
                        exclusion = self._mask(mask)
                        masked = (exclusion.sub("□", title), exclusion.sub("□", body) if body else "")
                    else:
                        masked = (title, body)
                    texts[mask] = masked
                if (which := candidates[index]) == -1 or which == self._every[index]:
                    pattern = self._compiled[index] or self._rule_pattern(index)
                    score = weight if on_title and pattern.search(masked[0]) else 0.0
                    if on_body and body and pattern.search(masked[1]):
                        score += weight * body_weight
                else:
                    score = 0.0
                    some = self._patterns(index, which)
                    for alone in some:
                        if on_title and alone.search(masked[0]):
                            score = weight
                            break
                    if on_body and body:
                        for alone in some:
                            if alone.search(masked[1]):
                                score += weight * body_weight
                                break
                if not score:
                    continue
            scores[key] = scores.get(key, 0.0) + score
            fired.append((score, rule_id))
        if withdrawn := {o for _, rule_id in fired if rule_id in self._overrides for o in self._overrides[rule_id]}:
            for score, rule_id in fired:
                if rule_id in withdrawn:
                    key = self._keys[rule_id]
                    if (left := scores[key] - score) > 1e-9:
                        scores[key] = left
                    else:
                        del scores[key]
            fired = [f for f in fired if f[1] not in withdrawn]
        return self._verdict(scores, fired, title)

    def _verdict(self, scores: dict[tuple[str, str], float], fired: list[tuple[float, str]],
                 title: str) -> Verdict:
        s = self.scoring
        category_scores: dict[str, float] = {}
        tags: list[str] = []
        best_category: tuple[float, str] | None = None  # the highest (score, value) over its minimum
        best_doc_type: tuple[float, str] | None = None
        for (kind, value), score in scores.items():  # one pass over the scores, not one per kind
            if kind == "category":
                category_scores[value] = round(score, 3)
                if score >= s.category_min and (best_category is None or (score, value) > best_category):
                    best_category = (score, value)
            elif kind == "tag":
                if score >= s.tag_min:
                    tags.append(value)
            elif kind == "doc_type" and score >= 0.5 and (best_doc_type is None or (score, value) > best_doc_type):
                best_doc_type = (score, value)
        category = best_category[1] if best_category else ""
        doc_type = best_doc_type[1] if best_doc_type else s.default_doc_type
        tags.sort(key=_TAG_ORDER.__getitem__)
        status = "draft" if scores.get(("status", "draft"), 0) > scores.get(("status", "final"), 0) else "final"
        fired.sort(key=itemgetter(0), reverse=True)  # strongest first; a stable sort keeps ties in rule order
        rules = [rule_id for _, rule_id in fired]
        if category_scores.get(s.where_category, 0.0) >= s.where_min:
            category = s.where_category
        if category:  # rules decided: as sure as the winner's share of it and the strongest other category
            won = category_scores[category]
            runner_up = 0.0  # (the strongest other category's score, if above 0: a loop over one to three)
            for other, score in category_scores.items():
                if other != category and score > runner_up:
                    runner_up = score
            confidence = won / (won + runner_up)
            if category == s.where_category:  # where decides; the acts only say how sure
                confidence = max(confidence, min(1.0, won / (2 * s.where_min)))
        else:  # no rule speaks to the category: ask the model, else the default (never sure)
            category, confidence = s.default_category, 0.0
            if self.model is not None:  # never a category the rules ruled out (a Chinese body is not foreign)
                guess = self.model.predict(title, exclude={c for c, v in category_scores.items() if v < 0})
                if guess.probability >= s.model_min:
                    category, confidence = guess.category, guess.probability
                    rules.append(f"model:{guess.category} {guess.probability:.2f} "
                                 f"({', '.join(guess.strongest[:3])})")
                elif guess.category == s.default_category:
                    confidence = guess.probability
        return Verdict(category=category, tags=tags, doc_type=doc_type, status=status, rules=rules,
                       version=self.version, scores=category_scores, confidence=round(confidence, 3),
                       review=confidence < s.review_below)
