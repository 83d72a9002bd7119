"""Evaluate the classifier on the hand-labelled titles: `python -m tests.classify_eval [tune|heldout|all]`.

`python -m tests.classify_eval columns` scores the category of the column-labelled titles
(tests/data/column_titles.tsv, and shared/data/titles when present) per agency column.

`python -m tests.classify_eval memorised` lists the category and tag rules whose patterns match at most
one title of the labelled set and of shared/data/titles (when present): phrases lifted from single
titles, which say nothing about titles nobody has seen.

The held-out part (about 30 %, chosen by a hash of each title, so nobody picks it) is never used to
tune rules; the README reports its figures.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from regwatch.classify import CATEGORIES, Classifier

DATA = Path(__file__).parent / "data" / "labelled_titles.tsv"
CODES = {"L": "Legislation", "E": "Law Enforcement", "C": "Court Rulings", "N": "News Reports", "F": "Foreign Trends"}
AGENCIES = {"cac": "CAC", "miit": "MIIT", "pbc": "PBC", "samr": "SAMR"}


@dataclass(frozen=True)
class Example:
    source: str
    category: str
    tags: frozenset[str]
    title: str

    @property
    def held_out(self) -> bool:
        return int(hashlib.sha256(self.title.encode()).hexdigest()[:8], 16) % 10 < 3

    @property
    def agency(self) -> str:
        return AGENCIES.get(self.source.split("-")[0], "")


def load(split: str = "all") -> list[Example]:
    examples = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        source, code, tags, title = line.split("\t")
        examples.append(Example(source, CODES[code], frozenset(t for t in tags.split(",") if t), title))
    if split == "tune":
        return [e for e in examples if not e.held_out]
    if split == "heldout":
        return [e for e in examples if e.held_out]
    return examples


@dataclass
class Report:
    n: int
    accuracy: float
    macro_f1: float
    tag_precision: float
    tag_recall: float
    tag_f1: float
    per_category: dict[str, tuple[float, float, float, int]]  # precision, recall, f1, support
    errors: list[str]


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(examples: list[Example], classifier: Classifier | None = None, with_source: bool = True) -> Report:
    """Scores with the source known (its id and agency give the rules' priors) or from the title alone."""
    classifier = classifier or Classifier()
    predicted = [classifier.classify(e.title, source=e.source if with_source else "",
                                     agency=e.agency if with_source else "") for e in examples]
    per_category = {}
    for category in CATEGORIES:
        tp = sum(1 for e, v in zip(examples, predicted, strict=True) if e.category == v.category == category)
        predicted_n = sum(1 for v in predicted if v.category == category)
        gold_n = sum(1 for e in examples if e.category == category)
        if gold_n or predicted_n:
            p = tp / predicted_n if predicted_n else 0.0
            r = tp / gold_n if gold_n else 0.0
            per_category[category] = (p, r, _f1(p, r), gold_n)
    present = [c for c, (_, _, _, support) in per_category.items() if support]
    tag_tp = sum(len(e.tags & set(v.tags)) for e, v in zip(examples, predicted, strict=True))
    tag_pred = sum(len(v.tags) for v in predicted)
    tag_gold = sum(len(e.tags) for e in examples)
    tp_, tr_ = (tag_tp / tag_pred if tag_pred else 0.0), (tag_tp / tag_gold if tag_gold else 0.0)
    errors = []
    for e, v in zip(examples, predicted, strict=True):
        if e.category != v.category or e.tags != set(v.tags):
            errors.append(f"{e.category[:11]:<11} → {v.category[:11]:<11} tags {sorted(e.tags)} → {v.tags}  "
                          f"{e.title[:70]}  [{', '.join(v.rules[:4])}]")
    return Report(
        n=len(examples),
        accuracy=sum(1 for e, v in zip(examples, predicted, strict=True) if e.category == v.category) / len(examples),
        macro_f1=sum(per_category[c][2] for c in present) / len(present),
        tag_precision=tp_, tag_recall=tr_, tag_f1=_f1(tp_, tr_), per_category=per_category, errors=errors,
    )


def main(split: str = "heldout", show_errors: bool = False) -> None:
    report = evaluate(load(split))
    print(f"split: {split}, {report.n} titles, rules version {Classifier().version}")
    print(f"{'category':<16} {'precision':>9} {'recall':>7} {'F1':>6} {'support':>8}")
    for category, (p, r, f, support) in report.per_category.items():
        print(f"{category:<16} {p:>9.3f} {r:>7.3f} {f:>6.3f} {support:>8}")
    print(f"accuracy {report.accuracy:.3f}   macro-F1 {report.macro_f1:.3f}   "
          f"tag micro-P {report.tag_precision:.3f} R {report.tag_recall:.3f} F1 {report.tag_f1:.3f}")
    title_only = evaluate(load(split), with_source=False)
    print(f"title only (no source prior): accuracy {title_only.accuracy:.3f}   macro-F1 {title_only.macro_f1:.3f}   "
          f"tag F1 {title_only.tag_f1:.3f}")
    if show_errors:
        print("\n".join(report.errors))


SHARED_TITLES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "titles" / "titles.tsv"
COLUMN_TITLES = Path(__file__).parent / "data" / "column_titles.tsv"


@dataclass(frozen=True)
class ColumnTitle:
    """A title labelled by the column it was listed in (category only), as in shared/data/titles."""

    lang: str
    agency: str
    column: str
    date: str
    title: str
    category: str


def load_columns(include_shared: bool = True) -> list[ColumnTitle]:
    """The project's column-labelled titles, then shared/data/titles' (when present and asked for)."""
    files = [COLUMN_TITLES] + ([SHARED_TITLES] if include_shared and SHARED_TITLES.exists() else [])
    found = []
    for path in files:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
        header = lines[0].split("\t")
        for line in lines[1:]:
            record = dict(zip(header, line.split("\t"), strict=False))
            found.append(ColumnTitle(record["lang"], record["agency"], record["column"], record["date"],
                                     record["title"], record["category"]))
    return found


def by_column(titles: list[ColumnTitle], classifier: Classifier | None = None) -> dict[str, tuple[int, int]]:
    """(right, total) of the category per `agency: column`, titles alone (no source prior)."""
    classifier = classifier or Classifier()
    scores: dict[str, tuple[int, int]] = {}
    for t in titles:
        right, total = scores.get(f"{t.agency}: {t.column}", (0, 0))
        scores[f"{t.agency}: {t.column}"] = (right + (classifier.classify(t.title).category == t.category), total + 1)
    return scores


def memorised(limit: int = 1) -> list[tuple[str, str, int]]:
    """(rule id, pattern, titles matched) for each category or tag pattern matching at most `limit` known titles."""
    titles = [e.title for e in load("all")] + [t.title for t in load_columns()]
    classifier = Classifier()
    found = []
    for rule in classifier._rules:
        if rule.entry.sets not in ("category", "tag"):
            continue
        for pattern in rule.entry.patterns:
            compiled = re.compile(pattern, re.I)
            hits = sum(1 for title in titles if compiled.search(title))
            if hits <= limit:
                found.append((rule.entry.id, pattern, hits))
    return found


def columns_report(include_shared: bool = True) -> None:
    scores = by_column(load_columns(include_shared))
    right, total = sum(r for r, _ in scores.values()), sum(n for _, n in scores.values())
    print(f"column-labelled titles: {total} in {len(scores)} columns, category accuracy {right / total:.3f}")
    for column, (r, n) in sorted(scores.items(), key=lambda item: item[1][0] / item[1][1]):
        print(f"  {r / n:.3f}  {r:>4}/{n:<4}  {column}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "columns":
        columns_report()
    elif len(sys.argv) > 1 and sys.argv[1] == "memorised":
        weak = memorised()
        total = sum(len(r.entry.patterns) for r in Classifier()._rules if r.entry.sets in ("category", "tag"))
        print(f"{len(weak)} of {total} category/tag patterns match at most one known title:")
        print("\n".join(f"  {hits}  {rule_id}: {pattern}" for rule_id, pattern, hits in weak))
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else "heldout", "--errors" in sys.argv)
