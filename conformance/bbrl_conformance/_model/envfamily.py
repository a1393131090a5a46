"""A family of generated envs: their configuration and the formulas of what they return.

One :class:`EnvConfig` describes an env: its observation space (``Box`` of rank 0 to 3 and any
dtype, ``Discrete`` with a ``start``, or a ``Dict`` of those in a chosen key order, returned in
another order), its action space (``Discrete`` with a ``start``, or a float ``Box``), the Python
or numpy type of its rewards, a time limit of its own, and whether its observations carry noise
drawn from the env's random generator at each reset.

The env is driven by its actions: an action encodes a *code* (``decode_action``). Code 1
terminates the episode, 2 truncates it, 3 does both, and any other code continues it. The
observation and reward after a step are known functions of the step count in the episode and
of the code (``leaf_value``, ``reward_value``), so which action reached which env, and when, is
visible in every row. Only the noise (one element of one ``Box`` entry, when ``noisy``) depends
on the reset seed; it stays the same for a whole episode.

Everything here is plain numpy: the gymnasium class is in ``bbrl_conformance.generated_env``
and the model of the env agent in ``bbrl_conformance._model.env_agent``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
import numpy.typing as npt

from bbrl_conformance._model.values import MArray

__all__ = [
    "FLAG_KINDS",
    "NOISE_RANGE",
    "RESET_CODE",
    "REWARD_KINDS",
    "ActionSpec",
    "BoxObs",
    "DictObs",
    "DiscreteObs",
    "EnvConfig",
    "action_row",
    "decode_action",
    "ends",
    "flag_value",
    "leaf_value",
    "noise_target",
    "obs_rows",
    "obs_value",
    "obs_variables",
    "reward_float",
    "reward_value",
]

#: the code of the state right after a reset (no action taken yet)
RESET_CODE = -1
#: noise values are integers in [0, NOISE_RANGE): exact in float32
NOISE_RANGE = 2**24
BOX_DTYPES = ("bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64")
NOISY_DTYPES = ("int32", "int64", "float32", "float64")


@dataclass(frozen=True)
class BoxObs:
    """A ``Box`` observation space of ``dtype`` (numpy name) and ``shape`` (rank 0 to 3)."""

    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class DiscreteObs:
    """``Discrete(n, start)``; the env returns a numpy int64 or a Python int."""

    n: int
    start: int
    numpy_scalar: bool = True


Leaf = BoxObs | DiscreteObs


@dataclass(frozen=True)
class DictObs:
    """A ``Dict`` space with ``entries`` in the space's key order; the env returns dicts whose
    keys come in ``returned_order``."""

    entries: tuple[tuple[str, Leaf], ...]
    returned_order: tuple[str, ...]


ObsSpec = BoxObs | DiscreteObs | DictObs


@dataclass(frozen=True)
class ActionSpec:
    """The action space: ``Discrete(n, start)``, or a float32 ``Box`` of ``shape`` whose first
    element encodes the code; ``dtype`` is the dtype of the ``action`` variable written for it."""

    kind: Literal["discrete", "box"]
    n: int
    start: int = 0
    shape: tuple[int, ...] = ()
    dtype: str = "int64"


#: how the env returns its reward: every form ENV-21 accepts (a Python int or float, a numpy
#: integer or floating scalar, a 0-d array)
RewardKind = Literal["int", "float", "np_int64", "np_float32", "np_float16", "array0d", "huge_int"]
#: the kinds the generated programs draw: "huge_int" (a Python int beyond float's range, whose
#: row is +-inf) is left to a focused test, as its sums (inf - inf) would make NaN returns
REWARD_KINDS: tuple[RewardKind, ...] = tuple(k for k in get_args(RewardKind) if k != "huge_int")
#: how the env returns ``terminated`` and ``truncated``: every form ENV-21 accepts (a Python
#: bool, a numpy bool, a 0-d bool array)
FlagKind = Literal["bool", "numpy", "array0d"]
FLAG_KINDS: tuple[FlagKind, ...] = get_args(FlagKind)


@dataclass(frozen=True)
class EnvConfig:
    """One env of the family (picklable, and its repr is valid Python)."""

    obs: ObsSpec
    action: ActionSpec
    reward: RewardKind = "float"
    own_limit: int | None = None
    noisy: bool = False
    flags: FlagKind = "bool"


def _codes(step: int, code: int, key_index: int, size: int) -> npt.NDArray[np.int64]:
    base = 1 + 97 * step + 13 * (code + 1) + 41 * key_index
    return np.asarray(base + 5 * np.arange(size, dtype=np.int64), dtype=np.int64)


def _box_values(spec: BoxObs, ints: npt.NDArray[np.int64]) -> MArray:
    dtype = spec.dtype
    if dtype == "bool":
        out: MArray = ints % 3 == 0
    elif dtype == "uint8":
        out = ints % 256
    elif dtype == "int8":
        out = ints % 256 - 128
    elif dtype == "int16":
        out = (ints * 7) % 65536 - 32768
    elif dtype == "int32":
        out = (ints * 1000003) % 2**32 - 2**31
    elif dtype == "int64":
        out = 2**62 + ints * (2**33 + 1)  # beyond 2**53: a round trip through float64 shows
    elif dtype == "float16":
        out = (ints % 2048) * 0.25
    elif dtype == "float32":
        out = ints * 0.125 + 1000.0
    elif dtype == "float64":
        out = ints * 0.125 - 0.5
    else:
        raise ValueError(f"BoxObs.dtype: expected one of {BOX_DTYPES}, got {dtype!r}")
    return np.asarray(out).astype(dtype)


def leaf_value(
    spec: Leaf, step: int, code: int, key_index: int = 0, noise: int | None = None
) -> object:
    """What the env returns for a Box or Discrete (part of the) observation."""
    if isinstance(spec, DiscreteObs):
        value = spec.start + int(_codes(step, code, key_index, 1)[0]) % spec.n
        return np.int64(value) if spec.numpy_scalar else value
    size = int(np.prod(spec.shape, dtype=np.int64))
    flat = _box_values(spec, _codes(step, code, key_index, size))
    if noise is not None:
        flat[0] = noise
    return flat.reshape(spec.shape)


def obs_value(spec: ObsSpec, step: int, code: int, noise: int | None) -> object:
    """What the env returns as its observation (a dict for a Dict space)."""
    target = noise_target(spec)
    if not isinstance(spec, DictObs):
        return leaf_value(spec, step, code, 0, noise if target else None)
    values = {
        key: leaf_value(leaf, step, code, i, noise if target == f"env/env_obs/{key}" else None)
        for i, (key, leaf) in enumerate(spec.entries)
    }
    return {key: values[key] for key in spec.returned_order}


def _leaf_variable(spec: Leaf) -> tuple[str, tuple[int, ...]]:
    """ENV-9: (dtype, item shape) of the variable a Box or Discrete space writes."""
    if isinstance(spec, DiscreteObs):
        return "int64", ()
    if spec.dtype.startswith("float"):
        return "float32", spec.shape
    return spec.dtype, spec.shape


def obs_variables(spec: ObsSpec) -> dict[str, tuple[str, tuple[int, ...]]]:
    """ENV-9, ENV-10: the observation variables an env agent writes, with (dtype, item shape)."""
    if isinstance(spec, DictObs):
        return {f"env/env_obs/{key}": _leaf_variable(leaf) for key, leaf in spec.entries}
    return {"env/env_obs": _leaf_variable(spec)}


def obs_rows(spec: ObsSpec, step: int, code: int, noise: int | None) -> dict[str, MArray]:
    """Per observation variable, one env's entry of the row (item shape, the variable's dtype)."""
    raw = obs_value(spec, step, code, noise)
    out: dict[str, MArray] = {}
    for name, (dtype, _) in obs_variables(spec).items():
        key = name.removeprefix("env/env_obs").removeprefix("/")
        value = raw[key] if isinstance(raw, dict) else raw
        out[name] = np.asarray(value).astype(dtype)
    return out


def noise_target(spec: ObsSpec) -> str | None:
    """The variable whose element 0 carries the noise of a noisy env (a Box entry of a wide
    enough dtype with at least two elements), or None if no entry can."""

    def fits(leaf: Leaf) -> bool:
        return (
            isinstance(leaf, BoxObs)
            and leaf.dtype in NOISY_DTYPES
            and int(np.prod(leaf.shape, dtype=np.int64)) >= 2
        )

    if isinstance(spec, DictObs):
        for key, leaf in spec.entries:
            if fits(leaf):
                return f"env/env_obs/{key}"
        return None
    return "env/env_obs" if fits(spec) else None


def ends(code: int) -> tuple[bool, bool]:
    """(terminated, truncated) reported by the env itself for a step with ``code``."""
    return code in (1, 3), code in (2, 3)


def reward_value(kind: RewardKind, step: int, code: int) -> object:
    """The reward object the env returns for the step reaching ``step`` with ``code``."""
    q = (3 * step + code + 1) % 9 - 4
    if kind == "int":
        return q
    if kind == "np_int64":
        return np.int64(q)
    if kind == "np_float32":
        return np.float32(q * 0.5)
    if kind == "np_float16":
        return np.float16(q * 0.5)
    if kind == "array0d":
        return np.asarray(q * 0.125)
    if kind == "huge_int":
        return q * 10**400
    return q * 0.25


def flag_value(kind: FlagKind, flag: bool) -> object:
    """The flag object the env returns for ``flag``."""
    if kind == "numpy":
        return np.bool_(flag)
    if kind == "array0d":
        return np.asarray(flag)
    return flag


def reward_float(kind: RewardKind, step: int, code: int) -> float:
    """The reward as a float: an int beyond float's range is +-inf (what it rounds to)."""
    value = reward_value(kind, step, code)
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return math.inf if value > 0 else -math.inf  # type: ignore[operator]


def decode_action(spec: ActionSpec, action: object) -> int:
    """The code an action carries; TypeError for an action of the wrong kind or shape."""
    array = np.asarray(action)
    if spec.kind == "discrete":
        if array.shape != () or array.dtype.kind not in "iu":
            raise TypeError(
                f"generated env: a Discrete action must be one integer, got "
                f"{type(action).__name__} of dtype {array.dtype} and shape {array.shape}"
            )
        return (int(array) - spec.start) % spec.n
    if array.shape != spec.shape or array.dtype.kind != "f":
        raise TypeError(
            f"generated env: a Box action must be floats of shape {spec.shape}, got "
            f"{type(action).__name__} of dtype {array.dtype} and shape {array.shape}"
        )
    first = float(array.reshape(-1)[0])
    if not np.isfinite(first):  # inf or nan (an agent may write any float): code 0
        return 0
    return int(np.floor(first)) % spec.n


def action_row(spec: ActionSpec, seed: int, t: int, num_envs: int) -> MArray:
    """Row ``t`` of the ``action`` variable an action agent with ``seed`` writes: one code per
    env (about 1 in 10 terminates, 1 in 14 truncates, 1 in 20 does both)."""
    rng = np.random.default_rng([seed, t])
    draws = rng.random(num_envs)
    payload = rng.integers(4, max(spec.n, 5), size=num_envs) % spec.n
    codes = np.where(draws < 0.10, 1, np.where(draws < 0.17, 2, np.where(draws < 0.22, 3, payload)))
    if spec.kind == "discrete":
        return np.asarray(spec.start + codes).astype(spec.dtype)
    rest = rng.integers(-8, 8, size=(num_envs, *spec.shape)) * 0.25
    rest.reshape(num_envs, -1)[:, 0] = codes + 0.5
    return rest.astype(spec.dtype)
