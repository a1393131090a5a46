"""The workspace of spec/workspace.md and get_transitions of spec/transitions.md, in numpy.

A variable is a list of rows (one ``[B, *S]`` array per time step) with its dtype name and item
shape. Every call validates all of its arguments first and raises :class:`ModelError` listing
every rule the call breaks (each with the builtin type the spec names), so a caller can accept
any of them when several apply; only then does it change anything (ERR-5). A call whose outcome
the spec leaves open raises :class:`Unspecified`: a program generator does not make it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from bbrl_conformance._model.values import MArray, MValue, NotTensor, zeros

__all__ = ["ModelError", "Reason", "Unspecified", "Var", "WorkspaceModel"]


@dataclass(frozen=True)
class Reason:
    """One rule a call breaks: the builtin exception type the spec names, and the clause."""

    exc: type[Exception]
    clause: str
    why: str


class ModelError(Exception):
    """The spec requires this call to raise: an instance of any type of ``allowed``."""

    def __init__(self, reasons: list[Reason]) -> None:
        if not reasons:
            raise ValueError("ModelError: expected at least one reason")
        self.reasons = reasons
        super().__init__("; ".join(f"{r.clause}: {r.why}" for r in reasons))

    @property
    def allowed(self) -> tuple[type[Exception], ...]:
        return tuple(dict.fromkeys(r.exc for r in self.reasons))

    @property
    def clause(self) -> str:
        return self.reasons[0].clause


class Unspecified(Exception):
    """The spec does not fix the outcome of this call (see spec/not-specified.md)."""


def check(reasons: list[Reason]) -> None:
    """Raise ModelError if any rule is broken."""
    if reasons:
        raise ModelError(reasons)


@dataclass
class Var:
    """One variable: dtype name, item shape ``S``, rows ``[B, *S]`` and their coefficients."""

    dtype: str
    item_shape: tuple[int, ...]
    rows: list[MArray] = field(default_factory=list)
    coefs: list[MArray | None] = field(default_factory=list)

    @property
    def time_size(self) -> int:
        return len(self.rows)

    def full(self) -> MValue:
        """The ``[T, B, *S]`` value; coefficients only if some row has autograd history."""
        array = np.stack(self.rows)
        coef = None
        if any(c is not None for c in self.coefs):
            pairs = zip(self.rows, self.coefs, strict=True)
            coef = np.stack([np.zeros(r.shape) if c is None else c for r, c in pairs])
        return MValue(self.dtype, array, coef)


class WorkspaceModel:
    """A Workspace: variables by name, all sharing one batch size (WS-4)."""

    def __init__(self) -> None:
        self.vars: dict[str, Var] = {}

    def copy(self) -> WorkspaceModel:
        return copy.deepcopy(self)

    # -- reading -------------------------------------------------------------------------

    def keys(self) -> set[str]:
        """WS-12: the names written and not cleared (their order is not specified)."""
        return set(self.vars)

    def __contains__(self, name: object) -> bool:
        return name in self.vars

    def batch_size(self) -> int:
        """WS-13: ``B``, or 0 for an empty workspace (WS-1)."""
        for var in self.vars.values():
            return int(var.rows[0].shape[0])
        return 0

    def time_size(self) -> int:
        """WS-13: the common time size; ValueError when the variables' time sizes differ."""
        sizes = {v.time_size for v in self.vars.values()}
        if len(sizes) > 1:
            per_var = {n: v.time_size for n, v in self.vars.items()}
            raise ModelError([Reason(ValueError, "WS-13", f"time sizes differ: {per_var}")])
        return sizes.pop() if sizes else 0

    def var_time_size(self, name: str) -> int:
        return self.vars[name].time_size

    def _unknown(self, name: str, clause: str = "ERR-3") -> list[Reason]:
        if name in self.vars:
            return []
        return [Reason(KeyError, clause, f"{name!r} is not a variable")]

    def get(self, name: str, t: int) -> MValue:
        """WS-2: row ``t``; KeyError (ERR-3) for an unknown name, IndexError (ERR-2) for t out of
        range."""
        reasons = self._unknown(name)
        if t < 0 or (name in self.vars and t >= self.vars[name].time_size):
            size = self.vars[name].time_size if name in self.vars else None
            reasons.append(Reason(IndexError, "ERR-2", f"t={t} outside 0..T-1 (T={size})"))
        check(reasons)
        var = self.vars[name]
        coef = var.coefs[t]
        return MValue(var.dtype, var.rows[t].copy(), None if coef is None else coef.copy())

    def get_full(self, name: str) -> MValue:
        """WS-6: the ``[T, B, *S]`` value; KeyError (ERR-3) for an unknown name."""
        check(self._unknown(name))
        return self.vars[name].full()

    # -- writing -------------------------------------------------------------------------

    def set(self, name: str, t: int, value: MValue | NotTensor) -> None:
        """WS-2, WS-3: store ``value`` as row ``t``, zero-filling rows ``T..t-1``."""
        reasons: list[Reason] = []
        if t < 0:
            reasons.append(Reason(IndexError, "ERR-2", f"set at t={t} < 0"))
        if isinstance(value, NotTensor):
            reasons.append(Reason(TypeError, "ERR-4", f"value {value.source} is not a tensor"))
            raise ModelError(reasons)
        if not value.shape:
            reasons.append(Reason(ValueError, "ERR-4", "a 0-dimensional value has no batch"))
        else:
            reasons += self._batch_reasons(value.shape[0], None)
            var = self.vars.get(name)
            if var is not None and value.shape[1:] != var.item_shape:
                why = f"item shape {value.shape[1:]} != {var.item_shape}"
                reasons.append(Reason(ValueError, "WS-5", why))
            if var is not None and value.dtype != var.dtype:
                reasons.append(Reason(TypeError, "WS-5", f"dtype {value.dtype} != {var.dtype}"))
        check(reasons)
        var = self.vars.setdefault(name, Var(value.dtype, value.shape[1:]))
        while var.time_size <= t:
            var.rows.append(zeros(var.dtype, value.shape))
            var.coefs.append(None)
        var.rows[t] = value.array.copy()
        var.coefs[t] = None if value.coef is None else value.coef.copy()

    def _batch_reasons(self, batch: int, replacing: str | None) -> list[Reason]:
        others = [n for n in self.vars if n != replacing]
        if others and batch != self.batch_size():
            why = f"batch size {batch} != the workspace's {self.batch_size()}"
            return [Reason(ValueError, "WS-4", why)]
        return []

    def set_full(self, name: str, value: MValue | NotTensor) -> None:
        """WS-11: replace the whole variable with ``value`` (``[T, B, *S]``)."""
        if isinstance(value, NotTensor):
            raise ModelError([Reason(TypeError, "ERR-4", f"value {value.source} is not a tensor")])
        reasons: list[Reason] = []
        if len(value.shape) < 2:
            reasons.append(Reason(ValueError, "ERR-4", f"shape {value.shape}: fewer than 2 dims"))
        else:
            reasons += self._batch_reasons(value.shape[1], name)
            var = self.vars.get(name)
            if not reasons and var is not None:
                if len(self.vars) == 1 and value.shape[1] != self.batch_size():
                    raise Unspecified("set_full changing the batch size of the only variable")
                if (value.dtype, value.shape[2:]) != (var.dtype, var.item_shape):
                    raise Unspecified("set_full changing a variable's dtype or item shape")
            if not reasons and value.shape[0] == 0:
                raise Unspecified("set_full of a variable with time size 0")
        check(reasons)
        var = Var(value.dtype, value.shape[2:])
        for t in range(value.shape[0]):
            var.rows.append(value.array[t].copy())
            var.coefs.append(None if value.coef is None else value.coef[t].copy())
        self.vars[name] = var

    def clear(self, name: str | None = None) -> None:
        """WS-19: remove ``name``, or every variable; KeyError (ERR-3) for an unknown name."""
        if name is None:
            self.vars.clear()
            return
        check(self._unknown(name))
        del self.vars[name]

    def zero_grad(self) -> None:
        """WS-14: detach every variable; values unchanged."""
        for var in self.vars.values():
            var.coefs = [None] * var.time_size

    def copy_n_last_steps(self, n: int, var_names: Iterable[str] | None = None) -> None:
        """WS-15..WS-17: rows ``T-n..T-1`` (as before the call) to rows ``0..n-1``, once per
        selected variable (a name repeated in ``var_names`` is one variable)."""
        names = list(self.vars) if var_names is None else list(dict.fromkeys(var_names))
        reasons: list[Reason] = []
        if n < 0:
            reasons.append(Reason(ValueError, "WS-17", f"n={n} < 0"))
        for name in names:
            if name not in self.vars:
                reasons.append(Reason(KeyError, "WS-17", f"{name!r} is not a variable"))
            elif n > self.vars[name].time_size:
                size = self.vars[name].time_size
                reasons.append(Reason(ValueError, "WS-17", f"n={n} > T={size} of {name!r}"))
        check(reasons)
        for name in names:
            var = self.vars[name]
            size = var.time_size
            rows = [r.copy() for r in var.rows[size - n :]]
            coefs = [None if c is None else c.copy() for c in var.coefs[size - n :]]
            var.rows[:n] = rows
            var.coefs[:n] = coefs

    # -- transitions ---------------------------------------------------------------------

    def get_transitions(self, filter_key: str | None = "env/done") -> WorkspaceModel:
        """TR-1..TR-7: pairs of rows ``(t, t+1)``, time-major then env, minus the pairs whose
        filter value at ``t`` is True; a new workspace of ``[2, N, *S]`` variables."""
        if not self.vars:
            raise Unspecified("get_transitions of an empty workspace")
        reasons: list[Reason] = []
        sizes = {v.time_size for v in self.vars.values()}
        if len(sizes) > 1:
            reasons.append(Reason(ValueError, "TR-7", f"time sizes differ: {sorted(sizes)}"))
        flags: MArray | None = None
        if filter_key is not None:
            var = self.vars.get(filter_key)
            if var is None:
                reasons.append(Reason(KeyError, "TR-6", f"filter {filter_key!r} is no variable"))
            else:
                if var.dtype != "bool":
                    reasons.append(Reason(TypeError, "TR-6", f"filter dtype {var.dtype}"))
                if var.item_shape:
                    why = f"filter item shape {var.item_shape}, expected ()"
                    reasons.append(Reason(ValueError, "TR-6", why))
                flags = np.stack(var.rows) if not reasons else None
        check(reasons)
        time_size, batch = sizes.pop(), self.batch_size()
        kept = [
            (t, b)
            for t in range(time_size - 1)
            for b in range(batch)
            if flags is None or not bool(flags[t, b])
        ]
        ts = np.array([t for t, _ in kept], dtype=np.int64)
        bs = np.array([b for _, b in kept], dtype=np.int64)
        result = WorkspaceModel()
        for name, var in self.vars.items():
            full = var.full()
            pair = np.stack([full.array[ts, bs], full.array[ts + 1, bs]])
            coef = None
            if full.coef is not None:
                coef = np.stack([full.coef[ts, bs], full.coef[ts + 1, bs]])
            result.vars[name] = Var(
                var.dtype,
                var.item_shape,
                [pair[0], pair[1]],
                [None, None] if coef is None else [coef[0], coef[1]],
            )
        return result
