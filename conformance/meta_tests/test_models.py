"""Meta tests of the suite's pure-Python models (bbrl_conformance._models).

Each model is checked on hand-worked examples (the expected values are written out here, not
computed by the model), including the cases bbrl gets wrong (B1-B5).
"""

from __future__ import annotations

import pytest
import torch
from bbrl_conformance._models import (
    ReplayBufferModel,
    WorkspaceModel,
    observe_workspace,
    same_contents,
    transition_columns,
    transitions_model,
)


def test_workspace_model_set_grows_with_zero_rows() -> None:
    ws = WorkspaceModel()
    ws.set("x", 0, torch.tensor([1.0, 2.0]))
    ws.set("x", 3, torch.tensor([7.0, 8.0]))
    assert ws.time_size("x") == 4
    assert ws.get_full("x").tolist() == [[1, 2], [0, 0], [0, 0], [7, 8]]


def test_workspace_model_copies_values() -> None:
    ws = WorkspaceModel()
    value = torch.tensor([1, 2])
    ws.set("x", 0, value)
    value[0] = 99
    assert ws.get("x", 0).tolist() == [1, 2]


def _abc_model() -> WorkspaceModel:
    ws = WorkspaceModel()
    for t in range(5):
        for offset, name in enumerate(["a", "b", "c"]):
            ws.set(name, t, torch.tensor([100 * offset + t]))
    return ws


def test_workspace_model_copy_n_last_steps_only_named() -> None:
    ws = _abc_model()
    ws.copy_n_last_steps(1, ["a"])  # B1: bbrl copies b and c too
    assert ws.get_full("a").flatten().tolist() == [4, 1, 2, 3, 4]
    assert ws.get_full("b").flatten().tolist() == [100, 101, 102, 103, 104]


def test_workspace_model_copy_n_last_steps_overlapping() -> None:
    ws = _abc_model()
    ws.copy_n_last_steps(3)  # B2: bbrl gives [4, 3, 4, 3, 4]
    assert ws.get_full("a").flatten().tolist() == [2, 3, 4, 3, 4]
    assert ws.get_full("c").flatten().tolist() == [202, 203, 204, 203, 204]


@pytest.mark.parametrize("n", [0, 5])
def test_workspace_model_copy_n_last_steps_no_ops(n: int) -> None:
    ws = _abc_model()
    ws.copy_n_last_steps(n)
    assert ws.get_full("a").flatten().tolist() == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("n", [-1, 6])
def test_workspace_model_copy_n_last_steps_rejects_and_keeps_state(n: int) -> None:
    ws = _abc_model()
    with pytest.raises(ValueError):
        ws.copy_n_last_steps(n)
    assert ws.time_size("a") == 5
    assert ws.get_full("b").flatten().tolist() == [100, 101, 102, 103, 104]


def test_workspace_model_set_full_and_clear() -> None:
    ws = WorkspaceModel()
    ws.set_full("x", torch.arange(6).reshape(3, 2))
    assert ws.get("x", 2).tolist() == [4, 5]
    ws.set("y", 0, torch.tensor([1]))
    ws.clear("x")
    assert ws.keys() == ["y"]
    ws.clear()
    assert ws.keys() == []


def test_transition_columns_probe_example() -> None:
    # bbrl-behaviour.md item 1: T=4, B=3, done at (0,1), (1,0), (3,2).
    mask = [[False, True, False], [True, False, False], [False] * 3, [False, False, True]]
    assert transition_columns(4, 3, mask) == [
        (0, 0),
        (0, 2),
        (1, 1),
        (1, 2),
        (2, 0),
        (2, 1),
        (2, 2),
    ]
    assert len(transition_columns(4, 3, None)) == 9


def test_transitions_model_probe_example() -> None:
    x = torch.tensor([[10 * t + b for b in range(3)] for t in range(4)])
    done = torch.zeros((4, 3), dtype=torch.bool)
    done[0, 1] = done[1, 0] = done[3, 2] = True
    out = transitions_model({"x": x, "env/done": done})
    assert out["x"].tolist() == [[0, 2, 11, 12, 20, 21, 22], [10, 12, 21, 22, 30, 31, 32]]
    assert out["env/done"].shape == (2, 7)
    assert out["env/done"][1].tolist() == [True, False, False, False, False, False, True]
    everything = transitions_model({"x": x}, filter_key=None)
    assert everything["x"][0].tolist() == [0, 1, 2, 10, 11, 12, 20, 21, 22]
    assert everything["x"][1].tolist() == [10, 11, 12, 20, 21, 22, 30, 31, 32]


def test_transitions_model_custom_key_replaces_done() -> None:
    x = torch.arange(4).reshape(2, 2)
    flag = torch.tensor([[False, True], [False, False]])
    done = torch.tensor([[True, False], [False, False]])
    out = transitions_model({"x": x, "my/flag": flag, "env/done": done}, filter_key="my/flag")
    assert out["x"].tolist() == [[0], [2]]


def test_transitions_model_time_size_one_keeps_trailing_shape() -> None:
    obs = torch.zeros((1, 4, 3, 2), dtype=torch.float64)
    out = transitions_model({"obs": obs, "env/done": torch.zeros((1, 4), dtype=torch.bool)})
    assert out["obs"].shape == (2, 0, 3, 2)
    assert out["obs"].dtype == torch.float64


def test_transitions_model_mixed_time_sizes() -> None:
    with pytest.raises(ValueError):
        transitions_model({"a": torch.zeros(3, 2), "b": torch.zeros(2, 2)}, filter_key=None)


def _columns(first: int, width: int) -> dict[str, torch.Tensor]:
    ids = torch.arange(first, first + width)
    return {"id": torch.stack([ids, ids + 1000])}


def test_replay_model_fifo_eviction() -> None:
    rb = ReplayBufferModel(5)
    assert rb.put(_columns(0, 2)) == [0, 1]
    rb.put(_columns(2, 2))
    rb.put(_columns(4, 2))
    assert rb.size() == 5
    assert rb.ids() == [1, 2, 3, 4, 5]
    assert [int(item.values["id"][0]) for item in rb.items] == [1, 2, 3, 4, 5]


def test_replay_model_oversize_put_keeps_last_in_order() -> None:
    rb = ReplayBufferModel(5)
    rb.put(_columns(10, 3))
    rb.put(_columns(13, 11))  # B4: bbrl raises IndexError and corrupts its state
    assert [int(item.values["id"][0]) for item in rb.items] == [19, 20, 21, 22, 23]
    assert [int(item.values["id"][1]) for item in rb.items] == [1019, 1020, 1021, 1022, 1023]


def test_replay_model_schema_errors_change_nothing() -> None:
    rb = ReplayBufferModel(4)
    rb.put(_columns(0, 2))
    bad_puts = [
        {},
        {"id": torch.zeros((2, 1), dtype=torch.int32)},
        {"id": torch.zeros((2, 1, 1), dtype=torch.int64)},
        {"id": torch.zeros((3, 1), dtype=torch.int64)},
        {**_columns(5, 1), "extra": torch.zeros((2, 1))},
    ]
    for bad in bad_puts:
        assert not rb.accepts(bad)
        with pytest.raises(ValueError):
            rb.put(bad)
    assert rb.ids() == [0, 1]
    assert rb.next_id == 2


class _DictWorkspace:
    def __init__(self, values: dict[str, torch.Tensor]) -> None:
        self.values = values

    def keys(self) -> list[str]:
        return list(self.values)

    def get_full(self, name: str) -> torch.Tensor:
        return self.values[name]


def test_observe_workspace_clones_and_same_contents_compares_exactly() -> None:
    source = {"x": torch.tensor([[1.0, 2.0]]), "y": torch.tensor([[1, 2]])}
    seen = observe_workspace(_DictWorkspace(source))
    source["x"][0, 0] = 9.0  # the observation is a clone
    assert seen["x"].tolist() == [[1.0, 2.0]]
    assert same_contents(seen, {"x": torch.tensor([[1.0, 2.0]]), "y": torch.tensor([[1, 2]])})
    assert not same_contents(seen, {"x": torch.tensor([[1.0, 2.0]])})  # a name missing
    assert not same_contents(seen, {"x": torch.tensor([[1.0, 2.0]]), "y": torch.tensor([[1, 3]])})
    # same values, other dtype
    assert not same_contents(
        seen, {"x": torch.tensor([[1.0, 2.0]]), "y": torch.tensor([[1.0, 2.0]])}
    )
    assert not same_contents(seen, {"x": torch.tensor([1.0, 2.0]), "y": torch.tensor([[1, 2]])})


def test_workspace_model_contents() -> None:
    ws = WorkspaceModel()
    ws.set("a", 1, torch.tensor([True]))
    assert {k: v.tolist() for k, v in ws.contents().items()} == {"a": [[False], [True]]}


def test_replay_model_rejects_mixed_widths() -> None:
    rb = ReplayBufferModel(3)
    with pytest.raises(ValueError):
        rb.put({"a": torch.zeros(2, 2), "b": torch.zeros(2, 3)})
    assert rb.size() == 0
    assert rb.schema is None


def test_workspace_model_copy_n_last_steps_repeated_names_copy_once() -> None:
    ws = _abc_model()
    ws.copy_n_last_steps(3, ["a", "a"])  # copying twice would give [4, 3, 4, 3, 4]
    assert ws.get_full("a").flatten().tolist() == [2, 3, 4, 3, 4]
    ws = _abc_model()
    ws.copy_n_last_steps(4, ["b", "a", "b"])
    assert ws.get_full("b").flatten().tolist() == [101, 102, 103, 104, 104]
    assert ws.get_full("c").flatten().tolist() == [200, 201, 202, 203, 204]


def test_same_contents_counts_nan_in_place_as_unchanged() -> None:
    nan = float("nan")
    a = {"x": torch.tensor([[nan, 1.0]])}
    assert same_contents(a, {"x": torch.tensor([[nan, 1.0]])})
    assert not same_contents(a, {"x": torch.tensor([[1.0, nan]])})  # NaN moved
    assert not same_contents(a, {"x": torch.tensor([[0.0, 1.0]])})  # NaN replaced
    assert not same_contents({"i": torch.tensor([2**53 + 1])}, {"i": torch.tensor([2**53])})
