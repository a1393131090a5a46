"""An executable model of the BBRL core, written from spec/*.md with plain Python and numpy.

It shares no code with any implementation and imports neither torch nor gymnasium. Layout:

- ``values``: dtype names, model values (``MValue``) and seeded value generators;
- ``workspace``: ``WorkspaceModel`` (spec/workspace.md) with ``get_transitions``
  (spec/transitions.md), and ``ModelError``/``Unspecified``, the outcomes of a call that must
  raise or whose outcome the spec leaves open;
- ``replay_buffer``: ``ReplayBufferModel`` (spec/replay-buffer.md);
- ``envfamily``: the configuration and formulas of a family of generated envs;
- ``env_agent``: ``EnvAgentModel`` (spec/env-agent.md) over that family;
- ``agents``: agent trees as data and ``TreeRun``, their interpreter (spec/agents.md).

The program generator (``bbrl_conformance._machine``) drives the model and an implementation in
lockstep; meta tests check the model on hand-worked examples (meta_tests/test_model.py).
"""

from bbrl_conformance._model.workspace import ModelError as ModelError
from bbrl_conformance._model.workspace import Reason as Reason
from bbrl_conformance._model.workspace import Unspecified as Unspecified
from bbrl_conformance._model.workspace import WorkspaceModel as WorkspaceModel

__all__ = ["ModelError", "Reason", "Unspecified", "WorkspaceModel"]
