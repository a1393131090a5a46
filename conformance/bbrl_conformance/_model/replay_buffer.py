"""The replay buffer of spec/replay-buffer.md, in numpy: a FIFO of items with a fixed schema.

An item is one column of a workspace whose variables are ``[T, N, *S]``: per variable, a
``[T, *S]`` array. The buffer holds the last ``max_size`` items put, oldest first (RB-4, RB-5).
"""

from __future__ import annotations

import collections
import copy

import numpy as np

from bbrl_conformance._model.values import MArray
from bbrl_conformance._model.workspace import (
    ModelError,
    Reason,
    Unspecified,
    WorkspaceModel,
    check,
)

__all__ = ["ReplayBufferModel", "item_key"]

#: per variable name: (dtype, T, item shape S)
Schema = dict[str, tuple[str, int, tuple[int, ...]]]
Item = dict[str, MArray]


def item_key(values: dict[str, MArray]) -> bytes:
    """A key equal for two items exactly when their values are equal (-0.0 counts as 0.0)."""
    parts = []
    for name in sorted(values):
        array = values[name]
        if array.dtype.kind == "f":
            array = np.asarray(array, dtype=np.float64) + 0.0  # exact; turns -0.0 into 0.0
        parts.append(name.encode() + b"\0" + np.ascontiguousarray(array).tobytes())
    return b"\1".join(parts)


class ReplayBufferModel:
    """``ReplayBuffer(max_size)``: items as a deque with ``maxlen=max_size``."""

    def __init__(self, max_size: object) -> None:
        if isinstance(max_size, bool):
            raise Unspecified("a bool max_size")
        if not isinstance(max_size, int):
            why = f"max_size {max_size!r} is not an int"
            raise ModelError([Reason(TypeError, "RB-1", why)])
        if max_size < 1:
            raise ModelError([Reason(ValueError, "RB-1", f"max_size {max_size} < 1")])
        self.max_size = max_size
        self.schema: Schema | None = None
        self.items: collections.deque[Item] = collections.deque(maxlen=max_size)

    def copy(self) -> ReplayBufferModel:
        return copy.deepcopy(self)

    def size(self) -> int:
        """RB-3."""
        return len(self.items)

    @staticmethod
    def schema_of(ws: WorkspaceModel) -> Schema:
        if not ws.vars:
            raise Unspecified("a put of a workspace without variables")
        sizes = {v.time_size for v in ws.vars.values()}
        if len(sizes) > 1:
            raise Unspecified("a put of a workspace whose variables' time sizes differ")
        return {n: (v.dtype, v.time_size, v.item_shape) for n, v in ws.vars.items()}

    def put(self, ws: WorkspaceModel) -> None:
        """RB-2, RB-5, RB-6: append the workspace's columns, after checking the schema."""
        schema = self.schema_of(ws)
        if self.schema is None:
            if ws.batch_size() == 0:
                raise Unspecified("a put of zero items into a buffer without a schema")
        else:
            reasons: list[Reason] = []
            for name in sorted(set(self.schema) ^ set(schema)):
                which = "missing" if name in self.schema else "extra"
                reasons.append(Reason(KeyError, "RB-6", f"{which} variable {name!r}"))
            for name in sorted(set(self.schema) & set(schema)):
                dtype, time_size, item_shape = self.schema[name]
                new_dtype, new_time, new_shape = schema[name]
                if (new_time, new_shape) != (time_size, item_shape):
                    got, want = (new_time, new_shape), (time_size, item_shape)
                    why = f"{name!r}: (T, S) = {got}, expected {want}"
                    reasons.append(Reason(ValueError, "RB-6", why))
                if new_dtype != dtype:
                    why = f"{name!r}: dtype {new_dtype}, expected {dtype}"
                    reasons.append(Reason(TypeError, "RB-6", why))
            check(reasons)
        self.schema = schema
        fulls = {name: np.stack(var.rows) for name, var in ws.vars.items()}
        for j in range(ws.batch_size()):
            self.items.append({name: full[:, j].copy() for name, full in fulls.items()})

    def check_sample(self, batch_size: int) -> None:
        """RB-10: ValueError for an empty buffer or a ``batch_size <= 0``."""
        reasons: list[Reason] = []
        if not self.items:
            reasons.append(Reason(ValueError, "RB-10", "get_shuffled of an empty buffer"))
        if batch_size <= 0:
            reasons.append(Reason(ValueError, "RB-10", f"batch_size {batch_size} <= 0"))
        check(reasons)

    def keys(self) -> list[bytes]:
        """The stored items' keys, oldest first."""
        return [item_key(item) for item in self.items]
