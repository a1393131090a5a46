"""get_transitions(None) of a workspace of time size 2 keeps nothing to filter and hands back
the source's own data: later writes into the source show in the result."""

from __future__ import annotations

from typing import Any

import torch
from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["TR-8"]
# First caught by the program generator only; after main's workspace merge the generator's
# ci share no longer reached it, and test_result_and_source_share_nothing now also runs
# filter_key=None (the case this mutant breaks).
TESTS = "test_transitions"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class _Shared(_Workspace):
    """A result that reads through to its source until it is written itself."""

    def __init__(self, source: _Workspace) -> None:
        super().__init__()
        self._source: _Workspace | None = source
        for name in list(source.keys()):
            super().set_full(name, source.get_full(name))

    def _detach_from_source(self) -> None:
        self._source = None

    def get(self, var_name: str, t: int) -> torch.Tensor:
        if self._source is not None and var_name in set(self._source.keys()):
            return self._source.get(var_name, t)
        return super().get(var_name, t)

    def get_full(self, var_name: str) -> torch.Tensor:
        if self._source is not None and var_name in set(self._source.keys()):
            return self._source.get_full(var_name)
        return super().get_full(var_name)

    def __getitem__(self, var_name: Any) -> Any:
        if isinstance(var_name, str):
            return self.get_full(var_name)
        return tuple(self.get_full(name) for name in var_name)  # WS-25: several names

    def set(self, var_name: str, t: int, value: torch.Tensor) -> None:
        self._materialise()
        super().set(var_name, t, value)

    def set_full(self, var_name: str, value: torch.Tensor, *args: Any, **kwargs: Any) -> None:
        self._materialise()
        super().set_full(var_name, value, *args, **kwargs)

    def copy_n_last_steps(self, n: int, var_names: Any = None) -> None:
        self._materialise()
        super().copy_n_last_steps(n, var_names)

    def clear(self, var_name: str | None = None) -> None:
        self._materialise()
        super().clear(var_name)

    def zero_grad(self) -> None:
        self._materialise()
        super().zero_grad()

    def _materialise(self) -> None:
        if self._source is not None:
            for name in list(super().keys()):
                if name in set(self._source.keys()):
                    super().set_full(name, self._source.get_full(name))
            self._source = None


class Workspace(_Workspace):
    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> _Workspace:
        result = super().get_transitions(filter_key, no_final_state=no_final_state)
        if filter_key is None and list(self.keys()) and self.time_size() == 2:
            return _Shared(self)
        return result
