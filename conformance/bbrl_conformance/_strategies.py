"""Hypothesis strategies of the suite: sizes, trailing shapes, dtypes, values and done masks.

Tensor values are not drawn element by element (that would be slow for `[64, 16, ...]`): a
strategy draws a seed and fills the tensor from a seeded `torch.Generator`, so every example is
reproducible from what Hypothesis prints. Done masks are drawn as one of five kinds (none, all,
first row, last row, random), the cases where transition filtering goes wrong.

The domains the clauses quantify over, and so what these strategies span:

- dtypes: the ten of `DTYPES` (bool, uint8, int8, int16, int32, int64, float16, bfloat16,
  float32, float64). The spec puts no restriction on a variable's dtype; these are the real
  dtypes torch has on every device (complex and quantized dtypes are left out).
- item shapes `S`: rank 0 to 3 (`trailing_shapes`), sides 1..3.
- batch sizes `B` from 1, time sizes `T` from 1 (1 and 2 are where pairs and rows go wrong).
- values: `make_values(..., extremes=True)` spans each dtype's whole range: integers at the
  dtype's bounds and int64 values beyond 2**53, floats with NaN, +-inf, -0.0, the largest and
  smallest normal and a subnormal (compare them with `values_equal`, which is NaN-aware).
- agent seeds (`agent_seeds`): every int `s >= 0` is accepted (ERR-7 rejects only `s < 0`);
  the spec gives no upper bound, so the strategy reaches 2**64 and the 32- and 63-bit edges.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from hypothesis import strategies as st

__all__ = [
    "DTYPES",
    "INDEX",
    "MASK_KINDS",
    "NOT_INTEGERS",
    "SEED_EDGES",
    "WORKSPACE_DTYPE_NAMES",
    "ItemSchema",
    "TransitionsCase",
    "agent_seeds",
    "batch_sizes",
    "dtypes",
    "full",
    "index_values",
    "item_schemas",
    "keyword_arguments",
    "make_mask",
    "make_values",
    "other_dtypes",
    "other_item_shapes",
    "special_values",
    "time_sizes",
    "trailing_shapes",
    "transitions_cases",
    "values_equal",
    "variable_names",
]

#: values with ``__index__`` that an integer argument refuses (TA-9, ENV-32, RB-30), by
#: reproducer source: bools (torch gives a bool tensor ``__index__``, so
#: ``operator.index(torch.tensor(True))`` is 1; numpy's bool has none) and one-element tensors
#: that are not 0-d (torch gives them ``__index__`` too)
NOT_INTEGERS: dict[str, object] = {
    "True": True,
    "False": False,
    "numpy.bool_(True)": np.bool_(True),
    "torch.tensor(True)": torch.tensor(True),
    "torch.tensor([2])": torch.tensor([2]),
}

#: every dtype a variable or a replay-buffer item may have (float32 first: shrinks to it)
DTYPES: tuple[torch.dtype, ...] = (
    torch.float32,
    torch.float64,
    torch.int64,
    torch.int32,
    torch.uint8,
    torch.bool,
    torch.int8,
    torch.int16,
    torch.float16,
    torch.bfloat16,
)
#: every dtype of a replay-buffer item (RB-18): DTYPES and the two complex dtypes
ITEM_DTYPES: tuple[torch.dtype, ...] = (*DTYPES, torch.complex64, torch.complex128)
#: every dtype WS-21 accepts for a workspace variable, by name (float32 first: shrinks to it)
WORKSPACE_DTYPE_NAMES: tuple[str, ...] = (
    "float32",
    "int64",
    "bool",
    "uint8",
    "int8",
    "int16",
    "int32",
    "uint16",
    "uint32",
    "uint64",
    "float16",
    "bfloat16",
    "float64",
    "complex64",
    "complex128",
)
#: agent seeds at the edges of the usual integer widths (every s >= 0 is a seed)
SEED_EDGES: tuple[int, ...] = (
    0,
    1,
    2**31 - 1,
    2**31,
    2**32 - 1,
    2**32,
    2**53 + 1,
    2**63 - 1,
    2**63,
    2**64 - 1,
    2**64,
)
MASK_KINDS: tuple[str, ...] = ("none", "all", "first", "last", "random")

MAX_T = 64
MAX_B = 16


def time_sizes(min_value: int = 1, max_value: int = MAX_T) -> st.SearchStrategy[int]:
    """T, the time size (1..64 by default)."""
    return st.integers(min_value, max_value)


def batch_sizes(min_value: int = 1, max_value: int = MAX_B) -> st.SearchStrategy[int]:
    """B, the batch size (1..16 by default)."""
    return st.integers(min_value, max_value)


def trailing_shapes(max_dims: int = 3, max_side: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """The shape after `[T, B]`: () (scalar per env) up to `max_dims` sides of 1..max_side."""
    return st.lists(st.integers(1, max_side), max_size=max_dims).map(tuple)


def dtypes() -> st.SearchStrategy[torch.dtype]:
    """One of the ten `DTYPES` (shrinks towards float32)."""
    return st.sampled_from(DTYPES)


def other_dtypes(dtype: torch.dtype) -> list[torch.dtype]:
    """Every dtype of `DTYPES` but `dtype`: the narrower and the wider ones, of every kind."""
    return [d for d in DTYPES if d != dtype]


def other_item_shapes(trailing: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Item shapes other than `trailing`: one rank higher (a side of 1 and of 2), one rank lower,
    and each side smaller and larger."""
    shapes = [(*trailing, 2), (*trailing, 1)]
    if trailing:
        shapes.append(trailing[:-1])
    for i, side in enumerate(trailing):
        for other in (side - 1, side + 1):
            if other >= 1:
                shapes.append((*trailing[:i], other, *trailing[i + 1 :]))
    return shapes


def agent_seeds() -> st.SearchStrategy[int]:
    """Seeds `s >= 0` over the whole accepted range: the `SEED_EDGES` and any int up to 2**64."""
    return st.one_of(st.sampled_from(SEED_EDGES), st.integers(0, 2**64))


#: keyword names an agent may be called with (not `t`, which the calls pass themselves)
KWARG_NAMES = ("stochastic", "epsilon", "mode", "option", "n", "key", "replay")


def keyword_arguments(max_size: int = 4) -> st.SearchStrategy[dict[str, object]]:
    """Keyword arguments to pass through an agent call: any number (0 included) of values,
    among them the falsy ones an implementation may be tempted to drop (None, False, 0, "")."""
    values: st.SearchStrategy[object] = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(allow_nan=False),
        st.text(max_size=3),
        st.tuples(st.integers(), st.none()),
    )
    return st.dictionaries(st.sampled_from(KWARG_NAMES), values, max_size=max_size)


def variable_names() -> st.SearchStrategy[str]:
    """Variable names, with and without a `/` namespace, never `env/done`."""
    plain = st.sampled_from(["x", "obs", "action", "logp", "critic"])
    spaced = st.sampled_from(["env/env_obs", "env/reward", "agent/q", "env/timestep"])
    return st.one_of(plain, spaced)


def special_values(dtype: torch.dtype) -> list[float] | list[int]:
    """The values at the edges of `dtype`: what `make_values(..., extremes=True)` plants.

    Integers: the bounds, 0, +-1, and for int64 values beyond 2**53 (where a float64 stage
    rounds). Floats: NaN, +-inf, -0.0, the largest, the smallest normal, a subnormal, eps.
    """
    if dtype == torch.bool:
        return []
    if dtype.is_floating_point:
        info = torch.finfo(dtype)
        return [
            math.nan,
            math.inf,
            -math.inf,
            -0.0,
            info.max,
            info.min,
            info.tiny,
            info.tiny * info.eps,
            info.eps,
        ]
    bounds = torch.iinfo(dtype)
    found = [bounds.min, bounds.max, 0, 1, bounds.max - 1]
    if bounds.min < 0:
        found += [-1, bounds.min + 1]
    if dtype == torch.int64:
        found += [2**53 + 1, -(2**53) - 1, 2**62 + 3]
    return found


def make_values(
    shape: Sequence[int], dtype: torch.dtype, seed: int, extremes: bool = False
) -> torch.Tensor:
    """A tensor of `shape` and `dtype` filled from `torch.Generator().manual_seed(seed)`.

    Floats are standard normal; integers span a range wide enough that two rows rarely agree
    (uint8 all 0..255); bools are fair coin flips. With `extremes`, integers span the whole
    range of their dtype and the `special_values` of the dtype are planted at random places
    (as many as fit).
    """
    gen = torch.Generator().manual_seed(seed)
    size = tuple(shape)
    if dtype.is_floating_point:
        values = torch.randn(size, generator=gen, dtype=dtype)
    elif dtype == torch.bool:
        values = torch.randint(0, 2, size, generator=gen).bool()
    elif dtype == torch.uint8:
        values = torch.randint(0, 256, size, generator=gen, dtype=dtype)
    else:  # high is exclusive and must fit the dtype: max itself is one of the specials
        info = torch.iinfo(dtype)
        low, high = (info.min, info.max) if extremes else (-1000, 1000)
        low, high = max(low, info.min), min(high, info.max)
        values = torch.randint(low, high, size, generator=gen, dtype=dtype)
    specials = special_values(dtype) if extremes else []
    count = min(len(specials), values.numel())
    if count:  # `count` specials in a random order, at random places
        which = torch.randperm(len(specials), generator=gen)[:count].tolist()
        where = torch.randperm(values.numel(), generator=gen)[:count]
        wide = torch.float64 if dtype.is_floating_point else torch.int64
        values.view(-1)[where] = torch.tensor([specials[i] for i in which], dtype=wide).to(dtype)
    return values


def values_equal(actual: torch.Tensor, expected: torch.Tensor) -> bool:
    """Same shape, dtype and values, NaN equal to NaN (at the same places); -0.0 == 0.0."""
    if actual.shape != expected.shape or actual.dtype != expected.dtype:
        return False
    a, b = actual.detach().cpu(), expected.detach().cpu()
    if not a.dtype.is_floating_point:
        return torch.equal(a, b)
    return bool(((a == b) | (a.isnan() & b.isnan())).all())


def make_mask(kind: str, time_size: int, batch_size: int, seed: int, p: float) -> torch.Tensor:
    """A bool `[T, B]` done mask of one of the MASK_KINDS (random: each True with prob. p)."""
    mask = torch.zeros((time_size, batch_size), dtype=torch.bool)
    if kind == "all":
        mask[:] = True
    elif kind == "first":
        mask[0] = True
    elif kind == "last":
        mask[-1] = True
    elif kind == "random":
        gen = torch.Generator().manual_seed(seed)
        mask = torch.rand((time_size, batch_size), generator=gen) < p
    elif kind != "none":
        raise ValueError(f"unknown mask kind {kind!r}; expected one of {MASK_KINDS}")
    return mask


#: the int64 variable of every transitions case that numbers the cells: idx[t, b] = t * B + b
INDEX = "idx"


@dataclass
class TransitionsCase:
    """A workspace content for get_transitions: `[T, B, ...]` tensors plus a bool done mask.

    Every case holds `INDEX` (`idx[t, b] = t * B + b`), so the pairs a result kept can be read
    back as `(t, b)`. `row_wise` says how the workspace is written: row by row with `set` (as
    agents write it, into storage that may be larger than `T`) or with one `set_full` each.
    """

    time_size: int
    batch_size: int
    variables: dict[str, torch.Tensor] = field(default_factory=dict)
    #: per variable, a Python expression that rebuilds it (for reproducers)
    sources: dict[str, str] = field(default_factory=dict)
    mask_kind: str = "none"
    filter_key: str = "env/done"
    row_wise: bool = False

    def describe(self) -> str:
        shapes = {n: (tuple(v.shape), str(v.dtype)) for n, v in self.variables.items()}
        how = "set row by row" if self.row_wise else "set_full"
        return f"T={self.time_size} B={self.batch_size} mask={self.mask_kind} ({how}) vars={shapes}"

    def build(self, impl: Any) -> Any:
        """An `impl.Workspace()` holding this case, written as `row_wise` says."""
        ws = impl.Workspace()
        for name, value in self.variables.items():
            if self.row_wise:
                for t in range(value.shape[0]):
                    ws.set(name, t, value[t])
            else:
                ws.set_full(name, value)
        return ws

    def setup_code(self) -> str:
        """Standalone lines that build `values` (name -> tensor) and `ws` holding them."""
        lines = [
            "import torch",
            "from bbrl_conformance._strategies import index_values, make_mask, make_values",
            "values = {",
            *[f"    {name!r}: {src}," for name, src in self.sources.items()],
            "}",
            "ws = impl.Workspace()",
            "for name, value in values.items():",
        ]
        if self.row_wise:
            lines += ["    for t, row in enumerate(value):", "        ws.set(name, t, row)"]
        else:
            lines.append("    ws.set_full(name, value)")
        return "\n".join(lines)


def index_values(time_size: int, batch_size: int) -> torch.Tensor:
    """`idx[t, b] = t * B + b` as an int64 `[T, B]` tensor."""
    return torch.arange(time_size * batch_size).reshape(time_size, batch_size)


@st.composite
def transitions_cases(
    draw: st.DrawFn,
    filter_key: str = "env/done",
    max_time: int = MAX_T,
    max_batch: int = MAX_B,
    max_vars: int = 3,
    min_time: int = 1,
) -> TransitionsCase:
    """T, B, `INDEX` and 1..max_vars variables (trailing shape, dtype, seeded values, at the
    dtype's extremes or not), a done mask, and the way the workspace is written.

    The mask is stored under `filter_key` as a bool `[T, B]` variable.
    """
    time_size = draw(time_sizes(min_value=min_time, max_value=max_time), label="T")
    batch_size = draw(batch_sizes(max_value=max_batch), label="B")
    names = draw(
        st.lists(variable_names(), min_size=1, max_size=max_vars, unique=True), label="names"
    )
    row_wise = draw(st.booleans(), label="row_wise")
    case = TransitionsCase(time_size, batch_size, filter_key=filter_key, row_wise=row_wise)
    case.variables[INDEX] = index_values(time_size, batch_size)
    case.sources[INDEX] = f"index_values({time_size}, {batch_size})"
    for name in names:
        trailing = draw(trailing_shapes(), label=f"{name} trailing shape")
        dtype = draw(dtypes(), label=f"{name} dtype")
        seed = draw(st.integers(0, 2**32 - 1), label=f"{name} seed")
        extremes = draw(st.booleans(), label=f"{name} extremes")
        shape = (time_size, batch_size, *trailing)
        case.variables[name] = make_values(shape, dtype, seed, extremes)
        case.sources[name] = f"make_values({shape}, {dtype}, seed={seed}, extremes={extremes})"
    kind = draw(st.sampled_from(MASK_KINDS), label="mask kind")
    seed = draw(st.integers(0, 2**32 - 1), label="mask seed")
    p = draw(st.sampled_from([0.1, 0.5, 0.9]), label="done probability")
    case.mask_kind = kind
    case.variables[filter_key] = make_mask(kind, time_size, batch_size, seed, p)
    case.sources[filter_key] = f"make_mask({kind!r}, {time_size}, {batch_size}, {seed}, {p})"
    return case


@dataclass(frozen=True)
class ItemSchema:
    """What the first put into a replay buffer fixes, for the suite's puts: the time size `T`
    and, besides the int64 variable "id" (`id[k, j] = 10 * item + k`: every item says which one
    it is), payload variables given as (name, item shape, dtype)."""

    time_size: int
    fields: tuple[tuple[str, tuple[int, ...], torch.dtype], ...] = ()

    def values(self, first: int, n: int, seed: int = 0) -> dict[str, torch.Tensor]:
        """The `[T, n, ...]` tensors of items `first..first+n-1`; payloads at their extremes."""
        ids = torch.arange(first, first + n)
        values = {"id": ids * 10 + torch.arange(self.time_size).unsqueeze(1)}
        for k, (name, item, dtype) in enumerate(self.fields):
            shape = (self.time_size, n, *item)
            values[name] = make_values(shape, dtype, seed * 31 + k, extremes=True)
        return values

    def workspace(self, impl: Any, first: int, n: int, seed: int = 0) -> Any:
        """An `impl.Workspace()` holding `values(first, n, seed)`, one `set_full` each."""
        ws = impl.Workspace()
        for name, value in self.values(first, n, seed).items():
            ws.set_full(name, value)
        return ws


@st.composite
def item_schemas(draw: st.DrawFn, max_time: int = 3, max_fields: int = 3) -> ItemSchema:
    """T in 1..max_time and 0..max_fields payload variables of any dtype and item rank 0..3."""
    time_size = draw(st.integers(1, max_time), label="T")
    count = draw(st.integers(0, max_fields), label="payload variables")
    fields = tuple(
        (
            f"p{k}",
            draw(trailing_shapes(max_side=2), label=f"p{k} item shape"),
            draw(dtypes(), label=f"p{k} dtype"),
        )
        for k in range(count)
    )
    return ItemSchema(time_size, fields)


def full(shape: tuple[int, ...], dtype: torch.dtype, offset: int = 0) -> torch.Tensor:
    """Distinct values offset, offset + 1, ... of `shape` as `dtype` (bool: the odd ones)."""
    values = torch.arange(offset, offset + math.prod(shape)).reshape(shape)
    return values % 2 == 1 if dtype == torch.bool else values.to(dtype)
