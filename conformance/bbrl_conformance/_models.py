"""Pure-Python models of the Workspace, of get_transitions and of the ReplayBuffer.

Expected values in the suite come from these models, never from the implementation under test.
They are written for obviousness, not speed: plain Python containers and loops, torch only to
hold row values. Each model mirrors the clauses of one spec file (workspace.md, transitions.md,
replay-buffer.md); the suite's meta tests (conformance/meta_tests/test_models.py) check them on
hand-worked examples.
"""

from __future__ import annotations

import collections
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch

__all__ = [
    "ReplayBufferModel",
    "WorkspaceModel",
    "observe_workspace",
    "same_contents",
    "transition_columns",
    "transitions_model",
]


class WorkspaceModel:
    """A workspace as a dict of per-time lists of rows (each row a `[B, ...]` tensor).

    Every variable keeps its own list; writing at `t >= len(rows)` appends zero rows up to t.
    Rows are stored as detached clones, so the model never aliases a test's tensors.
    """

    def __init__(self) -> None:
        self.rows: dict[str, list[torch.Tensor]] = {}

    def set(self, name: str, t: int, value: torch.Tensor) -> None:
        rows = self.rows.setdefault(name, [])
        while len(rows) <= t:
            rows.append(torch.zeros_like(value))
        rows[t] = value.detach().clone()

    def set_full(self, name: str, value: torch.Tensor) -> None:
        self.rows[name] = [value[t].detach().clone() for t in range(value.shape[0])]

    def get(self, name: str, t: int) -> torch.Tensor:
        return self.rows[name][t]

    def get_full(self, name: str) -> torch.Tensor:
        return torch.stack(self.rows[name])

    def keys(self) -> list[str]:
        return list(self.rows)

    def time_size(self, name: str) -> int:
        return len(self.rows[name])

    def copy_n_last_steps(self, n: int, var_names: Iterable[str] | None = None) -> None:
        """Rows T-n..T-1 of each named variable become rows 0..n-1; T is unchanged.

        The source rows are read before anything is written, so overlapping ranges (n > T/2)
        copy the original values (bbrl B2 gets this wrong). A name given twice selects its
        variable once (WS-16 selects variables, WS-15 copies rows as they were before the call).
        """
        if n < 0:
            raise ValueError(f"n={n} < 0")
        names = list(self.rows) if var_names is None else list(dict.fromkeys(var_names))
        for name in names:
            rows = self.rows[name]
            size = len(rows)
            if not 0 <= n <= size:
                raise ValueError(f"n={n} outside 0..{size} for {name!r}")
        for name in names:
            rows = self.rows[name]
            size = len(rows)
            source = [rows[i].clone() for i in range(size - n, size)]
            for i, row in enumerate(source):
                rows[i] = row

    def clear(self, name: str | None = None) -> None:
        if name is None:
            self.rows.clear()
        else:
            del self.rows[name]

    def contents(self) -> dict[str, torch.Tensor]:
        """Name -> full `[T, B, ...]` tensor, comparable to `observe_workspace`."""
        return {name: self.get_full(name) for name in self.rows}


def observe_workspace(workspace: Any) -> dict[str, torch.Tensor]:
    """Name -> detached clone of `get_full(name)` of an implementation's workspace.

    What "the workspace is unchanged" means in the suite: the same names with equal tensors.
    """
    return {name: workspace.get_full(name).detach().clone() for name in list(workspace.keys())}


def same_contents(a: Mapping[str, torch.Tensor], b: Mapping[str, torch.Tensor]) -> bool:
    """Same names, and per name the same shape, dtype and values (NaN equal to NaN at the same
    places: a stored NaN that is still there is unchanged)."""
    return sorted(a) == sorted(b) and all(_same_tensor(a[n], b[n]) for n in a)


def _same_tensor(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if not a.dtype.is_floating_point:
        return torch.equal(a, b)
    return bool(((a == b) | (a.isnan() & b.isnan())).all())


def transition_columns(
    time_size: int, batch_size: int, mask: Sequence[Sequence[bool]] | None
) -> list[tuple[int, int]]:
    """The (t, b) of every kept pair (t, t+1) of env b, in output column order.

    Columns are time-major then env (candidate column t * B + b); the pair is dropped exactly
    when mask[t][b] is True (the first element). A mask value in the last row drops nothing.
    """
    kept: list[tuple[int, int]] = []
    for t in range(time_size - 1):
        for b in range(batch_size):
            if mask is None or not mask[t][b]:
                kept.append((t, b))
    return kept


def transitions_model(
    variables: Mapping[str, torch.Tensor], filter_key: str | None = "env/done"
) -> dict[str, torch.Tensor]:
    """Expected `get_transitions(filter_key)` of a workspace holding `variables` (`[T, B, ...]`).

    Every variable becomes `[2, N, ...]`: element 0 is row t, element 1 row t+1. Raises
    ValueError when the variables disagree on T or B (the implementation must too).
    """
    sizes = {tuple(v.shape[:2]) for v in variables.values()}
    if len(sizes) != 1:
        raise ValueError(f"variables disagree on (T, B): {sorted(sizes)}")
    ((time_size, batch_size),) = sizes
    mask: list[list[bool]] | None = None
    if filter_key is not None:
        mask = [[bool(x) for x in row] for row in variables[filter_key].tolist()]
    kept = transition_columns(time_size, batch_size, mask)
    result: dict[str, torch.Tensor] = {}
    for name, full in variables.items():
        if kept:
            first = torch.stack([full[t, b] for t, b in kept])
            second = torch.stack([full[t + 1, b] for t, b in kept])
            result[name] = torch.stack([first, second])
        else:
            result[name] = torch.empty((2, 0, *full.shape[2:]), dtype=full.dtype)
    return result


@dataclass(frozen=True)
class Item:
    """One stored replay-buffer item: its id and its `[T, ...]` value per variable."""

    item_id: int
    values: Mapping[str, torch.Tensor]


class ReplayBufferModel:
    """A FIFO ring as `collections.deque(maxlen=capacity)` of items with sequential ids.

    `put` appends the N columns of a `{name: [T, N, ...]}` mapping in column order; the deque
    evicts the oldest first, so a put with N > capacity keeps the last `capacity` columns.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.items: collections.deque[Item] = collections.deque(maxlen=capacity)
        self.next_id = 0
        self.schema: dict[str, tuple[tuple[int, ...], torch.dtype]] | None = None

    @staticmethod
    def schema_of(
        variables: Mapping[str, torch.Tensor],
    ) -> dict[str, tuple[tuple[int, ...], torch.dtype]]:
        """Name -> (shape without the N dimension, dtype): what the first put fixes."""
        return {
            name: ((v.shape[0], *v.shape[2:]), v.dtype) for name, v in sorted(variables.items())
        }

    def accepts(self, variables: Mapping[str, torch.Tensor]) -> bool:
        """True when a put of `variables` matches the schema fixed by the first put."""
        return self.schema is None or self.schema_of(variables) == self.schema

    def put(self, variables: Mapping[str, torch.Tensor]) -> list[int]:
        """Append every column; returns the ids given to them. Raises ValueError on schema."""
        if not self.accepts(variables):
            raise ValueError("schema differs from the first put")
        widths = {v.shape[1] for v in variables.values()}
        if len(widths) != 1:
            raise ValueError(f"variables disagree on N: {sorted(widths)}")
        (width,) = widths
        if self.schema is None:
            self.schema = self.schema_of(variables)
        ids = []
        for j in range(width):
            column = {name: v[:, j].detach().clone() for name, v in variables.items()}
            self.items.append(Item(self.next_id, column))
            ids.append(self.next_id)
            self.next_id += 1
        return ids

    def size(self) -> int:
        return len(self.items)

    def ids(self) -> list[int]:
        """Stored item ids, oldest first."""
        return [item.item_id for item in self.items]
