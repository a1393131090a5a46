"""Hostile inputs over the whole public API (issue #11): a correct result or a typed error
with the object unchanged, nothing else.

Each test drives one world of ``bbrl_conformance._hostile`` (a workspace, agents, an env
agent on the counting env, a replay buffer) through ``stateful_step_count`` calls per example
(the profile's: 25 in ``ci``, 100 in ``nightly``), a third of them valid (their results are
checked against the suite's models) and the others bad: wrong Python types, shapes, dtypes
(the excluded ones too), devices, layouts, huge and negative sizes, NaN, views, names, files
and calls in the wrong state. A bad call must raise the builtin type its clause names (or,
where the spec is silent, any typed builtin error that is not an internal one) and leave the
object's whole observable state unchanged; an internal error (AttributeError, an assertion,
torch's or numpy's own exceptions) fails the clause the input falls under.

The env agent test runs once per declared backend (ENV-16), a third of the examples for a
backend with worker processes. Calls that may allocate without a bound or never end on a
faulty implementation (a time index of 2**40, a sample of 2**40 items, a buffer of 2**46 items,
every bad TemporalAgent run) run with at most 1 GiB more address space and 10 s (Linux only;
they are not drawn elsewhere). ``conformance/tools/hostile_census.py`` runs the same calls and
counts the outcomes per class of bad input.
"""

from __future__ import annotations

from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from bbrl_conformance._backends import Backend
from bbrl_conformance._clauses import clause
from bbrl_conformance._hostile._agents import AgentsWorld
from bbrl_conformance._hostile._buffer import BufferWorld
from bbrl_conformance._hostile._engine import HypothesisDraw, Tally, drive
from bbrl_conformance._hostile._env import EnvWorld
from bbrl_conformance._hostile._workspace import WorkspaceWorld
from bbrl_conformance._rollouts import examples_for

#: outcomes of every call of this session, per class (read by the census tool's tests)
TALLY = Tally()


def _steps() -> int:
    return int(settings().stateful_step_count)


#: no shrinking: a failing sequence's reproducer is printed as drawn (shrinking a 25-call
#: sequence against a faulty implementation takes minutes)
NO_SHRINK = settings(phases=[Phase.explicit, Phase.reuse, Phase.generate])


@clause(
    "WS-2",
    "WS-4",
    "WS-5",
    "WS-11",
    "WS-12",
    "WS-13",
    "WS-17",
    "WS-20",
    "WS-22",
    "WS-23",
    "WS-25",
    "WS-27",
    "WS-30",
    "WS-31",
    "WS-33",
    "WS-34",
    "WS-36",
    "WS-38",
    "WS-39",
    "WS-42",
    "WS-43",
    "ERR-2",
    "ERR-3",
    "ERR-4",
    "ERR-5",
)
@NO_SHRINK
@given(data=st.data())
def test_hostile_workspace_calls(impl: Any, data: st.DataObject) -> None:
    draw = HypothesisDraw(data)
    world = WorkspaceWorld(impl, draw)
    try:
        drive(world, draw, _steps(), "WS", TALLY)
    finally:
        world.close()


@clause("TR-1", "TR-6", "TR-7", "TR-11", "TR-12", "ERR-5")
@NO_SHRINK
@given(data=st.data())
def test_hostile_transitions_calls(impl: Any, data: st.DataObject) -> None:
    draw = HypothesisDraw(data)
    world = WorkspaceWorld(impl, draw)
    try:
        drive(world, draw, _steps(), "TR", TALLY)
    finally:
        world.close()


@clause(
    "AG-2",
    "AG-3",
    "AG-4",
    "AG-12",
    "AG-14",
    "AG-15",
    "AG-16",
    "ERR-2",
    "ERR-3",
    "ERR-4",
    "WS-4",
    "WS-5",
    "WS-20",
    "WS-23",
)
@NO_SHRINK
@given(data=st.data())
def test_hostile_agent_calls(impl: Any, data: st.DataObject) -> None:
    draw = HypothesisDraw(data)
    world = AgentsWorld(impl, draw)
    try:
        drive(world, draw, _steps(), "AG", TALLY)
    finally:
        world.close()


@clause("TA-1", "TA-2", "TA-3", "TA-4", "TA-5", "TA-6", "TA-7", "TA-8", "WS-23", "ERR-5")
@NO_SHRINK
@given(data=st.data())
def test_hostile_temporal_agent_calls(impl: Any, data: st.DataObject) -> None:
    draw = HypothesisDraw(data)
    world = AgentsWorld(impl, draw)
    try:
        drive(world, draw, _steps(), "TA", TALLY)
    finally:
        world.close()


@clause(
    "RB-1",
    "RB-2",
    "RB-3",
    "RB-4",
    "RB-5",
    "RB-6",
    "RB-7",
    "RB-8",
    "RB-9",
    "RB-10",
    "RB-11",
    "RB-12",
    "RB-14",
    "RB-15",
    "RB-16",
    "RB-17",
    "RB-18",
    "RB-19",
    "RB-21",
    "RB-22",
    "RB-23",
    "RB-24",
    "RB-25",
    "RB-26",
)
@NO_SHRINK
@given(data=st.data())
def test_hostile_replay_buffer_calls(impl: Any, data: st.DataObject) -> None:
    draw = HypothesisDraw(data)
    world = BufferWorld(impl, draw)
    try:
        drive(world, draw, _steps(), "RB", TALLY)
    finally:
        world.close()


@clause(
    "ENV-1",
    "ENV-3",
    "ENV-4",
    "ENV-11",
    "ENV-14",
    "ENV-15",
    "ENV-22",
    "ENV-23",
    "ENV-27",
    "ENV-28",
    "ERR-7",
    "ERR-8",
    "DET-9",
)
def test_hostile_env_agent_calls(impl: Any, backend: Backend) -> None:
    """Per declared backend; a backend with worker processes runs a third of the examples
    (each world starts its workers)."""

    @settings(NO_SHRINK, max_examples=examples_for(impl, backend))
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        draw = HypothesisDraw(data)
        world = EnvWorld(impl, draw, backend)
        try:
            drive(world, draw, _steps(), "ENV", TALLY)
        finally:
            world.close()

    run()
