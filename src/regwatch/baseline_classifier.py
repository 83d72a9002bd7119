"""Classifying a big baseline beside the pass, on the machine's other core.

A first pass over many sources stores thousands of baseline notices; classifying each inside the poll
costs most of the pass's CPU, and the poll runs on one core (one event loop). So such a pass sends each
parsed baseline page's titles to a child process (`python -m regwatch.baseline_child [RULES]`) and
awaits what the store needs of each title — its verdict and its instrument's name
(`store.classification.title_facts`) — while its other polls go on; the page is then stored with them,
as if worked out inline (the same values, one insert, no second write). The child's first line says its
classifier is built, which proves the rules file loads: a one-off pass then builds no classifier of its
own unless it classifies something itself; a pass that has its classifier already (the service's) does
not wait for the child's start-up, it classifies pages itself until that first line comes (on a first
start the service starts the child before reading its watchlists, so that first line is there by its
first pass). Whatever the child cannot answer (it died, it talks nonsense, it is slow) the poll
classifies itself, so no notice is ever stored without a verdict.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from itertools import count
from pathlib import Path

from .config import Config
from .store.classification import TitleFacts

log = logging.getLogger(__name__)
WORTH_IT = 20  # baselines in a pass before a helper process pays for its start-up
WAIT_SECONDS = 60.0  # for one page's verdicts: a child this slow is given up on
CHILD = (sys.executable, "-m", "regwatch.baseline_child")  # the helper's command (+ the rules file)


class Helper:
    """The child process of one pass (or, in the service, of the passes of its first polls), or none
    (`active` False: the pass works its titles out as it stores)."""

    def __init__(self) -> None:
        self.child: asyncio.subprocess.Process | None = None
        self.collector: asyncio.Task[None] | None = None
        self.waiting: dict[int, asyncio.Future[list[TitleFacts] | None]] = {}
        self.numbers = count()
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()  # its rules loaded

    @classmethod
    async def start(cls, config: Config, baselines: int) -> Helper:
        helper = cls()
        if baselines < WORTH_IT:
            return helper
        rules = str(Path(config.classify.rules).expanduser()) if config.classify.rules else ""
        try:
            helper.child = await asyncio.create_subprocess_exec(
                *CHILD, rules,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, limit=1 << 22)
        except OSError as exc:
            log.warning("baseline classifier not started (%s): the pass classifies its baseline itself", exc)
            return helper
        helper.collector = asyncio.create_task(helper._collect())
        return helper

    @classmethod
    async def start_early(cls, config: Config) -> Helper | None:
        """On a first run (no database yet, so every source needs a baseline): the helper, started before
        the store is made and the watchlists are read, so that its own start-up (≈0.2 s) runs beside
        them on the other core and it answers from the first pass's first pages; else None. Once the
        count is known, `kept_for` lets it go if too few need it."""
        return None if config.database_path.exists() else await cls.start(config, WORTH_IT)

    async def kept_for(self, baselines: int) -> Helper | None:
        """This helper if `baselines` are worth it, else None, the child ended at once."""
        if baselines >= WORTH_IT:
            return self
        await self.stop()
        return None

    @property
    def active(self) -> bool:
        return self.child is not None and self.collector is not None and not self.collector.done()

    @property
    def answering(self) -> bool:
        """Whether the child has said its classifier is built (and is still there): a page sent now is
        answered in about the time its titles take, not after the child's start-up."""
        return self.active and self.ready.done() and self.ready.result()

    async def loaded_rules(self) -> bool:
        """Whether the child built its classifier (the rules file loads), waiting for it to say so; False
        when it ended, garbled its answer or took WAIT_SECONDS (then it is given up)."""
        if not self.active:
            return False
        try:
            return await asyncio.wait_for(asyncio.shield(self.ready), WAIT_SECONDS)
        except TimeoutError:
            log.warning("baseline classifier did not start: the pass classifies its baseline itself")
            self._give_up()
            return False

    async def facts(self, source_id: str, agency: str, titles: list[str]) -> list[TitleFacts] | None:
        """What the store needs of one page's list titles, or None: work it out yourself."""
        if not self.active or self.child is None or self.child.stdin is None or self.child.stdin.is_closing():
            return None
        number = next(self.numbers)
        answer: asyncio.Future[list[TitleFacts] | None] = asyncio.get_running_loop().create_future()
        self.waiting[number] = answer
        self.child.stdin.write((json.dumps({"n": number, "source": source_id, "agency": agency, "titles": titles},
                                           ensure_ascii=False) + "\n").encode())
        try:
            facts = await asyncio.wait_for(answer, WAIT_SECONDS)
        except TimeoutError:
            log.warning("baseline classifier is too slow: the pass classifies its baseline itself")
            self._give_up()
            return None
        finally:
            self.waiting.pop(number, None)
        return facts if facts is not None and len(facts) == len(titles) else None

    async def _collect(self) -> None:
        assert self.child is not None and self.child.stdout is not None
        try:
            async for line in self.child.stdout:
                answer = json.loads(line)
                if not self.ready.done():  # its first line says its classifier is built
                    self.ready.set_result(answer["ready"] is True)
                    continue
                waiting = self.waiting.get(answer["n"])
                if waiting is not None and not waiting.done():
                    waiting.set_result([TitleFacts(_columns(verdict), instrument)
                                        for verdict, instrument in answer["facts"]])
        except (ValueError, TypeError, KeyError) as exc:  # a garbled answer: trust none of what follows
            log.warning("baseline classifier gave up (%s): the pass classifies its baseline itself", exc)
        finally:
            if not self.ready.done():
                self.ready.set_result(False)
            for waiting in self.waiting.values():  # the child ended or talks nonsense: nothing more comes
                if not waiting.done():
                    waiting.set_result(None)
            if self.child.returncode is None and self.child.stdin is not None:
                self.child.stdin.close()

    def _give_up(self) -> None:
        if self.collector is not None:
            self.collector.cancel()
        if self.child is not None and self.child.returncode is None:
            self.child.kill()

    async def stop(self) -> None:
        """End the child now, whatever it is doing (started early for a pass that turned out not to need it,
        or one that failed): `close` would wait for it to finish starting."""
        self._give_up()
        if self.child is not None:
            await self.child.wait()

    async def close(self) -> None:
        """The polls are done: let the child end (or end it)."""
        if self.child is None:
            return
        if self.child.stdin is not None and not self.child.stdin.is_closing():
            self.child.stdin.close()
        try:
            await asyncio.wait_for(self.child.wait(), timeout=5)
        except TimeoutError:
            self._give_up()
            await self.child.wait()
        if self.collector is not None and not self.collector.done():
            self.collector.cancel()


_SIX_TEXTS = [str] * 6


def _columns(verdict: list) -> tuple:
    """A verdict's stored columns as the child sent them, checked as far as the store relies on them (the
    exact types JSON gives: six strings, a number, an integer; read per title, so a few C-level tests)."""
    if len(verdict) != 8 or list(map(type, verdict[:6])) != _SIX_TEXTS or type(verdict[6]) not in (
            int, float) or type(verdict[7]) is not int:
        raise ValueError(f"not a verdict: {verdict!r:.80}")
    return tuple(verdict)
