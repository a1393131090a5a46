"""Hostile values as source text (evaluated in a world's namespace, printed in reproducers).

Tensors come from the preamble's ``bits(shape, dtype, seed)`` (random bit patterns: NaN
payloads, infinities, -0.0, integer extremes) and ``special(shape, dtype)`` (NaN, +-inf, -0.0
in turn), so that a value is the same wherever its source is evaluated.
"""

from __future__ import annotations

import math

import torch

from bbrl_conformance._hostile._engine import Draw
from bbrl_conformance._strategies import WORKSPACE_DTYPE_NAMES

#: the dtypes every workspace operation accepts (WS-21)
WS_DTYPES = WORKSPACE_DTYPE_NAMES
#: the dtypes a replay buffer stores (RB-18): WS-21 without uint16, uint32, uint64
RB_DTYPES = tuple(d for d in WS_DTYPES if d not in ("uint16", "uint32", "uint64"))
#: the dtypes of a stop variable (TA-6)
STOP_DTYPES = tuple(d for d in RB_DTYPES if not d.startswith("complex"))
#: dtypes torch has that WS-21 leaves out (whether they are accepted is not specified)
EXCLUDED_DTYPES = tuple(
    name
    for name in (
        "float8_e4m3fn",
        "float8_e5m2",
        "float8_e4m3fnuz",
        "float8_e5m2fnuz",
        "float8_e8m0fnu",
        "float4_e2m1fn_x2",
        "complex32",
        "bits8",
        "bits16",
        "uint1",
        "uint4",
        "uint7",
        "int1",
        "int4",
        "int7",
    )
    if isinstance(getattr(torch, name, None), torch.dtype)
)
#: quantized dtypes (WS-22: a quantized tensor raises TypeError)
QUANTIZED = ("qint8", "quint8", "qint32", "quint4x2")

PREAMBLE = '''

def special(shape, dtype):
    """NaN, +inf, -inf, -0.0, 0.0, a subnormal-ish and ordinary values, in turn."""
    pool = torch.tensor([math.nan, math.inf, -math.inf, -0.0, 0.0, 1.5, 2.0**-20, -3.0])
    if dtype.is_complex:
        pool = torch.complex(pool, pool.flip(0))
    index = torch.arange(math.prod(shape)) % pool.shape[0]
    return pool[index].reshape(shape).to(dtype)
'''


def dtype_source(name: str) -> str:
    return f"torch.{name}"


def shape_source(shape: tuple[int, ...]) -> str:
    return repr(tuple(shape))


def plain(shape: tuple[int, ...], dtype: str, seed: int) -> str:
    """Random bit patterns of ``shape`` and ``dtype``."""
    return f"bits({shape_source(shape)}, torch.{dtype}, {seed})"


def views(shape: tuple[int, ...], dtype: str) -> list[str]:
    """The view kinds that can give a tensor of ``shape`` and ``dtype``."""
    kinds = ["sliced", "expanded", "offset"]
    if len(shape) >= 2:
        kinds.append("transposed")
    if dtype in ("float32", "float64"):
        kinds.append("negative")
    if dtype.startswith("complex"):
        kinds.append("conjugate")
    return kinds


def view(shape: tuple[int, ...], dtype: str, seed: int, kind: str) -> str:
    """A value of ``shape`` and ``dtype`` that is a view: not contiguous, with a storage
    offset, with stride 0, or with a negative or conjugate bit."""
    first, rest = shape[0], tuple(shape[1:])
    if kind == "sliced":
        return f"{plain((2 * first, *rest), dtype, seed)}[::2]"
    if kind == "expanded":
        return f"{plain((1, *rest), dtype, seed)}.expand({shape_source(shape)})"
    if kind == "offset":
        return f"{plain((first + 1, *rest), dtype, seed)}[1:]"
    if kind == "transposed":
        swapped = (shape[1], shape[0], *shape[2:])
        return f"{plain(swapped, dtype, seed)}.transpose(0, 1)"
    if kind == "negative":
        complex_dtype = "complex64" if dtype == "float32" else "complex128"
        return f"{plain(shape, complex_dtype, seed)}.conj().imag"
    if kind == "conjugate":
        return f"{plain(shape, dtype, seed)}.conj()"
    raise ValueError(f"view: unknown kind {kind!r}")


def special_values(shape: tuple[int, ...], dtype: str) -> str:
    """NaN, infinities and -0.0 (floating and complex dtypes)."""
    return f"special({shape_source(shape)}, torch.{dtype})"


def layouts(shape: tuple[int, ...], seed: int) -> list[str]:
    """Float32 values of ``shape`` whose layout is not strided, nested or without data."""
    base = plain(shape, "float32", seed)
    found = [
        f"quiet(lambda: {base}.to_sparse())",
        f"quiet(lambda: {base}.to_mkldnn())",
        f"quiet(lambda: torch.nested.nested_tensor(list({base})))",
    ]
    if len(shape) == 2:
        found.append(f"quiet(lambda: {base}.to_sparse_csr())")
        found.append(f"quiet(lambda: {base}.to_sparse_csc())")
    if len(shape) >= 2 and 0 not in shape:
        found.append(
            f"quiet(lambda: torch.nested.nested_tensor(list({base}), layout=torch.jagged))"
        )
    return found


def quantized(shape: tuple[int, ...], name: str) -> str:
    return (
        f"quiet(lambda: torch.quantize_per_tensor(torch.zeros({shape_source(shape)}), 0.5, 0, "
        f"torch.{name}))"
    )


def meta(shape: tuple[int, ...], dtype: str) -> str:
    return f"torch.zeros({shape_source(shape)}, dtype=torch.{dtype}, device='meta')"


def excluded(shape: tuple[int, ...], name: str) -> str:
    return f"quiet(lambda: torch.zeros({shape_source(shape)}, dtype=torch.{name}))"


#: values that are not tensors, as source (``B`` is the batch size in the namespace)
NOT_TENSORS = (
    "None",
    "1.5",
    "True",
    "'x'",
    "np.float32(1.0)",
    "np.zeros(3)",
    "[0.0, 1.0, 2.0]",
)

#: ints where an int is expected: (source, value) of the huge and negative ones
HUGE = (2**31, 2**40, 2**63, 2**64)
NEGATIVE = (-1, -(2**31), -(2**63))
#: not ints: (census class, source)
NOT_INTS = (
    ("python-type", "1.5"),
    ("python-type", "'1'"),
    ("python-type", "None"),
    ("python-type", "[1]"),
    ("python-type", "(1,)"),
    ("nan-inf", "math.nan"),
    ("nan-inf", "math.inf"),
    ("nan-inf", "-math.inf"),
)


def int_source(value: int) -> str:
    """Source of an int, powers of two spelled as such (``2**40``)."""
    if value > 2**16 and value & (value - 1) == 0:
        return f"2**{value.bit_length() - 1}"
    if value < -(2**16) and -value & (-value - 1) == 0:
        return f"-2**{(-value).bit_length() - 1}"
    return str(value)


def not_int(draw: Draw) -> tuple[str, str]:
    """(census class, source) of a value that is not an int."""
    return draw.pick(NOT_INTS, "not an int")


def int_like(draw: Draw, value: int) -> tuple[str, str]:
    """(gap, source) of ``value`` as something that is an int to some and not to others."""
    choices = [("numpy-int", f"np.int64({value})"), ("numpy-int", f"torch.tensor({value})")]
    if value in (0, 1):
        choices.append(("bool-as-int", repr(bool(value))))
    return draw.pick(choices, "int-like")


def prod(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
