"""ERR-6 across the spec: the message of every required error names what the call got wrong.

One table, one test. Each case is one bad call whose error a clause requires (its builtin type
is checked as that clause says), with the tokens its message must name as whole words: the
variable, argument, field or element concerned, what was expected (where the clause fixes a
concrete value, type or shape) and what was given. A message that names none of them ("invalid
input"), or an error raised by the implementation's own formatting code (a ``TypeError`` about
a missing argument), fails. The cases complete those of ``test_errors.py`` (the workspace,
replay-buffer and env-agent errors checked there with their state after the failure): argument
types, ``cat_batch`` elements, transition filters, ``make_env`` and the files ``load`` refuses.
"""

from __future__ import annotations

import functools
import pathlib
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import torch

from bbrl_conformance import _rb_file as rbf
from bbrl_conformance._assertions import expect_message, expect_raises
from bbrl_conformance._clauses import clause
from bbrl_conformance.tests.test_env_failures import any_case
from bbrl_conformance.tests.test_replay_buffer_persistence import source_of

Mention = tuple[str | tuple[str, ...], ...]


@dataclass(frozen=True)
class Case:
    """``call(impl, tmp)`` must raise ``exc`` (``clause_id``) with a message naming ``mention``;
    ``code`` is the same call for the reproducer, after SETUP."""

    clause_id: str
    exc: type[BaseException]
    code: str
    call: Callable[[Any, pathlib.Path], object]
    mention: Mention


def items(
    impl: Any,
    n: int = 3,
    time_size: int = 2,
    obs_shape: tuple[int, ...] = (3,),
    obs_dtype: torch.dtype = torch.float32,
) -> Any:
    """n items: id int64 [T, n], obs [T, n, *obs_shape]."""
    ws = impl.Workspace()
    ws.set_full("id", torch.arange(time_size * n).reshape(time_size, n))
    ws.set_full("obs", torch.ones((time_size, n, *obs_shape), dtype=obs_dtype))
    return ws


def buffer(impl: Any) -> Any:
    """A 5-slot buffer holding items(impl): id, obs float32 [3], T = 2."""
    rb = impl.ReplayBuffer(5)
    rb.put(items(impl))
    return rb


def file_with(
    impl: Any,
    tmp: pathlib.Path,
    header: dict[str, Any] | None = None,
    variable: dict[str, Any] | None = None,
    whole: object = None,
    **kwargs: Any,
) -> pathlib.Path:
    """A file saved by a 5-slot buffer of items(impl, **kwargs), its header's fields replaced
    by ``header`` and those of its first variable by ``variable`` (None: the key removed), or
    the whole header by ``whole``."""
    rb = impl.ReplayBuffer(5)
    rb.put(items(impl, **kwargs))
    rb.save(tmp / "saved.bin")
    parsed = rbf.parse((tmp / "saved.bin").read_bytes())
    fields: dict[str, Any] = {**parsed.header, **(header or {})}
    if variable is not None:
        first = {**fields["variables"][0], **variable}
        first = {key: value for key, value in first.items() if value is not None}
        fields["variables"] = [first, *fields["variables"][1:]]
    (tmp / "bad.bin").write_bytes(rbf.build(fields if whole is None else whole, parsed.payload))
    return tmp / "bad.bin"


def load_other(impl: Any, tmp: pathlib.Path, **kwargs: Any) -> object:
    """Load into buffer(impl) a file saved by a buffer of items(impl, **kwargs)."""
    return buffer(impl).load(file_with(impl, tmp, **kwargs))


def workspaces(impl: Any, *names: list[str]) -> list[Any]:
    """One workspace per list of names, each name a variable of one row of batch size 2."""
    out = []
    for group in names:
        ws = impl.Workspace()
        for name in group:
            ws.set(name, 0, torch.zeros(2))
        out.append(ws)
    return out


def three_rows(impl: Any) -> Any:
    """x: float32 [3, 2] (the variable of workspaces(), with time size 3 instead of 1)."""
    ws = impl.Workspace()
    ws.set_full("x", torch.zeros(3, 2))
    return ws


def make_env(impl: Any, env_name: str) -> Any:
    """The factory of env_name's envs: functools.partial(impl.make_env, env_name)."""
    return functools.partial(impl.make_env, env_name)


def filtered(impl: Any) -> Any:
    """x: float32 [3, 4]; f: bool [3, 4, 1] (not the [T, B] of a filter)."""
    ws = impl.Workspace()
    ws.set_full("x", torch.zeros(3, 4))
    ws.set_full("f", torch.zeros(3, 4, 1, dtype=torch.bool))
    return ws


SETUP = (
    "import functools, pathlib, tempfile, torch\nfrom bbrl_conformance import _rb_file as rbf\n"
    + source_of(items, buffer, file_with, load_other, workspaces, three_rows, make_env, filtered)
    + "tmp = pathlib.Path(tempfile.mkdtemp())\n"
)


CASES: dict[str, Case] = {
    # argument types (RB-1, RB-14, ENV-27, and WS-17's var_names, a list of names)
    "max-size-str": Case(
        "RB-1",
        TypeError,
        "impl.ReplayBuffer('4')",
        lambda impl, tmp: impl.ReplayBuffer("4"),
        ("max_size", ("str", "'4'")),
    ),
    "max-size-float-tensor": Case(
        "RB-1",
        TypeError,
        "impl.ReplayBuffer(torch.tensor(2.5))",
        lambda impl, tmp: impl.ReplayBuffer(torch.tensor(2.5)),
        ("max_size", ("Tensor", "tensor", "2.5")),
    ),
    "device-float": Case(
        "RB-14",
        TypeError,
        "impl.ReplayBuffer(4, device=1.5)",
        lambda impl, tmp: impl.ReplayBuffer(4, device=1.5),
        ("device", ("float", "1.5")),
    ),
    "workspace-to-float": Case(
        "WS-39",
        TypeError,
        "filtered(impl).to(1.5)",
        lambda impl, tmp: filtered(impl).to(1.5),
        ("device", ("float", "1.5")),
    ),
    "make-env-autoreset-int": Case(
        "ENV-27",
        TypeError,
        "impl.make_env('CartPole-v1', autoreset=1)",
        lambda impl, tmp: impl.make_env("CartPole-v1", autoreset=1),
        ("autoreset", "bool", ("1", "int")),
    ),
    "set-list": Case(
        "ERR-4",
        TypeError,
        "impl.Workspace().set('y', 0, [1.0, 2.0])",
        lambda impl, tmp: impl.Workspace().set("y", 0, [1.0, 2.0]),
        ("y", ("Tensor", "tensor"), "list"),
    ),
    "copy-time-var-names-str": Case(
        "WS-42",
        TypeError,
        "filtered(impl).copy_time(0, 1, 1, var_names='x')",
        lambda impl, tmp: filtered(impl).copy_time(0, 1, 1, var_names="x"),
        ("var_names", "str"),
    ),
    "include-last-state-false": Case(
        "ENV-28",
        ValueError,
        "impl.ParallelGymAgent(make_env(impl, 'CartPole-v1'), 2, include_last_state=False)",
        lambda impl, tmp: impl.ParallelGymAgent(
            make_env(impl, "CartPole-v1"), 2, include_last_state=False
        ),
        ("include_last_state", "True", "False"),
    ),
    "reward-at-t-true": Case(
        "ENV-28",
        ValueError,
        "impl.ParallelGymAgent(make_env(impl, 'CartPole-v1'), 2, reward_at_t=True)",
        lambda impl, tmp: impl.ParallelGymAgent(make_env(impl, "CartPole-v1"), 2, reward_at_t=True),
        ("reward_at_t", "False", "True"),
    ),
    "max-size-not-integral": Case(
        "RB-1",
        TypeError,
        "impl.ReplayBuffer(2.5)",
        lambda impl, tmp: impl.ReplayBuffer(2.5),
        ("max_size", "2.5"),
    ),
    "select-batch-float-index": Case(
        "WS-30",
        TypeError,
        "filtered(impl).select_batch(torch.tensor([0.5]))",
        lambda impl, tmp: filtered(impl).select_batch(torch.tensor([0.5])),
        (("index", "batch_indexes"), ("float32", "float")),
    ),
    "select-batch-n-no-columns": Case(
        "WS-31",
        ValueError,
        "impl.Workspace().select_batch_n(1)",
        lambda impl, tmp: impl.Workspace().select_batch_n(1),
        ("n", "0", "1"),
    ),
    # elements and filters (WS-38, TR-6)
    "cat-batch-missing-variable": Case(
        "WS-38",
        KeyError,
        "impl.Workspace.cat_batch(workspaces(impl, ['x', 'y'], ['x', 'y'], ['x']))",
        lambda impl, tmp: impl.Workspace.cat_batch(workspaces(impl, ["x", "y"], ["x", "y"], ["x"])),
        ("y", ("2", "third")),
    ),
    "cat-batch-not-a-workspace": Case(
        "WS-38",
        TypeError,
        "impl.Workspace.cat_batch([*workspaces(impl, ['x']), 5])",
        lambda impl, tmp: impl.Workspace.cat_batch([*workspaces(impl, ["x"]), 5]),
        (("1", "second"), "Workspace", "int"),
    ),
    "cat-batch-time-size": Case(
        "WS-38",
        ValueError,
        "impl.Workspace.cat_batch([*workspaces(impl, ['x']), three_rows(impl)])",
        lambda impl, tmp: impl.Workspace.cat_batch([*workspaces(impl, ["x"]), three_rows(impl)]),
        ("x", "1", "3"),
    ),
    "transitions-filter-key-int": Case(
        "TR-12",
        TypeError,
        "filtered(impl).get_transitions(filter_key=5)",
        lambda impl, tmp: filtered(impl).get_transitions(filter_key=5),
        ("filter_key", ("int", "5")),
    ),
    "transitions-filter-shape": Case(
        "TR-6",
        ValueError,
        "filtered(impl).get_transitions(filter_key='f')  # f: bool [3, 4, 1]",
        lambda impl, tmp: filtered(impl).get_transitions(filter_key="f"),
        ("f", "1"),
    ),
    # files that load refuses (RB-26): the file, the field, what was expected and given
    "load-size-not-an-integer": Case(
        "RB-26",
        ValueError,
        "buffer(impl).load(file_with(impl, tmp, header={'size': [3]}))",
        lambda impl, tmp: buffer(impl).load(file_with(impl, tmp, header={"size": [3]})),
        (("bad.bin", "path"), "size", ("list", "[3]")),
    ),
    "load-header-a-list": Case(
        "RB-26",
        ValueError,
        "buffer(impl).load(file_with(impl, tmp, whole=[5]))",
        lambda impl, tmp: buffer(impl).load(file_with(impl, tmp, whole=[5])),
        (("bad.bin", "path"), any_case("header"), ("list", "[5]")),
    ),
    "load-size-negative": Case(
        "RB-26",
        ValueError,
        "buffer(impl).load(file_with(impl, tmp, header={'size': -2}))",
        lambda impl, tmp: buffer(impl).load(file_with(impl, tmp, header={"size": -2})),
        (("bad.bin", "path"), "size", "-2"),
    ),
    "load-max-size-str": Case(
        "RB-26",
        ValueError,
        "buffer(impl).load(file_with(impl, tmp, header={'max_size': '5'}))",
        lambda impl, tmp: buffer(impl).load(file_with(impl, tmp, header={"max_size": "5"})),
        (("bad.bin", "path"), "max_size", ("'5'", '"5"', "str")),  # as Python or JSON quotes it
    ),
    "load-variable-without-shape": Case(
        "RB-26",
        ValueError,
        "buffer(impl).load(file_with(impl, tmp, variable={'shape': None}))",
        lambda impl, tmp: buffer(impl).load(file_with(impl, tmp, variable={"shape": None})),
        (("bad.bin", "path"), ("variables", "variables[0]"), "shape"),
    ),
    "load-shape-not-a-list": Case(
        "RB-26",
        ValueError,
        "buffer(impl).load(file_with(impl, tmp, variable={'shape': 'x'}))",
        lambda impl, tmp: buffer(impl).load(file_with(impl, tmp, variable={"shape": "x"})),
        (("bad.bin", "path"), "shape", ("'x'", '"x"', "str")),
    ),
    # a file of another schema than the buffer's (RB-26: as a put would, RB-6)
    "load-other-item-shape": Case(
        "RB-26",
        ValueError,
        "load_other(impl, tmp, obs_shape=(4,))",
        lambda impl, tmp: load_other(impl, tmp, obs_shape=(4,)),
        ("obs", "3", "4"),
    ),
    "load-other-dtype": Case(
        "RB-26",
        TypeError,
        "load_other(impl, tmp, obs_dtype=torch.float64)",
        lambda impl, tmp: load_other(impl, tmp, obs_dtype=torch.float64),
        ("obs", "float32", ("float64", "double")),
    ),
    "load-other-time-size": Case(
        "RB-26",
        ValueError,
        "load_other(impl, tmp, time_size=3)",
        lambda impl, tmp: load_other(impl, tmp, time_size=3),
        ((*any_case("time"), "T"), "2", "3"),
    ),
}


@pytest.fixture
def tmp() -> Iterator[pathlib.Path]:
    with tempfile.TemporaryDirectory() as name:
        yield pathlib.Path(name)


@pytest.mark.parametrize(
    "key",
    [
        pytest.param(key, marks=clause(case.clause_id, "ERR-6"), id=key)
        for key, case in CASES.items()
    ],
)
def test_required_error_names_what_was_wrong(impl: Any, tmp: pathlib.Path, key: str) -> None:
    case = CASES[key]
    repro = SETUP + case.code
    exc = expect_raises(case.exc, case.clause_id, case.code, lambda: case.call(impl, tmp), repro)
    expect_message(exc, "ERR-6", case.code, case.mention, repro)
