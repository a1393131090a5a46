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
    assert len(trailing) <= 3
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
    """Just enough of a Workspace for setup_code: records set_full, and set row by row."""

    def __init__(self) -> None:
        self.values: dict[str, torch.Tensor] = {}
        self.rows: dict[str, list[torch.Tensor]] = {}

    def set_full(self, name: str, value: torch.Tensor) -> None:
        self.values[name] = value

    def set(self, name: str, t: int, value: torch.Tensor) -> None:
        rows = self.rows.setdefault(name, [])
        assert t == len(rows), "setup_code writes rows in order"
        rows.append(value.clone())
        self.values[name] = torch.stack(rows)


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
    assert bool(rebuilt.rows) == case.row_wise
    for name, value in case.variables.items():
        assert rebuilt.values[name].dtype == value.dtype
        assert strats.values_equal(rebuilt.values[name], value)
    built = case.build(_FakeImpl)  # the suite's own writes match the reproducer's
    assert sorted(built.values) == sorted(case.variables)
    for name, value in case.variables.items():
        assert strats.values_equal(built.values[name], value)


def test_transitions_cases_carry_the_index_and_both_write_paths() -> None:
    seen_row_wise: set[bool] = set()
    seen_ranks: set[int] = set()

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(strats.transitions_cases(max_time=3, max_batch=3))
    def collect(case: strats.TransitionsCase) -> None:
        idx = case.variables[strats.INDEX]
        assert idx.tolist() == [
            [t * case.batch_size + b for b in range(case.batch_size)] for t in range(case.time_size)
        ]
        seen_row_wise.add(case.row_wise)
        seen_ranks.update(v.dim() - 2 for v in case.variables.values())

    collect()
    assert seen_row_wise == {False, True}
    assert seen_ranks == {0, 1, 2, 3}


@pytest.mark.parametrize("dtype", strats.DTYPES)
def test_extremes_reach_the_dtype_bounds(dtype: torch.dtype) -> None:
    values = strats.make_values((64,), dtype, seed=3, extremes=True)
    assert values.dtype == dtype
    assert strats.values_equal(values, strats.make_values((64,), dtype, seed=3, extremes=True))
    if dtype == torch.bool:
        assert strats.special_values(dtype) == []
        return
    if dtype.is_floating_point:
        info = torch.finfo(dtype)
        assert bool(values.isnan().any())
        assert bool((values == float("inf")).any()) and bool((values == float("-inf")).any())
        assert bool((values == info.max).any()) and bool((values == info.min).any())
        subnormal = (values != 0) & (values.abs() < info.tiny)
        assert bool(subnormal.any())
        assert bool(((values == 0) & torch.signbit(values)).any())  # -0.0
        return
    bounds = torch.iinfo(dtype)
    assert int(values.min()) == bounds.min and int(values.max()) == bounds.max
    if dtype == torch.int64:
        assert any(abs(v) > 2**53 and float(v) != v for v in values.tolist())


def test_extremes_in_a_one_element_tensor_vary_with_the_seed() -> None:
    # a 1-element value still gets any of the specials, not always the first one
    picked = {
        strats.make_values((1,), torch.int64, seed=s, extremes=True).item() for s in range(40)
    }
    assert len(picked) > 3


def test_values_equal_is_nan_aware_and_exact_otherwise() -> None:
    a = torch.tensor([float("nan"), 1.0, -0.0])
    assert strats.values_equal(a, torch.tensor([float("nan"), 1.0, 0.0]))
    assert not strats.values_equal(a, torch.tensor([1.0, 1.0, 0.0]))
    assert not strats.values_equal(a, a.double())
    assert not strats.values_equal(torch.tensor([2**53 + 1]), torch.tensor([2**53]))


def test_other_dtypes_are_every_other_one() -> None:
    for dtype in strats.DTYPES:
        others = strats.other_dtypes(dtype)
        assert dtype not in others and len(others) == len(strats.DTYPES) - 1


def test_agent_seeds_reach_the_edges() -> None:
    seen: list[int] = []

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(strats.agent_seeds())
    def collect(seed: int) -> None:
        assert 0 <= seed <= 2**64
        seen.append(seed)

    collect()
    assert max(seen) >= 2**63 and 0 in seen


def test_keyword_arguments_include_falsy_values() -> None:
    seen: list[object] = []

    @settings(max_examples=100, deadline=None, derandomize=True)
    @given(strats.keyword_arguments())
    def collect(kwargs: dict[str, object]) -> None:
        assert "t" not in kwargs
        seen.extend(kwargs.values())

    collect()
    assert None in seen and any(v is False for v in seen)


def test_item_schema_values_carry_ids_and_payloads() -> None:
    schema = strats.ItemSchema(2, (("p0", (3,), torch.int8), ("p1", (), torch.bfloat16)))
    values = schema.values(5, 4, seed=1)
    assert values["id"].tolist() == [[50, 60, 70, 80], [51, 61, 71, 81]]
    assert values["p0"].shape == (2, 4, 3) and values["p0"].dtype == torch.int8
    assert values["p1"].shape == (2, 4) and values["p1"].dtype == torch.bfloat16
    again = schema.values(5, 4, seed=1)
    assert all(strats.values_equal(values[k], again[k]) for k in values)
    assert eval(repr(schema), {"ItemSchema": strats.ItemSchema, "torch": torch}) == schema
    built = schema.workspace(_FakeImpl, 5, 4, seed=1)
    assert sorted(built.values) == ["id", "p0", "p1"]


def test_item_schemas_span_time_sizes_ranks_and_dtypes() -> None:
    seen_t: set[int] = set()
    seen_dtypes: set[torch.dtype] = set()

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(strats.item_schemas())
    def collect(schema: strats.ItemSchema) -> None:
        seen_t.add(schema.time_size)
        seen_dtypes.update(dtype for _, _, dtype in schema.fields)

    collect()
    assert seen_t == {1, 2, 3}
    assert seen_dtypes == set(strats.DTYPES)


def test_other_item_shapes_cover_both_sides() -> None:
    assert strats.other_item_shapes(()) == [(2,), (1,)]
    shapes = strats.other_item_shapes((2, 3))
    assert (2,) in shapes and (2, 3, 1) in shapes  # lower and higher rank
    assert {(1, 3), (3, 3), (2, 2), (2, 4)} <= set(shapes)  # each side smaller and larger
    assert (2, 3) not in shapes
