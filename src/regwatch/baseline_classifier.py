"""Classifying a big baseline beside the pass, on the machine's other core.

A first pass over many sources stores thousands of baseline notices; classifying each inside the poll
costs most of the pass's CPU, and the poll runs on one core (one event loop). So such a pass stores them
unclassified and hands each (id, title, source, agency) to a child process (`python -m
regwatch.baseline_classifier [RULES]`), which sends the verdicts back while the pass goes on; the pass
writes them (it stays the store's only writer: a second writer would wait for its long transactions).
Nothing alerts on a baseline, and the pass does not end before every notice has its verdict: when the
polls are done the child is told so and finishes, and whatever it did not answer (it crashed, it was
slow) is classified by the pass itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import sys
from pathlib import Path

from .classify import Classifier, Verdict
from .config import Config
from .store.classification import store_deferred_verdicts, unclassified

log = logging.getLogger(__name__)
BATCH = 200  # verdicts per write
WORTH_IT = 20  # baselines in a pass before a helper process pays for its start-up
WAIT_SECONDS = 120.0
CHILD = (sys.executable, "-m", "regwatch.baseline_classifier")  # the helper's command (+ the rules file)


def classify_pending(conn: sqlite3.Connection, classifier: Classifier) -> int:
    """Classify every notice still without a verdict, here; returns how many."""
    done = 0
    while rows := unclassified(conn, BATCH):
        store_deferred_verdicts(conn, [(notice_id, classifier.classify(title, body, source_id, agency))
                                       for notice_id, title, body, source_id, agency in rows])
        done += len(rows)
    return done


class Helper:
    """The child process of one pass, or none (`active` False: the pass classifies as it stores)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.child: asyncio.subprocess.Process | None = None
        self.collector: asyncio.Task[None] | None = None
        self.answers: list[tuple[int, Verdict]] = []

    @classmethod
    async def start(cls, config: Config, conn: sqlite3.Connection, baselines: int) -> Helper:
        helper = cls(conn)
        if baselines < WORTH_IT:
            return helper
        rules = str(Path(config.classify.rules).expanduser()) if config.classify.rules else ""
        try:
            helper.child = await asyncio.create_subprocess_exec(
                *CHILD, rules,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 20)
        except OSError as exc:
            log.warning("baseline classifier not started (%s): the pass classifies its baseline itself", exc)
            return helper
        helper.collector = asyncio.create_task(helper._collect())
        return helper

    @property
    def active(self) -> bool:
        return self.child is not None

    def submit(self, source_id: str, agency: str, notices: list[tuple[int, str]]) -> None:
        """Notices just stored unclassified (committed or not: the verdicts are written by this process)."""
        if self.child is None or self.child.stdin is None or self.child.stdin.is_closing():
            return
        self.child.stdin.write("".join(
            json.dumps({"id": notice_id, "title": title, "source": source_id, "agency": agency},
                       ensure_ascii=False) + "\n" for notice_id, title in notices).encode())

    async def _collect(self) -> None:
        assert self.child is not None and self.child.stdout is not None
        async for line in self.child.stdout:
            answer = json.loads(line)
            self.answers.append((answer["id"], Verdict(**answer["verdict"])))
            if len(self.answers) >= BATCH:
                self._write()

    def _write(self) -> None:
        answers, self.answers = self.answers, []
        if answers:
            store_deferred_verdicts(self.conn, answers)

    async def finish(self, classifier: Classifier) -> None:
        """Tell the child the polls are done, take its last verdicts, and classify whatever is left."""
        if self.child is not None and self.collector is not None:
            assert self.child.stdin is not None
            self.child.stdin.close()
            try:
                await asyncio.wait_for(asyncio.shield(self.collector), timeout=WAIT_SECONDS)
                await self.child.wait()
            except (TimeoutError, ValueError, TypeError, KeyError) as exc:  # slow, or a garbled answer
                log.warning("baseline classifier gave up (%s): the pass classifies the rest itself", exc)
                self.collector.cancel()
                if self.child.returncode is None:
                    self.child.kill()
                    await self.child.wait()
            self._write()
        left = classify_pending(self.conn, classifier)
        if left and self.child is not None:
            log.info("baseline: %d notices classified after the helper", left)


def _main(argv: list[str]) -> int:
    """Read notices as JSON lines, answer each with its verdict, until the input ends."""
    classifier = Classifier(Path(argv[0]) if argv and argv[0] else None)
    for line in sys.stdin:
        notice = json.loads(line)
        verdict = classifier.classify(notice["title"], "", notice["source"], notice["agency"])
        sys.stdout.write(json.dumps({"id": notice["id"], "verdict": {
            "category": verdict.category, "tags": verdict.tags, "doc_type": verdict.doc_type,
            "status": verdict.status, "rules": verdict.rules, "version": verdict.version,
            "confidence": verdict.confidence, "review": verdict.review}}, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
