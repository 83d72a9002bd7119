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
from typing import BinaryIO

from .classify import load_classifier
from .store.classification import title_facts


def main(argv: list[str]) -> int:
    """Read pages of titles as JSON lines, answer each with its titles' facts, until the input ends."""
    classifier = load_classifier(Path(argv[0]) if argv and argv[0] else None)
    answers = answer_pipe()
    answers.write(b'{"ready": true}\n')  # the rules loaded (the pass need not check them)
    answers.flush()
    for line in sys.stdin:
        page = json.loads(line)
        facts = [title_facts(title, page["source"], page["agency"], classifier.classify) for title in page["titles"]]
        answers.write(json.dumps({"n": page["n"], "facts": [(f.verdict, f.instrument) for f in facts]},
                                 ensure_ascii=False).encode() + b"\n")
        answers.flush()
    return 0


def answer_pipe() -> BinaryIO:
    """Standard output as a buffered binary file of its own. Under PYTHONUNBUFFERED (the systemd unit sets
    it) sys.stdout writes straight to the pipe and ignores a short write: an answer longer than the pipe
    writes atomically (4 KB) lost its tail whenever the child was stopped mid-write (SIGSTOP, a freeze,
    py-spy, a debugger). A buffered writer writes what is left."""
    return open(sys.stdout.fileno(), "wb", closefd=False)


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
