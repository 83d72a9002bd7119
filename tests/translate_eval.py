"""How well the glossary glosses real titles: `python -m tests.translate_eval` (chrF needs `pip install '.[train]'`).

Coverage (the share of titles the glossary reads to the last character, and of Chinese characters read)
on the labelled titles and, when present, the shared titles; chrF (sacrebleu) of the glosses against the
English that bulletins wrote for the same notices (tests/data/title_translations.tsv).
"""

from __future__ import annotations

from pathlib import Path

from regwatch.translate import glossary

from .classify_eval import SHARED_TITLES, load

PAIRS = Path(__file__).parent / "data" / "title_translations.tsv"


def coverage(titles: list[str]) -> tuple[int, float, float]:
    words = glossary()
    glosses = [words.gloss(t) for t in titles]
    full = sum(g.covered == 1.0 for g in glosses) / len(titles)
    return len(titles), full, sum(g.covered for g in glosses) / len(titles)


def pairs() -> list[tuple[str, str, str]]:
    rows = [line.split("\t") for line in PAIRS.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
    return [(source, zh, en) for source, zh, en in rows]


def main() -> None:
    chinese = lambda t: any("\u4e00" <= c <= "\u9fff" for c in t)  # noqa: E731
    labelled = [e.title for e in load("all") if chinese(e.title)]
    n, full, chars = coverage(labelled)
    print(f"labelled titles: {n}, fully covered {full:.3f}, Chinese characters covered {chars:.3f}")
    if SHARED_TITLES.exists():
        lines = SHARED_TITLES.read_text(encoding="utf-8").splitlines()[1:]
        shared = [line.split("\t")[4] for line in lines if line.startswith("zh\t")]
        n, full, chars = coverage(shared)
        print(f"shared titles: {n}, fully covered {full:.3f}, Chinese characters covered {chars:.3f}")
    try:
        from sacrebleu.metrics import CHRF
    except ImportError:
        print("chrF: install sacrebleu (pip install '.[train]')")
        return
    rows = pairs()
    words = glossary()
    hypotheses = [words.gloss(zh).text for _, zh, _ in rows]
    score = CHRF().corpus_score(hypotheses, [[en for _, _, en in rows]])
    print(f"chrF against bulletin English ({len(rows)} titles): {score.score:.1f}")


if __name__ == "__main__":
    main()
