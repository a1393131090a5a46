"""What every mutant starts from: the reference's public names, except those it redefines."""

from __future__ import annotations

from typing import Any

import bbrl_reference
import torch
from bbrl_conformance import REQUIRED_NAMES
from bbrl_reference import Workspace

#: the names a mutant takes from the reference unless it redefines them
API = REQUIRED_NAMES


def reference_name(name: str) -> Any:
    """A mutant's module ``__getattr__`` (PEP 562): the API names it does not redefine."""
    if name in API:
        return getattr(bbrl_reference, name)
    raise AttributeError(name)


def reordered_transitions(
    ws: Workspace, filter_key: str | None, env_major: bool, drop_second: bool
) -> Any:
    """The reference's pairs, reordered env-major and/or filtered on the second element."""
    ws_all = Workspace.get_transitions(ws, None)
    T, B = ws.time_size(), ws.batch_size()
    order = torch.arange((T - 1) * B)
    if filter_key is None:
        drop = torch.zeros((T - 1) * B, dtype=torch.bool)
    else:
        flags = ws.get_full(filter_key)
        pick = flags[1:] if drop_second else flags[:-1]
        drop = (pick.t() if env_major else pick).reshape(-1)
    if env_major:
        order = order.view(T - 1, B).t().reshape(-1)
    result = Workspace()
    for name in list(ws_all.keys()):
        result.set_full(name, ws_all.get_full(name)[:, order][:, ~drop])
    return result


def sample_at(rb: Any, index: torch.Tensor) -> Any:
    """The reference ReplayBuffer's sample of the stored slots ``index`` (a 1-D int64 tensor).

    What ``get_shuffled`` returns once it has drawn its indices: for mutants that draw them
    differently.
    """
    schema = rb._schema
    out = Workspace()
    out._install_samples(
        rb._storage.gather(index), (schema.time_size, index.shape[0]), schema.fields, rb.device
    )
    return out


def copy_workspace(ws: Workspace, convert: Any) -> Workspace:
    """A new workspace holding ``convert(name, get_full(name))`` for every variable."""
    out = Workspace()
    for name in list(ws.keys()):
        out.set_full(name, convert(name, ws.get_full(name)))
    return out
