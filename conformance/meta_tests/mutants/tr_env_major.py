"""get_transitions orders pairs env-major (column b*(T-1)+t) instead of time-major."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

# TR-2 is checked where no pair is dropped (the TR-4 tests and unfiltered TR-1 cases).
KILLED_BY = ["TR-2"]
SELECT = ["TR-2", "TR-4"]
TESTS = "test_transitions"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


def _reorder(ws: _Workspace, filter_key: str | None, env_major: bool, drop_second: bool) -> Any:
    ws_all = _Workspace.get_transitions(ws, None)
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
    result = _Workspace()
    for name in list(ws_all.keys()):
        result.set_full(name, ws_all.get_full(name)[:, order][:, ~drop])
    return result


class Workspace(_Workspace):
    def get_transitions(self, filter_key: str | None = "env/done") -> Any:
        checked = super().get_transitions(filter_key)  # the argument checks and T <= 1
        if self.time_size() <= 1:
            return checked
        return _reorder(self, filter_key, env_major=True, drop_second=False)
