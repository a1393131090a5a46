"""Hypothesis strategies of the suite: sizes, trailing shapes, dtypes, values and done masks.

Tensor values are not drawn element by element (that would be slow for `[64, 16, ...]`): a
strategy draws a seed and fills the tensor from a seeded `torch.Generator`, so every example is
reproducible from what Hypothesis prints. Done masks are drawn as one of five kinds (none, all,
first row, last row, random), the cases where transition filtering goes wrong.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from hypothesis import strategies as st

__all__ = [
    "DTYPES",
    "MASK_KINDS",
    "TransitionsCase",
    "batch_sizes",
    "dtypes",
    "make_mask",
    "make_values",
    "time_sizes",
    "trailing_shapes",
    "transitions_cases",
    "variable_names",
]

DTYPES: tuple[torch.dtype, ...] = (
    torch.float32,
    torch.float64,
    torch.int64,
    torch.int32,
    torch.uint8,
    torch.bool,
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


def trailing_shapes(max_dims: int = 2, max_side: int = 3) -> st.SearchStrategy[tuple[int, ...]]:
    """The shape after `[T, B]`: () (scalar per env) up to `max_dims` sides of 1..max_side."""
    return st.lists(st.integers(1, max_side), max_size=max_dims).map(tuple)


def dtypes() -> st.SearchStrategy[torch.dtype]:
    """One of float32, float64, int64, int32, uint8, bool (shrinks towards float32)."""
    return st.sampled_from(DTYPES)


def variable_names() -> st.SearchStrategy[str]:
    """Variable names, with and without a `/` namespace, never `env/done`."""
    plain = st.sampled_from(["x", "obs", "action", "logp", "critic"])
    spaced = st.sampled_from(["env/env_obs", "env/reward", "agent/q", "env/timestep"])
    return st.one_of(plain, spaced)


def make_values(shape: Sequence[int], dtype: torch.dtype, seed: int) -> torch.Tensor:
    """A tensor of `shape` and `dtype` filled from `torch.Generator().manual_seed(seed)`.

    Floats are standard normal; integers span a range wide enough that two rows rarely agree
    (uint8 all 0..255); bools are fair coin flips.
    """
    gen = torch.Generator().manual_seed(seed)
    size = tuple(shape)
    if dtype.is_floating_point:
        return torch.randn(size, generator=gen, dtype=dtype)
    if dtype == torch.bool:
        return torch.randint(0, 2, size, generator=gen).bool()
    if dtype == torch.uint8:
        return torch.randint(0, 256, size, generator=gen, dtype=dtype)
    return torch.randint(-1000, 1000, size, generator=gen, dtype=dtype)


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


@dataclass
class TransitionsCase:
    """A workspace content for get_transitions: `[T, B, ...]` tensors plus a bool done mask."""

    time_size: int
    batch_size: int
    variables: dict[str, torch.Tensor] = field(default_factory=dict)
    #: per variable, a Python expression that rebuilds it (for reproducers)
    sources: dict[str, str] = field(default_factory=dict)
    mask_kind: str = "none"
    filter_key: str = "env/done"

    def describe(self) -> str:
        shapes = {n: (tuple(v.shape), str(v.dtype)) for n, v in self.variables.items()}
        return f"T={self.time_size} B={self.batch_size} mask={self.mask_kind} vars={shapes}"

    def setup_code(self) -> str:
        """Standalone lines that build `ws` (an `impl.Workspace`) holding this case."""
        lines = [
            "import torch",
            "from bbrl_conformance._strategies import make_mask, make_values",
            "ws = impl.Workspace()",
        ]
        lines += [f"ws.set_full({name!r}, {src})" for name, src in self.sources.items()]
        return "\n".join(lines)


@st.composite
def transitions_cases(
    draw: st.DrawFn,
    filter_key: str = "env/done",
    max_time: int = MAX_T,
    max_batch: int = MAX_B,
    max_vars: int = 3,
) -> TransitionsCase:
    """T, B, 1..max_vars variables (trailing shape, dtype, seeded values) and a done mask.

    The mask is stored under `filter_key` as a bool `[T, B]` variable.
    """
    time_size = draw(time_sizes(max_value=max_time), label="T")
    batch_size = draw(batch_sizes(max_value=max_batch), label="B")
    names = draw(
        st.lists(variable_names(), min_size=1, max_size=max_vars, unique=True), label="names"
    )
    case = TransitionsCase(time_size, batch_size, filter_key=filter_key)
    for name in names:
        trailing = draw(trailing_shapes(), label=f"{name} trailing shape")
        dtype = draw(dtypes(), label=f"{name} dtype")
        seed = draw(st.integers(0, 2**32 - 1), label=f"{name} seed")
        shape = (time_size, batch_size, *trailing)
        case.variables[name] = make_values(shape, dtype, seed)
        case.sources[name] = f"make_values({shape}, {dtype}, seed={seed})"
    kind = draw(st.sampled_from(MASK_KINDS), label="mask kind")
    seed = draw(st.integers(0, 2**32 - 1), label="mask seed")
    p = draw(st.sampled_from([0.1, 0.5, 0.9]), label="done probability")
    case.mask_kind = kind
    case.variables[filter_key] = make_mask(kind, time_size, batch_size, seed, p)
    case.sources[filter_key] = f"make_mask({kind!r}, {time_size}, {batch_size}, {seed}, {p})"
    return case
