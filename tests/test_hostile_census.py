"""The hostile-call census (conformance/tools/hostile_census.py): every world runs on the
reference without a failing call, counts what it ran, and counts bbrl 1.0.1's failures."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from bbrl_conformance._hostile._engine import FAILURES

TOOLS = Path(__file__).resolve().parents[1] / "conformance" / "tools"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


census_tool = _load("hostile_census")


@pytest.mark.parametrize("world", sorted(census_tool.WORLDS))
def test_every_world_runs_clean_on_the_reference(world: str) -> None:
    tally, sequences = census_tool.census("bbrl_reference", world, 60, 25)
    calls = sum(row["calls"] for row in tally.counts.values())
    failed = {k: row[k] for k in FAILURES for row in tally.counts.values() if row[k]}
    assert calls == 60 and sequences >= 3
    assert not failed, f"{world}: failing calls on the reference: {failed}"
    assert tally.counts["valid"]["correct result"] > 0


def test_bbrl_buffer_calls_fail() -> None:
    tally, _ = census_tool.census("bbrl_conformance.adapters.bbrl", "buffer", 40, 25)
    assert sum(row[k] for k in FAILURES for row in tally.counts.values()) > 0


def test_unknown_world_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    argv = ["hostile_census.py", "--impl", "bbrl_reference", "--worlds", "buffer,nope"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as raised:
        census_tool.main()
    assert raised.value.code == 2
