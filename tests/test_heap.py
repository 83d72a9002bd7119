"""An idle service gives the C heap's free memory back (service/heap.py): what a pass freed inside the
heap, between what it keeps, leaves the process's resident memory."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

CHILD = """
import sys
from regwatch.service import heap

def resident_kb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0])

blocks = [bytes(2048) for _ in range(40_000)]  # 80 MB in malloc's heap (over 512 bytes: not pymalloc's)
kept = blocks[::50]  # one in fifty stays: the heap's top cannot simply shrink
del blocks
before = resident_kb()
done = heap.give_back()
print(done, before - resident_kb())
"""


@pytest.mark.skipif(platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc's malloc_trim")
def test_give_back_returns_the_freed_heap_between_live_blocks() -> None:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 40_000  # most of the 80 MB freed between the kept blocks is no longer resident
