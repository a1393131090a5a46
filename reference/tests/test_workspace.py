"""Workspace: spec/workspace.md (WS-n) and the workspace rows of spec/errors.md (ERR-n)."""

from __future__ import annotations

from collections.abc import Callable

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
    """WS-5 (device, not specified further): a value on another device raises TypeError."""
    ws = filled()
    before = snapshot(ws)
    with pytest.raises(DTypeError, match="device"):
        ws.set("x", 0, torch.zeros(3, dtype=torch.int64, device="meta"))
    assert_same(ws, before)


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
    with pytest.raises(DTypeError):  # the numpy helper falls back to full validation
        ws._set_numpy("h", 4, torch.ones(2).numpy())
    assert ws.time_size() == 4


def test_numpy_fast_path_helpers() -> None:
    """The env agent's internal numpy writes follow WS-2/WS-3 and fall back when needed."""
    import numpy as np

    ws = Workspace()
    ws._set_numpy_rows(0, [("a", np.array([1.0, 2.0], dtype=np.float32))])  # new variable
    ws._set_numpy_rows(3, [("a", np.array([3.0, 4.0], dtype=np.float32))])  # gap
    assert ws["a"][:, 0].tolist() == [1.0, 0.0, 0.0, 3.0]
    ws._set_numpy("a", 5, np.array([5.0, 6.0], dtype=np.float32))
    assert ws["a"][:, 1].tolist() == [2.0, 0.0, 0.0, 4.0, 0.0, 6.0]
    with pytest.raises(DTypeError):
        ws._set_numpy("a", 1, np.array([1, 2]))  # int64 into float32: full validation
    row = ws._numpy_row("a", 3)
    assert row is not None and row.tolist() == [3.0, 4.0]
    assert ws._numpy_row("a", 6) is None and ws._numpy_row("zz", 0) is None
    ws.set_full("b", torch.arange(4.0).reshape(2, 2))  # no numpy view until the first read
    row = ws._numpy_row("b", 1)
    assert row is not None and row.tolist() == [2.0, 3.0]
    ws.set_full("h", torch.ones(2, 2, dtype=torch.bfloat16))  # numpy has no bfloat16
    assert ws._numpy_row("h", 0) is None


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
    """TR-1: each variable's pairs are gathered on its own device (meta here)."""
    ws = Workspace()
    for t in range(3):
        ws.set("env/done", t, torch.zeros(2, dtype=torch.bool))
        ws.set("m", t, torch.zeros(2, 5, device="meta"))
    out = ws.get_transitions()
    assert out["m"].device.type == "meta" and tuple(out["m"].shape) == (2, 4, 5)


def test_rows_with_the_negative_bit() -> None:
    """WS-2, WS-8: a row that is a lazily negated view (``z.conj().imag``) is stored by value."""
    z = torch.tensor([1 + 2j, 3 - 4j])
    row = z.conj().imag
    assert row.is_neg()
    ws = Workspace()
    ws.set("x", 0, row)  # first write
    ws.set("x", 1, row)  # into the numpy view
    assert ws["x"].tolist() == [[-2.0, 4.0], [-2.0, 4.0]]
