"""B27-like: cat_batch takes the variable names from the first workspace and ignores the
other variables of later ones."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    Workspace as _Workspace,
)

from mutants._base import reference_name

KILLED_BY = ["WS-38"]
TESTS = "test_workspace_ops"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class Workspace(_Workspace):
    @staticmethod
    def cat_batch(workspaces: Any) -> Any:
        if isinstance(workspaces, (list, tuple)) and len(workspaces) > 1:
            first = list(workspaces[0].keys())
            trimmed = []
            for ws in workspaces:
                part = _Workspace()
                for name in first:
                    if name in list(ws.keys()):
                        part.set_full(name, ws.get_full(name))
                trimmed.append(part)
            workspaces = trimmed
        return _Workspace.cat_batch(workspaces)
