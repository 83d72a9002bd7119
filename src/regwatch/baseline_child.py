"""The baseline helper's child process (`python -m regwatch.baseline_child [RULES]`; baseline_classifier.py
is the side that talks to it): it builds the classifier, says so, then answers each page of titles with
what the store needs of each. It imports only that much — no event loop, no config, no store — because a
cold pass waits for its first answer."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from .classify import Classifier
from .store.classification import title_facts


def main(argv: list[str]) -> int:
    """Read pages of titles as JSON lines, answer each with its titles' facts, until the input ends."""
    classifier = Classifier(Path(argv[0]) if argv and argv[0] else None)
    sys.stdout.write(json.dumps({"ready": True}) + "\n")  # the rules loaded (the pass need not check them)
    sys.stdout.flush()
    for line in sys.stdin:
        page = json.loads(line)
        facts = [title_facts(title, page["source"], page["agency"], classifier.classify) for title in page["titles"]]
        sys.stdout.write(json.dumps({"n": page["n"], "facts": [(f.verdict, f.instrument) for f in facts]},
                                    ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


def run(argv: list[str]) -> int:
    """`main`, ending quietly when the pass it answers has gone (a broken pipe, not a traceback on the
    stderr it shares with that pass's process), and left to its pass when Ctrl-C reaches both."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the pass, which ends this child (stdin closes)
    try:
        return main(argv)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # (the exit's flush would fail again)
        return 1


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
