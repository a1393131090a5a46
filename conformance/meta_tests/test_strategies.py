"""Meta tests of the suite's Hypothesis strategies (bbrl_conformance._strategies)."""

from __future__ import annotations

import pytest
import torch
from bbrl_conformance import _strategies as strats
from hypothesis import given, settings
from hypothesis import strategies as st


@pytest.mark.parametrize("dtype", strats.DTYPES)
def test_make_values_shape_dtype_and_reproducible(dtype: torch.dtype) -> None:
    a = strats.make_values((4, 3, 2), dtype, seed=7)
    b = strats.make_values((4, 3, 2), dtype, seed=7)
    assert a.shape == (4, 3, 2)
    assert a.dtype == dtype
    assert torch.equal(a, b)


@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.uint8])
def test_make_values_rows_differ(dtype: torch.dtype) -> None:
    # distinct rows are what lets the transitions tests see a wrong order
    values = strats.make_values((16, 8), dtype, seed=1)
    assert len({tuple(row.tolist()) for row in values}) == 16


def test_make_mask_kinds() -> None:
    assert not strats.make_mask("none", 3, 2, 0, 0.5).any()
    assert strats.make_mask("all", 3, 2, 0, 0.5).all()
    assert strats.make_mask("first", 3, 2, 0, 0.5).tolist() == [
        [True, True],
        [False] * 2,
        [False] * 2,
    ]
    assert strats.make_mask("last", 3, 2, 0, 0.5).tolist() == [
        [False] * 2,
        [False] * 2,
        [True, True],
    ]
    random_mask = strats.make_mask("random", 40, 16, 3, 0.5)
    assert random_mask.dtype == torch.bool
    assert 0 < int(random_mask.sum()) < 40 * 16
    with pytest.raises(ValueError):
        strats.make_mask("sometimes", 3, 2, 0, 0.5)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(strats.transitions_cases())
def test_transitions_cases_are_consistent(case: strats.TransitionsCase) -> None:
    assert 1 <= case.time_size <= strats.MAX_T
    assert 1 <= case.batch_size <= strats.MAX_B
    assert case.mask_kind in strats.MASK_KINDS
    mask = case.variables[case.filter_key]
    assert mask.dtype == torch.bool
    assert mask.shape == (case.time_size, case.batch_size)
    for value in case.variables.values():
        assert value.shape[:2] == (case.time_size, case.batch_size)
        assert value.dtype in strats.DTYPES
    assert len(case.variables) >= 2


@settings(max_examples=20, deadline=None, derandomize=True)
@given(strats.transitions_cases(filter_key="my/flag", max_time=4, max_batch=2))
def test_transitions_cases_custom_key_and_bounds(case: strats.TransitionsCase) -> None:
    assert "my/flag" in case.variables
    assert "env/done" not in case.variables
    assert case.time_size <= 4
    assert case.batch_size <= 2


def test_strategies_reach_every_mask_kind_and_dtype() -> None:
    # the strategies must be able to produce each kind the issue asks for (not just shrink to one)
    seen_kinds: set[str] = set()
    seen_dtypes: set[torch.dtype] = set()

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(strats.transitions_cases(max_time=3, max_batch=2))
    def collect(case: strats.TransitionsCase) -> None:
        seen_kinds.add(case.mask_kind)
        seen_dtypes.update(v.dtype for n, v in case.variables.items() if n != case.filter_key)

    collect()
    assert seen_kinds == set(strats.MASK_KINDS)
    assert seen_dtypes == set(strats.DTYPES)


@settings(max_examples=50, deadline=None, derandomize=True)
@given(strats.trailing_shapes(), strats.time_sizes(), strats.batch_sizes())
def test_size_strategies_bounds(trailing: tuple[int, ...], t: int, b: int) -> None:
    assert len(trailing) <= 2
    assert all(1 <= side <= 3 for side in trailing)
    assert 1 <= t <= 64
    assert 1 <= b <= 16


def test_variable_names_never_done() -> None:
    @settings(max_examples=50, deadline=None, derandomize=True)
    @given(st.lists(strats.variable_names(), min_size=1))
    def check(names: list[str]) -> None:
        assert "env/done" not in names

    check()


class _RecordingWorkspace:
    """Just enough of a Workspace for setup_code: records set_full."""

    def __init__(self) -> None:
        self.values: dict[str, torch.Tensor] = {}

    def set_full(self, name: str, value: torch.Tensor) -> None:
        self.values[name] = value


class _FakeImpl:
    Workspace = _RecordingWorkspace


@settings(max_examples=20, deadline=None, derandomize=True)
@given(strats.transitions_cases(max_time=6, max_batch=3))
def test_setup_code_rebuilds_the_case(case: strats.TransitionsCase) -> None:
    # the reproducer printed on failure must rebuild exactly the drawn tensors
    namespace: dict[str, object] = {"impl": _FakeImpl}
    exec(case.setup_code(), namespace)
    rebuilt = namespace["ws"]
    assert isinstance(rebuilt, _RecordingWorkspace)
    assert sorted(rebuilt.values) == sorted(case.variables)
    for name, value in case.variables.items():
        assert rebuilt.values[name].dtype == value.dtype
        assert torch.equal(rebuilt.values[name], value)
