"""get_transitions: spec/transitions.md (TR-1..TR-9)."""

from __future__ import annotations

import pytest
import torch
from bbrl_reference import DTypeError, ShapeError, UnknownVariableError, Workspace


def rollout(T: int = 4, B: int = 3, dones: tuple[tuple[int, int], ...] = ()) -> Workspace:
    """x[t, b] = 10 t + b, obs [B, 2] = (x, -x), done True at the given (t, b)."""
    ws = Workspace()
    for t in range(T):
        x = 10 * t + torch.arange(B)
        ws.set("x", t, x)
        ws.set("obs", t, torch.stack((x, -x), dim=1).float())
        ws.set("env/done", t, torch.tensor([(t, b) in dones for b in range(B)]))
    return ws


def test_order_and_dropping_worked_example() -> None:
    """TR-1, TR-2, TR-3: bbrl-behaviour item 1: done[0,1], done[1,0], done[3,2]."""
    out = rollout(dones=((0, 1), (1, 0), (3, 2))).get_transitions()
    assert out["x"][0].tolist() == [0, 2, 11, 12, 20, 21, 22]
    assert out["x"][1].tolist() == [10, 12, 21, 22, 30, 31, 32]
    assert out["obs"].shape == (2, 7, 2) and out["obs"].dtype == torch.float32
    assert torch.equal(out["obs"][..., 0].long(), out["x"])
    assert out["env/done"].shape == (2, 7) and out.batch_size() == 7


def test_no_filter_keeps_all_pairs() -> None:
    """TR-2, TR-4: filter_key=None keeps (T-1)*B pairs in column t*B + b order."""
    out = rollout(dones=((0, 0),)).get_transitions(filter_key=None)
    assert out["x"][0].tolist() == [0, 1, 2, 10, 11, 12, 20, 21, 22]
    assert out["x"][1].tolist() == [10, 11, 12, 20, 21, 22, 30, 31, 32]


def test_single_row_gives_empty_pairs() -> None:
    """TR-5: T = 1 gives [2, 0, *S] for every variable."""
    out = rollout(T=1).get_transitions()
    assert out["x"].shape == (2, 0) and out["obs"].shape == (2, 0, 2)
    assert out.time_size() == 2 and out.batch_size() == 0


def test_filter_must_be_a_bool_t_b_tensor() -> None:
    """TR-6: wrong dtype TypeError, wrong shape ValueError, unknown key KeyError."""
    ws = rollout()
    with pytest.raises(DTypeError, match="'x'"):
        ws.get_transitions("x")
    ws.set("flags", 0, torch.zeros(3, 2, dtype=torch.bool))
    for t in range(1, 4):
        ws.set("flags", t, torch.zeros(3, 2, dtype=torch.bool))
    with pytest.raises(ShapeError, match="'flags'"):
        ws.get_transitions("flags")
    with pytest.raises(UnknownVariableError, match="'missing'"):
        ws.get_transitions("missing")


def test_mixed_time_sizes() -> None:
    """TR-7: variables with different time sizes raise ValueError."""
    ws = rollout()
    ws.set("x", 4, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match="time size"):
        ws.get_transitions()


def test_keeps_autograd_and_does_not_alias() -> None:
    """TR-8: gradients flow through the result; writing the result leaves the source intact."""
    w = torch.nn.Parameter(torch.tensor(1.0))
    ws = rollout(T=3)
    for t in range(3):
        ws.set("v", t, w * torch.full((3,), float(t)))
    source = ws["x"].clone()
    out = ws.get_transitions()
    torch.autograd.backward(out["v"].sum())
    assert w.grad is not None and float(w.grad) == 3 * (0 + 1) + 3 * (1 + 2)
    out["x"].add_(1000)
    out.set("x", 0, torch.zeros(6, dtype=torch.int64))
    assert torch.equal(ws["x"], source)


def test_empty_workspace_without_filter() -> None:
    """TR-1 on an empty workspace: an empty result; with a filter key: KeyError."""
    assert list(Workspace().get_transitions(None).keys()) == []
    with pytest.raises(KeyError):
        Workspace().get_transitions()


def test_large_rollout_matches_masking() -> None:
    """TR-2, TR-3 against a boolean-mask model at T=50, B=8."""
    T, B = 50, 8
    g = torch.Generator().manual_seed(1)
    done = torch.rand(T, B, generator=g) < 0.1
    obs = torch.randn(T, B, 3, generator=g)
    ws = Workspace()
    ws.set_full("env/done", done)
    ws.set_full("obs", obs)
    out = ws.get_transitions()
    keep = ~done[:-1].reshape(-1)
    assert torch.equal(out["obs"][0], obs[:-1].reshape(-1, 3)[keep])
    assert torch.equal(out["obs"][1], obs[1:].reshape(-1, 3)[keep])


def test_no_final_state_is_bbrls_spelling_of_no_filter() -> None:
    """TR-11: no_final_state=True keeps every pair and never reads the filter."""
    ws = rollout(dones=((0, 0),))
    expected = ws.get_transitions(filter_key=None)["x"]
    for filter_key in ("env/done", "missing", "x", None):
        out = ws.get_transitions(filter_key, no_final_state=True)
        assert torch.equal(out["x"], expected)
    assert ws.get_transitions(no_final_state=False)["x"].shape == (2, 8)
    with pytest.raises(TypeError, match="no_final_state"):
        ws.get_transitions(no_final_state=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="filter_key"):
        ws.get_transitions(True)  # type: ignore[arg-type]


@pytest.mark.parametrize("dtype", [torch.uint16, torch.uint32, torch.uint64, torch.complex64])
def test_transitions_of_every_dtype(dtype: torch.dtype) -> None:
    """TR-1, WS-21: uint16/32/64 pairs (no 1-d index_select kernel in torch) and complex."""
    ws = rollout(T=3, B=2, dones=((1, 1),))
    ws.set_full("u", ws["x"].to(dtype))
    ws.set_full("v", ws["obs"].abs().to(dtype))
    out = ws.get_transitions()
    u = out["u"].real if dtype.is_complex else out["u"]
    assert out["u"].dtype == dtype and torch.equal(u.to(torch.int64), out["x"])
    assert torch.equal(out["v"].real.to(torch.int64), out["obs"].abs().to(torch.int64))
