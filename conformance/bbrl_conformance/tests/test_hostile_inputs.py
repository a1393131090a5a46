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

Calls that may allocate without a bound on a faulty implementation (a time index of 2**40, a
sample of 2**40 items) run with at most 1 GiB more address space and 10 s (Linux only; they
are not drawn elsewhere). ``conformance/tools/hostile_census.py`` runs the same calls and
counts the outcomes per class of bad input.
"""

from __future__ import annotations

from typing import Any

from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from bbrl_conformance._clauses import clause
from bbrl_conformance._hostile._engine import HypothesisDraw, Tally, drive
from bbrl_conformance._hostile._workspace import WorkspaceWorld

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
