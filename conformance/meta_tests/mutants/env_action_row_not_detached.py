"""The env agent turns the action row into numpy with ``.numpy()`` without ``detach()``: right
for a sampled action, but a Box action that requires grad (a deterministic actor's output, as
DDPG and TD3 write it) raises torch's RuntimeError instead of reaching the envs."""

from __future__ import annotations

from typing import Any

import numpy as np
from bbrl_reference import ParallelGymAgent as _ParallelGymAgent

from mutants._base import reference_name

KILLED_BY = ["ENV-11"]
TESTS = "test_env_action_ranks"


def __getattr__(name: str) -> Any:
    """The reference's names that this mutant does not redefine (PEP 562)."""
    return reference_name(name)


class ParallelGymAgent(_ParallelGymAgent):
    def _read_actions(self, workspace: Any, t: int) -> np.ndarray:
        workspace.get("action", t).cpu().numpy()  # RuntimeError when the row requires grad
        return super()._read_actions(workspace, t)
