"""Adapter for bbrl 1.0.1: ``python -m bbrl_conformance --impl bbrl_conformance.adapters.bbrl``.

It maps names only and hides none of bbrl's behaviour: every class is bbrl's own, except that
``Workspace.get_transitions`` is given the spec's call shape
``get_transitions(filter_key, *, no_final_state=False)`` (bbrl's first parameter is
``no_final_state``; the spec's ``filter_key=None`` is bbrl's ``no_final_state=True``, TR-11).
The known failures are listed in ``deviations/bbrl.toml``, the default ledger of this adapter
(``--no-deviations`` runs without it).
"""

from __future__ import annotations

import bbrl
from bbrl import get_arguments as get_arguments
from bbrl import get_class as get_class
from bbrl import instantiate_class as instantiate_class
from bbrl.agents import Agent as Agent
from bbrl.agents import Agents as Agents
from bbrl.agents import CopyTAgent as CopyTAgent
from bbrl.agents import EpisodesDone as EpisodesDone
from bbrl.agents import KWAgentWrapper as KWAgentWrapper
from bbrl.agents import PrintAgent as PrintAgent
from bbrl.agents import SeedableAgent as SeedableAgent
from bbrl.agents import SerializableAgent as SerializableAgent
from bbrl.agents import TemporalAgent as TemporalAgent
from bbrl.agents import TimeAgent as TimeAgent
from bbrl.agents.gymnasium import ParallelGymAgent as ParallelGymAgent
from bbrl.agents.gymnasium import make_env as make_env
from bbrl.utils.replay_buffer import ReplayBuffer as ReplayBuffer
from bbrl.workspace import Workspace as _BBRLWorkspace

from bbrl_conformance import REQUIRED_NAMES

__all__ = list(REQUIRED_NAMES)

IMPLEMENTATION_NAME = "bbrl"
__version__ = str(getattr(bbrl, "__version__", "unknown"))
#: the ledger shipped as bbrl_conformance/deviations/bbrl.toml
CONFORMANCE_DEVIATIONS = "bbrl"
#: bbrl's ParallelGymAgent has one way of stepping its envs: a loop in the calling process
#: (no keyword argument selects it); ENV-16
CONFORMANCE_BACKENDS: dict[str, dict[str, object]] = {"sync": {}}


class Workspace(_BBRLWorkspace):  # type: ignore[misc]
    """bbrl's Workspace; only ``get_transitions``' parameters are renamed to the spec's."""

    def get_transitions(
        self, filter_key: str | None = "env/done", *, no_final_state: bool = False
    ) -> _BBRLWorkspace:
        if filter_key is None:
            return super().get_transitions(no_final_state=True)
        return super().get_transitions(no_final_state=no_final_state, filter_key=filter_key)
