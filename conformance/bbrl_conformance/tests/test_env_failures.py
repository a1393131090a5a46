"""Conformance tests of the env agent's failures (spec/env-agent.md, ENV-19..ENV-26).

The counting env injects the faults (`CountingPlan(faults=...)`): an exception in `step` or
`reset`, malformed return values, a slow or hung step, a worker process that exits. Each test
runs once per declared backend; whether a backend uses worker processes is read from the
counting env's logs (the process each env ran in), never declared. Calls that must not wait
without end run under a deadline (`within`), and tests of worker backends count the child
processes of the test process before and after.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import textwrap
from collections.abc import Iterator
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from bbrl_conformance._assertions import expect, expect_message, expect_raises, raising
from bbrl_conformance._backends import Backend
from bbrl_conformance._clauses import clause
from bbrl_conformance._rollouts import (
    DEADLINE_S,
    Rollout,
    agent_children,
    alarm,
    check_actions,
    check_rows,
    child_processes,
    counting,
    find_columns,
    in_process,
    log_lengths,
    within,
)
from bbrl_conformance.counting_env import (
    MAX_ACTION,
    CountingEnvCodedFailure,
    CountingEnvFailure,
    CountingPlan,
    Fault,
    ObsKind,
    action_row,
    close_agent,
)

Raised = type[Exception] | tuple[type[Exception], ...]
Mention = tuple[str | tuple[str, ...], ...]


def any_case(*words: str) -> tuple[str, ...]:
    """English words in any case (the case of a message's wording is not specified); names,
    dtypes and class names are matched as they are spelled."""
    return tuple(dict.fromkeys(v for w in words for v in (w, w.upper(), w.capitalize())))


#: the words that name an observation, an integer dtype, a float given, in an ENV-21 message
OBS = (*any_case("observation"), "obs", "env/env_obs")
INTEGER = (*any_case("integer"), "int", "int32", "uint8", "int64", "Discrete")
FLOAT = ("float64", "float", "double")
#: a ragged observation, or a reward array given to a single env: wrong type or wrong shape
SHAPE_OR_TYPE: tuple[type[Exception], ...] = (ValueError, TypeError)


def steps(rollout: Rollout, ws: Any, start: int, stop: int) -> None:
    """Call the env agent at ``start .. stop - 1``, writing the action row after each call."""
    for t in range(start, stop):
        rollout.env_agent(ws, t=t)
        ws.set("action", t, action_row(rollout.plan.action_kind, t, rollout.plan.num_envs))


def snapshot(ws: Any) -> dict[str, torch.Tensor]:
    return {name: ws.get_full(name).clone() for name in list(ws.keys())}


def same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and a[k].shape == b[k].shape and torch.equal(a[k], b[k]) for k in a
    )


def names(message: str, number: int) -> bool:
    """Whether ``message`` contains ``number`` as a decimal number of its own."""
    return re.search(rf"(?<![0-9]){number}(?![0-9])", message) is not None


def _call(rollout: Rollout, ws: Any, t: int, clause_id: str, repro: str) -> None:
    """``env_agent(ws, t=t)``, failing ``clause_id`` if it does not return in time."""
    within(
        DEADLINE_S, clause_id, f"env_agent(ws, t={t})", repro, lambda: rollout.env_agent(ws, t=t)
    )


def check_refused_until_reset(
    rollout: Rollout, ws: Any, t: int, clause_id: str, what: str, repro: str
) -> str:
    """ENV-22: after a failure that touched the envs, the next two calls at t > 0 raise
    RuntimeError and send nothing to any env (the action rows they read are written first).

    Returns ``repro`` followed by those calls (each checked to raise)."""
    __tracebackhide__ = True
    plan = rollout.plan
    before = log_lengths(plan)
    first = max(t, 1)
    for again in (first, first + 1):
        have = ws.get_full("action").shape[0] if "action" in list(ws.keys()) else 0
        for row in range(have, again):
            ws.set("action", row, action_row(plan.action_kind, row, plan.num_envs))
            repro += (
                f"ws.set('action', {row}, action_row({plan.action_kind!r}, {row}, "
                f"{plan.num_envs}))\n"
            )
        repro += f"env_agent(ws, t={again})  # expected RuntimeError (a reset is needed)\n"
        expect_raises(
            RuntimeError,
            "ENV-22",
            f"{what}; then env_agent(ws, t={again}) without a call at t=0",
            functools.partial(_call, rollout, ws, again, clause_id, repro),
            repro,
        )
        repro = raising(repro, RuntimeError) + "\n"
    after = log_lengths(plan)
    expect(
        after == before,
        "ENV-22",
        f"{what}; the refused calls made the envs consume actions: log lengths {before} -> {after}",
        repro + "print([len(env.actions) for env in plan.envs])  # actions consumed by each env\n",
    )
    return repro


#: reproducer lines printing the workspace ``ws`` by env (batch column) and what each env consumed
SHOW_ROLLOUT = (
    "for name in sorted(ws.keys()):\n"
    "    print(name, ws.get_full(name).transpose(0, 1).tolist())\n"
    "print([env.actions for env in plan.envs])  # (episode, step_before, action) consumed\n"
)


def check_recovers(rollout: Rollout, repro: str, clause_id: str = "ENV-22") -> None:
    """A call at t=0 after a failure resets every env and the agent runs again: a 4-row
    rollout follows the model from each env's current episode. ``repro`` is the source of what
    the test did to ``env_agent`` so far."""
    __tracebackhide__ = True
    plan = rollout.plan
    repro += (
        "from bbrl_conformance.counting_env import action_agent\n"
        "t_agent = impl.TemporalAgent(impl.Agents(env_agent, "
        f"action_agent(impl, {plan.num_envs}, {plan.action_kind!r})))\n"
        "ws = impl.Workspace()\nt_agent(ws, t=0, n_steps=4)  # the rollout after the failure\n"
        + SHOW_ROLLOUT
    )
    marks = {record.env_id: len(record.events()) for record in plan.envs}
    log_start = log_lengths(plan)
    ws = within(
        DEADLINE_S, clause_id, "the call at t=0 after the failure", repro, lambda: rollout.run(4)
    )
    starts = [record.episode_after(marks.get(record.env_id, 0)) for record in plan.envs]
    rows = check_rows(ws, rollout, 4, repro, first_episodes=starts, clause_id=clause_id)
    check_actions(rollout, rows, repro, log_start=log_start, clause_id=clause_id)


def expected_to_raise(call: str, exc_type: type[BaseException], cleanup: str = "") -> str:
    """Reproducer source: ``call`` checked to raise ``exc_type`` (a builtin type), the exception
    printed and kept as ``error``; ``cleanup`` lines run whatever happens."""
    name = exc_type.__name__
    source = (
        f"try:\n    {call}\nexcept {name} as exc:\n    error = exc\n"
        "    print('raised as required:', type(exc).__name__, exc)\n"
        f"else:\n    raise AssertionError('expected {name}, but nothing was raised')\n"
    )
    if cleanup:
        source += "finally:\n" + textwrap.indent(cleanup, "    ")
    return source


def refused_without_effect(
    rollout: Rollout,
    ws: Any,
    t: object,
    error: type[Exception],
    clause_id: str,
    what: str,
    repro: str,
    unchanged_clause: str | None = None,
) -> BaseException:
    """``env_agent(ws, t=t)`` raises ``error`` (``clause_id``) and changes neither the workspace
    nor what the envs consumed (``unchanged_clause``, by default ``clause_id``); returns the
    exception."""
    __tracebackhide__ = True
    before = snapshot(ws)
    log_before = log_lengths(rollout.plan)
    exc = expect_raises(error, clause_id, what, lambda: rollout.env_agent(ws, t=t), repro)
    expect(
        same(before, snapshot(ws)) and log_lengths(rollout.plan) == log_before,
        unchanged_clause or clause_id,
        f"the refused call ({what}) changed the workspace or sent actions (log lengths "
        f"{log_before} -> {log_lengths(rollout.plan)})",
        repro + SHOW_ROLLOUT,
    )
    return exc


def goes_on(rollout: Rollout, ws: Any, repro: str, clause_id: str = "ENV-22") -> None:
    """After refused calls at t = 3, the calls at t = 3..6 write the rows and send the actions
    they would have without them (ENV-22)."""
    __tracebackhide__ = True
    steps(rollout, ws, 3, 7)
    repro += (
        "for t in range(3, 7):\n    env_agent(ws, t=t)\n"
        f"    ws.set('action', t, action_row({rollout.plan.action_kind!r}, t, "
        f"{rollout.plan.num_envs}))\n{SHOW_ROLLOUT}"
    )
    rows = check_rows(ws, rollout, 7, repro, clause_id=clause_id)
    check_actions(rollout, rows, repro, clause_id="ENV-22")


def steps_repro(rollout: Rollout, calls: int, agent_kwargs: str = "") -> str:
    """Reproducer source: the agent of ``rollout`` (its backend's keyword arguments, then
    ``agent_kwargs``) called at t = 0 .. ``calls`` - 1, each call followed by its action row."""
    plan = rollout.plan
    source = (
        "import torch\nfrom bbrl_conformance.counting_env import action_row\n"
        + plan.factory_source(rollout.autoreset)
        + f"env_agent = impl.ParallelGymAgent(factory, num_envs={plan.num_envs}"
        f"{rollout.backend.source()}{agent_kwargs})\nws = impl.Workspace()\n"
    )
    if calls:
        source += (
            f"for t in range({calls}):\n    env_agent(ws, t=t)\n"
            f"    ws.set('action', t, action_row({plan.action_kind!r}, t, {plan.num_envs}))\n"
        )
    return source


def failure_repro(
    rollout: Rollout,
    calls: int,
    raises: type[BaseException],
    *,
    t: int | None = None,
    before: str = "",
    note: str = "the env fails here",
    agent_kwargs: str = "",
    cleanup: str = "",
) -> str:
    """Reproducer source: ``steps_repro``, then ``before``, then the call at ``t`` (by default
    ``calls``) checked to raise ``raises`` (see ``expected_to_raise``)."""
    t = calls if t is None else t
    return (
        steps_repro(rollout, calls, agent_kwargs)
        + before
        + expected_to_raise(f"env_agent(ws, t={t})  # {note}", raises, cleanup)
    )


# ---------------------------------------------------------------------------------------------
# ENV-19: a failed call writes nothing


@clause("ENV-19", "ENV-22")
def test_failed_write_leaves_the_row_unwritten(impl: Any, backend: Backend) -> None:
    with counting(impl, backend, [6, 6], autoreset=True) as rollout:
        ws = impl.Workspace()
        steps(rollout, ws, 0, 3)
        ws.set_full("env/reward", ws.get_full("env/reward").double())  # float64 from now on
        before = snapshot(ws)
        repro = failure_repro(
            rollout,
            3,
            TypeError,
            before="ws.set_full('env/reward', ws.get_full('env/reward').double())\n",
            note="row 3 of env/reward cannot be written: float32 is not float64",
        )
        expect_raises(
            TypeError,
            "ENV-19",
            "env_agent(ws, t=3) on a workspace whose env/reward became float64 (WS-5)",
            lambda: rollout.env_agent(ws, t=3),
            repro,
        )
        expect(
            same(before, snapshot(ws)),
            "ENV-19",
            f"the failed call at t=3 changed the workspace: time sizes "
            f"{ {k: v.shape[0] for k, v in snapshot(ws).items()} } (every variable had 3 rows)",
            repro + "print({k: tuple(ws.get_full(k).shape) for k in sorted(ws.keys())})",
        )
        check_refused_until_reset(rollout, ws, 3, "ENV-22", "a failed write at t=3", repro)
    with counting(impl, backend, [6, 6], autoreset=True) as rollout:
        ws = impl.Workspace()
        ws.set("env/timestep", 0, torch.zeros(2))  # float32: the agent writes int64
        before = snapshot(ws)
        repro = (
            failure_repro(
                rollout,
                0,
                TypeError,
                before="ws.set('env/timestep', 0, torch.zeros(2))\n",
                note="float32 env/timestep: nothing may be written",
            )
            + "print(list(ws.keys()))"
        )
        expect_raises(
            TypeError,
            "ENV-19",
            "env_agent(ws, t=0) on a workspace holding a float32 env/timestep",
            lambda: rollout.env_agent(ws, t=0),
            repro,
        )
        expect(
            same(before, snapshot(ws)),
            "ENV-19",
            f"the failed call at t=0 wrote {sorted(set(ws.keys()) - set(before))} (only "
            "env/timestep was there)",
            repro,
        )


#: a variable whose presence makes the row write of a call at t=0 fail, after the envs were
#: reset: its name, the row put there first (and its source), the error of the write (WS-4, WS-5)
BAD_ROW_0: dict[str, tuple[str, Any, str, type[Exception]]] = {
    "dtype": ("env/timestep", lambda: torch.zeros(2), "torch.zeros(2)", TypeError),  # not int64
    "batch": ("env/reward", lambda: torch.zeros(3), "torch.zeros(3)", ValueError),  # 3 for 2 envs
}


@clause("ENV-22", "ENV-19")
@pytest.mark.parametrize("ran_before", [False, True], ids=["first-call", "after-a-rollout"])
@pytest.mark.parametrize("conflict", list(BAD_ROW_0))
def test_failed_write_at_t0_needs_a_reset(
    impl: Any, backend: Backend, conflict: str, ran_before: bool
) -> None:
    """A call at t=0 whose row cannot be written has reset the envs: the calls at t > 0 that
    follow are refused (also on the workspace of the rollout before it), until a call at t=0."""
    name, make, source, error = BAD_ROW_0[conflict]
    with counting(impl, backend, [6, 6], autoreset=True) as rollout:
        ws = impl.Workspace()
        calls = 3 if ran_before else 0
        steps(rollout, ws, 0, calls)
        bad = impl.Workspace()
        bad.set(name, 0, make())
        what = f"env_agent(bad, t=0) on a workspace holding {name} = {source}"
        repro = (
            steps_repro(rollout, calls)
            + f"bad = impl.Workspace()\nbad.set({name!r}, 0, {source})\n"
            + expected_to_raise("env_agent(bad, t=0)  # the envs reset, row 0 not written", error)
        )
        expect_raises(error, "ENV-19", what, lambda: rollout.env_agent(bad, t=0), repro)
        repro = check_refused_until_reset(
            rollout, ws, calls, "ENV-22", f"a failed write at t=0 ({what})", repro
        )
        check_recovers(rollout, repro)


# ---------------------------------------------------------------------------------------------
# ENV-20: an env that raises


FAILURES: dict[str, tuple[list[int], dict[tuple[int, int, int], Fault], int, int, int]] = {
    # name: (lengths, faults, calls made before, t of the failing call, env id that fails)
    "step": ([9, 9, 9], {(1, 0, 3): "raise"}, 4, 4, 1),
    "reset": ([9, 9, 9], {(2, 1, -1): "raise"}, 2, 0, 2),  # the second call at t=0
    "autoreset": ([9, 2, 9], {(1, 1, -1): "raise"}, 3, 3, 1),
    "step-unpicklable": ([9, 9, 9], {(1, 0, 3): "raise-unpicklable"}, 4, 4, 1),
}


@clause("ENV-20", "ENV-19", "ENV-22")
@pytest.mark.parametrize("where", list(FAILURES))
def test_env_error_names_env_and_t(impl: Any, backend: Backend, where: str) -> None:
    lengths, faults, before_calls, t, env_id = FAILURES[where]
    with counting(impl, backend, lengths, autoreset=True, faults=faults) as rollout:
        ws = impl.Workspace()
        steps(rollout, ws, 0, before_calls)
        b = find_columns(ws, rollout, "").index(env_id)
        before = snapshot(ws)
        repro = failure_repro(rollout, before_calls, RuntimeError, t=t)
        exc = expect_raises(
            RuntimeError,
            "ENV-20",
            f"env {b} raises in its {where} during env_agent(ws, t={t})",
            lambda: rollout.env_agent(ws, t=t),
            repro,
        )
        message = str(exc)
        vector = backend.vector and rollout.plan.vectorized
        expect(
            names(message, t) and (vector or names(message, b)),
            "ENV-20",
            f"the error of env {b} failing at t={t} does not name "
            + ("t" if vector else "t and b")
            + f": {type(exc).__name__}: {message}",
            repro,
        )
        cause = exc.__cause__
        kind = CountingEnvCodedFailure if where == "step-unpicklable" else CountingEnvFailure
        text = "CountingEnv: injected failure in " + where.replace("auto", "").split("-")[0]
        if kind is CountingEnvCodedFailure:
            text = f"code 7: {text}"
        # ENV-20: the same type and message, or, for an exception pickle cannot rebuild from a
        # worker process, a RuntimeError whose message names both
        fallback = (
            kind is CountingEnvCodedFailure
            and not rollout.plan.in_process()
            and isinstance(cause, RuntimeError)
            and kind.__name__ in str(cause)
        )
        expect(
            (type(cause) is kind and str(cause) == text) or (fallback and text in str(cause)),
            "ENV-20",
            f"the error of env {b} failing at t={t} has __cause__ {cause!r}, expected the "
            f"{kind.__name__} the env raised ({text!r})",
            repro + "print(repr(error.__cause__))",
        )
        expect(
            same(before, snapshot(ws)),
            "ENV-19",
            f"env {b} failed at t={t}, yet the call changed the workspace",
            repro,
        )
        repro = check_refused_until_reset(
            rollout, ws, t, "ENV-22", f"env {b} failed at t={t}", repro
        )
        check_recovers(rollout, repro)


# ---------------------------------------------------------------------------------------------
# ENV-21: env output checked against the spaces


def refuse_malformed(
    rollout: Rollout, ws: Any, t: int, b: int, error: Raised, what: str, repro: str
) -> BaseException:
    """ENV-21, ENV-19: env ``b``'s malformed output at ``t`` (``what``) makes the call raise
    ``error``, whose message names t (and b, when the backend steps single envs), and the
    workspace is unchanged; returns the exception."""
    __tracebackhide__ = True
    before = snapshot(ws)
    exc = expect_raises(
        error,
        "ENV-21",
        f"env {b} returns a malformed step result ({what}) at t={t}",
        lambda: rollout.env_agent(ws, t=t),
        repro,
    )
    vector = rollout.backend.vector and rollout.plan.vectorized
    expect(
        names(str(exc), t) and (vector or names(str(exc), b)),
        "ENV-21",
        f"the error for env {b}'s malformed output ({what}) at t={t} does not name "
        + ("t" if vector else "t and b")
        + f": {type(exc).__name__}: {exc}",
        repro,
    )
    expect(
        same(before, snapshot(ws)),
        "ENV-19",
        f"env {b} returned a malformed value ({what}) at t={t}, yet the call changed the workspace",
        repro,
    )
    return exc


MALFORMED: dict[Fault, type[Exception]] = {
    "obs-shape": ValueError,
    "obs-none": TypeError,
    "reward-str": TypeError,
    "terminated-str": TypeError,
    "truncated-int": TypeError,
    "result-short": TypeError,
}


@clause("ENV-21", "ENV-19", "ENV-22")
@pytest.mark.parametrize("fault", list(MALFORMED))
def test_malformed_env_output_is_refused(impl: Any, backend: Backend, fault: Fault) -> None:
    t = 3
    with counting(impl, backend, [9, 9], autoreset=True, faults={(1, 0, 2): fault}) as rollout:
        ws = impl.Workspace()
        steps(rollout, ws, 0, t)
        columns = find_columns(ws, rollout, "")
        b = columns.index(1)
        error = MALFORMED[fault]
        repro = failure_repro(rollout, t, error)
        refuse_malformed(rollout, ws, t, b, error, fault, repro)
        repro = check_refused_until_reset(
            rollout, ws, t, "ENV-22", f"malformed output at t={t}", repro
        )
        check_recovers(rollout, repro)


#: (fault, obs kind, error of a backend stepping single envs, error of a vector backend, the
#: tokens the message names besides t and b: the output concerned, what was expected, what was
#: given; a tuple of alternatives where the spec leaves the words open)
OUTPUT_FAULTS: dict[str, tuple[Fault, ObsKind, Raised, Raised, Mention]] = {
    "obs-float-int32": ("obs-float", "int32", TypeError, TypeError, (OBS, INTEGER, FLOAT)),
    "obs-float-uint8": ("obs-float", "uint8", TypeError, TypeError, (OBS, INTEGER, FLOAT)),
    "obs-float-bool": ("obs-float", "bool", TypeError, TypeError, (OBS, "bool", FLOAT)),
    "obs-float-discrete": ("obs-float", "discrete", TypeError, TypeError, (OBS, INTEGER, FLOAT)),
    "obs-float-dict": ("obs-float", "dict", TypeError, TypeError, ("step", INTEGER, FLOAT)),
    "obs-ragged": ("obs-ragged", "float", SHAPE_OR_TYPE, SHAPE_OR_TYPE, (OBS,)),
    "obs-keys": ("obs-keys", "dict", ValueError, ValueError, ("step",)),
    "obs-key-int": ("obs-key-int", "dict", ValueError, ValueError, ("0",)),
    "obs-none-dict": ("obs-none", "dict", TypeError, TypeError, (OBS,)),
    "reward-bool": (
        "reward-bool",
        "float",
        TypeError,
        TypeError,
        ("reward", (*any_case("real", "number"), "float", "int"), ("bool", "True")),
    ),
    "reward-str": ("reward-str", "float", TypeError, TypeError, ("reward", ("str", "'1.0'"))),
    "reward-shape": ("reward-shape", "float", SHAPE_OR_TYPE, ValueError, ("reward",)),
    "terminated-str": ("terminated-str", "float", TypeError, TypeError, ("terminated",)),
    "truncated-int": ("truncated-int", "float", TypeError, TypeError, ("truncated",)),
}


@clause("ENV-21", "ERR-6", "ENV-19")
@pytest.mark.parametrize("key", list(OUTPUT_FAULTS))
def test_malformed_output_error_names_what_was_wrong(impl: Any, backend: Backend, key: str) -> None:
    """Each kind of malformed step output, in every space it can break (an integer, bool or
    Discrete observation given floats, a ragged or keyless observation, a bool or wrongly
    shaped reward, a non-bool flag), is refused with the error ENV-21 names, whose message
    names t, b (single envs) and the output concerned, what was expected and what was given."""
    fault, obs_kind, single_error, vector_error, mention = OUTPUT_FAULTS[key]
    t = 3
    with counting(
        impl, backend, [9, 9], autoreset=True, obs_kind=obs_kind, faults={(1, 0, 2): fault}
    ) as rollout:
        ws = impl.Workspace()
        steps(rollout, ws, 0, t)
        b = find_columns(ws, rollout, "").index(1)
        error = vector_error if backend.vector else single_error
        builtin = error if isinstance(error, type) else error[0]
        repro = failure_repro(rollout, t, builtin)
        what = f"{fault}, {obs_kind} observations"
        exc = refuse_malformed(rollout, ws, t, b, error, what, repro)
        expect_message(exc, "ERR-6", f"the error for {fault} ({obs_kind})", mention, repro)


@clause("ENV-21", "ENV-22")
def test_reset_that_returns_no_pair_is_refused(impl: Any, backend: Backend) -> None:
    """An env whose reset returns the observation alone (not the pair (observation, info)):
    the call at t = 0 raises TypeError naming t and b (single envs); the agent then resets
    every env again at t = 0 (the fault fires once) and runs. Discrete observations: the value
    shown in the message (20000 for env 2) does not contain b as a number of its own."""
    faults: dict[tuple[int, int, int], Fault] = {(2, 0, -1): "reset-bare"}
    with counting(
        impl, backend, [4, 4, 4], autoreset=True, obs_kind="discrete", faults=faults
    ) as rollout:
        ws = impl.Workspace()
        repro = failure_repro(rollout, 0, TypeError, note="env 2's reset returns no pair")
        exc = expect_raises(
            TypeError,
            "ENV-21",
            "an env whose reset returns the observation alone, at t=0",
            lambda: rollout.env_agent(ws, t=0),
            repro,
        )
        rollout.env_agent(ws, t=0)
        b = find_columns(ws, rollout, repro).index(2)
        vector = backend.vector and rollout.plan.vectorized
        expect(
            names(str(exc), 0) and (vector or names(str(exc), b)),
            "ENV-21",
            f"the error for env {b}'s reset result at t=0 does not name "
            + ("t" if vector else "t and b")
            + f": {type(exc).__name__}: {exc}",
            repro,
        )


#: a malformed observation returned by ``reset`` for an int32 ``Box((3,))`` space, and the error
#: ENV-21 asks for: a float array is not converted, a shape that numpy would broadcast is refused
BAD_RESET_OBS: dict[str, tuple[Any, type[Exception]]] = {
    "float64": (lambda: np.zeros(3, np.float64), TypeError),
    "shape-1": (lambda: np.zeros(1, np.int32), ValueError),
}
BAD_RESET_ENV = f"{__name__}:BadReset-v0"  # gymnasium imports this module first, in any process


class BadResetEnv(gym.Env[Any, Any]):
    """Episodes of 2 steps; its reset number ``bad`` (0 for the first) returns ``BAD_RESET_OBS``'s
    observation ``fault`` instead of ``zeros(3, int32)``."""

    observation_space = gym.spaces.Box(0, 9, (3,), np.int32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, bad: int, fault: str) -> None:
        self.bad, self.fault, self.resets, self.steps = bad, fault, 0, 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> Any:
        super().reset(seed=seed)
        self.resets, self.steps = self.resets + 1, 0
        if self.resets - 1 == self.bad:
            return BAD_RESET_OBS[self.fault][0](), {}
        return np.zeros(3, np.int32), {}

    def step(self, action: Any) -> Any:
        self.steps += 1
        return np.zeros(3, np.int32), 1.0, self.steps >= 2, False, {}


if BAD_RESET_ENV.split(":")[1] not in gym.registry:
    gym.register(
        BAD_RESET_ENV.split(":")[1],
        entry_point=f"{__name__}:BadResetEnv",
        disable_env_checker=True,
    )


@clause("ENV-21", "ENV-19")
@pytest.mark.parametrize("fault", list(BAD_RESET_OBS))
@pytest.mark.parametrize("t", [0, 3], ids=["reset-at-t0", "autoreset-at-t3"])
def test_malformed_reset_observation_is_refused(
    impl: Any, backend: Backend, fault: str, t: int
) -> None:
    """ENV-21 checks the observation of every reset, at t=0 and by autoreset, as of a step."""
    if backend.vector:
        pytest.skip("the env of this test has no vector implementation (ENV-17)")
    error = BAD_RESET_OBS[fault][1]
    bad = 0 if t == 0 else 1  # the episode ends at row 2: the reset of row 3 is the second
    make = functools.partial(impl.make_env, BAD_RESET_ENV, autoreset=True, bad=bad, fault=fault)
    repro = (
        f"import functools, torch\nfrom {__name__} import BAD_RESET_ENV\n"
        f"factory = functools.partial(impl.make_env, BAD_RESET_ENV, autoreset=True, bad={bad}, "
        f"fault={fault!r})\nenv_agent = impl.ParallelGymAgent(factory, num_envs=1"
        f"{backend.source()})\nws = impl.Workspace()\nfor t in range({t}):\n"
        "    env_agent(ws, t=t)\n    ws.set('action', t, torch.zeros(1, dtype=torch.long))\n"
        + expected_to_raise(
            f"env_agent(ws, t={t})  # the reset returns a {fault} observation", error
        )
    )
    env_agent = backend.agent(impl, make, 1)
    try:
        ws = impl.Workspace()
        for row in range(t):
            env_agent(ws, t=row)
            ws.set("action", row, torch.zeros(1, dtype=torch.long))
        before = snapshot(ws)
        what = f"the env's reset returns a {fault} observation for an int32 Box((3,)) space"
        exc = expect_raises(error, "ENV-21", what, lambda: env_agent(ws, t=t), repro)
        expect(
            names(str(exc), t),
            "ENV-21",
            f"the error for a malformed reset observation at t={t} does not name t: {exc}",
            repro,
        )
        expect(same(before, snapshot(ws)), "ENV-19", f"{what}, yet the call wrote rows", repro)
    finally:
        close_agent(env_agent)


@clause("ENV-31", "ENV-22", "ERR-2")
@pytest.mark.parametrize("gap", [1, 3])
def test_missing_action_row_changes_nothing(impl: Any, backend: Backend, gap: int) -> None:
    """Action rows 0..2 written, a call at t = 3 + gap (no action row 2 + gap): IndexError,
    nothing written, nothing stepped; the rollout then goes on at t = 3 as if it had not been
    made (the stale rows a storage may keep beyond the time size are no action rows)."""
    with counting(impl, backend, [4, 3], autoreset=True) as rollout:
        ws = impl.Workspace()
        steps(rollout, ws, 0, 3)
        t = 3 + gap
        repro = failure_repro(rollout, 3, IndexError, t=t, note=f"no action row {t - 1}")
        what = f"env_agent(ws, t={t}) with action rows 0..2 only"
        refused_without_effect(rollout, ws, t, IndexError, "ENV-31", what, repro)
        goes_on(rollout, ws, repro)


# ---------------------------------------------------------------------------------------------
# ENV-32: the env agent's own t

#: integer types that stand for an int (ENV-32, as TA-9): (source of the call's t, builder)
INT_LIKE_T: dict[str, Any] = {
    "numpy-int64": ("np.int64({t})", np.int64),
    "numpy-uint8": ("np.uint8({t})", np.uint8),
    "numpy-int32": ("np.int32({t})", np.int32),
    "tensor-int64": ("torch.tensor({t})", torch.tensor),
    "tensor-int16": (
        "torch.tensor({t}, dtype=torch.int16)",
        lambda t: torch.tensor(t, dtype=torch.int16),
    ),
}

#: what a call's t may not be (ENV-32): id -> (source, value, exception type)
BAD_T: dict[str, tuple[str, Any, type[Exception]]] = {
    "bool-true": ("True", True, TypeError),
    "bool-false": ("False", False, TypeError),
    "numpy-bool": ("np.bool_(True)", np.bool_(True), TypeError),
    "tensor-bool": ("torch.tensor(True)", torch.tensor(True), TypeError),
    "tensor-1d": ("torch.tensor([1])", torch.tensor([1]), TypeError),
    "float": ("3.0", 3.0, TypeError),
    "numpy-float": ("np.float64(3)", np.float64(3), TypeError),
    "float-tensor": ("torch.tensor(3.0)", torch.tensor(3.0), TypeError),
    "str": ("'3'", "3", TypeError),
    "none": ("None", None, TypeError),
    "minus-one": ("-1", -1, ValueError),
    "most-negative": ("-2**63", -(2**63), ValueError),
    "numpy-negative": ("np.int64(-2)", np.int64(-2), ValueError),
    "tensor-negative": ("torch.tensor(-3)", torch.tensor(-3), ValueError),
}


@clause("ENV-32", "ENV-3", "ENV-4")
@pytest.mark.parametrize("kind", sorted(INT_LIKE_T))
def test_integer_types_of_t_are_the_int(impl: Any, backend: Backend, kind: str) -> None:
    """Every call, the reset at t=0 included, given its t as a numpy integer or a 0-d integer
    tensor: the rows and the actions sent are those of plain ints."""
    source, build = INT_LIKE_T[kind]
    with counting(impl, backend, [3, 5], autoreset=True) as rollout:
        ws = impl.Workspace()
        for t in range(6):
            rollout.env_agent(ws, t=build(t))
            ws.set("action", t, action_row(rollout.plan.action_kind, t, rollout.plan.num_envs))
        repro = (
            steps_repro(rollout, 0).replace("import torch\n", "import numpy as np\nimport torch\n")
            + "for t in range(6):\n"
            + f"    env_agent(ws, t={source.format(t='t')})\n"
            + f"    ws.set('action', t, action_row({rollout.plan.action_kind!r}, t, "
            + f"{rollout.plan.num_envs}))\n{SHOW_ROLLOUT}"
        )
        rows = check_rows(ws, rollout, 6, repro, clause_id="ENV-32")
        check_actions(rollout, rows, repro, clause_id="ENV-32")


@clause("ENV-32", "ENV-22", "ENV-19")
@pytest.mark.parametrize("bad", sorted(BAD_T))
def test_bad_t_changes_nothing(impl: Any, backend: Backend, bad: str) -> None:
    """After calls at t = 0, 1, 2, a call whose t is a bool, not an integer, or negative raises
    the ENV-32 type before any env is touched: the workspace and the action logs are unchanged,
    and the rollout then goes on at t = 3 as if the call had not been made."""
    source, value, error = BAD_T[bad]
    with counting(impl, backend, [4, 3], autoreset=True) as rollout:
        ws = impl.Workspace()
        steps(rollout, ws, 0, 3)
        repro = steps_repro(rollout, 3).replace(
            "import torch\n", "import numpy as np\nimport torch\n"
        ) + expected_to_raise(f"env_agent(ws, t={source})  # ENV-32", error)
        what = f"env_agent(ws, t={source}) after the calls at t = 0, 1, 2"
        refused_without_effect(rollout, ws, value, error, "ENV-32", what, repro)
        goes_on(rollout, ws, repro)


# ---------------------------------------------------------------------------------------------
# ENV-22, ENV-23: a call refused before any env is touched changes nothing


@clause("ENV-22", "ENV-23", "ENV-19")
@pytest.mark.parametrize("bad", [-1, MAX_ACTION], ids=["below", "above"])
def test_rejected_action_changes_nothing(impl: Any, backend: Backend, bad: int) -> None:
    with counting(impl, backend, [4, 3], autoreset=True) as rollout:
        ws = impl.Workspace()
        steps(rollout, ws, 0, 3)
        good = ws.get("action", 2).clone()
        wrong = good.clone()
        wrong[0] = bad
        ws.set("action", 2, wrong)
        repro = failure_repro(
            rollout,
            3,
            ValueError,
            before=f"ws.set('action', 2, torch.tensor([{bad}, {int(good[1])}]))\n",
            note=f"action {bad} is outside Discrete({MAX_ACTION})",
        )
        what = f"env_agent(ws, t=3) with action row 2 = {wrong.tolist()} (Discrete({MAX_ACTION}))"
        exc = refused_without_effect(rollout, ws, 3, ValueError, "ENV-23", what, repro, "ENV-22")
        expect(
            "action" in str(exc),
            "ENV-23",
            f"the out-of-range action error does not name 'action': {exc}",
            repro,
        )
        ws.set("action", 2, good)
        repro += f"ws.set('action', 2, torch.tensor({good.tolist()}))  # the action row fixed\n"
        goes_on(rollout, ws, repro)


@clause("ENV-11", "ENV-22")
@pytest.mark.parametrize(
    "case",
    ["box-bool", "discrete-float32", "discrete-float64", "discrete-bfloat16", "box-complex64"],
)
def test_action_of_another_dtype_changes_nothing(impl: Any, backend: Backend, case: str) -> None:
    """ENV-11: a bool action for a Box space, a floating one for a Discrete space, a complex one
    for either raises TypeError before any env is stepped; the rollout then goes on."""
    kind, dtype_name = case.split("-")
    with counting(impl, backend, [4, 3], autoreset=True, action_kind=kind) as rollout:  # type: ignore[arg-type]
        ws = impl.Workspace()
        steps(rollout, ws, 0, 3)
        good = ws.get_full("action").clone()
        ws.clear("action")  # a variable keeps its dtype: a new one of the other dtype
        ws.set_full("action", good.to(getattr(torch, dtype_name)))
        repro = failure_repro(
            rollout,
            3,
            TypeError,
            before="good = ws.get_full('action').clone()\nws.clear('action')\n"
            f"ws.set_full('action', good.to(torch.{dtype_name}))\n",
            note=f"{dtype_name} actions for a {kind} space",
        )
        what = f"env_agent(ws, t=3) with {dtype_name} action rows ({kind} action space)"
        refused_without_effect(rollout, ws, 3, TypeError, "ENV-11", what, repro, "ENV-22")
        ws.clear("action")
        ws.set_full("action", good)
        repro += "ws.clear('action')\nws.set_full('action', good)  # the action rows fixed\n"
        goes_on(rollout, ws, repro)


# ---------------------------------------------------------------------------------------------
# ENV-24 .. ENV-26: worker processes


def process_repro(body: str) -> str:
    """Reproducer source: ``body`` (which ends by closing ``env_agent``) between a count of this
    process's children before it and a print of the children it left (Linux /proc)."""
    return (
        "from bbrl_conformance._rollouts import agent_children, child_processes\n"
        "baseline = child_processes()\n"
        + body
        + "print('child processes left after close():', len(agent_children(baseline)))\n"
    )


class ProcessGuard:
    """Records the child processes before a block; ``repro`` (see ``process_repro``) is set by
    the test."""

    def __init__(self) -> None:
        self.baseline = child_processes()
        self.repro = ""

    def new(self) -> set[int]:
        return agent_children(self.baseline)


@contextlib.contextmanager
def no_process_left(clause_id: str) -> Iterator[ProcessGuard]:
    """Around a block that builds and closes agents: no new child may remain after it."""
    guard = ProcessGuard()
    yield guard
    left = guard.new()
    expect(
        not left,
        clause_id,
        f"after close(), child processes {sorted(left)} of the agent remain (live or exited "
        "without being reaped)",
        guard.repro,
    )


def closed_within(rollout: Rollout, repro: str) -> None:
    """close() twice, each within the deadline (ENV-26); an agent that steps its envs in this
    process may have no close() (ENV-34)."""
    __tracebackhide__ = True
    if not callable(getattr(rollout.env_agent, "close", None)):
        expect(
            rollout.plan.in_process(),
            "ENV-26",
            "the env agent runs its envs in worker processes but has no close()",
            repro,
        )
        return
    for n in (1, 2):
        within(DEADLINE_S, "ENV-26", f"close() (call {n})", repro, rollout.env_agent.close)


@clause("ENV-26")
def test_close_is_idempotent_and_leaves_no_process(impl: Any, backend: Backend) -> None:
    with no_process_left("ENV-26") as guard, CountingPlan([3, 2]) as plan:
        guard.repro = process_repro(
            f"{plan.factory_source(True)}env_agent = impl.ParallelGymAgent(factory, "
            f"num_envs=2{backend.source()})\nenv_agent(impl.Workspace(), t=0)\n"
            "env_agent.close()\nenv_agent.close()\n"
        )
        with contextlib.ExitStack() as stack:
            rollout = Rollout(impl, backend, plan, stack, autoreset=True)
            rollout.run(4)
            has_close = callable(getattr(rollout.env_agent, "close", None))
            expect(
                has_close or plan.in_process(),
                "ENV-26",
                "the env agent runs its envs in worker processes but has no close()",
                guard.repro,
            )
            if has_close:
                closed_within(rollout, guard.repro)


@clause("ENV-34", "ENV-26")
def test_close_closes_every_env(impl: Any, backend: Backend) -> None:
    """After a rollout with autoresets, ``close()`` leaves every env of the agent closed (its own
    ``close`` called), whichever process it ran in."""
    with CountingPlan([2, 3, 1]) as plan, contextlib.ExitStack() as stack:
        rollout = Rollout(impl, backend, plan, stack, autoreset=True)
        rollout.run(6)
        close = getattr(rollout.env_agent, "close", None)
        if not callable(close):
            pytest.skip("this env agent has no close() (ENV-34 concerns those that have one)")
        repro = (
            f"{plan.factory_source(True)}env_agent = impl.ParallelGymAgent(factory, "
            f"num_envs=3{backend.source()})\nenv_agent(impl.Workspace(), t=0)\n"
            "env_agent.close()\nprint([(env.env_id, env.closed) for env in plan.envs])"
        )
        within(DEADLINE_S, "ENV-26", "close()", repro, close)
        still_open = [record.env_id for record in plan.envs if not record.closed]
        expect(
            len(plan.envs) == 3 and not still_open,
            "ENV-34",
            f"after close(), the envs {still_open} of the agent's {len(plan.envs)} were never "
            "closed (their close() was not called)",
            repro,
        )


@clause("ENV-26")
def test_close_returns_when_an_env_close_blocks(impl: Any, backend: Backend) -> None:
    """Env 1's ``close`` sleeps for minutes in its worker: the agent's ``close()`` still
    returns within the deadline (twice) and leaves no child process."""
    if in_process(impl, backend):
        pytest.skip(
            f"backend {backend.name!r} runs its envs in this process (ENV-26 is about "
            "worker processes)"
        )
    faults: dict[tuple[int, int, int], Fault] = {(1, 0, -2): "close-hang"}
    with (
        no_process_left("ENV-26") as guard,
        counting(impl, backend, [3, 2], autoreset=True, faults=faults) as rollout,
    ):
        steps(rollout, impl.Workspace(), 0, 2)
        guard.repro = process_repro(
            steps_repro(rollout, 2) + "env_agent.close()  # env 1's close() sleeps in its worker\n"
        )
        closed_within(rollout, guard.repro)


@clause("ENV-24", "ENV-22", "ENV-26")
def test_dead_worker_is_an_error_not_a_hang(impl: Any, backend: Backend) -> None:
    workers = not in_process(impl, backend)
    faults: dict[tuple[int, int, int], Fault] = {(1, 0, 1): "exit"} if workers else {}
    with (
        no_process_left("ENV-26") as guard,
        counting(impl, backend, [9, 9], autoreset=True, faults=faults) as rollout,
    ):
        ws = impl.Workspace()
        steps(rollout, ws, 0, 2)
        if not workers:  # in this process: nothing can die, and no process may appear
            guard.repro = process_repro(steps_repro(rollout, 2) + "env_agent.close()\n")
            expect(
                not guard.new(),
                "ENV-24",
                f"backend {backend.name!r} steps its envs in this process, yet started child "
                f"processes {sorted(guard.new())}",
                guard.repro,
            )
            return
        repro = failure_repro(rollout, 2, RuntimeError, note="the worker of env 1 exits here")
        guard.repro = process_repro(repro + "env_agent.close()\n")
        b = find_columns(ws, rollout, repro).index(1)
        exc = expect_raises(
            RuntimeError,
            "ENV-24",
            f"the worker of env {b} exits during env_agent(ws, t=2)",
            functools.partial(_call, rollout, ws, 2, "ENV-24", repro),
            repro,
        )
        expect(
            names(str(exc), 2) and names(str(exc), b),
            "ENV-24",
            f"the error of the dead worker of env {b} at t=2 does not name t and b: {exc}",
            repro,
        )
        repro = check_refused_until_reset(rollout, ws, 2, "ENV-24", "a worker died at t=2", repro)
        check_recovers(rollout, repro, "ENV-24")
        closed_within(rollout, repro)


@clause("ENV-25", "ENV-22", "ENV-26")
def test_hung_worker_times_out(impl: Any, backend: Backend) -> None:
    if in_process(impl, backend):
        return  # test_in_process_backends_refuse_a_timeout (test_env_agent.py) checks these
    timeout = 2.0
    faults: dict[tuple[int, int, int], Fault] = {(0, 0, 1): "hang"}
    with (
        no_process_left("ENV-26") as guard,
        counting(impl, backend, [9, 9], autoreset=True, faults=faults, timeout=timeout) as rollout,
    ):
        repro = failure_repro(
            rollout,
            2,
            TimeoutError,
            note=f"env 0 hangs in its step: timeout after {timeout} s",
            agent_kwargs=f", timeout={timeout}",
        )
        guard.repro = process_repro(repro + "env_agent.close()\n")
        ws = impl.Workspace()
        steps(rollout, ws, 0, 2)
        b = find_columns(ws, rollout, repro).index(0)
        hung = rollout.plan.envs[0].pids[-1]
        exc = expect_raises(
            TimeoutError,
            "ENV-25",
            f"env {b}'s step hangs during env_agent(ws, t=2), timeout={timeout}",
            functools.partial(_call, rollout, ws, 2, "ENV-25", repro),
            repro,
        )
        expect(
            names(str(exc), 2) and names(str(exc), b),
            "ENV-25",
            f"the timeout error of env {b} at t=2 does not name t and b: {exc}",
            repro,
        )
        expect(
            hung not in child_processes(),
            "ENV-25",
            f"the hung worker (pid {hung}) still exists after the timeout error",
            repro + "from bbrl_conformance._rollouts import child_processes\n"
            "print('the hung worker exists:', plan.envs[0].pids[-1] in child_processes())\n",
        )
        repro = check_refused_until_reset(rollout, ws, 2, "ENV-25", "a step timed out", repro)
        check_recovers(rollout, repro, "ENV-25")
        closed_within(rollout, repro)


#: timeouts ENV-25 refuses when the agent is built: (source, value, the builtin type raised)
BAD_TIMEOUTS: tuple[tuple[str, object, type[Exception]], ...] = (
    ("0", 0, ValueError),
    ("0.0", 0.0, ValueError),
    ("-1", -1, ValueError),
    ("-0.5", -0.5, ValueError),
    ("float('nan')", float("nan"), ValueError),
    ("True", True, TypeError),
    ("'5'", "5", TypeError),
    ("[1.0]", [1.0], TypeError),
)


@clause("ENV-25")
@pytest.mark.parametrize(
    ("source", "timeout", "error"), BAD_TIMEOUTS, ids=[source for source, _, _ in BAD_TIMEOUTS]
)
def test_worker_timeout_domain(
    impl: Any, backend: Backend, source: str, timeout: object, error: type[Exception]
) -> None:
    """ENV-25's refused timeouts on a backend with worker processes: zero, negative numbers and
    NaN raise ValueError, other types (bool and str included) TypeError, when the agent is
    built, and no worker remains (the other side: test_worker_timeout_accepts_a_positive_int)."""
    if in_process(impl, backend):
        pytest.skip(
            "this backend steps its envs in this process: it refuses every timeout (ENV-18, "
            "test_in_process_backends_refuse_a_timeout)"
        )
    with no_process_left("ENV-25") as guard, CountingPlan([3]) as plan:
        call = f"impl.ParallelGymAgent(factory, num_envs=1{backend.source()}, timeout={source})"
        code = f"{plan.factory_source(True)}{call}  # expected {error.__name__}\n"
        guard.repro = process_repro(code)
        built: list[Any] = []
        try:
            expect_raises(
                error,
                "ENV-25",
                call,
                lambda: built.append(
                    backend.agent(impl, plan.factory(impl, True), 1, timeout=timeout)
                ),
                code,
            )
        finally:
            for agent in built:
                close_agent(agent)


@clause("ENV-25")
def test_worker_timeout_accepts_a_positive_int(impl: Any, backend: Backend) -> None:
    """The accepted side of ENV-25's domain: a positive int (a float is accepted by
    test_hung_worker_times_out) builds an agent that resets its envs."""
    if in_process(impl, backend):
        pytest.skip("this backend steps its envs in this process: it refuses every timeout")
    with no_process_left("ENV-25") as guard, CountingPlan([3]) as plan:
        guard.repro = process_repro(
            f"{plan.factory_source(True)}env_agent = impl.ParallelGymAgent(factory, num_envs=1"
            f"{backend.source()}, timeout=30)\nenv_agent(impl.Workspace(), t=0)\n"
            "env_agent.close()\n"
        )
        accepted = backend.agent(impl, plan.factory(impl, True), 1, timeout=30)
        try:
            accepted(impl.Workspace(), t=0)
        finally:
            close_agent(accepted)


#: reproducer lines raising KeyboardInterrupt in the main thread half a second later (SIGALRM,
#: as the test does), and the lines that disarm it (run whatever the call did)
INTERRUPT_AFTER_HALF_A_SECOND = (
    "import signal\n"
    "def interrupt(signum, frame):\n    raise KeyboardInterrupt\n"
    "previous = signal.signal(signal.SIGALRM, interrupt)\n"
    "signal.setitimer(signal.ITIMER_REAL, 0.5)\n"
)
INTERRUPT_DISARMED = (
    "signal.setitimer(signal.ITIMER_REAL, 0)\nsignal.signal(signal.SIGALRM, previous)\n"
)


@clause("ENV-26", "ENV-22")
def test_interrupted_call(impl: Any, backend: Backend) -> None:
    """KeyboardInterrupt during a slow step: the agent needs a reset, runs again after one, and
    close() leaves no process."""
    with (
        no_process_left("ENV-26") as guard,
        counting(impl, backend, [9, 9], autoreset=True, faults={(0, 0, 1): "slow"}) as rollout,
    ):
        repro = failure_repro(
            rollout,
            2,
            KeyboardInterrupt,
            before=INTERRUPT_AFTER_HALF_A_SECOND,
            note="interrupted (Ctrl-C) during env 0's 5 s step",
            cleanup=INTERRUPT_DISARMED,
        )
        guard.repro = process_repro(repro + "env_agent.close()\n")
        ws = impl.Workspace()
        steps(rollout, ws, 0, 2)
        interrupted = False
        try:
            with alarm(0.5, KeyboardInterrupt):
                rollout.env_agent(ws, t=2)
        except KeyboardInterrupt:
            interrupted = True
        expect(
            interrupted or os.name != "posix",
            "ENV-26",
            "a KeyboardInterrupt raised during env_agent(ws, t=2) did not reach the caller",
            repro,
        )
        repro = check_refused_until_reset(rollout, ws, 2, "ENV-22", "an interrupt at t=2", repro)
        check_recovers(rollout, repro)
        closed_within(rollout, repro)
