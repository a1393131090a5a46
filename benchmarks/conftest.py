"""pytest configuration of the benchmarks (quick mode by default, see bench_support).

* ``bench_support`` (next to this file) is made importable: the repository runs pytest with
  ``--import-mode=importlib``, which does not put test folders on ``sys.path``.
* In full mode (``BBRL_BENCH_FULL=1``) torch runs on one thread, so peers compete on equal
  terms on a shared machine.
* ``BBRL_BENCH_ORDER=reverse`` runs the benchmarks in reverse order: ``run.py`` alternates the
  order between repeats so that slow phases of the machine hit every peer alike.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import torch
from bench_support import FULL


def pytest_configure(config: pytest.Config) -> None:
    if FULL:
        torch.set_num_threads(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("BBRL_BENCH_ORDER") != "reverse":
        return
    here = Path(__file__).parent
    mine = [i for i in items if here in Path(str(i.path)).parents]
    others = [i for i in items if here not in Path(str(i.path)).parents]
    items[:] = others + mine[::-1]
