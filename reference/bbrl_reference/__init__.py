"""bbrl_reference: the typed reference implementation of the BBRL core (spec/*.md).

General layout:

* ``_workspace``: :class:`Workspace`, named ``[T, B, ...]`` tensors (WS, TR clauses).
* ``_agents``: :class:`Agent`, :class:`Agents`, :class:`TemporalAgent` (AG, TA), and bbrl's
  conveniences (:class:`KWAgentWrapper`, :class:`PrintAgent`, :class:`EpisodesDone`, ...).
* ``_config``: :func:`get_class`, :func:`get_arguments`, :func:`instantiate_class` (AG-22..24).
* ``_env_agent``: :class:`ParallelGymAgent` and :func:`make_env` (ENV, DET), stepping their envs
  through a backend of ``_backends`` (a loop, worker processes, or a gymnasium ``VectorEnv``).
* ``_replay_buffer``: :class:`ReplayBuffer` (RB); ``_files``: atomic writes and its file format.
* ``_errors``: the exception tree (ERR); ``_validation``: every argument check, one message
  form; ``_names``: the reserved variable names; ``_types``: shared type aliases.

It is a reference, not a product: small, checked and fast enough to benchmark against, with no
dependency beyond torch, numpy and gymnasium.
"""

from ._agents import Agent as Agent
from ._agents import Agents as Agents
from ._agents import CopyTAgent as CopyTAgent
from ._agents import EpisodesDone as EpisodesDone
from ._agents import KWAgentWrapper as KWAgentWrapper
from ._agents import PrintAgent as PrintAgent
from ._agents import SeedableAgent as SeedableAgent
from ._agents import SerializableAgent as SerializableAgent
from ._agents import TemporalAgent as TemporalAgent
from ._agents import TimeAgent as TimeAgent
from ._config import get_arguments as get_arguments
from ._config import get_class as get_class
from ._config import instantiate_class as instantiate_class
from ._env_agent import ParallelGymAgent as ParallelGymAgent
from ._env_agent import make_env as make_env
from ._errors import AgentNotBoundError as AgentNotBoundError
from ._errors import AllocationError as AllocationError
from ._errors import BatchIndexError as BatchIndexError
from ._errors import BBRLError as BBRLError
from ._errors import ClassNotFoundError as ClassNotFoundError
from ._errors import DTypeError as DTypeError
from ._errors import EmptyBufferError as EmptyBufferError
from ._errors import EnvError as EnvError
from ._errors import EnvOutputShapeError as EnvOutputShapeError
from ._errors import EnvOutputTypeError as EnvOutputTypeError
from ._errors import EnvTimeoutError as EnvTimeoutError
from ._errors import FileFormatError as FileFormatError
from ._errors import InvalidArgumentError as InvalidArgumentError
from ._errors import InvalidStateError as InvalidStateError
from ._errors import MissingKeyError as MissingKeyError
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

#: The env agent backends the conformance suite runs its ENV, DET and TR-10 tests on (ENV-16):
#: name -> the keyword arguments of ParallelGymAgent that select it.
CONFORMANCE_BACKENDS = {"sync": {}, "async": {"backend": "async"}, "vector": {"backend": "vector"}}
#: The declared backends that step all envs as one gymnasium VectorEnv (ENV-17).
CONFORMANCE_VECTOR_BACKENDS = ("vector",)

__all__ = [
    "ACTION",
    "CONFORMANCE_BACKENDS",
    "CONFORMANCE_VECTOR_BACKENDS",
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
    "ClassNotFoundError",
    "CopyTAgent",
    "DTypeError",
    "EmptyBufferError",
    "EnvError",
    "EnvOutputShapeError",
    "EnvOutputTypeError",
    "EnvTimeoutError",
    "EpisodesDone",
    "FileFormatError",
    "InvalidArgumentError",
    "InvalidStateError",
    "KWAgentWrapper",
    "MissingKeyError",
    "ParallelGymAgent",
    "PrintAgent",
    "ReplayBuffer",
    "ReplayBufferState",
    "SeedableAgent",
    "SerializableAgent",
    "ShapeError",
    "TemporalAgent",
    "TimeAgent",
    "TimeIndexError",
    "UnknownVariableError",
    "Workspace",
    "get_arguments",
    "get_class",
    "instantiate_class",
    "make_env",
]
