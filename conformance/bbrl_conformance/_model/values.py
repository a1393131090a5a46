"""Values of the model: a dtype name and a numpy array, plus seeded generators of them.

The model knows ten element types, by the names torch gives them: ``bool``, ``uint8``,
``int8``, ``int16``, ``int32``, ``int64``, ``float16``, ``bfloat16``, ``float32`` and
``float64``. numpy has no bfloat16, so a bfloat16 array is held as float32 whose values are all
exactly representable in bfloat16; the name carries the type.

Generated values never contain NaN (equality must be reflexive), but do contain the extremes:
the bounds of every integer type, int64 values beyond 2**53 (which a round trip through
float64 changes), infinities, -0.0 and subnormal floats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "DTYPES",
    "FLOAT_DTYPES",
    "INT_DTYPES",
    "VALUE_KINDS",
    "MArray",
    "MValue",
    "NotTensor",
    "as_bfloat16",
    "grad_mvalue",
    "make_array",
    "storage_dtype",
    "zeros",
]

MArray = npt.NDArray[np.generic]

INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")
FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
DTYPES = ("bool", *INT_DTYPES, *FLOAT_DTYPES)
#: how the values of a generated array are spread (see make_array)
VALUE_KINDS = ("small", "wide", "extreme")


def storage_dtype(dtype: str) -> np.dtype[np.generic]:
    """The numpy dtype holding values of ``dtype`` (float32 for bfloat16)."""
    if dtype not in DTYPES:
        raise ValueError(f"dtype: expected one of {DTYPES}, got {dtype!r}")
    return np.dtype("float32" if dtype == "bfloat16" else dtype)


def zeros(dtype: str, shape: tuple[int, ...]) -> MArray:
    return np.zeros(shape, dtype=storage_dtype(dtype))


def as_bfloat16(values: MArray) -> MArray:
    """float32 values rounded toward zero to bfloat16 (the top 16 bits of each float32).

    Used on generated values only, so that they are exactly representable; NaN never occurs.
    """
    bits = np.ascontiguousarray(values, dtype=np.float32).view(np.uint32)
    return (bits & np.uint32(0xFFFF0000)).view(np.float32)


def _ints(rng: np.random.Generator, dtype: str, size: int, kind: str) -> MArray:
    info = np.iinfo(np.dtype(dtype))
    lo, hi = int(info.min), int(info.max)
    if kind == "small":
        return rng.integers(max(lo, -3), min(hi, 3), size=size, endpoint=True, dtype=dtype)
    if kind == "wide":
        return rng.integers(lo, hi, size=size, endpoint=True, dtype=dtype)
    # extreme: the bounds, their neighbours, and for int64 values beyond 2**53
    pool = [lo, lo + 1, hi - 1, hi, 0]
    if dtype == "int64":
        pool += [2**53 + 1, -(2**53) - 3, 2**62 + 12345, -(2**61) - 7]
    picked = rng.choice(np.array(pool, dtype=dtype), size=size)
    return np.asarray(picked, dtype=dtype)


def _floats(rng: np.random.Generator, dtype: str, size: int, kind: str) -> MArray:
    if kind == "small":
        # multiples of 1/4 in [-4, 4]: exact in every float type
        return np.asarray(rng.integers(-16, 16, size=size, endpoint=True) / 4.0)
    if kind == "wide":
        return np.asarray(rng.standard_normal(size) * 10.0 ** rng.integers(-3, 4, size=size))
    big = {"float16": 6.0e4, "bfloat16": 3.0e38, "float32": 3.0e38, "float64": 1.0e300}[dtype]
    tiny = {"float16": 6.0e-8, "bfloat16": 1.0e-40, "float32": 1.0e-40, "float64": 5.0e-324}[dtype]
    pool = np.array([0.0, -0.0, np.inf, -np.inf, big, -big, tiny, -tiny, 1.0, -1.5])
    return np.asarray(rng.choice(pool, size=size))


def make_array(dtype: str, shape: tuple[int, ...], seed: int, kind: str = "wide") -> MArray:
    """An array of ``shape`` holding values of ``dtype``, drawn from ``seed``.

    ``kind``: ``small`` (values in [-3, 3], or multiples of 1/4 in [-4, 4]), ``wide`` (integers
    over the whole range of the type, floats of magnitudes 1e-3..1e3) or ``extreme`` (bounds,
    int64 beyond 2**53, infinities, -0.0, subnormals).
    """
    if kind not in VALUE_KINDS:
        raise ValueError(f"kind: expected one of {VALUE_KINDS}, got {kind!r}")
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape, dtype=np.int64))
    flat: MArray
    if dtype == "bool":
        flat = rng.integers(0, 2, size=size).astype(bool)
    elif dtype in INT_DTYPES:
        flat = _ints(rng, dtype, size, kind)
    else:
        raw = _floats(rng, dtype, size, kind)
        if dtype == "bfloat16":
            flat = as_bfloat16(raw.astype(np.float32))
        else:
            flat = raw.astype(storage_dtype(dtype))
    return flat.reshape(shape)


@dataclass(frozen=True, eq=False)
class MValue:
    """A tensor as the model sees it: dtype name, values, and autograd coefficients.

    ``coef`` is None for a value without autograd history; otherwise it has the shape of
    ``array`` and holds d(value)/d(p) for the program's one scalar parameter ``p`` (values are
    written as ``base + p * coef`` with ``p == 1``).
    """

    dtype: str
    array: MArray
    coef: MArray | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(s) for s in self.array.shape)


@dataclass(frozen=True)
class NotTensor:
    """An argument that is not a tensor (a list, a float, a numpy array...), by its source."""

    source: str


def grad_mvalue(dtype: str, shape: tuple[int, ...], seed: int) -> MValue:
    """A value with autograd history: ``base + p * coef`` at ``p == 1``, with small integer
    ``base`` and ``coef``, so that values and gradients are exact in every float type."""
    rng = np.random.default_rng(seed)
    base = rng.integers(-4, 5, size=shape).astype(np.float64)
    coef = rng.integers(-2, 3, size=shape).astype(np.float64)
    return MValue(dtype, (base + coef).astype(storage_dtype(dtype)), coef)
