"""End-to-end programs (spec/README.md, "Programs that run unchanged").

Each test runs one program of :mod:`bbrl_conformance.programs` against the implementation: code
written the way bbrl's notebooks 01-03 and the course algorithms (DQN, DDPG, SAC, PPO) are, with
every result checked against a model (the envs' own record of what they did, losses and
gradients recomputed without the workspace, buffer sizes, target networks, episode returns,
saved-and-loaded agents). The clauses a test cites are those its checks name; checks of calls
the core spec does not cover yet name the closest clause (``programs.CLAUSE_FOR``).
"""

from __future__ import annotations

from typing import Any

import pytest

from bbrl_conformance import programs
from bbrl_conformance._clauses import clause


@pytest.mark.parametrize(
    "name",
    [pytest.param(p.name, marks=clause(*p.clauses), id=p.name) for p in programs.PROGRAMS.values()],
)
def test_program(impl: Any, name: str) -> None:
    programs.run(name, impl)
