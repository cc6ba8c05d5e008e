"""What a step freed goes back to the system (glibc's malloc_trim), not kept by the process."""

from __future__ import annotations

import subprocess
import sys

import pytest

from recouvrement.adapters.memory import _trim

# A step's rows: 100 MB of small blocks, one in a hundred still alive afterwards, so that
# the allocator cannot give the pages back on its own.
PROGRAM = """
from recouvrement.adapters.memory import give_back

def rss():
    with open("/proc/self/status") as status:
        return next(int(l.split()[1]) // 1024 for l in status if l.startswith("VmRSS"))

rows = [bytes(1000) + bytes([i % 256]) for i in range(100_000)]
alive = rows[::100]
del rows
freed = rss()
told = give_back()
print(freed, rss(), told)
"""


@pytest.mark.skipif(_trim() is None or not sys.platform.startswith("linux"),
                    reason="malloc_trim is glibc's")
def test_the_pages_a_step_freed_go_back_to_the_system():
    out = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True,
                         check=True).stdout.split()
    freed, after, told = int(out[0]), int(out[1]), out[2]
    assert told == "True"
    assert freed - after >= 50, (freed, after)  # MiB


def test_each_step_of_the_daily_run_gives_back_what_it_freed(monkeypatch):
    import flows.daily as daily

    calls = []
    monkeypatch.setattr(daily, "give_back", lambda: calls.append("given back"))

    class Step:
        name = "a-step"

        def __call__(self, *args):
            calls.append(args)
            return "done"

    assert daily._step(Step(), 1, 2) == "done"
    assert calls == [(1, 2), "given back"]
