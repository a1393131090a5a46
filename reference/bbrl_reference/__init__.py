"""bbrl_reference: the typed reference implementation of the BBRL core (spec/*.md).

General layout:

* ``_workspace``: :class:`Workspace`, named ``[T, B, ...]`` tensors (WS, TR clauses).
* ``_agents``: :class:`Agent`, :class:`Agents`, :class:`TemporalAgent` (AG, TA).
* ``_env_agent``: :class:`ParallelGymAgent` and :func:`make_env` (ENV, DET).
* ``_replay_buffer``: :class:`ReplayBuffer` (RB).
* ``_errors``: the exception tree (ERR); ``_validation``: every argument check, one message
  form; ``_names``: the reserved variable names; ``_types``: shared type aliases.

It is a reference, not a product: small, checked and fast enough to benchmark against, with no
dependency beyond torch, numpy and gymnasium.
"""

from ._agents import Agent as Agent
from ._agents import Agents as Agents
from ._agents import TemporalAgent as TemporalAgent
from ._env_agent import ParallelGymAgent as ParallelGymAgent
from ._env_agent import make_env as make_env
from ._errors import AgentNotBoundError as AgentNotBoundError
from ._errors import AllocationError as AllocationError
from ._errors import BatchIndexError as BatchIndexError
from ._errors import BBRLError as BBRLError
from ._errors import DTypeError as DTypeError
from ._errors import EmptyBufferError as EmptyBufferError
from ._errors import InvalidArgumentError as InvalidArgumentError
from ._errors import InvalidStateError as InvalidStateError
from ._errors import ShapeError as ShapeError
from ._errors import TimeIndexError as TimeIndexError
from ._errors import UnknownVariableError as UnknownVariableError
from ._names import ACTION as ACTION
from ._names import ENV_CUMULATED_REWARD as ENV_CUMULATED_REWARD
from ._names import ENV_DONE as ENV_DONE
from ._names import ENV_OBS as ENV_OBS
from ._names import ENV_REWARD as ENV_REWARD
from ._names import ENV_TERMINATED as ENV_TERMINATED
from ._names import ENV_TIMESTEP as ENV_TIMESTEP
from ._names import ENV_TRUNCATED as ENV_TRUNCATED
from ._replay_buffer import ReplayBuffer as ReplayBuffer
from ._types import ReplayBufferState as ReplayBufferState
from ._workspace import Workspace as Workspace

__all__ = [
    "ACTION",
    "ENV_CUMULATED_REWARD",
    "ENV_DONE",
    "ENV_OBS",
    "ENV_REWARD",
    "ENV_TERMINATED",
    "ENV_TIMESTEP",
    "ENV_TRUNCATED",
    "Agent",
    "AgentNotBoundError",
    "Agents",
    "AllocationError",
    "BBRLError",
    "BatchIndexError",
    "DTypeError",
    "EmptyBufferError",
    "InvalidArgumentError",
    "InvalidStateError",
    "ParallelGymAgent",
    "ReplayBuffer",
    "ReplayBufferState",
    "ShapeError",
    "TemporalAgent",
    "TimeIndexError",
    "UnknownVariableError",
    "Workspace",
    "make_env",
]
