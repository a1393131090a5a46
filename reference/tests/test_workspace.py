"""Workspace: spec/workspace.md (WS-n) and the workspace rows of spec/errors.md (ERR-n)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch
from bbrl_reference import (
    DTypeError,
    InvalidArgumentError,
    ShapeError,
    TimeIndexError,
    UnknownVariableError,
    Workspace,
)

Case = tuple[Callable[[], object], type[Exception]]
"""A call that must raise, and the builtin type it must raise."""


def snapshot(ws: Workspace) -> dict[str, torch.Tensor]:
    """A deep copy of every variable, to check that a failed call changed nothing."""
    return {name: ws.get_full(name).detach().clone() for name in ws.variables}


def assert_same(ws: Workspace, before: dict[str, torch.Tensor]) -> None:
    """ERR-5: the workspace holds exactly the variables and values of ``before``."""
    assert list(ws.keys()) == list(before)
    for name, value in before.items():
        got = ws.get_full(name)
        assert got.dtype == value.dtype and got.shape == value.shape, name
        assert torch.equal(got, value), name


def filled(T: int = 4, B: int = 3) -> Workspace:
    """x[t, b] = 10 t + b (int64), y = x + 100 (float32), written row by row."""
    ws = Workspace()
    for t in range(T):
        row = 10 * t + torch.arange(B)
        ws.set("x", t, row)
        ws.set("y", t, (row + 100).float())
    return ws


def test_empty_workspace() -> None:
    """WS-1: a new workspace has no variable and time and batch sizes 0."""
    ws = Workspace()
    assert list(ws.keys()) == [] and len(ws.variables) == 0
    assert ws.time_size() == 0 and ws.batch_size() == 0
    assert "x" not in ws
    assert repr(ws) == "Workspace({})"


def test_set_get_round_trip() -> None:
    """WS-2: get returns what set stored (shape, dtype, values)."""
    ws = Workspace()
    v = torch.tensor([[1.5, 2.5], [3.5, 4.5]])
    ws.set("obs", 0, v)
    got = ws.get("obs", 0)
    assert got.dtype == torch.float32 and torch.equal(got, v)
    assert ws.time_size() == 1 and ws.batch_size() == 2
    assert repr(ws) == "Workspace({'obs': [1, 2, 2]})"


def test_growth_zero_fills_gap_and_keeps_rows() -> None:
    """WS-3: writing beyond T grows to t+1, zero-filled gap, old rows kept (also past capacity)."""
    ws = Workspace()
    ws.set("x", 0, torch.tensor([1, 2]))
    ws.set("x", 40, torch.tensor([5, 6]))  # beyond the initial capacity
    full = ws.get_full("x")
    assert full.shape == (41, 2)
    assert full[0].tolist() == [1, 2] and full[40].tolist() == [5, 6]
    assert int(full[1:40].abs().sum()) == 0
    ws.set("x", 45, torch.tensor([7, 8]))  # gap inside the capacity, after get_full (shared)
    assert int(ws["x"][41:45].abs().sum()) == 0 and ws.time_size() == 46
    assert full.shape == (41, 2)  # the tensor read before is not changed


def test_many_rows_amortised_and_correct() -> None:
    """WS-3, WS-6: 1000 sequential writes give the right [T, B] tensor."""
    ws = Workspace()
    for t in range(1000):
        ws.set("x", t, torch.full((2,), t))
    assert torch.equal(ws["x"][:, 0], torch.arange(1000))


def test_batch_size_fixed_by_first_write() -> None:
    """WS-4: a set or set_full with another batch size raises ValueError, nothing changes."""
    ws = filled()
    before = snapshot(ws)
    with pytest.raises(ShapeError, match="batch size 3"):
        ws.set("z", 0, torch.zeros(2))
    with pytest.raises(ValueError, match="'x'"):
        ws.set("x", 1, torch.zeros(5, dtype=torch.int64))
    with pytest.raises(ValueError, match="batch size"):
        ws.set_full("x", torch.zeros(4, 2, dtype=torch.int64))
    assert_same(ws, before)


def test_item_shape_and_dtype_fixed() -> None:
    """WS-5: another item shape is ValueError, another dtype TypeError, no cast; ERR-5."""
    ws = filled()
    before = snapshot(ws)
    with pytest.raises(ShapeError, match="trailing shape"):
        ws.set("x", 0, torch.zeros(3, 2, dtype=torch.int64))
    with pytest.raises(DTypeError, match=r"dtype torch\.int64"):
        ws.set("x", 0, torch.zeros(3))
    with pytest.raises(TypeError):
        ws.set("y", 9, torch.zeros(3, dtype=torch.float64))
    assert_same(ws, before)


def test_device_fixed() -> None:
    """WS-5 (device): a value on another device than the variable's raises TypeError.

    The only second device of a CPU machine is meta, which WS-22 rejects for new values; a
    meta variable is installed directly to reach the device check.
    """
    ws = filled()
    ws._install("m", torch.zeros(4, 3, device="meta"))
    with pytest.raises(DTypeError, match="device"):
        ws.set("m", 0, torch.zeros(3))
    with pytest.raises(TypeError, match="meta"):
        ws.set("x", 0, torch.zeros(3, dtype=torch.int64, device="meta"))


def test_get_full_is_never_stale() -> None:
    """WS-6: get_full and ws[name] reflect every set; repeated reads are equal."""
    ws = filled()
    assert torch.equal(ws["x"], ws.get_full("x"))
    ws.set("x", 1, torch.tensor([7, 8, 9]))
    assert ws["x"][1].tolist() == [7, 8, 9]
    assert torch.equal(ws.variables["x"], ws["x"])
    assert list(ws.variables) == ["x", "y"]


def test_set_copies_the_value() -> None:
    """WS-8: mutating the caller's tensor after set or set_full changes nothing."""
    ws = Workspace()
    v = torch.tensor([1.0, 2.0])
    ws.set("a", 0, v)
    full = torch.ones(2, 2)
    ws.set_full("b", full)
    v.add_(10)
    full.add_(10)
    assert ws.get("a", 0).tolist() == [1.0, 2.0]
    assert ws["b"].tolist() == [[1.0, 1.0], [1.0, 1.0]]


def test_get_returns_a_copy_in_plain_mode() -> None:
    """Documented choice (not specified): mutating a `get` result does not change the workspace."""
    ws = filled()
    ws.get("x", 0).add_(1000)
    assert ws.get("x", 0).tolist() == [0, 1, 2]


def test_a2c_pattern_over_200_steps() -> None:
    """WS-9: log-probs written with grad at each of 200 steps backpropagate to the parameters."""
    torch.manual_seed(0)
    policy = torch.nn.Linear(3, 2)
    ws = Workspace()
    observations = []
    for t in range(200):
        obs = torch.randn(4, 3)
        observations.append(obs)
        ws.set("obs", t, obs)
        logp = torch.log_softmax(policy(ws.get("obs", t)), dim=-1)[:, 0]
        ws.set("logp", t, logp)
    assert ws["logp"].shape == (200, 4)
    torch.autograd.backward(ws["logp"].sum())
    got = [p.grad.clone() for p in policy.parameters() if p.grad is not None]
    policy.zero_grad()
    direct = torch.log_softmax(policy(torch.stack(observations)), dim=-1)[..., 0]
    torch.autograd.backward(direct.sum())
    want = [p.grad for p in policy.parameters() if p.grad is not None]
    assert len(got) == 2
    for g, w in zip(got, want, strict=True):
        assert torch.allclose(g, w)


def test_set_after_read_does_not_break_backward() -> None:
    """WS-10: sets after get/get_full neither break nor change a later backward()."""
    w = torch.nn.Parameter(torch.tensor([2.0, 3.0]))
    ws = Workspace()
    ws.set("obs", 0, torch.tensor([1.0, 1.0]))
    ws.set("v", 0, w * 1.0)
    obs_row = ws.get("obs", 0)
    obs_full = ws.get_full("obs")  # plain variable read as a view
    v_full = ws.get_full("v")
    loss = (w * obs_row).sum() + (w * obs_full[0]).sum() + v_full.sum()
    for t in range(5):  # in-place writes at read rows and new rows
        ws.set("obs", 0, torch.tensor([5.0, 5.0]))
        ws.set("obs", t + 1, torch.tensor([9.0, 9.0]))
        ws.set("v", 0, w * 7.0)
        ws.set("v", t + 1, w * 2.0)
    ws.copy_n_last_steps(1)
    torch.autograd.backward(loss)
    assert w.grad is not None and w.grad.tolist() == [3.0, 3.0]


def test_set_full_replaces_whole_variable() -> None:
    """WS-11: set_full replaces the variable (time size, values, even item shape and dtype)."""
    ws = filled(T=5)
    ws.set_full("x", torch.zeros(2, 3, dtype=torch.int64))
    assert ws["x"].shape == (2, 3) and int(ws["x"].abs().sum()) == 0
    ws.set_full("x", torch.ones(3, 3, 2))
    assert list(ws["x"].shape) == [3, 3, 2] and ws["x"].dtype == torch.float32
    ws.set("x", 5, torch.ones(3, 2))  # a plain set after set_full grows the variable
    assert list(ws["x"].shape) == [6, 3, 2]


def test_set_full_with_grad_keeps_history() -> None:
    """WS-9 via set_full, and a later set into that tracked variable."""
    w = torch.nn.Parameter(torch.ones(()))
    ws = Workspace()
    ws.set_full("v", w * torch.ones(3, 2))
    ws.set("v", 4, w * torch.full((2,), 3.0))
    assert ws.get("v", 4).tolist() == [3.0, 3.0]
    torch.autograd.backward(ws["v"].sum())
    assert w.grad is not None and float(w.grad) == 6.0 + 6.0


def test_keys_and_contains() -> None:
    """WS-12: keys(), variables.keys() and `in` list exactly the written variables."""
    ws = filled()
    assert list(ws.keys()) == ["x", "y"] and list(ws.variables.keys()) == ["x", "y"]
    assert "x" in ws and "z" not in ws
    ws.clear("x")
    assert list(ws.keys()) == ["y"] and "x" not in ws


def test_time_size_disagreement() -> None:
    """WS-13: time_size() raises ValueError when variables differ; batch_size() is B."""
    ws = filled(T=3)
    ws.set("x", 3, torch.tensor([1, 2, 3]))
    assert ws.batch_size() == 3
    with pytest.raises(ShapeError, match="one time size"):
        ws.time_size()


def test_zero_grad_detaches() -> None:
    """WS-14: zero_grad detaches every variable, values unchanged, plain mode again."""
    w = torch.nn.Parameter(torch.tensor(2.0))
    ws = Workspace()
    for t in range(3):
        ws.set("v", t, w * torch.full((2,), float(t)))
    ws.set("o", 0, torch.zeros(2))
    ws.zero_grad()
    full = ws["v"]
    assert not full.requires_grad and full.grad_fn is None
    assert full[:, 0].tolist() == [0.0, 2.0, 4.0]
    ws.set("v", 3, torch.ones(2))  # plain write after zero_grad
    assert ws["v"][3].tolist() == [1.0, 1.0] and not ws["v"].requires_grad


def test_copy_n_last_steps_basic_and_named() -> None:
    """WS-15, WS-16: the named variables get rows T-n..T-1 at 0..n-1; the others are unchanged."""
    ws = filled(T=5)
    ws.copy_n_last_steps(2, ["x"])
    assert ws["x"][:, 0].tolist() == [30, 40, 20, 30, 40]
    assert ws["y"][:, 0].tolist() == [100.0, 110.0, 120.0, 130.0, 140.0]
    ws.copy_n_last_steps(1)
    assert ws["x"][:, 0].tolist() == [40, 40, 20, 30, 40]
    assert ws["y"][:, 0].tolist() == [140.0, 110.0, 120.0, 130.0, 140.0]
    assert ws.time_size() == 5


@pytest.mark.parametrize(("T", "n"), [(3, 2), (5, 3), (5, 4), (5, 5), (5, 0)])
def test_copy_n_last_steps_overlap(T: int, n: int) -> None:
    """WS-15: overlapping ranges (n > T/2) copy the rows as they were before the call."""
    ws = filled(T=T)
    w = torch.nn.Parameter(torch.ones(()))
    for t in range(T):
        ws.set("g", t, w * torch.full((3,), float(t)))  # a tracked variable too
    ws.get_full("x")  # shared buffer: copy on write
    ws.copy_n_last_steps(n)
    expected = list(range(T - n, T)) + list(range(n, T))
    assert ws["x"][:, 0].tolist() == [10 * t for t in expected]
    assert ws["y"][:, 0].tolist() == [100.0 + 10 * t for t in expected]
    assert ws["g"][:, 0].tolist() == [float(t) for t in expected]


def test_copy_n_last_steps_per_variable_time_size() -> None:
    """WS-15 note: each variable uses its own time size."""
    ws = filled(T=3)
    ws.set("x", 3, torch.tensor([30, 31, 32]))
    ws.copy_n_last_steps(1)
    assert ws["x"][:, 0].tolist() == [30, 10, 20, 30]
    assert ws["y"][:, 0].tolist() == [120.0, 110.0, 120.0]


def test_copy_n_last_steps_errors_change_nothing() -> None:
    """WS-17, ERR-5: n < 0, n > T, unknown names raise; nothing changes."""
    ws = filled(T=4)
    before = snapshot(ws)
    with pytest.raises(InvalidArgumentError):
        ws.copy_n_last_steps(-1)
    with pytest.raises(ValueError, match="time size 4"):
        ws.copy_n_last_steps(5)
    with pytest.raises(UnknownVariableError, match="'zz'"):
        ws.copy_n_last_steps(1, ["x", "zz"])
    with pytest.raises(TypeError):
        ws.copy_n_last_steps(1, "x")
    with pytest.raises(TypeError):
        ws.copy_n_last_steps(1.5)  # type: ignore[arg-type]
    assert_same(ws, before)
    ws.copy_n_last_steps(1, ["x", "x"])  # a name given twice is copied once
    assert ws["x"][:, 0].tolist() == [30, 10, 20, 30]


def test_clear() -> None:
    """WS-19: clear(name) removes one variable, clear() all; then the workspace is as new."""
    ws = filled()
    ws.clear("y")
    assert list(ws.keys()) == ["x"]
    ws.clear()
    assert list(ws.keys()) == [] and ws.time_size() == 0 and ws.batch_size() == 0
    ws.set("z", 0, torch.zeros(7))  # a new batch size is allowed once empty
    assert ws.batch_size() == 7


def test_time_index_errors() -> None:
    """ERR-2: get with t < 0 or t >= T, set with t < 0 raise IndexError; nothing changes."""
    ws = filled(T=2)
    before = snapshot(ws)
    for t in (-1, 2, 100):
        with pytest.raises(TimeIndexError, match="'x'"):
            ws.get("x", t)
    with pytest.raises(IndexError):
        ws.set("x", -1, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(IndexError):
        ws.set("new", -3, torch.zeros(3))
    assert_same(ws, before)


def test_unknown_variable_errors() -> None:
    """ERR-3: get, get_full, [] and clear of an unknown name raise KeyError naming it."""
    ws = filled()
    calls: list[Callable[[], object]] = [
        lambda: ws.get("nope", 0),
        lambda: ws.get_full("nope"),
        lambda: ws["nope"],
        lambda: ws.clear("nope"),
        lambda: ws.variables["nope"],
    ]
    for call in calls:
        with pytest.raises(KeyError) as info:
            call()
        assert "'nope'" in str(info.value) and "'x'" in str(info.value)
    with pytest.raises(KeyError, match="variables: none"):
        Workspace().get("a", 0)


def test_value_type_errors() -> None:
    """ERR-4: non-tensors raise TypeError, 0-d set / 1-d set_full raise ValueError; ERR-5."""
    ws = filled()
    before = snapshot(ws)
    with pytest.raises(TypeError, match=r"torch\.Tensor"):
        ws.set("x", 0, [1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ws.set_full("x", [[1, 2, 3]])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dimension"):
        ws.set("x", 0, torch.tensor(1))
    with pytest.raises(ValueError, match="dimension"):
        ws.set_full("x", torch.zeros(3))
    with pytest.raises(TypeError, match="variable name"):
        ws.set(3, 0, torch.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="'t'"):
        ws.set("x", 1.0, torch.zeros(3, dtype=torch.int64))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="bool"):
        ws.set("x", True, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(TypeError, match="'t'"):
        ws.set("x", torch.tensor(0.5), torch.zeros(3, dtype=torch.int64))  # type: ignore[arg-type]
    assert_same(ws, before)


def test_index_like_time_and_subclass_values() -> None:
    """WS-2 with a numpy-style integer index and a tensor subclass (full validation path)."""
    import numpy as np

    ws = Workspace()
    ws.set("x", np.int64(1), torch.nn.Parameter(torch.ones(2), requires_grad=False))  # type: ignore[arg-type]
    assert ws["x"].tolist() == [[0.0, 0.0], [1.0, 1.0]]
    ws.set("x", torch.tensor(2), torch.ones(2))  # type: ignore[arg-type]
    assert ws.time_size() == 3


def test_non_numpy_dtype_goes_through_torch() -> None:
    """WS-2, WS-3 for a dtype numpy cannot view (bfloat16): the torch copy path."""
    ws = Workspace()
    ws.set("h", 0, torch.ones(2, dtype=torch.bfloat16))
    ws.set("h", 3, torch.full((2,), 2.0, dtype=torch.bfloat16))
    assert ws["h"].float()[:, 0].tolist() == [1.0, 0.0, 0.0, 2.0]
    assert ws.get("h", 3).dtype == torch.bfloat16 and float(ws.get("h", 3)[0]) == 2.0
    with pytest.raises(DTypeError):  # the numpy helper validates like set
        ws._set_numpy_rows(4, [("h", torch.ones(2).numpy())])
    assert ws.time_size() == 4


def test_numpy_fast_path_helpers() -> None:
    """The env agent's internal numpy writes follow WS-2/WS-3 and fall back when needed."""
    ws = Workspace()
    a = np.array([1.0, 2.0], dtype=np.float32)
    ws._set_numpy_rows(0, [("a", a)])  # new variable
    ws._set_numpy_rows(3, [("a", np.array([3.0, 4.0], dtype=np.float32))])  # gap
    assert ws["a"][:, 0].tolist() == [1.0, 0.0, 0.0, 3.0]
    ws._set_numpy_rows(4, [("a", a)])  # not trusted (get_full shared the buffer): full path
    ws._set_numpy_rows(5, [("a", a)])  # trusted now: the fast path
    assert ws["a"][:, 1].tolist() == [2.0, 0.0, 0.0, 4.0, 2.0, 2.0]
    with pytest.raises(DTypeError):
        ws._set_numpy_rows(1, [("a", np.array([1, 2]))])  # int64 into float32
    row = ws._numpy_row("a", 3)
    assert row is not None and row.tolist() == [3.0, 4.0]
    assert ws._numpy_row("a", 6) is None and ws._numpy_row("zz", 0) is None
    ws.set_full("b", torch.arange(4.0).reshape(2, 2))  # no numpy view until the first read
    row = ws._numpy_row("b", 1)
    assert row is not None and row.tolist() == [2.0, 3.0]
    ws.set_full("h", torch.ones(2, 2, dtype=torch.bfloat16))  # numpy has no bfloat16
    assert ws._numpy_row("h", 0) is None


def test_numpy_rows_are_written_whole_or_not_at_all() -> None:
    """ERR-5 for the env agent's row write: every (name, row) is validated before any write."""
    ws = Workspace()
    obs = np.zeros((2, 3), dtype=np.float32)
    reward = np.zeros(2, dtype=np.float32)
    for t in range(3):
        ws._set_numpy_rows(t, [("obs", obs), ("reward", reward)])  # trusted from t = 1
    before = snapshot(ws)
    bad_rows: list[list[tuple[str, np.ndarray]]] = [
        [("obs", obs), ("reward", np.zeros(2, dtype=np.float64))],  # dtype of the last one
        [("obs", obs), ("reward", np.zeros(3, dtype=np.float32))],  # batch size
        [("obs", obs), ("new", np.zeros((2, 1), dtype=np.float32)), ("", reward)],  # name
        [("obs", obs), ("new", np.zeros(3, dtype=np.float32))],  # batch size of a new one
    ]
    for rows in bad_rows:
        with pytest.raises((TypeError, ValueError)):
            ws._set_numpy_rows(3, rows)
        assert_same(ws, before)
    with pytest.raises(IndexError):
        ws._set_numpy_rows(2**31, [("obs", obs)])
    assert_same(ws, before)
    # a variable the env agent meets in tracked mode takes the numpy row as a private copy
    w = torch.nn.Parameter(torch.ones(()))
    ws.set("reward", 3, w * torch.ones(2))
    ws._set_numpy_rows(4, [("obs", obs), ("obs", obs), ("reward", reward)])  # a name twice
    reward[0] = 5.0
    assert ws["reward"][4].tolist() == [0.0, 0.0] and ws.time_size() == 5


def test_a_name_twice_in_one_row_keeps_the_last_value() -> None:
    """One row naming a variable twice, past its end: the gap is zero, the last value wins."""
    w = torch.nn.Parameter(torch.ones(()))
    ws = Workspace()
    ws.set("g", 0, w * torch.ones(2))  # tracked
    ws.set("p", 0, torch.ones(2))  # plain
    first, last = np.array([5.0, 5.0], dtype=np.float32), np.array([7.0, 7.0], dtype=np.float32)
    ws._set_numpy_rows(3, [("g", first), ("p", first), ("g", last), ("p", last)])
    assert ws["g"][:, 0].tolist() == [1.0, 0.0, 0.0, 7.0]
    assert ws["p"][:, 0].tolist() == [1.0, 0.0, 0.0, 7.0]


def test_new_variables_in_one_row_share_the_batch_size() -> None:
    """WS-4 inside one multi-variable write on an empty workspace."""
    ws = Workspace()
    with pytest.raises(ShapeError, match="batch size 2"):
        ws._set_numpy_rows(0, [("a", np.zeros(2)), ("b", np.zeros(3))])
    assert list(ws.keys()) == [] and ws.batch_size() == 0


def test_get_after_set_full_reads_through_a_fresh_numpy_view() -> None:
    """WS-2, WS-11: get of a variable written by set_full returns a copy of the row."""
    ws = Workspace()
    ws.set_full("x", torch.arange(6.0).reshape(3, 2))
    row = ws.get("x", 1)
    assert row.tolist() == [2.0, 3.0]
    row.add_(10.0)
    assert ws.get("x", 1).tolist() == [2.0, 3.0]


def test_fast_path_fallbacks() -> None:
    """WS-5, WS-9: the inlined set path hands grad values and mismatches to the full path."""
    w = torch.nn.Parameter(torch.ones(()))
    ws = Workspace()
    ws.set("x", 0, torch.ones(2))
    ws.set("x", 1, torch.ones(2))  # the numpy view is cached now
    with pytest.raises(ShapeError):
        ws.set("x", 2, torch.ones(2, 1))
    with pytest.raises(DTypeError):
        ws.set("x", 2, torch.ones(2, dtype=torch.float64))
    ws.set("x", 2, w * torch.ones(2))  # requires grad: the variable becomes tracked
    torch.autograd.backward(ws["x"].sum())
    assert w.grad is not None and float(w.grad) == 2.0


def test_transitions_of_variables_on_other_devices() -> None:
    """TR-1: each variable's pairs are gathered on its own device (meta, installed directly)."""
    ws = Workspace()
    for t in range(3):
        ws.set("env/done", t, torch.zeros(2, dtype=torch.bool))
    ws._install("m", torch.zeros(3, 2, 5, device="meta"))
    ws._install("n", torch.zeros(3, 2, device="meta"))
    out = ws.get_transitions()
    assert out["m"].device.type == "meta" and tuple(out["m"].shape) == (2, 4, 5)
    assert tuple(out["n"].shape) == (2, 4)


def test_rows_with_the_negative_bit() -> None:
    """WS-2, WS-8: a row that is a lazily negated view (``z.conj().imag``) is stored by value."""
    z = torch.tensor([1 + 2j, 3 - 4j])
    row = z.conj().imag
    assert row.is_neg()
    ws = Workspace()
    ws.set("x", 0, row)  # first write
    ws.set("x", 1, row)  # into the numpy view
    assert ws["x"].tolist() == [[-2.0, 4.0], [-2.0, 4.0]]


# -- names, values and bounds (WS-20..WS-24) ------------------------------------------------


def test_names_must_be_non_empty_strings() -> None:
    """WS-20: "" raises ValueError, a non-str TypeError, for set and set_full; nothing changes."""
    ws = filled()
    before = snapshot(ws)
    calls: list[Callable[[], object]] = [
        lambda: ws.set("", 0, torch.zeros(3)),
        lambda: ws.set_full("", torch.zeros(2, 3)),
    ]
    for call in calls:
        with pytest.raises(InvalidArgumentError, match="non-empty"):
            call()
    with pytest.raises(TypeError, match="variable name"):
        ws.set_full(("x",), torch.zeros(2, 3))  # type: ignore[arg-type]
    assert_same(ws, before)
    assert ["x"] not in ws and 3 not in ws  # `in` answers False for any non-name


ALL_DTYPES = [
    torch.bool,
    torch.uint8,
    torch.int8,
    torch.int16,
    torch.int32,
    torch.int64,
    torch.uint16,
    torch.uint32,
    torch.uint64,
    torch.float16,
    torch.bfloat16,
    torch.float32,
    torch.float64,
    torch.complex64,
    torch.complex128,
]


@pytest.mark.parametrize("dtype", ALL_DTYPES, ids=str)
def test_every_dtype_through_every_operation(dtype: torch.dtype) -> None:
    """WS-21: the listed dtypes go through writes, copies, selections and transitions."""
    ws = Workspace()
    for t in (0, 2):
        ws.set("x", t, (torch.arange(6).reshape(3, 2) + t).to(dtype))
        ws.set("env/done", t, torch.tensor([False, t == 0, False]))
    ws.set("env/done", 1, torch.zeros(3, dtype=torch.bool))
    ws.set("x", 1, torch.ones(3, 2, dtype=dtype))
    pairs = ws.get_transitions()
    assert pairs["x"].dtype == dtype and pairs["x"].shape == (2, 5, 2)
    flat = Workspace()
    flat.set_full("f", torch.arange(6).reshape(3, 2).to(dtype))
    assert flat.get_transitions(None)["f"].shape == (2, 4)
    assert ws.select_batch(torch.tensor([2, 0]))["x"].dtype == dtype
    assert ws.select_subtime(torch.tensor([0, 1, 0]), 2)["x"].dtype == dtype
    assert Workspace.cat_batch([ws, ws])["x"].shape == (3, 6, 2)
    assert ws.subtime(1, 3)["x"].dtype == dtype and ws.to("cpu")["x"].dtype == dtype
    ws.copy_time(0, 3, 1)
    assert torch.equal(ws["x"][3], ws["x"][0])


def _unsupported_values() -> list[torch.Tensor]:
    """[3, 2] values of every kind WS-22 rejects, and two dtypes outside WS-21."""
    dense = torch.zeros(3, 2)
    with warnings.catch_warnings():  # beta or deprecated layouts warn when built
        warnings.simplefilter("ignore")
        return [
            dense.to_sparse(),
            dense.to_sparse_csr(),
            dense.to_mkldnn(),
            torch.quantize_per_tensor(dense, 1.0, 0, torch.qint8),
            torch.nested.nested_tensor([torch.zeros(2), torch.zeros(3)]),
            torch.zeros(3, 2, device="meta"),
            torch.zeros(3, 2, dtype=torch.float8_e4m3fn),
            torch.zeros(3, 2, dtype=torch.complex32),
        ]


def test_other_dtypes_and_layouts_are_rejected() -> None:
    """WS-21 (others not required; the reference refuses them), WS-22, ERR-5: TypeError."""
    ws = filled()
    before = snapshot(ws)
    for value in _unsupported_values():
        with pytest.raises(TypeError, match="'new'"):
            ws.set("new", 0, value)
        with pytest.raises(TypeError, match="'new'"):
            ws.set_full("new", value)
        with pytest.raises(TypeError):
            ws.set("y", 1, value)
    assert_same(ws, before)


def test_time_bound() -> None:
    """WS-23: t >= 2**31 raises IndexError before allocating; 2**31 - 1 is a valid row."""
    ws = filled()
    before = snapshot(ws)
    for t in (2**31, 2**40, 2**80):
        with pytest.raises(TimeIndexError, match="2\\*\\*31"):
            ws.set("x", t, torch.zeros(3, dtype=torch.int64))
        with pytest.raises(TimeIndexError):
            ws.set("new", t, torch.zeros(3))
    with pytest.raises(ValueError, match="2\\*\\*31"):
        ws.set_full("z", torch.zeros(2**31 + 1, 3, 0))
    assert_same(ws, before)
    empty = Workspace()
    empty.set("e", 2**31 - 1, torch.zeros(1, 0))  # rows of no bytes: the bound itself
    assert empty.time_size() == 2**31 and empty.get("e", 2**31 - 1).shape == (1, 0)
    empty.set("e", 2**31 - 1, torch.zeros(1, 0))  # fast path at the last row
    empty.set_full("f", torch.zeros(2**31, 1, 0))
    assert empty.time_size() == 2**31


def _huge(requires_grad: bool = False) -> torch.Tensor:
    """A [1, 2**23, 2**23] float64 row (512 TiB once copied) that is a stride-0 view."""
    base = torch.zeros((), dtype=torch.float64, requires_grad=requires_grad)
    return (base * 1.0 if requires_grad else base).expand(1, 2**23, 2**23)


def test_allocation_failures_change_nothing() -> None:
    """WS-24, ERR-5: a write whose storage cannot be allocated raises MemoryError, and leaves
    no variable behind (new variable) or the old time size and values (growth)."""
    from bbrl_reference import AllocationError

    ws = Workspace()
    calls: list[Callable[[], object]] = [
        lambda: ws.set("x", 0, _huge()),
        lambda: ws.set("g", 0, _huge(requires_grad=True)),
        lambda: ws.set_full("f", _huge()[None]),
        lambda: ws._set_numpy_rows(0, [("a", np.zeros(1)), ("b", _huge().numpy())]),
    ]
    for call in calls:
        with pytest.raises(MemoryError):
            call()
        assert list(ws.keys()) == [] and ws.batch_size() == 0
    big = Workspace()
    big.set("x", 0, torch.zeros(1, 2**10, 2**10, dtype=torch.float64))
    big.set("y", 0, torch.zeros(1))
    before = snapshot(big)
    with pytest.raises(AllocationError, match="'x'"):  # 2**31 rows of 8 MiB
        big.set("x", 2**31 - 1, torch.ones(1, 2**10, 2**10, dtype=torch.float64))
    with pytest.raises(MemoryError):  # the same through a copy_time target
        big.copy_time(0, 2**31 - 1, 1)
    assert_same(big, before)


# -- several names, workspaces from workspaces, copy_time (WS-25..WS-43) --------------------


def test_several_names_at_once() -> None:
    """WS-25: a tuple (in order, repeats allowed) for a tuple or list of names; every name is
    checked before anything is read."""
    ws = filled()
    x, y, x2 = ws["x", "y", "x"]
    assert torch.equal(x, ws["x"]) and torch.equal(y, ws["y"]) and torch.equal(x2, x)
    assert ws[["y"]][0].dtype == torch.float32 and ws[()] == ()
    with pytest.raises(KeyError, match="'zz'"):
        ws["x", "zz"]
    with pytest.raises(TypeError):
        ws["x", 3]  # type: ignore[index]


def test_copy_of_a_workspace() -> None:
    """WS-27, WS-26: Workspace(other) copies; writes to either never reach the other."""
    ws = filled()
    w = torch.nn.Parameter(torch.ones(()))
    for t in range(4):
        ws.set("g", t, w * torch.full((3,), float(t)))
    copy = Workspace(ws)
    assert list(copy.keys()) == ["x", "y", "g"] and copy.batch_size() == 3
    for name in list(ws.keys()):
        assert torch.equal(copy[name], ws[name])
    torch.autograd.backward(copy["g"].sum())
    assert w.grad is not None and float(w.grad) == 3 * (0 + 1 + 2 + 3)
    copy.set("x", 0, torch.tensor([7, 7, 7]))
    copy.copy_time(0, 1, 1, ["x"])
    ws.set("y", 1, torch.zeros(3))
    assert ws["x"][:, 0].tolist() == [0, 10, 20, 30]
    assert copy["y"][:, 0].tolist() == [100.0, 110.0, 120.0, 130.0]
    copy.zero_grad()
    assert ws["g"].requires_grad
    assert Workspace(Workspace()).time_size() == 0 and Workspace(None).batch_size() == 0
    with pytest.raises(TypeError, match="Workspace"):
        Workspace({"x": torch.zeros(2, 2)})  # type: ignore[arg-type]
    assert torch.equal(ws.contiguous()["x"], ws["x"])


def test_select_batch() -> None:
    """WS-28..WS-30: positions (repeats, any integer dtype) and masks; errors change nothing."""
    ws = filled(T=3)
    out = ws.select_batch(torch.tensor([2, 0, 2]))
    assert out["x"].tolist() == [[2, 0, 2], [12, 10, 12], [22, 20, 22]]
    assert out.batch_size() == 3 and out["y"].dtype == torch.float32
    mask = ws.select_batch(torch.tensor([True, False, True]))
    assert mask["x"].tolist() == [[0, 2], [10, 12], [20, 22]]
    assert ws.select_batch(torch.tensor([1], dtype=torch.int32))["x"][:, 0].tolist() == [1, 11, 21]
    assert ws.select_batch(torch.tensor([], dtype=torch.int64))["x"].shape == (3, 0)
    assert Workspace().select_batch(torch.zeros(0, dtype=torch.bool)).batch_size() == 0
    before = snapshot(ws)
    bad_indexes: list[tuple[object, type[Exception]]] = [
        (torch.tensor([3]), IndexError),
        (torch.tensor([-1]), IndexError),
        ([0, 1], TypeError),
        (torch.tensor([0.0]), TypeError),
        (torch.tensor([0], dtype=torch.uint8), TypeError),
        (torch.tensor([[0]]), ValueError),
        (torch.tensor([True, False]), ValueError),
    ]
    for bad, exc in bad_indexes:
        with pytest.raises(exc, match="batch_indexes"):
            ws.select_batch(bad)  # type: ignore[arg-type]
    assert_same(ws, before)
    mixed = filled(T=2)
    mixed.set("x", 3, torch.tensor([1, 2, 3]))  # each variable keeps its own time size
    picked = mixed.select_batch(torch.tensor([1]))
    assert picked["x"].shape == (4, 1) and picked["y"].shape == (2, 1)


def test_select_batch_n() -> None:
    """WS-31: n columns drawn with replacement from torch's global generator."""
    ws = filled(T=2, B=5)
    torch.manual_seed(3)
    first = ws.select_batch_n(50)
    torch.manual_seed(3)
    again = ws.select_batch_n(50)
    assert torch.equal(first["x"], again["x"]) and first.batch_size() == 50
    assert torch.equal(first["y"], (first["x"] + 100).float())  # the same columns everywhere
    assert set(first["x"][0].tolist()) == {0, 1, 2, 3, 4}
    assert ws.select_batch_n(0).batch_size() == 0
    assert Workspace().select_batch_n(0).batch_size() == 0
    with pytest.raises(ValueError, match="'n'"):
        ws.select_batch_n(-1)
    with pytest.raises(ValueError, match="batch size 0"):
        Workspace().select_batch_n(2)
    with pytest.raises(MemoryError, match="'n'"):
        ws.select_batch_n(2**62)


def test_subtime_and_truncation() -> None:
    """WS-32..WS-34: rows from..to-1; bounds never clipped, negatives never from the end."""
    ws = filled(T=4)
    for sub in (ws.subtime(1, 3), ws.get_time_truncated_workspace(1, 3)):
        assert sub["x"][:, 0].tolist() == [10, 20] and sub.batch_size() == 3
    assert ws.subtime(2, 2)["x"].shape == (0, 3) and ws.subtime(0, 4).time_size() == 4
    assert ws.get_time_truncated("y", 3, 4)[:, 0].tolist() == [130.0]
    before = snapshot(ws)
    cases: list[Case] = [
        (lambda: ws.subtime(-1, 2), IndexError),
        (lambda: ws.subtime(0, 5), IndexError),
        (lambda: ws.subtime(3, 2), ValueError),
        (lambda: ws.get_time_truncated_workspace(2, 9), IndexError),
        (lambda: ws.get_time_truncated("x", -2, 4), IndexError),
        (lambda: ws.get_time_truncated("x", 2, 1), ValueError),
        (lambda: ws.get_time_truncated("zz", 0, 1), KeyError),
        (lambda: ws.subtime(0.5, 1), TypeError),  # type: ignore[arg-type]
    ]
    for call, exc in cases:
        with pytest.raises(exc):
            call()
    assert_same(ws, before)
    ws.set("x", 4, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="one time size"):
        ws.subtime(0, 1)
    sub = filled().subtime(0, 2)
    sub.set("x", 2, torch.tensor([5, 5, 5]))  # the adopted view grows copy on write
    assert sub["x"][:, 0].tolist() == [0, 10, 5]


def test_select_subtime() -> None:
    """WS-35, WS-36: a window of rows starting at t[b] for each column b."""
    ws = filled(T=4)
    out = ws.select_subtime(torch.tensor([0, 2, 1]), 2)
    assert out["x"].tolist() == [[0, 21, 12], [10, 31, 22]]
    assert out["y"].shape == (2, 3) and out.batch_size() == 3
    assert ws.select_subtime(torch.tensor([4, 0, 4]), 0)["x"].shape == (0, 3)
    assert Workspace().select_subtime(torch.zeros(0, dtype=torch.int64), 0).time_size() == 0
    before = snapshot(ws)
    cases: list[Case] = [
        (lambda: ws.select_subtime(torch.tensor([0, 3, 1]), 2), IndexError),
        (lambda: ws.select_subtime(torch.tensor([-1, 0, 0]), 1), IndexError),
        (lambda: ws.select_subtime(torch.tensor([0, 0]), 1), ValueError),
        (lambda: ws.select_subtime(torch.tensor([0, 0, 0]), -1), ValueError),
        (lambda: ws.select_subtime(torch.tensor([0.0, 0.0, 0.0]), 1), TypeError),
        (lambda: ws.select_subtime([0, 0, 0], 1), TypeError),  # type: ignore[arg-type]
    ]
    for call, exc in cases:
        with pytest.raises(exc):
            call()
    assert_same(ws, before)


def test_cat_batch() -> None:
    """WS-37, WS-38: a static method; names, time sizes, shapes, dtypes must agree."""
    a = filled(T=2, B=2)
    b = filled(T=2, B=3)
    for out in (Workspace.cat_batch([a, b]), Workspace().cat_batch((a, b))):
        assert out["x"].tolist() == [[0, 1, 0, 1, 2], [10, 11, 10, 11, 12]]
        assert out.batch_size() == 5
    assert Workspace.cat_batch([Workspace()]).batch_size() == 0
    other = filled(T=2, B=2)
    other.set_full("y", torch.zeros(2, 2, dtype=torch.float64))
    longer = filled(T=3, B=2)
    wider = filled(T=2, B=2)
    wider.set_full("y", torch.zeros(2, 2, 4))
    extra = filled(T=2, B=2)
    extra.set("z", 0, torch.zeros(2))
    cat_cases: list[tuple[object, type[Exception]]] = [
        ([], ValueError),
        ([a, "b"], TypeError),
        (a, TypeError),
        ([a, extra], KeyError),
        ([extra, a], KeyError),
        ([a, longer], ValueError),
        ([a, wider], ValueError),
        ([a, other], TypeError),
    ]
    for args, exc in cat_cases:
        with pytest.raises(exc):
            Workspace.cat_batch(args)  # type: ignore[arg-type]
    meta = filled(T=2, B=2)
    meta._install("y", torch.zeros(2, 2, device="meta"))
    with pytest.raises(TypeError, match="device"):
        Workspace.cat_batch([a, meta])


def test_to_device() -> None:
    """WS-39: a copy on the device; bad devices raise TypeError or ValueError."""
    ws = filled()
    for device in ("cpu", torch.device("cpu")):
        moved = ws.to(device)
        assert torch.equal(moved["x"], ws["x"]) and moved["y"].device.type == "cpu"
    moved.set("x", 0, torch.tensor([9, 9, 9]))
    assert ws["x"][0].tolist() == [0, 1, 2]
    assert Workspace().to("cpu").time_size() == 0
    devices: list[tuple[Any, type[Exception]]] = [
        (1.5, TypeError),
        (True, TypeError),
        ("no-such-device", ValueError),
        ("meta", ValueError),
        ("cuda:1000", ValueError),
    ]
    for device, exc in devices:
        with pytest.raises(exc, match="device"):
            ws.to(device)


def test_copy_time() -> None:
    """WS-41, WS-42: rows read before writing, growth like set, errors change nothing."""
    ws = filled(T=4)
    ws.copy_time(0, 1, 3)  # overlapping
    assert ws["x"][:, 0].tolist() == [0, 0, 10, 20]
    ws = filled(T=4)
    ws.copy_time(2, 5, 2, ["x"])  # past the end: zero-filled gap, "y" untouched
    assert ws["x"][:, 0].tolist() == [0, 10, 20, 30, 0, 20, 30]
    assert ws["y"].shape == (4, 3)
    ws.copy_time(0, 9, 0)  # nothing to copy: nothing changes
    assert ws["x"].shape == (7, 3)
    before = snapshot(ws)
    cases: list[Case] = [
        (lambda: ws.copy_time(0, 0, -1), ValueError),
        (lambda: ws.copy_time(-1, 0, 1), IndexError),
        (lambda: ws.copy_time(0, -1, 1), IndexError),
        (lambda: ws.copy_time(3, 0, 2), IndexError),  # "y" has 4 rows
        (lambda: ws.copy_time(0, 2**31 - 1, 2, ["x"]), IndexError),
        (lambda: ws.copy_time(0, 1, 1, ["x", "zz"]), KeyError),
        (lambda: ws.copy_time(0, 1, 1, "x"), TypeError),
        (lambda: ws.copy_time(0, 1, 1, 3), TypeError),  # type: ignore[arg-type]
        (lambda: ws.copy_time(0, 1, 1, torch.tensor(0)), TypeError),
    ]
    for call, exc in cases:
        with pytest.raises(exc):
            call()
    assert_same(ws, before)
    w = torch.nn.Parameter(torch.ones(()))
    tracked = Workspace()
    for t in range(3):
        tracked.set("g", t, w * torch.full((2,), float(t)))
    tracked.copy_time(0, 4, 2)
    assert tracked["g"][:, 0].tolist() == [0.0, 1.0, 2.0, 0.0, 0.0, 1.0]
    torch.autograd.backward(tracked["g"].sum())
    assert w.grad is not None and float(w.grad) == 2 * (0 + 1 + 2 + 0 + 1)


def test_remove_variable() -> None:
    """WS-43: like clear(name); an unknown name raises KeyError."""
    ws = filled()
    ws.remove_variable("x")
    assert list(ws.keys()) == ["y"]
    with pytest.raises(KeyError, match="'x'"):
        ws.remove_variable("x")
    ws.remove_variable("y")
    assert ws.batch_size() == 0


# -- WS-46: grad modes ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", [torch.no_grad, torch.inference_mode])
def test_a_stack_made_under_a_grad_mode_is_not_kept(mode: Callable[[], Any]) -> None:
    w = torch.tensor(2.0, requires_grad=True)
    ws = Workspace()
    for t in range(3):
        ws.set("lp", t, w * torch.ones(1) * (t + 1))
    with mode():
        assert not ws.get_full("lp").requires_grad
    torch.autograd.backward(ws.get_full("lp").sum())
    assert w.grad is not None and float(w.grad) == 6.0


def test_storage_made_under_inference_mode_is_normal() -> None:
    with torch.inference_mode():
        ws = Workspace()
        ws.set("q", 0, torch.ones(2, dtype=torch.bfloat16))  # the row write (no numpy path)
        copy = Workspace(ws)
    for made in (ws, copy):
        assert not made.get_full("q").is_inference()
        made.set("q", 0, torch.zeros(2, dtype=torch.bfloat16))  # in place, outside the mode
        assert made.get_full("q").tolist() == [[0.0, 0.0]]
