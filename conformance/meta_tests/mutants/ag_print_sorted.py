"""AG-18: PrintAgent() without names prints the variables in sorted order instead of the order
of the workspace's keys(); the two agree when the variables were created in sorted order."""

from __future__ import annotations

from typing import Any

from bbrl_reference import (
    PrintAgent as _PrintAgent,
)

from mutants._base import reference_name

KILLED_BY = ["AG-18"]
TESTS = "test_agent_utils"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class PrintAgent(_PrintAgent):
    def forward(self, t: int, **kwargs: Any) -> None:
        workspace = self.workspace
        assert workspace is not None
        names = self.names or tuple(sorted(workspace.keys()))
        rows = [(name, workspace.get(name, t)) for name in names]
        for name, row in rows:
            print(f"{name} = {row}")
