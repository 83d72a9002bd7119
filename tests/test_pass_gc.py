"""A pass asks the garbage collector for fewer young-generation collections while it runs (poll.py:
PASS_GC_YOUNG) — with the service's overlapping passes too — and leaves it as it found it."""

from __future__ import annotations

import gc

from regwatch import poll


def test_the_collector_is_put_back_only_when_the_last_overlapping_pass_ends() -> None:
    found = gc.get_threshold()
    first = poll._fewer_collections()
    first.__enter__()
    assert gc.get_threshold() == (poll.PASS_GC_YOUNG, *found[1:])
    second = poll._fewer_collections()  # a second pass starts before the first ends (the service)
    second.__enter__()
    first.__exit__(None, None, None)
    assert gc.get_threshold()[0] == poll.PASS_GC_YOUNG  # the second still runs
    second.__exit__(None, None, None)
    assert gc.get_threshold() == found


def test_a_pass_that_fails_puts_the_collector_back() -> None:
    found = gc.get_threshold()
    try:
        with poll._fewer_collections():
            raise RuntimeError("a pass that failed")
    except RuntimeError:
        pass
    assert gc.get_threshold() == found
