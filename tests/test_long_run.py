"""benchmarks/long_run.py at toy sizes: its counts hold on the reference and catch a lost item.

The real run (1e6 env steps, a 1e6-item buffer filled three times) is a benchmark
(``python benchmarks/long_run.py``); here only its correctness checks are exercised.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import bbrl_reference
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def long_run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("long_run", ROOT / "benchmarks" / "long_run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["long_run"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_toy_long_runs_count_every_transition(long_run: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "long.json"
    argv = ["--env-steps", "3000", "--num-envs", "4", "--n-steps", "17"]
    argv += ["--buffer-size", "500", "--chunk", "70", "--json", str(out)]
    assert long_run.main(argv) == 0
    loop, fill = long_run.json.loads(out.read_text())["runs"]
    # 3000 // (16 * 4) = 46 epochs of 16 new rows of 4 envs; some rows are resets
    assert loop["counts"]["env steps (rows written after the first)"] == 46 * 16 * 4
    kept = loop["counts"]["transitions kept == env.step calls"]
    assert 0 < kept < 46 * 16 * 4
    assert loop["counts"]["buffer size"] == 3000 // 20
    assert fill["counts"] == {
        "buffer size": 500,
        "items held among the last max_size put": 500,
        "distinct items held": 500,
    }


class _KeepsFirst(bbrl_reference.ReplayBuffer):
    """A buffer that ignores puts once full (it keeps the oldest items)."""

    def put(self, workspace: Any) -> None:
        if self.size() < self.max_size:
            super().put(workspace)


def test_a_buffer_that_keeps_old_items_is_caught(long_run: ModuleType) -> None:
    impl = SimpleNamespace(Workspace=bbrl_reference.Workspace, ReplayBuffer=_KeepsFirst)
    report = long_run.buffer_fill(impl, 300, 100)
    assert not report.ok
    assert "items held among the last max_size put: 0, expected 300" in report.problems
