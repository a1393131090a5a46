"""Conformance tests of spec/errors.md (ERR): bad input gets a typed error, and changes nothing.

Each case builds a small workspace, replay buffer or env agent, makes one bad call, and checks
three things: the exception is an instance of the builtin type the spec names (the clause of
the call, e.g. WS-5, and the ERR clause), its message names the variable or argument (ERR-6,
a SHOULD), and the object is unchanged afterwards (ERR-5).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

from bbrl_conformance._assertions import expect, expect_raises
from bbrl_conformance._clauses import clause
from bbrl_conformance._models import observe_workspace, same_contents

WS_SETUP = (
    "import torch\nws = impl.Workspace()\n"
    "for t in range(3):\n"
    "    ws.set('x', t, torch.full((4, 2), float(t)))\n"
    "    ws.set('env/done', t, torch.tensor([False, t == 1, False, False]))\n"
)


def _workspace(impl: Any) -> Any:
    """x: float32 [3, 4, 2]; env/done: bool [3, 4] (the same as WS_SETUP)."""
    ws = impl.Workspace()
    for t in range(3):
        ws.set("x", t, torch.full((4, 2), float(t)))
        ws.set("env/done", t, torch.tensor([False, t == 1, False, False]))
    return ws


@dataclass(frozen=True)
class Case:
    """One bad call: `call(target)` must raise `exc`; `mention` must appear in the message."""

    clause_id: str
    exc: type[BaseException]
    code: str
    call: Callable[[Any], object]
    mention: tuple[str, ...]


WORKSPACE_CASES: dict[str, Case] = {
    "get-negative-t": Case(
        "ERR-2", IndexError, "ws.get('x', -1)", lambda ws: ws.get("x", -1), ("x",)
    ),
    "get-t-too-large": Case(
        "ERR-2", IndexError, "ws.get('x', 3)", lambda ws: ws.get("x", 3), ("x",)
    ),
    "set-negative-t": Case(
        "ERR-2",
        IndexError,
        "ws.set('x', -1, torch.zeros(4, 2))",
        lambda ws: ws.set("x", -1, torch.zeros(4, 2)),
        ("x",),
    ),
    "get-unknown": Case("ERR-3", KeyError, "ws.get('zz', 0)", lambda ws: ws.get("zz", 0), ("zz",)),
    "get-full-unknown": Case(
        "ERR-3", KeyError, "ws.get_full('zz')", lambda ws: ws.get_full("zz"), ("zz",)
    ),
    "getitem-unknown": Case("ERR-3", KeyError, "ws['zz']", lambda ws: ws["zz"], ("zz",)),
    "clear-unknown": Case("ERR-3", KeyError, "ws.clear('zz')", lambda ws: ws.clear("zz"), ("zz",)),
    "set-list": Case(
        "ERR-4",
        TypeError,
        "ws.set('y', 0, [1.0, 2.0, 3.0, 4.0])",
        lambda ws: ws.set("y", 0, [1.0, 2.0, 3.0, 4.0]),
        ("y",),
    ),
    "set-numpy": Case(
        "ERR-4",
        TypeError,
        "ws.set('y', 0, numpy.zeros(4))",
        lambda ws: ws.set("y", 0, np.zeros(4)),
        ("y",),
    ),
    "set-0-dim": Case(
        "ERR-4",
        ValueError,
        "ws.set('y', 0, torch.tensor(1.0))",
        lambda ws: ws.set("y", 0, torch.tensor(1.0)),
        ("y",),
    ),
    "set-full-list": Case(
        "ERR-4",
        TypeError,
        "ws.set_full('y', [[0.0] * 4])",
        lambda ws: ws.set_full("y", [[0.0] * 4]),
        ("y",),
    ),
    "set-full-1-dim": Case(
        "ERR-4",
        ValueError,
        "ws.set_full('y', torch.zeros(4))",
        lambda ws: ws.set_full("y", torch.zeros(4)),
        ("y",),
    ),
    "set-batch-size": Case(
        "WS-4",
        ValueError,
        "ws.set('y', 0, torch.zeros(6))",
        lambda ws: ws.set("y", 0, torch.zeros(6)),
        ("y",),
    ),
    "set-full-batch-size": Case(
        "WS-4",
        ValueError,
        "ws.set_full('x', torch.zeros(3, 6, 2))",
        lambda ws: ws.set_full("x", torch.zeros(3, 6, 2)),
        ("x",),
    ),
    "set-item-shape": Case(
        "WS-5",
        ValueError,
        "ws.set('x', 1, torch.zeros(4, 3))",
        lambda ws: ws.set("x", 1, torch.zeros(4, 3)),
        ("x",),
    ),
    "set-dtype": Case(
        "WS-5",
        TypeError,
        "ws.set('x', 1, torch.zeros((4, 2), dtype=torch.float64))",
        lambda ws: ws.set("x", 1, torch.zeros((4, 2), dtype=torch.float64)),
        ("x",),
    ),
    "set-grow-dtype": Case(
        "WS-5",
        TypeError,
        "ws.set('env/done', 5, torch.zeros(4, dtype=torch.int64))",
        lambda ws: ws.set("env/done", 5, torch.zeros(4, dtype=torch.int64)),
        ("env/done",),
    ),
    "copy-n-too-large": Case(
        "WS-17",
        ValueError,
        "ws.copy_n_last_steps(4)",
        lambda ws: ws.copy_n_last_steps(4),
        ("4",),
    ),
    "copy-n-negative": Case(
        "WS-17",
        ValueError,
        "ws.copy_n_last_steps(-1, var_names=['x'])",
        lambda ws: ws.copy_n_last_steps(-1, var_names=["x"]),
        ("-1",),
    ),
    "copy-unknown-name": Case(
        "WS-17",
        KeyError,
        "ws.copy_n_last_steps(1, var_names=['x', 'zz'])",
        lambda ws: ws.copy_n_last_steps(1, var_names=["x", "zz"]),
        ("zz",),
    ),
    "transitions-unknown-filter": Case(
        "TR-6",
        KeyError,
        "ws.get_transitions(filter_key='my/flag')",
        lambda ws: ws.get_transitions(filter_key="my/flag"),
        ("my/flag",),
    ),
    "transitions-filter-dtype": Case(
        "TR-6",
        TypeError,
        "ws.get_transitions(filter_key='x')  # float32 [3, 4, 2]",
        lambda ws: ws.get_transitions(filter_key="x"),
        ("x",),
    ),
}


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(key, marks=clause(case.clause_id, "ERR-5", "ERR-6"), id=key)
        for key, case in WORKSPACE_CASES.items()
    ],
)
def test_workspace_bad_input(impl: Any, key: str) -> None:
    case = WORKSPACE_CASES[key]
    ws = _workspace(impl)
    before = observe_workspace(ws)
    sizes = (ws.time_size(), ws.batch_size())
    repro = WS_SETUP + case.code
    exc = expect_raises(case.exc, case.clause_id, case.code, lambda: case.call(ws), repro)
    message = str(exc)
    expect(
        all(word in message for word in case.mention),
        "ERR-6",
        f"{case.code} raised {type(exc).__name__}({message!r}), which does not name "
        f"{' and '.join(repr(w) for w in case.mention)}",
        repro,
    )
    after = observe_workspace(ws)
    expect(
        same_contents(before, after) and (ws.time_size(), ws.batch_size()) == sizes,
        "ERR-5",
        f"{case.code} raised but changed the workspace: before {before} (T, B) = {sizes}, "
        f"after {after} (T, B) = {(ws.time_size(), ws.batch_size())}",
        repro + "\nprint({k: ws.get_full(k) for k in ws.keys()})",
    )


@clause("TR-7", "ERR-5", "ERR-6")
def test_transitions_mixed_time_sizes_message(impl: Any) -> None:
    ws = _workspace(impl)
    ws.set("short", 0, torch.zeros(4))
    before = observe_workspace(ws)
    code = "ws.set('short', 0, torch.zeros(4))\nws.get_transitions()"
    exc = expect_raises(ValueError, "TR-7", code, ws.get_transitions, WS_SETUP + code)
    expect(
        "short" in str(exc),
        "ERR-6",
        f"get_transitions() with 'short' of T=1 beside T=3 raised {exc!r}, not naming 'short'",
        WS_SETUP + code,
    )
    expect(
        same_contents(before, observe_workspace(ws)),
        "ERR-5",
        "get_transitions() raised but changed the workspace",
        WS_SETUP + code,
    )


# -- replay buffer --------------------------------------------------------------------------

RB_SETUP = (
    "import torch\n"
    "def items(first, n, T=2, obs_shape=(3,), obs_dtype=torch.float32, extra=False, flag=True):\n"
    "    ids = torch.arange(first, first + n)\n"
    "    ws = impl.Workspace()\n"
    "    ws.set_full('id', torch.stack([ids * 10 + k for k in range(T)]))\n"
    "    ws.set_full('obs', torch.zeros((T, n, *obs_shape), dtype=obs_dtype))\n"
    "    if flag:\n"
    "        ws.set_full('flag', torch.zeros((T, n), dtype=torch.bool))\n"
    "    if extra:\n"
    "        ws.set_full('more', torch.zeros(T, n))\n"
    "    return ws\n"
    "rb = impl.ReplayBuffer(5)\n"
    "rb.put(items(0, 4))\n"
)


def _items(
    impl: Any,
    first: int,
    n: int,
    time_size: int = 2,
    obs_shape: tuple[int, ...] = (3,),
    obs_dtype: torch.dtype = torch.float32,
    extra: bool = False,
    flag: bool = True,
) -> Any:
    """The same as `items` in RB_SETUP."""
    ids = torch.arange(first, first + n)
    ws = impl.Workspace()
    ws.set_full("id", torch.stack([ids * 10 + k for k in range(time_size)]))
    ws.set_full("obs", torch.zeros((time_size, n, *obs_shape), dtype=obs_dtype))
    if flag:
        ws.set_full("flag", torch.zeros((time_size, n), dtype=torch.bool))
    if extra:
        ws.set_full("more", torch.zeros(time_size, n))
    return ws


def _stored_ids(rb: Any) -> tuple[int, set[int]]:
    size = int(rb.size())
    if size == 0:
        return 0, set()
    return size, {int(i) // 10 for i in rb.get_shuffled(40 * size)["id"][0].tolist()}


RB_CASES: dict[str, tuple[str, type[BaseException], str, Callable[[Any, Any], object], str]] = {
    "put-missing": (
        "RB-6",
        KeyError,
        "rb.put(items(4, 2, flag=False))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, flag=False)),
        "flag",
    ),
    "put-extra": (
        "RB-6",
        KeyError,
        "rb.put(items(4, 2, extra=True))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, extra=True)),
        "more",
    ),
    "put-item-shape": (
        "RB-6",
        ValueError,
        "rb.put(items(4, 2, obs_shape=(4,)))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, obs_shape=(4,))),
        "obs",
    ),
    "put-time-size": (
        "RB-6",
        ValueError,
        "rb.put(items(4, 2, T=3))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, time_size=3)),
        "3",
    ),
    "put-dtype": (
        "RB-6",
        TypeError,
        "rb.put(items(4, 2, obs_dtype=torch.float64))",
        lambda impl, rb: rb.put(_items(impl, 4, 2, obs_dtype=torch.float64)),
        "obs",
    ),
    "get-shuffled-zero": (
        "RB-10",
        ValueError,
        "rb.get_shuffled(0)",
        lambda impl, rb: rb.get_shuffled(0),
        "batch_size",
    ),
    "get-shuffled-negative": (
        "RB-10",
        ValueError,
        "rb.get_shuffled(-3)",
        lambda impl, rb: rb.get_shuffled(-3),
        "batch_size",
    ),
}


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(key, marks=clause(case[0], "ERR-5", "ERR-6"), id=key)
        for key, case in RB_CASES.items()
    ],
)
def test_replay_buffer_bad_input(impl: Any, key: str) -> None:
    clause_id, exc_type, code, call, mention = RB_CASES[key]
    rb = impl.ReplayBuffer(5)
    rb.put(_items(impl, 0, 4))
    before = _stored_ids(rb)
    repro = RB_SETUP + code
    exc = expect_raises(exc_type, clause_id, code, functools.partial(call, impl, rb), repro)
    expect(
        mention in str(exc),
        "ERR-6",
        f"{code} raised {type(exc).__name__}({str(exc)!r}), which does not name {mention!r}",
        repro,
    )
    after = _stored_ids(rb)
    expect(
        before == after,
        "ERR-5",
        f"{code} raised but changed the buffer: (size, stored ids) before {before}, after {after}",
        repro + "\nprint(rb.size())",
    )


@clause("RB-1", "RB-10", "ERR-5", "ERR-6")
def test_replay_buffer_argument_messages(impl: Any) -> None:
    exc = expect_raises(
        ValueError,
        "RB-1",
        "ReplayBuffer(0)",
        functools.partial(impl.ReplayBuffer, 0),
        "impl.ReplayBuffer(0)",
    )
    expect(
        "max_size" in str(exc),
        "ERR-6",
        f"ReplayBuffer(0) raised {exc!r}, which does not name 'max_size'",
        "impl.ReplayBuffer(0)",
    )
    rb = impl.ReplayBuffer(3)
    exc = expect_raises(
        ValueError,
        "RB-10",
        "get_shuffled(2) on an empty buffer",
        functools.partial(rb.get_shuffled, 2),
        "rb = impl.ReplayBuffer(3)\nrb.get_shuffled(2)",
    )
    expect(
        rb.size() == 0,
        "ERR-5",
        f"get_shuffled on an empty buffer raised but size() is now {rb.size()}",
        "rb = impl.ReplayBuffer(3)\nrb.get_shuffled(2)\nprint(rb.size())",
    )


# -- env agent ------------------------------------------------------------------------------

AGENT_SETUP = (
    "import functools, torch\n"
    "make = functools.partial(impl.make_env, 'CartPole-v1')\n"
    "agent = impl.ParallelGymAgent(make, 2).seed(3)\n"
    "agent(impl.Workspace(), t=0)\n"
)


def _started_agent(impl: Any) -> Any:
    agent = impl.ParallelGymAgent(functools.partial(impl.make_env, "CartPole-v1"), 2)
    agent.seed(3)
    agent(impl.Workspace(), t=0)
    return agent


@clause("ERR-7")
def test_env_agent_bad_arguments(impl: Any) -> None:
    make = functools.partial(impl.make_env, "CartPole-v1")
    setup = "import functools\nmake = functools.partial(impl.make_env, 'CartPole-v1')\n"
    for num_envs in (0, -2):
        code = f"impl.ParallelGymAgent(make, {num_envs})"
        exc = expect_raises(
            ValueError,
            "ERR-7",
            code,
            functools.partial(impl.ParallelGymAgent, make, num_envs),
            setup + code,
        )
        expect(
            "num_envs" in str(exc),
            "ERR-6",
            f"{code} raised {exc!r}, not naming 'num_envs'",
            setup + code,
        )
    agent = impl.ParallelGymAgent(make, 2)
    code = "impl.ParallelGymAgent(make, 2).seed(-1)"
    expect_raises(ValueError, "ERR-7", code, functools.partial(agent.seed, -1), setup + code)


@clause("ERR-7", "ERR-5")
def test_env_agent_action_batch_size(impl: Any) -> None:
    agent = _started_agent(impl)
    ws = impl.Workspace()
    ws.set("action", 0, torch.zeros(3, dtype=torch.int64))
    before = observe_workspace(ws)
    code = (
        "ws = impl.Workspace()\nws.set('action', 0, torch.zeros(3, dtype=torch.int64))\n"
        "agent(ws, t=1)"
    )
    exc = expect_raises(
        ValueError,
        "ERR-7",
        "ParallelGymAgent(make, 2) called at t=1 on a workspace whose action row 0 has batch "
        "size 3",
        lambda: agent(ws, t=1),
        AGENT_SETUP + code,
    )
    expect(
        "action" in str(exc),
        "ERR-6",
        f"the action batch-size error {exc!r} does not name 'action'",
        AGENT_SETUP + code,
    )
    expect(
        same_contents(before, observe_workspace(ws)),
        "ERR-5",
        "the rejected env-agent call changed the workspace: "
        f"keys before {sorted(before)}, after {sorted(ws.keys())}",
        AGENT_SETUP + code + "\nprint(list(ws.keys()))",
    )


@clause("ERR-8", "ERR-5")
def test_env_agent_missing_action(impl: Any) -> None:
    agent = _started_agent(impl)
    ws = impl.Workspace()
    code = "ws = impl.Workspace()\nagent(ws, t=1)"
    exc = expect_raises(
        KeyError,
        "ERR-8",
        "ParallelGymAgent(make, 2) called at t=1 on a workspace without 'action'",
        lambda: agent(ws, t=1),
        AGENT_SETUP + code,
    )
    expect(
        "action" in str(exc),
        "ERR-6",
        f"the missing-action error {exc!r} does not name 'action'",
        AGENT_SETUP + code,
    )
    expect(
        list(ws.keys()) == [],
        "ERR-5",
        f"the rejected env-agent call wrote {sorted(ws.keys())} into the workspace",
        AGENT_SETUP + code + "\nprint(list(ws.keys()))",
    )


# -- python -O ------------------------------------------------------------------------------

OPTIMIZED_SCRIPT = """
import importlib, json, sys
import torch
impl = importlib.import_module(sys.argv[1])
ws = impl.Workspace()
ws.set('x', 0, torch.zeros(4, 2))
rb = impl.ReplayBuffer(3)
calls = {
    'get unknown': lambda: ws.get('zz', 0),
    'get t >= T': lambda: ws.get('x', 1),
    'get t < 0': lambda: ws.get('x', -1),
    'set batch size': lambda: ws.set('y', 0, torch.zeros(3)),
    'set item shape': lambda: ws.set('x', 1, torch.zeros(4, 3)),
    'set dtype': lambda: ws.set('x', 1, torch.zeros((4, 2), dtype=torch.int64)),
    'copy n > T': lambda: ws.copy_n_last_steps(2),
    'get_shuffled empty': lambda: rb.get_shuffled(1),
}
out = {}
for name, call in calls.items():
    try:
        call()
        out[name] = None
    except Exception as exc:
        out[name] = [c.__name__ for c in type(exc).__mro__]
print(json.dumps(out))
"""

OPTIMIZED_EXPECTED = {
    "get unknown": "KeyError",
    "get t >= T": "IndexError",
    "get t < 0": "IndexError",
    "set batch size": "ValueError",
    "set item shape": "ValueError",
    "set dtype": "TypeError",
    "copy n > T": "ValueError",
    "get_shuffled empty": "ValueError",
}


@clause("ERR-1")
def test_errors_survive_python_optimize(impl: Any) -> None:
    module = str(getattr(impl, "module_name", None) or impl.__name__)
    proc = subprocess.run(
        [sys.executable, "-O", "-c", OPTIMIZED_SCRIPT, module],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    repro = f"# run with: python -O -c <script> {module}\n{textwrap.dedent(OPTIMIZED_SCRIPT)}"
    expect(
        proc.returncode == 0,
        "ERR-1",
        f"the python -O script failed (rc={proc.returncode}): {proc.stderr[-2000:]}",
        repro,
    )
    results = json.loads(proc.stdout.strip().splitlines()[-1])
    wrong = {
        name: results.get(name)
        for name, want in OPTIMIZED_EXPECTED.items()
        if results.get(name) is None or want not in results[name]
    }
    expect(
        not wrong,
        "ERR-1",
        "under python -O these bad calls did not raise the builtin type the spec names "
        f"(expected {OPTIMIZED_EXPECTED}): got {wrong} (None: nothing raised; else the MRO)",
        repro,
    )
