"""Train the fallback model (dev only: needs scikit-learn): `python -m tests.train_fallback`.

Data: the column-labelled titles (tests/data/column_titles.tsv, and shared/data/titles when present)
and the tune split of the project's labelled titles (its held-out split stays out). First it reports an
honest figure: trained on some source columns and tested on the others (whole columns held out, never a random split of
templated titles), for the model alone and for the rules with the model behind them. Then it trains
on everything and writes src/regwatch/classify/model.tsv (the strongest features only).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections import Counter
from pathlib import Path

from regwatch.classify import CATEGORIES, Classifier
from regwatch.classify.model import MODEL_PATH, FallbackModel, dump_model, features

from .classify_eval import load, load_columns

KEEP_FEATURES = 6000


def examples() -> list[tuple[str, str, str]]:
    """(title, category, group) where group is the source column (what a held-out split keeps together)."""
    rows = [(e.title, e.category, f"labelled:{e.source}") for e in load("tune")]
    rows += [(t.title, t.category, f"{t.agency}:{t.column}") for t in load_columns()]
    return rows


def fit(rows: list[tuple[str, str, str]]):  # type: ignore[no-untyped-def]
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = CountVectorizer(analyzer=features, binary=True, min_df=2)
    matrix = vectorizer.fit_transform([t for t, _, _ in rows])
    model = LogisticRegression(C=2.0, max_iter=3000, class_weight="balanced")
    model.fit(matrix, [c for _, c, _ in rows])
    return vectorizer, model


def export(vectorizer, model) -> dict:  # type: ignore[no-untyped-def]
    names = vectorizer.get_feature_names_out()
    classes = [str(c) for c in model.classes_]
    weights = model.coef_.T  # features × classes
    strongest = sorted(range(len(names)), key=lambda i: -abs(weights[i]).max())[:KEEP_FEATURES]
    digest = hashlib.sha256(json.dumps(sorted(names[i] for i in strongest)).encode()).hexdigest()[:8]
    return {"version": f"fallback-{digest}", "classes": classes,
            "bias": [round(float(b), 4) for b in model.intercept_],
            "weights": {str(names[i]): [round(float(w), 4) for w in weights[i]] for i in strongest}}


def held_out_columns(rows: list[tuple[str, str, str]]) -> set[str]:
    groups = sorted({g for _, _, g in rows})
    return {g for g in groups if int(hashlib.sha256(g.encode()).hexdigest()[:8], 16) % 4 == 0}


def dates() -> dict[str, str]:
    """The date of each column-labelled title (YYYY-MM-DD, or absent), for the split by date."""
    return {t.title: t.date for t in load_columns() if t.date}


def report(title: str, train: list[tuple[str, str, str]], test: list[tuple[str, str, str]]) -> None:
    """Train on one part, test on the other: the model alone, the rules alone, the rules with the model."""
    vectorizer, model = fit(train)
    fallback = FallbackModel.from_export(export(vectorizer, model))
    rules_only, with_model = Classifier(), Classifier()
    rules_only.model = None
    with_model.model = fallback
    counts = Counter(c for _, c, _ in test)
    print(f"{title}: {len(test)} titles {dict(counts)}")
    for name, score in (("model alone", lambda t: fallback.predict(t).category),
                        ("rules alone", lambda t: rules_only.classify(t).category),
                        ("rules + model", lambda t: with_model.classify(t).category)):
        right = Counter(c for t, c, _ in test if score(t) == c)
        per = "  ".join(f"{c[:5]} {right[c] / counts[c]:.2f}" for c in CATEGORIES if counts[c])
        print(f"{name:<14} accuracy {sum(right.values()) / len(test):.3f}   {per}")
    for label, key in (("by language", lambda t, g: "zh" if any("\u3400" <= ch <= "\u9fff" for ch in t) else "en"),
                       ("by agency", lambda t, g: g.split(":")[0])):
        groups = Counter(key(t, g) for t, _, g in test)
        right = Counter(key(t, g) for t, c, g in test if with_model.classify(t).category == c)
        print(f"rules + model, {label}: " + "  ".join(f"{k} {right[k] / n:.2f} ({n})" for k, n in groups.most_common()))


def main() -> None:
    rows = examples()
    test_groups = held_out_columns(rows)
    report(f"held-out columns ({len(test_groups)} of {len({g for _, _, g in rows})})",
           [r for r in rows if r[2] not in test_groups], [r for r in rows if r[2] in test_groups])
    dated = dates()
    report("held out by date (trained on titles before 2024 and undated ones, tested on 2024 and later)",
           [r for r in rows if dated.get(r[0], "") < "2024"], [r for r in rows if dated.get(r[0], "") >= "2024"])
    if "--write" in sys.argv:
        vectorizer, model = fit(rows)
        data = export(vectorizer, model)
        Path(MODEL_PATH).write_text(dump_model(data), encoding="utf-8")
        print(f"wrote {MODEL_PATH} ({MODEL_PATH.stat().st_size // 1024} KB, {len(data['weights'])} features)")


if __name__ == "__main__":
    main()
