"""Type aliases shared by the modules of bbrl_reference."""

from __future__ import annotations

from typing import TypeAlias, TypedDict

import torch

VarName: TypeAlias = str
"""The name of a workspace variable, e.g. ``"env/env_obs"``."""

TimeIndex: TypeAlias = int
"""A row index ``0 <= t`` along the time dimension."""

Shape: TypeAlias = tuple[int, ...]
"""A tensor shape, as a plain tuple."""

Device: TypeAlias = torch.device | str
"""Anything :func:`torch.device` accepts."""


class ReplayBufferState(TypedDict):
    """What :meth:`ReplayBuffer.state_dict` returns and :meth:`load_state_dict` takes."""

    max_size: int
    position: int
    size: int
    variables: dict[str, torch.Tensor]
    """Per variable the filled slots, ``[size, T, ...]``, in slot order."""
