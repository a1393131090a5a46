"""pytest plugin of the mutation runs (``-p mutation_order``): fastest tests first, a frozen heap.

mutmut runs, for each mutant, every conformance test that calls the mutated function, with
``-x``, in a process forked from a server that collected the suite once. A mutant is killed by
its first failing test, so running the selected tests in order of their duration (as timed by
mutmut's stats run, ``mutmut-stats.json`` in the current directory) kills most mutants after a
fraction of a second. Only the order changes: every selected test still runs until one fails,
so a surviving mutant has passed all of them.

At the end of each session the heap is frozen (``gc.freeze``): the fork server's heap (torch,
hypothesis, the collected suite) is then never traversed again by the full collections that
pytest runs when each forked mutant run ends (~0.3 s of each, measured). Objects created
later, in a test, are collected as usual.
"""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if not STATS.is_file():  # the stats run itself: no durations yet
        return
    durations: dict[str, float] = json.loads(STATS.read_text())["duration_by_test"]
    # Stable sort; a test without a duration (new since the stats run) goes last.
    items.sort(key=lambda item: durations.get(item.nodeid, float("inf")))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish() -> None:
    gc.freeze()
