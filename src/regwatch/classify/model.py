"""A small learned model for the titles no category rule speaks to.

Rules are precise and explainable, but silent on kinds of titles nobody wrote a rule for; such a
title used to fall to News Reports. This model (a linear model over character n-grams of Chinese
and words of English, trained offline by `python -m tests.train_fallback` with scikit-learn, which
the daemon never imports) is asked only then. Its weights ship as `model.tsv` (one feature a line,
read a line at a time into one array per category: parsed as one JSON document they held 3.5 MB of
the service's memory for good, read this way 0.6 MB); scoring is a few lookups in pure Python.
"""

from __future__ import annotations

import math
import re
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from typing import cast

_CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
_WORD = re.compile(r"[a-z][a-z'’-]+")


def _feature_parts(title: str) -> tuple[list[str], list[str]]:
    """A title's features in two lists: its Chinese character n-grams as they are (the model keys them
    without the `c:` its file gives them: no formatting of ~70 strings per title), and the rest in full."""
    runs = _CJK_RUN.findall(title)
    grams: list[str] = []
    for run in runs:
        grams += run  # (its characters)
        grams += [run[i:i + 2] for i in range(len(run) - 1)]
        grams += [run[i:i + 3] for i in range(len(run) - 2)]
    words = _WORD.findall(title.lower())
    rest = ["lang:zh" if runs else "lang:en"]  # each language its own baseline, not the majority's
    rest += [f"w:{w}" for w in words]
    rest += [f"w:{a} {b}" for a, b in pairwise(words)]
    return grams, rest


def features(title: str) -> list[str]:
    """What the model sees: the script, character 1–3-grams of each run of Chinese, words and word pairs."""
    grams, rest = _feature_parts(title)
    return [rest[0], *(f"c:{gram}" for gram in grams), *rest[1:]]


def _key(feature: str) -> str:
    """How the model keys a feature: a Chinese n-gram bare (it holds no `:`; every other feature does)."""
    return feature[2:] if feature.startswith("c:") else feature


def _feature_name(key: str) -> str:
    return key if ":" in key else f"c:{key}"


@dataclass(frozen=True)
class Prediction:
    category: str
    probability: float
    _weights: Sequence[float] = field(repr=False)  # the category's weight for each feature row
    _rows: set[int] = field(repr=False)  # the rows of the title's features the model knows
    _keys: Sequence[str] = field(repr=False)  # each row's feature key

    @property
    def strongest(self) -> list[str]:
        """The features that pushed most towards the category, for --explain: sorted only when asked (the
        rules decide most titles the model is asked about, and then no one reads them)."""
        weights, keys = self._weights, self._keys
        ranked = sorted((-weights[row], _feature_name(keys[row])) for row in self._rows)
        return [name for _, name in ranked[:5]]


class FallbackModel:
    def __init__(self, version: str, classes: list[str], bias: list[float],
                 weights: Iterable[tuple[str, Sequence[float]]]) -> None:
        self.version = version
        self.classes = classes
        self.bias = bias
        # A feature's row number, and one array of weights per class: a title's score for a class is
        # one C-level sum over its features' rows (a dict of float objects per class took 5× the memory).
        self._rows: dict[str, int] = {}
        self._columns = [array("d") for _ in classes]
        for feature, row in weights:
            self._rows[_key(feature)] = len(self._rows)
            for column, weight in zip(self._columns, row, strict=True):
                column.append(weight)
        self._keys = list(self._rows)  # (the dict's own strings: a row's key for explanations)

    @classmethod
    def from_export(cls, data: dict) -> FallbackModel:
        """A model from the trainer's export (`weights`: feature → one weight per class)."""
        return cls(data["version"], data["classes"], data["bias"], data["weights"].items())

    def predict(self, title: str, exclude: set[str] | frozenset[str] = frozenset()) -> Prediction:
        """The likeliest category but those in `exclude`, with its probability among all categories."""
        grams, rest = _feature_parts(title)
        row_of = self._rows.get
        found: set[int | None] = set(map(row_of, grams))
        found.update(map(row_of, rest))
        found.discard(None)
        rows = cast("set[int]", found)  # (each known feature's row, once: the model was trained on presence)
        scores = [bias + sum(map(column.__getitem__, rows))
                  for bias, column in zip(self.bias, self._columns, strict=True)]
        top = max(scores)
        exps = [math.exp(s - top) for s in scores]
        allowed = [i for i, c in enumerate(self.classes) if c not in exclude] or list(range(len(scores)))
        best = max(allowed, key=scores.__getitem__)
        return Prediction(self.classes[best], exps[best] / sum(exps), self._columns[best], rows, self._keys)


def dump_model(data: dict) -> str:
    """The trainer's export as the shipped file: `version`, `classes` and `bias` lines, then one line per
    feature with its weight for each class, tab-separated (features hold no tabs: see `features`)."""
    lines = [f"version\t{data['version']}", "\t".join(["classes", *data["classes"]]),
             "\t".join(["bias", *map(str, data["bias"])])]
    lines.extend("\t".join([feature, *map(str, row)]) for feature, row in data["weights"].items())
    return "\n".join(lines) + "\n"


def read_model(path: Path) -> FallbackModel:
    """A model from its file, a line at a time (so no transient copy of every weight as an object)."""
    with path.open(encoding="utf-8") as lines:
        header = {key: values for key, *values in (next(lines).rstrip("\n").split("\t") for _ in range(3))}
        rows = ((feature, [float(w) for w in ws]) for feature, *ws in (line.rstrip("\n").split("\t") for line in lines))
        return FallbackModel(header["version"][0], header["classes"], [float(b) for b in header["bias"]], rows)


MODEL_PATH = Path(__file__).with_name("model.tsv")


@cache
def shipped_model() -> FallbackModel | None:
    """The model shipped beside the rules (None if it is not there: the rules then stand alone)."""
    if not MODEL_PATH.exists():
        return None
    return read_model(MODEL_PATH)
