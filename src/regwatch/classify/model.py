"""A small learned model for the titles no category rule speaks to.

Rules are precise and explainable, but silent on kinds of titles nobody wrote a rule for; such a
title used to fall to News Reports. This model (a linear model over character n-grams of Chinese
and words of English, trained offline by `python -m tests.train_fallback` with scikit-learn, which
the daemon never imports) is asked only then. Its weights ship as `model.json`; scoring is a few
dictionary lookups in pure Python, so start-up and memory stay as they were.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import cache
from itertools import pairwise, repeat
from pathlib import Path

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z][a-z'’-]+")


def features(title: str) -> list[str]:
    """What the model sees: the script, character 1–3-grams of each run of Chinese, words and word pairs."""
    runs = _CJK_RUN.findall(title)
    out: list[str] = ["lang:zh" if runs else "lang:en"]  # each language its own baseline, not the majority's
    for run in runs:
        for n in (1, 2, 3):
            out.extend(f"c:{run[i:i + n]}" for i in range(len(run) - n + 1))
    words = _WORD.findall(title.lower())
    out.extend(f"w:{w}" for w in words)
    out.extend(f"w:{a} {b}" for a, b in pairwise(words))
    return out


@dataclass(frozen=True)
class Prediction:
    category: str
    probability: float
    strongest: list[str]  # the features that pushed most towards the category, for --explain


class FallbackModel:
    def __init__(self, data: dict) -> None:
        self.version: str = data["version"]
        self.classes: list[str] = data["classes"]
        self.bias: list[float] = data["bias"]
        self.weights: dict[str, list[float]] = data["weights"]
        # One dict per class, so a title's score is one C-level sum per class (not a list per feature).
        self._by_class = [{f: row[k] for f, row in self.weights.items()} for k in range(len(self.classes))]

    def predict(self, title: str, exclude: set[str] | frozenset[str] = frozenset()) -> Prediction:
        """The likeliest category but those in `exclude`, with its probability among all categories."""
        present = set(features(title))
        scores = [bias + sum(map(weights.get, present, repeat(0.0)))
                  for bias, weights in zip(self.bias, self._by_class, strict=True)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        allowed = [i for i, c in enumerate(self.classes) if c not in exclude] or list(range(len(scores)))
        best = max(allowed, key=scores.__getitem__)
        weights = self._by_class[best]
        strongest = sorted((f for f in present if f in weights), key=lambda f: (-weights[f], f))[:5]
        return Prediction(self.classes[best], exps[best] / sum(exps), strongest)


MODEL_PATH = Path(__file__).with_name("model.json")


@cache
def shipped_model() -> FallbackModel | None:
    """The model shipped beside the rules (None if it is not there: the rules then stand alone)."""
    if not MODEL_PATH.exists():
        return None
    return FallbackModel(json.loads(MODEL_PATH.read_text(encoding="utf-8")))
